from odoo import fields
from odoo import models
from odoo.tools import float_compare

ACK_LINE_STATUSES = [
    ("accept", "Accepted"),
    ("change", "Changed"),
    ("reject", "Rejected"),
    ("backorder", "Backordered"),
]

ACK_LINE_DECISIONS = [
    ("none", "Nothing to decide"),
    ("applied", "Applied (order not yet confirmed)"),
    ("pending", "Awaiting the buyer"),
    ("accepted", "Accepted by the buyer"),
    ("refused", "Refused by the buyer"),
]


class HcPoAckLine(models.Model):
    """One line of a supplier's purchase order acknowledgment: what was agreed, what the
    supplier proposes, and what the buyer decided.

    ``old_*`` are the order line's values when the acknowledgment arrived (as agreed),
    ``proposed_*`` the supplier's (a rejected line proposes quantity 0) and ``new_*`` what
    the order line holds once the acknowledgment is settled: the proposal when it was
    applied (a request for quotation) or accepted by the buyer, the agreed values while it
    awaits the buyer or after the buyer refused it.
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
    exception_id = fields.Many2one(
        "hc.exception",
        string="Exception",
        index="btree_not_null",
        ondelete="set null",
        help="The buyer's decision on the changes of a confirmed order.",
    )
    ack_key = fields.Char(
        string="Acknowledgment key", required=True, help="Business key of the acknowledgment."
    )
    ack_number = fields.Char(string="Acknowledgment")
    ack_date = fields.Date(required=True)
    line_number = fields.Char(string="Line", required=True)
    status = fields.Selection(ACK_LINE_STATUSES, required=True)
    old_qty = fields.Float(string="Ordered qty", digits="Product Unit")
    proposed_qty = fields.Float(string="Proposed qty", digits="Product Unit")
    new_qty = fields.Float(string="Confirmed qty", digits="Product Unit")
    old_price = fields.Float(string="Ordered price", digits="Product Price")
    proposed_price = fields.Float(string="Proposed price", digits="Product Price")
    new_price = fields.Float(string="Confirmed price", digits="Product Price")
    old_date = fields.Datetime(string="Ordered date")
    proposed_date = fields.Datetime(string="Proposed date")
    new_date = fields.Datetime(string="Confirmed date")
    changed = fields.Boolean(
        help="The supplier proposed another quantity, price or date, or rejected or "
        "backordered the line."
    )
    decision = fields.Selection(
        ACK_LINE_DECISIONS,
        default="none",
        required=True,
        index=True,
        help="Nothing to decide: the line was acknowledged as ordered (or is not on the "
        "order). Applied: the order was a request for quotation, the supplier's values were "
        "taken. Awaiting the buyer: the order is confirmed, the change waits for the "
        "buyer's decision on its exception.",
    )
    amount_change = fields.Monetary(
        string="Value change",
        currency_field="currency_id",
        help="Proposed minus ordered line value (quantity x price).",
    )
    note = fields.Char(help="Reason given by the supplier, or why the line was not applied.")

    _ack_line_unique = models.UniqueIndex(
        "(order_id, ack_key, line_number)",
        "An acknowledgment line is recorded once per purchase order.",
    )

    def _proposed_line_values(self):
        """The order line values this acknowledgment line proposes, where they differ."""
        self.ensure_one()
        line = self.purchase_line_id
        if not line:
            return {}
        vals = {}
        if float_compare(
            self.proposed_qty, line.product_qty, precision_rounding=line.product_uom_id.rounding
        ):
            vals["product_qty"] = self.proposed_qty
        if float_compare(
            self.proposed_price, line.price_unit, precision_rounding=line.currency_id.rounding
        ):
            vals["price_unit"] = self.proposed_price
        if self.proposed_date and (
            not line.date_planned or line.date_planned.date() != self.proposed_date.date()
        ):
            vals["date_planned"] = self.proposed_date
        return vals

    def _apply_to_order(self, decision):
        """Write the supplier's proposal on the order lines; record ``decision``.

        An order Odoo locked is unlocked for the change and locked again; a rejected line
        keeps its price and goes to quantity 0 (Odoo cancels what is left to receive).  The
        price is written with the quantity so that Odoo does not recompute it from the
        vendor's price list.
        """
        for hist in self:
            line = hist.purchase_line_id.sudo()
            new = hist._proposed_line_values()
            if new:
                locked = line.order_id.locked
                if locked:
                    line.order_id.button_unlock()
                new.setdefault("price_unit", line.price_unit)
                line.write(new)
                if locked:
                    line.order_id.button_lock()
            hist.write(
                {
                    "decision": decision,
                    "new_qty": line.product_qty if line else hist.proposed_qty,
                    "new_price": line.price_unit if line else hist.proposed_price,
                    "new_date": line.date_planned if line else hist.proposed_date,
                }
            )
