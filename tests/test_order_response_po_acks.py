"""A PEPPOL Order Response / UBL OrderResponse(Simple) posted to ``/api/hc/v1/po-acks``
acknowledges the purchase order it answers, line by line (issue 17 item 4)."""

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase
from .generated_documents import order_response
from .generated_documents import order_response_line
from .generated_documents import order_response_simple

GLOVES = "00614141000418"
GOWNS = "00614141000425"
VENDOR = {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}]}


@tagged("post_install", "-at_install")
class TestOrderResponsePoAcks(HcCase, HttpCase):
    def setUp(self):
        super().setUp()
        self.accept([self.vendor_doc()])
        items = [
            {"gtin": gtin, "description": name, "uom": "EA", "vendor": VENDOR}
            for gtin, name in ((GLOVES, "Nitrile exam gloves, medium"), (GOWNS, "Isolation gown"))
        ]
        self.accept(items, doc_type="item")
        self.process()
        lines = [
            {
                "line_number": str(number),
                "item": {"gtin": gtin},
                "quantity": "100",
                "uom": "EA",
                "unit_price": price,
                "requested_date": "2026-03-10",
            }
            for number, gtin, price in ((1, GLOVES, "9.50"), (2, GOWNS, "4.00"))
        ]
        self.accept(
            [
                {
                    "number": "PO-1001",
                    "order_date": "2026-03-02",
                    "vendor": VENDOR,
                    "currency": self.env.company.currency_id.name,
                    "approval_status": "approved",
                    "lines": lines,
                }
            ],
            doc_type="purchase_order",
        )
        self.process()
        self.order = self.env["purchase.order"].search([("hc_source_ref", "=", "PO-1001")])
        self.assertEqual(self.order.state, "purchase")

    def post(self, body):
        response = self.url_open(
            "/api/hc/v1/po-acks",
            data=body,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/xml"},
            method="POST",
        )
        self.assertEqual(response.status_code, 202, response.text)
        message = self.Inbox.browse(response.json()["id"])
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.source_format, "ubl")
        return message

    def test_conditionally_accepted_order_response_proposes_its_changes(self):
        lines = [
            order_response_line("1", "3", quantity="80", price="9.75", promised="2026-03-14"),
            order_response_line("2", "7", quantity="0", note="discontinued"),
        ]
        self.post(order_response("PO-1001", "CA", lines))
        history = {h.line_number: h for h in self.order.hc_ack_line_ids}
        self.assertEqual({n: h.status for n, h in history.items()}, {"1": "change", "2": "reject"})
        self.assertEqual((history["1"].proposed_qty, history["1"].proposed_price), (80.0, 9.75))
        self.assertEqual(str(history["1"].proposed_date.date()), "2026-03-14")
        self.assertEqual(history["2"].proposed_qty, 0.0)
        self.assertEqual(self.order.hc_ack_state, "proposed")
        # nothing changes on the confirmed order until the buyer decides
        self.assertEqual(self.order.order_line.mapped("product_qty"), [100.0, 100.0])
        self.assertTrue(
            self.env["hc.exception"].search(
                [("exception_type", "=", "po_ack_change"), ("purchase_id", "=", self.order.id)]
            )
        )

    def test_accepted_order_response_acknowledges_the_order(self):
        self.post(order_response("PO-1001", "AP"))
        self.assertEqual(self.order.hc_ack_state, "acknowledged")
        self.assertFalse(
            self.env["hc.exception"].search(
                [("exception_type", "=", "po_ack_change"), ("purchase_id", "=", self.order.id)]
            )
        )

    def test_rejecting_order_response_simple_rejects_every_line(self):
        self.post(order_response_simple("PO-1001", False, note="no stock"))
        history = self.order.hc_ack_line_ids
        self.assertEqual(set(history.mapped("status")), {"reject"})
        self.assertEqual(len(history), 2)

    def test_order_response_on_invoices_is_refused(self):
        response = self.url_open(
            "/api/hc/v1/invoices",
            data=order_response("PO-1001", "AP"),
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/xml"},
            method="POST",
        )
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"]["code"], "unexpected_doc_type")
