"""The supply chain part of the demo day (issue 18): documents the product reads, a truth
that adds up, an exclusion list that matches exactly the vendor meant, and the scorer's
arithmetic on hand-made outcomes (no Odoo needed)."""

import copy
import json
from collections import defaultdict
from decimal import Decimal

import pytest

from ..formats.registry import parse
from ..normalize.exclusion import Candidate
from ..normalize.exclusion import match_candidate
from ..normalize.exclusion import read_exclusions
from ..simulator import score
from ..simulator.generator import generate
from ..simulator.odoo_setup import CONNECTORS
from ..simulator.supply_chain import EXCLUDED_VENDOR
from ..simulator.supply_chain import EXPIRED_VENDOR


@pytest.fixture(scope="module", params=["tiny", "small"])
def day(request):
    return generate(seed=11, size=request.param)


def _docs(day, doc_type):
    everything = day["master"] + day["opening"] + day["documents"] + day["evening"]
    return [json.loads(d["body"]) for d in everything if d["doc_type"] == doc_type]


def test_every_supply_chain_document_is_read_and_allowed(day):
    allowed = {code: set(types) for code, _n, _s, types in CONNECTORS}
    types = {"stock_transfer", "stock_adjustment", "recall", "vendor", "purchase_order"}
    for doc in day["opening"] + day["documents"] + day["evening"] + day["master"]:
        assert doc["doc_type"] in allowed[doc["connector"]], doc["label"]
        if doc["doc_type"] in types:
            parsed = parse(doc["doc_type"], doc["content_type"], doc["body"].encode())
            assert len(parsed) == doc.get("batch", 1), doc["label"]
            assert not parsed[0].issues, (doc["label"], parsed[0].issues)
    # the recall comes in the evening, after the day that received its lots
    assert [d["doc_type"] for d in day["evening"]] == ["recall"]
    assert [d["doc_type"] for d in day["opening"]] == ["stock_adjustment"]


def test_stock_truth_adds_up(day):
    truth = day["truth"]["supply_chain"]
    [opening] = _docs(day, "stock_adjustment")[:1]
    counted = {ln["lot"]: Decimal(ln["quantity"]) for ln in opening["lines"]}
    expiry = {ln["lot"]: ln["expiry_date"] for ln in opening["lines"]}
    on_hand = {(r["facility"], r["lot"]): Decimal(r["quantity"]) for r in truth["on_hand"]}
    events = defaultdict(dict)
    for doc in _docs(day, "stock_transfer"):
        [line] = doc["lines"]
        events[doc["transfer_id"]][doc["event"]] = Decimal(line["quantity"])
        assert line["expiry_date"] == expiry[line["lot"]]  # the lot keeps its expiry
    for t in truth["transfers"]:
        ev = events[t["transfer_id"]]
        assert set(ev) == {"requested", "shipped", "received"}
        assert (ev["shipped"], ev["received"]) == (t["shipped"], t["received"])
        assert t["discrepancy"] == (t["received"] < t["shipped"])
        assert t["in_transit"] == t["shipped"] - t["received"]
        assert on_hand[t["from"], t["lot"]] == counted[t["lot"]] - t["shipped"]
        assert on_hand[t["to"], t["lot"]] == t["received"]
    assert sum(t["discrepancy"] for t in truth["transfers"]) == 1
    # adjustments: a recount, wastage, the expired lot written off whole, one refused
    adjustment = _docs(day, "stock_adjustment")[1]
    reasons = [ln["reason"] for ln in adjustment["lines"]]
    assert reasons == ["count", "wastage", "expired", "damaged"]
    recount, wasted, expired, damaged = adjustment["lines"]
    assert on_hand["WH", recount["lot"]] == Decimal(recount["quantity"])
    assert on_hand["WH", expired["lot"]] == 0 and expired["expiry_date"] < day["truth"]["day"]
    assert on_hand["WH", wasted["lot"]] == counted[wasted["lot"]] - Decimal(wasted["quantity"])
    assert Decimal(damaged["quantity"]) > on_hand["WH", damaged["lot"]]  # refused
    assert truth["adjustments"]["expected_exceptions"] == 1


def test_recall_names_lots_received_that_day(day):
    truth = day["truth"]["supply_chain"]
    recall = truth["recall"]
    [notice] = _docs(day, "recall")
    assert notice["item"]["gtin"] == recall["gtin"]
    received = {}
    for doc in _docs(day, "receipt"):
        for ln in doc["lines"]:
            if ln.get("lot") in notice["lots"]:
                received[ln["lot"]] = (doc["facility"]["name"], Decimal(ln["quantity_received"]))
    assert set(received) == set(notice["lots"])
    names = truth["facilities"]
    quarantined = defaultdict(Decimal)
    for facility, qty in received.values():
        code = next(c for c, n in names.items() if n == facility)
        quarantined[code] += qty
    assert {k: Decimal(v) for k, v in recall["quarantined"].items()} == quarantined
    assert recall["expected_exceptions"] == len(quarantined) == 2


def test_held_orders_and_exclusion_list(day):
    truth = day["truth"]["supply_chain"]
    vendors = {v["identifiers"][0]["value"]: v for v in _docs(day, "vendor")[0]}
    orders = {o["number"]: o for o in _docs(day, "purchase_order")}
    for hold in truth["vendor_holds"]:
        order = orders[hold["po_number"]]
        assert order["approval_status"] == "approved"
        assert order["vendor"]["identifiers"][0]["value"] == hold["vendor_gln"]
        line = order["lines"][0]
        assert Decimal(hold["amount"]) == Decimal(line["quantity"]) * Decimal(line["unit_price"])
        # no other order of the day goes to a vendor on hold
    held = {h["vendor_gln"] for h in truth["vendor_holds"]}
    assert sum(o["vendor"]["identifiers"][0]["value"] in held for o in orders.values()) == 2
    # the expired vendor's licence expired before the day; every credential is counted
    [expired_gln] = truth["expired_credential_vendors"]
    licence = next(
        c for c in vendors[expired_gln]["credentials"] if c["credential_type"] == "licence"
    )
    assert licence["valid_to"] < day["truth"]["day"]
    assert truth["credentials"] == sum(len(v.get("credentials", [])) for v in vendors.values())
    # the LEIE file matches the excluded vendor and no other (a reinstated entry never)
    records = list(read_exclusions(day["world"]["exclusion_list"]["csv"].splitlines(True)))
    assert len(records) == 4 and all(hasattr(r, "active") for r in records)
    matched = sorted(
        gln
        for gln, v in vendors.items()
        if match_candidate(Candidate(name=v["name"], key=gln), records)
    )
    assert matched == truth["exclusion_matches"]
    assert vendors[matched[0]]["name"] == EXCLUDED_VENDOR
    assert vendors[expired_gln]["name"] == EXPIRED_VENDOR


# --------------------------------------------------------------------------- the scorer


def _perfect_outcome(truth):
    """What Odoo would hold if it did exactly what the truth says."""
    names = truth["facilities"]
    lot_id = {}

    def lot(name):
        return [lot_id.setdefault(name, len(lot_id) + 1), name]

    quants = [
        {"lot_id": lot(r["lot"]), "warehouse_id": [1, names[r["facility"]]],
         "quantity": float(r["quantity"])}
        for r in truth["on_hand"]
    ]  # fmt: skip
    transit = [
        {"lot_id": lot(t["lot"]), "warehouse_id": False, "quantity": float(t["in_transit"])}
        for t in truth["transfers"]
        if t["in_transit"]
    ]
    orders = [
        {"id": 50 + n, "name": h["po_number"], "state": "draft",
         "amount_untaxed": float(h["amount"])}
        for n, h in enumerate(truth["vendor_holds"])
    ]  # fmt: skip
    glns = truth["exclusion_matches"] + truth["expired_credential_vendors"]
    exceptions = [
        {"exception_type": "transfer_discrepancy", "name": f"Transfer {t['transfer_id']}: short",
         "purchase_id": False}
        for t in truth["transfers"] if t["discrepancy"]
    ]  # fmt: skip
    exceptions += [{"exception_type": "stock_adjustment", "name": "x", "purchase_id": False}]
    exceptions += [
        {"exception_type": "recall", "name": "r", "purchase_id": False}
        for _f in truth["recall"]["quarantined"]
    ]
    exceptions += [
        {"exception_type": "vendor_hold", "name": "h", "purchase_id": [o["id"], o["name"]]}
        for o in orders
    ]
    exceptions += [{"exception_type": "price_variance", "name": "p", "purchase_id": False}]
    return {
        "transfers": [{"name": t["transfer_id"], "state": "received"} for t in truth["transfers"]],
        "quants": quants,
        "transit": transit,
        "lots": [
            {"name": t["lot"], "expiration_date": t["expiry"] + " 00:00:00"}
            for t in truth["transfers"]
        ],
        "recalls": [{"name": truth["recall"]["recall_id"], "state": "open"}],
        "recall_lines": [
            {
                "kind": "on_hand",
                "quarantined": True,
                "warehouse_id": [1, names[code]],
                "quantity": float(qty),
                "lot_id": [1, "x"],
            }
            for code, qty in truth["recall"]["quarantined"].items()
        ]
        + [
            {
                "kind": "receipt",
                "quarantined": False,
                "warehouse_id": [1, names["WH"]],
                "quantity": 99.0,
                "lot_id": [1, "x"],
            }
        ],
        "orders": orders,
        "vendors": [
            {
                "id": 70 + n,
                "global_location_number": g,
                "hc_vendor_hold": "expired credential: Licence"
                if g in truth["expired_credential_vendors"]
                else "possible exclusion",
            }
            for n, g in enumerate(glns)
        ],
        "matches": [{"partner_id": [70, "x"], "state": "pending"}],
        "credentials": [{"partner_id": [1, "v"], "state": "valid"}] * truth["credentials"],
        "exceptions": exceptions,
    }


def test_scorer_all_met_on_a_perfect_outcome():
    truth = generate(seed=5, size="tiny")["truth"]["supply_chain"]
    scored = score.score_supply_chain(truth, _perfect_outcome(truth))
    assert scored["failed"] == []
    assert scored["passed"] == scored["total"] > 20
    assert scored["exceptions"] == truth["expected_exceptions"]
    assert {k: Decimal(v) for k, v in scored["quarantined"].items()} == {
        k: Decimal(v) for k, v in truth["recall"]["quarantined"].items()
    }
    held = sum(Decimal(h["amount"]) for h in truth["vendor_holds"])
    assert Decimal(scored["held_amount"]) == held
    text = "\n".join(score.render_supply_chain(scored))
    assert f"{scored['passed']}/{scored['total']} checks met" in text
    assert "NO " not in text


def test_scorer_reports_each_miss_with_its_figures():
    truth = generate(seed=5, size="tiny")["truth"]["supply_chain"]
    outcome = _perfect_outcome(truth)
    bad = copy.deepcopy(outcome)
    # the recall quarantined only part of one facility's stock
    first = bad["recall_lines"][0]
    first["quantity"] -= 5
    # the short transfer's receipt took everything (no transit, no exception)
    bad["transit"] = []
    bad["exceptions"] = [
        e for e in bad["exceptions"] if e["exception_type"] != "transfer_discrepancy"
    ]
    # a held order was confirmed anyway
    bad["orders"][0]["state"] = "purchase"
    scored = score.score_supply_chain(truth, bad)
    failed = {c["check"]: c for c in scored["failed"]}
    code = next(c for c, n in truth["facilities"].items() if n == first["warehouse_id"][1])
    miss = failed[f"quarantined at {code}"]
    assert miss["expected"] - miss["actual"] == Decimal(5)
    short = next(t for t in truth["transfers"] if t["discrepancy"])
    assert failed[f"{short['transfer_id']} {short['lot']} still in transit"]["actual"] == 0
    assert failed["transfer_discrepancy exceptions"]["actual"] == 0
    assert f"{truth['vendor_holds'][0]['po_number']} (expired_credential) not confirmed" in failed
    assert scored["passed"] == scored["total"] - len(failed) and len(failed) == 5
    text = "\n".join(score.render_supply_chain(scored))
    assert f"expected {miss['expected']}, got {miss['actual']}" in text
