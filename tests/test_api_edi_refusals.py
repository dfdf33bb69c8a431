"""The API refuses at once what an endpoint will never process (issue 17 item 3).

An X12 set of another type is rejected in the 997/999 (AK5 ``R*1``) and not stored; an
interchange whose envelope is broken is answered by a TA1; a cXML request the endpoint
does not process, and a cXML Response, are 400 with a stable code; nothing is stored for
any of them, so nothing dies later in a worker.
"""

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase
from .samples import read_sample
from .test_api import X12_850
from .test_api import x12_interchange

CXML_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">\n'
    b'<cXML payloadID="9@supplier.example" timestamp="2026-12-06T09:30:00+00:00">'
)


@tagged("post_install", "-at_install")
class TestApiEdiRefusals(HcCase, HttpCase):
    def post(self, endpoint, body, content_type):
        return self.url_open(
            f"/api/hc/v1/{endpoint}",
            data=body,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": content_type},
            method="POST",
        )

    def stored(self):
        return self.Inbox.search_count([("connector_id", "=", self.connector.id)])

    def test_x12_set_of_another_type_is_rejected_in_the_997_and_not_stored(self):
        sets = [[s.format(n=n) for s in X12_850] for n in (41, 42)]
        # the second set becomes an 832 price catalog: not a purchase order
        payload = x12_interchange(sets).replace(b"ST*850*0002", b"ST*832*0002")
        before = self.stored()
        response = self.post("purchase-orders", payload, "application/edi-x12")
        self.assertEqual(response.status_code, 202, response.text)
        body = response.json()
        self.assertEqual(body["counts"]["created"], 1)
        self.assertEqual(body["counts"]["rejected"], 1)
        rejected = body["results"][1]
        self.assertEqual(rejected["status"], "rejected")
        self.assertEqual(rejected["error"]["fields"][0]["code"], "x12_set_not_supported")
        self.assertIn("AK2*850*0001~\nAK5*A~", body["functional_ack"].replace("~", "~\n"))
        self.assertIn("AK2*832*0002~AK5*R*1~", body["functional_ack"])
        self.assertIn("AK9*P*2*2*1~", body["functional_ack"])
        self.assertIsNone(body["interchange_ack"])
        self.assertEqual(self.stored(), before + 1, "only the 850 is stored")

    def test_real_810_on_purchase_orders_is_422_with_its_997(self):
        payload = read_sample("x12_810a_edinet.edi")
        before = self.stored()
        response = self.post("purchase-orders", payload, "application/edi-x12")
        self.assertEqual(response.status_code, 422, response.text)
        body = response.json()
        self.assertEqual(body["error"]["code"], "invalid_document")
        self.assertEqual(body["error"]["fields"][0]["code"], "x12_set_not_supported")
        self.assertIn("AK5*R*1~", body["functional_ack"])
        self.assertIn("AK9*R*1*1*0~", body["functional_ack"])
        self.assertEqual(self.stored(), before)

    def test_broken_interchange_envelope_is_400_with_a_ta1(self):
        sets = [[s.format(n=43) for s in X12_850]]
        payload = x12_interchange(sets).replace(b"IEA*1*000000101", b"IEA*1*000000999")
        response = self.post("purchase-orders", payload, "application/edi-x12")
        self.assertEqual(response.status_code, 400, response.text)
        body = response.json()
        self.assertEqual(body["error"]["code"], "x12_control_number")
        self.assertIn("TA1*000000101*250301*1200*R*001~", body["interchange_ack"])
        self.assertIsNone(body["functional_ack"], "no 997 for groups that were not read")

    def test_cxml_request_of_another_endpoint_is_400_and_not_stored(self):
        invoice = read_sample("cxml_invoice_taxes_at_line.xml")
        before = self.stored()
        response = self.post("purchase-orders", invoice, "application/xml")
        self.assertEqual(response.status_code, 400, response.text)
        error = response.json()["error"]
        self.assertEqual(error["code"], "cxml_request_not_supported")
        self.assertIn("InvoiceDetailRequest", error["message"])
        self.assertEqual(error["fields"], [{"path": "Request/InvoiceDetailRequest"}])
        confirmation = CXML_HEAD + (
            b'<Header/><Request><ConfirmationRequest><ConfirmationHeader type="accept"'
            b' noticeDate="2026-12-06"/></ConfirmationRequest></Request></cXML>'
        )
        response = self.post("purchase-orders", confirmation, "application/xml")
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"]["code"], "cxml_request_not_supported")
        self.assertEqual(self.stored(), before)

    def test_cxml_response_is_400_with_a_clear_code(self):
        payload = CXML_HEAD + (b'<Response><Status code="200" text="OK"/></Response></cXML>')
        before = self.stored()
        response = self.post("invoices", payload, "application/xml")
        self.assertEqual(response.status_code, 400, response.text)
        error = response.json()["error"]
        self.assertEqual(error["code"], "cxml_response")
        self.assertIn("Status 200 OK", error["message"])
        self.assertEqual(self.stored(), before)

    def test_the_right_cxml_request_is_still_accepted(self):
        order = read_sample("cxml_OrderRequest.xml")
        response = self.post("purchase-orders", order, "application/xml")
        self.assertEqual(response.status_code, 202, response.text)
