from odoo import api
from odoo import fields
from odoo import models


class HcToleranceWhatifWizard(models.TransientModel):
    """Before saving a tolerance: how many open bills would change state, and how much.

    The candidate limits are matched against every open bill of the company in memory
    (the pure engine, nothing written), next to the bills' current verdicts.
    """

    _name = "hc.tolerance.whatif.wizard"
    _description = "Tolerance what-if"

    rule_id = fields.Many2one("hc.tolerance.rule", string="Rule to change")
    company_id = fields.Many2one("res.company", required=True, default=lambda s: s.env.company)
    qty_pct = fields.Float("Quantity %", digits=(16, 4))
    qty_abs = fields.Float("Quantity (units)")
    price_pct = fields.Float("Unit price %", digits=(16, 4))
    price_abs = fields.Float("Unit price (amount)")
    total_pct = fields.Float("Bill total %", digits=(16, 4))
    total_abs = fields.Float("Bill total (amount)")
    bills_checked = fields.Integer(readonly=True)
    newly_released = fields.Integer(readonly=True)
    newly_blocked = fields.Integer(readonly=True)
    released_amount = fields.Monetary(readonly=True, currency_field="currency_id")
    blocked_amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    summary = fields.Text(readonly=True)

    @api.onchange("rule_id")
    def _onchange_rule_id(self):
        if self.rule_id:
            for name in ("qty_pct", "qty_abs", "price_pct", "price_abs", "total_pct", "total_abs"):
                self[name] = self.rule_id[name]
            self.company_id = self.rule_id.company_id

    def action_simulate(self):
        self.ensure_one()
        from ..matching.tolerance import make_resolver

        Rule = self.env["hc.tolerance.rule"]
        rules = Rule.search([("company_id", "=", self.company_id.id)])
        candidate = self.rule_id or Rule.new({"company_id": self.company_id.id, "name": "what-if"})
        values = {
            n: self[n]
            for n in ("qty_pct", "qty_abs", "price_pct", "price_abs", "total_pct", "total_abs")
        }
        simulated = candidate.new(
            dict(
                candidate._convert_to_write(candidate._cache),
                **values,
                company_id=self.company_id.id,
            )
        )
        pure_rules = [r._to_rule() for r in rules if r != self.rule_id]
        sim_rule = simulated._to_rule()
        object.__setattr__(sim_rule, "rule_id", self.rule_id.id or "what-if")
        resolver = make_resolver([*pure_rules, sim_rule], self.company_id.id)
        bills = self.env["account.move"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("move_type", "in", ("in_invoice", "in_refund")),
                ("state", "!=", "cancel"),
                ("hc_match_state", "in", ("matched", "blocked", "accepted")),
                ("payment_state", "not in", ("paid", "in_payment", "reversed")),
            ]
        )
        service = self.env["hc.three.way.match"]
        released = blocked = 0
        released_amount = blocked_amount = 0.0
        for bill in bills:
            result = service._match_one(bill, resolver)
            was_open = bill.hc_match_state in ("matched", "accepted")
            if result.matched and not was_open:
                released += 1
                released_amount += bill.amount_total
            elif not result.matched and bill.hc_match_state == "matched":
                blocked += 1
                blocked_amount += bill.amount_total
        self.write(
            {
                "bills_checked": len(bills),
                "newly_released": released,
                "newly_blocked": blocked,
                "released_amount": released_amount,
                "blocked_amount": blocked_amount,
                "summary": self.env._(
                    "%(n)s open bills checked: %(r)s would be released (%(ra).2f), %(b)s would be blocked (%(ba).2f).",
                    n=len(bills),
                    r=released,
                    ra=released_amount,
                    b=blocked,
                    ba=blocked_amount,
                ),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
