from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from ..normalize.references import normalize_reference
from ..trust import trusted
from .hc_exception import MONITORING_TYPES

AP_CLERK_GROUP = "healthcare_p2p_integration.group_hc_ap_clerk"
AP_MANAGER_GROUP = "healthcare_p2p_integration.group_hc_ap_manager"
INTEGRATION_ADMIN_GROUP = "healthcare_p2p_integration.group_hc_integration_admin"
PAYABLE_TYPES = ("in_invoice", "in_receipt")
# Vendor documents release-to-pay applies to (when the match has a say on them).
VENDOR_BILL_TYPES = ("in_invoice", "in_refund", "in_receipt")
# The match's verdict and the release: written by the engine alone (``write``/``create``
# refuse them otherwise, see ``_hc_refuse_engine_fields``).
ENGINE_FIELDS = frozenset(
    {
        "hc_match_state",
        "hc_released",
        "hc_touchless",
        "hc_release_date",
        "hc_last_changed_by_id",
    }
)
ENGINE_FIELD_PREFIXES = ("hc_match_", "hc_stated_")
# What the match reads of a bill besides its lines: a person changing it un-releases the
# bill until it is matched again (its lines: ``account_move_line.LINE_MATCH_INPUTS``).
MATCH_INPUTS = frozenset(
    {
        "invoice_line_ids",
        "line_ids",
        "partner_id",
        "currency_id",
        "move_type",
        "company_id",
        "fiscal_position_id",
        "tax_totals",
    }
)

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

    # The duplicate check of every incoming bill (hc.processor.invoice's
    # _duplicate_findings) looks for the vendor's bills of the same reference or amount:
    # from indexes, not a scan of every bill (37 ms at 22,000 bills, growing with them)
    _hc_vendor_amount_idx = models.Index(
        "(commercial_partner_id, amount_total) WHERE move_type IN ('in_invoice', 'in_refund')"
    )
    _hc_vendor_stated_total_idx = models.Index(
        "(commercial_partner_id, hc_stated_total) WHERE hc_stated_total IS NOT NULL"
    )

    hc_message_id = fields.Many2one(
        "hc.inbox.message",
        string="Inbox message",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        readonly=True,
        help="The inbound document this bill was created from.",
    )
    hc_document_html = fields.Html(
        string="Original document",
        related="hc_message_id.document_html",
        help="The supplier's document as received, parsed: header, parties, lines, totals.",
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
    hc_release_date = fields.Datetime(string="Released on", copy=False, readonly=True)
    hc_last_changed_by_id = fields.Many2one(
        "res.users",
        string="Last changed by",
        copy=False,
        readonly=True,
        help="Who last changed the bill's lines or amounts: segregation of duties keeps "
        "them (and the creator) from accepting its variances.",
    )
    # -- one work item per bill: what still holds it, and who owns it ------------------
    hc_open_exception_ids = fields.Many2many(
        "hc.exception",
        string="What still blocks the bill",
        compute="_compute_hc_blocking",
        help="Every open exception holding the bill: it is released once all are decided.",
    )
    hc_block_reasons = fields.Char(string="Blocked by", compute="_compute_hc_blocking")
    hc_block_owner_ids = fields.Many2many(
        "res.users", string="Owners", compute="_compute_hc_blocking"
    )
    hc_blocked_days = fields.Integer(
        string="Blocked for (days)",
        compute="_compute_hc_blocking",
        help="Days since the oldest open exception of the bill was raised.",
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

    def _compute_hc_blocking(self):
        bills = self.filtered("id")
        held = bills._hc_open_exceptions() if bills else self.env["hc.exception"]
        labels = dict(held._fields["exception_type"].selection)
        now = fields.Datetime.now()
        for move in self:
            mine = held.filtered(
                lambda e, m=move: e.move_id == m or (e.res_model == m._name and e.res_id == m.id)
            ).sorted(lambda e: (e.create_date, e.id))
            # read as the user: an exception of a queue the user may not see stays hidden
            move.hc_open_exception_ids = mine.with_env(self.env)._filtered_access("read")
            move.hc_block_reasons = (
                ", ".join(dict.fromkeys(labels.get(t, t) for t in mine.mapped("exception_type")))
                or False
            )
            move.hc_block_owner_ids = mine.owner_id
            # (now is to the second, a creation date to the microsecond: never negative)
            move.hc_blocked_days = max((now - mine[0].create_date).days, 0) if mine else 0

    def action_hc_resolve_all(self):
        """Decide every open exception of the bill in one go (the resolution wizard)."""
        self.ensure_one()
        exceptions = self.hc_open_exception_ids
        if not exceptions:
            raise UserError(self.env._("Nothing holds %s.", self.display_name))
        return exceptions.action_resolve()

    def _hc_after_import(self, in_order=False, new=False):
        """Called once a supplier invoice has been applied to this draft bill: match it.

        The three-way match (PO line x received quantity x invoiced quantity and price)
        releases the bill when it is within tolerances and raises variance exceptions
        otherwise.  Called on every (re)apply of the document; matching is idempotent.

        ``in_order``: these bills were just created together, in the order their
        documents arrived: each is matched as if those after it did not exist yet.
        ``new``: created in this transaction (no earlier verdict to replace).
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
            # the blocked bills a credit note settles are not new
            fresh = bills & self if new else self.browse()
            if fresh:
                self.env["hc.three.way.match"]._match_bills(fresh, in_order=in_order, new=True)
            if bills - fresh:
                # bills matched before: a change of their verdict is tracked, even when
                # the new bills of this import are not (see _bill_create_context)
                tracked = {"mail_notrack": False}
                self.env["hc.three.way.match"].with_context(**tracked)._match_bills(
                    (bills - fresh).with_context(**tracked), in_order=in_order
                )
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

    def _hc_release(self, touchless, autopost=True):
        """Release matched (or accepted) bills for payment; post them when configured.

        A release with no human (touchless) is the match's decision; any other release
        is a person's and follows the payment threshold rule.  ``autopost=False`` when the
        bill is being posted already (a re-match before posting).
        """
        if not touchless:
            self.filtered(lambda m: not m.hc_released)._hc_check_release_allowed("release")
        for bill in self:
            was_released = bill.hc_released
            with trusted.engine_write():
                bill._hc_write_outside_lines(
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
            if autopost and bill.state == "draft" and bill.company_id.hc_autopost_matched:
                # posting is tracked, even on a bill the import has just created untracked
                bill.with_context(mail_notrack=False).action_post()

    def _hc_invalidate_match(self):
        """A person changed what the match compared (a line, a price, a quantity, a tax,
        an account, the vendor) or reset the bill to draft: the verdict no longer holds.

        The bill is un-released and back to *Not matched yet* (it cannot be paid), the
        user is its last editor (segregation of duties), and it is matched again before
        it is posted (``_post``), by *Match now* or by the nightly re-match.
        """
        bills = self.filtered(
            lambda m: (
                m.hc_match_state
                and m.state != "cancel"
                and m.move_type in ("in_invoice", "in_refund")
            )
        )
        uid = self.env.uid
        for bill in bills:
            was_released = bill.hc_released
            if (
                bill.hc_match_state == "pending"
                and not was_released
                and bill.hc_last_changed_by_id.id == uid
            ):
                continue
            with trusted.engine_write():
                bill.sudo().write(
                    {
                        "hc_match_state": "pending",
                        "hc_released": False,
                        "hc_touchless": False,
                        "hc_release_date": False,
                        "hc_last_changed_by_id": uid,
                        "hc_match_explanation": self.env._(
                            "Changed by %(user)s after the match: matched again before it "
                            "can be posted or paid.",
                            user=self.env.user.name,
                        ),
                    }
                )
            if was_released:
                self.env["hc.audit.log"]._log(
                    "bill_unreleased",
                    bill,
                    reason="changed_after_match",
                    data={"amount": bill.amount_total},
                )

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
                    # a copy of this very invoice sent again (same vendor, number and
                    # amount) made no second bill: it asks nothing of this one
                    "!",
                    ("dedup_key", "=like", "duplicate_invoice:duplicate:%"),
                ]
            )
        )

    def _hc_refuse_payment(self, bill, rule, message):
        """Audit a refused payment (the entry outlives the rollback), then raise."""
        self.env["hc.audit.log"]._log_detached(
            "payment_refused",
            bill,
            reason=rule,
            data={
                "rule": rule,
                "user": self.env.user.login,
                "amount": abs(bill.amount_total_signed),
            },
        )
        raise UserError(message)

    def _hc_check_payable(self):
        """Release to pay, the one rule every payment path applies (the payment wizard and
        button, and every reconciliation: ``account.partial.reconcile.create``).

        No vendor document is paid while its vendor (the commercial partner: a bank change
        filed on a contact counts) has a bank details change pending.  A bill the match
        has a say on (``hc_match_state`` set: it came from a supplier document) is paid
        only when released, matched again after any change, and with no open exception
        holding it.  A bill keyed in by hand (no match state) keeps Odoo's behaviour.
        """
        bills = self.sudo().filtered(lambda m: m.move_type in VENDOR_BILL_TYPES)
        if not bills:
            return
        pending = self.env["hc.bank.change.request"]._hc_pending_partners(bills.partner_id)
        if pending:
            bill = bills.filtered(lambda m: m.partner_id.commercial_partner_id in pending)[:1]
            self._hc_refuse_payment(
                bill,
                "bank_change_pending",
                self.env._(
                    "Payment refused: a change of bank details of %s awaits an AP manager's "
                    "approval (Procure-to-Pay Hub > Bank change requests).",
                    ", ".join(pending.mapped("display_name")),
                ),
            )
        # A vendor held by credentialing (exclusion match, expired credential) is not paid.
        payable = bills.filtered(lambda m: m.move_type in PAYABLE_TYPES)
        payable.partner_id._hc_check_vendor_hold(payable, "payment")
        guarded = bills.filtered("hc_match_state")
        blocked = guarded.filtered(
            lambda m: m.hc_match_state in ("blocked", "pending") or not m.hc_released
        )
        if blocked:
            self._hc_refuse_payment(
                blocked[:1],
                "not_released",
                self.env._(
                    "Payment refused: %(bills)s is not released by the three-way match "
                    "(blocked, or changed since it was matched). Resolve its exceptions "
                    "(Procure-to-Pay Hub > Exceptions) or match it again first.",
                    bills=", ".join(blocked.mapped("display_name")),
                ),
            )
        held = guarded._hc_open_exceptions()
        if held:
            bill = held.move_id[:1] or guarded.browse(held[:1].res_id)
            self._hc_refuse_payment(
                bill,
                "open_exception",
                self.env._(
                    "Payment refused: %(bill)s has open exceptions (%(names)s). Resolve them "
                    "(Procure-to-Pay Hub > Exceptions) first.",
                    bill=bill.display_name,
                    names="; ".join(held.mapped("name")),
                ),
            )

    def _hc_check_payer(self):
        """Whoever wires the interfaces does not pay what they wire: an integration
        administrator who is not also in AP (an AP clerk or manager) pays no vendor bill,
        even with Odoo's Billing rights."""
        user = self.env.user
        if not user.has_group(INTEGRATION_ADMIN_GROUP) or user.has_group(AP_CLERK_GROUP):
            return
        bills = self.filtered(lambda m: m.move_type in VENDOR_BILL_TYPES)
        for bill in bills[:1]:
            self.env["hc.audit.log"]._log_detached(
                "sod_refused",
                bill,
                reason="integration_admin_payment",
                data={
                    "rule": "integration_admin_payment",
                    "action": "register_payment",
                    "user": user.login,
                    "amount": abs(bill.amount_total_signed),
                },
            )
            raise UserError(
                self.env._(
                    "Segregation of duties: integration administrators do not pay vendor "
                    "bills (%s); an AP clerk or manager does.",
                    bill.display_name,
                )
            )

    def _hc_check_settlement(self, action="register_payment", log_approval=True):
        """Everything a payment of these documents must pass: release to pay, who pays,
        and the payment threshold (segregation of duties)."""
        bills = self.filtered(lambda m: m.move_type in VENDOR_BILL_TYPES)
        if not bills:
            return
        bills._hc_check_payable()
        bills._hc_check_payer()
        bills._hc_check_release_allowed(action, log_approval=log_approval)

    def action_register_payment(self):
        # Refused here already; the approval is audited when the payment is reconciled.
        self._hc_check_settlement("register_payment", log_approval=False)
        return super().action_register_payment()

    # -- the engine's fields, and changes after the match -------------------------------

    def _hc_trusted(self):
        """The engine or the system writes (never a client's call, whatever its context)."""
        return self.env.su or trusted.is_engine_write()

    @api.model
    def _hc_refuse_engine_fields(self, vals):
        names = sorted(
            name for name in vals if name in ENGINE_FIELDS or name.startswith(ENGINE_FIELD_PREFIXES)
        )
        if names:
            raise AccessError(
                self.env._(
                    "Only the three-way match sets %s: match the bill again, or resolve its "
                    "exceptions through the Resolve wizard.",
                    ", ".join(names),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if not self._hc_trusted():
            for vals in vals_list:
                self._hc_refuse_engine_fields(vals)
        moves = super().create(vals_list)
        if self.env.context.get("hc_log_creation_notes"):
            # the flag is for the notes of this create only (see message_post)
            moves = moves.with_context(hc_log_creation_notes=False)
        return moves

    def _get_last_sequence(self, relaxed=False, with_prefix=None):
        """Odoo's last sequence, without the query that cannot find one.

        Creating a bill computes its accounting date from the journal's last number
        (``_get_accounting_date``: ``highest_name``, then ``_get_last_sequence(relaxed=
        True)``) before the date is known, so Odoo's domain is ``WHERE FALSE`` and both
        queries return no row, twice a bill.  For the bills the import creates
        (``hc_log_creation_notes``), such a domain answers None at once; any other runs
        Odoo's own method.
        """
        if self.env.context.get("hc_log_creation_notes"):
            self.ensure_one()
            where_string, _param = self._get_last_sequence_domain(relaxed)
            if where_string.strip() == "WHERE FALSE":
                return None
        return super()._get_last_sequence(relaxed=relaxed, with_prefix=with_prefix)

    def message_post(self, **kwargs):
        """A plain note on a bill the import creates is logged, not posted.

        Odoo's purchase app notes every bill created with order lines ("This vendor bill
        has been created from: <order>") with ``message_post``: about five queries a bill
        (followers to notify, reply-to, mail aliases) to notify nobody: a note notifies
        only followers of internal notes, and a bill being created has none.  The import
        creates its bills with ``hc_log_creation_notes``: the same note, by the same
        author, is logged (one insert) and shows in the chatter as before.
        """
        if (
            self.env.context.get("hc_log_creation_notes")
            and len(self) == 1
            and set(kwargs) == {"body"}
        ):
            return self._message_log(body=kwargs["body"])
        return super().message_post(**kwargs)

    # Fields that no journal item depends on, written by the import and the match.
    def _hc_write_outside_lines(self, vals):
        """Write ``vals`` without Odoo's journal item machinery: fields outside the lines.

        The import and the match write, bill by bill, fields that no journal item depends
        on and that cannot unbalance a move: their own ``hc_`` fields and the main
        attachment (anything else is refused).  Each ``account.move.write`` otherwise
        re-sums the moves' debits and credits in SQL (``check_move_validity``), snapshots
        and re-compares every line of the bill to re-synchronise taxes, payment terms and
        amounts (``skip_invoice_sync``, as Odoo's own payment does for the fields it
        writes on its move), and marks the bill as changed by hand
        (``is_manually_modified``, which Odoo's bill auto-posting suggestion reads: the
        engine's verdict is not a person's change, ``skip_is_manually_modified``).
        Tracking, access rules and the module's own ``write`` rules still apply.
        """
        outside = {
            name for name in vals if name.startswith("hc_") or name == "message_main_attachment_id"
        }
        if outside != set(vals):
            raise ValueError(f"not fields outside the journal items: {sorted(set(vals) - outside)}")
        return self.with_context(
            check_move_validity=False, skip_invoice_sync=True, skip_is_manually_modified=True
        ).write(vals)

    def write(self, vals):
        if (
            vals == {"is_manually_modified": False}
            and self.env.context.get("hc_log_creation_notes")
            and not self.env.context.get("skip_invoice_sync")
        ):
            # The last step of Odoo's create of the import's bills: the flag is reset on
            # the new moves, once their lines are synchronised.  No journal item depends
            # on it: Odoo's snapshot and re-comparison of every line around this write
            # (about a tenth of a bill's creation) cannot find a change, and is skipped.
            return self.with_context(skip_invoice_sync=True).write(vals)
        is_trusted = self._hc_trusted()
        changes_match = bool(MATCH_INPUTS & set(vals))
        if not is_trusted:
            self._hc_refuse_engine_fields(vals)
            if "matched_payment_ids" in vals:
                # linking payments to a bill is registering them on it
                self._hc_check_settlement("register_payment", log_approval=False)
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
        if not is_trusted and changes_match:
            # the editor is the bill's last editor (segregation of duties), and a changed
            # bill is matched again before it can be posted or paid
            with trusted.engine_write():
                self.filtered(
                    lambda m: m.move_type in VENDOR_BILL_TYPES and not m.hc_match_state
                ).sudo().write({"hc_last_changed_by_id": self.env.uid})
            self._hc_invalidate_match()
        return res

    def button_draft(self):
        res = super().button_draft()
        # Back to draft, a bill may be changed: released no more until matched again.
        self._hc_invalidate_match()
        return res

    def _post(self, soft=True):
        # Non-PO vendor bills above an approval rule's amount: posted by its approver only.
        self.env["hc.approval.rule"]._hc_check_bills(self)
        stale = self.filtered(
            lambda m: (
                m.hc_match_state == "pending"
                and m.state == "draft"
                and m.move_type in ("in_invoice", "in_refund")
            )
        )
        if stale:
            # matched again (and released if it still matches) before it is posted
            self.env["hc.three.way.match"]._match_bills(stale, autopost=False)
        # What posting itself writes (dates, the lines' partner) is Odoo's, not a change of
        # the bill by a person: it does not un-release it again.
        with trusted.engine_write():
            return super()._post(soft)

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
