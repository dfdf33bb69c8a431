"""Internal consistency of stated amounts: Invoice/PurchaseOrder.amount_findings()."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from ..canonical import AllowanceCharge
from ..canonical import AmountFinding
from ..canonical import Invoice
from ..canonical import InvoiceLine
from ..canonical import ItemRef
from ..canonical import Party
from ..canonical import PurchaseOrder
from ..canonical import PurchaseOrderLine
from ..canonical import TaxLine
from ..canonical import currency_decimals


def _line(number, qty, price, total, base=D(1), acs=()):
    return InvoiceLine(
        line_number=number,
        item=ItemRef(vendor_part_number=f"P{number}"),
        quantity=D(qty),
        uom="EA",
        unit_price=D(price),
        price_base_quantity=base,
        allowance_charges=list(acs),
        line_total=None if total is None else D(total),
    )


def _consistent(**changes):
    """10 x 9.99 = 99.90 - 10 discount + 5.00 freight = 94.90; 25 % VAT 23.73 (rounded)."""
    invoice = Invoice(
        number="INV-1",
        issue_date=date(2025, 3, 1),
        currency="EUR",
        vendor=Party(name="Vendor"),
        lines=[
            _line("1", "10", "9.99", "99.90"),
            _line("2", "3", "12.50", "32.50", acs=[AllowanceCharge(is_charge=False, amount=D(5))]),
        ],
        allowance_charges=[
            AllowanceCharge(is_charge=False, amount=D(10)),
            AllowanceCharge(is_charge=True, amount=D("5.00")),
        ],
        taxes=[TaxLine(category="S", rate=D(25), taxable_amount=D("127.40"), amount=D("31.85"))],
        net_total=D("132.40"),
        allowance_total=D(10),
        charge_total=D("5.00"),
        tax_exclusive_total=D("127.40"),
        tax_total=D("31.85"),
        gross_total=D("159.25"),
        prepaid_amount=D("50"),
        rounding_amount=D("0.05"),
        payable_amount=D("109.30"),
    )
    return replace(invoice, **changes)


def _codes(findings):
    return [(f.code, f.path) for f in findings]


def test_consistent_invoice_has_no_findings():
    assert _consistent().amount_findings() == []


def test_each_inconsistency_is_named():
    lines = _consistent().lines
    bad = _consistent(
        lines=[lines[0], replace(lines[1], line_total=D("37.50"))],  # allowance ignored
        allowance_total=D(11),
        charge_total=D(6),
        tax_exclusive_total=D("127.41"),
        tax_total=D("31.86"),
        gross_total=D("160"),
        payable_amount=D("110"),
    )
    findings = bad.amount_findings()
    assert _codes(findings) == [
        ("line_amount", "lines[1].line_total"),
        ("lines_total", "net_total"),
        ("allowance_total", "allowance_total"),
        ("charge_total", "charge_total"),
        ("tax_exclusive_total", "tax_exclusive_total"),
        ("tax_total", "tax_total"),
        ("gross_total", "gross_total"),
        ("payable_amount", "payable_amount"),
    ]
    first = findings[0]
    assert isinstance(first, AmountFinding)
    assert (first.stated, first.computed) == (D("37.50"), D("32.50"))
    # net 132.40 - allowance 11 + charge 6 = 127.40 against the stated 127.41
    assert findings[4].computed == D("127.40")
    # gross: the stated tax-exclusive total (127.41) + tax (31.86)
    assert findings[6].computed == D("159.27")
    # payable: 160 - 50 + 0.05
    assert findings[7].computed == D("110.05")


def test_computed_values_round_to_the_currency_minor_unit():
    # 3 x 3.333 = 9.999 -> 10.00 in EUR: consistent; the stated 9.99 is not.
    line = _line("1", "3", "3.333", "10.00")
    invoice = Invoice(
        number="I",
        issue_date=date(2025, 1, 1),
        currency="EUR",
        vendor=Party(name="V"),
        lines=[line],
        gross_total=D("10.00"),
    )
    assert invoice.amount_findings() == []
    off = replace(invoice, lines=[replace(line, line_total=D("9.99"))], gross_total=D("9.99"))
    assert _codes(off.amount_findings()) == [("line_amount", "lines[0].line_total")]
    # JPY has no decimals, KWD three; a finer stated value is compared at its own precision.
    assert (currency_decimals("JPY"), currency_decimals("KWD"), currency_decimals("usd")) == (
        0,
        3,
        2,
    )
    yen = replace(
        invoice, currency="JPY", lines=[replace(line, line_total=D("10"))], gross_total=D(10)
    )
    assert yen.amount_findings() == []
    fine = replace(invoice, lines=[replace(line, line_total=D("9.999"))], gross_total=D("9.999"))
    assert fine.amount_findings() == []


def test_price_base_quantity_and_line_charges():
    line = _line(
        "1",
        "250",
        "12.00",
        "32.00",
        base=D(100),
        acs=[AllowanceCharge(is_charge=True, amount=D(2))],
    )
    invoice = Invoice(
        number="I",
        issue_date=date(2025, 1, 1),
        currency="USD",
        vendor=Party(name="V"),
        lines=[line],
        net_total=D("32.00"),
        gross_total=D("32.00"),
    )
    assert invoice.amount_findings() == []


def test_unstated_amounts_are_not_checked():
    invoice = _consistent(
        net_total=None,
        allowance_total=None,
        charge_total=None,
        tax_exclusive_total=None,
        tax_total=None,
        taxes=[],
        payable_amount=None,
        lines=[replace(ln, line_total=None) for ln in _consistent().lines],
    )
    # Nothing left to compare the gross total with but itself: no finding.
    assert invoice.amount_findings() == []


def test_tax_lines_without_amount_are_not_summed():
    invoice = _consistent(taxes=[TaxLine(category="S", rate=D(25))])
    assert invoice.amount_findings() == []


def test_document_without_any_tax_is_checked_as_tax_free():
    invoice = _consistent(taxes=[], tax_total=None, gross_total=D("159.25"))
    assert _codes(invoice.amount_findings()) == [("gross_total", "gross_total")]
    assert invoice.amount_findings()[0].computed == D("127.40")


def _po(total):
    return PurchaseOrder(
        number="PO-1",
        order_date=date(2025, 1, 1),
        currency="USD",
        vendor=Party(name="V"),
        total_amount=None if total is None else D(total),
        lines=[
            PurchaseOrderLine(
                line_number="1",
                item=ItemRef(description="x"),
                quantity=D(3),
                uom="EA",
                unit_price=D("3.333"),
            ),
            PurchaseOrderLine(
                line_number="2",
                item=ItemRef(description="y"),
                quantity=D(1),
                uom="EA",
                unit_price=D("5"),
            ),
        ],
    )


def test_purchase_order_total():
    assert _po("15.00").amount_findings() == []
    assert _po(None).amount_findings() == []
    (finding,) = _po("16.00").amount_findings()
    assert (finding.code, finding.path, finding.computed) == (
        "po_total",
        "total_amount",
        D("15.00"),
    )
    unpriced = _po("16.00")
    unpriced.lines[1].unit_price = None
    assert unpriced.amount_findings() == []
