from odoo import api
from odoo import fields
from odoo import models


class HcReplenishmentSignal(models.Model):
    """A critical item whose stock is below its reorder rule (par level) minimum.

    Raised by the par-level replenishment planner (``hc.replenishment.planner``: its cron,
    its button, and every consumption of the item) with what it planned for the shortfall
    (the internal transfer or the draft purchase order), and when a goods receipt of a
    critical item leaves the warehouse short; the outbound events emit it to the sourcing
    system.  One open signal per product and warehouse: a later plan or receipt refreshes
    its figures, a receipt closes it when the shortfall is gone.
    """

    _name = "hc.replenishment.signal"
    _description = "Critical item replenishment signal"
    _order = "id desc"

    product_id = fields.Many2one("product.product", required=True, index=True, readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", required=True, index=True, readonly=True)
    company_id = fields.Many2one(
        related="warehouse_id.company_id", store=True, index=True, string="Company"
    )
    orderpoint_id = fields.Many2one(
        "stock.warehouse.orderpoint", string="Reorder rule", ondelete="set null", readonly=True
    )
    qty_on_hand = fields.Float(string="On hand", digits="Product Unit", readonly=True)
    qty_free = fields.Float(string="Free quantity", digits="Product Unit", readonly=True)
    qty_minimum = fields.Float(string="Minimum", digits="Product Unit", readonly=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    state = fields.Selection(
        [("new", "New"), ("sent", "Sent"), ("done", "Done"), ("cancelled", "Cancelled")],
        default="new",
        required=True,
        index=True,
    )
    picking_id = fields.Many2one(
        "stock.picking", string="Triggering receipt", ondelete="set null", readonly=True
    )
    location_id = fields.Many2one(
        "stock.location", string="Par location", ondelete="set null", readonly=True
    )
    planned_picking_id = fields.Many2one(
        "stock.picking", string="Planned transfer", ondelete="set null", readonly=True
    )
    purchase_order_id = fields.Many2one(
        "purchase.order",
        string="Planned purchase order",
        ondelete="set null",
        readonly=True,
        index="btree_not_null",
    )
    message_id = fields.Many2one(
        "hc.inbox.message",
        string="Inbox message",
        ondelete="set null",
        readonly=True,
        index="btree_not_null",
    )

    _open_signal_unique = models.UniqueIndex(
        "(product_id, warehouse_id) WHERE state IN ('new', 'sent')",
        "A product already has an open replenishment signal in this warehouse.",
    )

    def action_hc_plan_replenishment(self):
        """Plan the par levels of the signalled items again (the signal list's button)."""
        orderpoints = self.env["stock.warehouse.orderpoint"].search(
            [
                ("hc_par_level", "=", True),
                ("product_id", "in", self.product_id.ids),
                ("warehouse_id", "in", self.warehouse_id.ids),
            ]
        )
        return orderpoints.action_hc_plan_replenishment()

    @api.model_create_multi
    def create(self, vals_list):
        signals = super().create(vals_list)
        # outbound stock.replenishment (signals exist for critical items only)
        self.env["hc.outbox.event"]._emit(
            "stock.replenishment", signals, self.env["hc.outbox.payload"]._stock_replenishment
        )
        return signals

    @api.model
    def _signal(self, product, warehouse, picking=None, message=None):
        """Open, refresh or close the signal of ``product`` in ``warehouse``.

        :return: the open signal, or an empty recordset when stock is sufficient
        """
        orderpoint = (
            self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search(
                [
                    ("product_id", "=", product.id),
                    ("warehouse_id", "=", warehouse.id),
                    ("trigger", "in", ("auto", "manual")),
                ],
                order="product_min_qty desc",
                limit=1,
            )
        )
        open_signal = self.sudo().search(
            [
                ("product_id", "=", product.id),
                ("warehouse_id", "=", warehouse.id),
                ("state", "in", ("new", "sent")),
            ],
            limit=1,
        )
        if not orderpoint:
            return self.browse()
        stock = product.with_context(warehouse_id=warehouse.id)
        free = stock.free_qty
        minimum = orderpoint.product_min_qty
        if product.uom_id.compare(free, minimum) >= 0:
            if open_signal.state == "new":
                open_signal.state = "done"
            return self.browse()
        vals = {
            "orderpoint_id": orderpoint.id,
            "qty_on_hand": stock.qty_available,
            "qty_free": free,
            "qty_minimum": minimum,
            "picking_id": picking.id if picking else False,
            "message_id": message.id if message else False,
        }
        if open_signal:
            open_signal.write(vals)
            return open_signal
        return self.sudo().create(
            dict(vals, product_id=product.id, warehouse_id=warehouse.id, state="new")
        )
