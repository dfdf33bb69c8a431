from odoo import fields
from odoo import models
from odoo.exceptions import UserError

ACK_STATES = [
    ("none", "Not acknowledged"),
    ("acknowledged", "Acknowledged"),
    ("changed", "Acknowledged with changes"),
    ("proposed", "Changes to review"),
    ("refused", "Changes refused by the buyer"),
    ("rejected", "Rejected"),
]


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    hc_source_ref = fields.Char(
        string="Source PO number",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Number of the order in the sourcing system it came from.",
    )
    hc_connector_id = fields.Many2one(
        "hc.connector",
        string="Source connector",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="restrict",
        groups="healthcare_p2p_integration.group_hc_auditor,"
        "healthcare_p2p_integration.group_hc_supply_chain,"
        "healthcare_p2p_integration.group_hc_ap_clerk",
        help="Connector (external system) the order was received from.",
    )
    hc_ack_line_ids = fields.One2many(
        "hc.po.ack.line",
        "order_id",
        string="Acknowledgment history",
        readonly=True,
        copy=False,
    )
    hc_ack_state = fields.Selection(
        ACK_STATES,
        string="Supplier acknowledgment",
        default="none",
        required=True,
        copy=False,
        readonly=True,
        tracking=True,
        help="What the supplier answered to the order (PO acknowledgment, X12 855). "
        "Changes to a confirmed order wait for the buyer (Changes to review) and are "
        "applied only when the buyer accepts them.",
    )

    # Par-level replenishment and bill-only (consigned implant) orders
    hc_par_replenishment = fields.Boolean(
        string="Par-level replenishment",
        copy=False,
        readonly=True,
        help="Drafted by the par-level replenishment planner; it adds its lines to this "
        "request for quotation while it is a draft.",
    )
    hc_bill_only = fields.Boolean(
        string="Bill-only",
        copy=False,
        readonly=True,
        help="Consigned stock used in a case: the consumption is the receipt (no transfer "
        "from the vendor); the vendor's invoice is matched against it.",
    )
    hc_case_reference = fields.Char(string="Case reference", copy=False, readonly=True)

    _hc_source_ref_unique = models.UniqueIndex(
        "(company_id, hc_source_ref) WHERE hc_source_ref IS NOT NULL",
        "A source purchase order number is received once per company.",
    )

    def _create_picking(self):
        # A bill-only order's goods were received on consignment and used: its receipt is
        # the consumption move (linked to the line), never a transfer from the vendor.
        return super(PurchaseOrder, self.filtered(lambda o: not o.hc_bill_only))._create_picking()

    def button_approve(self, force=False):
        res = super().button_approve(force=force)
        self._hc_emit_released()
        return res

    def _hc_emit_released(self):
        """Outbound ``po.released`` (and ``po.ack_requested`` while not acknowledged).

        The sourcing system a PO came from is not told about its own order.
        """
        Outbox = self.env["hc.outbox.event"]
        if not (Outbox._subscribers("po.released") or Outbox._subscribers("po.ack_requested")):
            return  # the common case: nothing subscribed, nothing read
        released = self.filtered(lambda o: o.state == "purchase")
        source = lambda o: o.sudo().hc_connector_id.id  # noqa: E731
        payloads = self.env["hc.outbox.payload"]
        Outbox._emit("po.released", released, payloads._po_released, exclude_connector=source)
        Outbox._emit(
            "po.ack_requested",
            released.filtered(lambda o: o.hc_ack_state == "none" and not o.acknowledged),
            payloads._po_ack_requested,
            exclude_connector=source,
        )

    def action_hc_request_ack(self):
        """Ask the supplier's system (again) to acknowledge these confirmed orders."""
        orders = self.filtered(lambda o: o.state == "purchase")
        if not orders:
            raise UserError(self.env._("Only confirmed purchase orders can be acknowledged."))
        events = self.env["hc.outbox.event"]._emit(
            "po.ack_requested", orders, self.env["hc.outbox.payload"]._po_ack_requested
        )
        if not events:
            raise UserError(
                self.env._(
                    "No outbound endpoint of these orders' companies subscribes to "
                    "acknowledgment requests (po.ack_requested)."
                )
            )
        orders.message_post(body=self.env._("Acknowledgment requested from the supplier's system."))
        return True


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    hc_line_ref = fields.Char(
        string="Source line number",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Line number of the order line in the sourcing system (PO1-01 in X12 850); "
        "acknowledgments, ship notices, receipts and invoices refer to it.",
    )
