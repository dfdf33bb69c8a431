from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from ..normalize.references import normalize_reference
from .hc_exception import MONITORING_TYPES

AP_MANAGER_GROUP = "healthcare_p2p_integration.group_hc_ap_manager"
PAYABLE_TYPES = ("in_invoice", "in_receipt")

PAYMENT_STATUSES = [
    ("scheduled", "Scheduled"),
    ("hold", "On hold"),
    ("rejected", "Rejected"),
    ("paid", "Paid"),
]


class AccountMove(models.Model):
    """Vendor bills imported from supplier invoices: their source, stated totals and the
    payment status reported by the bank or treasury system."""

    _inherit = "account.move"

    hc_message_id = fields.Many2one(
        "hc.inbox.message",
        string="Inbox message",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        readonly=True,
        help="The inbound document this bill was created from.",
    )
    hc_ref_normalized = fields.Char(
        string="Normalized reference",
        compute="_compute_hc_ref_normalized",
        store=True,
        index="btree_not_null",
        help="The vendor reference reduced to its significant characters (INV-000123 -> 123): "
        "what duplicate invoice detection compares.",
    )
    hc_stated_total = fields.Monetary(
        string="Stated total",
        currency_field="currency_id",
        copy=False,
        readonly=True,
        help="Total including tax as the supplier's document states it.",
    )
    hc_stated_tax_total = fields.Monetary(
        string="Stated tax",
        currency_field="currency_id",
        copy=False,
        readonly=True,
        help="Tax total as the supplier's document states it; the bill's taxes come from the "
        "document's own tax statement, and the match compares the two.",
    )
    hc_stated_amounts = fields.Json(
        string="Stated amounts",
        copy=False,
        readonly=True,
        help="The supplier's stated untaxed amount, tax, total, prepaid and payable amounts "
        "(exact decimals): the three-way match checks the bill against them.",
    )
    hc_payment_status = fields.Selection(
        PAYMENT_STATUSES,
        string="Payment status (bank)",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="Last status the bank or treasury system reported. Accounting payments are "
        "registered by that system's reconciliation, not by this status.",
    )
    hc_payment_ref = fields.Char(string="Payment reference", copy=False, readonly=True)
    hc_payment_date = fields.Date(string="Payment status date", copy=False, readonly=True)
    hc_payment_amount = fields.Monetary(
        string="Amount remitted", currency_field="currency_id", copy=False, readonly=True
    )
    hc_payment_note = fields.Char(
        string="Payment status reason", copy=False, readonly=True, help="Why held or rejected."
    )
    hc_bank_change_pending = fields.Boolean(
        string="Vendor bank change pending",
        compute="_compute_hc_bank_change_pending",
        help="The vendor's bank details are being changed: payment is refused until an AP "
        "manager approves or rejects the change.",
    )
    hc_exception_ids = fields.Many2many(
        "hc.exception",
        string="Procure-to-pay exceptions",
        compute="_compute_hc_exception_ids",
    )
    hc_exception_count = fields.Integer(compute="_compute_hc_exception_ids")
    hc_match_state = fields.Selection(
        [
            ("pending", "Not matched yet"),
            ("matched", "Matched (touchless)"),
            ("accepted", "Released with accepted variances"),
            ("blocked", "Blocked"),
        ],
        string="Three-way match",
        copy=False,
        readonly=True,
        index="btree_not_null",
        tracking=True,
    )
    hc_match_explanation = fields.Text(string="Match verdict", copy=False, readonly=True)
    hc_match_date = fields.Datetime(string="Matched on", copy=False, readonly=True)
    hc_match_total_check = fields.Json(copy=False, readonly=True)
    hc_match_line_ids = fields.One2many(
        "hc.bill.match.line", "move_id", string="Match lines", copy=False, readonly=True
    )
    hc_released = fields.Boolean(
        string="Released for payment",
        copy=False,
        readonly=True,
        tracking=True,
        help="Matched, or its variances accepted: the bill may be paid.",
    )
    hc_touchless = fields.Boolean(
        string="Touchless",
        copy=False,
        readonly=True,
        help="Released with no human action.",
    )
    hc_release_date = fields.Datetime(copy=False, readonly=True)
    hc_last_changed_by_id = fields.Many2one(
        "res.users",
        string="Last changed by",
        copy=False,
        readonly=True,
        help="Who last changed the bill's lines or amounts: segregation of duties keeps "
        "them (and the creator) from accepting its variances.",
    )

    @api.depends("ref")
    def _compute_hc_ref_normalized(self):
        for move in self:
            move.hc_ref_normalized = normalize_reference(move.ref) or False

    def _compute_hc_exception_ids(self):
        exceptions = (
            self.env["hc.exception"]
            .sudo()
            .search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
        )
        by_move = {}
        for exc in exceptions:
            by_move.setdefault(exc.res_id, []).append(exc.id)
        for move in self:
            ids = by_move.get(move.id, [])
            move.hc_exception_ids = [fields.Command.set(ids)]
            move.hc_exception_count = len(ids)

    def _hc_after_import(self):
        """Called once a supplier invoice has been applied to this draft bill: match it.

        The three-way match (PO line x received quantity x invoiced quantity and price)
        releases the bill when it is within tolerances and raises variance exceptions
        otherwise.  Called on every (re)apply of the document; matching is idempotent.
        """
        bills = self.filtered(
            lambda m: m.move_type in ("in_invoice", "in_refund") and m.state == "draft"
        )
        # A credit note can settle the variance of a blocked bill on the same PO lines.
        credited = bills.filtered(
            lambda m: m.move_type == "in_refund"
        ).invoice_line_ids.purchase_line_id
        if credited:
            bills |= (
                self.env["account.move.line"]
                .sudo()
                .search(
                    [
                        ("purchase_line_id", "in", credited.ids),
                        ("move_id.hc_match_state", "=", "blocked"),
                    ]
                )
                .move_id
            )
        if bills:
            self.env["hc.three.way.match"]._match_bills(bills)
        return True

    def action_hc_match(self):
        """Match these bills now (button)."""
        self.env["hc.three.way.match"]._match_bills(self)
        return True

    def _hc_above_payment_threshold(self):
        """Vendor bills whose total is above their company's payment release threshold
        while the segregation-of-duties rule is on."""
        return self.filtered(
            lambda m: (
                m.move_type in PAYABLE_TYPES
                and m.company_id.hc_sod_payment_manager
                and m.company_id.currency_id.compare_amounts(
                    abs(m.amount_total_signed), m.company_id.hc_payment_manager_threshold
                )
                > 0
            )
        )

    def _hc_check_release_allowed(self, action, log_approval=True):
        """Segregation of duties: above the payment threshold only an AP manager releases.

        ``action`` (``release``, ``accept_variance``, ``register_payment``) is what the
        user attempted.  A refusal raises a ``UserError`` and is written to the audit log
        (on its own cursor, so that the entry survives the rollback); an AP manager acting
        above the threshold is an approval, audited as well.
        """
        above = self._hc_above_payment_threshold()
        if not above:
            return
        user = self.env.user
        audit = self.env["hc.audit.log"]
        if user.has_group(AP_MANAGER_GROUP):
            for bill in above if log_approval else ():
                audit._log(
                    "sod_manager_approval",
                    bill,
                    data={
                        "rule": "payment_threshold",
                        "action": action,
                        "amount": abs(bill.amount_total_signed),
                        "threshold": bill.company_id.hc_payment_manager_threshold,
                    },
                )
            return
        for bill in above:
            audit._log_detached(
                "sod_refused",
                bill,
                reason="payment_threshold",
                data={
                    "rule": "payment_threshold",
                    "action": action,
                    "user": user.login,
                    "amount": abs(bill.amount_total_signed),
                    "threshold": bill.company_id.hc_payment_manager_threshold,
                },
            )
        bill = above[0]
        raise UserError(
            self.env._(
                "Segregation of duties: %(bill)s (%(amount)s) is above the payment release "
                "threshold of %(threshold)s of %(company)s; only an AP manager may release "
                "or pay it.",
                bill=bill.display_name,
                amount=bill.company_id.currency_id.format(abs(bill.amount_total_signed)),
                threshold=bill.company_id.currency_id.format(
                    bill.company_id.hc_payment_manager_threshold
                ),
                company=bill.company_id.name,
            )
        )

    def _hc_release(self, touchless):
        """Release matched (or accepted) bills for payment; post them when configured.

        A release with no human (touchless) is the match's decision; any other release
        is a person's and follows the payment threshold rule.
        """
        if not touchless:
            self.filtered(lambda m: not m.hc_released)._hc_check_release_allowed("release")
        for bill in self:
            was_released = bill.hc_released
            bill.write(
                {
                    "hc_released": True,
                    "hc_touchless": (touchless and not was_released)
                    or (bill.hc_touchless and touchless),
                    "hc_release_date": bill.hc_release_date or fields.Datetime.now(),
                }
            )
            if not was_released:
                self.env["hc.audit.log"]._log(
                    "bill_released",
                    bill,
                    data={"touchless": touchless, "amount": bill.amount_total},
                )
            if bill.state == "draft" and bill.company_id.hc_autopost_matched:
                bill.action_post()

    @api.depends("partner_id")
    def _compute_hc_bank_change_pending(self):
        pending = self.env["hc.bank.change.request"]._hc_pending_partners(self.partner_id)
        for move in self:
            move.hc_bank_change_pending = bool(
                move.partner_id and move.partner_id.commercial_partner_id in pending
            )

    def _hc_open_exceptions(self):
        """The open exceptions raised on these bills that a person must decide before
        payment (monitoring findings, e.g. "bill waiting for its receipt", excepted)."""
        return (
            self.env["hc.exception"]
            .sudo()
            .search(
                [
                    "|",
                    ("move_id", "in", self.ids),
                    "&",
                    ("res_model", "=", "account.move"),
                    ("res_id", "in", self.ids),
                    ("state", "not in", ("resolved", "cancelled")),
                    ("exception_type", "not in", list(MONITORING_TYPES)),
                ]
            )
        )

    def _hc_check_payable(self):
        bills = self.filtered(lambda m: m.move_type in ("in_invoice", "in_refund"))
        pending = self.env["hc.bank.change.request"]._hc_pending_partners(bills.partner_id)
        if pending:
            raise UserError(
                self.env._(
                    "Payment refused: a change of bank details of %s awaits an AP manager's "
                    "approval (Procure-to-Pay Hub > Bank change requests).",
                    ", ".join(pending.mapped("display_name")),
                )
            )
        blocked = self.filtered(
            lambda m: (
                m.hc_match_state in ("blocked", "pending")
                or (m.hc_match_state and not m.hc_released)
            )
        )
        if blocked:
            raise UserError(
                self.env._(
                    "Payment refused: %(bills)s is blocked by the three-way match. Resolve its "
                    "exceptions (Procure-to-Pay Hub > Exceptions) first.",
                    bills=", ".join(blocked.mapped("display_name")),
                )
            )

    def action_register_payment(self):
        self._hc_check_payable()
        # Refused here already; the approval is audited when the payment is created.
        self._hc_check_release_allowed("register_payment", log_approval=False)
        return super().action_register_payment()

    def write(self, vals):
        if {"invoice_line_ids", "line_ids", "partner_id", "currency_id"} & set(
            vals
        ) and not self.env.su:
            vals = dict(vals, hc_last_changed_by_id=self.env.uid)
        held = self.browse()
        if vals.get("hc_match_state") == "blocked" and self.env["hc.outbox.event"]._subscribers(
            "payment.hold"
        ):
            held = self.filtered(lambda m: m.hc_match_state != "blocked")
        res = super().write(vals)
        if held:
            # outbound payment.hold: the match has just blocked these bills from payment
            self.env["hc.outbox.event"]._emit(
                "payment.hold", held, self.env["hc.outbox.payload"]._payment_hold
            )
        if {"hc_released", "hc_match_state"} & set(vals):
            return res
        if "invoice_line_ids" in vals and not self.env.context.get("hc_no_rematch"):
            # a changed bill must be matched again before it can be paid
            matched = self.filtered(lambda m: m.hc_match_state and m.state == "draft")
            if matched:
                matched.with_context(hc_no_rematch=True).write({"hc_released": False})
                self.env["hc.three.way.match"]._match_bills(matched)
        return res

    def action_hc_open_exceptions(self):
        """The procure-to-pay exceptions raised on this bill."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.exception",
            "view_mode": "list,form",
            "domain": [("id", "in", self.hc_exception_ids.ids)],
            "name": self.env._("Exceptions of %s", self.display_name),
        }

    def action_hc_open_message(self):
        """The inbound message the bill came from."""
        self.ensure_one()
        return self.hc_message_id.get_formview_action() if self.hc_message_id else False
