"""Which tax the supplier stated on each invoice line (normalize/taxes.py)."""

from datetime import date
from decimal import Decimal as D

from ..canonical import AllowanceCharge
from ..canonical import Invoice
from ..canonical import InvoiceLine
from ..canonical import ItemRef
from ..canonical import Party
from ..canonical import TaxLine
from ..normalize.taxes import TaxKey
from ..normalize.taxes import stated_taxes


def line(number, total="100.00", taxes=(), charges=()):
    return InvoiceLine(
        line_number=str(number),
        item=ItemRef(description="gloves"),
        quantity=D(1),
        uom="EA",
        unit_price=D(total),
        line_total=D(total),
        taxes=list(taxes),
        allowance_charges=list(charges),
    )


def invoice(lines, taxes=(), tax_total=None, charges=(), **kw):
    return Invoice(
        number="1",
        issue_date=date(2026, 3, 2),
        currency="EUR",
        vendor=Party(name="Vendor"),
        lines=lines,
        taxes=list(taxes),
        tax_total=tax_total,
        allowance_charges=list(charges),
        gross_total=D("1"),
        **kw,
    )


S25 = TaxKey("VAT", "S", D("25.0000"))


def test_no_tax_stated_gives_no_tax_anywhere():
    freight = AllowanceCharge(is_charge=True, amount=D(5))
    result = stated_taxes(invoice([line(1), line(2)], charges=[freight]))
    assert result.lines == ((), ())
    assert result.document_charges == ((),)


def test_line_category_and_rate_win():
    doc = invoice(
        [
            line(1, taxes=[TaxLine(category="S", rate=D(25))]),
            line(2, taxes=[TaxLine(category="E", rate=D(0))]),
        ],
        taxes=[
            TaxLine(category="S", rate=D(25), amount=D(25)),
            TaxLine(category="E", rate=D(0), amount=D(0)),
        ],
    )
    result = stated_taxes(doc)
    assert result.lines == ((S25,), ())


def test_single_subtotal_applies_to_every_line_and_charge():
    freight = AllowanceCharge(is_charge=True, amount=D(5))
    doc = invoice(
        [line(1), line(2)],
        taxes=[TaxLine(category="S", rate=D(25), amount=D(50))],
        charges=[freight],
    )
    result = stated_taxes(doc)
    assert result.lines == ((S25,), (S25,))
    assert result.document_charges == ((S25,),)


def test_several_subtotals_without_line_taxes_cannot_be_placed():
    doc = invoice(
        [line(1), line(2)],
        taxes=[
            TaxLine(category="S", rate=D(25), amount=D(25)),
            TaxLine(category="S", rate=D(12), amount=D(12)),
        ],
    )
    result = stated_taxes(doc)
    assert result.lines == (None, None)


def test_amount_only_implies_a_rate():
    doc = invoice(
        [line(1), line(2)],
        taxes=[TaxLine(tax_type="sales", amount=D("16.50"))],
        tax_total=D("16.50"),
    )
    (keys,) = set(stated_taxes(doc).lines)
    assert keys == (TaxKey("SALES", "", D("8.2500"), implied=True),)


def test_line_tax_amount_only_implies_its_rate():
    doc = invoice([line(1, total="200.00", taxes=[TaxLine(tax_type="ST", amount=D("16.50"))])])
    assert stated_taxes(doc).lines == ((TaxKey("ST", "", D("8.2500"), implied=True),),)


def test_charge_states_its_own_category():
    freight = AllowanceCharge(is_charge=True, amount=D(5), taxes=[TaxLine(category="Z", rate=D(0))])
    doc = invoice([line(1, taxes=[TaxLine(category="S", rate=D(25))])], charges=[freight])
    assert stated_taxes(doc).document_charges == ((),)


def test_document_charge_without_tax_and_goods_of_several_taxes_cannot_be_placed():
    freight = AllowanceCharge(is_charge=True, amount=D(5))
    doc = invoice(
        [
            line(1, taxes=[TaxLine(category="S", rate=D(25))]),
            line(2, taxes=[TaxLine(category="S", rate=D(12))]),
        ],
        charges=[freight],
    )
    assert stated_taxes(doc).document_charges == (None,)


def test_line_allowance_takes_its_line_tax():
    discount = AllowanceCharge(is_charge=False, amount=D(5))
    doc = invoice([line(1, taxes=[TaxLine(category="S", rate=D(25))], charges=[discount])])
    assert stated_taxes(doc).line_charges == (((S25,),),)


def test_zero_categories():
    assert TaxKey("VAT", "E", D(0)).is_zero
    assert TaxKey("VAT", "Z", None).is_zero
    assert TaxKey("", "", D(0)).is_zero
    assert not TaxKey("VAT", "AE", D(0)).is_zero  # reverse charge needs its own tax
    assert not TaxKey("VAT", "S", D(25)).is_zero
