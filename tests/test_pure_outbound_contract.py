"""The outbound contract: kinds, the JSON renderer and refusals (no Odoo)."""

import json
from datetime import date

import pytest

from ..canonical import from_dict
from ..canonical.documents import Party
from ..canonical.outbound import InvoiceResponse
from ..canonical.outbound import ResponseReason
from ..formats import outbound

PO = {
    "number": "PO-1",
    "order_date": "2026-12-01",
    "currency": "USD",
    "vendor": {
        "name": "Acme Medical",
        "identifiers": [{"scheme": "GLN", "value": "0614141000012"}],
    },
    "lines": [
        {
            "line_number": "1",
            "item": {"gtin": "00614141000012"},
            "quantity": "2",
            "uom": "EA",
            "unit_price": "10.5",
        }
    ],
}


def _order(purpose="original"):
    return from_dict("purchase_order", {**PO, "purpose": purpose})


@pytest.mark.parametrize(
    ("purpose", "kind"),
    [("original", "order"), ("change", "order_change"), ("cancel", "order_cancel")],
)
def test_kind_of_purchase_order(purpose, kind):
    assert outbound.kind_of(_order(purpose)) == kind


def test_json_round_trip():
    rendered = outbound.render(_order(), "json")
    assert rendered.content_type == "application/json"
    assert from_dict("purchase_order", json.loads(rendered.body)) == _order()


def test_unknown_pair_refused():
    with pytest.raises(outbound.UnsupportedOutbound):
        outbound.render(_order(), "edifact")
    with pytest.raises(outbound.UnsupportedOutbound):
        outbound.kind_of(object())


def test_invoice_response_needs_reason_when_rejected():
    response = InvoiceResponse(
        response_id="R1",
        issue_date=date(2026, 12, 6),
        status="RE",
        invoice_number="INV-1",
        buyer=Party(name="Hospital"),
        seller=Party(name="Acme"),
    )
    assert response._check("")[0]["path"] == "reasons"
    response.reasons = [ResponseReason(reason_code="PRI", text="Price above contract")]
    assert response._check("") == []
    data = json.loads(outbound.render(response, "json").body)
    assert data["reasons"][0]["reason_code"] == "PRI"
