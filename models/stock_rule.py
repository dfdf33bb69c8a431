from odoo import api
from odoo import models


class StockRule(models.Model):
    """The stock rules searched once per par-level plan, not once per reorder rule.

    After the planner's moves and order lines, Odoo recomputes the replenishment fields
    of the items' reorder rules, and ``purchase_stock`` (``product.get_total_routes``)
    searches the *buy* rules again for every one of them: the same search, whose answer
    cannot change while the plan runs (it creates no stock rule).  Under the planner's
    ``hc_rule_search_memo`` (a dict, one per plan) a search answers what the same search
    (domain, paging, order, user, companies, active test) answered earlier in that plan.
    """

    _inherit = "stock.rule"

    @api.model
    def search_fetch(self, domain, field_names=None, offset=0, limit=None, order=None):
        memo = self.env.context.get("hc_rule_search_memo")
        if memo is None:
            return super().search_fetch(
                domain, field_names, offset=offset, limit=limit, order=order
            )
        key = (
            repr(domain),
            offset,
            limit,
            order,
            self.env.uid,
            self.env.su,
            tuple(self.env.context.get("allowed_company_ids") or ()),
            self.env.context.get("active_test", True),
        )
        if key not in memo:
            memo[key] = (
                super()
                .search_fetch(domain, field_names, offset=offset, limit=limit, order=order)
                .ids
            )
        return self.browse(memo[key])
