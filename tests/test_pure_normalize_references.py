"""Invoice reference normalisation and duplicate classification (normalize.references)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..normalize.references import VERDICT_DISTINCT
from ..normalize.references import VERDICT_DUPLICATE
from ..normalize.references import VERDICT_REVIEW
from ..normalize.references import VERDICT_SUSPECT
from ..normalize.references import InvoiceKey
from ..normalize.references import classify_invoice_pair
from ..normalize.references import find_duplicates
from ..normalize.references import normalize_reference


@pytest.mark.parametrize(
    "raw",
    ["INV-000123", "inv 123", "INV123", "Invoice No. 123", "No. 00123", "#123", "123",
     " 0123 ", "INV/0123", "Nº 123", "Rechnung Nr. 123", "１２３"],
)  # fmt: skip
def test_same_invoice_many_disguises(raw):
    assert normalize_reference(raw) == "123"


def test_keeps_significant_letters_and_inner_zeros():
    assert normalize_reference("INV-2023-0045") == "20230045"
    assert normalize_reference("AB-100/7") == "AB1007"
    # "INV"/"NO" are only prefixes when a separator or digit follows.
    assert normalize_reference("INVALID7") == "INVALID7"
    assert normalize_reference("NORD-12") == "NORD12"


def test_degenerate_values():
    assert normalize_reference(None) == ""
    assert normalize_reference("   ") == ""
    assert normalize_reference("0000") == "0"
    assert normalize_reference("INV") == "INV"


@given(st.text(max_size=40))
def test_property_idempotent(text):
    once = normalize_reference(text)
    assert normalize_reference(once) == once


@given(st.text(alphabet="0123456789ABCDEFGHXYZ", min_size=1, max_size=12))
def test_property_decorations_do_not_matter(core):
    base = normalize_reference(core)
    assert normalize_reference(f"INV-{core}") == base or base == ""
    assert normalize_reference(f" {core.lower()} ") == base


def key(ref, day, amount, vendor="V1", currency="EUR"):
    return InvoiceKey(
        vendor=vendor, reference=ref, date=day, amount=Decimal(amount), currency=currency
    )


D = dt.date


def test_same_vendor_ref_amount_is_duplicate():
    verdict = classify_invoice_pair(
        key("INV-001", D(2024, 3, 1), "100.00"), key("1", D(2024, 3, 5), "100")
    )
    assert verdict.verdict == VERDICT_DUPLICATE and verdict.blocking


def test_duplicate_across_new_year_within_window():
    verdict = classify_invoice_pair(
        key("77", D(2023, 12, 30), "50"), key("77", D(2024, 1, 2), "50")
    )
    assert verdict.verdict == VERDICT_DUPLICATE


def test_reused_number_next_year_is_review():
    verdict = classify_invoice_pair(key("77", D(2023, 3, 1), "50"), key("77", D(2024, 3, 1), "50"))
    assert verdict.verdict == VERDICT_REVIEW and "2023" in verdict.reason


def test_same_ref_other_amount_is_review():
    verdict = classify_invoice_pair(
        key("77", D(2024, 3, 1), "50"), key("INV 77", D(2024, 3, 2), "75")
    )
    assert verdict.verdict == VERDICT_REVIEW


def test_other_ref_same_amount_close_dates_is_suspect():
    verdict = classify_invoice_pair(
        key("A-1", D(2024, 3, 1), "999.90"), key("A-2", D(2024, 3, 6), "999.9")
    )
    assert verdict.verdict == VERDICT_SUSPECT
    far = classify_invoice_pair(
        key("A-1", D(2024, 3, 1), "999.90"), key("A-2", D(2024, 4, 6), "999.9")
    )
    assert far.verdict == VERDICT_DISTINCT


def test_other_vendor_or_currency_is_distinct():
    assert (
        classify_invoice_pair(
            key("1", D(2024, 1, 1), "5"), key("1", D(2024, 1, 1), "5", vendor="V2")
        ).verdict
        == VERDICT_DISTINCT
    )
    other_currency = classify_invoice_pair(
        key("1", D(2024, 1, 1), "5"), key("1", D(2024, 1, 1), "5", currency="USD")
    )
    assert other_currency.verdict == VERDICT_REVIEW  # same number, amount not comparable


def test_find_duplicates_orders_by_severity():
    new = key("INV-10", D(2024, 5, 10), "120")
    candidates = [
        key("99", D(2024, 5, 9), "120"),  # suspect
        key("10", D(2023, 5, 10), "300"),  # review
        key("0010", D(2024, 5, 1), "120"),  # duplicate
        key("55", D(2022, 1, 1), "1"),  # distinct
    ]
    found = find_duplicates(new, candidates)
    assert [v.verdict for _c, v in found] == [VERDICT_DUPLICATE, VERDICT_REVIEW, VERDICT_SUSPECT]
    assert found[0][0].reference == "0010"
