"""cXML outbound: OrderRequest new/update/delete and StatusUpdateRequest, validated
against the cXML DTD of ../shared/validation and read back by formats/cxml.py (no Odoo)."""

import copy
from datetime import datetime

import pytest
from lxml import etree

from ..canonical.documents import Party
from ..formats import registry
from ..formats.outbound import Envelope
from ..formats.outbound import UnsupportedOutbound
from ..formats.outbound import render
from .outbound_validation import assert_valid
from .test_pure_outbound_x12 import change_order
from .test_pure_outbound_x12 import invoice_response
from .test_pure_outbound_x12 import order


def cxml_order(purpose="original"):
    """The golden order with what cXML carries (terms in days)."""
    po = order() if purpose == "original" else change_order(purpose)
    po.payment_terms = "30 days"
    return po


def read_back_expected(document, kind):
    """What the cXML reader can give back: parties as credentials (no names or contact on
    From/To), no header delivery date (sent on the lines), no change date, an update
    without the lines it deletes, no per-line change codes (an update replaces the
    order), GTINs in their 14-digit form, the total of the lines sent."""
    expected = copy.deepcopy(document)
    expected.vendor = Party(identifiers=document.vendor.identifiers)
    expected.buyer = Party(identifiers=document.buyer.identifiers)
    expected.requested_date = None
    expected.change_date = None
    if kind == "order_change":
        expected.lines = [ln for ln in expected.lines if ln.change_code != "delete"]
    for line in expected.lines:
        line.change_code = None
        line.requested_date = line.requested_date or document.requested_date
        if line.item.gtin:  # the reader gives every GTIN in its 14-digit form
            line.item.gtin = line.item.gtin.zfill(14)
    expected.total_amount = expected.lines_total()
    return expected


def _root(rendered):
    body = rendered.body.split(b"\n", 2)[2]  # XML declaration and DOCTYPE
    return etree.fromstring(body)


@pytest.mark.parametrize(
    ("purpose", "kind", "order_type"),
    [
        ("original", "order", "new"),
        ("change", "order_change", "update"),
        ("cancel", "order_cancel", "delete"),
    ],
)
def test_order_request_round_trip(purpose, kind, order_type):
    document = cxml_order(purpose)
    rendered = render(document, "cxml")
    assert rendered.kind == kind and rendered.content_type == "application/xml"
    assert (
        b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.071/cXML.dtd">'
        in rendered.body
    )
    assert_valid(rendered.body, rules_expected=["cXML.dtd"])
    head = _root(rendered).find("Request/OrderRequest/OrderRequestHeader")
    assert head.get("type") == order_type
    assert head.get("orderVersion") == (None if kind == "order" else "2")
    reference = head.find("DocumentReference")
    if kind == "order":
        assert reference is None
    else:
        assert reference.get("payloadID") == (
            "PO.PO-2026-0042.v1@healthcare-p2p"
            if kind == "order_change"
            else "PO.PO-2026-0042.v2@healthcare-p2p"
        )
    [parsed] = registry.parse("purchase_order", "application/xml", rendered.body)
    assert parsed.document == read_back_expected(document, kind)


def test_update_leaves_out_deleted_lines():
    rendered = render(cxml_order("change"), "cxml")
    numbers = [item.get("lineNumber") for item in _root(rendered).iter("ItemOut")]
    assert numbers == ["1", "3"]


def test_deployment_mode_follows_the_usage_indicator():
    stamp = datetime(2026, 12, 6, 10, 0)
    test = render(cxml_order(), "cxml", envelope=Envelope(usage_indicator="T", created_at=stamp))
    production = render(cxml_order(), "cxml")
    assert _root(test).find("Request").get("deploymentMode") == "test"
    assert _root(test).get("timestamp") == "2026-12-06T10:00:00+00:00"
    assert _root(production).find("Request").get("deploymentMode") == "production"
    assert render(cxml_order(), "cxml").body == production.body  # the same bytes on retry


def profile_envelope(**overrides):
    values = {
        "cxml_from_domain": "NetworkID",
        "cxml_from_identity": "AN01000000087",
        "cxml_to_domain": "DUNS",
        "cxml_to_identity": "123456789",
        "cxml_sender_domain": "NetworkID",
        "cxml_sender_identity": "AN01000000087",
        "cxml_shared_secret": "abracadabra-4711",
        "cxml_version": "1.2.063",
    }
    return Envelope(**dict(values, **overrides))


def _credentials(root, tag):
    return [
        (c.get("domain"), c.findtext("Identity"), c.findtext("SharedSecret"))
        for c in root.findall(f"Header/{tag}/Credential")
    ]


@pytest.mark.parametrize("purpose", ["original", "change", "cancel"])
def test_profile_credentials_secret_and_version(purpose):
    envelope = profile_envelope()
    rendered = render(cxml_order(purpose), "cxml", envelope=envelope)
    assert_valid(rendered.body, rules_expected=["cXML.dtd"])
    root = _root(rendered)
    assert root.get("version") == "1.2.063"
    assert b"/schemas/cXML/1.2.063/cXML.dtd" in rendered.body
    assert _credentials(root, "From") == [("NetworkID", "AN01000000087", None)]
    assert _credentials(root, "To") == [("DUNS", "123456789", None)]
    assert _credentials(root, "Sender") == [("NetworkID", "AN01000000087", "abracadabra-4711")]
    assert root.findtext("Header/Sender/UserAgent") == "healthcare_p2p_integration"
    # the secret is in the document (the supplier's network checks it), never in a repr
    assert "abracadabra" not in repr(envelope)
    assert "abracadabra" not in " ".join(rendered.warnings)


def test_status_update_carries_the_profile_credentials():
    rendered = render(invoice_response("RE"), "cxml", envelope=profile_envelope())
    assert_valid(rendered.body, rules_expected=["cXML.dtd"])
    root = _root(rendered)
    assert _credentials(root, "To") == [("DUNS", "123456789", None)]
    assert _credentials(root, "Sender")[0][2] == "abracadabra-4711"


def test_profile_without_credentials_uses_the_parties_and_no_secret():
    rendered = render(
        cxml_order(),
        "cxml",
        envelope=profile_envelope(
            cxml_from_identity="",
            cxml_to_identity="",
            cxml_sender_identity="",
            cxml_shared_secret="",
            cxml_version="",
        ),
    )
    root = _root(rendered)
    assert root.get("version") == "1.2.071"
    assert [d for d, _i, _s in _credentials(root, "From")] == ["GLN"]
    assert all(secret is None for _d, _i, secret in _credentials(root, "Sender"))
    # no Sender identity of its own: the From credential is the Sender's
    only_from = render(cxml_order(), "cxml", envelope=profile_envelope(cxml_sender_identity=""))
    assert _credentials(_root(only_from), "Sender") == [
        ("NetworkID", "AN01000000087", "abracadabra-4711")
    ]
    with pytest.raises(UnsupportedOutbound, match=r"cXML version '2\.0' is not 1\.2\.nnn"):
        render(cxml_order(), "cxml", envelope=profile_envelope(cxml_version="2.0"))


@pytest.mark.parametrize(
    ("status", "cxml_type"),
    [
        ("AB", "processing"),
        ("UQ", "processing"),
        ("AP", "reconciled"),
        ("RE", "rejected"),
        ("PD", "paid"),
    ],
)
def test_status_update_request(status, cxml_type):
    document = invoice_response(status)
    rendered = render(document, "cxml")
    assert_valid(rendered.body, rules_expected=["cXML.dtd"])
    body = _root(rendered).find("Request/StatusUpdateRequest")
    invoice_status = body.find("InvoiceStatus")
    assert invoice_status.get("type") == cxml_type
    assert invoice_status.find("InvoiceIDInfo").get("invoiceID") == "INV-991"
    comments = [c.text for c in invoice_status.findall("Comments")]
    assert comments[0] == "PRI: line 1: Unit price above contract"
    extrinsics = {e.get("name"): e.text for e in body.findall("Extrinsic")}
    assert extrinsics == {"UNCL4343InvoiceStatus": status, "orderID": "PO-2026-0042"}


def test_remittance_has_no_cxml_renderer():
    from .test_pure_outbound_x12 import payment

    with pytest.raises(UnsupportedOutbound, match="remittance cannot be sent as cxml"):
        render(payment(), "cxml")


def test_refusals():
    empty = cxml_order()
    empty.lines = []
    with pytest.raises(UnsupportedOutbound, match="no lines"):
        render(empty, "cxml")
    odd = cxml_order()
    odd.lines[0].line_number = "1A"
    with pytest.raises(UnsupportedOutbound, match="whole numbers"):
        render(odd, "cxml")
    unpriced = cxml_order()
    unpriced.lines[0].unit_price = None
    with pytest.raises(UnsupportedOutbound, match="unit price"):
        render(unpriced, "cxml")
    anonymous = cxml_order()
    anonymous.vendor = Party(name="No ids")
    with pytest.raises(UnsupportedOutbound, match="credential"):
        render(anonymous, "cxml")
    all_deleted = cxml_order("change")
    for line in all_deleted.lines:
        line.change_code = "delete"
    with pytest.raises(UnsupportedOutbound, match="send a cancellation"):
        render(all_deleted, "cxml")
    no_reason = invoice_response("RE")
    no_reason.reasons = []
    with pytest.raises(UnsupportedOutbound, match="needs a reason"):
        render(no_reason, "cxml")


def test_free_text_terms_go_as_a_comment():
    document = cxml_order()
    document.payment_terms = "2% 10, net 45"
    rendered = render(document, "cxml")
    assert_valid(rendered.body, rules_expected=["cXML.dtd"])
    assert any("sent as a comment" in w for w in rendered.warnings)
    head = _root(rendered).find("Request/OrderRequest/OrderRequestHeader")
    assert head.findtext("Comments") == "Payment terms: 2% 10, net 45"


def test_an_address_without_a_street_is_not_sent():
    """The DTD's PostalAddress needs a Street: a city and country alone are left out
    (and said), the document stays valid."""
    document = cxml_order()
    document.ship_to.address.street = document.ship_to.address.street2 = None
    rendered = render(document, "cxml")
    assert_valid(rendered.body, rules_expected=["cXML.dtd"])
    assert (
        _root(rendered).find("Request/OrderRequest/OrderRequestHeader/ShipTo/Address/PostalAddress")
        is None
    )
    assert "ship-to: address without a street not sent (cXML PostalAddress)" in rendered.warnings
