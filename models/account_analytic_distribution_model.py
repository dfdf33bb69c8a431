from odoo import api
from odoo import models


def _memo_key(value):
    """A hashable, order-preserving image of ``_get_distribution``'s arguments."""
    if isinstance(value, models.BaseModel):
        return (value._name, tuple(value.ids))
    if isinstance(value, dict):
        return tuple((key, _memo_key(item)) for key, item in sorted(value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_memo_key(item) for item in value)
    return value


class AccountAnalyticDistributionModel(models.Model):
    _inherit = "account.analytic.distribution.model"

    @api.model
    def _get_distribution(self, vals):
        """Odoo's distribution for ``vals``, searched once per lane batch.

        Each new bill line asks for its distribution (``account.move.line.
        _compute_analytic_distribution``): one search of the models per line, the same
        search for every bill of a batch billing the same products of the same vendor.
        Within a lane worker's batch (``hc.reference.resolver._hc_memo``, emptied at
        every commit and rollback) the result of the same arguments, user and companies
        is Odoo's own result, computed once; creating, changing or deleting a model
        forgets it.  Outside a batch nothing is remembered (a new memo each call).
        """
        memo = self.env["hc.reference.resolver"]._hc_memo("analytic_distribution")
        key = (
            self.env.uid,
            self.env.su,
            self.env.company.id,
            tuple(self.env.companies.ids),
            _memo_key(vals),
        )
        if key not in memo:
            # Odoo's domain builder appends to the list arguments it is given
            memo[key] = super()._get_distribution(
                {k: list(v) if isinstance(v, list) else v for k, v in vals.items()}
            )
        return dict(memo[key])

    def _hc_forget_distributions(self):
        memo = self.env["hc.reference.resolver"]._hc_memo("analytic_distribution")
        memo.clear()

    @api.model_create_multi
    def create(self, vals_list):
        self._hc_forget_distributions()
        return super().create(vals_list)

    def write(self, vals):
        self._hc_forget_distributions()
        return super().write(vals)

    def unlink(self):
        self._hc_forget_distributions()
        return super().unlink()
