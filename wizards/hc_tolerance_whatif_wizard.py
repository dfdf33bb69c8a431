from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from .hc_tolerance_limits import RULE_FIELDS


class HcToleranceWhatifWizard(models.TransientModel):
    """Before changing a tolerance: which open bills would change state, and for how much.

    It starts from the rule being changed (the company default unless another is chosen)
    or from the values being edited in the AP controls.  The candidate limits are matched
    against every open bill of the company in memory (the pure engine, nothing written),
    next to the bills' current verdicts; the bills that would be released or blocked are
    listed.  *Apply* writes the limits to the rule (audited, with the simulated effect),
    and the batch re-match then releases or blocks those bills.
    """

    _name = "hc.tolerance.whatif.wizard"
    _description = "Tolerance what-if"
    _inherit = ["hc.tolerance.limits"]

    rule_id = fields.Many2one(
        "hc.tolerance.rule",
        string="Rule to change",
        domain="[('company_id', '=', company_id)]",
        help="Empty: a new rule for the whole company (when it has no default yet).",
    )
    simulated = fields.Boolean(readonly=True)
    bills_checked = fields.Integer("Open bills checked", readonly=True)
    newly_released = fields.Integer("Would be released", readonly=True)
    newly_blocked = fields.Integer("Would be blocked", readonly=True)
    released_amount = fields.Monetary(
        "Amount released", readonly=True, currency_field="currency_id"
    )
    blocked_amount = fields.Monetary("Amount blocked", readonly=True, currency_field="currency_id")
    line_ids = fields.One2many(
        "hc.tolerance.whatif.line", "wizard_id", string="Bills that would change", readonly=True
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        company = self.env["res.company"].browse(res.get("company_id")) or self.env.company
        if "rule_id" not in res:
            rule = self.env["hc.tolerance.rule"].search(
                [("company_id", "=", company.id), ("scope", "=", "company")], limit=1
            )
            res["rule_id"] = rule.id
        rule = self.env["hc.tolerance.rule"].browse(res.get("rule_id"))
        for name in RULE_FIELDS:
            # values passed by the screen being edited win over the rule's saved ones
            if rule and name in fields_list and f"default_{name}" not in self.env.context:
                res[name] = rule[name]
        return res

    @api.model
    def _open(self, rule, company, values=None):
        """The what-if dialog on ``rule`` (of ``company``) starting from ``values``."""
        context = {"default_company_id": company.id, "default_rule_id": rule.id}
        context.update({f"default_{k}": v for k, v in (values or {}).items()})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("What if the tolerance changed?"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": context,
        }

    @api.onchange("rule_id")
    def _onchange_rule_id(self):
        if self.rule_id:
            for name in RULE_FIELDS:
                self[name] = self.rule_id[name]
            self.company_id = self.rule_id.company_id
        self.simulated = False

    @api.onchange(*RULE_FIELDS)
    def _onchange_limits(self):
        # the figures shown were for other limits: simulate again before applying
        self.simulated = False

    def _candidate_values(self):
        return {name: self[name] for name in RULE_FIELDS}

    def _simulate(self):
        """``[(bill, change, explanation)]`` for the open bills whose verdict would change."""
        from ..matching.tolerance import make_resolver

        Rule = self.env["hc.tolerance.rule"]
        rules = Rule.search([("company_id", "=", self.company_id.id)])
        base = self.rule_id
        vals = {
            "name": base.name or "what-if",
            "company_id": self.company_id.id,
            "partner_id": base.partner_id.id,
            "categ_id": base.categ_id.id,
            **self._candidate_values(),
        }
        sim_rule = Rule.new(vals)._to_rule()
        object.__setattr__(sim_rule, "rule_id", base.id or "what-if")
        pure_rules = [r._to_rule() for r in rules if r != base]
        resolver = make_resolver([*pure_rules, sim_rule], self.company_id.id)
        bills = self.env["account.move"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("move_type", "in", ("in_invoice", "in_refund")),
                ("state", "!=", "cancel"),
                ("hc_match_state", "in", ("matched", "blocked", "accepted")),
                ("payment_state", "not in", ("paid", "in_payment", "reversed")),
            ],
            order="id",
        )
        service = self.env["hc.three.way.match"]
        changes = []
        for bill in bills:
            result = service._match_one(bill, resolver)
            if result.matched and bill.hc_match_state == "blocked":
                changes.append((bill, "release", result.explanation))
            elif not result.matched and bill.hc_match_state == "matched":
                changes.append((bill, "block", result.explanation))
        return bills, changes

    def action_simulate(self):
        self.ensure_one()
        bills, changes = self._simulate()
        released = [bill for bill, change, _e in changes if change == "release"]
        blocked = [bill for bill, change, _e in changes if change == "block"]
        self.write(
            {
                "simulated": True,
                "bills_checked": len(bills),
                "newly_released": len(released),
                "newly_blocked": len(blocked),
                "released_amount": sum(b.amount_total_signed for b in released) * -1,
                "blocked_amount": sum(b.amount_total_signed for b in blocked) * -1,
                "line_ids": [Command.clear()]
                + [
                    Command.create(
                        {
                            "move_id": bill.id,
                            "change": change,
                            "current_state": bill.hc_match_state,
                            "amount": -bill.amount_total_signed,
                            "explanation": explanation,
                        }
                    )
                    for bill, change, explanation in changes
                ],
            }
        )
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("What if the tolerance changed?"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_apply(self):
        """Write the candidate limits to the rule (audited with their simulated effect);
        the batch re-match then releases or blocks the bills listed."""
        self.ensure_one()
        bills, changes = self._simulate()
        values = self._candidate_values()
        rule = self.rule_id
        if rule:
            before = {k: rule[k] for k in values}
            changed = {k: v for k, v in values.items() if before[k] != v}
            if not changed:
                raise UserError(
                    self.env._("These are the rule's limits already: nothing to apply.")
                )
            rule.write(changed)  # audited (tolerance_changed), triggers the batch re-match
        else:
            if self.env["hc.tolerance.rule"].search_count(
                [("company_id", "=", self.company_id.id), ("scope", "=", "company")]
            ):
                raise UserError(self.env._("Choose the rule to change."))
            before, changed = {}, values
            rule = self.env["hc.tolerance.rule"].create(
                dict(values, company_id=self.company_id.id, name=self.company_id.name)
            )
        released = [b for b, change, _e in changes if change == "release"]
        blocked = [b for b, change, _e in changes if change == "block"]
        self.env["hc.audit.log"]._log(
            "tolerance_whatif_applied",
            rule,
            data={
                "before": {k: before.get(k) for k in changed},
                "after": changed,
                "bills_checked": len(bills),
                "released": [b.id for b in released],
                "released_amount": -sum(b.amount_total_signed for b in released),
                "blocked": [b.id for b in blocked],
                "blocked_amount": -sum(b.amount_total_signed for b in blocked),
            },
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Tolerance applied"),
                "message": self.env._(
                    "%(rule)s changed: %(released)s bill(s) will be released and %(blocked)s "
                    "blocked by the re-match of open bills, which runs now in the background.",
                    rule=rule.display_name,
                    released=len(released),
                    blocked=len(blocked),
                ),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
