from odoo import fields
from odoo import models


class HcBillMatchLine(models.Model):
    """The three-way match verdict of one bill line, with the numbers it rests on."""

    _name = "hc.bill.match.line"
    _description = "Three-way match result line"
    _order = "move_id, id"

    move_id = fields.Many2one("account.move", required=True, index=True, ondelete="cascade")
    move_line_id = fields.Many2one("account.move.line", string="Bill line", ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    product_id = fields.Many2one(related="move_line_id.product_id")
    status = fields.Selection(
        [
            ("matched", "Matched"),
            ("qty_variance", "Quantity variance"),
            ("price_variance", "Price variance"),
            ("contract_price_variance", "Contract price variance"),
            ("not_received", "Not received"),
            ("not_ordered", "Not ordered"),
            ("uom_mismatch", "UoM mismatch"),
        ],
        required=True,
    )
    explanation = fields.Text()
    decided_by = fields.Char(string="Rule")
    ordered_qty = fields.Float(digits="Product Unit")
    received_qty = fields.Float(digits="Product Unit")
    previously_billed_qty = fields.Float("Billed before", digits="Product Unit")
    billed_qty = fields.Float(digits="Product Unit")
    po_price = fields.Float("PO price", digits="Product Price")
    bill_price = fields.Float(digits="Product Price")
    contract_price = fields.Float(digits="Product Price")
    details = fields.Json()
