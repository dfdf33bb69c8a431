"""The supply chain part of the demo day (issue 18): documents the product reads, a truth
that adds up, an exclusion list that matches exactly the vendor meant, and the scorer's
arithmetic on hand-made outcomes (no Odoo needed)."""

import copy
import json
from collections import Counter
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


def _flat(day, doc_type):
    """The documents of ``doc_type``, batches opened."""
    docs = _docs(day, doc_type)
    return [d for doc in docs for d in (doc if isinstance(doc, list) else [doc])]


def test_every_supply_chain_document_is_read_and_allowed(day):
    allowed = {code: set(types) for code, _n, _s, types in CONNECTORS}
    types = {
        "stock_transfer",
        "stock_adjustment",
        "recall",
        "vendor",
        "purchase_order",
        "consumption",
    }
    for doc in day["opening"] + day["documents"] + day["evening"] + day["master"]:
        assert doc["doc_type"] in allowed[doc["connector"]], doc["label"]
        if doc["doc_type"] in types:
            parsed = parse(doc["doc_type"], doc["content_type"], doc["body"].encode())
            assert len(parsed) == doc.get("batch", 1), doc["label"]
            assert not parsed[0].issues, (doc["label"], parsed[0].issues)
    # the recall comes in the evening, after the day that received its lots
    assert [d["doc_type"] for d in day["evening"]] == ["recall"]
    # the opening counts: the stock room's lots, then the point-of-use locations
    assert [d["doc_type"] for d in day["opening"]] == ["stock_adjustment"] * 2


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
    [adjustment] = [
        d for d in _docs(day, "stock_adjustment") if d["adjustment_id"].startswith("ADJ-")
    ]
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
        "point_of_use": _perfect_point_of_use(truth["point_of_use"]),
    }


def _perfect_point_of_use(pou):
    """What ``point_of_use.read`` returns when the planner did exactly what the truth says."""
    gtins = [r["gtin"] for r in pou["par_levels"]] + [pou["consignment"]["gtin"]]
    pid = {g: 100 + n for n, g in enumerate(gtins)}
    station, cabinet, room = 201, 202, 300
    glns = sorted({r["vendor_gln"] for r in pou["par_levels"]} | {pou["bill_only"]["vendor_gln"]})
    vid = {g: 400 + n for n, g in enumerate(glns)}
    messages = [
        {"idempotency_key": k, "state": "done",
         "lane_id": [1, "Critical"] if r["critical"] else [2, "Standard"]}
        for r in pou["consumed"] for k in r["idempotency_keys"]
    ]  # fmt: skip
    messages += [
        {"idempotency_key": f"implant-{n}", "state": "done", "lane_id": [2, "Standard"]}
        for n in range(pou["consumption_documents"] - len(messages))
    ]
    quants = [
        {"product_id": [pid[r["gtin"]], "x"], "location_id": [station, "x"],
         "quantity": float(r["on_hand"]), "owner_id": False, "lot_id": False}
        for r in pou["consumed"]
    ]  # fmt: skip
    consigned = pou["consignment"]
    quants.append(
        {"product_id": [pid[consigned["gtin"]], "x"], "location_id": [cabinet, "x"],
         "quantity": float(consigned["left"]), "owner_id": [vid[consigned["vendor_gln"]], "v"],
         "lot_id": False}
    )  # fmt: skip
    orders = [
        {"id": 600 + n, "name": f"P{600 + n}", "state": "draft",
         "partner_id": [vid[o["vendor_gln"]], "v"], "priority": "1" if o["critical"] else "0",
         "amount_untaxed": float(o["amount"])}
        for n, o in enumerate(pou["draft_orders"])
    ]  # fmt: skip
    order_of = {(o["partner_id"][0], o["priority"]): o for o in orders}
    rows = pou["par_levels"]
    bill = pou["bill_only"]
    return {
        "products": [{"id": i, "barcode": g} for g, i in pid.items()],
        "locations": [{"id": station, "barcode": pou["station"]["barcode"]},
                      {"id": cabinet, "barcode": pou["cabinet"]["barcode"]}],
        "stock_rooms": [{"lot_stock_id": [room, "WH/Stock"]}],
        "vendors": [{"id": i, "global_location_number": g} for g, i in vid.items()],
        "messages": messages,
        "quants": quants,
        "orderpoints": [{"id": n} for n, _r in enumerate(rows)],
        "moves": [
            {"product_id": [pid[r["gtin"]], "x"], "product_uom_qty": float(r["transfer"]),
             "location_id": [room, "x"], "location_dest_id": [station, "x"],
             "priority": "1" if r["critical"] else "0", "state": "assigned"}
            for r in rows if r["transfer"]
        ],
        "orders": orders,
        "order_lines": [
            {"order_id": [order_of[vid[r["vendor_gln"]], "1" if r["critical"] else "0"]["id"],
                          "P"],
             "product_id": [pid[r["gtin"]], "x"], "product_qty": float(r["purchase"]),
             "price_unit": float(r["price"])}
            for r in rows if r["purchase"]
        ],
        "signals": [
            {"product_id": [pid[r["gtin"]], "x"], "state": "new",
             "planned_picking_id": [1, "WH/INT/1"], "purchase_order_id": [600, "P600"]}
            for r in rows if r["critical"]
        ],
        "bill_only": [{"name": "P00099", "state": "purchase",
                       "partner_id": [vid[bill["vendor_gln"]], "v"],
                       "amount_untaxed": float(bill["amount"]),
                       "hc_case_reference": bill["case_reference"]}],
        "bills": [{"invoice_origin": "P00099", "hc_match_state": "matched", "hc_released": True,
                   "amount_total": float(bill["total"])}],
    }  # fmt: skip


def test_scorer_all_met_on_a_perfect_outcome():
    truth = generate(seed=5, size="tiny")["truth"]["supply_chain"]
    scored = score.score_supply_chain(truth, _perfect_outcome(truth))
    assert scored["failed"] == []
    assert scored["passed"] == scored["total"] > 40
    areas = {c["area"] for c in scored["checks"]}
    assert {"consumption", "par levels", "bill-only"} <= areas
    pou = scored["point_of_use"]
    assert Decimal(pou["bill_only_released"]) == Decimal(
        truth["point_of_use"]["bill_only"]["total"]
    )
    assert Decimal(pou["draft_amount"]) == sum(
        Decimal(o["amount"]) for o in truth["point_of_use"]["draft_orders"]
    )
    assert Decimal(pou["transferred"]) == sum(
        p["transfer"] for p in truth["point_of_use"]["par_levels"]
    )
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


def test_point_of_use_truth_adds_up(day):
    """Consumption drives every par item below its minimum; what is planned is max - on
    hand, from the stock room first, the rest bought at the contract price."""
    pou = day["truth"]["supply_chain"]["point_of_use"]
    uses = _docs(day, "consumption")
    assert len(uses) == pou["consumption_documents"]
    assert {d["source_system"] for d in uses} == {"cabinet", "or"}
    for doc in uses:  # patient-free: only an opaque case reference
        assert set(doc) <= {"consumption_id", "source_system", "source_name", "location",
                            "item", "quantity", "uom", "case_reference", "consumed_at",
                            "udi", "lot"}  # fmt: skip
    [count] = [d for d in _docs(day, "stock_adjustment") if "-4W-" in d["adjustment_id"]]
    counted = defaultdict(Decimal)
    for ln in count["lines"]:
        counted[ln["item"]["gtin"], ln.get("location")] += Decimal(ln["quantity"])
    station = pou["station"]["barcode"]
    for row in pou["consumed"]:
        used = sum(
            Decimal(d["quantity"])
            for d in uses
            if d["item"]["gtin"] == row["gtin"] and d["location"] == station
        )
        assert used == row["consumed"]
        assert counted[row["gtin"], station] == row["opening"]
        assert row["on_hand"] == row["opening"] - used < 15  # below the minimum
    for par in pou["par_levels"]:
        on_hand = next(r["on_hand"] for r in pou["consumed"] if r["gtin"] == par["gtin"])
        in_room = counted[par["gtin"], None]
        assert par["transfer"] == min(in_room, par["max"] - on_hand)
        assert par["transfer"] + par["purchase"] == par["max"] - on_hand
        # planned once, at the use that took it below the minimum (the last one)
        assert par["plannings"] == 1
    kinds = {(bool(p["transfer"]), bool(p["purchase"]), p["critical"]) for p in pou["par_levels"]}
    # a transfer only, a purchase only, and the critical item taking both
    assert kinds == {(True, False, False), (False, True, False), (True, True, True)}
    # two items of one vendor bought on one order; the critical item on its own order
    drafts = pou["draft_orders"]
    assert [o["critical"] for o in drafts] == [False, True]
    bought = [p for p in pou["par_levels"] if p["purchase"] and not p["critical"]]
    assert len(bought) == 2 and len({p["vendor_gln"] for p in bought}) == 1
    assert Decimal(drafts[0]["amount"]) == sum(Decimal(p["price"]) * p["purchase"] for p in bought)
    # the critical item: one use scanned by GS1 UDI (GTIN, expiry, lot), one keyed by lot
    [critical] = [r for r in pou["consumed"] if r["critical"]]
    scans = [d for d in uses if d["item"]["gtin"] == critical["gtin"]]
    assert [("udi" in d, d.get("lot")) for d in scans] == [(True, None), (False, critical["lot"])]
    assert scans[0]["udi"].startswith(f"(01){critical['gtin']}(17)")
    assert scans[0]["udi"].endswith(f"(10){critical['lot']}")
    # the consigned implant used in the case: its serial by UDI; the contract price billed
    [implant] = [d for d in uses if d["source_system"] == "or"]
    bill = pou["bill_only"]
    assert implant["udi"] == f"(01){bill['gtin']}(21){pou['consignment']['used_serial']}"
    assert implant["case_reference"] == bill["case_reference"]
    assert pou["consignment"]["used_serial"] in pou["consignment"]["serials"]
    [contract] = [c for c in _flat(day, "contract_price") if c["item"]["gtin"] == bill["gtin"]]
    assert Decimal(contract["price"]) == Decimal(bill["amount"]) == Decimal(bill["total"])
    items = {i["gtin"]: i for i in _flat(day, "item")}
    assert items[bill["gtin"]]["serial_tracked"] is True
    assert items[critical["gtin"]]["critical"] is True


def test_bill_only_invoice_is_a_clean_ubl_bill_of_the_order():
    """The implant vendor's invoice names the bill-only order Odoo numbered, at the
    contract price, and reads back with the product's own UBL reader."""
    from ..simulator import point_of_use

    result = generate(seed=5, size="tiny")
    pou = result["truth"]["supply_chain"]["point_of_use"]
    calls = []

    def rpc(model, method, **kwargs):
        calls.append((model, method, kwargs["domain"]))
        return [{"name": "P00042", "state": "purchase"}]

    [doc] = point_of_use.bill_only_invoices(rpc, pou, result["world"])
    assert ("hc_case_reference", "=", pou["bill_only"]["case_reference"]) in calls[0][2]
    assert (doc["connector"], doc["doc_type"]) == ("ap", "invoice")
    [parsed] = parse("invoice", doc["content_type"], doc["body"].encode())
    assert not parsed.issues, parsed.issues
    invoice = parsed.document
    assert invoice.all_po_numbers() == ["P00042"]
    assert invoice.number == pou["bill_only"]["invoice_number"]
    assert Decimal(invoice.payable_amount) == Decimal(pou["bill_only"]["total"])
    assert point_of_use.bill_only_invoices(lambda *a, **k: [], pou, result["world"]) == []


def test_scorer_reports_point_of_use_misses():
    truth = generate(seed=5, size="tiny")["truth"]["supply_chain"]
    pou = truth["point_of_use"]
    outcome = _perfect_outcome(truth)
    bad = copy.deepcopy(outcome)
    b = bad["point_of_use"]
    # one cabinet event lost: the station holds 3 more of the first item than it should
    b["quants"][0]["quantity"] += 3
    # the stock room transfer planned one short
    b["moves"][0]["product_uom_qty"] -= 1
    # the grouped vendor got two orders instead of one
    extra = dict(b["orders"][0], id=699, amount_untaxed=1.0)
    b["orders"].append(extra)
    # the critical consumption took the standard lane
    critical_key = next(k for r in pou["consumed"] if r["critical"] for k in r["idempotency_keys"])
    next(m for m in b["messages"] if m["idempotency_key"] == critical_key)["lane_id"] = [2, "S"]
    # the implant bill was blocked
    b["bills"][0]["hc_released"] = False
    scored = score.score_supply_chain(truth, bad)
    failed = {c["check"]: c for c in scored["failed"]}
    first = pou["consumed"][0]
    key = f"{first['description'][:30]} at {first['location']} ({first['opening']} - "
    miss = failed[f"{key}{first['consumed']})"]
    assert miss["actual"] - miss["expected"] == 3
    transfer = failed["flush: transfer from the stock room"]
    assert Decimal(transfer["expected"]) - Decimal(transfer["actual"]) == 1
    grouped = next(c for name, c in failed.items() if "one draft order" in name)
    assert grouped["actual"].startswith("2 orders ")
    assert failed["critical item's consumption in the critical lane"]["actual"].count(False) == 1
    assert failed["released amount = the vendor's total"]["actual"] == "not released"
    assert len(failed) == 5 and scored["passed"] == scored["total"] - 5
    assert Decimal(scored["point_of_use"]["bill_only_released"]) == 0
    # nothing read at all: every point-of-use check fails, none raises
    empty = score.score_supply_chain(truth, dict(outcome, point_of_use=None))
    areas = Counter(c["area"] for c in empty["failed"])
    assert set(areas) == {"consumption", "par levels", "bill-only"}
