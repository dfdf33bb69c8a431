"""The demo day generator: deterministic, valid identifiers, readable documents, honest truth."""

import json
from decimal import Decimal

import pytest

from ..demo.generator import SCENARIOS
from ..demo.generator import SIZES
from ..demo.generator import generate
from ..formats import parse
from ..formats.x12 import gs1_check_digit_ok


@pytest.fixture(scope="module")
def day():
    return generate(seed=7, size="small")


def test_same_seed_same_documents_and_truth(day):
    again = generate(seed=7, size="small")
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(
        day, sort_keys=True, default=str
    )


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
    for doc in day["master"] + day["documents"]:
        parsed = parse(doc["doc_type"], doc["content_type"], doc["body"].encode())
        assert len(parsed) == doc.get("batch", 1), doc["label"]
        issues = [i for p in parsed for i in p.issues if i.code != "x12_currency_default"]
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
        lines_total = sum(ln.quantity * ln.unit_price for ln in inv.lines)
        assert inv.gross_total == lines_total.quantize(Decimal("0.01"))
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
        assert price_up == (entry["scenario"] == "price_variance"), entry
        assert no_ref == (entry["scenario"] == "unknown_item_line"), entry
        if entry["scenario"] in ("billed_more_than_received", "nothing_received"):
            assert over_billed, entry
        if entry["clean"]:
            assert not over_billed, entry
