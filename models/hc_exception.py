from datetime import timedelta
from types import SimpleNamespace

from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from ..trust import trusted
from .hc_outbox_event import source_action

# Who decides on a supplier's changes to a confirmed order: the buyer's side.  An AP
# clerk does not change what was ordered (segregation of duties).
PO_ACK_DECIDER_GROUPS = (
    "healthcare_p2p_integration.group_hc_supply_chain",
    "purchase.group_purchase_manager",
)

EXCEPTION_TYPES = [
    ("price_variance", "Price variance"),
    ("qty_variance", "Quantity variance"),
    ("missing_receipt", "Missing receipt"),
    ("no_po", "No purchase order"),
    ("unknown_vendor", "Unknown vendor"),
    ("unknown_item", "Unknown item"),
    ("uom_mismatch", "Unit of measure mismatch"),
    ("duplicate_invoice", "Duplicate invoice"),
    ("contract_price_mismatch", "Contract price mismatch"),
    ("lot_expiry", "Lot / expiry missing or expired"),
    ("short_shipment", "Short shipment"),
    ("over_receipt", "Over-receipt"),
    ("payment_rejected", "Payment rejected"),
    ("duplicate_vendor", "Possible duplicate vendor"),
    ("data_quality", "Data quality"),
    ("total_variance", "Bill total variance"),
    ("scope_violation", "Connector scope violation"),
    ("cross_company_reference", "Cross-company reference"),
    # reconciliation findings and alert thresholds
    ("receipt_not_billed", "Receipt not billed"),
    ("receipt_overdue", "Bill waiting for its receipt"),
    ("po_not_acknowledged", "PO not acknowledged"),
    ("lane_stalled", "Lane without workers"),
    ("message_waiting", "Message waiting for a prerequisite"),
    ("payment_status_gap", "No payment status"),
    ("threshold_breach", "Metric threshold breached"),
    ("bank_change", "Vendor bank details change"),
    # amount truth: the bill equals what the supplier invoiced
    ("tax_unmapped", "Tax not mapped"),
    ("tax_variance", "Tax variance"),
    ("total_mismatch", "Stated total mismatch"),
    ("document_inconsistent", "Document amounts inconsistent"),
    ("charge_variance", "Charge variance"),
    ("po_ack_change", "PO acknowledgment change"),
    ("invoice_refused", "Supplier invoice refused"),
    ("unknown_uom", "Unknown unit of measure"),
    # hospital supply chain (issue 18)
    ("transfer_discrepancy", "Transfer discrepancy"),
    ("stock_adjustment", "Stock adjustment refused"),
    ("recall", "Recalled stock"),
    ("outbound_failed", "Outbound document not sent"),
    ("edi_ack_rejected", "EDI acknowledgment rejected"),
    ("edi_ack_overdue", "EDI acknowledgment overdue"),
    ("vendor_hold", "Order of a vendor on hold"),
]

# What a person decides only through the resolution wizard and the decision buttons
# (``_resolve``, ``_steward_decide``...), audited; and what the engine alone sets: the
# problem itself, its amount at stake, and what it holds.
DECISION_FIELDS = frozenset(
    {
        "state",
        "resolution",
        "resolution_action",
        "resolved_by_id",
        "resolved_date",
        "amount",
        "severity",
        "dedup_key",
        "exception_type",
        "details",
        "move_id",
        "res_model",
        "res_id",
        # who works it: changed by a reassignment (with its reason), never inline
        "owner_id",
        "queue_id",
    }
)

# Which decisions the Resolve wizard offers, per kind of exception (``decision_kind``).
DECISION_KINDS = [
    ("duplicate", "Duplicate invoice"),
    ("receipt", "Receipt"),
    ("item", "Item or PO line"),
    ("variance", "Variance"),
    ("quantity", "Quantity"),
    ("po_ack", "PO acknowledgment"),
    ("other", "Other"),
]
KIND_OF_TYPE = {
    "duplicate_invoice": "duplicate",
    "missing_receipt": "receipt",
    "receipt_overdue": "receipt",
    "unknown_item": "item",
    "no_po": "item",
    "price_variance": "variance",
    "contract_price_mismatch": "variance",
    "qty_variance": "quantity",
    "total_variance": "variance",
    "charge_variance": "variance",
    "tax_variance": "variance",
    "total_mismatch": "variance",
    "po_ack_change": "po_ack",
}
KIND_ACTIONS = {
    "duplicate": ("confirm_duplicate", "not_duplicate", "reassign"),
    "receipt": ("ask_receiving", "wait_receipt", "reject", "reassign"),
    "item": ("map_item", "link_po_line", "reject", "reassign"),
    "variance": ("accept", "credit_note", "reject", "reassign"),
    "quantity": ("accept", "ask_receiving", "wait_receipt", "credit_note", "reject", "reassign"),
    "po_ack": ("reassign",),
    "other": ("accept", "credit_note", "reject", "reassign", "wait_receipt"),
}
# Decisions that only make sense for one kind (refused on any other, whatever the path).
KIND_ONLY_ACTIONS = {
    "confirm_duplicate": ("duplicate",),
    "not_duplicate": ("duplicate",),
    "ask_receiving": ("receipt", "quantity"),
    "map_item": ("item",),
    "link_po_line": ("item",),
}
# The import's own line exceptions on a bill, and what fixes a line of each.
LINE_EXCEPTION_FIELDS = {"unknown_item": "product_id", "no_po": "purchase_line_id"}

# Findings about how a document is progressing (raised by reconciliation and monitoring,
# cleared by them once the situation is over): they never hold a bill themselves, the
# problem behind them does.
MONITORING_TYPES = frozenset(
    {
        "receipt_not_billed",
        "receipt_overdue",
        "po_not_acknowledged",
        "lane_stalled",
        "message_waiting",
        "payment_status_gap",
        "threshold_breach",
        "payment_rejected",
    }
)


class HcException(models.Model):
    """A problem a person must look at, raised by processing, matching or reconciliation.

    ``dedup_key`` names the problem (type + the records involved): while an exception with
    that key is open, raising it again returns the open one instead of a second record.
    """

    _name = "hc.exception"
    _description = "Procure-to-pay exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(required=True)
    exception_type = fields.Selection(EXCEPTION_TYPES, required=True, index=True, tracking=True)
    severity = fields.Selection(
        [("low", "Low"), ("medium", "Medium"), ("high", "High")], default="medium", required=True
    )
    state = fields.Selection(
        [
            ("new", "New"),
            ("in_progress", "In progress"),
            ("waiting", "Waiting"),
            ("resolved", "Resolved"),
            ("cancelled", "Cancelled"),
        ],
        default="new",
        required=True,
        index=True,
        tracking=True,
        group_expand=True,  # the kanban shows every state, in order
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, index=True
    )
    partner_id = fields.Many2one("res.partner", string="Vendor", index=True)
    message_id = fields.Many2one(
        "hc.inbox.message", string="Inbox message", index=True, ondelete="set null"
    )
    res_model = fields.Char(string="Document model")
    res_id = fields.Many2oneReference(model_field="res_model", string="Document")
    description = fields.Text()
    details = fields.Json()
    dedup_key = fields.Char(index=True, readonly=True)
    owner_id = fields.Many2one("res.users", string="Owner", tracking=True, index=True)
    queue_id = fields.Many2one("hc.exception.queue", string="Queue", tracking=True, index=True)
    date_deadline = fields.Datetime(string="Due", tracking=True, index=True)
    age_days = fields.Integer(string="Age (days)", compute="_compute_age")
    is_overdue = fields.Boolean(compute="_compute_age", search="_search_is_overdue")
    amount = fields.Monetary(string="Amount at stake", currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", default=lambda s: s.env.company.currency_id)
    move_id = fields.Many2one("account.move", string="Bill", index=True, ondelete="cascade")
    purchase_id = fields.Many2one("purchase.order", string="Purchase order", index=True)
    picking_id = fields.Many2one("stock.picking", string="Receipt", index=True)
    hint = fields.Char(help="What to do next.")
    resolution = fields.Text(tracking=True)
    resolution_action = fields.Selection(
        [
            ("accept", "Variance accepted"),
            ("credit_note", "Credit note requested"),
            ("reject", "Bill rejected"),
            ("wait_receipt", "Waiting for receipt"),
            ("fixed", "Fixed at the source"),
            ("auto", "Resolved by a re-match"),
            ("ack_accept", "Supplier's changes accepted"),
            ("ack_reject", "Order kept as agreed"),
            ("duplicate", "Duplicate confirmed"),
            ("not_duplicate", "Not a duplicate"),
            ("mapped", "Item mapped to a product"),
            ("linked", "Line linked to a PO line"),
        ],
        readonly=True,
        tracking=True,
    )
    resolved_by_id = fields.Many2one("res.users", readonly=True)
    resolved_date = fields.Datetime(readonly=True)
    po_ack_line_ids = fields.One2many(
        "hc.po.ack.line",
        "exception_id",
        string="Proposed changes",
        readonly=True,
        help="The acknowledgment lines of a PO acknowledgment change: agreed and proposed "
        "values, and the decision.",
    )

    # -- why the three-way match raised it (engine-written, ``_hc_explain``) ----------
    explain_check = fields.Selection(
        [
            ("quantity", "Quantity billed against received"),
            ("receipt", "Receipt"),
            ("price", "Billed price against PO price"),
            ("contract_price", "Billed price against contract price"),
            ("bill_total", "Bill total against PO prices"),
            ("charges", "Charges"),
            ("stated_untaxed", "Untaxed amount stated by the supplier"),
            ("stated_tax", "Tax stated by the supplier"),
            ("stated_total", "Total stated by the supplier"),
            ("prepaid", "Prepaid amount stated by the supplier"),
            ("po_link", "Link to a purchase order line"),
            ("uom", "Unit of measure conversion"),
        ],
        string="Check that failed",
        readonly=True,
    )
    explain_kind = fields.Selection(
        [("qty", "Quantity"), ("price", "Unit price"), ("amount", "Amount"), ("none", "None")],
        string="Compared",
        readonly=True,
    )
    explain_rule = fields.Char(string="Rule that decided", readonly=True)
    explain_tolerance = fields.Char(string="Tolerance applied", readonly=True)
    explain_product_id = fields.Many2one("product.product", string="Product", readonly=True)
    explain_line_id = fields.Many2one(
        "account.move.line",
        string="Bill line",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",  # a journal item deleted looks here
        help="The bill line the figures are of: of several lines, the largest difference.",
    )
    explain_line_ids = fields.Many2many(
        "account.move.line",
        "hc_exception_explain_line_rel",
        "exception_id",
        "line_id",
        string="Bill lines concerned",
        readonly=True,
    )
    explain_line_count = fields.Integer(string="Lines concerned", readonly=True)
    explain_purchase_line_id = fields.Many2one(
        "purchase.order.line",
        string="PO line",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",  # a PO line deleted looks here
    )
    explain_uom = fields.Char(string="Unit", readonly=True)
    explain_ordered_qty = fields.Float(string="PO quantity", digits="Product Unit", readonly=True)
    explain_received_qty = fields.Float(
        string="Received quantity", digits="Product Unit", readonly=True
    )
    explain_billed_qty = fields.Float(
        string="Invoiced quantity", digits="Product Unit", readonly=True,
        help="Billed on this bill against the PO line (all its lines together).",
    )  # fmt: skip
    explain_billable_qty = fields.Float(
        string="Billable quantity", digits="Product Unit", readonly=True,
        help="What may be billed: received, capped at ordered unless over-receipt is allowed.",
    )  # fmt: skip
    explain_previously_billed_qty = fields.Float(
        string="Billed before", digits="Product Unit", readonly=True
    )
    # unit prices keep the product price precision (0.0325 per glove), shown in currency
    explain_po_price = fields.Float(string="PO price", digits="Product Price", readonly=True)
    explain_contract_price = fields.Float(
        string="Contract price", digits="Product Price", readonly=True
    )
    explain_contract_ref = fields.Char(string="Contract", readonly=True)
    explain_bill_price = fields.Float(string="Billed price", digits="Product Price", readonly=True)
    explain_price_difference = fields.Float(
        string="Price difference", digits="Product Price", readonly=True, help="Per unit."
    )
    explain_price_allowed = fields.Float(
        string="Price difference allowed", digits="Product Price", readonly=True, help="Per unit."
    )
    explain_qty_difference = fields.Float(
        string="Quantity difference", digits="Product Unit", readonly=True
    )
    explain_qty_allowed = fields.Float(
        string="Quantity allowed", digits="Product Unit", readonly=True
    )
    explain_expected = fields.Monetary(string="Expected", readonly=True)
    explain_actual = fields.Monetary(string="Billed", readonly=True)
    explain_difference = fields.Monetary(string="Difference", readonly=True)
    explain_allowed = fields.Monetary(string="Difference allowed", readonly=True)
    match_line_ids = fields.One2many(
        "hc.bill.match.line",
        compute="_compute_match_line_ids",
        string="PO, receipt and invoice side by side",
    )
    sibling_ids = fields.Many2many(
        "hc.exception",
        compute="_compute_sibling_ids",
        string="Other open exceptions on this bill",
    )
    sibling_count = fields.Integer(compute="_compute_sibling_ids")
    decision_kind = fields.Selection(
        DECISION_KINDS,
        compute="_compute_decision_kind",
        help="Which decisions fit this exception (the Resolve wizard offers those).",
    )
    document_html = fields.Html(
        string="Original document",
        related="message_id.document_html",
        help="The received document as parsed: header, parties, lines and totals.",
    )
    duplicate_comparison = fields.Html(
        string="Side by side",
        compute="_compute_duplicate_comparison",
        compute_sudo=True,
        help="The invoice received and the bill it may duplicate.",
    )

    _open_dedup_unique = models.UniqueIndex(
        "(dedup_key) WHERE state NOT IN ('resolved', 'cancelled')",
        "This problem already has an open exception.",
    )

    @api.depends("create_date", "date_deadline", "state")
    def _compute_age(self):
        now = fields.Datetime.now()
        for exc in self:
            exc.age_days = (now - exc.create_date).days if exc.create_date else 0
            exc.is_overdue = bool(
                exc.date_deadline
                and exc.date_deadline < now
                and exc.state in ("new", "in_progress", "waiting")
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(operator)
        overdue = (operator == "=" and value) or (operator == "!=" and not value)
        domain = [
            ("date_deadline", "<", fields.Datetime.now()),
            ("state", "in", ("new", "in_progress", "waiting")),
        ]
        return domain if overdue else ["!", "&", *domain]

    def _compute_match_line_ids(self):
        """The bill's match lines of the lines concerned (every line for a bill-level
        problem): PO line, receipt and invoice line side by side."""
        lines = self.env["hc.bill.match.line"].search([("move_id", "in", self.move_id.ids)])
        for exc in self:
            mine = lines.filtered(lambda m, e=exc: m.move_id == e.move_id)
            if exc.explain_line_ids:
                mine = mine.filtered(lambda m, e=exc: m.move_line_id in e.explain_line_ids)
            exc.match_line_ids = mine

    def _compute_sibling_ids(self):
        """The other open exceptions holding the same bill: it is released only once
        they are all decided (one work item per bill)."""
        bills = self.move_id | self.env["account.move"].browse(
            {e.res_id for e in self if e.res_model == "account.move" and e.res_id}
        )
        held = bills.exists()._hc_open_exceptions() if bills else self.browse()
        # read as the user: the ones the user may not see are not listed
        held = self.browse(held.ids).exists()._filtered_access("read")
        for exc in self:
            bill = exc.move_id.id or (exc.res_model == "account.move" and exc.res_id)
            siblings = held.filtered(
                lambda e, b=bill, x=exc: (
                    e.id != x.id
                    and (e.move_id.id == b or (e.res_model == "account.move" and e.res_id == b))
                )
            )
            exc.sibling_ids = siblings if bill else self.browse()
            exc.sibling_count = len(exc.sibling_ids)

    @api.model
    def _hc_explain_vals(self, facts):
        """Field values of the figures ``matching.engine.explain_exception`` gives."""

        def num(name):
            value = facts.get(name)
            return float(value) if value not in (None, "") else 0.0

        kind = facts.get("kind") or "none"
        line_ids = [i for i in facts.get("line_ids") or () if isinstance(i, int)]
        lines = self.env["account.move.line"].sudo().browse(line_ids).exists()
        lead = self.env["account.move.line"].sudo().browse(facts.get("bill_line_id") or []).exists()
        po_line = (
            self.env["purchase.order.line"].sudo().browse(facts.get("po_line_id") or []).exists()
        )
        product = self.env["product.product"].sudo().browse(facts.get("product_id") or []).exists()
        vals = {
            "explain_check": facts.get("check") or False,
            "explain_kind": kind,
            "explain_rule": facts.get("rule") or False,
            "explain_tolerance": facts.get("tolerance") or False,
            "explain_product_id": (product or lead.product_id or po_line.product_id).id,
            "explain_line_id": lead.id,
            "explain_line_ids": [Command.set(lines.ids)],
            "explain_line_count": len(lines),
            "explain_purchase_line_id": po_line.id,
            "explain_uom": facts.get("uom") or facts.get("bill_uom") or False,
            "explain_ordered_qty": num("ordered_qty"),
            "explain_received_qty": num("received_qty"),
            "explain_billed_qty": num("billed_qty"),
            "explain_billable_qty": num("billable_qty"),
            "explain_previously_billed_qty": num("previously_billed_qty"),
            "explain_po_price": num("po_price"),
            "explain_contract_price": num("contract_price"),
            "explain_contract_ref": facts.get("contract_ref") or False,
            "explain_bill_price": num("bill_price"),
            "explain_qty_difference": num("difference") if kind == "qty" else 0.0,
            "explain_qty_allowed": num("allowed") if kind == "qty" else 0.0,
            "explain_price_difference": num("difference") if kind == "price" else 0.0,
            "explain_price_allowed": num("allowed") if kind == "price" else 0.0,
            "explain_difference": num("difference") if kind == "amount" else 0.0,
            "explain_allowed": num("allowed") if kind == "amount" else 0.0,
            "explain_expected": num("expected") if kind == "amount" else 0.0,
            "explain_actual": num("actual") if kind == "amount" else 0.0,
        }
        return vals

    def action_resolve_bill(self):
        """Decide every open exception of this bill together (one work item per bill)."""
        self.ensure_one()
        return (self | self.sibling_ids).action_resolve()

    def _hc_trusted(self):
        """The engine or the system (never a client's call, whatever its context)."""
        return self.env.su or trusted.is_engine_write()

    def _hc_refuse_decision_fields(self, vals):
        names = sorted(
            DECISION_FIELDS & set(vals) | {name for name in vals if name.startswith("explain_")}
        )
        if names:
            raise AccessError(
                self.env._(
                    "An exception's %s change only through the Resolve wizard (or its "
                    "decision buttons), which checks who may decide and audits it.",
                    ", ".join(names),
                )
            )

    def write(self, vals):
        if not self._hc_trusted():
            self._hc_refuse_decision_fields(vals)
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        if not self._hc_trusted():
            for vals in vals_list:
                self._hc_refuse_decision_fields(vals)
        link_fields = {
            "account.move": "move_id",
            "purchase.order": "purchase_id",
            "stock.picking": "picking_id",
        }
        for vals in vals_list:
            # the generic document reference also fills the typed link the queues filter on
            link = link_fields.get(vals.get("res_model"))
            if link and vals.get("res_id") and not vals.get(link):
                vals[link] = vals["res_id"]
        exceptions = super().create(vals_list)
        exceptions._route()
        exceptions._hc_emit_outbound()
        return exceptions

    def _hc_emit_outbound(self):
        """Outbound ``invoice.exception`` for invoice and match exceptions."""
        Outbox = self.env["hc.outbox.event"]
        if not Outbox._subscribers("invoice.exception"):
            return
        Payload = self.env["hc.outbox.payload"]
        invoice_types = Payload._invoice_exception_types()
        Outbox._emit(
            "invoice.exception",
            self.filtered(lambda e: e.move_id or e.exception_type in invoice_types),
            Payload._invoice_exception,
        )

    def _route(self):
        """Put each exception in its queue (routing rules), with an owner and a due date."""
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for exc in self:
            queue = exc.queue_id or self.env["hc.exception.routing.rule"]._route(exc)
            if not queue:
                continue
            owner = exc.owner_id or self.env["hc.exception.queue"]._next_owner(queue)
            deadline = exc.create_date + timedelta(hours=queue.sla_hours)
            with trusted.engine_write():
                exc.write({"queue_id": queue.id, "owner_id": owner.id, "date_deadline": deadline})
            if owner and activity_type:
                exc.activity_schedule(
                    activity_type_id=activity_type.id,
                    user_id=owner.id,
                    date_deadline=deadline.date(),
                    summary=exc.name[:120],
                )

    def _resolve(self, action, resolution):
        """Close exceptions with the decision, the person and the audit trail."""
        for exc in self.filtered(lambda e: e.state not in ("resolved", "cancelled")):
            with trusted.engine_write():
                exc.write(
                    {
                        "state": "resolved",
                        "resolution_action": action,
                        "resolution": resolution,
                        "hint": False,  # the next step is done
                        "resolved_by_id": self.env.uid,
                        "resolved_date": fields.Datetime.now(),
                    }
                )
            exc.activity_ids.action_feedback(feedback=resolution or action)
            self.env["hc.audit.log"]._log(
                f"exception_{action}",
                exc,
                reason=resolution,
                data={"type": exc.exception_type, "amount": exc.amount, "move": exc.move_id.id},
            )

    @api.model
    def _raise(self, exception_type, name, dedup_key, **vals):
        """Open an exception unless the same problem (``dedup_key``) is already open."""
        existing = self.sudo().search(
            [("dedup_key", "=", dedup_key), ("state", "not in", ("resolved", "cancelled"))], limit=1
        )
        if existing:
            return existing
        return self.sudo().create(
            dict(vals, exception_type=exception_type, name=name, dedup_key=dedup_key)
        )

    # -- data steward decisions on parked vendors ------------------------------------

    def action_vendor_confirm_new(self):
        """The parked vendor is a genuinely new supplier: create it."""
        self._steward_decide({"action": "new"})

    def action_vendor_merge(self):
        """The parked vendor is the suggested existing one: add its identifiers there."""
        self.ensure_one()
        self._steward_decide({"action": "merge", "partner_id": self.partner_id.id})

    def _steward_decide(self, decision):
        for exc in self:
            if exc.exception_type != "duplicate_vendor" or exc.state in ("resolved", "cancelled"):
                continue
            with trusted.engine_write():
                exc.write(
                    {
                        "details": dict(exc.details or {}, decision=decision),
                        "state": "resolved",
                        "resolution": self.env._("Data steward decision: %s", decision["action"]),
                    }
                )
            self.env["hc.audit.log"]._log("vendor_review_decided", exc, data=decision)
            self.env["hc.inbox.message"]._release_waiting({exc.dedup_key})

    # -- buyer decisions on supplier acknowledgment changes ----------------------------

    def action_po_ack_accept(self):
        """Accept changes (form button): the resolution wizard, decision preset."""
        return self._po_ack_wizard("ack_accept")

    def action_po_ack_reject(self):
        """Reject changes (form button): the resolution wizard, decision preset."""
        return self._po_ack_wizard("ack_reject")

    def _po_ack_wizard(self, decision):
        self._po_ack_check_can_decide()
        action = self.action_resolve()
        action["context"] = dict(action["context"], default_ack_action=decision)
        return action

    def _po_ack_check_can_decide(self):
        """Only the buyer's side decides on a supplier's changes to a confirmed order:
        supply chain users (and the integration administrators, who are supply chain
        users) and purchase managers.  Anyone else (an AP clerk) is refused; the refusal is
        audited on its own transaction (it outlives the rollback).  Nobody decides for a
        company (facility) they do not belong to."""
        user = self.env.user
        if self.sudo().company_id - user.company_ids:
            raise AccessError(
                self.env._("You may not decide on another facility's purchase orders.")
            )
        if any(user.has_group(group) for group in PO_ACK_DECIDER_GROUPS):
            return
        for exc in self[:1].sudo():
            self.env["hc.audit.log"]._log_detached(
                "sod_refused",
                exc,
                reason="po_ack_buyer",
                data={
                    "rule": "po_ack_buyer",
                    "action": "po_ack_decision",
                    "user": user.login,
                    "order": exc.purchase_id.id,
                    "amount": exc.amount,
                },
            )
        raise UserError(
            self.env._(
                "Only supply chain users and purchase managers decide on a supplier's "
                "changes to a purchase order."
            )
        )

    def _po_ack_decide(self, decision, reason):
        """The buyer's decision on a supplier's changes to confirmed orders.

        ``accept``: each pending proposal of the acknowledgment is applied to its order
        line (quantity, price, date; a rejected line goes to quantity 0, which cancels what
        is left to receive), the order's acknowledgment state follows, and the bills
        blocked on those lines are matched again against the amended order.
        ``reject``: the order stays as agreed (the supplier is to be told; nothing is
        sent from here).  Either way the exception is resolved (``_resolve``) and the
        decision, with each line's agreed and proposed values, is in the audit log.
        """
        if decision not in ("accept", "reject"):
            raise UserError(self.env._("Unknown decision %s.", decision))
        if not self:
            raise UserError(self.env._("No exception to decide."))
        self._po_ack_check_can_decide()
        # Checked: read and write as the module (a purchase manager need not hold the
        # module's exception rights), still as this user (uid: author, audit, resolver).
        exceptions = self.sudo()
        if exceptions.filtered(lambda e: e.exception_type != "po_ack_change"):
            raise UserError(
                self.env._("Only PO acknowledgment changes are accepted or rejected here.")
            )
        # Two buyers deciding at once: the second waits, then finds the exception closed.
        self.env.cr.execute(
            "SELECT id FROM hc_exception WHERE id IN %s FOR UPDATE", [tuple(self.ids)]
        )
        exceptions.invalidate_recordset(["state"])
        todo = exceptions.filtered(lambda e: e.state not in ("resolved", "cancelled"))
        if not todo:
            raise UserError(self.env._("These exceptions are already closed."))
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give a reason: it is kept in the audit trail."))
        rematch = self.env["purchase.order.line"]
        for exc in todo:
            order = exc.purchase_id
            lines = exc.po_ack_line_ids.filtered(lambda h: h.decision == "pending")
            data = {
                "exception": exc.id,
                "ack_key": lines[:1].ack_key or (exc.details or {}).get("ack_key"),
                "lines": [
                    {
                        "line": h.line_number,
                        "purchase_line_id": h.purchase_line_id.id,
                        "status": h.status,
                        "agreed": [h.old_qty, h.old_price, str(h.old_date or "")],
                        "proposed": [h.proposed_qty, h.proposed_price, str(h.proposed_date or "")],
                    }
                    for h in lines
                ],
            }
            if decision == "accept":
                if order.state == "cancel":
                    raise UserError(
                        self.env._(
                            "Purchase order %s is cancelled: its changes cannot be applied.",
                            order.name,
                        )
                    )
                lines._apply_to_order("accepted")
                products = order.order_line.filtered(lambda ln: not ln.display_type)
                state = (
                    "rejected"
                    if products and all(ln.product_qty == 0 for ln in products)
                    else "changed"
                )
                rematch |= lines.purchase_line_id
                body = self.env._(
                    "Supplier's changes of acknowledgment %(ack)s accepted by %(user)s: %(reason)s",
                    ack=lines[:1].ack_number or exc.name,
                    user=self.env.user.name,
                    reason=reason,
                )
            else:
                lines.write({"decision": "refused"})
                state = "refused"
                body = self.env._(
                    "Supplier's changes of acknowledgment %(ack)s rejected by %(user)s, the "
                    "order stays as agreed: %(reason)s",
                    ack=lines[:1].ack_number or exc.name,
                    user=self.env.user.name,
                    reason=reason,
                )
            if lines:  # only lines not on the order: nothing changed, nothing to record
                order.write({"hc_ack_state": state})
            order.message_post(body=Markup("<p>%s</p>") % body)
            self.env["hc.audit.log"]._log(
                f"po_ack_changes_{'accepted' if decision == 'accept' else 'refused'}",
                order,
                reason=reason,
                data=data,
            )
            exc._resolve(f"ack_{decision}", reason)
        if rematch:
            bills = (
                self.env["account.move.line"]
                .sudo()
                .search(
                    [
                        ("purchase_line_id", "in", rematch.ids),
                        ("move_id.hc_match_state", "=", "blocked"),
                    ]
                )
                .move_id
            )
            if bills:
                self.env["hc.three.way.match"].sudo()._match_bills(bills)
        return True

    # -- data steward decisions on unknown units ------------------------------------

    def action_map_uom(self):
        """Open the wizard mapping an unknown unit code (or an item's pack size)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.uom.map.wizard",
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Map unit"),
            "context": {"default_exception_id": self.id},
        }

    def _map_unknown_uom(self, uom=None, pack_qty=None):
        """Decide an ``unknown_uom`` exception once: keep the mapping, release the documents.

        An unknown code is mapped to ``uom`` (an ``hc.uom.alias``, global: every later
        document with that code finds it); an item's missing pack size becomes the item's
        packaging "<pack> of ``pack_qty``" (or the packaging ``uom`` the steward picked).
        Every open exception of the same code (or pack of the item) is resolved and the
        messages parked on it are applied again.  Integration administrators (data
        stewards) only, whatever the path (RPC included).
        """
        self.ensure_one()
        if not self.env.user.has_group("healthcare_p2p_integration.group_hc_integration_admin"):
            raise AccessError(self.env._("Only a data steward may map units of measure."))
        self.check_access("write")
        if self.exception_type != "unknown_uom" or self.state in ("resolved", "cancelled"):
            raise UserError(self.env._("This is not an open unknown unit exception."))
        details = self.details or {}
        code = details.get("code")
        product = self.env["product.product"].browse(details.get("product_id")).exists()
        if not code:
            raise UserError(self.env._("The exception does not name the unit code."))
        resolver = self.env["hc.reference.resolver"]
        if product:
            if not uom and not (pack_qty and pack_qty > 0):
                raise UserError(self.env._("Give the number of units one %s holds.", code))
            if not uom:
                uom = resolver._pack_unit(code, pack_qty, product.uom_id)
            elif not uom._has_common_reference(product.uom_id):
                raise UserError(
                    self.env._(
                        "%(unit)s cannot be converted to %(ref)s, the unit of %(product)s.",
                        unit=uom.name,
                        ref=product.uom_id.name,
                        product=product.display_name,
                    )
                )
            if uom.sudo().hc_pack_code not in (False, code):
                raise UserError(
                    self.env._(
                        "%(unit)s is a %(other)s packaging, not %(code)s.",
                        unit=uom.name,
                        other=uom.sudo().hc_pack_code,
                        code=code,
                    )
                )
            if not uom.sudo().hc_pack_code:
                uom.sudo().hc_pack_code = code
            waiting = resolver._set_packaging(product, uom)
            decided = self.env._(
                "%(product)s: one %(code)s is %(unit)s",
                product=product.display_name,
                code=code,
                unit=uom.name,
            )
            dedup = f"unknown_uom:{code}:product:{product.id}"
        else:
            if not uom:
                raise UserError(self.env._("Pick the Odoo unit %s means.", code))
            Alias = self.env["hc.uom.alias"].sudo()
            alias = Alias.search([("code", "=", code)], limit=1)
            note = self.env._(
                "Mapped by %(user)s from %(exc)s", user=self.env.user.name, exc=self.display_name
            )
            if alias:
                alias.write({"uom_id": uom.id, "note": note})
            else:
                Alias.create({"code": code, "uom_id": uom.id, "note": note})
            waiting = f"uom:{code}"
            decided = self.env._("%(code)s is mapped to %(unit)s", code=code, unit=uom.name)
            dedup = f"unknown_uom:{code}"
        same = (
            self.sudo().search(
                [("dedup_key", "=", dedup), ("state", "not in", ("resolved", "cancelled"))]
            )
            | self
        )
        self.env["hc.audit.log"]._log(
            "uom_mapped",
            self,
            reason=decided,
            data={"code": code, "uom": uom.id, "product": product.id or None},
        )
        same.sudo()._resolve("fixed", decided)
        self.env["hc.inbox.message"]._release_waiting({waiting})
        return uom

    def action_resolve(self):
        """Open the resolution wizard on these exceptions (a form button may preset the
        decision with ``hc_preset_action`` in its context)."""
        context = {"default_exception_ids": self.ids}
        preset = self.env.context.get("hc_preset_action")
        if preset:
            context["default_action"] = preset
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.exception.resolve.wizard",
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Resolve: %s", self[:1].name)
            if len(self) == 1
            else self.env._("Resolve %s exceptions", len(self)),
            "context": context,
        }

    def action_open_document(self):
        self.ensure_one()
        return source_action(self, self.env._("Document"))

    # -- decisions per kind of exception (called by the Resolve wizard) ---------------
    #
    # Each checks who decides, keeps the reason on the exception (its Resolution field
    # and a note in its chatter) and writes the audit log; state and resolution change
    # only here and in ``_resolve`` (see ``DECISION_FIELDS``).

    @api.depends("exception_type")
    def _compute_decision_kind(self):
        for exc in self:
            exc.decision_kind = KIND_OF_TYPE.get(exc.exception_type, "other")

    def _compute_duplicate_comparison(self):
        for exc in self:
            exc.duplicate_comparison = (
                exc._duplicate_comparison_html()
                if exc.exception_type == "duplicate_invoice"
                else False
            )

    def _duplicate_comparison_html(self):
        """The received invoice beside the bill it may duplicate (QWeb)."""
        self.ensure_one()
        details = self.details or {}
        existing = self.env["account.move"].browse(details.get("existing_move_id")).exists()
        if self._hc_no_second_bill():
            # no bill was made of the copy: the document itself is the other side
            received = self._invoice_side_from_document(self.message_id)
        else:
            received = self._invoice_side_from_bill(self.move_id)
        if not existing or not received:
            return False
        return self.env["ir.qweb"]._render(
            "healthcare_p2p_integration.hc_duplicate_comparison",
            {
                "received": received,
                "existing": self._invoice_side_from_bill(existing),
                "verdict": details.get("verdict"),
            },
        )

    def _hc_no_second_bill(self):
        """A copy recognised as the same invoice: no bill was made of it."""
        return (self.dedup_key or "").startswith("duplicate_invoice:duplicate:")

    @api.model
    def _invoice_side_from_bill(self, bill):
        currency = bill.currency_id
        source = (
            bill.hc_message_id.connector_id.name
            if bill.hc_message_id
            else self.env._("Keyed in by %s", bill.create_uid.name)
        )
        return {
            "title": bill.display_name,
            "number": bill.ref or "",
            "date": str(bill.invoice_date or ""),
            "amount": currency.format(bill.hc_stated_total or bill.amount_total),
            "state": dict(bill._fields["state"]._description_selection(self.env)).get(bill.state),
            "source": source,
            "lines": [
                {
                    "ref": line.hc_line_ref or "",
                    "description": line.name or line.product_id.display_name or "",
                    "quantity": line.quantity,
                    "price": currency.format(line.price_unit),
                    "total": currency.format(line.price_subtotal),
                }
                for line in bill.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
            ],
        }

    @api.model
    def _invoice_side_from_document(self, message):
        doc = message.document or {}
        if not doc:
            return False
        currency = doc.get("currency") or ""
        return {
            "title": self.env._("Received document (%s)", message.display_ref),
            "number": doc.get("number") or "",
            "date": doc.get("issue_date") or "",
            "amount": f"{doc.get('gross_total') or ''} {currency}".strip(),
            "state": self.env._("Not billed"),
            "source": message.connector_id.name,
            "lines": [
                {
                    "ref": line.get("line_number") or "",
                    "description": (line.get("item") or {}).get("description")
                    or (line.get("item") or {}).get("vendor_part_number")
                    or (line.get("item") or {}).get("gtin")
                    or "",
                    "quantity": line.get("quantity"),
                    "price": f"{line.get('unit_price') or ''} {currency}".strip(),
                    "total": line.get("line_total") or "",
                }
                for line in doc.get("lines") or []
            ],
        }

    def _hc_check_kind(self, action):
        kinds = KIND_ONLY_ACTIONS.get(action)
        wrong = self.filtered(lambda e: e.decision_kind not in kinds) if kinds else self.browse()
        if wrong:
            raise UserError(
                self.env._(
                    "This decision does not fit %(names)s (%(type)s).",
                    names=", ".join(wrong.mapped("name")),
                    type=wrong[:1].exception_type,
                )
            )

    def _hc_check_decider(self, ap_only=False):
        """Who decides: a user who may change these exceptions (module write right, their
        own facility); a decision on what is paid, only AP clerks and managers."""
        self.check_access("write")
        if ap_only and not self.env.user.has_group("healthcare_p2p_integration.group_hc_ap_clerk"):
            raise AccessError(
                self.env._("Only AP clerks and managers decide on what a vendor is paid.")
            )

    def _hc_reason(self, reason, required=True):
        reason = (reason or "").strip()
        if required and not reason:
            raise UserError(self.env._("Give a reason: it is kept in the audit trail."))
        return reason

    def _hc_open(self):
        todo = self.filtered(lambda e: e.state not in ("resolved", "cancelled"))
        if not todo:
            raise UserError(self.env._("These exceptions are already closed."))
        return todo

    def _hc_note(self, title, reason=None):
        """The decision and its reason in each exception's chatter."""
        body = Markup("<p><strong>%s</strong></p>") % title
        if reason:
            body += Markup("<p>%s</p>") % reason
        for exc in self:
            exc.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _hc_bill(self):
        self.ensure_one()
        if self.move_id:
            return self.move_id
        if self.res_model == "account.move" and self.res_id:
            return self.env["account.move"].browse(self.res_id).exists()
        return self.env["account.move"]

    # duplicate invoice -----------------------------------------------------------------

    def _decide_duplicate(self, is_duplicate, reason):
        """Confirm a duplicate (its bill is cancelled) or declare it a different invoice
        (the hold is released; a copy no bill was made of is billed now)."""
        self._hc_check_kind("confirm_duplicate")
        self._hc_check_decider(ap_only=True)
        reason = self._hc_reason(reason)
        todo = self._hc_open()
        rematch = self.env["account.move"]
        audit = self.env["hc.audit.log"]
        for exc in todo:
            details = exc.details or {}
            existing = self.env["account.move"].browse(details.get("existing_move_id")).exists()
            if is_duplicate:
                bill = self.env["account.move"] if exc._hc_no_second_bill() else exc._hc_bill()
                exc._resolve("duplicate", reason)
                if bill and bill.state != "cancel":
                    if bill.state == "posted":
                        bill.button_draft()
                    bill.button_cancel()
                    bill.message_post(
                        body=self.env._(
                            "Cancelled: duplicate of %(other)s (%(user)s): %(reason)s",
                            other=existing.display_name,
                            user=self.env.user.name,
                            reason=reason,
                        )
                    )
                    audit._log(
                        "duplicate_bill_cancelled",
                        bill,
                        reason=reason,
                        data={"exception": exc.id, "original": existing.id},
                    )
                    # nothing else is to be decided on a cancelled bill
                    others = bill._hc_open_exceptions().sudo(False) - exc
                    others._resolve(
                        "reject",
                        self.env._("Bill cancelled as a duplicate of %s.", existing.display_name),
                    )
                exc._hc_note(self.env._("Duplicate confirmed by %s", self.env.user.name), reason)
            else:
                exc._resolve("not_duplicate", reason)
                if exc._hc_no_second_bill():
                    # the copy is a genuine invoice after all: bill it now
                    exc.message_id.sudo()._requeue_after_decision(
                        self.env._(
                            "Not a duplicate of %(bill)s: %(reason)s",
                            bill=existing.display_name,
                            reason=reason,
                        )
                    )
                else:
                    rematch |= exc._hc_bill()
                exc._hc_note(self.env._("Not a duplicate (%s)", self.env.user.name), reason)
        rematch = rematch.filtered(lambda b: b.state != "cancel")
        if rematch:
            self.env["hc.three.way.match"]._match_bills(rematch)

    # missing receipt -------------------------------------------------------------------

    def _ask_receiving(self, reason=None):
        """Ask the receiving team whether the goods arrived: an activity for each member
        of the receiving queue (or the buyer) on the receipt expected, else the order.
        The exception waits; the receipt's validation re-runs the match."""
        self._hc_check_kind("ask_receiving")
        self._hc_check_decider()
        reason = self._hc_reason(reason, required=False)
        todo = self._hc_open()
        queue = self.env.ref("healthcare_p2p_integration.queue_receiving", raise_if_not_found=False)
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for exc in todo:
            order = exc.purchase_id or exc._hc_bill().invoice_line_ids.purchase_line_id.order_id[:1]
            picking = (
                exc.picking_id
                or order.picking_ids.filtered(
                    lambda p: (
                        p.picking_type_code == "incoming" and p.state not in ("done", "cancel")
                    )
                )[:1]
            )
            target = (picking or order).sudo()
            if not target:
                raise UserError(
                    self.env._(
                        "%s names no purchase order or receipt to ask receiving about.", exc.name
                    )
                )
            users = (queue.member_ids | queue.manager_id) if queue else self.env["res.users"]
            users = (
                users.filtered_domain([("company_ids", "in", exc.company_id.ids)]) or order.user_id
            )
            if not users:
                raise UserError(
                    self.env._(
                        "Nobody receives for %s: add members to the receiving queue.",
                        exc.company_id.name,
                    )
                )
            note = self.env._(
                "%(user)s asks whether the goods of %(order)s arrived (%(exc)s).",
                user=self.env.user.name,
                order=order.name or target.display_name,
                exc=exc.name,
            )
            if reason:
                note = f"{note} {reason}"
            for user in users:
                target.activity_schedule(
                    activity_type_id=activity_type.id if activity_type else False,
                    user_id=user.id,
                    summary=self.env._("Did the goods of %s arrive?", order.name or target.name)[
                        :120
                    ],
                    note=note,
                )
            with trusted.engine_write():
                exc.write(
                    {
                        "state": "waiting",
                        "resolution": reason or self.env._("Receiving asked."),
                        "picking_id": picking.id or exc.picking_id.id,
                        "purchase_id": order.id or exc.purchase_id.id,
                    }
                )
            self.env["hc.audit.log"]._log(
                "receiving_asked",
                exc,
                reason=reason,
                data={"document": [target._name, target.id], "users": users.ids},
            )
            exc._hc_note(
                self.env._(
                    "Receiving asked (%(users)s) on %(doc)s",
                    users=", ".join(users.mapped("name")),
                    doc=target.display_name,
                ),
                reason,
            )

    # unknown item / line without PO line ------------------------------------------------

    def _hc_document_line(self, line):
        """The received document's line a bill line was made from (a dict), or {}."""
        doc = self.sudo().message_id.document or line.move_id.sudo().hc_message_id.document or {}
        for doc_line in doc.get("lines") or []:
            if line.hc_line_ref and doc_line.get("line_number") == line.hc_line_ref:
                return doc_line
        return {}

    def _hc_check_line(self, line):
        bill = self._hc_bill()
        if not line or line.move_id != bill:
            raise UserError(self.env._("Choose a line of bill %s.", bill.display_name))
        if bill.state != "draft":
            raise UserError(self.env._("Bill %s is not a draft any more.", bill.display_name))
        return bill

    def _hc_write_line(self, line, product, po_line=None):
        """Set the line's product (and PO line), keeping what the supplier invoiced:
        quantity, unit price, description and the taxes the document states."""
        doc_line = self._hc_document_line(line)
        uom = line.product_uom_id
        if product and product != line.product_id:
            uom, _understood = self.env["hc.processor.invoice"]._line_uom(
                SimpleNamespace(uom=doc_line.get("uom") or ""),
                product,
                po_line or line.purchase_line_id,
            )
        vals = {
            "product_id": product.id,
            "product_uom_id": uom.id,
            "name": line.name,
            "quantity": line.quantity,
            "price_unit": line.price_unit,
            "tax_ids": [fields.Command.set(line.tax_ids.ids)],
        }
        if po_line:
            vals["purchase_line_id"] = po_line.id
        line.move_id.write({"invoice_line_ids": [fields.Command.update(line.id, vals)]})

    def _hc_keep_item_mapping(self, vendor, doc_line, product, line):
        """Remember what the vendor calls ``product`` so the next document finds it: its
        part number in the vendor's price list (``product.supplierinfo``), else its GTIN
        or the buyer's part number on a product that has none."""
        item = doc_line.get("item") or {}
        vendor_code = item.get("vendor_part_number")
        if vendor_code:
            Info = self.env["product.supplierinfo"].sudo()
            info = Info.search(
                [("partner_id", "=", vendor.id), ("product_code", "=", vendor_code)], limit=1
            )
            vals = {"product_tmpl_id": product.product_tmpl_id.id, "product_id": product.id}
            if info:
                info.write(vals)
            else:
                info = Info.create(
                    dict(
                        vals,
                        partner_id=vendor.id,
                        product_code=vendor_code,
                        product_name=(item.get("description") or "")[:256] or False,
                        price=line.price_unit,
                        currency_id=line.currency_id.id,
                        product_uom_id=line.product_uom_id.id or product.uom_id.id,
                        company_id=line.company_id.id,
                    )
                )
            return {"supplierinfo": info.id, "vendor_code": vendor_code}
        for key, field in (("gtin", "barcode"), ("buyer_part_number", "default_code")):
            value = item.get(key)
            if not value:
                continue
            current = product.sudo()[field]
            if current and current != value:
                raise UserError(
                    self.env._(
                        "The document names the item only by %(key)s %(value)s, and "
                        "%(product)s already has %(current)s: map it to another product or "
                        "link the line to a PO line.",
                        key=key,
                        value=value,
                        product=product.display_name,
                        current=current,
                    )
                )
            product.sudo().write({field: value})
            return {field: value}
        raise UserError(
            self.env._(
                "The document describes the item without an identifier: nothing could "
                "find it next time. Link the line to a PO line instead."
            )
        )

    def _map_item(self, line, product, reason):
        """Map an unknown item to ``product`` for this bill line and for the next
        documents of this vendor (see ``_hc_keep_item_mapping``)."""
        self.ensure_one()
        self._hc_check_kind("map_item")
        self._hc_check_decider()
        reason = self._hc_reason(reason)
        self._hc_open()
        bill = self._hc_check_line(line)
        if not product:
            raise UserError(self.env._("Choose the product the vendor means."))
        if line.product_id and line.product_id != product:
            raise UserError(
                self.env._("Line %s already bills another product.", line.hc_line_ref or line.name)
            )
        kept = self._hc_keep_item_mapping(
            bill.commercial_partner_id, self._hc_document_line(line), product, line
        )
        self._hc_write_line(line, product)
        self.env["hc.audit.log"]._log(
            "item_mapped",
            self,
            reason=reason,
            data={"line": line.id, "product": product.id, **kept},
        )
        self._hc_note(
            self.env._(
                "Line %(line)s mapped to %(product)s by %(user)s (kept for the next documents)",
                line=line.hc_line_ref or line.name,
                product=product.display_name,
                user=self.env.user.name,
            ),
            reason,
        )
        self._hc_refresh_line_exceptions(bill, "mapped", reason)

    def _link_po_line(self, line, po_line, reason):
        """Bill ``line`` against ``po_line`` (an order of the bill's vendor and company)."""
        self.ensure_one()
        self._hc_check_kind("link_po_line")
        self._hc_check_decider()
        reason = self._hc_reason(reason)
        self._hc_open()
        bill = self._hc_check_line(line)
        po_line = po_line.sudo()
        order = po_line.order_id
        if (
            not po_line
            or po_line.display_type
            or order.company_id != bill.company_id
            or order.partner_id.commercial_partner_id != bill.commercial_partner_id
            or order.state not in ("purchase", "done")
        ):
            raise UserError(
                self.env._(
                    "Choose a line of a confirmed purchase order of %s.",
                    bill.commercial_partner_id.display_name,
                )
            )
        if line.product_id and line.product_id != po_line.product_id:
            raise UserError(
                self.env._(
                    "Line %(line)s bills %(billed)s, the PO line orders %(ordered)s.",
                    line=line.hc_line_ref or line.name,
                    billed=line.product_id.display_name,
                    ordered=po_line.product_id.display_name,
                )
            )
        self._hc_write_line(line, line.product_id or po_line.product_id, po_line.sudo(False))
        self.env["hc.audit.log"]._log(
            "line_linked",
            self,
            reason=reason,
            data={"line": line.id, "purchase_line": po_line.id, "order": order.id},
        )
        self._hc_note(
            self.env._(
                "Line %(line)s linked to %(order)s / %(po_line)s by %(user)s",
                line=line.hc_line_ref or line.name,
                order=order.name,
                po_line=po_line.name,
                user=self.env.user.name,
            ),
            reason,
        )
        self._hc_refresh_line_exceptions(bill, "linked", reason)

    def _hc_refresh_line_exceptions(self, bill, action, reason):
        """The import's unknown item / no PO exceptions of ``bill`` keep the lines still
        missing a product / PO line; fixed ones are resolved.  Then the bill is matched
        again."""
        open_ = (
            self.sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", bill.id),
                    ("exception_type", "in", list(LINE_EXCEPTION_FIELDS)),
                    ("state", "not in", ("resolved", "cancelled")),
                    ("dedup_key", "not like", "match:%"),
                ]
            )
            .sudo(False)
        )
        by_ref = {ln.hc_line_ref: ln for ln in bill.invoice_line_ids if ln.hc_line_ref}
        for exc in open_:
            field = LINE_EXCEPTION_FIELDS[exc.exception_type]
            lines = (exc.details or {}).get("lines") or []
            left = [ref for ref in lines if ref not in by_ref or not by_ref[ref][field]]
            if left:
                if left != lines:
                    with trusted.engine_write():
                        exc.write({"details": dict(exc.details, lines=left)})
            else:
                exc._resolve(action, reason)
        self.env["hc.three.way.match"]._match_bills(bill)

    # variances -------------------------------------------------------------------------

    def _request_credit_note(self, reason):
        """Ask the vendor for a credit note for the amount at stake: a draft vendor credit
        note for the difference (on the bill it credits), a message to the vendor in the
        bill's chatter, and the exception waits for the credit."""
        self._hc_check_decider(ap_only=True)
        reason = self._hc_reason(reason)
        todo = self._hc_open()
        audit = self.env["hc.audit.log"]
        for exc in todo:
            bill = exc._hc_bill()
            refund = self.env["account.move"]
            if bill and exc.amount > 0:
                refund = exc._hc_draft_credit_note(bill, reason)
            with trusted.engine_write():
                exc.write({"state": "waiting", "resolution": reason})
            audit._log(
                "credit_note_requested",
                exc,
                reason=reason,
                data={"exceptions": exc.ids, "credit_note": refund.id, "amount": exc.amount},
            )
            if bill:
                vendor = bill.commercial_partner_id
                bill.message_post(
                    body=self.env._(
                        "Dear %(vendor)s, please send us a credit note of %(amount)s for "
                        "invoice %(ref)s: %(reason)s",
                        vendor=vendor.name,
                        amount=exc.currency_id.format(exc.amount),
                        ref=bill.ref or bill.display_name,
                        reason=reason,
                    ),
                    partner_ids=vendor.ids,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
            exc._hc_note(
                self.env._(
                    "Credit note requested by %(user)s%(draft)s",
                    user=self.env.user.name,
                    draft=self.env._(" (draft %s)", refund.display_name) if refund else "",
                ),
                reason,
            )
        # the vendor is told (one invoice response per bill), in this transaction
        self.env["hc.outbound.document.builder"]._send_invoice_responses(
            todo, "credit_note", reason
        )

    def _hc_draft_credit_note(self, bill, reason):
        """A draft vendor credit note of the amount at stake, crediting ``bill``.

        Neither dated nor numbered by the vendor (the vendor's own credit note brings
        those), and not linked to the PO lines: it credits a price, it returns no goods.
        """
        self.ensure_one()
        lines = (
            self.env["account.move.line"]
            .browse((self.details or {}).get("line_ids") or [])
            .exists()
            & bill.invoice_line_ids
        )
        line = lines[:1]
        return (
            self.env["account.move"]
            .with_company(bill.company_id)
            .create(
                {
                    "move_type": "in_refund",
                    "partner_id": bill.partner_id.id,
                    "company_id": bill.company_id.id,
                    "currency_id": self.currency_id.id or bill.currency_id.id,
                    "reversed_entry_id": bill.id,
                    "invoice_origin": bill.ref or bill.name,
                    "narration": reason,
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "name": self.env._(
                                    "%(type)s on %(line)s",
                                    type=dict(self._fields["exception_type"].selection).get(
                                        self.exception_type
                                    ),
                                    line=line.name or bill.ref or bill.name,
                                ),
                                "product_id": line.product_id.id,
                                "quantity": 1.0,
                                "price_unit": self.amount,
                                "tax_ids": [fields.Command.set(line.tax_ids.ids)],
                            }
                        )
                    ],
                }
            )
        )

    # who works it ----------------------------------------------------------------------

    def _reassign(self, owner, queue, reason=None):
        """Give the exceptions to ``owner`` or to ``queue`` (its next member becomes the
        owner): the owner always changes with the queue, and the activity follows."""
        self._hc_check_decider()
        reason = self._hc_reason(reason, required=False)
        if not (owner or queue):
            raise UserError(self.env._("Choose the new owner or queue."))
        todo = self._hc_open()
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for exc in todo:
            new_owner = owner or self.env["hc.exception.queue"].sudo()._next_owner(queue)
            vals = {"state": "in_progress", "owner_id": new_owner.id}
            if queue:
                vals["queue_id"] = queue.id
            if reason:
                vals["resolution"] = reason
            with trusted.engine_write():
                exc.write(vals)
            if exc.activity_ids and new_owner:
                exc.activity_ids.sudo().write({"user_id": new_owner.id})
            elif new_owner and activity_type:
                exc.sudo().activity_schedule(
                    activity_type_id=activity_type.id,
                    user_id=new_owner.id,
                    date_deadline=(exc.date_deadline or fields.Datetime.now()).date(),
                    summary=exc.name[:120],
                )
            exc._hc_note(
                self.env._(
                    "Reassigned to %(owner)s%(queue)s by %(user)s",
                    owner=new_owner.name or self.env._("nobody"),
                    queue=f" ({queue.name})" if queue else "",
                    user=self.env.user.name,
                ),
                reason,
            )
        self.env["hc.audit.log"]._log(
            "exception_reassigned",
            todo[:1],
            reason=reason,
            data={
                "exceptions": todo.ids,
                "owner": owner.id,
                "queue": queue.id,
                "owners": todo.owner_id.ids,
            },
        )
