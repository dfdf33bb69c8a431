"""A supplier's acknowledgment never changes a confirmed purchase order by itself.

The changes it proposes (price, quantity, date, rejected or backordered lines) wait on a
``po_ack_change`` exception for the buyer, who accepts them (the order is amended, audited)
or keeps the order as agreed; until then the three-way match compares invoices with the
order as agreed.
"""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import MatchCase

MODULE = "healthcare_p2p_integration"


@tagged("post_install", "-at_install")
class TestPoAckControl(MatchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        group = cls.env.ref
        cls.buyer = cls._user("buyer_sc", [group(f"{MODULE}.group_hc_supply_chain")])
        cls.purchase_manager = cls._user("purchase_mgr", [group("purchase.group_purchase_manager")])
        cls.receiving = cls.env.ref(f"{MODULE}.queue_receiving")

    # -- helpers ----------------------------------------------------------------------

    def confirmed_po(self, qty=10, price=5.0, receive=0, lines=1):
        po = self.make_po(qty=qty, price=price, receive=receive)
        if lines > 1:
            po.order_line = [
                Command.create(
                    {"product_id": self.product.id, "product_qty": qty, "price_unit": price}
                )
                for _n in range(lines - 1)
            ]
        for n, line in enumerate(po.order_line, start=1):
            line.hc_line_ref = str(n)
        self.assertEqual(po.state, "purchase")
        return po

    def ack(self, po, lines, number="ACK-1", status="accepted_with_changes"):
        [(message, _s)] = self.accept(
            [
                {
                    "po_number": po.name,
                    "ack_number": number,
                    "ack_date": "2026-11-02",
                    "status": status,
                    "lines": lines,
                }
            ],
            doc_type="po_ack",
        )
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        return message

    def ack_exception(self, po):
        return self.env["hc.exception"].search(
            [("exception_type", "=", "po_ack_change"), ("purchase_id", "=", po.id)]
        )

    def decide(self, exc, decision, user, reason="Checked with the supplier"):
        wizard = (
            self.env["hc.exception.resolve.wizard"]
            .with_user(user)
            .create({"exception_ids": [Command.set(exc.ids)], "ack_action": decision})
        )
        self.assertTrue(wizard.is_po_ack)
        wizard.reason = reason
        return wizard.action_confirm()

    def audit(self, action, record):
        return self.env["hc.audit.log"].search(
            [("action", "=", action), ("res_model", "=", record._name), ("res_id", "=", record.id)]
        )

    # -- what an acknowledgment proposes ------------------------------------------------

    def test_price_change_waits_for_the_buyer(self):
        po = self.confirmed_po()
        line = po.order_line
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        self.assertEqual((line.product_qty, line.price_unit), (10.0, 5.0), "order as agreed")
        self.assertEqual(po.hc_ack_state, "proposed")
        hist = po.hc_ack_line_ids
        self.assertEqual(len(hist), 1)
        self.assertEqual((hist.old_price, hist.proposed_price, hist.new_price), (5.0, 7.5, 5.0))
        self.assertEqual((hist.decision, hist.amount_change), ("pending", 25.0))
        self.assertTrue(hist.changed)
        exc = self.ack_exception(po)
        self.assertEqual(len(exc), 1)
        self.assertEqual(hist.exception_id, exc)
        self.assertEqual(exc.state, "new")
        self.assertEqual(exc.partner_id, self.vendor)
        self.assertEqual(exc.amount, 25.0, "10 x (7.50 - 5.00)")
        self.assertEqual(exc.queue_id, self.receiving)
        self.assertEqual(exc.severity, "medium")
        self.assertIn("ACK-1", exc.name)
        self.assertIn("Line 1 (Nitrile gloves): price", exc.description)
        self.assertIn("7.50", exc.description)
        [change] = exc.details["changes"]
        self.assertEqual(change["changes"], ["price"])
        self.assertEqual((change["agreed"]["price"], change["proposed"]["price"]), (5.0, 7.5))
        self.assertEqual(exc.details["net_change"], 25.0)

    def test_quantity_change_waits_for_the_buyer(self):
        po = self.confirmed_po()
        self.ack(po, [{"line_number": "1", "status": "change", "quantity": "8"}])
        self.assertEqual(po.order_line.product_qty, 10.0)
        exc = self.ack_exception(po)
        self.assertEqual(exc.amount, 10.0, "2 fewer at 5.00")
        self.assertEqual(exc.details["net_change"], -10.0)
        self.assertEqual(exc.details["changes"][0]["changes"], ["qty"])
        self.assertIn("quantity 10 → 8", exc.description)
        self.assertEqual(po.hc_ack_line_ids.proposed_qty, 8.0)

    def test_rejected_and_backordered_lines_are_exceptions(self):
        po = self.confirmed_po(qty=4, lines=3)
        self.ack(
            po,
            [
                {"line_number": "1", "status": "accept", "quantity": "4"},
                {"line_number": "2", "status": "reject", "quantity": "0", "reason": "IR"},
                {"line_number": "3", "status": "backorder", "scheduled_date": "2027-02-01"},
            ],
        )
        self.assertEqual(po.order_line.mapped("product_qty"), [4.0, 4.0, 4.0], "nothing zeroed")
        exc = self.ack_exception(po)
        self.assertEqual(len(exc), 1, "one exception per acknowledgment")
        self.assertEqual(exc.severity, "high")
        self.assertEqual(exc.amount, 20.0, "the rejected line's 4 x 5.00")
        by_line = {h.line_number: h for h in po.hc_ack_line_ids}
        self.assertEqual(by_line["1"].decision, "none")
        self.assertEqual((by_line["2"].decision, by_line["2"].proposed_qty), ("pending", 0.0))
        self.assertEqual(by_line["3"].decision, "pending")
        self.assertEqual(
            {c["line"]: c["status"] for c in exc.details["changes"]},
            {"2": "reject", "3": "backorder"},
        )
        self.assertIn("rejected by the supplier", exc.description)
        self.assertIn("backordered", exc.description)
        self.assertNotIn("Line 1 ", exc.description)
        # the buyer accepts: the rejected line goes to zero, the backorder's date moves
        self.decide(exc, "ack_accept", self.buyer)
        lines = po.order_line.sorted("hc_line_ref")
        self.assertEqual(lines.mapped("product_qty"), [4.0, 0.0, 4.0])
        self.assertEqual(str(lines[2].date_planned.date()), "2027-02-01")
        self.assertEqual(po.hc_ack_state, "changed")

    def test_date_change_waits_for_the_buyer(self):
        po = self.confirmed_po()
        agreed = po.order_line.date_planned
        self.ack(po, [{"line_number": "1", "status": "change", "scheduled_date": "2027-01-15"}])
        self.assertEqual(po.order_line.date_planned, agreed)
        exc = self.ack_exception(po)
        self.assertEqual(exc.amount, 0.0, "a later date moves no money")
        self.assertEqual(exc.details["changes"][0]["changes"], ["date"])
        self.assertEqual(exc.details["changes"][0]["proposed"]["date"], "2027-01-15")
        self.assertIn("date ", exc.description)

    def test_whole_order_rejected_without_lines(self):
        po = self.confirmed_po(qty=4, lines=2)
        self.ack(po, [], status="rejected")
        self.assertEqual(po.order_line.mapped("product_qty"), [4.0, 4.0])
        exc = self.ack_exception(po)
        self.assertEqual(exc.amount, 40.0, "the whole order's value")
        self.assertEqual(exc.severity, "high")
        self.assertEqual(
            sorted((c["line"], c["status"]) for c in exc.details["changes"]),
            [("1", "reject"), ("2", "reject")],
        )
        exc.with_user(self.buyer)._po_ack_decide("accept", "Sourced elsewhere")
        self.assertEqual(po.order_line.mapped("product_qty"), [0.0, 0.0])
        self.assertEqual(po.hc_ack_state, "rejected")

    def test_line_not_on_the_order_is_shown_not_applied(self):
        po = self.confirmed_po()
        self.ack(
            po,
            [
                {"line_number": "1", "status": "accept", "quantity": "10"},
                {"line_number": "9", "status": "change", "quantity": "5", "unit_price": "3"},
            ],
        )
        exc = self.ack_exception(po)
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.amount, 0.0)
        self.assertIn("Line 9: not on the order", exc.description)
        self.assertEqual(po.hc_ack_state, "acknowledged", "no change proposed to the order")
        exc.with_user(self.buyer)._po_ack_decide("accept", "Their line 9 is a typo")
        self.assertEqual(len(po.order_line), 1)
        self.assertEqual((po.order_line.product_qty, po.order_line.price_unit), (10.0, 5.0))
        self.assertEqual(po.hc_ack_state, "acknowledged")
        self.assertEqual(exc.state, "resolved")

    def test_ack_without_change_raises_nothing(self):
        po = self.confirmed_po()
        agreed = po.order_line.date_planned
        self.ack(
            po,
            [
                {
                    "line_number": "1",
                    "status": "accept",
                    "quantity": "10",
                    "unit_price": "5.00",
                    "scheduled_date": str(agreed.date()),
                }
            ],
            status="accepted",
        )
        self.assertFalse(self.ack_exception(po))
        self.assertEqual(po.hc_ack_state, "acknowledged")
        self.assertEqual(po.hc_ack_line_ids.decision, "none")
        self.assertFalse(po.hc_ack_line_ids.changed)

    def test_rfq_takes_the_supplier_values(self):
        po = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_qty": 10,
                            "price_unit": 5.0,
                            "hc_line_ref": "1",
                        }
                    )
                ],
            }
        )
        self.assertEqual(po.state, "draft")
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        self.assertEqual(po.order_line.price_unit, 7.5, "a quotation is still negotiated")
        self.assertFalse(self.ack_exception(po))
        self.assertEqual(po.hc_ack_state, "changed")
        self.assertEqual(
            (po.hc_ack_line_ids.decision, po.hc_ack_line_ids.new_price), ("applied", 7.5)
        )

    def test_replay_duplicates_nothing(self):
        po = self.confirmed_po()
        message = self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        exc = self.ack_exception(po)
        message._replay("idempotency check")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.ack_exception(po), exc)
        self.assertEqual(len(po.hc_ack_line_ids), 1)
        # decided, then replayed again: still nothing new, the order keeps the decision
        self.decide(exc, "ack_reject", self.buyer)
        message._replay("after the decision")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.ack_exception(po), exc)
        self.assertEqual(po.order_line.price_unit, 5.0)
        # the same acknowledgment posted again (another message) is the same business key
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        self.assertEqual(self.ack_exception(po), exc)
        self.assertEqual(len(po.hc_ack_line_ids), 1)

    # -- the buyer's decision -------------------------------------------------------------

    def test_supply_chain_user_accepts_the_changes(self):
        po = self.confirmed_po()
        self.ack(
            po,
            [
                {
                    "line_number": "1",
                    "status": "change",
                    "quantity": "12",
                    "unit_price": "7.50",
                    "scheduled_date": "2027-01-15",
                }
            ],
        )
        exc = self.ack_exception(po)
        self.assertFalse(self.buyer.has_group(f"{MODULE}.group_hc_ap_clerk"))
        # the role brings the buyer's Odoo rights (Purchase user), not purchase management
        self.assertTrue(self.buyer.has_group("purchase.group_purchase_user"))
        self.assertFalse(self.buyer.has_group("purchase.group_purchase_manager"))
        action = exc.with_user(self.buyer).action_po_ack_accept()
        self.assertEqual(action["context"]["default_ack_action"], "ack_accept")
        self.decide(exc, "ack_accept", self.buyer, reason="Raw material surcharge agreed")
        line = po.order_line
        self.assertEqual((line.product_qty, line.price_unit), (12.0, 7.5))
        self.assertEqual(str(line.date_planned.date()), "2027-01-15")
        self.assertEqual(exc.state, "resolved")
        self.assertEqual(exc.resolution_action, "ack_accept")
        self.assertEqual(exc.resolved_by_id, self.buyer)
        hist = po.hc_ack_line_ids
        self.assertEqual((hist.decision, hist.new_qty, hist.new_price), ("accepted", 12.0, 7.5))
        self.assertEqual(po.hc_ack_state, "changed")
        entry = self.audit("po_ack_changes_accepted", po)
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.user_id, self.buyer)
        self.assertEqual(entry.reason, "Raw material surcharge agreed")
        self.assertEqual(entry.data["lines"][0]["proposed"][:2], [12.0, 7.5])
        self.assertEqual(len(self.audit("exception_ack_accept", exc)), 1)
        self.assertIn("accepted by buyer_sc", po.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "already closed"):
            exc.with_user(self.buyer)._po_ack_decide("reject", "changed my mind")

    def test_purchase_manager_may_decide_on_a_locked_order(self):
        po = self.confirmed_po()
        po.button_lock()
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "5.25"}])
        exc = self.ack_exception(po)
        exc.with_user(self.purchase_manager)._po_ack_decide("accept", "Index clause")
        self.assertEqual(po.order_line.price_unit, 5.25)
        self.assertEqual(exc.resolved_by_id, self.purchase_manager)
        self.assertTrue(po.locked, "locked again after the change")

    def test_ap_clerk_may_not_decide(self):
        po = self.confirmed_po()
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        exc = self.ack_exception(po)
        with self.assertRaisesRegex(UserError, "supply chain users and purchase managers"):
            self.decide(exc, "ack_accept", self.clerk)
        with self.assertRaisesRegex(UserError, "supply chain users and purchase managers"):
            exc.with_user(self.clerk)._po_ack_decide("accept", "looks fine")
        with self.assertRaisesRegex(UserError, "supply chain users and purchase managers"):
            exc.with_user(self.manager).action_po_ack_accept()
        self.assertEqual(po.order_line.price_unit, 5.0)
        self.assertEqual(exc.state, "new")
        refusals = self.audit("sod_refused", exc)
        self.assertTrue(refusals)
        self.assertEqual(refusals[0].data["rule"], "po_ack_buyer")
        # and the clerk's variance acceptance does not apply a PO acknowledgment either
        wizard = (
            self.env["hc.exception.resolve.wizard"]
            .with_user(self.clerk)
            .create({"exception_ids": [Command.set(exc.ids)], "action": "accept", "reason": "x"})
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertEqual(po.order_line.price_unit, 5.0)

    def test_buyer_of_another_facility_may_not_decide(self):
        po = self.confirmed_po()
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        exc = self.ack_exception(po)
        facility_b = self.env["res.company"].create({"name": "Facility B"})
        buyer_b = self.env["res.users"].create(
            {
                "name": "buyer_b",
                "login": "buyer_b",
                "company_id": facility_b.id,
                "company_ids": [Command.set(facility_b.ids)],
                "group_ids": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref(f"{MODULE}.group_hc_supply_chain").id,
                        ]
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            exc.with_user(buyer_b)._po_ack_decide("accept", "not mine")
        self.assertEqual(po.order_line.price_unit, 5.0)
        self.assertEqual(exc.state, "new")

    def test_reject_keeps_the_order_and_its_bill(self):
        po = self.confirmed_po(receive=10)
        bill = self.make_bill(po, price=5.0)
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        exc = self.ack_exception(po)
        self.decide(exc, "ack_reject", self.buyer, reason="Contract price holds until 2027")
        self.assertEqual(po.order_line.price_unit, 5.0)
        self.assertEqual(exc.state, "resolved")
        self.assertEqual(exc.resolution_action, "ack_reject")
        self.assertEqual(po.hc_ack_line_ids.decision, "refused")
        self.assertEqual(po.hc_ack_state, "refused")
        self.assertNotEqual(bill.state, "cancel", "rejecting the changes is not rejecting a bill")
        self.assertEqual(len(self.audit("po_ack_changes_refused", po)), 1)
        self.assertEqual(len(self.audit("exception_ack_reject", exc)), 1)

    def test_wizard_does_not_mix_acknowledgments_with_bill_exceptions(self):
        po = self.confirmed_po(receive=10)
        bill = self.make_bill(po, price=6.0)
        self.match(bill)
        variance = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.assertTrue(variance)
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        exc = self.ack_exception(po)
        wizard = (
            self.env["hc.exception.resolve.wizard"]
            .with_user(self.buyer)
            .create(
                {
                    "exception_ids": [Command.set((exc | variance).ids)],
                    "action": "reject",
                    "reason": "x",
                }
            )
        )
        self.assertFalse(wizard.is_po_ack)
        with self.assertRaisesRegex(UserError, "decided on their own"):
            wizard.action_confirm()
        self.assertNotEqual(bill.state, "cancel")

    # -- the match compares with the order as agreed ------------------------------------

    def test_raised_price_blocks_the_invoice_until_the_buyer_accepts(self):
        """5.00 -> 7.50 by acknowledgment: the 7.50 invoice is a price variance (not
        released) until the buyer accepts the change; then it is matched and released."""
        po = self.confirmed_po(receive=10)
        self.ack(po, [{"line_number": "1", "status": "change", "unit_price": "7.50"}])
        bill = self.make_bill(po, price=7.5)
        self.match(bill)
        self.assertEqual(bill.hc_match_state, "blocked")
        self.assertFalse(bill.hc_released)
        variance = self.env["hc.exception"].search(
            [("move_id", "=", bill.id), ("state", "not in", ("resolved", "cancelled"))]
        )
        self.assertEqual(variance.mapped("exception_type"), ["price_variance"])
        self.decide(self.ack_exception(po), "ack_accept", self.buyer)
        # the buyer's acceptance re-matched the bill blocked on that line
        self.assertEqual(bill.hc_match_state, "matched")
        self.assertTrue(bill.hc_released)
        self.assertEqual(variance.state, "resolved")
        self.assertEqual(variance.resolution_action, "auto")
        self.match(bill)
        self.assertEqual(bill.hc_match_state, "matched")
