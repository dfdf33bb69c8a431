"""UBL / Peppol outbound: every generated document validated by ../shared/validation (XSD
and Peppol Schematron, no fatal), the Order read back by the project's UBL reader (no Odoo).
"""

import copy
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from ..canonical.documents import Address
from ..canonical.documents import Identifier
from ..canonical.documents import Party
from ..formats import registry
from ..formats.outbound import Envelope
from ..formats.outbound import UnsupportedOutbound
from ..formats.outbound import render
from .outbound_validation import VALIDATION_DIR
from .outbound_validation import assert_valid
from .outbound_validation import validator
from .test_pure_outbound_x12 import change_order
from .test_pure_outbound_x12 import invoice_response
from .test_pure_outbound_x12 import order
from .test_pure_outbound_x12 import payment

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def ubl_order(purpose="original"):
    """The golden order with what Peppol carries: GLN/DUNS parties, a billed-to address,
    no manufacturer/NDC/HIBC ids and no per-line contract."""
    po = order() if purpose == "original" else change_order(purpose)
    po.bill_to = Party(
        name="St. Mary Accounts Payable",
        identifiers=[Identifier(scheme="GLN", value="0614141000050")],
        address=Address(street="PO Box 12", city="Springfield", zip="62701", country_code="US"),
    )
    for line in po.lines:
        line.contract_reference = None
        line.item.manufacturer_part_number = line.item.ndc = line.item.hibc = None
    return po


def _xml(rendered):
    return etree.fromstring(rendered.body)


def test_order_validates_and_reads_back():
    document = ubl_order()
    rendered = render(document, "ubl")
    assert rendered.content_type == "application/xml"
    assert rendered.document_type == "Peppol Order (T01)"
    assert rendered.warnings == []
    assert_valid(rendered.body, rules_expected=["(T01)", "UBL-Order-2.1.xsd"])
    root = _xml(rendered)
    assert root.findtext("cbc:ProfileID", namespaces=NS) == "urn:fdc:peppol.eu:poacc:bis:ordering:3"
    assert root.find("cac:OrderLine/cac:LineItem/cbc:Quantity", NS).get("unitCode") == "XBX"
    [parsed] = registry.parse("purchase_order", "application/xml", rendered.body)
    assert parsed.document == document
    assert parsed.issues == []


def test_order_advanced_ordering_profile():
    rendered = render(ubl_order(), "ubl", envelope=Envelope(peppol_profile="advanced_ordering"))
    assert_valid(rendered.body, rules_expected=["(T01)"])
    profile = _xml(rendered).findtext("cbc:ProfileID", namespaces=NS)
    assert profile == "urn:fdc:peppol.eu:poacc:bis:advanced_ordering:3"
    with pytest.raises(UnsupportedOutbound, match="profile"):
        render(ubl_order(), "ubl", envelope=Envelope(peppol_profile="billing"))


def test_order_change_validates():
    document = ubl_order("change")
    rendered = render(document, "ubl")
    assert rendered.document_type == "Peppol Order Change (T114)"
    assert_valid(rendered.body, rules_expected=["(T114)", "UBL-OrderChange-2.3.xsd"])
    root = _xml(rendered)
    assert root.findtext("cbc:SequenceNumberID", namespaces=NS) == "2"
    assert root.findtext("cac:OrderReference/cbc:ID", namespaces=NS) == "PO-2026-0042"
    assert root.findtext("cbc:IssueDate", namespaces=NS) == "2026-12-03"
    codes = root.xpath("cac:OrderLine/cac:LineItem/cbc:LineStatusCode/text()", namespaces=NS)
    assert codes == ["3", "2", "1"]
    totals = root.find("cac:AnticipatedMonetaryTotal", NS)
    # the order after the change: line 2 deleted, line 3 added
    assert totals.findtext("cbc:PayableAmount", namespaces=NS) == "721.50"


def test_order_cancellation_validates():
    document = ubl_order("cancel")
    rendered = render(document, "ubl")
    assert rendered.document_type == "Peppol Order Cancellation (T115)"
    assert_valid(rendered.body, rules_expected=["(T115)", "UBL-OrderCancellation-2.3.xsd"])
    root = _xml(rendered)
    assert root.findtext("cbc:CancellationNote", namespaces=NS) == "Ward closed"
    assert root.findtext("cac:OrderReference/cbc:ID", namespaces=NS) == "PO-2026-0042"


@pytest.mark.parametrize("status", ["AB", "IP", "UQ", "CA", "RE", "AP", "PD"])
def test_invoice_response_validates(status):
    document = invoice_response(status)
    if status in ("AB", "IP", "AP", "PD"):
        document.reasons = []
    rendered = render(document, "ubl")
    assert rendered.document_type == "Peppol Invoice Response (T111)"
    assert_valid(rendered.body, rules_expected=["(T111)", "UBL-ApplicationResponse-2.1.xsd"])
    root = _xml(rendered)
    response = root.find("cac:DocumentResponse", NS)
    assert response.findtext("cac:Response/cbc:ResponseCode", namespaces=NS) == status
    assert response.findtext("cac:DocumentReference/cbc:ID", namespaces=NS) == "INV-991"
    if status == "RE":
        codes = response.xpath("cac:Response/cac:Status/cbc:StatusReasonCode", namespaces=NS)
        assert [(c.text, c.get("listID")) for c in codes] == [
            ("PRI", "OPStatusReason"),
            ("NIN", "OPStatusAction"),
        ]


def test_remittance_advice_parts_validate_against_ubl_common_schemas():
    """No RemittanceAdvice maindoc XSD nor Peppol rule set is in the validation folder:
    every element under the root is validated against the UBL 2.1 common aggregate /
    basic component schemas it belongs to (its content, not its place in the document)."""
    validator()
    rendered = render(payment(), "ubl")
    assert rendered.document_type == "UBL 2.1 Remittance Advice"
    common = VALIDATION_DIR / "ubl-2.1" / "xsd" / "common"
    schemas = {
        NS["cac"]: etree.XMLSchema(
            etree.parse(str(common / "UBL-CommonAggregateComponents-2.1.xsd"))
        ),
        NS["cbc"]: etree.XMLSchema(etree.parse(str(common / "UBL-CommonBasicComponents-2.1.xsd"))),
    }
    root = _xml(rendered)
    assert (
        root.tag
        == "{urn:oasis:names:specification:ubl:schema:xsd:RemittanceAdvice-2}RemittanceAdvice"
    )
    for child in root:
        schema = schemas[etree.QName(child).namespace]
        assert schema.validate(etree.ElementTree(copy.deepcopy(child))), (
            etree.QName(child).localname,
            schema.error_log,
        )
    assert root.findtext("cbc:TotalPaymentAmount", namespaces=NS) == "1249.99"
    lines = root.findall("cac:RemittanceAdviceLine", NS)
    assert [ln.findtext("cbc:DebitLineAmount", namespaces=NS) for ln in lines] == [
        "1000.00",
        "249.99",
    ]
    assert [
        ln.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS)
        for ln in lines
    ] == ["INV-991", "INV-992"]
    assert "PO PO-2026-0042" in lines[0].findtext("cbc:Note", namespaces=NS)


def test_remittance_advice_is_not_a_peppol_document():
    validate_file = validator()
    report = validate_file(render(payment(), "ubl").body)
    assert not report.ok  # unsupported by the validator: nothing to hold it to


# -- refusals ---------------------------------------------------------------------------


def test_order_without_lines_refused():
    document = ubl_order()
    document.lines = []
    with pytest.raises(UnsupportedOutbound, match="no lines"):
        render(document, "ubl")


def test_parties_peppol_cannot_address_are_refused():
    document = ubl_order()
    document.vendor.identifiers = [Identifier(scheme="VAT", value="US1")]
    with pytest.raises(
        UnsupportedOutbound, match="vendor has no GLN, DUNS or Peppol participant id"
    ):
        render(document, "ubl")
    document = ubl_order()
    document.vendor.address = None
    with pytest.raises(UnsupportedOutbound, match="has no postal address"):
        render(document, "ubl")
    document = ubl_order()
    document.buyer = None
    with pytest.raises(UnsupportedOutbound, match="no buyer"):
        render(document, "ubl")


def test_a_participant_id_of_another_scheme_addresses_the_party():
    """A profile's Peppol participant id (here Norway's 0192) is the EndpointID when the
    party has no GLN or DUNS, and is sent as its PartyIdentification."""
    document = ubl_order()
    document.vendor.identifiers = [Identifier(scheme="0192", value="987654325")]
    rendered = render(document, "ubl")
    assert_valid(rendered.body, rules_expected=["(T01)"])
    seller = _xml(rendered).find("cac:SellerSupplierParty/cac:Party", NS)
    endpoint = seller.find("cbc:EndpointID", NS)
    assert (endpoint.text, endpoint.get("schemeID")) == ("987654325", "0192")
    ident = seller.find("cac:PartyIdentification/cbc:ID", NS)
    assert (ident.text, ident.get("schemeID")) == ("987654325", "0192")
    assert not rendered.warnings


def test_unpriced_line_and_inconsistent_total_refused():
    document = ubl_order()
    document.lines[0].unit_price = None
    with pytest.raises(UnsupportedOutbound, match="unit price"):
        render(document, "ubl")
    document = ubl_order()
    document.total_amount = Decimal("1")
    with pytest.raises(UnsupportedOutbound, match="states a total"):
        render(document, "ubl")


def test_invoice_response_rejection_needs_a_reason():
    document = invoice_response("RE")
    document.reasons = []
    with pytest.raises(UnsupportedOutbound, match="needs a reason"):
        render(document, "ubl")


def test_ids_outside_the_peppol_model_are_reported():
    document = ubl_order()
    document.lines[1].item.ndc = "0409-4888-02"
    rendered = render(document, "ubl")
    assert any("NDC 0409-4888-02 not sent" in w for w in rendered.warnings)
    assert_valid(rendered.body, rules_expected=["(T01)"])


def test_amounts_use_the_currency_decimals():
    document = ubl_order()
    document.currency = "JPY"
    document.lines[0].unit_price = Decimal("1275")
    document.lines[1].unit_price = Decimal("12.5")
    document.total_amount = None
    rendered = render(document, "ubl")
    root = _xml(rendered)
    total = root.findtext("cac:AnticipatedMonetaryTotal/cbc:LineExtensionAmount", namespaces=NS)
    assert total == "65000"
    amounts = root.xpath("cac:OrderLine/cac:LineItem/cbc:LineExtensionAmount/text()", namespaces=NS)
    assert amounts == ["63750", "1250"]
    assert_valid(rendered.body, rules_expected=["(T01)"])
    assert date(2026, 12, 1).isoformat() == root.findtext("cbc:IssueDate", namespaces=NS)
