"""PEPPOL BIS Ordering 3 Order Response and UBL 2.1 OrderResponse(Simple) on /po-acks
(issue 17 item 4), read into the canonical PO acknowledgment, without Odoo.

No public Order Response sample is in the shared samples; the documents are built after
the BIS rules (PEPPOL-T76: codes AP/RE/AB carry no lines, CA does; line status codes
1, 3, 5, 7, 42).
"""

from datetime import date
from decimal import Decimal

import pytest

from ..formats.errors import ParseError
from ..formats.registry import parse
from ..formats.registry import split
from .generated_documents import order_response
from .generated_documents import order_response_line
from .generated_documents import order_response_simple

XML = "application/xml"
GLOVES = "00614141000418"


def _ack(payload):
    (parsed,) = parse("po_ack", XML, payload)
    assert parsed.source_format == "ubl"
    return parsed


def test_conditionally_accepted_with_changed_rejected_and_accepted_lines():
    lines = [
        order_response_line("1", "3", quantity="80", price="48.75", base="5", promised="2026-03-14",
                            gtin=GLOVES, note="allocation"),
        order_response_line("2", "7", quantity="0", note="discontinued"),
        order_response_line("3", "5", quantity="10", price="4.00"),
        order_response_line("4", "42"),
    ]  # fmt: skip
    parsed = _ack(order_response("PO-1001", "CA", lines))
    ack = parsed.document
    assert (ack.po_number, ack.ack_number, ack.ack_date) == ("PO-1001", "OR-1", date(2026, 3, 3))
    assert ack.status == "accepted_with_changes" and ack.currency == "USD"
    assert ack.vendor.identifier("GLN") == "0614141000012"
    assert ack.buyer.identifier("GLN") == "0614141000005"
    changed, rejected, accepted, delivered = ack.lines
    assert (changed.line_number, changed.status) == ("1", "change")
    assert (changed.quantity, changed.uom) == (Decimal("80"), "EA")
    assert changed.unit_price == Decimal("9.75"), "48.75 per 5: the price per single unit"
    assert changed.scheduled_date == date(2026, 3, 14)
    assert changed.item.gtin == GLOVES and changed.reason == "allocation"
    assert (rejected.status, rejected.reason) == ("reject", "discontinued")
    assert (accepted.status, accepted.unit_price) == ("accept", Decimal("4.00"))
    assert (delivered.status, delivered.reason) == ("accept", "already delivered")
    assert delivered.item is None and delivered.quantity is None
    assert split("po_ack", XML, order_response("PO-1001", "CA", lines)) == [
        order_response("PO-1001", "CA", lines)
    ]


@pytest.mark.parametrize(
    "code,status",
    [("AP", "accepted"), ("RE", "rejected"), ("AB", "accepted")],
)
def test_whole_order_codes(code, status):
    parsed = _ack(order_response("PO-1001", code, note="see terms"))
    assert parsed.document.status == status and parsed.document.lines == []
    codes = {issue.code for issue in parsed.issues}
    assert "order_response_note" in codes
    assert ("order_response_acknowledged" in codes) == (code == "AB")


def test_every_line_rejected_rejects_the_order():
    lines = [order_response_line("1", "7"), order_response_line("2", "7")]
    assert _ack(order_response("PO-1001", "CA", lines)).document.status == "rejected"


def test_line_added_by_the_seller_is_a_change_with_an_issue():
    added = order_response_line("9", "1", quantity="5", price="2.00").replace(
        "<cbc:LineID>9</cbc:LineID>", "<cbc:LineID>NA</cbc:LineID>"
    )
    parsed = _ack(order_response("PO-1001", "CA", [added]))
    (line,) = parsed.document.lines
    assert (line.line_number, line.status) == ("9", "change")
    assert "added by the seller" in line.reason
    assert "order_line_added" in {issue.code for issue in parsed.issues}


def test_substituted_item_is_a_change():
    line = order_response_line("1", "5", quantity="100").replace(
        "</cac:LineItem>",
        "</cac:LineItem><cac:SellerSubstitutedLineItem><cbc:ID>1</cbc:ID><cac:Item>"
        "<cac:SellersItemIdentification><cbc:ID>GL-200</cbc:ID></cac:SellersItemIdentification>"
        "</cac:Item></cac:SellerSubstitutedLineItem>",
    )
    parsed = _ack(order_response("PO-1001", "CA", [line]))
    (ack_line,) = parsed.document.lines
    assert ack_line.status == "change" and "substituted by GL-200" in ack_line.reason


@pytest.mark.parametrize("accepted,status", [(True, "accepted"), (False, "rejected")])
def test_order_response_simple(accepted, status):
    parsed = _ack(order_response_simple("PO-1001", accepted, note=None if accepted else "no stock"))
    ack = parsed.document
    assert (ack.po_number, ack.ack_number, ack.status) == ("PO-1001", "ORS-1", status)
    assert ack.ack_date == date(2026, 3, 4) and ack.lines == []
    assert ("order_response_note" in {i.code for i in parsed.issues}) == (not accepted)


@pytest.mark.parametrize(
    "payload,code",
    [
        (order_response("PO-1001", "ZZ"), "ubl_value"),
        (order_response("PO-1001", "CA", [order_response_line("1", "99")]), "ubl_value"),
        (order_response("", "AP"), "ubl_required"),
        (order_response_simple("PO-1001", True).replace(b">true<", b">maybe<"), "ubl_value"),
    ],
)
def test_broken_order_response_is_a_clear_error(payload, code):
    with pytest.raises(ParseError) as info:
        parse("po_ack", XML, payload)
    assert info.value.code == code


def test_order_response_goes_only_to_po_acks():
    payload = order_response("PO-1001", "AP")
    with pytest.raises(ParseError) as info:
        split("invoice", XML, payload)
    assert info.value.code == "unexpected_doc_type" and "OrderResponse" in info.value.message


def test_openapi_documents_order_responses_on_po_acks():
    from ..api_contract.openapi import build

    post = build()["paths"]["/api/hc/v1/po-acks"]["post"]
    assert "application/xml" in post["requestBody"]["content"]
    assert "OrderResponseSimple" in post["description"]
