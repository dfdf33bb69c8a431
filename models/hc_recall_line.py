from odoo import fields
from odoo import models

TRACE_KINDS = [
    ("receipt", "Receipt"),
    ("transfer", "Transfer"),
    ("consumption", "Consumption"),
    ("write_off", "Write-off"),
    ("adjustment", "Inventory adjustment"),
    ("internal", "Internal move"),
    ("quarantine", "Quarantine move"),
    ("on_hand", "On hand"),
    ("in_transit", "In transit"),
]


class HcRecallLine(models.Model):
    """One traced movement or stock position of a recalled lot, in one facility."""

    _name = "hc.recall.line"
    _description = "Recall trace line"
    _order = "recall_id, kind, date, id"

    recall_id = fields.Many2one("hc.recall", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(TRACE_KINDS, required=True, index=True)
    company_id = fields.Many2one("res.company", "Facility", required=True, index=True)
    warehouse_id = fields.Many2one("stock.warehouse")
    product_id = fields.Many2one("product.product", "Item", required=True)
    lot_id = fields.Many2one("stock.lot", "Lot / serial", required=True)
    expiration_date = fields.Datetime(related="lot_id.expiration_date")
    quantity = fields.Float(digits="Product Unit")
    uom_id = fields.Many2one(related="product_id.uom_id")
    location_id = fields.Many2one("stock.location", "From / at")
    location_dest_id = fields.Many2one("stock.location", "To")
    move_line_id = fields.Many2one("stock.move.line", "Stock move line")
    picking_id = fields.Many2one("stock.picking", "Transfer")
    reference = fields.Char()
    date = fields.Datetime()
    quarantined = fields.Boolean()

    def _export_row(self):
        self.ensure_one()
        return {
            "kind": dict(TRACE_KINDS)[self.kind],
            "company": self.company_id.name,
            "warehouse": self.warehouse_id.name or "",
            "product": self.product_id.display_name,
            "lot": self.lot_id.name,
            "expiration_date": fields.Datetime.to_string(self.expiration_date) or "",
            "quantity": self.quantity,
            "uom": self.uom_id.name,
            "location": self.location_id.complete_name or "",
            "location_dest": self.location_dest_id.complete_name or "",
            "reference": self.reference or "",
            "date": fields.Datetime.to_string(self.date) or "",
            "quarantined": "yes" if self.quarantined else "",
        }
