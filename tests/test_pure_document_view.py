"""The received document laid out for people, and the files a UBL invoice embeds (no Odoo)."""

import base64

from ..canonical import from_dict
from ..canonical.render import document_sections
from ..formats.attachments import ubl_embedded_files
from ..formats.pretty import pretty_text
from .samples import read_sample


def _invoice():
    return from_dict(
        "invoice",
        {
            "number": "INV-7",
            "issue_date": "2026-11-20",
            "currency": "USD",
            "vendor": {
                "identifiers": [{"scheme": "GLN", "value": "0614141000012"}],
                "name": "Medline",
                "address": {"city": "Northfield", "country_code": "US"},
            },
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": "04006381333931", "description": "Gloves"},
                    "quantity": "10",
                    "uom": "EA",
                    "unit_price": "12.50",
                }
            ],
            "gross_total": "125.00",
        },
    ).to_dict()


def test_invoice_sections_header_parties_lines_totals():
    sections = document_sections(_invoice())
    assert sections.title == "Invoice"
    assert ("Number", "INV-7") in sections.header
    assert ("Issue date", "2026-11-20") in sections.header
    [vendor] = sections.parties
    assert vendor.title == "Vendor"
    assert ("GLN", "0614141000012") in vendor.rows
    assert ("Address", "Northfield, US") in vendor.rows
    [lines] = sections.tables
    assert lines.columns[:3] == ["Description", "GTIN", "Line"]
    assert lines.rows[0][:3] == ["Gloves", "04006381333931", "1"]
    assert sections.totals == [("Total with tax", "125.00")]
    assert all(key != "Doc type" for key, _value in sections.header)


def test_pretty_text_json_xml_x12_and_unknown():
    assert pretty_text('{"a": [1, 2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert pretty_text("<a><b>1</b></a>") == "<a>\n  <b>1</b>\n</a>"
    isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*1200*U*00401*000000001*0*P*>~"
    assert len(isa) == 106
    assert pretty_text(isa + "GS*IN*S*R~ST*810*0001~") == f"{isa}\nGS*IN*S*R~\nST*810*0001~"
    assert pretty_text("<a>broken") == "<a>broken"
    assert pretty_text("plain text") == "plain text"


def test_ubl_embedded_files_of_the_oasis_example():
    [embedded] = ubl_embedded_files(read_sample("oasis-ubl_Invoice-2.1-Example.xml"))
    assert embedded.mimetype == "application/pdf"
    assert embedded.filename == "Doc2.pdf"  # no filename given: the reference's ID
    assert embedded.description == "Drawing"
    assert embedded.content == base64.b64decode("UjBsR09EbGhjZ0dTQUxNQUFBUUNBRU1tQ1p0dU1GUXhEUzhi")


def test_ubl_embedded_files_names_are_safe_and_bad_base64_skipped():
    raw = (
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        b'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        b'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        b"<cac:AdditionalDocumentReference><cbc:ID>A</cbc:ID><cac:Attachment>"
        b'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="../../etc/x.pdf">'
        b"JVBERi0=</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"
        b"<cac:AdditionalDocumentReference><cbc:ID>B</cbc:ID><cac:Attachment>"
        b'<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf">not base64!'
        b"</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"
        b"</Invoice>"
    )
    [embedded] = ubl_embedded_files(raw)
    assert "/" not in embedded.filename
    assert embedded.content == b"%PDF-"
    assert ubl_embedded_files(b'{"number": "1"}') == []
