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
    # Point-of-use consumption (hc.processor.consumption): patient-free case reference only
    hc_consumption_ref = fields.Char(
        string="Consumption", index="btree_not_null", copy=False, readonly=True
    )
    hc_case_reference = fields.Char(string="Case reference", copy=False, readonly=True)
