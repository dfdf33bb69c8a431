from odoo import fields
from odoo import models

ACK_LINE_STATUSES = [
    ("accept", "Accepted"),
    ("change", "Changed"),
    ("reject", "Rejected"),
    ("backorder", "Backordered"),
]


class HcPoAckLine(models.Model):
    """One line of a supplier's purchase order acknowledgment, with what it changed.

    The old values are those of the purchase order line just before the acknowledgment
    was applied, the new ones what the supplier confirmed: the history of every quantity,
    price and date change a supplier made, shown on the purchase order.
    """

    _name = "hc.po.ack.line"
    _description = "Purchase order acknowledgment line"
    _order = "order_id, ack_date desc, id desc"

    order_id = fields.Many2one(
        "purchase.order", string="Purchase order", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="order_id.currency_id")
    purchase_line_id = fields.Many2one(
        "purchase.order.line", string="Order line", index="btree_not_null", ondelete="set null"
    )
    product_id = fields.Many2one("product.product", string="Product")
    message_id = fields.Many2one(
        "hc.inbox.message", string="Inbox message", index="btree_not_null", ondelete="set null"
    )
    ack_key = fields.Char(
        string="Acknowledgment key", required=True, help="Business key of the acknowledgment."
    )
    ack_number = fields.Char(string="Acknowledgment")
    ack_date = fields.Date(required=True)
    line_number = fields.Char(string="Line", required=True)
    status = fields.Selection(ACK_LINE_STATUSES, required=True)
    old_qty = fields.Float(string="Ordered qty", digits="Product Unit")
    new_qty = fields.Float(string="Confirmed qty", digits="Product Unit")
    old_price = fields.Float(string="Ordered price", digits="Product Price")
    new_price = fields.Float(string="Confirmed price", digits="Product Price")
    old_date = fields.Datetime(string="Ordered date")
    new_date = fields.Datetime(string="Confirmed date")
    changed = fields.Boolean(help="The acknowledgment changed the order line.")
    note = fields.Char(help="Reason given by the supplier, or why the line was not applied.")

    _ack_line_unique = models.UniqueIndex(
        "(order_id, ack_key, line_number)",
        "An acknowledgment line is recorded once per purchase order.",
    )
