from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

# What, written on a confirmed order, is a change the vendor is sent (X12 860, UBL
# OrderChange, cXML update).
CHANGE_FIELDS_ORDER = frozenset({"date_planned", "order_line"})
CHANGE_FIELDS_LINE = frozenset({"product_qty", "price_unit", "date_planned", "product_id"})
PRECOMMIT_CHANGED = "hc.outbound.po_changed"

ACK_STATES = [
    ("none", "Not acknowledged"),
    ("acknowledged", "Acknowledged"),
    ("changed", "Acknowledged with changes"),
    ("proposed", "Changes to review"),
    ("refused", "Changes refused by the buyer"),
    ("rejected", "Rejected"),
]


CONFIRMED_STATES = ("purchase", "done")
# What a held vendor's order may not enter: waiting for approval, or confirmed.
HELD_STATES = ("to approve", *CONFIRMED_STATES)


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
    # Every invoice, ship notice and receipt finds its order by number (name or source
    # reference: hc.reference.resolver); Odoo indexes the name for "contains" searches
    # only (trigram), so an equality search scanned every order.
    _hc_name_idx = models.Index("(name)")

    def _hc_facility_partners(self):
        """The facilities this order buys for, as contract prices restrict them: the
        company, the receiving warehouse's address and the delivery address."""
        self.ensure_one()
        return (
            self.company_id.partner_id
            | self.picking_type_id.warehouse_id.partner_id
            | self.dest_address_id
        )

    # -- vendor holds and approval rules (issue 18) ---------------------------------------
    # A held vendor (exclusion match, expired credential) gets no confirmed order, and an
    # order an approval rule applies to is confirmed by the rule's approver only: checked
    # where the state changes (``create``/``write``), so that neither the buttons nor a
    # raw write over RPC can skip them.

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        for order in orders.filtered(lambda o: o.state in HELD_STATES):
            order._hc_check_confirmation(approving=order.state in CONFIRMED_STATES)
        return orders

    def write(self, vals):
        entering = self.browse()
        if vals.get("state") in HELD_STATES:
            entering = self.filtered(
                lambda o: o.state != vals["state"] and o.state not in CONFIRMED_STATES
            )
        changing_vendor = self.browse()
        if "partner_id" in vals:
            changing_vendor = self.filtered(lambda o: o.state in HELD_STATES)
        if entering:
            # checked before anything is written: a refusal leaves the order as it was
            entering._hc_check_confirmation(approving=vals["state"] in CONFIRMED_STATES)
        res = super().write(vals)
        if changing_vendor:
            changing_vendor.partner_id._hc_check_vendor_hold(changing_vendor, "purchase_order")
        if CHANGE_FIELDS_ORDER & set(vals):
            # a confirmed order changed: its vendor is sent the change (trading partners)
            self._hc_changed()
        return res

    def _create_picking(self):
        # A bill-only order's goods were received on consignment and used: its receipt is
        # the consumption move (linked to the line), never a transfer from the vendor.
        return super(PurchaseOrder, self.filtered(lambda o: not o.hc_bill_only))._create_picking()

    def _hc_check_confirmation(self, approving=True):
        """The vendor is not held and, as a person confirms (not the system), the
        approval rules and Odoo's double validation are met."""
        Rule = self.env["hc.approval.rule"]
        for order in self:
            order.partner_id._hc_check_vendor_hold(order, "purchase_order")
            if not approving or self.env.su:
                continue
            missing = Rule._hc_approval_missing(order, "po")
            if missing:
                Rule._hc_refuse(order, "po", missing)
            if not super(PurchaseOrder, order)._approval_allowed():
                self.env["hc.audit.log"]._log_detached(
                    "approval_refused",
                    order,
                    reason="po_double_validation",
                    data={"user": self.env.user.login, "amount": order.amount_total},
                )
                raise UserError(
                    self.env._(
                        "%s is above the company's purchase order approval amount: a purchase "
                        "manager approves it.",
                        order.display_name,
                    )
                )
        return True

    def _approval_allowed(self):
        # Odoo's double validation, then the module's rules: an order a rule applies to
        # waits in "To Approve" for the rule's approver.
        return super()._approval_allowed() and not self.env[
            "hc.approval.rule"
        ]._hc_approval_missing(self, "po")

    def button_confirm(self):
        starting = self.filtered(lambda o: o.state in ("draft", "sent"))
        starting.partner_id._hc_check_vendor_hold(starting, "purchase_order")
        return super().button_confirm()

    def button_approve(self, force=False):
        Rule = self.env["hc.approval.rule"]
        ruled = {
            order: rules
            for order in self.filtered(lambda o: o.state not in CONFIRMED_STATES)
            if (rules := Rule._hc_rules_for(order, "po"))
        }
        res = super().button_approve(force=force)
        for order, rules in ruled.items():
            if order.state == "purchase":
                Rule._hc_log_approved(order, "po", rules)
        self._hc_emit_released()
        self._hc_send_documents("original")
        return res

    def button_cancel(self):
        confirmed = self.filtered(lambda o: o.state == "purchase")
        res = super().button_cancel()
        confirmed.filtered(lambda o: o.state == "cancel")._hc_send_documents("cancel")
        return res

    def _hc_send_documents(self, purpose):
        """The order, its change or its cancellation, to each vendor with a profile."""
        return self.env["hc.outbound.document.builder"]._send_orders(self, purpose)

    def _hc_changed(self):
        """Note confirmed orders changed in this transaction: one change each is sent
        just before the commit, however many writes made it (a form save writes the
        order and each line)."""
        orders = self.filtered(lambda o: o.state == "purchase")
        if not orders:
            return
        precommit = self.env.cr.precommit
        changed = precommit.data.setdefault(PRECOMMIT_CHANGED, set())
        if not changed:
            precommit.add(self.browse()._hc_send_changes)
        changed.update(orders.ids)

    def _hc_send_changes(self):
        ids = self.env.cr.precommit.data.pop(PRECOMMIT_CHANGED, set())
        orders = self.sudo().browse(sorted(ids)).exists().filtered(lambda o: o.state == "purchase")
        if orders:
            orders._hc_send_documents("change")

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

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._hc_changed()
        return lines

    def write(self, vals):
        res = super().write(vals)
        if CHANGE_FIELDS_LINE & set(vals):
            self.order_id._hc_changed()
        return res

    def unlink(self):
        orders = self.order_id
        res = super().unlink()
        orders.exists()._hc_changed()
        return res

    hc_line_ref = fields.Char(
        string="Source line number",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Line number of the order line in the sourcing system (PO1-01 in X12 850); "
        "acknowledgments, ship notices, receipts and invoices refer to it.",
    )
