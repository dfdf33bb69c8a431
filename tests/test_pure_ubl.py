"""UBL 2.1 / PEPPOL BIS 3 reader (formats.ubl) on the public samples and inline fixtures."""

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from ..canonical import validate
from ..formats import ubl
from ..formats.errors import ParseError


def _sample(name):
    here = Path(__file__).resolve().parents[2] / "shared" / "samples"
    base = here if here.is_dir() else Path(os.environ.get("HC_SAMPLES_DIR", "/nonexistent"))
    path = base / name
    if not path.exists():
        pytest.skip(f"sample {name} not available (set HC_SAMPLES_DIR)")
    return path.read_bytes()


def _one(payload):
    (parsed,) = ubl.parse(payload)
    assert parsed.source_format == "ubl"
    assert validate(parsed.document) == []
    return parsed.document, {issue.code for issue in parsed.issues}


# Figures stated by the documents themselves (see samples/MANIFEST.md).
INVOICES = [
    ("peppol-bis3_base-example.xml", "invoice", "Snippet1", "EUR", 2, "1300", "1656.25", "1656.25"),
    (
        "peppol-bis3_base-creditnote-correction.xml",
        "credit_note",
        "Snippet1",
        "EUR",
        2,
        "1300",
        "1656.25",
        "1656.25",
    ),
    (
        "en16931_ubl-tc434-example1.xml",
        "invoice",
        "12115118",
        "EUR",
        20,
        "229.60",
        "250.33",
        "250.33",
    ),
    ("oasis-ubl_Invoice-2.1-Example.xml", "invoice", "TOSL108", "EUR", 5, "1436.5", "1729", "729"),
]


@pytest.mark.parametrize(
    ("name", "move_type", "number", "currency", "lines", "net", "gross", "payable"), INVOICES
)
def test_invoice_samples(name, move_type, number, currency, lines, net, gross, payable):
    doc, _issues = _one(_sample(name))
    assert (doc.doc_type, doc.move_type, doc.number, doc.currency) == (
        "invoice",
        move_type,
        number,
        currency,
    )
    assert len(doc.lines) == lines
    assert doc.net_total == Decimal(net)
    assert doc.gross_total == Decimal(gross)
    assert doc.payable_amount == Decimal(payable)
    assert sum(line.line_total for line in doc.lines) == Decimal(net)


def test_peppol_invoice_details():
    doc, issues = _one(_sample("peppol-bis3_base-example.xml"))
    assert doc.issue_date == dt.date(2017, 11, 13) and doc.due_date == dt.date(2017, 12, 1)
    assert doc.vendor.identifier("VAT") == "GB1232434"
    assert doc.vendor.name == "SupplierTradingName Ltd."
    assert doc.tax_total == Decimal("331.25")
    assert [(t.category, t.rate, t.amount) for t in doc.taxes] == [
        ("S", Decimal("25.0"), Decimal("331.25"))
    ]
    assert [line.uom for line in doc.lines] == ["DAY", "DAY"]
    assert doc.lines[1].quantity == Decimal(-3)
    assert doc.allowance_charges[0].is_charge is True
    # PEPPOL's own example tags a 19-digit EndpointID as GLN and a GTIN as 0088.
    assert {"gln_invalid", "gtin_scheme", "gtin_check_digit"} <= issues


def test_credit_note_references_original_invoice():
    doc, _ = _one(_sample("peppol-bis3_base-creditnote-correction.xml"))
    assert doc.is_credit_note and doc.original_invoice_number == "Snippet1"
    assert all(line.quantity > 0 or line.line_total < 0 for line in doc.lines)


def test_oasis_invoice_legacy_schemes_and_line_taxes():
    doc, issues = _one(_sample("oasis-ubl_Invoice-2.1-Example.xml"))
    assert doc.po_numbers == ["123"]
    assert doc.vendor.identifier("GLN") == "1234567890123"
    assert doc.vendor.identifier("VAT") == "DK12345"
    assert doc.prepaid_amount == Decimal(1000)
    assert doc.lines[0].taxes[0].amount == Decimal("254.6")
    assert doc.lines[0].item.gtin == "01234567890124"
    assert doc.remit_to is not None and doc.remit_to.name == "Ebeneser Scrooge Inc."
    assert {"gln_invalid", "gtin_check_digit"} <= issues


def test_peppol_order():
    doc, issues = _one(_sample("peppol-poacc_Order_Example.xml"))
    assert (doc.doc_type, doc.number, doc.currency) == ("purchase_order", "34", "NOK")
    assert doc.order_date == dt.date(2018, 9, 1)
    assert len(doc.lines) == 2 and doc.total_amount == Decimal(6363)
    assert doc.lines[0].item.gtin == "07560000012345" and "gtin_check_digit" in issues
    assert doc.lines[0].quantity == Decimal(120) and doc.lines[0].unit_price == Decimal("50.000")
    assert doc.lines_total() == Decimal(6225)  # 120 x 50 + 15 x 15, before allowances
    assert doc.vendor.identifier("GLN") == "7300010000001"
    assert doc.contract_reference == "34322"


def test_oasis_order():
    doc, issues = _one(_sample("oasis-ubl_Order-2.1-Example.xml"))
    assert (doc.number, doc.currency, len(doc.lines), doc.total_amount) == (
        "34",
        "SEK",
        2,
        Decimal(6225),
    )
    assert {line.uom for line in doc.lines} == {"EA", "LTR"}
    assert "gln_invalid" in issues


def test_despatch_advice_traceability():
    doc, issues = _one(_sample("peppol-poacc_DespatchAdvice-UseCase5.xml"))
    assert (doc.doc_type, doc.asn_number, doc.po_number) == ("ship_notice", "1234", "4321")
    assert len(doc.lines) == 5
    first = doc.lines[0]
    assert (first.lot, first.expiry_date, first.serials) == (
        "898A123",
        dt.date(2021, 7, 1),
        ["OR250RHZ444"],
    )
    assert first.item.gtin == "07311100000047" and first.po_line_ref == "1"
    assert [line.uom for line in doc.lines] == ["EA", "EA", "KGM", "KGM", "EA"]
    assert doc.lines[3].quantity == Decimal("0.975")
    assert doc.carrier == "Danske post"
    assert "gtin_check_digit" in issues  # 7611104117059 is BAD per MANIFEST


def test_receipt_advice():
    doc, issues = _one(_sample("oasis-ubl_ReceiptAdvice-2.0-Example.xml"))
    assert (doc.doc_type, doc.receipt_id, doc.po_number, doc.asn_number) == (
        "receipt",
        "658398",
        "AEG012345",
        "565899",
    )
    (line,) = doc.lines
    assert (line.quantity_received, line.uom, line.lot) == (Decimal(90), "KGM", "546378239")
    assert line.expiry_date == dt.date(2010, 1, 1)
    assert doc.facility.identifier("BUYER_ASSIGNED") == "XFB01"
    assert "short_quantity" in issues


NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
)


def _invoice(line_extra="", header_id="<cbc:ID>INV-1</cbc:ID>", unit="C62", gln="7300010000002"):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" {NS}>
  {header_id}
  <cbc:IssueDate>2024-02-01</cbc:IssueDate>
  <cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>
  <cac:OrderReference><cbc:ID>PO-9</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0088">{gln}</cbc:EndpointID>
    <cac:PartyName><cbc:Name>Surgical Supply Inc</cbc:Name></cac:PartyName>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="USD">100.00</cbc:LineExtensionAmount>
    <cbc:TaxInclusiveAmount currencyID="USD">100.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="USD">100.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="{unit}">10</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="USD">90.00</cbc:LineExtensionAmount>
    <cac:OrderLineReference><cbc:LineID>3</cbc:LineID></cac:OrderLineReference>
    <cac:Item><cbc:Name>Suture 4-0</cbc:Name>
      <cac:StandardItemIdentification><cbc:ID schemeID="0160">09506000134352</cbc:ID></cac:StandardItemIdentification>
      {line_extra}
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="USD">9</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>""".encode()


def test_inline_invoice_quality_findings():
    (parsed,) = ubl.parse(_invoice(unit="XYZ", gln="7300010000001"))
    doc = parsed.document
    assert doc.po_numbers == ["PO-9"] and doc.lines[0].po_line_ref == "3"
    assert doc.lines[0].uom == "XYZ"  # kept, but flagged
    codes = [issue.code for issue in parsed.issues]
    assert "uom_unknown" in codes
    assert "total_mismatch" in codes  # line says 90, total says 100
    assert "gln_invalid" not in codes  # 7300010000001 is a valid GLN
    (bad_gln,) = ubl.parse(_invoice(gln="7300010000002"))
    assert any(i.code == "gln_invalid" and "expected 1" in i.message for i in bad_gln.issues)


def test_missing_invoice_number_is_parse_error():
    with pytest.raises(ParseError) as exc:
        ubl.parse(_invoice(header_id=""))
    assert exc.value.code == "ubl_required"


def test_unsupported_root_and_hostile_xml():
    with pytest.raises(ParseError) as exc:
        ubl.parse(b'<Catalogue xmlns="urn:oasis:names:specification:ubl:schema:xsd:Catalogue-2"/>')
    assert exc.value.code == "ubl_unsupported"
    with pytest.raises(ParseError) as exc:
        ubl.parse(
            b'<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file:///etc/passwd">]><Invoice>&x;</Invoice>'
        )
    assert exc.value.code == "xml_forbidden"


def test_bad_number_is_parse_error():
    payload = _invoice().replace(b">9</cbc:PriceAmount>", b">nine</cbc:PriceAmount>")
    with pytest.raises(ParseError) as exc:
        ubl.parse(payload)
    assert exc.value.code == "ubl_value"


DESPATCH = f"""<DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2" {NS}>
  <cbc:ID>ASN-7</cbc:ID><cbc:IssueDate>2025-03-01</cbc:IssueDate>
  <cac:OrderReference><cbc:ID>PO-77</cbc:ID></cac:OrderReference>
  <cac:DespatchLine><cbc:ID>1</cbc:ID><cbc:DeliveredQuantity unitCode="CS">2</cbc:DeliveredQuantity>
    <cac:Item><cbc:Name>Stent</cbc:Name>
      <cac:ItemInstance><cbc:ProductTraceID>(01)09506000134352(17)270600(10)L-55(21)S1</cbc:ProductTraceID></cac:ItemInstance>
      <cac:ItemInstance><cbc:ProductTraceID>(01)09506000134352(17)270600(10)L-55(21)S2</cbc:ProductTraceID></cac:ItemInstance>
    </cac:Item></cac:DespatchLine>
</DespatchAdvice>""".encode()


def test_despatch_with_gs1_udi_product_trace_ids():
    (parsed,) = ubl.parse(DESPATCH)
    (line,) = parsed.document.lines
    assert (line.lot, line.expiry_date, line.serials, line.uom) == (
        "L-55",
        dt.date(2027, 6, 30),
        ["S1", "S2"],
        "CS",
    )
    assert parsed.issues == []
