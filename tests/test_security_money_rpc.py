"""Release to pay, over Odoo's own RPC, as each role would try it (issue 14, F1-F4, F9, F13).

Every user below is created here with one role of the module and Odoo's *Billing* rights
(so that a refusal is the module's control, not a missing access right), logs in through
``/web/session/authenticate`` and calls ``/web/dataset/call_kw`` (or JSON-2 with an API
key) exactly as the web client or a script would.  Each attack is made against a bill the
three-way match blocked, above the AP manager payment threshold, and each test checks the
refusal AND that the bill is still unpaid, unreconciled and blocked.
"""

import json
from datetime import timedelta

from odoo import Command
from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged

from .security_api_common import ApiClientMixin
from .security_common import MODULE
from .security_common import CallKwMixin
from .security_common import TwoCompanyCase

BILLING = "account.group_account_invoice"
ROLE_USERS = {
    "clerk": ("group_hc_ap_clerk",),
    "manager": ("group_hc_ap_manager",),
    "intadmin": ("group_hc_integration_admin",),
    "supply": ("group_hc_supply_chain",),
    "auditor": ("group_hc_auditor",),
}


@tagged("post_install", "-at_install")
class TestMoneyOverRpc(CallKwMixin, TwoCompanyCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ApiClientMixin.ensure_encryption_key.__func__(cls)
        A = cls.company_a
        cls.env["hc.tolerance.rule"].search([("company_id", "=", A.id)]).unlink()
        cls.env["hc.tolerance.rule"].create(
            {"name": "Exact", "company_id": A.id, "qty_pct": 0, "price_pct": 0}
        )
        A.write(
            {
                "hc_accept_threshold": 500.0,
                "hc_payment_manager_threshold": 10000.0,
                "hc_sod_payment_manager": True,
                "hc_autopost_matched": False,
            }
        )
        cls.users = {}
        for login, groups in ROLE_USERS.items():
            cls.users[login] = (
                cls.env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "name": f"Money {login}",
                        "login": f"money_{login}",
                        "password": f"money_{login}_pw!",
                        "company_id": A.id,
                        "company_ids": [Command.set(A.ids)],
                        "group_ids": [
                            Command.set(
                                [cls.env.ref(f"{MODULE}.{g}").id for g in groups]
                                + [cls.env.ref(BILLING).id]
                            )
                        ],
                    }
                )
            )
        cls.journal = cls.env["account.journal"].search(
            [("company_id", "=", A.id), ("type", "=", "bank")], limit=1
        )
        # 10 x 1,100.00 = 11,000.00 billed on an order at 1,000.00: blocked, above threshold
        cls.bill, cls.exc = cls.make_blocked_bill("INV-RPC-BIG", 1100.0, 1000.0)
        cls.bill.action_post()

    # -- fixtures ---------------------------------------------------------------------------

    @classmethod
    def make_blocked_bill(cls, ref, price, po_price, qty=10):
        order = cls.make_po(cls.company_a, f"PO-{ref}", qty=qty, price=po_price)
        picking = order.picking_ids[:1]
        picking.move_ids.quantity = qty
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[]).button_validate()
        bill = cls.make_bill(cls.company_a, ref, price * qty, order)
        cls.env["hc.three.way.match"]._match_bills(bill)
        assert bill.hc_match_state == "blocked", bill.hc_match_explanation
        exc = cls.env["hc.exception"].search([("move_id", "=", bill.id), ("state", "=", "new")])
        return bill, exc

    @classmethod
    def make_released_bill(cls, ref, amount):
        """A bill imported and matched at the order's price: released (touchless)."""
        order = cls.make_po(cls.company_a, f"PO-{ref}", qty=10, price=amount / 10)
        picking = order.picking_ids[:1]
        picking.move_ids.quantity = 10
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[]).button_validate()
        bill = cls.make_bill(cls.company_a, ref, amount, order)
        cls.env["hc.three.way.match"]._match_bills(bill)
        assert bill.hc_released, bill.hc_match_explanation
        bill.action_post()
        return bill

    @staticmethod
    def payable(move):
        return move.line_ids.filtered(lambda ln: ln.account_id.account_type == "liability_payable")

    def login(self, role):
        user = self.users[role]
        self.authenticate(user.login, f"{user.login}_pw!")
        return user

    def call(self, model, method, args=(), kwargs=None, context=None):
        """``/web/dataset/call_kw`` as the web client: ``(result, None)`` or
        ``(None, error)`` with the error's class name and message."""
        ctx = {"allowed_company_ids": self.company_a.ids, **(context or {})}
        result, error = self.call_kw(model, method, args, kwargs, ctx)
        if error:
            return None, f"{error['data']['name']}: {error['data']['message']}"
        return result, None

    def ok(self, model, method, args=(), kwargs=None, context=None):
        result, error = self.call(model, method, args, kwargs, context)
        self.assertIsNone(error, f"{model}.{method} refused")
        return result

    def refused(self, model, method, args=(), kwargs=None, context=None, expect=None):
        result, error = self.call(model, method, args, kwargs, context)
        self.assertIsNotNone(error, f"{model}.{method} was allowed: {result!r}")
        if expect:
            self.assertIn(expect, error)
        return error

    def assert_still_blocked_and_unpaid(self, bill=None):
        bill = bill or self.bill
        bill.invalidate_recordset()
        self.payable(bill).invalidate_recordset()
        self.assertNotIn(bill.payment_state, ("paid", "in_payment", "partial", "reversed"))
        self.assertFalse(
            self.payable(bill).matched_debit_ids | self.payable(bill).matched_credit_ids,
            "the bill's payable line was reconciled",
        )
        self.assertFalse(bill.reconciled_payment_ids)
        self.assertEqual(bill.hc_match_state, "blocked")
        self.assertFalse(bill.hc_released)

    def posted_payment(self, amount, partner=True):
        vals = {
            "payment_type": "outbound",
            "partner_type": "supplier",
            "amount": amount,
            "journal_id": self.journal.id,
            "memo": "rpc attempt",
        }
        if partner:
            vals["partner_id"] = self.vendor.id
        [payment_id] = self.ok("account.payment", "create", [[vals]])
        self.ok("account.payment", "action_post", [[payment_id]])
        payment = self.env["account.payment"].browse(payment_id)
        return payment, self.payable(payment.move_id)

    # -- every path, every role -------------------------------------------------------------

    def test_every_payment_path_refused_for_every_role(self):
        for role in ROLE_USERS:
            with self.subTest(role=role):
                self.login(role)
                bill_line = self.payable(self.bill)
                # 1. the button and the payment wizard
                self.refused("account.move", "action_register_payment", [self.bill.ids])
                wizard_ctx = {"active_model": "account.move", "active_ids": self.bill.ids}
                wizard_id, error = self.call(
                    "account.payment.register", "create", [[{}]], context=wizard_ctx
                )
                if not error:
                    self.refused(
                        "account.payment.register",
                        "action_create_payments",
                        [wizard_id],
                        context=wizard_ctx,
                    )
                self.assert_still_blocked_and_unpaid()
                # 2. a payment posted, then assigned to the bill (outstanding "Add")
                _payment, pay_line = self.posted_payment(11000.0)
                self.refused(
                    "account.move",
                    "js_assign_outstanding_line",
                    [self.bill.ids, pay_line.id],
                    expect="not released",
                )
                self.assert_still_blocked_and_unpaid()
                # 3. reconciling journal items directly, with a payment without a partner
                _payment, anon_line = self.posted_payment(11000.0, partner=False)
                self.refused(
                    "account.move.line",
                    "reconcile",
                    [(anon_line | bill_line).ids],
                    expect="not released",
                )
                # 4. a partial reconciliation created by hand
                self.refused(
                    "account.partial.reconcile",
                    "create",
                    [
                        [
                            {
                                "debit_move_id": bill_line.id,
                                "credit_move_id": pay_line.id,
                                "amount": 11000.0,
                                "debit_amount_currency": 11000.0,
                                "credit_amount_currency": 11000.0,
                            }
                        ]
                    ],
                    expect="not released",
                )
                # 5. linking a payment to the bill (registering it without reconciling)
                self.refused(
                    "account.move",
                    "write",
                    [self.bill.ids, {"matched_payment_ids": [Command.link(_payment.id)]}],
                )
                self.assert_still_blocked_and_unpaid()

    def test_grouped_payment_of_a_released_and_a_blocked_bill(self):
        """A batch (one grouped payment for several bills) is refused as a whole."""
        released = self.make_released_bill("INV-RPC-SMALL", 900.0)
        self.login("manager")
        bills = released | self.bill
        ctx = {"active_model": "account.move", "active_ids": bills.ids}
        wizard_id = self.ok(
            "account.payment.register", "create", [[{"group_payment": True}]], context=ctx
        )
        self.refused("account.payment.register", "action_create_payments", [wizard_id], context=ctx)
        self.assert_still_blocked_and_unpaid()
        self.assertEqual(released.payment_state, "not_paid")

    def test_bank_statement_line_reconciliation_refused(self):
        statement_line = self.env["account.bank.statement.line"].create(
            {
                "journal_id": self.journal.id,
                "date": "2026-11-25",
                "payment_ref": "wire to vendor",
                "partner_id": self.vendor.id,
                "amount": -11000.0,
                "counterpart_account_id": self.payable(self.bill).account_id.id,
            }
        )
        st_payable = self.payable(statement_line.move_id)
        self.assertTrue(st_payable)
        for role in ("clerk", "manager"):
            with self.subTest(role=role):
                self.login(role)
                self.refused(
                    "account.move.line",
                    "reconcile",
                    [(st_payable | self.payable(self.bill)).ids],
                    expect="not released",
                )
                self.assert_still_blocked_and_unpaid()

    def test_json2_reconcile_refused(self):
        clerk = self.users["clerk"]
        key = (
            self.env["res.users.apikeys"]
            .with_user(clerk)
            ._generate(None, "rpc test", fields.Datetime.now() + timedelta(days=1))
        )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "outbound",
                "partner_type": "supplier",
                "partner_id": self.vendor.id,
                "amount": 11000.0,
                "journal_id": self.journal.id,
            }
        )
        payment.action_post()
        lines = self.payable(payment.move_id) | self.payable(self.bill)
        response = self.url_open(
            "/json/2/account.move.line/reconcile",
            data=json.dumps({"ids": lines.ids, "context": {"lang": "en_US"}}),
            headers={"Authorization": f"bearer {key}", "Content-Type": "application/json"},
        )
        self.assertGreaterEqual(response.status_code, 400, response.text)
        self.assertIn("not released", response.text)
        self.assert_still_blocked_and_unpaid()

    def test_another_credit_note_cannot_settle_a_blocked_bill(self):
        """A vendor credit note that is not the bill's own reversal is money owed by the
        vendor: offsetting it against a blocked bill pays that bill (F1), on every path."""
        refund = self.env["account.move"].create(
            {
                "move_type": "in_refund",
                "partner_id": self.vendor.id,
                "company_id": self.company_a.id,
                "ref": "CN-OTHER",
                "invoice_date": "2026-11-21",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Rebate", "quantity": 1, "price_unit": 11000.0, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        lines = self.payable(refund) | self.payable(self.bill)
        self.login("clerk")
        self.refused(
            "account.move",
            "js_assign_outstanding_line",
            [self.bill.ids, self.payable(refund).id],
            expect="not released",
        )
        self.refused("account.move.line", "reconcile", [lines.ids], expect="not released")
        self.assert_still_blocked_and_unpaid()
        # A full reconciliation made directly numbers items as matched: refused as well
        # (Odoo's create needs a partial to link: one of a bill paid as allowed).
        paid = self.make_released_bill("INV-RPC-PAID", 500.0)
        payment = self.env["account.payment"].create(
            {
                "payment_type": "outbound",
                "partner_type": "supplier",
                "partner_id": self.vendor.id,
                "amount": 500.0,
                "journal_id": self.journal.id,
            }
        )
        payment.action_post()
        (self.payable(payment.move_id) | self.payable(paid)).reconcile()
        partial = self.payable(paid).matched_debit_ids
        self.assertTrue(partial)
        self.refused(
            "account.full.reconcile",
            "create",
            [
                [
                    {
                        "reconciled_line_ids": [Command.set(lines.ids)],
                        "partial_reconcile_ids": [Command.set(partial.ids)],
                    }
                ]
            ],
            expect="not released",
        )
        self.assert_still_blocked_and_unpaid()
        self.assertFalse(self.payable(self.bill).full_reconcile_id)

    def test_own_credit_note_cancels_not_pays(self):
        """Positive control: reversing the blocked bill (its own credit note) cancels it;
        nothing reaches the vendor, so the release rule does not apply."""
        bill, _exc = self.make_blocked_bill("INV-RPC-REV", 1100.0, 1000.0)
        bill.action_post()
        self.login("clerk")
        ctx = {"active_model": "account.move", "active_ids": bill.ids}
        [wizard_id] = self.ok(
            "account.move.reversal",
            "create",
            [[{"reason": "wrong bill", "journal_id": bill.journal_id.id}]],
            context=ctx,
        )
        self.ok("account.move.reversal", "modify_moves", [[wizard_id]], context=ctx)
        bill.invalidate_recordset()
        self.assertEqual(bill.payment_state, "reversed")
        reversal = self.env["account.move"].search([("reversed_entry_id", "=", bill.id)])
        self.assertEqual(reversal.move_type, "in_refund")
        self.assertEqual(reversal.amount_total, bill.amount_total)
        self.assertFalse(bill.reconciled_payment_ids, "no payment, only the credit note")

    # -- match and release state are the engine's ------------------------------------------

    def test_match_state_and_release_not_writable(self):
        for role in ROLE_USERS:
            with self.subTest(role=role):
                self.login(role)
                for vals in (
                    {"hc_match_state": "matched", "hc_released": True},
                    {"hc_released": True},
                    {"hc_touchless": True, "hc_release_date": "2026-11-25 10:00:00"},
                    {"hc_match_explanation": "fine"},
                    {"hc_stated_amounts": {"total": "1.00"}},
                    {"hc_last_changed_by_id": False},
                ):
                    self.refused("account.move", "write", [self.bill.ids, vals])
                line = self.bill.invoice_line_ids[:1]
                self.refused("account.move.line", "write", [line.ids, {"hc_charge_kind": "charge"}])
                self.refused(
                    "account.move",
                    "create",
                    [
                        [
                            {
                                "move_type": "in_invoice",
                                "partner_id": self.vendor.id,
                                "hc_match_state": "matched",
                                "hc_released": True,
                            }
                        ]
                    ],
                )
                self.assert_still_blocked_and_unpaid()

    def test_exception_decisions_not_writable(self):
        for role in ROLE_USERS:
            with self.subTest(role=role):
                self.login(role)
                for vals in (
                    {"state": "resolved", "resolution_action": "accept"},
                    {"resolved_by_id": self.users["manager"].id},
                    {"amount": 50.0},
                    {"severity": "low", "exception_type": "data_quality"},
                    {"dedup_key": "x"},
                    # a client's context is no engine flag
                ):
                    self.refused("hc.exception", "write", [self.exc.ids, vals])
                self.refused(
                    "hc.exception",
                    "write",
                    [self.exc.ids, {"state": "resolved", "resolution_action": "accept"}],
                    context={"hc_no_rematch": True, "hc_engine_write": True},
                )
                # nor created already accepted, under the match's own key (AP managers may
                # create exceptions)
                self.refused(
                    "hc.exception",
                    "create",
                    [
                        [
                            {
                                "name": "forged",
                                "exception_type": self.exc.exception_type,
                                "dedup_key": self.exc.dedup_key,
                                "state": "resolved",
                                "resolution_action": "accept",
                                "move_id": self.bill.id,
                            }
                        ]
                    ],
                )
                self.ok("account.move", "action_hc_match", [self.bill.ids])
                self.assertEqual(self.exc.state, "new")
                self.assertEqual(self.exc.mapped("amount"), [1000.0])
                self.assert_still_blocked_and_unpaid()

    def test_wizard_acceptance_still_releases(self):
        """The audited path still works: an AP manager accepts, the bill is released and
        the manager pays it above the threshold."""
        self.login("clerk")
        wizard = self.ok(
            "hc.exception.resolve.wizard",
            "create",
            [[{"exception_ids": self.exc.ids, "action": "accept", "reason": "agreed"}]],
        )
        self.refused("hc.exception.resolve.wizard", "action_confirm", [wizard])
        self.assertEqual(self.exc.state, "new")
        self.login("manager")
        wizard = self.ok(
            "hc.exception.resolve.wizard",
            "create",
            [[{"exception_ids": self.exc.ids, "action": "accept", "reason": "agreed"}]],
        )
        self.ok("hc.exception.resolve.wizard", "action_confirm", [wizard])
        self.bill.invalidate_recordset()
        self.assertEqual(self.bill.hc_match_state, "accepted")
        self.assertTrue(self.bill.hc_released)
        # released, still above the threshold: not the clerk, the manager
        self.login("clerk")
        ctx = {"active_model": "account.move", "active_ids": self.bill.ids}
        self.refused(
            "account.move", "action_register_payment", [self.bill.ids], expect="AP manager"
        )
        _payment, pay_line = self.posted_payment(11000.0)
        self.refused(
            "account.move",
            "js_assign_outstanding_line",
            [self.bill.ids, pay_line.id],
            expect="AP manager",
        )
        self.assertEqual(self.bill.payment_state, "not_paid")
        self.login("manager")
        wizard_id = self.ok("account.payment.register", "create", [[{}]], context=ctx)
        self.ok("account.payment.register", "action_create_payments", [wizard_id], context=ctx)
        self.bill.invalidate_recordset()
        self.assertIn(self.bill.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.bill.hc_match_state, "accepted")
        self.assertTrue(self.bill.hc_released)
        approvals = self.env["hc.audit.log"].search(
            [("action", "=", "sod_manager_approval"), ("res_id", "=", self.bill.id)]
        )
        paid = approvals.filtered(lambda a: a.data.get("action") == "register_payment")
        self.assertEqual(len(paid), 1, approvals.mapped("data"))
        self.assertEqual(paid.user_id, self.users["manager"])

    # -- what may be paid, by whom ------------------------------------------------------

    def test_released_bill_below_threshold_paid_by_clerk_not_by_integration_admin(self):
        bill = self.make_released_bill("INV-RPC-OK", 900.0)
        ctx = {"active_model": "account.move", "active_ids": bill.ids}
        self.login("intadmin")
        self.refused("account.move", "action_register_payment", [bill.ids], expect="integration")
        _payment, pay_line = self.posted_payment(900.0)
        self.refused(
            "account.move",
            "js_assign_outstanding_line",
            [bill.ids, pay_line.id],
            expect="integration",
        )
        self.assertEqual(bill.payment_state, "not_paid")
        self.login("clerk")
        self.ok("account.move", "action_register_payment", [bill.ids])
        wizard_id = self.ok("account.payment.register", "create", [[{}]], context=ctx)
        self.ok("account.payment.register", "action_create_payments", [wizard_id], context=ctx)
        bill.invalidate_recordset()
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        self.assertEqual(bill.hc_match_state, "matched")
        self.assertTrue(bill.hc_released)

    def test_pending_bank_change_on_a_contact_blocks_the_vendor(self):
        """F9: a change filed on a contact of the vendor holds the vendor's payments."""
        bill = self.make_released_bill("INV-RPC-BANK", 230.0)
        contact = self.env["res.partner"].create(
            {"name": "Accounts dept", "parent_id": self.vendor.id, "type": "invoice"}
        )
        self.login("clerk")
        self.ok(
            "hc.bank.change.request",
            "create",
            [
                [
                    {
                        "partner_id": contact.id,
                        "mode": "add",
                        "new_acc_number": "GB29NWBK60161331926819",
                        "new_holder_name": "Mallory",
                    }
                ]
            ],
        )
        request = self.env["hc.bank.change.request"].search([], limit=1)
        self.assertEqual(request.partner_id, self.vendor)
        bill.invalidate_recordset()
        self.assertTrue(bill.hc_bank_change_pending)
        self.refused("account.move", "action_register_payment", [bill.ids], expect="bank details")
        # a payment without a partner, reconciled by hand
        _payment, anon_line = self.posted_payment(230.0, partner=False)
        self.refused(
            "account.move.line",
            "reconcile",
            [(anon_line | self.payable(bill)).ids],
            expect="bank details",
        )
        bill.invalidate_recordset()
        self.assertEqual(bill.payment_state, "not_paid")

    # -- a changed bill is matched again ---------------------------------------------------

    def test_released_bill_changed_over_rpc_is_matched_again(self):
        """F4: reset to draft, a price changed through the line, posted: re-matched,
        blocked, unpayable, and the clerk is its last editor."""
        bill = self.make_released_bill("INV-RPC-EDIT", 230.0)
        clerk = self.login("clerk")
        self.ok("account.move", "button_draft", [bill.ids])
        bill.invalidate_recordset()
        self.assertEqual(bill.hc_match_state, "pending")
        self.assertFalse(bill.hc_released)
        self.assertEqual(bill.hc_last_changed_by_id, clerk)
        line = bill.invoice_line_ids[:1]
        self.ok(
            "account.move.line",
            "write",
            [line.ids, {"price_unit": 90.0}],
            context={"hc_no_rematch": True},
        )
        self.ok("account.move", "action_post", [bill.ids], context={"hc_no_rematch": True})
        bill.invalidate_recordset()
        self.assertEqual(bill.state, "posted")
        self.assertEqual(bill.hc_match_state, "blocked")
        self.assertFalse(bill.hc_released)
        self.assertEqual(bill.hc_last_changed_by_id, clerk)
        self.refused("account.move", "action_register_payment", [bill.ids])
        exc = self.env["hc.exception"].search([("move_id", "=", bill.id), ("state", "=", "new")])
        self.assertTrue(exc)
        # the editor does not accept the variance of the bill they changed
        wizard = self.ok(
            "hc.exception.resolve.wizard",
            "create",
            [[{"exception_ids": exc.ids, "action": "accept", "reason": "fine"}]],
        )
        self.refused(
            "hc.exception.resolve.wizard",
            "action_confirm",
            [wizard],
            expect="Segregation of duties",
        )
        self.assertEqual(bill.payment_state, "not_paid")

    def test_move_write_of_lines_unreleases(self):
        bill = self.make_released_bill("INV-RPC-EDIT2", 230.0)
        self.login("clerk")
        self.ok("account.move", "button_draft", [bill.ids])
        self.ok("account.move", "action_post", [bill.ids])
        bill.invalidate_recordset()
        self.assertTrue(bill.hc_released, "unchanged: matched again and released")
        self.ok("account.move", "button_draft", [bill.ids])
        line = bill.invoice_line_ids[:1]
        self.ok(
            "account.move",
            "write",
            [bill.ids, {"invoice_line_ids": [Command.update(line.id, {"quantity": 12})]}],
            context={"hc_no_rematch": True},
        )
        bill.invalidate_recordset()
        self.assertEqual(bill.hc_match_state, "pending")
        self.refused("account.move", "action_register_payment", [bill.ids])
        self.ok("account.move", "action_hc_match", [bill.ids])
        bill.invalidate_recordset()
        self.assertEqual(bill.hc_match_state, "blocked")
