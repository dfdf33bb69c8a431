from odoo import fields
from odoo import models

CHARGE_KINDS = [
    ("charge", "Charge"),
    ("allowance", "Allowance"),
    ("rounding", "Rounding"),
]


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
