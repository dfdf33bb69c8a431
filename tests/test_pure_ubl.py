"""UBL 2.1 / PEPPOL BIS 3 reader (formats.ubl) on the public samples and inline fixtures."""

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from ..canonical import validate
from ..formats import ubl
from ..formats.errors import ParseError
from .samples import read_sample


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
    doc, _issues = _one(read_sample(name))
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
    doc, issues = _one(read_sample("peppol-bis3_base-example.xml"))
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
    doc, _ = _one(read_sample("peppol-bis3_base-creditnote-correction.xml"))
    assert doc.is_credit_note and doc.original_invoice_number == "Snippet1"
    assert all(line.quantity > 0 or line.line_total < 0 for line in doc.lines)


def test_oasis_invoice_legacy_schemes_and_line_taxes():
    doc, issues = _one(read_sample("oasis-ubl_Invoice-2.1-Example.xml"))
    assert doc.po_numbers == ["123"]
    assert doc.vendor.identifier("GLN") == "1234567890123"
    assert doc.vendor.identifier("VAT") == "DK12345"
    assert doc.prepaid_amount == Decimal(1000)
    assert doc.lines[0].taxes[0].amount == Decimal("254.6")
    assert doc.lines[0].item.gtin == "01234567890124"
    assert doc.remit_to is not None and doc.remit_to.name == "Ebeneser Scrooge Inc."
    assert {"gln_invalid", "gtin_check_digit"} <= issues


def test_peppol_order():
    doc, issues = _one(read_sample("peppol-poacc_Order_Example.xml"))
    assert (doc.doc_type, doc.number, doc.currency) == ("purchase_order", "34", "NOK")
    assert doc.order_date == dt.date(2018, 9, 1)
    assert len(doc.lines) == 2 and doc.total_amount is None  # line charges: not comparable
    assert doc.lines[0].item.gtin == "07560000012345" and "gtin_check_digit" in issues
    assert doc.lines[0].quantity == Decimal(120) and doc.lines[0].unit_price == Decimal("50.000")
    assert doc.lines_total() == Decimal(6225)  # 120 x 50 + 15 x 15, before allowances
    assert doc.vendor.identifier("GLN") == "7300010000001"
    assert doc.contract_reference == "34322"


def test_oasis_order():
    doc, issues = _one(read_sample("oasis-ubl_Order-2.1-Example.xml"))
    assert (doc.number, doc.currency, len(doc.lines), doc.total_amount) == (
        "34",
        "SEK",
        2,
        Decimal(6225),
    )
    assert {line.uom for line in doc.lines} == {"EA", "LTR"}
    assert "gln_invalid" in issues


def test_despatch_advice_traceability():
    doc, issues = _one(read_sample("peppol-poacc_DespatchAdvice-UseCase5.xml"))
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
    doc, issues = _one(read_sample("oasis-ubl_ReceiptAdvice-2.0-Example.xml"))
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


# ----------------------------------------------------------------- amounts as stated

ODOO = Path(os.environ.get("ODOO_SRC", "/opt/odoo19")) / "addons"


def _odoo_file(relative):
    path = ODOO / relative
    if not path.exists():
        pytest.skip(f"Odoo test file {relative} not available (set ODOO_SRC)")
    return path.read_bytes()


def _parse_all(payload):
    """Through formats.parse: canonical validation and the shared issues included."""
    from ..formats.registry import parse

    (parsed,) = parse("invoice", "application/xml", payload)
    return parsed.document, {issue.code for issue in parsed.issues}


def test_line_tax_category_without_line_tax_total():
    # PEPPOL BIS 3: lines state only ClassifiedTaxCategory (ID + Percent), never an amount.
    doc, _issues = _one(read_sample("peppol-bis3_base-example.xml"))
    for line in doc.lines:
        (tax,) = line.taxes
        assert (tax.category, tax.rate, tax.tax_type, tax.amount) == ("S", Decimal(25), "VAT", None)
        assert tax.taxable_amount == line.line_total
    assert doc.tax_exclusive_total == Decimal("1325")
    assert doc.amount_findings() == []


def test_document_allowance_charge_carries_its_tax_category():
    doc, _issues = _one(read_sample("peppol-bis3_base-example.xml"))
    (insurance,) = doc.allowance_charges
    assert (insurance.is_charge, insurance.amount, insurance.reason) == (True, 25, "Insurance")
    (tax,) = insurance.taxes
    assert (tax.category, tax.rate, tax.amount) == ("S", Decimal(25), None)
    assert doc.charge_total == 25 and doc.tax_exclusive_total == 1325


def test_en16931_example_return_line_is_inconsistent():
    doc, _issues = _one(read_sample("en16931_ubl-tc434-example1.xml"))
    assert doc.tax_exclusive_total == Decimal("229.60")
    assert all(line.taxes and line.taxes[0].category for line in doc.lines)
    # The CEN example's line 20 ("FRITUUR VET 10 KG RETOUR") states 6 x 18.33 as -109.98:
    # a return written with a positive quantity.  Its totals add up with the -109.98.
    (finding,) = doc.amount_findings()
    assert (finding.code, finding.path) == ("line_amount", "lines[19].line_total")
    assert (finding.stated, finding.computed) == (Decimal("-109.98"), Decimal("109.98"))


def test_odoo_bis3_exempt_allowance_and_reason():
    payload = _odoo_file(
        "l10n_account_edi_ubl_cii_tests/tests/test_files/from_peppol-bis-invoice-3_doc/"
        "bis3_tax_exempt_gbp.xml"
    )
    doc, _issues = _parse_all(payload)
    exempt = [t for t in doc.taxes if t.category == "E"]
    assert exempt and exempt[0].exemption_reason
    assert exempt[0].amount == 0
    assert all(t.category == "E" for t in doc.lines[0].taxes)


def test_odoo_bis3_allowances_keep_their_tax_category():
    doc, _issues = _parse_all(
        _odoo_file(
            "l10n_account_edi_ubl_cii_tests/tests/test_files/from_peppol-bis-invoice-3_doc/"
            "bis3_allowance.xml"
        )
    )
    allowances = [ac for ac in doc.allowance_charges if not ac.is_charge]
    charges = [ac for ac in doc.allowance_charges if ac.is_charge]
    assert allowances and charges
    assert all(ac.taxes and ac.taxes[0].category == "S" for ac in doc.allowance_charges)
    assert doc.allowance_total == sum(ac.amount for ac in allowances)
    assert doc.amount_findings() == []


def test_cash_rounding_amount():
    doc, _issues = _parse_all(
        _odoo_file("account_edi_ubl_cii/tests/test_files/bis3/test_cash_rounding_line.xml")
    )
    assert doc.rounding_amount is not None or doc.payable_amount == doc.gross_total
    assert doc.amount_findings() == []


def _rounded_invoice(rounding):
    return _invoice().replace(
        b'<cbc:PayableAmount currencyID="USD">100.00</cbc:PayableAmount>',
        f'<cbc:PayableRoundingAmount currencyID="USD">{rounding}</cbc:PayableRoundingAmount>'
        f'<cbc:PayableAmount currencyID="USD">{Decimal("100.00") + Decimal(rounding)}'
        "</cbc:PayableAmount>".encode(),
    )


def test_payable_rounding_amount_read():
    doc, _issues = _parse_all(_rounded_invoice("0.02"))
    assert doc.rounding_amount == Decimal("0.02") and doc.payable_amount == Decimal("100.02")
    assert "payable_amount" not in {f.code for f in doc.amount_findings()}


def test_oioubl_named_tax_categories_are_mapped_not_refused():
    # Danish OIOUBL: TaxCategory "StandardRated", TaxScheme 63 (Moms), and a
    # TaxExclusiveAmount that holds the VAT total.
    payload = _odoo_file(
        "l10n_dk_oioubl/tests/test_files/external/BASPRO_01_01_00_Invoice_v2p1.xml"
    )
    doc, issues = _parse_all(payload)
    assert {"tax_category_mapped", "oioubl_tax_exclusive"} <= issues
    assert {(t.tax_type, t.category, t.rate) for t in doc.taxes} == {("VAT", "S", Decimal(25))}
    assert all(t.category == "S" for line in doc.lines for t in line.taxes)
    assert doc.tax_exclusive_total is None  # 1262.50 is the VAT, not the base
    assert doc.amount_findings() == []


def test_unknown_long_tax_category_kept_with_issue():
    extra = (
        "<cac:ClassifiedTaxCategory><cbc:ID>SomeNationalCategoryName</cbc:ID>"
        "<cbc:Percent>8</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
        "</cac:ClassifiedTaxCategory>"
    )
    doc, issues = _parse_all(_invoice(line_extra=extra))
    assert "tax_category_unknown" in issues
    assert doc.lines[0].taxes[0].category == "SomeNationalCategoryName"


def test_alpha3_country_code_mapped():
    # Malaysian MyInvois states ISO 3166-1 alpha-3 country codes.
    payload = _invoice().replace(
        b"<cac:PartyName>",
        b"<cac:PostalAddress><cbc:CityName>Kuala Lumpur</cbc:CityName>"
        b"<cac:Country><cbc:IdentificationCode>MYS</cbc:IdentificationCode></cac:Country>"
        b"</cac:PostalAddress><cac:PartyName>",
    )
    doc, issues = _parse_all(payload)
    assert doc.vendor.address.country_code == "MY"
    assert "country_code" in issues


def test_due_date_before_issue_date_is_an_issue():
    # Croatian fiscal e-invoices in Odoo's tests are due the day before they are issued.
    doc, issues = _parse_all(_odoo_file("l10n_hr_edi/tests/test_files/test_invoice.xml"))
    assert doc.due_date < doc.issue_date
    assert "due_before_issue" in issues


def test_negative_invoice_becomes_a_credit_note():
    payload = _odoo_file(
        "l10n_account_edi_ubl_cii_tests/tests/test_files/from_peppol-bis-invoice-3_doc/"
        "bis3_invoice_negative_amounts.xml"
    )
    doc, issues = _parse_all(payload)
    assert doc.move_type == "credit_note" and "negative_total" in issues
    assert doc.payable_amount == Decimal("1656.25") and doc.gross_total == Decimal("1656.25")
    # -7 x 400 and 3 x 500 in a negative invoice: 7 x 400 and -3 x 500 in the credit.
    assert [(ln.quantity, ln.line_total) for ln in doc.lines] == [(7, 2800), (-3, -1500)]
    assert doc.net_total == 1300 and doc.tax_total == Decimal("331.25")
    assert all(t.amount >= 0 for t in doc.taxes)
    assert doc.amount_findings() == []


def test_negative_inline_invoice_with_allowance():
    payload = (
        _invoice()
        .replace(b"100.00</cbc:", b"-100.00</cbc:")
        .replace(b">10</cbc:InvoicedQuantity>", b">-10</cbc:InvoicedQuantity>")
        .replace(b"90.00</cbc:LineExtensionAmount>", b"-100.00</cbc:LineExtensionAmount>")
        .replace(b"<cac:Price>", b"<cac:Price>")
        .replace(b'<cbc:PriceAmount currencyID="USD">9<', b'<cbc:PriceAmount currencyID="USD">10<')
    )
    doc, issues = _parse_all(payload)
    assert doc.move_type == "credit_note" and "negative_total" in issues
    assert (doc.lines[0].quantity, doc.lines[0].line_total) == (Decimal(10), Decimal("100.00"))
    assert doc.payable_amount == Decimal("100.00")
    assert doc.amount_findings() == []


def test_missing_price_derived_from_line_amount():
    payload = _odoo_file(
        "l10n_account_edi_ubl_cii_tests/tests/test_files/from_odoo/bis3_out_invoice_no_prices.xml"
    )
    doc, issues = _parse_all(payload)
    assert "price_missing" in issues
    assert doc.amount_findings() == []


def test_jofotara_price_discount_is_a_line_allowance():
    doc, issues = _parse_all(_odoo_file("l10n_jo_edi/tests/test_files/type_1.xml"))
    assert {"price_allowance_on_line", "allowance_total_of_lines"} <= issues
    (line,) = doc.lines
    assert [ac.amount for ac in line.allowance_charges] == [Decimal("1.320")]
    assert doc.allowance_charges == [] and doc.tax_exclusive_total == Decimal("130.680")
    assert doc.amount_findings() == []


def test_line_allowance_already_in_the_net_price():
    # Odoo's OIOUBL export: PriceAmount 450 is net of the 500 line discount (10 x 450).
    doc, issues = _parse_all(
        _odoo_file("l10n_dk_nemhandel/tests/test_files/from_odoo/oioubl_out_invoice_discount.xml")
    )
    assert "line_allowance_in_price" in issues
    assert doc.lines[0].allowance_charges == []
    assert doc.amount_findings() == []
