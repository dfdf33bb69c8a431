from odoo import fields
from odoo import models


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
    hc_sod_bank_change = fields.Boolean(
        string="Segregation of duties on bank changes",
        default=True,
        help="Whoever requests a change of a vendor's bank details cannot approve it.",
    )

    def write(self, vals):
        # Settings that decide what is paid (tolerances, thresholds, duties) are audited.
        audited = {k: v for k, v in vals.items() if k.startswith("hc_")}
        before = (
            {c.id: {k: c[k] for k in audited if k in c._fields} for c in self} if audited else {}
        )
        res = super().write(vals)
        for company in self if audited else ():
            changed = {
                k: {"old": before[company.id].get(k), "new": company[k]}
                for k in audited
                if k in company._fields and before[company.id].get(k) != company[k]
            }
            if changed:
                self.env["hc.audit.log"]._log("company_settings_changed", company, data=changed)
        return res
