"""A UBL order's stated total is checked against its lines only where it can be."""

from ..formats.registry import parse
from .samples import read_sample


def _order(name):
    (parsed,) = parse("purchase_order", "application/xml", read_sample(name))
    return parsed


def test_peppol_order_with_line_charges_is_not_checked_and_says_so():
    # Line 1 carries allowances and charges the canonical order does not model: its
    # 6525.00 line total cannot be compared with quantity x price, and PayableAmount
    # (taxes, charges, prepaid, rounding included) never could.
    parsed = _order("peppol-poacc_Order_Example.xml")
    assert parsed.document.total_amount is None
    assert parsed.document.amount_findings() == []
    assert "order_total_not_checked" in {issue.code for issue in parsed.issues}


def test_oasis_order_total_is_the_lines_total_and_agrees():
    parsed = _order("oasis-ubl_Order-2.1-Example.xml")
    document = parsed.document
    assert document.total_amount is not None
    assert document.amount_findings() == [], document.amount_findings()
