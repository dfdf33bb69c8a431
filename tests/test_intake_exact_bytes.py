import base64

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase

GLN = "0614141000012"
GTIN = "00614141000418"
LONG = "12345678.1234567891"  # 18 significant digits; a double keeps 12345678.12345679


@tagged("post_install", "-at_install")
class TestIntakeExactBytes(HcCase, HttpCase):
    """What the API stores is the bytes the client sent for each document, and a number is
    never rounded on the way in: only applying it to an Odoo Float field rounds it, and that
    is reported on the message."""

    def post(self, endpoint, body, content_type="application/json"):
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {self.api_key}"}
        return self.url_open(f"/api/hc/v1/{endpoint}", data=body, headers=headers, method="POST")

    def po_text(self, number, unit_price):
        currency = self.env.company.currency_id.name
        return (
            f'{{"number": "{number}",  "order_date": "2026-03-02", '
            f'"vendor": {{"identifiers": [{{"scheme": "GLN", "value": "{GLN}"}}]}}, '
            f'"currency": "{currency}", "approval_status": "approved", "lines": [\n'
            f'  {{"line_number": "1", "item": {{"gtin": "{GTIN}"}}, "quantity": 2, '
            f'"uom": "EA", "unit_price": {unit_price}, "requested_date": "2026-03-10"}}]}}'
        )

    def test_a_json_batch_is_stored_as_sent_and_long_numbers_are_kept(self):
        self.accept([self.vendor_doc(gln=GLN)])
        self.accept([{"gtin": GTIN, "description": "Nitrile gloves", "uom": "EA"}], doc_type="item")
        self.process()
        first, second = self.po_text("PO-LONG", LONG), self.po_text("PO-PLAIN", "9.50")
        body = f"\ufeff[ {first},\n\t{second} ]\r\n".encode()  # a BOM, odd spacing
        response = self.post("purchase-orders", body)
        self.assertEqual(response.status_code, 202, response.text)
        ids = [r["id"] for r in response.json()["results"]]
        messages = self.Inbox.browse(ids)
        stored = [base64.b64decode(m.sudo().payload) for m in messages]
        self.assertEqual(stored, [first.encode(), second.encode()], "slices of the body")
        self.assertEqual(messages.mapped("content_type"), ["application/json"] * 2)

        self.process()
        self.assertEqual(
            messages.mapped("state"), ["done", "done"], messages.mapped("error_message")
        )
        long_msg, plain_msg = messages
        # the canonical document keeps every digit
        self.assertEqual(long_msg.document["lines"][0]["unit_price"], LONG)
        # applied: purchase.order.line.price_unit is a Float (an IEEE double), which holds
        # about 16 significant digits; the rounding is reported on the message
        line = self.env["purchase.order"].search([("hc_source_ref", "=", "PO-LONG")]).order_line
        self.assertEqual(line.price_unit, 12345678.12345679)
        [issue] = [i for i in long_msg.issues if i["code"] == "float_precision"]
        self.assertEqual(issue["path"], "lines[0].unit_price")
        self.assertIn("applied as 12345678.12345679", issue["message"])
        # positive control: a price a double holds is applied as sent, with no such issue
        plain = self.env["purchase.order"].search([("hc_source_ref", "=", "PO-PLAIN")])
        self.assertEqual(plain.order_line.price_unit, 9.5)
        self.assertFalse([i for i in plain_msg.issues or [] if i["code"] == "float_precision"])

    def test_x12_under_an_alias_content_type_is_processed(self):
        """``application/edi`` was accepted at intake and then refused by the worker
        (``unsupported_content_type``): the message is stored under the one content type
        of its format."""
        isa = (
            "ISA*00*          *00*          *ZZ*HOSPITAL       *ZZ*VENDOR         "
            "*250301*1200*U*00401*000000101*0*P*>"
        )
        body = (
            "~\n".join(
                [
                    isa,
                    "GS*PO*HOSPITAL*VENDOR*20250301*1200*77*X*004010",
                    "ST*850*0001",
                    "BEG*00*SA*PO-X12-ALIAS**20250301",
                    f"N1*SE*Acme*UL*{GLN}",
                    f"PO1*1*10*EA*25.50**UK*{GTIN}",
                    "CTT*1",
                    "SE*6*0001",
                    "GE*1*77",
                    "IEA*1*000000101",
                ]
            ).encode()
            + b"~\n"
        )
        response = self.post("purchase-orders", body, content_type="application/edi")
        self.assertEqual(response.status_code, 202, response.text)
        message = self.Inbox.browse(response.json()["id"])
        self.assertEqual(message.content_type, "application/edi-x12")
        self.assertEqual(base64.b64decode(message.sudo().payload), body, "stored as received")
        self.process()
        self.assertNotEqual(message.error_code, "unsupported_content_type", message.error_message)
        self.assertIn(message.state, ("done", "waiting"), message.error_message)
