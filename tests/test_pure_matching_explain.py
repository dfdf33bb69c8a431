"""The figures behind each match exception (``matching.engine.explain_exception``)."""

import json
from datetime import date
from decimal import Decimal as D

from ..matching.engine import EXC_CHARGE_VARIANCE
from ..matching.engine import EXC_CONTRACT_PRICE_MISMATCH
from ..matching.engine import EXC_MISSING_RECEIPT
from ..matching.engine import EXC_NO_PO
from ..matching.engine import EXC_PRICE_VARIANCE
from ..matching.engine import EXC_QTY_VARIANCE
from ..matching.engine import EXC_TAX_VARIANCE
from ..matching.engine import EXC_TOTAL_MISMATCH
from ..matching.engine import EXC_TOTAL_VARIANCE
from ..matching.engine import EXC_UOM_MISMATCH
from ..matching.engine import BillLine
from ..matching.engine import ChargeLine
from ..matching.engine import ContractPrice
from ..matching.engine import PoLine
from ..matching.engine import ReceiptQty
from ..matching.engine import StatedAmounts
from ..matching.engine import explain_exception
from ..matching.engine import match_bill
from ..matching.tolerance import Tolerance

CENT = D("0.01")
TOL = Tolerance(qty_pct=0, price_pct=2, total_pct=2)


def po(line_id=1, qty=10, price="10.00", factor=1, product=7, **kw):
    return PoLine(
        id=line_id, po_id=1, po_name="PO1", product_id=product, ordered_qty=qty,
        price_unit=price, uom_factor=factor, vendor_id=70, uom_name="Units",
        po_date=date(2026, 11, 1), **kw,
    )  # fmt: skip


def bill(line_id=11, po_line_id=1, qty=10, price="10.00", factor=1, product=7):
    return BillLine(
        id=line_id, po_line_id=po_line_id, product_id=product, qty=qty, price_unit=price,
        uom_factor=factor, uom_name="Units",
    )  # fmt: skip


def facts_of(result, exc_type):
    [exc] = [e for e in result.exceptions if e.type == exc_type]
    facts = explain_exception(result, exc)
    json.dumps(facts)  # stored as JSON with the exception
    return facts


def test_price_variance_names_prices_difference_tolerance_and_rule():
    result = match_bill([po()], [ReceiptQty(1, 10)], [bill(price="10.50")], TOL, CENT)
    facts = facts_of(result, EXC_PRICE_VARIANCE)
    assert facts["check"] == "price" and facts["kind"] == "price"
    assert facts["product_id"] == 7 and facts["bill_line_id"] == 11
    assert (facts["ordered_qty"], facts["received_qty"], facts["billed_qty"]) == ("10", "10", "10")
    assert (facts["po_price"], facts["bill_price"]) == ("10.00", "10.50")
    assert facts["difference"] == "0.50" and facts["allowed"] == "0.20"
    assert facts["tolerance"].startswith("2% (")
    assert facts["rule"] == f"price check: {facts['tolerance']}"
    assert facts["contract_price"] is None


def test_qty_variance_difference_is_the_quantity_over_the_billable():
    result = match_bill([po()], [ReceiptQty(1, 8)], [bill(qty=10)], TOL, CENT)
    facts = facts_of(result, EXC_QTY_VARIANCE)
    assert facts["check"] == "quantity" and facts["kind"] == "qty"
    assert (facts["ordered_qty"], facts["received_qty"], facts["billed_qty"]) == ("10", "8", "10")
    assert facts["billable_qty"] == "8"
    assert facts["difference"] == "2" and facts["allowed"] == "0"
    assert facts["rule"].startswith("quantity check: ")


def test_missing_receipt_difference_is_the_quantity_billed_unreceived():
    result = match_bill([po()], [], [bill(qty=4)], TOL, CENT)
    facts = facts_of(result, EXC_MISSING_RECEIPT)
    assert facts["check"] == "receipt" and facts["kind"] == "qty"
    assert facts["received_qty"] == "0" and facts["billed_qty"] == "4"
    assert facts["difference"] == "4"
    assert facts["rule"] == "receipt check: nothing received yet"


def test_contract_price_mismatch_names_the_contract():
    contract = ContractPrice(product_id=7, vendor_id=70, price="9.00", contract_ref="GPO-1")
    result = match_bill([po()], [ReceiptQty(1, 10)], [bill()], TOL, CENT, [contract])
    facts = facts_of(result, EXC_CONTRACT_PRICE_MISMATCH)
    assert facts["check"] == "contract_price" and facts["kind"] == "price"
    assert (facts["po_price"], facts["contract_price"], facts["bill_price"]) == (
        "10.00",
        "9.00",
        "10.00",
    )
    assert facts["contract_ref"] == "GPO-1"
    assert facts["difference"] == "1.00" and facts["expected"] == "9.00"


def test_no_po_keeps_the_billed_figures_and_the_reason():
    result = match_bill(
        [po()], [ReceiptQty(1, 10)], [bill(po_line_id=None, qty=3, price="4.00")], TOL, CENT
    )
    facts = facts_of(result, EXC_NO_PO)
    assert facts["check"] == "po_link" and facts["kind"] == "none"
    assert facts["billed_qty"] == "3" and facts["bill_price"] == "4.00"
    assert facts["ordered_qty"] is None and facts["po_price"] is None
    assert facts["rule"] == "PO link: Not ordered: no purchase order line is linked to it"


def test_uom_mismatch_keeps_each_side_in_its_own_unit():
    result = match_bill(
        [po()], [ReceiptQty(1, 10)], [bill(factor=None, qty=2, price="50.00")], TOL, CENT
    )
    facts = facts_of(result, EXC_UOM_MISMATCH)
    assert facts["check"] == "uom" and facts["kind"] == "none"
    assert (facts["ordered_qty"], facts["po_price"]) == ("10", "10.00")
    assert (facts["billed_qty"], facts["bill_price"]) == ("2", "50.00")
    assert facts["rule"].startswith("unit conversion")


def test_lead_line_of_several_is_the_largest_difference():
    lines = [po(1, product=7), po(2, product=8)]
    result = match_bill(
        lines,
        [ReceiptQty(1, 10), ReceiptQty(2, 10)],
        [bill(11, 1, price="10.50", product=7), bill(12, 2, price="12.00", product=8)],
        TOL,
        CENT,
    )
    facts = facts_of(result, EXC_PRICE_VARIANCE)
    assert facts["line_ids"] == [11, 12]
    assert facts["bill_line_id"] == 12 and facts["difference"] == "2.00"


def test_total_variance_compares_amounts():
    # 1.5 % over on each line: within the 2 % price tolerance, not the 1 % total one
    tol = Tolerance(qty_pct=0, price_pct=2, total_pct=1)
    result = match_bill([po()], [ReceiptQty(1, 10)], [bill(price="10.15")], tol, CENT)
    facts = facts_of(result, EXC_TOTAL_VARIANCE)
    assert facts["check"] == "bill_total" and facts["kind"] == "amount"
    assert (facts["actual"], facts["expected"], facts["difference"]) == ("101.50", "100.00", "1.50")
    assert facts["allowed"] == "1.00"
    assert facts["rule"].startswith("bill total check: 1% (")
    assert "product_id" not in facts


def test_charge_variance_compares_the_charges():
    freight = ChargeLine(id=90, amount="10.00", is_charge=True, label="Freight")
    result = match_bill([po()], [ReceiptQty(1, 10)], [bill()], TOL, CENT, charges=[freight])
    facts = facts_of(result, EXC_CHARGE_VARIANCE)
    assert facts["check"] == "charges" and facts["kind"] == "amount"
    assert facts["actual"] == "10.00"


def test_tax_variance_and_total_mismatch_compare_with_the_stated_amounts():
    stated = StatedAmounts(
        bill_untaxed="100.00", bill_tax="15.00", bill_total="115.00",
        untaxed="100.00", tax="0.00", total="100.00",
    )  # fmt: skip
    result = match_bill([po()], [ReceiptQty(1, 10)], [bill()], TOL, CENT, stated=stated)
    facts = facts_of(result, EXC_TAX_VARIANCE)
    assert facts["check"] == "stated_tax" and facts["kind"] == "amount"
    assert (facts["actual"], facts["expected"], facts["difference"]) == ("15.00", "0.00", "15.00")
    stated = StatedAmounts(
        bill_untaxed="100.00", bill_tax="0.00", bill_total="100.00", untaxed="90.00", total="90.00"
    )
    result = match_bill([po()], [ReceiptQty(1, 10)], [bill()], TOL, CENT, stated=stated)
    facts = facts_of(result, EXC_TOTAL_MISMATCH)
    assert facts["check"] == "stated_untaxed"
    assert (facts["actual"], facts["expected"], facts["difference"]) == ("100.00", "90.00", "10.00")
