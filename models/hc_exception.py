from datetime import timedelta

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from ..pipeline import trusted

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
    }
)

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

    def _hc_trusted(self):
        """The engine or the system (never a client's call, whatever its context)."""
        return self.env.su or trusted.is_engine_write()

    def _hc_refuse_decision_fields(self, vals):
        names = sorted(DECISION_FIELDS & set(vals))
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
        """Open the resolution wizard on these exceptions."""
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.exception.resolve.wizard",
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Resolve"),
            "context": {"default_exception_ids": self.ids},
        }

    def action_open_document(self):
        self.ensure_one()
        if not (self.res_model and self.res_id):
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "name": self.env._("Document"),
        }
