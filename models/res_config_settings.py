from odoo import api
from odoo import fields
from odoo import models

from .hc_tolerance_rule import LIMIT_FIELDS as TOLERANCE_FIELDS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    hc_over_receipt_tolerance_pct = fields.Float(
        related="company_id.hc_over_receipt_tolerance_pct", readonly=False
    )
    hc_expiry_warning_days = fields.Integer(
        related="company_id.hc_expiry_warning_days", readonly=False
    )
    hc_accept_threshold = fields.Monetary(
        related="company_id.hc_accept_threshold",
        readonly=False,
        currency_field="company_currency_id",
    )
    hc_autopost_matched = fields.Boolean(related="company_id.hc_autopost_matched", readonly=False)
    hc_sod_creator_cannot_accept = fields.Boolean(
        related="company_id.hc_sod_creator_cannot_accept", readonly=False
    )
    hc_sod_payment_manager = fields.Boolean(
        related="company_id.hc_sod_payment_manager", readonly=False
    )
    hc_payment_manager_threshold = fields.Monetary(
        related="company_id.hc_payment_manager_threshold",
        readonly=False,
        currency_field="company_currency_id",
    )
    # The company default tolerance is the company-scope hc.tolerance.rule: edited here
    # and in the rules list, stored once.
    hc_tol_qty_pct = fields.Float("Quantity tolerance (%)", digits=(16, 2))
    hc_tol_qty_abs = fields.Float("Quantity tolerance (units)")
    hc_tol_price_pct = fields.Float("Unit price tolerance (%)", digits=(16, 2))
    hc_tol_price_abs = fields.Float("Unit price tolerance (amount)")
    hc_tol_total_pct = fields.Float("Bill total tolerance (%)", digits=(16, 2))
    hc_tol_total_abs = fields.Float("Bill total tolerance (amount)")
    hc_tol_charge_pct = fields.Float("Charges tolerance (% of goods)", digits=(16, 2))
    hc_tol_charge_abs = fields.Float("Charges tolerance (amount)")
    hc_tol_stated_abs = fields.Float("Stated totals tolerance (amount)")
    hc_tol_allow_over_receipt = fields.Boolean("Bill received quantities beyond the order")

    def _hc_company_rule(self):
        return self.env["hc.tolerance.rule"].search(
            [("company_id", "=", self.company_id.id), ("scope", "=", "company")], limit=1
        )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        company = self.env.company
        rule = self.env["hc.tolerance.rule"].search(
            [("company_id", "=", company.id), ("scope", "=", "company")], limit=1
        )
        if rule:
            for name in TOLERANCE_FIELDS:
                if f"hc_tol_{name}" in fields_list:
                    res[f"hc_tol_{name}"] = rule[name]
            if "hc_tol_allow_over_receipt" in fields_list:
                res["hc_tol_allow_over_receipt"] = rule.allow_over_receipt
        return res

    def set_values(self):
        res = super().set_values()
        vals = {name: self[f"hc_tol_{name}"] for name in TOLERANCE_FIELDS}
        vals["allow_over_receipt"] = self.hc_tol_allow_over_receipt
        rule = self._hc_company_rule()
        if rule:
            changed = {k: v for k, v in vals.items() if rule[k] != v}
            if changed:
                rule.write(changed)  # triggers the batch re-match cron, not a re-match here
        elif any(vals.values()):
            self.env["hc.tolerance.rule"].create(
                dict(vals, company_id=self.company_id.id, name=self.company_id.name)
            )
        return res

    hc_sod_bank_change = fields.Boolean(related="company_id.hc_sod_bank_change", readonly=False)

    def action_hc_whatif(self):
        """What-if on the company default tolerance as edited in this form (not saved)."""
        self.ensure_one()
        values = {name: self[f"hc_tol_{name}"] for name in TOLERANCE_FIELDS}
        values["allow_over_receipt"] = self.hc_tol_allow_over_receipt
        return self.env["hc.tolerance.whatif.wizard"]._open(
            self._hc_company_rule(), self.company_id, values
        )

    def action_hc_rotate_encryption_keys(self):
        """Re-encrypt every secret at rest under the newest configured key (hc.vault)."""
        counts = self.env["hc.vault"]._rotate_keys()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._(
                    "Secrets re-encrypted under the newest key (%(total)s): %(details)s. "
                    "The old key can now be removed from the server configuration.",
                    total=sum(counts["columns"].values()),
                    details=", ".join(
                        f"{name}: {n}"
                        for name, n in {**counts["columns"], **counts["derived"]}.items()
                    ),
                ),
                "type": "success",
            },
        }
