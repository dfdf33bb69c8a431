"""Outbound documents from Odoo records through the transactional outbox, delivered to
the vendor's endpoint with the exact rendered bytes, content type and signature."""

import json
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..formats import outbound as outbound_formats
from .outbound_common import OutboundCase


@tagged("post_install", "-at_install")
class TestOutboundDocuments(OutboundCase):
    def test_purchase_user_confirms_and_the_order_is_delivered_as_rendered(self):
        po = self.confirm_po()
        [document] = self.documents(po)
        self.assertEqual((document.kind, document.fmt, document.state), ("order", "json", "queued"))
        event = document.event_id
        self.assertEqual(event.endpoint_id, self.endpoint_prod, "only this vendor's channel")
        self.assertEqual(event.content_type, "application/json")
        self.assertEqual(self.deliver(), 1)
        self.assertEqual(event.state, "delivered")
        [request] = [r for r in self.receiver.requests if r["event_id"] == event.event_uuid]
        self.assertTrue(request["signature_ok"])
        self.assertEqual(request["content_type"], "application/json")
        self.assertEqual(request["event_type"], "document.order")
        self.assertEqual(request["body"], event.payload.encode(), "the exact bytes rendered")
        order = json.loads(request["body"])
        self.assertEqual(order["doc_type"], "purchase_order")
        self.assertEqual(order["number"], po.name)
        self.assertEqual(order["purpose"], "original")
        self.assertEqual(
            order["vendor"]["identifiers"][0], {"scheme": "GLN", "value": "0614141000012"}
        )
        [line] = order["lines"]
        self.assertEqual((line["quantity"], line["unit_price"], line["uom"]), ("10", "10.00", "EA"))

    def test_change_once_per_transaction_and_cancel(self):
        po = self.confirm_po()
        self.commit_hooks()
        self.assertFalse(self.documents(po, "order_change"), "the confirmation is no change")
        po.with_user(self.buyer).write(
            {
                "order_line": [
                    Command.update(po.order_line.id, {"product_qty": 12, "price_unit": 9.5})
                ]
            }
        )
        self.commit_hooks()
        [change] = self.documents(po, "order_change")
        body = json.loads(change.event_id.payload)
        self.assertEqual(body["purpose"], "change")
        self.assertEqual(
            (body["lines"][0]["quantity"], body["lines"][0]["unit_price"]), ("12", "9.50")
        )
        # writing the same values again changes nothing for the vendor
        po.order_line.with_user(self.buyer).write({"product_qty": 12})
        self.commit_hooks()
        self.assertEqual(len(self.documents(po, "order_change")), 1)
        po.with_user(self.buyer).button_cancel()
        [cancel] = self.documents(po, "order_cancel")
        self.assertEqual(json.loads(cancel.event_id.payload)["purpose"], "cancel")

    def test_vendor_without_profile_gets_nothing(self):
        self.profile.active = False
        po = self.confirm_po()
        self.assertFalse(self.documents(po))

    def test_unsupported_format_is_recorded_for_a_person_and_the_po_confirms(self):
        renderers = {k: v for k, v in outbound_formats.RENDERERS.items() if k != ("json", "order")}
        with patch.dict(outbound_formats.RENDERERS, renderers, clear=True):
            po = self.confirm_po()
        self.assertEqual(po.state, "purchase", "the business change goes on")
        [document] = self.documents(po)
        self.assertEqual(document.state, "failed")
        self.assertFalse(document.event_id)
        self.assertIn("order cannot be sent as json", document.error_message)
        exc = document.exception_id
        self.assertEqual((exc.exception_type, exc.state), ("outbound_failed", "new"))
        self.assertEqual(exc.purchase_id, po)
        # the profile is fixed (here: the renderer is back): an integration admin sends
        # it again (audited); nobody else may
        with self.assertRaises(AccessError):
            document.with_user(self.clerk).sudo().action_send_again()  # not rights: the role
        admin = self._user(
            "intadmin_a", [self.env.ref("healthcare_p2p_integration.group_hc_integration_admin")]
        )
        document.with_user(admin).action_send_again()
        self.assertTrue(
            self.env["hc.audit.log"].search(
                [("action", "=", "outbound_send_again"), ("res_id", "=", document.id)]
            )
        )
        sent = self.documents(po).filtered(lambda d: d.state == "queued")
        self.assertEqual(len(sent), 1)
        self.assertEqual(exc.state, "resolved")

    def test_segregation_checked_again_at_send(self):
        self.profile.active = False
        self.env["hc.trading.partner"].create(
            {
                "partner_id": self.vendor.id,
                "endpoint_id": self.endpoint_test.id,
                "environment": "test",
            }
        )
        po = self.confirm_po()
        [document] = self.documents(po)
        event = document.event_id
        # the endpoint is switched to production behind the constraints' back
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE hc_outbox_endpoint SET environment = 'production' WHERE id = %s",
            [self.endpoint_test.id],
        )
        self.endpoint_test.invalidate_recordset()
        seen = len(self.receiver.requests)
        self.deliver()
        self.assertEqual(event.state, "dead")
        self.assertEqual(event.error_code, "environment_mismatch")
        self.assertEqual(len(self.receiver.requests), seen, "nothing reached the endpoint")

    def test_clerk_rejects_the_bill_and_the_vendor_gets_an_invoice_response(self):
        bill = self.make_bill(self.make_po(), price=30.0)
        self.match(bill)
        exceptions = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.assertTrue(exceptions)
        self.env["hc.exception.resolve.wizard"].with_user(self.clerk).create(
            {"exception_ids": exceptions.ids, "action": "reject", "reason": "not our price"}
        ).action_confirm()
        [document] = self.documents(bill, "invoice_response")
        response = json.loads(document.event_id.payload)
        self.assertEqual(response["status"], "RE")
        self.assertEqual(response["invoice_number"], bill.ref)
        self.assertIn({"reason_code": "PRI", "text": "not our price"}, response["reasons"])
        self.assertEqual(document.event_id.endpoint_id, self.endpoint_prod)

    def test_credit_note_request_is_an_invoice_response_under_query(self):
        bill = self.make_bill(self.make_po(), price=10.5)
        self.match(bill)
        exceptions = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.env["hc.exception.resolve.wizard"].with_user(self.clerk).create(
            {"exception_ids": exceptions.ids, "action": "credit_note", "reason": "contract price"}
        ).action_confirm()
        [document] = self.documents(bill, "invoice_response")
        response = json.loads(document.event_id.payload)
        self.assertEqual(response["status"], "UQ")
        self.assertIn({"action_code": "CNA"}, response["reasons"])

    def test_clerk_pays_the_bill_and_the_vendor_gets_remittance_advice(self):
        po = self.make_po()
        bill = self.make_bill(po)
        self.assertTrue(self.match(bill).matched)
        self.assertEqual(bill.state, "posted", "a matched bill is posted and released")
        payment = (
            self.env["account.payment.register"]
            .with_user(self.clerk)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({})
            ._create_payments()
        )
        self.assertFalse(self.documents(payment), "built just before the commit")
        self.commit_hooks()
        [document] = self.documents(payment, "remittance")
        advice = json.loads(document.event_id.payload)
        self.assertEqual(advice["doc_type"], "payment")
        self.assertEqual((advice["status"], advice["amount"]), ("paid", "100.00"))
        [line] = advice["invoices"]
        self.assertEqual(line["invoice_number"], bill.ref)
        self.assertEqual((line["amount_paid"], line["po_number"]), ("100.00", po.name))
        # advised once, whatever is written on the payment later
        payment._hc_remit()
        self.commit_hooks()
        self.assertEqual(len(self.documents(payment, "remittance")), 1)
