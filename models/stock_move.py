from odoo import fields
from odoo import models


class StockMove(models.Model):
    """Quantities the receiving dock refused (damaged, wrong item...) stay on the move."""

    _inherit = "stock.move"

    hc_qty_rejected = fields.Float(
        string="Rejected quantity",
        digits="Product Unit",
        copy=False,
        readonly=True,
        help="Quantity delivered but refused at the dock; it remains open on the order.",
    )
    hc_reject_reason = fields.Char(string="Rejection reason", copy=False, readonly=True)
