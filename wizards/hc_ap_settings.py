from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError

from .hc_tolerance_limits import RULE_FIELDS

AP_MANAGER = "healthcare_p2p_integration.group_hc_ap_manager"
# The company settings an AP manager owns: hc_* fields of res.company, written as they are
# in Odoo's Settings (res.company.write audits every change, and SoD overrides apart).
COMPANY_FIELDS = (
    "hc_accept_threshold",
    "hc_autopost_matched",
    "hc_sod_creator_cannot_accept",
    "hc_sod_payment_manager",
    "hc_payment_manager_threshold",
    "hc_sod_bank_change",
)


class HcApSettings(models.TransientModel):
    """The AP controls of a company, for its AP managers (Procure-to-Pay > Configuration).

    Odoo's Settings app is for administrators; an AP manager sets the company default
    tolerance, the acceptance and payment thresholds and the segregation-of-duties rules
    here.  The values are those of the company (its default tolerance rule and its
    ``hc_*`` settings): saving writes them there, audited like a change in Settings.
    """

    _name = "hc.ap.settings"
    _description = "AP controls (tolerances and segregation of duties)"
    _inherit = ["hc.tolerance.limits"]

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda s: s.env.company
    )
    rule_id = fields.Many2one("hc.tolerance.rule", string="Company default rule", readonly=True)
    hc_accept_threshold = fields.Monetary(
        "Variance acceptance threshold",
        currency_field="currency_id",
        help="Above this amount at stake, only an AP manager may accept a match variance.",
    )
    hc_autopost_matched = fields.Boolean(
        "Post matched bills",
        help="Bills that pass the three-way match are posted and released for payment "
        "with no human action (touchless).",
    )
    hc_sod_creator_cannot_accept = fields.Boolean(
        "Bill author cannot accept its variances",
        help="Whoever created or last changed a bill may not accept its match variances.",
    )
    hc_sod_payment_manager = fields.Boolean(
        "Large payments need an AP manager",
        help="Above the threshold (bill total in company currency) only an AP manager "
        "releases a bill or registers its payment.",
    )
    hc_payment_manager_threshold = fields.Monetary(
        "Payment release threshold", currency_field="currency_id"
    )
    hc_sod_bank_change = fields.Boolean(
        "Segregation of duties on bank changes",
        help="Whoever requests a change of a vendor's bank details cannot approve it.",
    )

    @api.model
    def _company_rule(self, company):
        return self.env["hc.tolerance.rule"].search(
            [("company_id", "=", company.id), ("scope", "=", "company")], limit=1
        )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        company = self.env["res.company"].browse(res.get("company_id")) or self.env.company
        for name in COMPANY_FIELDS:
            if name in fields_list:
                res[name] = company[name]
        rule = self._company_rule(company)
        if rule:
            res["rule_id"] = rule.id
            for name in RULE_FIELDS:
                if name in fields_list:
                    res[name] = rule[name]
        return res

    def _check_manager(self):
        if not self.env.user.has_group(AP_MANAGER):
            raise AccessError(self.env._("Only AP managers change the AP controls."))
        if self.company_id not in self.env.user.company_ids:
            raise AccessError(self.env._("You do not work for %s.", self.company_id.name))

    def _rule_values(self):
        return {name: self[name] for name in RULE_FIELDS}

    def action_save(self):
        """Write the values to the company and its default rule; say what changed."""
        self.ensure_one()
        self._check_manager()
        company = self.company_id
        changed = []
        company_vals = {n: self[n] for n in COMPANY_FIELDS if company[n] != self[n]}
        if company_vals:
            # An AP manager is no company administrator: the write is the module's, for
            # these fields only; res.company.write audits it under the manager's name.
            company.sudo().write(company_vals)
            changed += [self._fields[n].string for n in company_vals]
        rule = self.rule_id or self._company_rule(company)
        rule_vals = self._rule_values()
        if rule:
            rule_vals = {k: v for k, v in rule_vals.items() if rule[k] != v}
            if rule_vals:
                rule.write(rule_vals)  # audited, re-matches open bills in a batch
        elif any(v for k, v in rule_vals.items() if k != "combine"):
            rule = self.env["hc.tolerance.rule"].create(
                dict(rule_vals, company_id=company.id, name=company.name)
            )
        changed += [self._fields[n].string for n in rule_vals]
        message = (
            self.env._("AP controls saved: %s.", ", ".join(changed))
            if changed
            else self.env._("Nothing changed.")
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("AP controls"),
                "message": message,
                "type": "success" if changed else "info",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_whatif(self):
        """Simulate the tolerance as edited here (nothing saved) on the open bills."""
        self.ensure_one()
        self._check_manager()
        rule = self.rule_id or self._company_rule(self.company_id)
        return self.env["hc.tolerance.whatif.wizard"]._open(
            rule, self.company_id, self._rule_values()
        )
