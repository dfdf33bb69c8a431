"""A UN/CEFACT CII invoice (Factur-X / ZUGFeRD / XRechnung CII) posted to
``/api/hc/v1/invoices``, as XML or as the PDF/A-3 invoice embedding it, becomes a vendor
bill with the amounts it states (issue 17 item 4)."""

import base64

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase
from .generated_documents import HEADER_CHARGES
from .generated_documents import TOTALS_DUE_IN_FULL
from .generated_documents import cii_invoice
from .generated_documents import pdf_with_attachments


@tagged("post_install", "-at_install")
class TestCiiInvoices(HcCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.vendor = cls.make_vendor("0614141000005", name="Acme Medical GmbH")
        cls.vat19 = cls.env["account.tax"].create(
            {
                "name": "VAT 19% (purchase)",
                "amount": 19,
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": cls.company.id,
            }
        )
        order = cls.env["purchase.order"].create(
            {"name": "PO-7781", "partner_id": cls.vendor.id, "currency_id": cls.eur.id}
        )
        order.button_confirm()
        cls.xml = cii_invoice(header_charges=HEADER_CHARGES, totals=TOTALS_DUE_IN_FULL)

    def post(self, endpoint, body, content_type):
        return self.url_open(
            f"/api/hc/v1/{endpoint}",
            data=body,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": content_type},
            method="POST",
        )

    def _bill_of(self, response):
        self.assertEqual(response.status_code, 202, response.text)
        message = self.Inbox.browse(response.json()["id"])
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.env["account.move"].search([("hc_message_id", "=", message.id)])
        self.assertEqual(len(bill), 1)
        return message, bill

    def assertStatedAmounts(self, bill):
        self.assertRecordValues(
            bill,
            [
                {
                    "move_type": "in_invoice",
                    "partner_id": self.vendor.id,
                    "ref": "HC-CII-1",
                    "currency_id": self.eur.id,
                    "amount_untaxed": 105.0,  # 100 of gloves + 10 freight - 5 discount
                    "amount_tax": 19.95,
                    "amount_total": 124.95,
                    "hc_stated_total": 124.95,
                }
            ],
        )
        self.assertEqual(bill.invoice_line_ids.tax_ids, self.vat19)

    def test_cii_xml_becomes_a_bill_with_its_stated_amounts(self):
        message, bill = self._bill_of(self.post("invoices", self.xml, "application/xml"))
        self.assertEqual(message.source_format, "cii")
        self.assertStatedAmounts(bill)
        original = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        )
        self.assertIn("HC-CII-1.xml", original.mapped("name"))

    def test_factur_x_pdf_becomes_a_bill_and_the_pdf_is_its_original(self):
        pdf = pdf_with_attachments([("factur-x.xml", self.xml)])
        message, bill = self._bill_of(self.post("invoices", pdf, "application/pdf"))
        self.assertEqual(message.source_format, "cii-pdf")
        self.assertEqual(message.content_type, "application/pdf")
        self.assertStatedAmounts(bill)
        original = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "=", bill.id),
                ("name", "=", "HC-CII-1.pdf"),
            ]
        )
        self.assertEqual(original.mimetype, "application/pdf")
        self.assertEqual(base64.b64decode(original.datas), pdf, "kept exactly as received")

    def test_pdf_without_invoice_xml_is_400_and_not_stored(self):
        before = self.Inbox.search_count([])
        response = self.post(
            "invoices", pdf_with_attachments([("terms.txt", b"x")]), "application/pdf"
        )
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"]["code"], "pdf_no_invoice_xml")
        self.assertEqual(self.Inbox.search_count([]), before)

    def test_cii_on_another_endpoint_is_refused(self):
        response = self.post("purchase-orders", self.xml, "application/xml")
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"]["code"], "unexpected_doc_type")
        pdf = pdf_with_attachments([("factur-x.xml", self.xml)])
        response = self.post("purchase-orders", pdf, "application/pdf")
        self.assertEqual(response.status_code, 415, response.text)
