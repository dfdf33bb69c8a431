from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError

from ..trust import trusted

CHARGE_KINDS = [
    ("charge", "Charge"),
    ("allowance", "Allowance"),
    ("rounding", "Rounding"),
]
# Which line of the supplier's document a bill line is, and which are its charges: set
# when the document is applied, never by a person (the match reads them).
ENGINE_LINE_FIELDS = frozenset({"hc_line_ref", "hc_charge_kind", "hc_charge_line_ref"})
# What the match and the bill's amounts read of a line: a person changing it un-releases
# the bill until it is matched again.
LINE_MATCH_INPUTS = frozenset(
    {
        "price_unit",
        "quantity",
        "discount",
        "tax_ids",
        "tax_line_id",
        "account_id",
        "product_id",
        "product_uom_id",
        "purchase_line_id",
        "currency_id",
        "amount_currency",
        "balance",
        "debit",
        "credit",
        "display_type",
        "move_id",
    }
)


class AccountMoveLine(models.Model):
    """Bill lines built from a supplier's document: which line of the document each is,
    and which are the document's charges, allowances or rounding (the three-way match
    treats those apart from the goods)."""

    _inherit = "account.move.line"

    hc_line_ref = fields.Char(
        string="Document line",
        copy=False,
        readonly=True,
        help="The line number on the supplier's invoice.",
    )
    hc_charge_kind = fields.Selection(
        CHARGE_KINDS,
        string="Charge or allowance",
        copy=False,
        readonly=True,
        help="A charge (freight, handling...), an allowance (discount) or the rounding "
        "amount the supplier stated; empty for goods lines.",
    )
    hc_charge_line_ref = fields.Char(
        string="Charge of line",
        copy=False,
        readonly=True,
        help="For a line-level charge or allowance: the document line it belongs to.",
    )

    def _hc_trusted(self):
        return self.env.su or trusted.is_engine_write()

    @api.model
    def _hc_refuse_engine_fields(self, vals):
        names = sorted(ENGINE_LINE_FIELDS & set(vals))
        if names:
            raise AccessError(
                self.env._(
                    "Only the import of the supplier's document sets %s on a bill line.",
                    ", ".join(names),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        is_trusted = self._hc_trusted()
        if not is_trusted:
            for vals in vals_list:
                self._hc_refuse_engine_fields(vals)
        lines = super().create(vals_list)
        if not is_trusted:
            lines.move_id._hc_invalidate_match()
        return lines

    def write(self, vals):
        is_trusted = self._hc_trusted()
        if not is_trusted:
            self._hc_refuse_engine_fields(vals)
        bills = self.move_id if not is_trusted and LINE_MATCH_INPUTS & set(vals) else None
        res = super().write(vals)
        if bills:
            # a changed line, price, quantity, tax or account: matched again before the
            # bill is posted or paid, and this user is its last editor
            (bills | self.move_id)._hc_invalidate_match()
        return res

    def unlink(self):
        bills = self.move_id if not self._hc_trusted() else None
        res = super().unlink()
        if bills:
            bills.exists()._hc_invalidate_match()
        return res
