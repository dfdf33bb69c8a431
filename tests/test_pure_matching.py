"""Three-way match engine (matching.engine): statuses, numbers, explanations, invariants."""

import json
from datetime import date
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..matching.engine import BILL_BLOCKED
from ..matching.engine import BILL_MATCHED
from ..matching.engine import CONTRACT_PRICE_VARIANCE
from ..matching.engine import EXC_CONTRACT_PRICE_MISMATCH
from ..matching.engine import EXC_MISSING_RECEIPT
from ..matching.engine import EXC_NO_PO
from ..matching.engine import EXC_PRICE_VARIANCE
from ..matching.engine import EXC_QTY_VARIANCE
from ..matching.engine import EXC_TOTAL_VARIANCE
from ..matching.engine import EXC_UOM_MISMATCH
from ..matching.engine import MATCHED
from ..matching.engine import NOT_ORDERED
from ..matching.engine import NOT_RECEIVED
from ..matching.engine import PRICE_VARIANCE
from ..matching.engine import QTY_VARIANCE
from ..matching.engine import UOM_MISMATCH
from ..matching.engine import BillLine
from ..matching.engine import ContractPrice
from ..matching.engine import PoLine
from ..matching.engine import ReceiptQty
from ..matching.engine import find_contract
from ..matching.engine import match_bill
from ..matching.numbers import round_half_up
from ..matching.numbers import to_display
from ..matching.numbers import to_money
from ..matching.tolerance import COMBINE_BOTH
from ..matching.tolerance import Tolerance
from ..matching.tolerance import ToleranceRule
from ..matching.tolerance import allowed_variance
from ..matching.tolerance import make_resolver

CENT = D("0.01")
VENDOR = 70
COMPANY = 1


def po_line(line_id=1, qty=10, price="2.00", factor=1, **kw):
    values = {
        "po_id": 10,
        "po_name": "P00010",
        "product_id": 100 + line_id,
        "vendor_id": VENDOR,
        "category_path": (3, 1),
        "currency": "USD",
        "uom_name": "Units",
    }
    values.update(kw)
    return PoLine(line_id, ordered_qty=qty, price_unit=price, uom_factor=factor, **values)


def bill_line(line_id, po_line_id=1, qty=10, price="2.00", factor=1, product_id=None, **kw):
    return BillLine(line_id, po_line_id, product_id, qty, price, uom_factor=factor, **kw)


def match(po_lines, receipts, bills, tolerance=None, contracts=None, rounding=CENT, **kw):
    return match_bill(po_lines, receipts, bills, tolerance, rounding, contracts, **kw)


STANDARD = Tolerance(qty_pct=5, price_pct=2, price_abs="0.05", total_pct=1, total_abs=5)


# ---------------------------------------------------------------- statuses


def test_bill_equal_to_po_and_receipt_matches():
    result = match([po_line()], [ReceiptQty(1, 10)], [bill_line("b1")])
    assert result.status == BILL_MATCHED and result.exceptions == ()
    line = result.line("b1")
    assert line.status == MATCHED and line.issues == ()
    assert (
        line.ordered_qty,
        line.received_qty,
        line.billed_qty,
        line.po_price,
        line.bill_price,
    ) == (
        D(10),
        D(10),
        D(10),
        D("2.00"),
        D("2.00"),
    )
    assert line.billed_amount == line.expected_amount == D("20.00")
    assert "Matched" in line.explanation and "Matched" in result.explanation


def test_partial_receipt_billed_up_to_received_matches():
    result = match(
        [po_line(qty=10)], [ReceiptQty(1, 4), ReceiptQty(1, 2)], [bill_line("b1", qty=6)]
    )
    assert result.status == BILL_MATCHED
    assert result.line("b1").received_qty == D(6)
    assert result.line("b1").billable_qty == D(6)


def test_billing_more_than_received_is_a_quantity_variance():
    result = match([po_line(qty=10)], [ReceiptQty(1, 6)], [bill_line("b1", qty=10)], STANDARD)
    line = result.line("b1")
    assert line.status == QTY_VARIANCE
    check = line.checks[0]
    assert (check.actual, check.expected, check.variance, check.allowed) == (
        D(10),
        D(6),
        D(4),
        D("0.3"),
    )
    assert "5% (given)" not in check.tolerance  # a bare Tolerance has no named source
    assert result.status == BILL_BLOCKED and result.exception_types == (EXC_QTY_VARIANCE,)
    # 4 units over at 2.00
    assert result.exceptions[0].amount == D("8.00")
    assert result.exceptions[0].line_ids == ("b1",)
    assert "request a credit note" in result.exceptions[0].hint


def test_quantity_over_billable_within_tolerance_matches():
    # 5% of 20 received = 1 unit allowed
    result = match([po_line(qty=21)], [ReceiptQty(1, 20)], [bill_line("b1", qty=21)], STANDARD)
    assert result.line("b1").status == MATCHED
    assert "within tolerance" in result.line("b1").checks[0].explanation


def test_over_receipt_is_billable_only_when_allowed():
    po, receipt, bill = [po_line(qty=10)], [ReceiptQty(1, 12)], [bill_line("b1", qty=12)]
    capped = match(po, receipt, bill, Tolerance(qty_pct=0))
    assert capped.line("b1").status == QTY_VARIANCE
    assert capped.line("b1").billable_qty == D(10)
    assert "over-receipt not being allowed (no rule allows it)" in capped.line("b1").explanation
    allowed = match(po, receipt, bill, Tolerance(qty_pct=0, allow_over_receipt=True))
    assert allowed.status == BILL_MATCHED


def test_previously_billed_quantity_counts():
    po = [po_line(qty=10, previously_billed_qty=8)]
    result = match(po, [ReceiptQty(1, 10)], [bill_line("b1", qty=4)])
    line = result.line("b1")
    assert line.status == QTY_VARIANCE
    assert line.previously_billed_qty == D(8)
    assert line.checks[0].variance == D(2)
    assert "8 on earlier bills" in line.explanation
    # Only the 2 this bill adds over the 10 billable are at stake.
    assert result.exceptions[0].amount == D("4.00")
    assert match(po, [ReceiptQty(1, 10)], [bill_line("b1", qty=2)]).status == BILL_MATCHED


def test_nothing_received_is_not_received():
    result = match([po_line()], [], [bill_line("b1")], STANDARD)
    line = result.line("b1")
    assert line.status == NOT_RECEIVED and line.received_qty == D(0)
    assert result.exception_types == (EXC_MISSING_RECEIPT,)
    assert result.exceptions[0].amount == D("20.00")
    assert "Nothing has been received" in line.explanation


def test_returns_net_off_receipts():
    result = match([po_line()], [ReceiptQty(1, 10), ReceiptQty(1, -10)], [bill_line("b1")])
    assert result.line("b1").status == NOT_RECEIVED
    # the control: without the return, the same receipt makes the line received
    received = match([po_line()], [ReceiptQty(1, 10)], [bill_line("b1")])
    assert received.line("b1").status == MATCHED


@pytest.mark.parametrize(
    "bill, reason",
    [
        (bill_line("b1", po_line_id=None), "no purchase order line is linked"),
        (bill_line("b1", po_line_id=99), "not among the purchase order lines"),
        (bill_line("b1", product_id=555), "is not the product"),
    ],
)
def test_lines_without_a_matching_po_line_are_not_ordered(bill, reason):
    result = match([po_line()], [ReceiptQty(1, 10)], [bill])
    assert result.line("b1").status == NOT_ORDERED
    assert reason in result.line("b1").explanation
    assert result.exception_types == (EXC_NO_PO,)
    assert result.exceptions[0].amount == D("20.00")


@pytest.mark.parametrize("po_factor, bill_factor", [(1, None), (None, 1), (None, None)])
def test_unconvertible_unit_is_uom_mismatch_and_nothing_else(po_factor, bill_factor):
    result = match(
        [po_line(factor=po_factor)],
        [ReceiptQty(1, 10)],
        [bill_line("b1", factor=bill_factor, uom_name="CS")],
    )
    line = result.line("b1")
    assert line.status == UOM_MISMATCH and line.issues == (UOM_MISMATCH,)
    assert line.checks == () and line.expected_amount is None
    # Excluded from the total check: its expected amount is unknown, not zero.
    assert result.exception_types == (EXC_UOM_MISMATCH,)
    assert "cannot be converted" in line.explanation


def test_price_above_tolerance_is_a_price_variance():
    # 2% of 2.00 = 0.04, absolute 0.05 -> allowed 0.05 (either); 2.10 is 0.10 over.
    result = match([po_line()], [ReceiptQty(1, 10)], [bill_line("b1", price="2.10")], STANDARD)
    line = result.line("b1")
    assert line.status == PRICE_VARIANCE
    price = next(check for check in line.checks if check.check == "price")
    assert (price.actual, price.expected, price.variance, price.allowed) == (
        D("2.10"),
        D("2.00"),
        D("0.10"),
        D("0.05"),
    )
    assert "price check" in line.decided_by
    assert PRICE_VARIANCE in result.exception_types
    assert result.exceptions[result.exception_types.index(EXC_PRICE_VARIANCE)].amount == D("1.00")


def test_price_within_either_limit_matches_but_not_within_both():
    bills = [bill_line("b1", price="2.05")]
    assert match([po_line()], [ReceiptQty(1, 10)], bills, STANDARD).line("b1").status == MATCHED
    strict = Tolerance(price_pct=2, price_abs="0.05", combine=COMBINE_BOTH)
    assert (
        match([po_line()], [ReceiptQty(1, 10)], bills, strict).line("b1").status == PRICE_VARIANCE
    )


def test_lower_price_passes_unless_favourable_variances_are_checked():
    bills = [bill_line("b1", price="1.00")]
    relaxed = match([po_line()], [ReceiptQty(1, 10)], bills, STANDARD)
    assert relaxed.status == BILL_MATCHED
    assert "buyer's favour" in relaxed.line("b1").explanation
    strict = match([po_line()], [ReceiptQty(1, 10)], bills, STANDARD, check_favorable=True)
    assert strict.line("b1").status == PRICE_VARIANCE
    assert EXC_TOTAL_VARIANCE in strict.exception_types


def test_price_above_contract_is_a_contract_price_variance_even_at_po_price():
    contract = ContractPrice(
        101, VENDOR, "1.80", "GPO-7", valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31)
    )
    po = [po_line(po_date=date(2026, 3, 1))]
    result = match(po, [ReceiptQty(1, 10)], [bill_line("b1")], STANDARD, [contract])
    line = result.line("b1")
    assert line.status == CONTRACT_PRICE_VARIANCE
    assert (line.contract_price, line.contract_ref) == (D("1.80"), "GPO-7")
    assert result.exception_types == (EXC_CONTRACT_PRICE_MISMATCH,)
    assert result.exceptions[0].amount == D("2.00")
    assert "contract GPO-7 price 1.80" in line.explanation


def test_contract_is_taken_on_the_po_date_latest_start_first():
    old = ContractPrice(
        101, VENDOR, "1.00", "OLD", valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31)
    )
    new = ContractPrice(101, VENDOR, "2.00", "NEW", valid_from=date(2026, 1, 1))
    newer = ContractPrice(101, VENDOR, "1.90", "NEWER", valid_from=date(2026, 6, 1))
    euro = ContractPrice(101, VENDOR, "0.10", "EUR", currency="EUR")
    other_vendor = ContractPrice(101, 71, "0.10", "OTHER")
    contracts = [old, new, newer, euro, other_vendor]
    assert find_contract(po_line(po_date=date(2025, 5, 1)), contracts) is old
    assert find_contract(po_line(po_date=date(2026, 3, 1)), contracts) is new
    assert find_contract(po_line(po_date=date(2026, 7, 1)), contracts) is newer
    assert find_contract(po_line(po_date=date(2024, 7, 1)), [old, new]) is None
    result = match(
        [po_line(po_date=date(2026, 3, 1))], [ReceiptQty(1, 10)], [bill_line("b1")], None, contracts
    )
    assert result.status == BILL_MATCHED and result.line("b1").contract_ref == "NEW"


def test_units_are_converted_before_comparing():
    # PO: 2 boxes of 12 at 24.00 a box; bill: 24 each at 2.00; receipt in boxes.
    po = [po_line(qty=2, price="24.00", factor=12, uom_name="Box")]
    result = match(
        po, [ReceiptQty(1, 2)], [bill_line("b1", qty=24, price="2.00", uom_name="Units")]
    )
    line = result.line("b1")
    assert line.status == MATCHED
    assert (line.billed_qty, line.bill_price, line.uom) == (D(2), D("24.00"), "Box")


def test_conversion_rounding_that_leaves_the_amount_unchanged_is_no_variance():
    # 10.00 per dozen is 0.8333... each; the vendor bills 12 each at 0.8334 = 10.00 (10.0008).
    po = [po_line(qty=1, price="10.00", factor=12, uom_name="Dozen")]
    result = match(po, [ReceiptQty(1, 1)], [bill_line("b1", qty=12, price="0.8334")])
    assert result.status == BILL_MATCHED
    assert "rounding difference" in result.line("b1").explanation


def test_credit_note_reduces_billed_quantity():
    # 12 billed earlier on 10 received; a credit of 2 in this bill brings it back.
    po = [po_line(qty=10, previously_billed_qty=12)]
    credit = bill_line("c1", qty=2, is_credit_note=True)
    result = match(po, [ReceiptQty(1, 10)], [credit])
    line = result.line("c1")
    assert line.status == MATCHED and line.is_credit
    assert line.billed_qty == D(-2) and line.billed_amount == D("-4.00")
    assert "never a variance" in line.explanation
    # Re-billing 2 after a credit of 2 nets to nothing new: matched.
    rebill = match(po, [ReceiptQty(1, 10)], [credit, bill_line("b2", qty=2)])
    assert rebill.status == BILL_MATCHED
    assert rebill.line("b2").billed_qty_on_bill == D(0)


def test_credit_note_at_another_price_or_without_po_never_blocks():
    bills = [
        bill_line("c1", qty=1, price="9.99", is_credit_note=True),
        bill_line("c2", po_line_id=None, qty=1, price="5.00", is_credit_note=True),
        bill_line("c3", qty=-1, price="3.00"),  # a return line on an ordinary bill
    ]
    result = match([po_line()], [ReceiptQty(1, 10)], bills, Tolerance(price_pct=0))
    assert result.status == BILL_MATCHED
    assert all(line.is_credit for line in result.lines)
    assert result.bill_total == D("-17.99")


def test_several_purchase_orders_on_one_bill():
    po = [
        po_line(1, po_id=10, po_name="P00010"),
        po_line(2, po_id=11, po_name="P00011", price="5.00"),
    ]
    bills = [bill_line("b1", 1), bill_line("b2", 2, price="5.00")]
    result = match(po, [ReceiptQty(1, 10), ReceiptQty(2, 10)], bills)
    assert result.status == BILL_MATCHED
    assert [line.po_name for line in result.lines] == ["P00010", "P00011"]
    assert result.total_check.actual == D("70.00")


def test_lines_on_the_same_po_line_are_checked_together():
    bills = [bill_line("b1", qty=6), bill_line("b2", qty=6)]
    result = match([po_line()], [ReceiptQty(1, 10)], bills)
    assert [line.status for line in result.lines] == [QTY_VARIANCE, QTY_VARIANCE]
    assert result.line("b1").billed_qty == D(6)
    assert result.line("b1").billed_qty_on_bill == D(12)
    assert result.exceptions[0].line_ids == ("b1", "b2")
    assert result.exceptions[0].amount == D("4.00")


def test_small_price_differences_adding_up_fail_the_total_check():
    # Each line 0.04 over per unit: within 0.05 per unit, but 100 lines x 10 units = 40.00 over.
    po = [po_line(i) for i in range(1, 101)]
    receipts = [ReceiptQty(i, 10) for i in range(1, 101)]
    bills = [bill_line(f"b{i}", i, price="2.04") for i in range(1, 101)]
    tolerance = Tolerance(price_abs="0.05", total_abs="10")
    result = match(po, receipts, bills, tolerance)
    assert all(line.status == MATCHED for line in result.lines)
    assert result.status == BILL_BLOCKED and result.exception_types == (EXC_TOTAL_VARIANCE,)
    assert result.total_check.variance == D("40.00")
    assert result.exceptions[0].amount == D("40.00")
    assert result.exceptions[0].line_ids == ()


def test_status_precedence_keeps_every_problem():
    # Not received AND overpriced: the receipt comes first, the price still becomes an exception.
    result = match([po_line()], [], [bill_line("b1", price="3.00")], STANDARD)
    line = result.line("b1")
    assert line.status == NOT_RECEIVED
    assert line.issues == (NOT_RECEIVED, PRICE_VARIANCE)
    assert set(result.exception_types) >= {EXC_MISSING_RECEIPT, EXC_PRICE_VARIANCE}


def test_tolerance_rules_are_resolved_per_line_and_named_in_the_explanation():
    rules = [
        ToleranceRule(1, COMPANY, Tolerance(price_pct=10, total_pct=10), name="Default"),
        ToleranceRule(2, COMPANY, Tolerance(price_pct=0), category_id=3, name="Implants exact"),
    ]
    po = [po_line(1, category_path=(3, 1)), po_line(2, category_path=(4, 1))]
    bills = [bill_line("b1", 1, price="2.10"), bill_line("b2", 2, price="2.10")]
    result = match(po, [ReceiptQty(1, 10), ReceiptQty(2, 10)], bills, make_resolver(rules, COMPANY))
    assert result.line("b1").status == PRICE_VARIANCE
    assert "category rule 'Implants exact' (#2)" in result.line("b1").decided_by
    assert result.line("b2").status == MATCHED
    assert result.line("b2").tolerance["sources"]["price_pct"]["rule_id"] == 1


def test_bill_total_tolerance_comes_from_the_bill_vendor():
    rules = [
        ToleranceRule(1, COMPANY, Tolerance(price_pct=50, total_abs=0), name="Default"),
        ToleranceRule(
            2, COMPANY, Tolerance(total_abs=100), vendor_id=VENDOR, name="Trusted vendor"
        ),
    ]
    result = match(
        [po_line()],
        [ReceiptQty(1, 10)],
        [bill_line("b1", price="2.50")],
        make_resolver(rules, COMPANY),
    )
    assert result.status == BILL_MATCHED
    assert "Trusted vendor" in result.total_check.tolerance
    other = match(
        [po_line()],
        [ReceiptQty(1, 10)],
        [bill_line("b1", price="2.50")],
        make_resolver(rules, COMPANY),
        vendor_id=71,
    )
    assert other.exception_types == (EXC_TOTAL_VARIANCE,)


def test_amounts_round_half_up_to_the_currency():
    # 3 x 0.335 = 1.005 -> 1.01 (half up, not banker's 1.00)
    result = match(
        [po_line(qty=3, price="0.335")], [ReceiptQty(1, 3)], [bill_line("b1", qty=3, price="0.335")]
    )
    assert result.line("b1").billed_amount == D("1.01")
    # Cash rounding to 0.05 works too (not a power of ten).
    assert to_money(Fraction("1.025"), D("0.05")) == D("1.05")
    assert to_money(Fraction("-1.025"), D("0.05")) == D("-1.05")
    assert round_half_up(Fraction(-5, 2), Fraction(1)) == -3


def test_display_values_are_exact_or_rounded_without_exponent():
    assert str(to_display(Fraction(1, 3))) == "0.333333"
    assert str(to_display(Fraction(10))) == "10"
    assert str(to_display(Fraction(1, 1024))) == "0.0009765625"
    assert str(to_money(Fraction(0), CENT)) == "0.00"


def test_result_serialises_to_json():
    contract = ContractPrice(101, VENDOR, "2.00", "GPO-7")
    result = match(
        [po_line(po_date=date(2026, 3, 1))],
        [],
        [bill_line("b1"), bill_line("b2", None)],
        STANDARD,
        [contract],
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == BILL_BLOCKED
    assert data["exception_types"] == [EXC_NO_PO, EXC_MISSING_RECEIPT]
    assert data["lines"][0]["po_price"] == "2.00"
    assert data["lines"][0]["checks"][0]["check"] == "receipt"
    assert data["total_check"]["check"] == "bill_total"


def test_caller_bugs_raise():
    with pytest.raises(ValueError, match="duplicate bill line"):
        match([po_line()], [], [bill_line("b1"), bill_line("b1")])
    with pytest.raises(ValueError, match="duplicate PO line"):
        match([po_line(), po_line()], [], [])
    with pytest.raises(ValueError, match="currency_rounding"):
        match([po_line()], [], [], rounding=0)
    with pytest.raises(ValueError, match="uom_factor"):
        po_line(factor=0)
    with pytest.raises(ValueError, match="price must not be negative"):
        bill_line("b1", price="-1")
    with pytest.raises(TypeError):
        match([po_line()], [], [], tolerance=42)


def test_empty_bill_matches_trivially():
    result = match([], [], [])
    assert result.status == BILL_MATCHED and result.bill_total == D("0.00")


# ---------------------------------------------------------------- properties

quantities = st.integers(min_value=1, max_value=500).map(D)
prices = st.decimals(min_value=D("0.50"), max_value=D("2000"), places=2)
pcts = st.one_of(st.none(), st.decimals(min_value=0, max_value=20, places=1))
abss = st.one_of(st.none(), st.decimals(min_value=0, max_value=5, places=2))
tolerances = st.builds(
    Tolerance,
    qty_pct=pcts,
    qty_abs=abss,
    price_pct=pcts,
    price_abs=abss,
    total_pct=pcts,
    total_abs=abss,
    allow_over_receipt=st.one_of(st.none(), st.booleans()),
    combine=st.sampled_from([None, "either", "both"]),
)


@st.composite
def scenarios(draw, exact=False):
    """PO lines with receipts and a bill; ``exact``: the bill equals PO and receipts."""
    count = draw(st.integers(min_value=1, max_value=5))
    po_lines, receipts, bills = [], [], []
    for index in range(1, count + 1):
        ordered = draw(quantities)
        received = (
            ordered if exact else draw(st.integers(min_value=0, max_value=int(ordered) + 5).map(D))
        )
        price = draw(prices)
        po_lines.append(
            po_line(index, qty=ordered, price=price, po_id=index % 2, po_name=f"P{index % 2}")
        )
        receipts.append(ReceiptQty(index, received))
        if exact:
            bills.append(bill_line(f"b{index}", index, qty=received, price=price))
        else:
            for split in range(draw(st.integers(min_value=1, max_value=2))):
                qty = draw(st.integers(min_value=0, max_value=int(ordered) + 5).map(D))
                bill_price = price * draw(
                    st.sampled_from([D("0.9"), D(1), D(1), D("1.01"), D("1.1")])
                )
                credit = draw(st.booleans()) if split else False
                bills.append(
                    bill_line(
                        f"b{index}-{split}", index, qty=qty, price=bill_price, is_credit_note=credit
                    )
                )
    return po_lines, receipts, bills


@given(scenarios(exact=True), tolerances, st.booleans())
def test_property_bill_equal_to_po_and_receipts_always_matches(scenario, tolerance, favourable):
    po_lines, receipts, bills = scenario
    result = match(po_lines, receipts, bills, tolerance, check_favorable=favourable)
    assert result.status == BILL_MATCHED, result.explanation
    assert result.total_check.variance == 0


@given(
    scenarios(exact=True), tolerances, st.decimals(min_value=D("0.01"), max_value=D(10), places=2)
)
def test_property_price_raised_beyond_tolerance_never_matches(scenario, tolerance, margin):
    po_lines, receipts, bills = scenario
    target = bills[0]
    po = po_lines[0]
    # Raise the price past the allowance by at least one cent per unit: the rounded line
    # amount then moves too, so it can never pass as a rounding artefact.
    pct, absolute = tolerance.limits("price")
    allowed = allowed_variance(pct, absolute, Fraction(po.price_unit), tolerance.combine)
    price = to_money(Fraction(po.price_unit) + allowed + Fraction(margin), CENT)
    # Half-up rounding moves the price by half a cent at most, less than the margin.
    assert Fraction(price) > Fraction(po.price_unit) + allowed
    bills[0] = bill_line(target.id, target.po_line_id, qty=target.qty, price=price)
    result = match(po_lines, receipts, bills, tolerance)
    assert result.line(target.id).status == PRICE_VARIANCE
    assert result.status == BILL_BLOCKED


def _verdict(result):
    lines = {
        line.bill_line_id: (
            line.status,
            line.issues,
            line.billed_qty,
            line.billed_qty_on_bill,
            line.billed_amount,
            line.expected_amount,
            tuple((c.check, c.passed, c.variance, c.allowed) for c in line.checks),
        )
        for line in result.lines
    }
    exceptions = {(exc.type, exc.line_ids, exc.amount) for exc in result.exceptions}
    total = (result.total_check.actual, result.total_check.expected, result.total_check.passed)
    return result.status, lines, exceptions, total


@given(scenarios(), tolerances, st.randoms())
def test_property_result_is_independent_of_bill_line_order(scenario, tolerance, rnd):
    po_lines, receipts, bills = scenario
    shuffled = list(bills)
    rnd.shuffle(shuffled)
    assert _verdict(match(po_lines, receipts, bills, tolerance)) == _verdict(
        match(po_lines, receipts, shuffled, tolerance)
    )


@given(scenarios(), tolerances, st.booleans())
def test_property_matched_bills_are_within_every_tolerance(scenario, tolerance, favourable):
    po_lines, receipts, bills = scenario
    result = match(po_lines, receipts, bills, tolerance, check_favorable=favourable)
    assert (result.status == BILL_MATCHED) == (
        all(line.status == MATCHED for line in result.lines) and result.total_check.passed
    )
    assert (result.status == BILL_MATCHED) == (result.exceptions == ())
    if result.status == BILL_MATCHED:
        variance = result.total_check.variance
        assert (abs(variance) if favourable else variance) <= result.total_check.allowed
        for line in result.lines:
            for check in line.checks:
                assert check.passed
    # Deterministic: the same inputs give the same stored result.
    assert (
        result.to_dict()
        == match(po_lines, receipts, bills, tolerance, check_favorable=favourable).to_dict()
    )


# Units of 1/k of the reference unit: quantities times k and prices divided by k stay
# exact decimals, so the converted documents describe exactly the same goods and money.
fractional_units = st.sampled_from([1, 2, 4, 5, 10])


@given(scenarios(), tolerances, fractional_units, fractional_units)
def test_property_expressing_po_and_bill_in_another_unit_keeps_the_verdict(
    scenario, tolerance, k, m
):
    po_lines, receipts, bills = scenario
    converted_po = [
        PoLine(
            p.id, p.po_id, p.po_name, p.product_id, p.ordered_qty * k, p.price_unit / k, uom_factor=D(1) / k,
            vendor_id=p.vendor_id, category_path=p.category_path,
            previously_billed_qty=p.previously_billed_qty * k,
        )
        for p in po_lines
    ]  # fmt: skip
    converted_receipts = [ReceiptQty(r.po_line_id, r.qty * k) for r in receipts]
    converted_bills = [
        BillLine(
            b.id, b.po_line_id, b.product_id, b.qty * m, b.price_unit / m, uom_factor=D(1) / m,
            is_credit_note=b.is_credit_note,
        )
        for b in bills
    ]  # fmt: skip
    base = match(po_lines, receipts, bills, tolerance)
    converted = match(converted_po, converted_receipts, converted_bills, tolerance)
    assert base.status == converted.status
    assert base.exception_types == converted.exception_types
    assert [line.status for line in base.lines] == [line.status for line in converted.lines]
    assert {e.type: e.amount for e in base.exceptions} == {
        e.type: e.amount for e in converted.exceptions
    }
    assert base.total_check.variance == converted.total_check.variance


@given(scenarios(exact=True), tolerances, st.data())
def test_property_credit_note_after_a_matched_bill_never_blocks(scenario, tolerance, data):
    po_lines, receipts, bills = scenario
    assert match(po_lines, receipts, bills, tolerance).status == BILL_MATCHED
    # The first bill is posted: its quantities are now "previously billed".
    posted = [
        PoLine(
            p.id, p.po_id, p.po_name, p.product_id, p.ordered_qty, p.price_unit, vendor_id=p.vendor_id,
            category_path=p.category_path, previously_billed_qty=p.previously_billed_qty + b.qty,
        )
        for p, b in zip(po_lines, bills, strict=True)
    ]  # fmt: skip
    credits = [
        BillLine(
            f"c{b.id}", b.po_line_id, None, data.draw(st.integers(min_value=1, max_value=int(b.qty) + 3)),
            data.draw(prices), is_credit_note=True,
        )
        for b in bills
    ]  # fmt: skip
    result = match(posted, receipts, credits, tolerance)
    assert result.status == BILL_MATCHED, result.explanation
    assert result.bill_total < 0


@given(scenarios(), tolerances)
def test_property_loosening_the_tolerance_never_blocks_a_matched_bill(scenario, tolerance):
    po_lines, receipts, bills = scenario
    loose = Tolerance(
        **{
            name: (value + 1 if value is not None else None)
            for name in ("qty_pct", "qty_abs", "price_pct", "price_abs", "total_pct", "total_abs")
            for value in (getattr(tolerance, name),)
        },
        allow_over_receipt=True if tolerance.allow_over_receipt is not None else None,
        combine=tolerance.combine,
    )
    if match(po_lines, receipts, bills, tolerance).status == BILL_MATCHED:
        assert match(po_lines, receipts, bills, loose).status == BILL_MATCHED
