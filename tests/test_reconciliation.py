from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .test_three_way_match import MatchCase

OPEN = ("resolved", "cancelled")


@tagged("post_install", "-at_install")
class TestReconciliation(MatchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["hc.reconciliation.rule"]
        cls.Exc = cls.env["hc.exception"]

    def rule(self, code):
        return self.Rule.search([("code", "=", code), ("company_id", "=", False)])

    def findings(self, code, **extra):
        domain = [("dedup_key", "=like", f"recon:{code}:%")]
        domain += [(k, "=", v) for k, v in extra.items()]
        return self.Exc.search(domain)

    def open_findings(self, code):
        return self.findings(code).filtered(lambda e: e.state not in OPEN)

    def age(self, table, column, record, **delta):
        """Move a timestamp into the past (what waiting days would do)."""
        self.env.flush_all()
        self.env.cr.execute(
            f"UPDATE {table} SET {column} = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(**delta), tuple(record.ids)],
        )
        record.invalidate_recordset()

    # -- the framework -------------------------------------------------------------

    def test_every_rule_has_a_cron_and_a_method(self):
        rules = self.Rule.search([("company_id", "=", False)])
        codes = set(rules.mapped("code"))
        self.assertEqual(
            codes,
            {code for code, _label in self.Rule._fields["code"].selection},
            "one default rule per check",
        )
        for rule in rules:
            self.assertTrue(rule.cron_id, f"{rule.code} has a cron")
            self.assertTrue(hasattr(rule, f"_find_{rule.code}"))
        self.assertEqual(
            self.env.ref("healthcare_p2p_integration.ir_cron_hc_rematch_open_bills").code,
            "model._cron_run('rematch_open_bills')",
            "the existing re-match cron runs through the framework",
        )

    def test_run_now_needs_an_integration_admin(self):
        with self.assertRaises(UserError):
            self.rule("receipt_unbilled").with_user(self.clerk).action_run_now()

    def test_a_rule_already_running_elsewhere_is_skipped(self):
        rule = self.rule("receipt_unbilled")
        po = self.make_po()
        self.age("stock_picking", "date_done", po.picking_ids, days=20)
        with self.env.registry.cursor() as other:
            other.execute("SELECT pg_advisory_lock(727311, %s)", [rule.id])
            self.assertFalse(rule._run(), "another worker holds the rule: skipped")
            other.execute("SELECT pg_advisory_unlock(727311, %s)", [rule.id])
        self.assertFalse(self.findings("receipt_unbilled"))
        self.assertTrue(rule._run())
        self.assertEqual(len(self.open_findings("receipt_unbilled")), 1)

    def test_stuck_timeout_cannot_be_shorter_than_five_minutes(self):
        with self.assertRaises(ValidationError):
            self.rule("stuck_processing").write({"threshold": 1, "threshold_unit": "minutes"})

    # -- receipts without bills -----------------------------------------------------

    def test_receipt_without_bill_is_found_once_then_resolved_by_the_bill(self):
        rule = self.rule("receipt_unbilled")
        rule.threshold = 14
        po = self.make_po()
        picking = po.picking_ids
        recent = self.make_po()
        rule.action_run_now()
        self.assertFalse(self.findings("receipt_unbilled"), "received today: not yet a finding")
        self.age("stock_picking", "date_done", picking, days=20)
        rule.action_run_now()
        found = self.open_findings("receipt_unbilled")
        self.assertEqual(len(found), 1)
        self.assertEqual(found.picking_id, picking)
        self.assertEqual(found.exception_type, "receipt_not_billed")
        self.assertEqual(found.queue_id, self.env.ref("healthcare_p2p_integration.queue_ap_match"))
        self.assertEqual(found.owner_id, self.clerk_b, "routed to the team, with an owner")
        self.assertTrue(found.activity_ids, "the owner gets an activity")
        self.assertAlmostEqual(found.amount, 100.0)
        self.assertEqual((rule.last_run_found, rule.last_run_opened), (1, 1))
        self.assertEqual(rule.open_finding_count, 1)
        self.assertNotIn(recent.picking_ids, self.findings("receipt_unbilled").picking_id)
        # re-run: nothing new, no duplicate
        rule.action_run_now()
        self.assertEqual(self.findings("receipt_unbilled"), found)
        self.assertEqual((rule.last_run_found, rule.last_run_opened), (1, 0))
        # the supplier's invoice arrives: the next run closes the finding by itself
        self.make_bill(po)
        rule.action_run_now()
        self.assertEqual(found.state, "resolved")
        self.assertEqual(found.resolution_action, "auto")
        self.assertEqual(rule.last_run_resolved, 1)
        rule.action_run_now()
        self.assertEqual(len(self.findings("receipt_unbilled")), 1, "no new finding")

    def test_a_finding_accepted_by_a_person_is_not_raised_again(self):
        rule = self.rule("receipt_unbilled")
        po = self.make_po()
        self.age("stock_picking", "date_done", po.picking_ids, days=30)
        rule.action_run_now()
        found = self.open_findings("receipt_unbilled")
        found._resolve("accept", "Free samples: the supplier never bills them")
        rule.action_run_now()
        self.assertEqual(self.findings("receipt_unbilled"), found)

    def test_company_rule_overrides_the_default(self):
        po = self.make_po()
        self.age("stock_picking", "date_done", po.picking_ids, days=20)
        own = self.Rule.create(
            {
                "name": "Receipts without a bill (this hospital)",
                "code": "receipt_unbilled",
                "company_id": self.company.id,
                "threshold": 30,
                "threshold_unit": "days",
            }
        )
        default = self.rule("receipt_unbilled")
        self.assertNotIn(self.company, default._companies())
        default._cron_run("receipt_unbilled")
        self.assertFalse(self.findings("receipt_unbilled"), "30 days here, not 14")
        own.threshold = 10
        default._cron_run("receipt_unbilled")
        self.assertEqual(len(self.open_findings("receipt_unbilled")), 1)

    # -- bills waiting for their receipt --------------------------------------------

    def test_bill_waiting_for_receipt_escalates_then_clears_on_receipt(self):
        rule = self.rule("bill_awaiting_receipt")
        po = self.make_po(receive=0)
        bill = self.make_bill(po)
        self.match(bill)
        missing = self.Exc.search([("move_id", "=", bill.id)])
        self.assertEqual(missing.exception_type, "missing_receipt")
        rule.action_run_now()
        self.assertFalse(self.findings("bill_awaiting_receipt"), "blocked today only")
        self.age("hc_exception", "create_date", missing, days=6)
        rule.action_run_now()
        found = self.open_findings("bill_awaiting_receipt")
        self.assertEqual(len(found), 1)
        self.assertEqual(found.exception_type, "receipt_overdue")
        self.assertEqual(found.move_id, bill)
        self.assertEqual(found.queue_id, self.env.ref("healthcare_p2p_integration.queue_receiving"))
        self.receive(po, 10)
        self.assertEqual(bill.hc_match_state, "matched")
        rule.action_run_now()
        self.assertEqual(found.state, "resolved")

    # -- purchase orders not acknowledged ------------------------------------------

    def test_unacknowledged_sourcing_po_is_found_and_cleared_by_the_ack(self):
        rule = self.rule("po_unacknowledged")
        sourced = self.make_po(receive=0)
        sourced.write({"hc_source_ref": "SRC-PO-1"})
        native = self.make_po(receive=0)  # vendor never acknowledged anything: not chased
        self.age("purchase_order", "date_approve", sourced | native, hours=72)
        rule.action_run_now()
        found = self.open_findings("po_unacknowledged")
        self.assertEqual(found.purchase_id, sourced)
        self.assertEqual(found.exception_type, "po_not_acknowledged")
        # once the vendor acknowledges an order, its other orders are chased too
        sourced.write({"hc_ack_state": "acknowledged"})
        rule.action_run_now()
        self.assertEqual(found.state, "resolved")
        self.assertEqual(self.open_findings("po_unacknowledged").purchase_id, native)

    # -- messages stuck in processing, lanes without workers ------------------------

    def test_stuck_messages_are_requeued_on_every_lane_and_poison_goes_dead(self):
        rule = self.rule("stuck_processing")
        docs = [self.vendor_doc(gln=g) for g in ("0614141000012", "0614141000029")]
        messages = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        fresh = self.Inbox.browse(self.accept([self.vendor_doc(name="Fresh")])[0][0].id)
        (messages | fresh).write({"state": "processing", "attempts": 1})
        self.age("hc_inbox_message", "started_at", messages, hours=1)
        self.age("hc_inbox_message", "started_at", fresh, minutes=1)
        messages[1].write({"attempts": self.connector.max_attempts})
        # the bulk lane's workers are dead: only the reconciliation can give them back
        self.lane_bulk.cron_ids.write({"active": False})
        rule.action_run_now()
        self.assertEqual(messages[0].state, "received", "requeued, never lost")
        self.assertEqual(messages[0].attempts, 1, "its attempt is kept")
        self.assertEqual(messages[1].state, "dead")
        self.assertEqual(messages[1].error_code, "worker_died")
        self.assertEqual(fresh.state, "processing", "a live worker's message is left alone")
        self.assertEqual(rule.last_run_repaired, 2)
        stalled = self.open_findings("stuck_processing")
        self.assertEqual(len(stalled), 1)
        self.assertEqual(stalled.exception_type, "lane_stalled")
        self.assertEqual(
            stalled.queue_id, self.env.ref("healthcare_p2p_integration.queue_integration")
        )
        rule.action_run_now()
        self.assertEqual(len(self.findings("stuck_processing")), 1, "no duplicate")
        self.lane_bulk.with_context(active_test=False).cron_ids.write({"active": True})
        rule.action_run_now()
        self.assertEqual(stalled.state, "resolved")
        self.process(self.lane_bulk)
        self.assertEqual(messages[0].state, "done")

    # -- messages waiting for a prerequisite ----------------------------------------

    def test_waiting_too_long_escalates_once_per_prerequisite_and_messages_stay(self):
        rule = self.rule("waiting_too_long")
        msgs = self.Inbox.browse([m.id for m, _s in self.accept([{"a": 1}, {"a": 2}, {"a": 3}])])
        msgs.write({"state": "waiting", "waiting_key": "vendor:GLN:0614141999996"})
        msgs[2].write({"waiting_key": "po:PO-77"})
        self.age("hc_inbox_message", "received_at", msgs[:2], hours=30)
        self.age("hc_inbox_message", "received_at", msgs[2], hours=1)
        rule.action_run_now()
        found = self.open_findings("waiting_too_long")
        self.assertEqual(len(found), 1, "one finding for the two messages of one key")
        self.assertEqual(found.exception_type, "message_waiting")
        self.assertEqual(found.message_id, msgs[0])
        self.assertEqual(found.details["message_ids"], msgs[:2].ids)
        self.assertEqual(set(msgs.mapped("state")), {"waiting"}, "the messages stay waiting")
        rule.action_run_now()
        self.assertEqual(self.findings("waiting_too_long"), found)
        msgs[:2].write({"state": "done", "waiting_key": False})
        rule.action_run_now()
        self.assertEqual(found.state, "resolved")

    # -- payment status gaps ---------------------------------------------------------

    def test_released_bill_without_payment_status(self):
        rule = self.rule("payment_status_gap")
        bill = self.make_bill(self.make_po())
        self.match(bill)
        self.assertEqual(bill.state, "posted")
        rule.action_run_now()
        self.assertFalse(self.findings("payment_status_gap"))
        self.age("account_move", "hc_release_date", bill, days=11)
        rule.action_run_now()
        found = self.open_findings("payment_status_gap")
        self.assertEqual(found.move_id, bill)
        self.assertEqual(found.exception_type, "payment_status_gap")
        bill.write({"hc_payment_status": "scheduled"})
        rule.action_run_now()
        self.assertEqual(found.state, "resolved")
        # released but left in draft (no automatic posting): a gap too
        self.company.hc_autopost_matched = False
        draft = self.make_bill(self.make_po())
        self.match(draft)
        self.assertEqual((draft.state, draft.hc_released), ("draft", True))
        self.age("account_move", "hc_release_date", draft, days=11)
        rule.action_run_now()
        self.assertEqual(self.open_findings("payment_status_gap").move_id, draft)

    # -- the re-match, in the same framework -----------------------------------------

    def test_rematch_rule_releases_bills_after_a_tolerance_change(self):
        rule = self.rule("rematch_open_bills")
        bill = self.make_bill(self.make_po(), price=10.3)
        self.match(bill)
        self.assertEqual(bill.hc_match_state, "blocked")
        self.company_rule.write({"price_pct": 5.0, "total_pct": 5.0})
        rule.action_run_now()
        self.assertEqual(bill.hc_match_state, "matched")
        self.assertGreaterEqual(rule.last_run_repaired, 1)
        self.assertFalse(
            self.Exc.search([("move_id", "=", bill.id), ("state", "not in", OPEN)]),
            "the match closed its own exception",
        )
