from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from ..models.hc_exception import DECISION_KINDS
from ..models.hc_exception import KIND_ACTIONS
from ..trust import trusted


class HcExceptionResolveWizard(models.TransientModel):
    """What an AP clerk does with an exception: one decision, a reason, the audit trail.

    Accepting a variance is the sensitive decision: a reason is required, above the
    company's threshold only an AP manager may accept, and never the person who created
    or last changed the bill (segregation of duties).  Every decision re-runs the
    three-way match of the bills concerned.

    A supplier's changes to a confirmed order (``po_ack_change``) are the buyer's
    decision, not a bill's: for those the wizard offers *Accept the supplier's changes*,
    *Keep the order as agreed* and *Reassign* instead (``ack_action``), decided by
    ``hc.exception._po_ack_decide``; the bill actions never apply to them, and they are
    decided on their own, not mixed with other exceptions.
    """

    _name = "hc.exception.resolve.wizard"
    _description = "Resolve exceptions"

    exception_ids = fields.Many2many("hc.exception", string="Exceptions", required=True)
    action = fields.Selection(
        [
            ("accept", "Accept the variance"),
            ("credit_note", "Request a credit note (draft credit note, message to the vendor)"),
            ("reject", "Reject the bill"),
            ("confirm_duplicate", "Confirm duplicate (the bill is cancelled)"),
            ("not_duplicate", "Not a duplicate (release the hold)"),
            ("ask_receiving", "Ask receiving whether the goods arrived"),
            ("wait_receipt", "Wait for the receipt"),
            ("map_item", "Map the item to a product (kept for the next documents)"),
            ("link_po_line", "Link the line to a purchase order line"),
            ("reassign", "Reassign"),
        ],
        string="What to do",
    )
    decision_kind = fields.Selection(
        DECISION_KINDS, compute="_compute_decision", string="Kind of exception"
    )
    allowed_actions = fields.Json(
        compute="_compute_decision", help="The decisions that fit the exceptions chosen."
    )
    duplicate_comparison = fields.Html(compute="_compute_decision", string="Side by side")
    bill_id = fields.Many2one("account.move", compute="_compute_decision", string="Bill")
    vendor_id = fields.Many2one("res.partner", compute="_compute_decision")
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Bill line",
        domain="[('move_id', '=', bill_id), ('display_type', '=', 'product')]",
    )
    product_id = fields.Many2one("product.product", string="Product")
    purchase_line_id = fields.Many2one(
        "purchase.order.line",
        string="Purchase order line",
        domain="[('partner_id', 'child_of', vendor_id), ('state', 'in', ('purchase', 'done')),"
        " ('display_type', '=', False)]",
    )
    ack_action = fields.Selection(
        [
            ("ack_accept", "Accept the supplier's changes (the order is updated)"),
            ("ack_reject", "Keep the order as agreed"),
            ("reassign", "Reassign"),
        ],
        string="Decision",
        default="ack_accept",
    )
    is_po_ack = fields.Boolean(compute="_compute_is_po_ack")
    reason = fields.Text()
    owner_id = fields.Many2one("res.users", string="New owner")
    queue_id = fields.Many2one("hc.exception.queue", string="New queue")
    amount = fields.Monetary(compute="_compute_amount", currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", compute="_compute_amount")
    needs_manager = fields.Boolean(compute="_compute_amount")

    @api.depends("exception_ids")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = sum(wizard.exception_ids.mapped("amount"))
            wizard.currency_id = (
                wizard.exception_ids.currency_id[:1] or self.env.company.currency_id
            )
            wizard.needs_manager = any(
                exc.amount > exc.company_id.hc_accept_threshold for exc in wizard.exception_ids
            )

    @api.depends("exception_ids")
    def _compute_decision(self):
        for wizard in self:
            exceptions = wizard.exception_ids
            kinds = set(exceptions.mapped("decision_kind"))
            wizard.decision_kind = kinds.pop() if len(kinds) == 1 else "other"
            allowed = None
            for kind in set(exceptions.mapped("decision_kind")) or {"other"}:
                actions = KIND_ACTIONS[kind]
                allowed = (
                    [a for a in allowed if a in actions] if allowed is not None else list(actions)
                )
            wizard.allowed_actions = allowed or ["reassign"]
            single = exceptions if len(exceptions) == 1 else exceptions.browse()
            wizard.duplicate_comparison = single.duplicate_comparison or False
            wizard.bill_id = single._hc_bill() if single else False
            wizard.vendor_id = wizard.bill_id.commercial_partner_id or single.partner_id

    @api.onchange("exception_ids")
    def _onchange_exception_ids(self):
        # the single line a line exception names, and nothing preselected that does not fit
        if self.action and self.action not in (self.allowed_actions or []):
            self.action = False
        if self.bill_id and not self.move_line_id:
            refs = set()
            for exc in self.exception_ids:
                refs.update((exc.details or {}).get("lines") or [])
            lines = self.bill_id.invoice_line_ids.filtered(lambda ln: ln.hc_line_ref in refs)
            if len(lines) == 1:
                self.move_line_id = lines

    @api.depends("exception_ids")
    def _compute_is_po_ack(self):
        for wizard in self:
            wizard.is_po_ack = bool(wizard.exception_ids) and all(
                exc.exception_type == "po_ack_change" for exc in wizard.exception_ids
            )

    def _refuse(self, exc, rule, error):
        """Audit a segregation-of-duties refusal (it outlives the rollback), then raise."""
        self.env["hc.audit.log"]._log_detached(
            "sod_refused",
            exc,
            reason=rule,
            data={
                "rule": rule,
                "action": "accept_variance",
                "user": self.env.user.login,
                "move": exc.move_id.id,
                "amount": exc.amount,
            },
        )
        raise AccessError(error)

    def _check_can_accept(self):
        """Who may accept these variances: the company's segregation-of-duties rules.

        * only AP clerks and managers accept (not supply chain or integration staff);
        * the author rule (company setting, on by default): not the user who created or
          last changed the bill; with the rule off, such an acceptance is audited as an
          override;
        * above the acceptance threshold (amount at stake) only an AP manager;
        * releasing a bill above the payment threshold needs an AP manager (see
          ``account.move._hc_check_release_allowed``).
        """
        user = self.env.user
        overrides = []  # logged once every rule passed: refusals are logged first
        for exc in self.exception_ids:
            if not user.has_group("healthcare_p2p_integration.group_hc_ap_clerk"):
                # Supply chain and integration staff work exceptions, they do not approve
                # what the company pays.
                self._refuse(
                    exc,
                    "ap_role",
                    self.env._("Only AP clerks and managers may accept a variance."),
                )
            bill = exc.move_id
            if bill and user in (bill.create_uid | bill.hc_last_changed_by_id):
                if exc.company_id.hc_sod_creator_cannot_accept:
                    self._refuse(
                        exc,
                        "bill_author",
                        self.env._(
                            "Segregation of duties: you created or last changed bill %s, so "
                            "someone else must accept its variance.",
                            bill.display_name,
                        ),
                    )
                overrides.append(
                    (
                        exc,
                        {
                            "rule": "bill_author",
                            "setting": "off",
                            "user": user.login,
                            "move": bill.id,
                            "amount": exc.amount,
                        },
                    )
                )
            if exc.amount > exc.company_id.hc_accept_threshold and not user.has_group(
                "healthcare_p2p_integration.group_hc_ap_manager"
            ):
                self._refuse(
                    exc,
                    "acceptance_threshold",
                    self.env._(
                        "%(amount)s is above the %(threshold)s acceptance threshold: an AP "
                        "manager must accept this variance.",
                        amount=exc.amount,
                        threshold=exc.company_id.hc_accept_threshold,
                    ),
                )
        self.exception_ids.move_id._hc_check_release_allowed("accept_variance", log_approval=False)
        for exc, data in overrides:
            self.env["hc.audit.log"]._log("sod_override", exc, reason=data["rule"], data=data)

    def action_confirm(self):
        self.ensure_one()
        exceptions = self.exception_ids.filtered(lambda e: e.state not in ("resolved", "cancelled"))
        if not exceptions:
            raise UserError(self.env._("These exceptions are already closed."))
        reason = (self.reason or "").strip()
        po_acks = exceptions.filtered(lambda e: e.exception_type == "po_ack_change")
        if po_acks and po_acks != exceptions:
            raise UserError(
                self.env._(
                    "A supplier's changes to a purchase order are decided on their own: "
                    "select only PO acknowledgment changes, or none."
                )
            )
        action = self.ack_action if po_acks else self.action
        if po_acks and action in ("ack_accept", "ack_reject"):
            exceptions._po_ack_decide(action.removeprefix("ack_"), reason)
            return self._done(action, exceptions)
        if po_acks and action != "reassign":
            raise UserError(self.env._("Choose what to do with the supplier's changes."))
        if not action:
            raise UserError(self.env._("Choose a decision."))
        if action in ("accept", "reject") and not reason:
            raise UserError(self.env._("Give a reason: it is kept in the audit trail."))
        bills = exceptions.move_id
        if action == "accept":
            self._check_can_accept()
            exceptions._resolve("accept", reason)
            exceptions._hc_note(self.env._("Variance accepted by %s", self.env.user.name), reason)
        elif action == "reject":
            exceptions._resolve("reject", reason)
            exceptions._hc_note(self.env._("Bill rejected by %s", self.env.user.name), reason)
            # the vendor is told (invoice response), in this transaction
            self.env["hc.outbound.document.builder"]._send_invoice_responses(
                exceptions, "reject", reason
            )
            for bill in bills.filtered(lambda b: b.state != "cancel"):
                if bill.state == "posted":
                    bill.button_draft()
                bill.button_cancel()
                bill.message_post(body=self.env._("Bill rejected: %s", reason))
        elif action in ("confirm_duplicate", "not_duplicate"):
            exceptions._decide_duplicate(action == "confirm_duplicate", reason)
        elif action == "ask_receiving":
            exceptions._ask_receiving(reason)
        elif action == "map_item":
            exceptions._map_item(self.move_line_id, self.product_id, reason)
        elif action == "link_po_line":
            exceptions._link_po_line(self.move_line_id, self.purchase_line_id, reason)
        elif action == "credit_note":
            exceptions._request_credit_note(reason)
        elif action == "wait_receipt":
            with trusted.engine_write():
                exceptions.write(
                    {
                        "state": "waiting",
                        "resolution": reason or self.env._("Waiting for the receipt."),
                    }
                )
            self.env["hc.audit.log"]._log(
                "wait_receipt", exceptions[:1], reason=reason, data={"exceptions": exceptions.ids}
            )
            exceptions._hc_note(
                self.env._("Waiting for the receipt (%s)", self.env.user.name), reason
            )
        elif action == "reassign":
            exceptions._reassign(self.owner_id, self.queue_id, reason)
        if bills and action in ("accept", "wait_receipt", "credit_note"):
            self.env["hc.three.way.match"]._match_bills(
                bills.filtered(lambda b: b.state != "cancel")
            )
        return self._done(action, exceptions)

    def _done(self, action, exceptions):
        """Say what the decision did (a success notification), then close the dialog:
        the form or list behind it reloads with the new state."""
        labels = dict(self._fields["action"].selection) | dict(self._fields["ack_action"].selection)
        what = self.env._(
            "%(decision)s: %(count)s exception(s).",
            decision=labels.get(action, action),
            count=len(exceptions),
        )
        bills = exceptions.move_id.filtered(lambda b: b.state != "cancel")
        released = bills.filtered("hc_released")
        still_blocked = bills - released
        notes = []
        if released:
            notes.append(
                self.env._("Released for payment: %s.", ", ".join(released.mapped("display_name")))
            )
        if still_blocked and action == "accept":
            notes.append(
                self.env._(
                    "Still blocked by other open exceptions: %s.",
                    ", ".join(still_blocked.mapped("display_name")),
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Decision recorded"),
                "message": " ".join([what, *notes]),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
