"""The demo day generator: deterministic, valid identifiers, readable documents, honest truth.

Also the scorer's arithmetic on a hand-made outcome (no Odoo needed).
"""

import json
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP
from decimal import Decimal

import pytest

from ..formats.registry import parse
from ..normalize.identifiers import gs1_check_digit_ok
from ..simulator import score
from ..simulator.generator import AMOUNT_FAULTS
from ..simulator.generator import COVERAGE
from ..simulator.generator import SCENARIOS
from ..simulator.generator import SIZES
from ..simulator.generator import TOLERANCE
from ..simulator.generator import generate

CENT = Decimal("0.01")
# what the readers report about a document wrong on purpose (and X12 without CUR)
AMOUNT_ISSUES = {"total_mismatch", "x12_total_mismatch"}


@pytest.fixture(scope="module")
def day():
    return generate(seed=7, size="small")


def test_same_seed_same_documents_and_truth(day):
    again = generate(seed=7, size="small")
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(
        day, sort_keys=True, default=str
    )
    # byte for byte, in every size (the amounts are strings, never floats)
    for size in ("tiny", "full"):
        first, second = generate(seed=11, size=size), generate(seed=11, size=size)
        assert [d["body"] for d in first["documents"]] == [d["body"] for d in second["documents"]]
        assert json.dumps(first["truth"]) == json.dumps(second["truth"])


def test_other_seed_other_day(day):
    other = generate(seed=8, size="small")
    assert [d["body"] for d in other["documents"]] != [d["body"] for d in day["documents"]]


def test_sizes():
    assert len(generate(1, "tiny")["world"]["items"]) == SIZES["tiny"][1]
    with pytest.raises(ValueError):
        generate(1, "huge")


def test_identifiers_have_valid_check_digits(day):
    world = day["world"]
    glns = [v["gln"] for v in world["vendors"]] + [f["gln"] for f in world["facilities"]]
    gtins = [i["gtin"] for i in world["items"]]
    assert all(len(g) == 13 and gs1_check_digit_ok(g) for g in glns)
    assert all(len(g) == 14 and gs1_check_digit_ok(g) for g in gtins)
    assert len(set(glns)) == len(glns) and len(set(gtins)) == len(gtins)
    # a wrong check digit would be caught by the same function
    assert not gs1_check_digit_ok(gtins[0][:-1] + str((int(gtins[0][-1]) + 1) % 10))


def test_every_document_is_read_by_the_product(day):
    faulty_amounts = {
        t["idempotency_key"] for t in day["truth"]["invoices"] if t["scenario"] in AMOUNT_FAULTS
    }
    for doc in day["master"] + day["documents"]:
        parsed = parse(doc["doc_type"], doc["content_type"], doc["body"].encode())
        assert len(parsed) == doc.get("batch", 1), doc["label"]
        issues = [i for p in parsed for i in p.issues if i.code != "x12_currency_default"]
        if doc["idempotency_key"] in faulty_amounts:  # a reader may notice, never refuse
            issues = [i for i in issues if i.code not in AMOUNT_ISSUES]
        assert not issues, (doc["label"], issues)


def test_invoice_formats_round_trip(day):
    """Each format reads back as the invoice the generator meant."""
    invoices = {}
    for doc in day["documents"]:
        if doc["endpoint"] != "invoices":
            continue
        [parsed] = parse("invoice", doc["content_type"], doc["body"].encode())
        invoices.setdefault(doc["content_type"], []).append(parsed)
        inv = parsed.document
        assert inv.lines
        assert inv.vendor.identifier("GLN")
    assert set(invoices) == {"application/json", "application/xml", "application/edi-x12"}
    formats = {p.source_format for ps in invoices.values() for p in ps}
    assert formats >= {"json", "ubl", "cxml", "x12"}


def test_truth_labels_are_consistent(day):
    truth = day["truth"]
    by_key = {t["idempotency_key"]: t for t in truth["invoices"]}
    posted = {d["idempotency_key"]: d for d in day["documents"] if d["endpoint"] == "invoices"}
    assert set(by_key) == set(posted), "one truth entry per invoice document posted"
    assert len(by_key) == len(truth["invoices"])
    for entry in truth["invoices"]:
        clean = SCENARIOS.get(entry["scenario"], (0, False))[1]
        if entry["scenario"].startswith("duplicate"):
            assert entry["clean"] is False and entry["faults"] == ["duplicate"]
            original = by_key[entry["duplicate_of"]]
            assert original["clean"] and original["invoice_number"] == entry["invoice_number"]
            assert original["amount"] == entry["amount"]
        elif entry["scenario"] == "unknown_vendor":
            assert entry["faults"] == ["unknown_vendor"]
        else:
            assert entry["clean"] is clean
        assert bool(entry["faults"]) is (not entry["clean"])
        assert (entry["clean"] and not entry["expected_exceptions"]) or not entry["clean"]
    counts = truth["counts"]
    assert counts["clean"] + counts["faulty"] == counts["invoices"] == len(truth["invoices"])
    assert counts["clean"] and counts["faulty"]


def test_truth_matches_the_documents(day):
    """The faults the truth names are really in the documents."""
    docs = {d["idempotency_key"]: d for d in day["documents"]}
    pos = {}
    receipts = {}
    for d in day["documents"]:
        if d["endpoint"] == "purchase-orders":
            po = json.loads(d["body"])
            pos[po["number"]] = po
        elif d["endpoint"] == "receipts":
            gr = json.loads(d["body"])
            receipts[gr["po_number"]] = gr
    for entry in day["truth"]["invoices"]:
        if entry["scenario"] in ("unknown_vendor",) or entry["scenario"].startswith("duplicate"):
            continue
        doc = docs[entry["idempotency_key"]]
        [parsed] = parse("invoice", doc["content_type"], doc["body"].encode())
        inv = parsed.document
        po = pos[entry["po_number"]]
        po_lines = {ln["line_number"]: ln for ln in po["lines"]}
        received = {
            ln["line_number"]: Decimal(ln["quantity_received"])
            for ln in receipts.get(entry["po_number"], {"lines": []})["lines"]
        }
        price_up = any(
            ln.po_line_ref
            and ln.unit_price > Decimal(po_lines[ln.po_line_ref]["unit_price"]) * Decimal("1.02")
            for ln in inv.lines
        )
        over_billed = any(
            ln.po_line_ref and ln.quantity > received.get(ln.po_line_ref, 0) for ln in inv.lines
        )
        no_ref = any(not ln.po_line_ref for ln in inv.lines)
        assert price_up == (entry["scenario"] in ("price_variance", "ack_price_raised")), entry
        assert no_ref == (entry["scenario"] == "unknown_item_line"), entry
        if entry["scenario"] in ("billed_more_than_received", "nothing_received"):
            assert over_billed, entry
        if entry["clean"]:
            assert not over_billed, entry


# --------------------------------------------------------------------------- amounts


def _invoice_docs(result):
    docs = {d["idempotency_key"]: d for d in result["documents"]}
    for entry in result["truth"]["invoices"]:
        doc = docs[entry["idempotency_key"]]
        [parsed] = parse("invoice", doc["content_type"], doc["body"].encode())
        yield entry, doc, parsed.document


def _base_scenario(result, entry):
    """A resubmission states what its original states."""
    if "duplicate_of" not in entry:
        return entry["scenario"]
    by_key = {e["idempotency_key"]: e for e in result["truth"]["invoices"]}
    return by_key[entry["duplicate_of"]]["scenario"]


def _stated(inv):
    """(untaxed, tax, total) as a parsed invoice states them."""
    total = inv.payable_amount if inv.payable_amount is not None else inv.gross_total
    untaxed = inv.tax_exclusive_total
    if untaxed is None:
        untaxed = inv.net_total - (inv.allowance_total or 0) + (inv.charge_total or 0)
    return untaxed, inv.tax_total or Decimal(0), total


def _round(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def test_every_amount_scenario_appears_at_small_in_two_formats(day):
    formats = defaultdict(set)
    for entry in day["truth"]["invoices"]:
        formats[entry["scenario"]].add(entry["format"])
        formats[entry["format"]].add(entry["scenario"])
    for scenario in COVERAGE:
        assert len(formats[scenario]) >= 2, (scenario, formats[scenario])
    assert formats["x12_summary"], "a summary 810"
    # taxed (two standard rates), exempt and untaxed vendors all invoice that day
    regimes = {json.dumps(e["tax"], sort_keys=True) for e in day["truth"]["invoices"]}
    assert {'{"category": "S", "rate": "8"}', '{"category": "S", "rate": "10"}', "null"} <= regimes
    assert any('"E"' in r for r in regimes)
    counts = day["truth"]["counts"]
    assert counts["faulty_amounts"] == sum(
        e["scenario"] in AMOUNT_FAULTS for e in day["truth"]["invoices"]
    )


@pytest.mark.parametrize(("seed", "size"), [(7, "small"), (42, "full"), (3, "tiny")])
def test_truth_totals_are_what_the_documents_state(seed, size):
    """Read with the product's own readers, every document states the truth's totals."""
    result = generate(seed=seed, size=size)
    seen = set()
    for entry, doc, inv in _invoice_docs(result):
        expected = tuple(Decimal(entry["expected_totals"][k]) for k in ("untaxed", "tax", "total"))
        assert _stated(inv) == expected, (doc["label"], entry["scenario"], entry["format"])
        assert Decimal(entry["amount"]) == expected[2]
        seen.add(entry["format"])
    assert seen >= ({"json", "ubl", "cxml", "x12"} if size != "tiny" else {"ubl"})


def test_amounts_are_right_unless_made_wrong(day):
    """Clean documents add up; a faulty one is wrong exactly where its truth says."""
    for entry, doc, inv in _invoice_docs(day):
        scenario, where = _base_scenario(day, entry), (doc["label"], entry["scenario"])
        untaxed, tax, total = _stated(inv)
        wrong_lines = [ln for ln in inv.lines if ln.line_total != _round(ln.computed_total())]
        assert len(wrong_lines) == (scenario == "line_amount_not_qty_times_price"), where
        assert sum(ln.line_total for ln in inv.lines) == inv.net_total, where
        assert ((untaxed + tax) != total) == (scenario == "total_not_adding_up"), where
        regime = entry["tax"]
        if regime is None:  # (cXML cannot leave its Tax out: it states 0.00, no rate)
            assert tax == 0 and not any(t.rate is not None or t.amount for t in inv.taxes), where
            continue
        [stated_tax] = inv.taxes
        assert stated_tax.rate == Decimal(regime["rate"]), where
        rate_times_base = _round(untaxed * Decimal(regime["rate"]) / 100)
        assert (tax != rate_times_base) == (scenario == "tax_not_rate_times_base"), where
        if scenario == "tax_not_rate_times_base":
            assert tax - rate_times_base >= 1, where  # beyond any rounding tolerance


def test_allowances_and_charges_as_the_scenario_says(day):
    limit_pct = Decimal(str(TOLERANCE["charge_pct"])) / 100
    limit_abs = Decimal(str(TOLERANCE["charge_abs"]))
    for entry, doc, inv in _invoice_docs(day):
        scenario, where = _base_scenario(day, entry), (doc["label"], entry["scenario"])
        line_allowances = [a for ln in inv.lines for a in ln.allowance_charges]
        charges = [a for a in inv.allowance_charges if a.is_charge]
        allowances = [a for a in inv.allowance_charges if not a.is_charge]
        assert bool(line_allowances) == (scenario == "clean_line_allowance"), where
        assert all(not a.is_charge and a.amount > 0 for a in line_allowances), where
        assert bool(allowances) == (scenario == "clean_document_allowance"), where
        assert bool(charges) == ("freight" in scenario), where
        if "freight" in scenario:
            [freight] = charges
            goods = sum(ln.quantity * ln.unit_price for ln in inv.lines)
            if scenario == "clean_freight_within_tolerance":
                assert freight.amount <= max(limit_pct * inv.net_total, limit_abs), where
            else:  # beyond on the largest base the product could take
                assert freight.amount > max(limit_pct * goods, limit_abs) * Decimal("1.5"), where


def test_acknowledgment_raises_the_price_the_invoice_bills(day):
    docs = {d["idempotency_key"]: d for d in day["documents"]}
    acks = {}
    for d in day["documents"]:
        if d["endpoint"] == "po-acks":
            [parsed] = parse("po_ack", d["content_type"], d["body"].encode())
            acks[parsed.document.po_number] = (d, parsed.document)
    raised = [e for e in day["truth"]["invoices"] if e["scenario"] == "ack_price_raised"]
    assert raised
    for entry in raised:
        ack_doc, ack = acks[entry["po_number"]]
        [changed] = [ln for ln in ack.lines if ln.status == "change"]
        assert ack.status == "accepted_with_changes"
        po = next(
            json.loads(d["body"])
            for d in day["documents"]
            if d["endpoint"] == "purchase-orders"
            and json.loads(d["body"])["number"] == ack.po_number
        )
        agreed = Decimal(po["lines"][int(changed.line_number) - 1]["unit_price"])
        assert changed.unit_price > agreed * Decimal("1.05")
        [parsed] = parse("invoice", docs[entry["idempotency_key"]]["content_type"],
                         docs[entry["idempotency_key"]]["body"].encode())  # fmt: skip
        billed = {ln.po_line_ref: ln.unit_price for ln in parsed.document.lines}
        assert billed[changed.line_number] == changed.unit_price
        # the acknowledgment comes after its PO, the invoice after the acknowledgment
        order = [d["idempotency_key"] for d in day["documents"]]
        assert order.index(ack_doc["idempotency_key"]) < order.index(entry["idempotency_key"])


def test_summary_810_names_only_the_po():
    result = generate(seed=42, size="full")
    docs = {d["idempotency_key"]: d for d in result["documents"]}
    summaries = [e for e in result["truth"]["invoices"] if e["format"] == "x12_summary"]
    assert any(e["tax"] and e["tax"]["category"] == "S" for e in summaries)
    assert any(e["scenario"] == "clean_freight_within_tolerance" for e in summaries)
    for entry in summaries:
        segments = [s.strip() for s in docs[entry["idempotency_key"]]["body"].split("~")]
        it1 = [s for s in segments if s.startswith("IT1*")]
        tds = next(i for i, s in enumerate(segments) if s.startswith("TDS*"))
        by_po = [s for s in it1 if f"*PO*{entry['po_number']}*PL*" in s]
        assert by_po and not any("*UK*" in s or "*VP*" in s for s in by_po), it1
        # only an item the PO never had is named by its identifiers
        assert (len(by_po) < len(it1)) == (entry["scenario"] == "unknown_item_line"), it1
        # tax, allowances and freight at the header only, after the total
        assert all(i > tds for i, s in enumerate(segments) if s.startswith(("TXI*", "SAC*")))
        assert (entry["tax"] is not None) == any(s.startswith("TXI*") for s in segments)
        assert f"AMT*BAP*{entry['expected_totals']['total']}" in segments


# --------------------------------------------------------------------------- the score


def _row(number, scenario, total, fault=False, expected=(), clean=True):
    return {
        "idempotency_key": f"k-{number}",
        "invoice_number": number,
        "format": "ubl",
        "scenario": scenario,
        "clean": clean,
        "faults": [] if clean else [scenario],
        "expected_exceptions": list(expected),
        "amount_fault": fault,
        "expected_totals": {"untaxed": "100.00", "tax": "8.00", "total": total},
        "amount": total,
    }


def test_score_amount_measures_on_a_hand_made_outcome():
    truth = {
        "day": "2026-11-23",
        "invoices": [
            _row("A1", "clean", "108.00"),  # released at the stated total
            _row("A2", "clean", "108.00"),  # released with the default 15 % tax: wrong
            _row("A3", "clean", "108.00"),  # blocked: not in the accuracy measure
            _row("F1", "total_not_adding_up", "120.00", True, ["total_mismatch"], False),
            _row("F2", "tax_not_rate_times_base", "109.00", True, ["tax_variance"], False),
            _row(
                "F3",
                "line_amount_not_qty_times_price",
                "110.00",
                True,
                ["document_inconsistent"],
                False,
            ),
            _row("P1", "price_variance", "108.00", False, ["price_variance"], False),
        ],
    }
    released = {"A1": (100.0, 8.0, 108.0), "A2": (100.0, 15.0, 115.0), "F3": (100, 8, 108)}
    blocked = {"A3": [], "F1": ["total_mismatch"], "F2": ["price_variance"], "P1": ["x"]}
    messages, bills, exceptions = [], [], []
    for n, entry in enumerate(truth["invoices"], start=1):
        number = entry["invoice_number"]
        messages.append({"id": n, "idempotency_key": entry["idempotency_key"], "state": "done",
                         "doc_type": "invoice", "error_code": False})  # fmt: skip
        untaxed, tax, total = released.get(number, (100.0, 8.0, 108.0))
        bills.append(
            {
                "id": 100 + n,
                "hc_message_id": [n, "m"],
                "hc_match_state": "matched" if number in released else "exception",
                "hc_released": number in released,
                "hc_touchless": number in released,
                "amount_untaxed": untaxed,
                "amount_tax": tax,
                "amount_total": total,
            }
        )
        for kind in blocked.get(number, []):
            exceptions.append({"exception_type": kind, "message_id": False,
                               "move_id": [100 + n, "b"], "state": "open",
                               "queue_id": False, "amount": 0})  # fmt: skip
    result = score.score(truth, {"messages": messages, "bills": bills, "exceptions": exceptions})
    assert result["released"] == 3  # A1, A2 and the faulty F3
    assert result["released_amount_accuracy"] == pytest.approx(1 / 3)
    assert [r["invoice_number"] for r in result["amount_wrong"]] == ["A2", "F3"]
    assert result["amount_wrong"][0]["billed"] == {
        "untaxed": "100.00",
        "tax": "15.00",
        "total": "115.00",
    }
    # F1 caught; F2 blocked for another reason; F3 released
    assert result["faulty_amounts"] == 3
    assert result["faulty_amounts_caught"] == pytest.approx(1 / 3)
    assert [r["invoice_number"] for r in result["amount_faults_missed"]] == ["F2", "F3"]
    assert result["targets_met"]["released_amount_accuracy"] is False
    assert result["targets_met"]["faulty_amounts_caught"] is False
    text = score.render(
        score.business_summary({"messages": messages, "bills": bills, "exceptions": exceptions}),
        result,
        dict.fromkeys(("post_seconds", "drain_seconds", "total_seconds"), 0.0),
        "http://x",
        "db",
    )
    assert re.search(r"released amount accuracy +33\.3 %  target 100 %  NOT MET  \(of 3 ", text)
    assert re.search(r"faulty amounts caught +33\.3 %  target 100 %  NOT MET  \(of 3 ", text)
    assert re.search(r"exception recall +75\.0 %  target 100 %  NOT MET", text)
    assert "A2         clean" in text and "100.00/8.00/108.00 -> 100.00/15.00/115.00" in text
    assert "F2         tax_not_rate_times_base" in text and "exc=price_variance" in text
    # all right: both at 100 %, nothing listed
    for bill in bills:
        bill.update(amount_untaxed=100.0, amount_tax=8.0, amount_total=108.0)
    truth["invoices"] = [e for e in truth["invoices"] if e["invoice_number"] not in ("F2", "F3")]
    result = score.score(truth, {"messages": messages, "bills": bills, "exceptions": exceptions})
    assert result["released_amount_accuracy"] == 1.0 and not result["amount_wrong"]
    assert result["faulty_amounts_caught"] == 1.0 and not result["amount_faults_missed"]


@pytest.mark.parametrize(("seed", "size"), [(42, "full"), (7, "full")])
def test_expired_lot_scenario_really_receives_an_expired_lot(seed, size):
    """The faulty "lot expired at receipt" day: line 1 of its receipt carries a lot whose
    expiry is before the day (seed 42 at full size once put the lot-tracked item on
    another line, and the day had no expired lot at all)."""
    generated = generate(seed=seed, size=size)
    day = generated["world"].get("day") or "2026-11-23"
    numbers = [
        t["po_number"]
        for t in generated["truth"]["invoices"]
        if t["scenario"] == "lot_expired_at_receipt" and t.get("po_number")
    ]
    first_lines = defaultdict(list)  # PO -> line 1 of its ship notice and receipt
    for doc in generated["documents"]:
        if doc["endpoint"] in ("receipts", "ship-notices"):
            body = json.loads(doc["body"])
            for each in body if isinstance(body, list) else [body]:
                first_lines[each["po_number"]].append(each["lines"][0])
    assert numbers
    for number in numbers:
        # receiving systems that capture no lot rely on the ship notice's
        lots = [ln for ln in first_lines[number] if ln.get("lot")]
        assert lots, number
        assert all(ln["expiry_date"] < day for ln in lots), (number, lots)
