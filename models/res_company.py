from odoo import fields
from odoo import models

# Segregation-of-duties settings: every change is written to the audit log.
SOD_FIELDS = (
    "hc_sod_creator_cannot_accept",
    "hc_sod_payment_manager",
    "hc_payment_manager_threshold",
    "hc_accept_threshold",
)


class ResCompany(models.Model):
    _inherit = "res.company"

    hc_over_receipt_tolerance_pct = fields.Float(
        string="Over-receipt tolerance (%)",
        default=0.0,
        help="Goods received beyond the open ordered quantity by more than this percentage "
        "of the ordered quantity are refused into an over-receipt exception.",
    )
    hc_expiry_warning_days = fields.Integer(
        string="Minimum shelf life on arrival (days)",
        default=0,
        help="A shipped or received lot expiring within this many days raises a lot / "
        "expiry exception (0: only lots already expired).",
    )
    hc_accept_threshold = fields.Monetary(
        string="Variance acceptance threshold",
        currency_field="currency_id",
        default=500.0,
        help="Above this amount at stake, only an AP manager may accept a match variance.",
    )
    hc_autopost_matched = fields.Boolean(
        string="Post matched bills",
        default=True,
        help="Bills that pass the three-way match are posted and released for payment "
        "with no human action (touchless).",
    )
    hc_sod_creator_cannot_accept = fields.Boolean(
        string="Bill author cannot accept its variances",
        default=True,
        help="Segregation of duties: the user who created or last changed a bill may not "
        "accept its match variances.",
    )
    hc_sod_payment_manager = fields.Boolean(
        string="Large payments need an AP manager",
        default=True,
        help="Segregation of duties: only an AP manager may release for payment (accept "
        "variances) or register a payment on a vendor bill above the payment threshold.",
    )
    hc_payment_manager_threshold = fields.Monetary(
        string="Payment release threshold",
        currency_field="currency_id",
        default=10000.0,
        help="Vendor bills whose total (company currency) is above this amount are "
        "released and paid by an AP manager only.",
    )

    hc_sod_bank_change = fields.Boolean(
        string="Segregation of duties on bank changes",
        default=True,
        help="Whoever requests a change of a vendor's bank details cannot approve it.",
    )

    def write(self, vals):
        # Settings that decide what is paid (tolerances, thresholds, duties) are audited.
        audited = [name for name in vals if name.startswith("hc_") and name in self._fields]

        def plain(value):
            return value.ids if isinstance(value, models.BaseModel) else value

        before = (
            {company.id: {n: plain(company[n]) for n in audited} for company in self}
            if audited
            else {}
        )
        res = super().write(vals)
        for company in self if audited else ():
            old = before[company.id]
            changed = {
                n: {"old": old[n], "new": plain(company[n])}
                for n in audited
                if old[n] != plain(company[n])
            }
            if not changed:
                continue
            self.env["hc.audit.log"]._log("company_settings_changed", company, data=changed)
            sod = [n for n in changed if n in SOD_FIELDS]
            if sod:
                # Turning a control off (or raising a threshold) is an override: audited.
                self.env["hc.audit.log"]._log(
                    "sod_settings_changed",
                    company,
                    data={
                        "before": {n: changed[n]["old"] for n in sod},
                        "after": {n: changed[n]["new"] for n in sod},
                    },
                )
        return res
