"""The demo's supplier gateway: it receives what Odoo sends, checks the signature and the
format each vendor expects, and answers X12 with a 997/999 the module's own reader accepts.

The gateway is written from the standards, independently of the module's code; these
tests hold the two against each other (no Odoo needed).
"""

import hashlib
import hmac
import json
import time

import pytest
import requests

from ..formats.x12.envelope import read_interchange
from ..simulator import supplier
from .samples import read_sample

SECRET = "s3cret-of-vendor-a"


def _post(gateway, vendor, body, content_type, event_id, secret=SECRET):
    stamp = str(int(time.time()))
    sig = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return requests.post(
        gateway.url(vendor),
        data=body,
        headers={
            "Content-Type": content_type,
            "X-HC-Event-Id": event_id,
            "X-HC-Signature": f"t={stamp},v1={sig}",
        },
        timeout=10,
    )


@pytest.fixture
def x12_850():
    return read_sample("x12_850_node-x12.edi")


@pytest.fixture
def gateway():
    acks = []

    def send_ack(vendor, text):
        acks.append((vendor, text))
        return 202

    gw = supplier.SupplierGateway(
        {"va": "x12", "vb": "json", "vc": "ubl"},
        {"va": SECRET, "vb": SECRET, "vc": SECRET},
        send_ack=send_ack,
    ).start()
    gw.sent_acks = acks
    yield gw
    gw.stop()


def test_format_of():
    assert supplier.format_of("application/json", b'{"doc_type": "purchase_order"}') == (
        "json",
        "purchase_order",
    )
    ubl = b'<?xml version="1.0"?>\n<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2">'
    assert supplier.format_of("application/xml", ubl) == ("ubl", "Order")
    cxml = (
        b'<?xml version="1.0"?><!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd">'
        b'<cXML><Request><OrderRequest><OrderRequestHeader orderID="1" type="update">'
    )
    assert supplier.format_of("text/xml", cxml) == ("cxml", "OrderRequest:update")


def test_x12_delivery_is_acknowledged_in_a_997_the_module_reads(gateway, x12_850):
    response = _post(gateway, "va", x12_850, "application/edi-x12", "ev-1")
    assert response.status_code == 200
    # the same event again (at-least-once delivery): recognised, not counted twice
    assert _post(gateway, "va", x12_850, "application/edi-x12", "ev-1").status_code == 200
    assert gateway.summary()["delivered"] == 1 and gateway.repeats == 1
    # the sample asks for no acknowledgment (ISA14 = 0): nothing is queued
    assert gateway.flush_acks() == 0

    asking = x12_850.replace(b"*000003438*0*P*", b"*000003438*1*P*")
    assert _post(gateway, "va", asking, "application/edi-x12", "ev-2").status_code == 200
    assert gateway.flush_acks() == 1
    vendor, text = gateway.sent_acks[-1]
    assert vendor == "va"
    ack = read_interchange(text.encode(), strict=True)
    assert not ack.all_errors()
    # sender and receiver swapped, the answered group and set named
    assert ack.sender == ("01", "999999999")
    assert ack.receiver == ("12", "4405197800")
    (tx,) = ack.transactions
    assert tx.set_id == "997"
    segments = {seg.tag: seg for seg in tx.segments}
    assert segments["AK1"][2] == "1421"
    assert (segments["AK2"][1], segments["AK2"][2]) == ("850", "000000010")
    assert segments["AK5"][1] == "A"
    assert gateway.summary()["acknowledged"] == 1


def test_005010_is_answered_with_a_999():
    env = supplier.X12Envelope("*", ">", "~", "ZZ", "HOSP", "ZZ", "VENDOR", "000000007", "T", True)
    env.groups.append(("PO", "7", "005010", [("850", "0001"), ("850", "0002")]))
    ack = read_interchange(supplier.functional_ack(env, 3).encode(), strict=True)
    assert not ack.all_errors()
    assert ack.isa[15] == "T"  # a test interchange is answered as a test interchange
    (tx,) = ack.transactions
    assert tx.set_id == "999"
    assert [s.tag for s in tx.segments].count("IK5") == 2


def test_refusals(gateway, x12_850):
    # a forged signature, the wrong format for the vendor, an unknown vendor
    assert _post(gateway, "va", x12_850, "application/edi-x12", "e1", secret="x").status_code == 400
    body = json.dumps({"doc_type": "purchase_order"}).encode()
    assert _post(gateway, "va", body, "application/json", "e2").status_code == 400
    assert _post(gateway, "zz", body, "application/json", "e3").status_code == 404
    assert gateway.summary()["delivered"] == 0 and len(gateway.refused) == 3


# -- the day's outbound truth and its score ---------------------------------------------


@pytest.fixture(scope="module")
def small_day():
    from ..simulator.generator import generate

    return generate(42, "small")


def test_every_vendor_has_a_format_and_the_truth_names_the_orders(small_day):
    from ..simulator import trading

    world, truth = small_day["world"], small_day["truth"]
    rows = trading.assignments(world)
    assert len(rows) == len(world["vendors"])
    assert {r["format"] for r in rows} == {"x12", "ubl", "cxml", "json"}
    assert {r["x12_version"] for r in rows if r["format"] == "x12"} == {"004010", "005010"}
    out = truth["outbound"]
    held = {h["po_number"] for h in truth["supply_chain"]["vendor_holds"]}
    posted = {
        json.loads(d["body"])["number"]
        for d in small_day["documents"]
        if d["doc_type"] == "purchase_order"
    }
    assert held and held <= posted
    # every order the sourcing system posted leaves, except those of vendors on hold
    assert set(out["orders"]) == {n for n in posted if n not in held} - {
        n for n in posted if not any(
            r["gln"] == _vendor_gln(small_day, n) for r in rows
        )
    }  # fmt: skip
    assert out["x12_orders"] == sorted(n for n, f in out["orders"].items() if f == "x12")
    assert sum(out["by_format"].values()) == len(out["orders"])
    assert all(out["by_format"][f] for f in ("x12", "ubl", "cxml", "json"))


def _vendor_gln(day, number):
    for d in day["documents"]:
        if d["doc_type"] == "purchase_order":
            body = json.loads(d["body"])
            if body["number"] == number:
                return body["vendor"]["identifiers"][0]["value"]
    return None


def test_outbound_score():
    from ..simulator import trading

    truth = {
        "orders": {"PO-1": "x12", "PO-2": "ubl", "PO-3": "x12"},
        "x12_orders": ["PO-1", "PO-3"],
    }

    def doc(ref, fmt, delivery="delivered", ack="not_expected", kind="order", state="queued"):
        return {"name": ref, "res_ref": ref, "fmt": fmt, "kind": kind, "state": state,
                "delivery_state": delivery, "ack_state": ack}  # fmt: skip

    all_good = [doc("PO-1", "x12", ack="accepted"), doc("PO-2", "ubl"),
                doc("PO-3", "x12", ack="accepted"), doc("PO-1", "x12", kind="order_change")]  # fmt: skip
    result = trading.score(truth, all_good)
    assert result["met"]
    assert (result["orders_delivered"], result["x12_acknowledged"]) == (3, 2)
    assert result["other_documents"]["order_change"] == 1
    missing = [doc("PO-1", "x12", ack="pending"), doc("PO-2", "json"), doc("PO-9", "json")]
    result = trading.score(truth, missing)
    assert not result["met"]
    assert result["not_delivered"] == ["PO-3"]
    assert result["not_acknowledged"] == ["PO-1", "PO-3"]
    assert result["orders_right_format"] == 1  # PO-2 left as JSON, not UBL
    assert result["unexpected"] == ["PO-9"]
    assert "NOT met" in trading.render(result)


def test_disputes_are_scored_by_the_invoice_responses_delivered():
    from ..simulator import trading

    truth = {"orders": {"PO-1": "json"}, "x12_orders": []}
    order = {"name": "o", "res_ref": "PO-1", "fmt": "json", "kind": "order", "state": "queued",
             "delivery_state": "delivered", "ack_state": "not_expected"}  # fmt: skip
    told = dict(order, name="r", res_ref="BILL/1", kind="invoice_response")
    disputes = {"credit_note": ["BILL/1"], "reject": ["BILL/2"]}
    result = trading.score(truth, [order, told], disputes=disputes)
    assert (result["responses_expected"], result["responses_delivered"]) == (2, 1)
    assert result["not_told"] == ["BILL/2"] and not result["met"]
    assert "disputes told the vendor" in trading.render(result)
    told2 = dict(told, name="r2", res_ref="BILL/2")
    assert trading.score(truth, [order, told, told2], disputes=disputes)["met"]
