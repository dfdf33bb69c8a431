# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Three-way match: PO line x received quantity x billed quantity and price.

:func:`match_bill` takes plain values (the Odoo layer reads ``purchase.order.line``,
``stock.move`` and ``account.move.line`` into the dataclasses below) and returns a
:class:`BillMatchResult` that says, per bill line, what was compared, the numbers, the
tolerance and the rule that decided, in words a clerk understands.  It never touches the
database and has no side effect, so the same inputs always give the same result, and a
clerk's "re-run the match" after a resolution is simply another call.

How the checks work, and why:

* **Units.** Every document line carries a ``uom_factor``: how many of the product's
  reference unit one of its units holds (a box of 100 has 100).  Comparisons happen in
  the reference unit with exact fractions, so a bill in eaches against a PO in boxes gives
  the same verdict as if both were in boxes; the numbers shown are converted to the PO
  line's unit, which is what the clerk sees on the PO.  A factor of None means "cannot
  be converted" (unknown unit, missing pack factor, kilograms against boxes): the line is
  ``uom_mismatch`` and nothing else is checked, because any number would be a guess.
* **Quantity** is checked per PO line, not per bill line: two lines of one bill against
  one PO line are billed together.  The quantity billed so far (earlier bills, net of
  credit notes, plus this bill) must not exceed the billable quantity: what was received,
  capped at what was ordered unless the tolerance allows over-receipt.  Billing less than
  received is a partial bill and fine.  Nothing received at all is ``not_received``.
* **Price**: the bill's unit price against the PO unit price, per reference unit, with
  the price tolerance.  A difference that vanishes once the line amount is rounded to the
  currency (0.8333 per each against 10.00 per dozen) is a rounding artefact, not a
  variance.  A lower price is in the buyer's favour and passes unless
  ``check_favorable=True``.
* **Contract price**: the vendor's contract price for the product valid on the PO date
  (latest start date wins, then the lowest price) is checked the same way; billing above
  it is ``contract_price_variance`` even when the PO carried that price, since the PO
  itself was then off contract.
* **Credit notes** (``is_credit_note`` or a negative quantity) reduce the billed
  quantity and are never a variance by themselves: paying less cannot hurt the hospital,
  and blocking a refund only delays it.  They are still ``uom_mismatch`` when their
  quantity cannot be converted, because the engine could not tell what they reverse.
* **Bill total**: the sum of the comparable line amounts (each rounded to the currency,
  as Odoo rounds line subtotals) against the sum of their expected amounts (quantity x
  PO price), with the bill total tolerance of the bill's vendor.  It catches many small
  in-tolerance price differences that add up.

One status per line, the first of :data:`STATUS_PRECEDENCE` that applies; every problem
found stays listed in ``issues``.  The bill is ``matched`` only when every line is and the
total check passed; otherwise it is ``blocked`` with one :class:`MatchException` per
distinct exception type, ready to become exception records routed to a queue.
"""

from dataclasses import dataclass
from dataclasses import fields
from dataclasses import is_dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .numbers import fmt
from .numbers import frac
from .numbers import to_decimal
from .numbers import to_display
from .numbers import to_money
from .numbers import to_price
from .tolerance import ResolvedTolerance
from .tolerance import Tolerance
from .tolerance import exact_tolerance

# Line statuses.
MATCHED = "matched"
QTY_VARIANCE = "qty_variance"
PRICE_VARIANCE = "price_variance"
CONTRACT_PRICE_VARIANCE = "contract_price_variance"
NOT_RECEIVED = "not_received"
NOT_ORDERED = "not_ordered"
UOM_MISMATCH = "uom_mismatch"
# The status shown when a line has several problems: the one to fix first.  A unit that
# cannot be converted makes every other number meaningless; a missing PO link or receipt
# must be sorted before arguing about quantities; quantity before price because a
# credit note for the excess quantity often settles the amount too.
STATUS_PRECEDENCE = (
    UOM_MISMATCH,
    NOT_ORDERED,
    NOT_RECEIVED,
    QTY_VARIANCE,
    PRICE_VARIANCE,
    CONTRACT_PRICE_VARIANCE,
)
LINE_STATUSES = (MATCHED, *STATUS_PRECEDENCE)

# Bill verdicts.
BILL_MATCHED = "matched"
BILL_BLOCKED = "blocked"

# Exception types (the exception records' type codes), in the order they are listed.
EXC_NO_PO = "no_po"
EXC_UOM_MISMATCH = "uom_mismatch"
EXC_MISSING_RECEIPT = "missing_receipt"
EXC_QTY_VARIANCE = "qty_variance"
EXC_PRICE_VARIANCE = "price_variance"
EXC_CONTRACT_PRICE_MISMATCH = "contract_price_mismatch"
EXC_TOTAL_VARIANCE = "total_variance"
EXC_CHARGE_VARIANCE = "charge_variance"
EXC_TAX_VARIANCE = "tax_variance"
EXC_TOTAL_MISMATCH = "total_mismatch"
EXCEPTION_TYPES = (
    EXC_NO_PO,
    EXC_UOM_MISMATCH,
    EXC_MISSING_RECEIPT,
    EXC_QTY_VARIANCE,
    EXC_PRICE_VARIANCE,
    EXC_CONTRACT_PRICE_MISMATCH,
    EXC_TOTAL_VARIANCE,
    EXC_CHARGE_VARIANCE,
    EXC_TAX_VARIANCE,
    EXC_TOTAL_MISMATCH,
)
EXCEPTION_OF_STATUS = {
    NOT_ORDERED: EXC_NO_PO,
    UOM_MISMATCH: EXC_UOM_MISMATCH,
    NOT_RECEIVED: EXC_MISSING_RECEIPT,
    QTY_VARIANCE: EXC_QTY_VARIANCE,
    PRICE_VARIANCE: EXC_PRICE_VARIANCE,
    CONTRACT_PRICE_VARIANCE: EXC_CONTRACT_PRICE_MISMATCH,
}

# What a clerk can do about each exception (the resolution wizard's options).
HINTS = {
    EXC_NO_PO: "Link the line to the right purchase order line, or reject it.",
    EXC_UOM_MISMATCH: "Fix the unit of measure or pack factor of the product, then re-run the match.",
    EXC_MISSING_RECEIPT: "Wait for the receipt to be recorded, or ask receiving whether the goods arrived.",
    EXC_QTY_VARIANCE: "Wait for the rest of the receipt, request a credit note for the excess, or accept the variance.",
    EXC_PRICE_VARIANCE: "Request a credit note for the price difference, or accept the variance with a reason.",
    EXC_CONTRACT_PRICE_MISMATCH: "Request a credit note down to the contract price, or accept the variance.",
    EXC_TOTAL_VARIANCE: "Review the line differences: request a credit note, or accept the variance.",
    EXC_CHARGE_VARIANCE: "Check the charge against the order terms: request a credit note, or accept it with a reason.",
    EXC_TAX_VARIANCE: "Check the tax mapping and the supplier's tax: fix the mapping and re-run the match, or request a corrected invoice.",
    EXC_TOTAL_MISMATCH: "Compare the bill with the supplier's document: correct the bill to what was invoiced, or request a corrected invoice.",
}

EXCEPTION_LABELS = {
    EXC_NO_PO: "No purchase order",
    EXC_UOM_MISMATCH: "Unit of measure mismatch",
    EXC_MISSING_RECEIPT: "Missing receipt",
    EXC_QTY_VARIANCE: "Quantity variance",
    EXC_PRICE_VARIANCE: "Price variance",
    EXC_CONTRACT_PRICE_MISMATCH: "Contract price mismatch",
    EXC_TOTAL_VARIANCE: "Bill total variance",
    EXC_CHARGE_VARIANCE: "Charge variance",
    EXC_TAX_VARIANCE: "Tax variance",
    EXC_TOTAL_MISMATCH: "Stated total mismatch",
}

# Check names, as recorded in ToleranceCheck.check and LineMatch.decided_by.
CHECK_QTY = "quantity"
CHECK_RECEIPT = "receipt"
CHECK_PRICE = "price"
CHECK_CONTRACT = "contract_price"
CHECK_TOTAL = "bill_total"
CHECK_CHARGES = "charges"
CHECK_STATED_UNTAXED = "stated_untaxed"
CHECK_STATED_TAX = "stated_tax"
CHECK_STATED_TOTAL = "stated_total"
CHECK_PREPAID = "prepaid"


# --------------------------------------------------------------------------- inputs


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


def _factor(obj, what):
    """Validate a UoM factor: positive Decimal, or None for "cannot be converted"."""
    value = to_decimal(obj.uom_factor, what, allow_none=True)
    if value is not None and value <= 0:
        # Zero would divide by zero and a negative factor flips signs: the caller must
        # say None ("unknown") rather than invent one.
        raise ValueError(f"{what} must be positive or None (unknown), got {fmt(value)}")
    _set(obj, "uom_factor", value)


@dataclass(frozen=True)
class PoLine:
    """A purchase order line as the match needs it.

    ``ordered_qty``, ``price_unit`` and ``previously_billed_qty`` are in the line's own
    unit, whose size is ``uom_factor`` reference units.  ``previously_billed_qty`` is what
    other posted bills already billed on this line, net of their credit notes, and
    excluding the bill being matched (Odoo's ``qty_invoiced`` minus this bill).
    ``category_path`` lists product category ids from the product's category up to the
    root, for tolerance resolution.  ``po_date`` selects the contract price in force.
    """

    id: object
    po_id: object
    po_name: str
    product_id: object
    ordered_qty: object
    price_unit: object
    uom_factor: object = 1
    vendor_id: object = None
    category_path: tuple = ()
    currency: str = ""
    previously_billed_qty: object = 0
    po_date: date | None = None
    uom_name: str = ""
    product_name: str = ""

    def __post_init__(self):
        _set(self, "ordered_qty", to_decimal(self.ordered_qty, f"PO line {self.id!r} ordered_qty"))
        _set(self, "price_unit", to_decimal(self.price_unit, f"PO line {self.id!r} price_unit"))
        _set(
            self,
            "previously_billed_qty",
            to_decimal(self.previously_billed_qty, f"PO line {self.id!r} previously_billed_qty"),
        )
        if self.ordered_qty < 0 or self.price_unit < 0:
            raise ValueError(
                f"PO line {self.id!r}: ordered quantity and price must not be negative"
            )
        _factor(self, f"PO line {self.id!r} uom_factor")
        _set(self, "category_path", tuple(self.category_path or ()))


@dataclass(frozen=True)
class ReceiptQty:
    """Quantity received on a PO line, net of returns, in the PO line's unit.

    Several records for one PO line are added up (one per receipt, a return as a
    negative quantity).
    """

    po_line_id: object
    qty: object

    def __post_init__(self):
        _set(self, "qty", to_decimal(self.qty, f"receipt of PO line {self.po_line_id!r} qty"))


@dataclass(frozen=True)
class BillLine:
    """A vendor bill (or credit note) line.

    ``qty`` and ``price_unit`` are in the bill line's unit (``uom_factor`` reference units
    each, None when the unit could not be mapped).  A credit note line is flagged with
    ``is_credit_note`` and carries a positive quantity, as in Odoo's refunds; a negative
    quantity on an ordinary bill (a return line) is treated as a credit too.
    ``po_line_id`` is None when invoice capture found no PO line; ``product_id`` None
    when it could not identify the product (the PO line's product is then trusted).
    """

    id: object
    po_line_id: object
    product_id: object
    qty: object
    price_unit: object
    uom_factor: object = 1
    is_credit_note: bool = False
    uom_name: str = ""
    description: str = ""
    label: str = ""  # how people name the line: its position on the bill ("2")

    def __post_init__(self):
        _set(self, "qty", to_decimal(self.qty, f"bill line {self.id!r} qty"))
        _set(self, "price_unit", to_decimal(self.price_unit, f"bill line {self.id!r} price_unit"))
        if self.price_unit < 0:
            raise ValueError(
                f"bill line {self.id!r}: price must not be negative; a credit is a credit note "
                "line or a negative quantity"
            )
        _factor(self, f"bill line {self.id!r} uom_factor")

    @property
    def signed_qty(self):
        """Quantity with its effect on what is owed: negative for credits."""
        return -abs(self.qty) if self.is_credit_note else self.qty

    @property
    def is_credit(self):
        return self.signed_qty < 0


@dataclass(frozen=True)
class ContractPrice:
    """A vendor's contract price for a product, per ``uom_factor`` reference units.

    ``valid_from``/``valid_to`` are inclusive; None leaves that end open.  ``currency``
    empty means "the PO's currency"; a contract in another currency is not comparable
    and is ignored.
    """

    product_id: object
    vendor_id: object
    price: object
    contract_ref: str
    uom_factor: object = 1
    valid_from: date | None = None
    valid_to: date | None = None
    currency: str = ""

    def __post_init__(self):
        _set(self, "price", to_decimal(self.price, f"contract {self.contract_ref!r} price"))
        if self.price < 0:
            raise ValueError(f"contract {self.contract_ref!r}: price must not be negative")
        _factor(self, f"contract {self.contract_ref!r} uom_factor")
        if self.uom_factor is None:
            raise ValueError(f"contract {self.contract_ref!r}: a contract price needs a known unit")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError(f"contract {self.contract_ref!r}: valid_from is after valid_to")

    def covers(self, day):
        """True when the contract is in force on ``day`` (None: date unknown, any)."""
        if day is None:
            return True
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class ChargeLine:
    """A charge (freight, handling, fuel, small-order fee) or an allowance on a bill.

    ``amount`` is positive, in the bill currency; ``is_charge`` False makes it an
    allowance (a discount).  ``bill_line_id`` names the goods line a line-level one
    belongs to, None for the whole bill.  A line allowance lowers its line's net price
    (what the price check compares); a document allowance lowers the bill.  Neither is
    ever a variance: they are in the buyer's favour.  Charges are matched against the
    charge tolerance; a charge the purchase order agreed (a freight line on the PO:
    ``agreed`` is what is left to bill of it, ``agreed_on`` names it) only counts for
    what it exceeds.
    """

    id: object
    amount: object
    is_charge: bool
    label: str = ""
    bill_line_id: object = None
    agreed: object = None
    agreed_on: str = ""

    def __post_init__(self):
        _set(self, "amount", to_decimal(self.amount, f"charge {self.id!r} amount"))
        _set(self, "agreed", to_decimal(self.agreed, f"charge {self.id!r} agreed", allow_none=True))
        if self.amount < 0:
            raise ValueError(
                f"charge {self.id!r}: amount must not be negative; an allowance is is_charge=False"
            )


@dataclass(frozen=True)
class StatedAmounts:
    """The supplier's stated amounts beside the bill's own, in the bill currency.

    ``untaxed``, ``tax`` and ``total`` are what the document states (None: not stated,
    not checked); ``total`` includes any rounding amount the supplier added.
    ``prepaid`` is what the supplier says was paid already.  ``bill_*`` are the bill's
    amounts as Odoo computed them.
    """

    bill_untaxed: object
    bill_tax: object
    bill_total: object
    untaxed: object = None
    tax: object = None
    total: object = None
    prepaid: object = None

    def __post_init__(self):
        for name in ("bill_untaxed", "bill_tax", "bill_total"):
            _set(self, name, to_decimal(getattr(self, name), f"stated amounts {name}"))
        for name in ("untaxed", "tax", "total", "prepaid"):
            _set(
                self,
                name,
                to_decimal(getattr(self, name), f"stated amounts {name}", allow_none=True),
            )


# --------------------------------------------------------------------------- results


def _jsonable(value):
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class _Serializable:
    def to_dict(self):
        """JSON-ready dict (Decimals as strings, exact) for storing with the bill."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class ToleranceCheck(_Serializable):
    """One comparison: what was compared, the variance, what was allowed, and by whom.

    Quantities are in the PO line's unit, prices per PO line unit, totals in the bill
    currency.  ``tolerance`` describes the limits in words with the rule behind each;
    ``sources`` maps each tolerance field used to the label of the rule that set it.
    """

    check: str
    passed: bool
    actual: Decimal | None
    expected: Decimal | None
    variance: Decimal | None
    allowed: Decimal | None
    unit: str
    tolerance: str
    sources: dict
    explanation: str


@dataclass(frozen=True)
class LineMatch(_Serializable):
    """Verdict on one bill line, with every number it rests on.

    Quantities are in the PO line's unit and prices per PO line unit (converted from the
    bill's unit); amounts are rounded to the currency.  ``billed_qty`` is this line's
    signed quantity; ``billed_qty_on_bill`` the net quantity of all lines of this bill on
    the same PO line, which is what the quantity check used.  ``bill_uom`` is the bill
    line's own unit: a line that could not be compared with a PO line (not ordered, unit
    mismatch) keeps ``billed_qty`` and ``bill_price`` in it.
    """

    bill_line_id: object
    status: str
    issues: tuple
    decided_by: str
    explanation: str
    is_credit: bool = False
    po_line_id: object = None
    po_id: object = None
    po_name: str = ""
    product_id: object = None
    uom: str = ""
    ordered_qty: Decimal | None = None
    received_qty: Decimal | None = None
    previously_billed_qty: Decimal | None = None
    billed_qty: Decimal | None = None
    billed_qty_on_bill: Decimal | None = None
    billable_qty: Decimal | None = None
    po_price: Decimal | None = None
    bill_price: Decimal | None = None
    contract_price: Decimal | None = None
    contract_ref: str | None = None
    billed_amount: Decimal | None = None
    expected_amount: Decimal | None = None
    checks: tuple = ()
    tolerance: dict | None = None
    bill_uom: str = ""

    @property
    def matched(self):
        return self.status == MATCHED


@dataclass(frozen=True)
class MatchException(_Serializable):
    """One distinct problem of a blocked bill: becomes one exception record.

    ``amount`` is the money at stake in the bill currency (the excess billed for
    variances, the amount of the lines concerned for missing receipt, no PO and UoM
    mismatch).  ``line_ids`` are the bill lines concerned (none for the total).
    """

    type: str
    line_ids: tuple
    amount: Decimal
    explanation: str
    hint: str


@dataclass(frozen=True)
class BillMatchResult(_Serializable):
    """Verdict on a whole bill: ``matched`` (release for payment) or ``blocked``."""

    status: str
    lines: tuple
    total_check: ToleranceCheck
    exceptions: tuple
    explanation: str
    bill_total: Decimal
    currency_rounding: Decimal
    charge_check: ToleranceCheck | None = None
    amount_checks: tuple = ()

    @property
    def matched(self):
        return self.status == BILL_MATCHED

    @property
    def exception_types(self):
        return tuple(exc.type for exc in self.exceptions)

    def line(self, bill_line_id):
        """The :class:`LineMatch` of a bill line id."""
        for line in self.lines:
            if line.bill_line_id == bill_line_id:
                return line
        raise KeyError(bill_line_id)

    def to_dict(self):
        result = super().to_dict()
        result["exception_types"] = list(self.exception_types)
        return result


# --------------------------------------------------------------------------- engine


def _q(value):
    """Fraction to a display Decimal (exact when it terminates)."""
    return to_display(value)


def _qs(value):
    """Fraction to a plain string for messages (never scientific notation)."""
    return fmt(to_display(value))


def _pct(variance, base):
    if not base:
        return ""
    return f" ({'+' if variance >= 0 else ''}{fmt(to_display(variance / base * 100, 2))}%)"


def _uom(name):
    return f" {name}" if name else ""


def _sort_ids(ids):
    # Ids may be ints or strings (external references): group by type, then order.
    return tuple(
        sorted(ids, key=lambda i: (type(i).__name__, i if isinstance(i, int | float) else str(i)))
    )


def _as_resolver(tolerance_resolver):
    """Accept a resolver callable, a ResolvedTolerance or a bare Tolerance (tests, tools)."""
    if tolerance_resolver is None:
        resolved = exact_tolerance()
        return lambda vendor_id, category_path: resolved
    if isinstance(tolerance_resolver, ResolvedTolerance):
        return lambda vendor_id, category_path: tolerance_resolver
    if isinstance(tolerance_resolver, Tolerance):
        resolved = ResolvedTolerance(tolerance_resolver, {})
        return lambda vendor_id, category_path: resolved
    if not callable(tolerance_resolver):
        raise TypeError(
            "tolerance_resolver must be callable(vendor_id, category_path), or a (Resolved)Tolerance"
        )

    def resolve(vendor_id, category_path):
        result = tolerance_resolver(vendor_id, tuple(category_path))
        if isinstance(result, Tolerance):
            return ResolvedTolerance(result, {})
        if not isinstance(result, ResolvedTolerance):
            raise TypeError(
                f"tolerance resolver returned {type(result).__name__}, not a ResolvedTolerance"
            )
        return result

    return resolve


def _rounding(currency_rounding):
    value = to_decimal(currency_rounding, "currency_rounding")
    if value <= 0:
        raise ValueError(f"currency_rounding must be positive, got {fmt(value)}")
    return value


def _index(items, what):
    index = {}
    for item in items:
        if item.id in index:
            raise ValueError(f"duplicate {what} id {item.id!r}")
        index[item.id] = item
    return index


def find_contract(po_line, contract_prices):
    """The contract price in force for a PO line, or None.

    Same product and vendor, same currency (or unspecified), valid on the PO date.  When
    several apply, the one starting latest wins (it superseded the others), then the
    lowest price per reference unit (the buyer is entitled to its best contract), then
    the reference, so the choice never depends on input order.
    """
    candidates = [
        contract
        for contract in contract_prices or ()
        if contract.product_id == po_line.product_id
        and contract.vendor_id == po_line.vendor_id
        and (not contract.currency or not po_line.currency or contract.currency == po_line.currency)
        and contract.covers(po_line.po_date)
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda c: (
            -(c.valid_from or date.min).toordinal(),
            frac(c.price) / frac(c.uom_factor),
            str(c.contract_ref),
        ),
    )


@dataclass
class _Group:
    """Quantity verdict of one PO line for this bill (all its bill lines together)."""

    po: PoLine
    tolerance: ResolvedTolerance
    now_ref: Fraction = Fraction(0)
    status: str | None = None
    check: ToleranceCheck | None = None
    excess_ref: Fraction = Fraction(0)
    billable_ref: Fraction = Fraction(0)


class _Matcher:
    """One run of :func:`match_bill`; holds the inputs, indexes and rounding."""

    def __init__(
        self,
        po_lines,
        receipts,
        bill_lines,
        resolver,
        rounding,
        contracts,
        vendor_id,
        check_favorable,
        charges=(),
        stated=None,
        credit_note=False,
    ):
        self.po_index = _index(po_lines, "PO line")
        self.bill_lines = tuple(bill_lines)
        bill_index = _index(self.bill_lines, "bill line")
        self.charges = tuple(charges or ())
        _index(self.charges, "charge")
        self.stated = stated
        self.credit_note = credit_note
        # a line allowance lowers its line's net price; one naming no line of this bill
        # applies to the whole bill
        self.line_allowance = {}
        for charge in self.charges:
            if not charge.is_charge and charge.bill_line_id in bill_index:
                self.line_allowance[charge.bill_line_id] = self.line_allowance.get(
                    charge.bill_line_id, Fraction(0)
                ) + frac(charge.amount)
        self.received = {}
        for receipt in receipts or ():
            self.received[receipt.po_line_id] = self.received.get(
                receipt.po_line_id, Fraction(0)
            ) + frac(receipt.qty)
        self.resolve = resolver
        self.rounding = rounding
        self.contracts = tuple(contracts or ())
        self.vendor_id = vendor_id
        self.check_favorable = check_favorable
        self.excess = {}  # (check name, bill line id) -> amount billed over the reference

    # -- helpers ---------------------------------------------------------------

    def net_price(self, line):
        """The line's unit price net of its line allowances (exact Fraction)."""
        allowance = self.line_allowance.get(line.id)
        if not allowance or not line.qty:
            return frac(line.price_unit)
        return frac(line.price_unit) - allowance / abs(frac(line.qty))

    def money(self, value):
        return to_money(value, self.rounding)

    def price(self, value):
        return to_price(value, self.rounding)

    def checked(self, variance):
        """The part of a variance that counts: only unfavourable unless asked otherwise."""
        return abs(variance) if self.check_favorable else variance

    def link(self, line):
        """``(po_line, reason)``: the PO line a bill line is matched against, or why not."""
        if line.po_line_id is None:
            return None, "no purchase order line is linked to it"
        po = self.po_index.get(line.po_line_id)
        if po is None:
            return (
                None,
                f"it references PO line {line.po_line_id!r}, which is not among the purchase order lines",
            )
        if line.product_id is not None and line.product_id != po.product_id:
            return None, (
                f"the billed product {line.product_id!r} is not the product {po.product_id!r} ordered on "
                f"{po.po_name} (PO line {po.id!r})"
            )
        return po, ""

    # -- quantity ----------------------------------------------------------------

    def quantity_verdict(self, group):
        """Fill ``group.status`` / ``group.check`` from receipts and earlier bills."""
        po, tol = group.po, group.tolerance
        pf = frac(po.uom_factor)
        ordered = frac(po.ordered_qty) * pf
        received = self.received.get(po.id, Fraction(0)) * pf
        previous = frac(po.previously_billed_qty) * pf
        billable = received if tol.allow_over_receipt else min(received, ordered)
        billable = max(billable, Fraction(0))
        group.billable_ref = billable
        cumulative = previous + group.now_ref
        uom = _uom(po.uom_name)
        sources = tol.source_labels("qty")
        describe = tol.describe("qty", "per reference unit")
        context = (
            f"{_qs(cumulative / pf)}{uom} billed in total ({_qs(previous / pf)} on earlier bills, "
            f"{_qs(group.now_ref / pf)} on this bill), {_qs(received / pf)} received, {_qs(ordered / pf)} ordered"
        )
        if received > ordered and not tol.allow_over_receipt:
            rule = sources.get("allow_over_receipt") or "no rule allows it"
            context += f"; billable capped at the ordered quantity, over-receipt not being allowed ({rule})"
        if group.now_ref <= 0:
            group.check = ToleranceCheck(
                CHECK_QTY, True, _q(cumulative / pf), _q(billable / pf), None, None, po.uom_name, describe, sources,
                f"Not checked: this bill does not add to the quantity billed ({context}).",
            )  # fmt: skip
            return
        if received <= 0:
            group.status = NOT_RECEIVED
            group.excess_ref = group.now_ref
            group.check = ToleranceCheck(
                CHECK_RECEIPT, False, _q(cumulative / pf), _q(received / pf), None, None, po.uom_name, describe,
                sources,
                f"Nothing has been received yet on {po.po_name} for this line: {context}.",
            )  # fmt: skip
            return
        over = cumulative - billable
        allowed = tol.allowed("qty", billable)
        passed = over <= allowed
        if over > 0:
            # The excess this bill is responsible for: earlier bills may already have
            # exceeded (then accepted by someone), which this bill cannot be blamed for.
            group.excess_ref = min(over, group.now_ref)
        if passed and over <= 0:
            text = f"Quantity OK: {context}; within the {_qs(billable / pf)}{uom} billable."
        elif passed:
            text = (
                f"Quantity within tolerance: {context}; {_qs(over / pf)}{uom} over the {_qs(billable / pf)} billable, "
                f"allowed {_qs(allowed / pf)}{uom} by {describe}."
            )
        else:
            group.status = QTY_VARIANCE
            text = (
                f"Quantity variance: {context}; {_qs(over / pf)}{uom} over the {_qs(billable / pf)} billable, "
                f"more than the {_qs(allowed / pf)}{uom} allowed by {describe}."
            )
        group.check = ToleranceCheck(
            check=CHECK_QTY,
            passed=passed,
            actual=_q(cumulative / pf),
            expected=_q(billable / pf),
            variance=_q(over / pf),
            allowed=_q(allowed / pf),
            unit=po.uom_name,
            tolerance=describe,
            sources=sources,
            explanation=text,
        )

    # -- price -----------------------------------------------------------------

    def price_check(self, name, line, po, tol, reference_price, reference_factor, reference_label):
        """Compare the bill price with a reference (PO or contract) price.

        Prices are compared per reference unit, with cross-unit conversion exact; the
        result is shown per PO line unit.  What the line costs over the reference (rounded
        line amount minus rounded reference amount) is kept for the exception amount.
        """
        pf, bf = frac(po.uom_factor), frac(line.uom_factor)
        bill_ref = self.net_price(line) / bf
        ref_price = frac(reference_price) / frac(reference_factor)
        variance = bill_ref - ref_price
        allowed = tol.allowed("price", ref_price)
        qty_ref = frac(line.signed_qty) * bf
        billed_amount = self.money(frac(line.signed_qty) * self.net_price(line))
        reference_amount = self.money(qty_ref * ref_price)
        within = self.checked(variance) <= allowed
        # Units differ between PO and bill (0.8333 per each vs 10.00 per dozen): a
        # difference that disappears in the rounded line amount is not a variance.
        artefact = not within and billed_amount == reference_amount
        passed = within or artefact
        uom = _uom(po.uom_name)
        per = f" per{uom}" if uom else ""
        describe = tol.describe("price", "per reference unit")
        numbers = (
            f"billed {fmt(self.price(bill_ref * pf))}{per} against {reference_label} {fmt(self.price(ref_price * pf))}{per}: "
            f"{'+' if variance >= 0 else ''}{fmt(self.price(variance * pf))}{_pct(variance, ref_price)}"
        )
        if variance == 0:
            text = f"{name.capitalize()} OK: billed at the {reference_label} {fmt(self.price(ref_price * pf))}{per}."
        elif artefact:
            text = (
                f"{name.capitalize()} OK: {numbers}, a unit conversion rounding difference that leaves the line "
                f"amount {fmt(billed_amount)} unchanged."
            )
        elif variance < 0 and not self.check_favorable:
            text = f"{name.capitalize()} OK: {numbers}, below the {reference_label}, in the buyer's favour."
        elif within:
            text = (
                f"{name.capitalize()} OK: {numbers}, within the {fmt(self.price(allowed * pf))} allowed by "
                f"{describe}."
            )
        else:
            text = (
                f"{name.capitalize()} variance: {numbers}, more than the {fmt(self.price(allowed * pf))} allowed by "
                f"{describe}."
            )
        check = ToleranceCheck(
            check=CHECK_PRICE if name == "price" else CHECK_CONTRACT,
            passed=passed,
            actual=self.price(bill_ref * pf),
            expected=self.price(ref_price * pf),
            variance=self.price(variance * pf),
            allowed=self.price(allowed * pf),
            unit=f"per{uom}".strip(),
            tolerance=describe,
            sources=tol.source_labels("price"),
            explanation=text,
        )
        self.excess[check.check, line.id] = billed_amount - reference_amount
        return check

    # -- lines -----------------------------------------------------------------

    def unlinked_result(self, line, reason):
        amount = self.money(frac(line.signed_qty) * self.net_price(line))
        if line.is_credit:
            text = (
                f"Credit not linked to a PO line ({reason}): it reduces the amount owed by {fmt(-amount)} and, "
                "being a credit, is not a variance."
            )
            return LineMatch(
                line.id, MATCHED, (), "credit note", text, is_credit=True, billed_amount=amount
            )
        text = f"Not ordered: {reason}. {HINTS[EXC_NO_PO]}"
        return LineMatch(
            line.id, NOT_ORDERED, (NOT_ORDERED,), "PO link", text, product_id=line.product_id, billed_amount=amount,
            po_line_id=line.po_line_id, billed_qty=line.signed_qty, bill_price=self.price(self.net_price(line)),
            uom=line.uom_name, bill_uom=line.uom_name,
        )  # fmt: skip

    def uom_result(self, line, po):
        amount = self.money(frac(line.signed_qty) * self.net_price(line))
        which = []
        if line.uom_factor is None:
            which.append(f"the bill's unit '{line.uom_name or '?'}'")
        if po.uom_factor is None:
            which.append(f"the PO line's unit '{po.uom_name or '?'}'")
        text = (
            f"Unit of measure mismatch: {' and '.join(which)} cannot be converted to the product's reference "
            f"unit, so quantities and prices cannot be compared with {po.po_name}. {HINTS[EXC_UOM_MISMATCH]}"
        )
        return LineMatch(
            line.id, UOM_MISMATCH, (UOM_MISMATCH,), "UoM conversion", text, is_credit=line.is_credit,
            po_line_id=po.id, po_id=po.po_id, po_name=po.po_name, product_id=po.product_id, uom=po.uom_name,
            billed_amount=amount, ordered_qty=po.ordered_qty, received_qty=_q(self.received.get(po.id, Fraction(0))),
            po_price=po.price_unit, billed_qty=line.signed_qty, bill_price=self.price(self.net_price(line)),
            bill_uom=line.uom_name,
        )  # fmt: skip

    def linked_result(self, line, group):
        po, tol = group.po, group.tolerance
        pf, bf = frac(po.uom_factor), frac(line.uom_factor)
        qty_ref = frac(line.signed_qty) * bf
        billed_amount = self.money(frac(line.signed_qty) * self.net_price(line))
        expected_amount = self.money(qty_ref * frac(po.price_unit) / pf)
        contract = find_contract(po, self.contracts)
        common = {
            "is_credit": line.is_credit,
            "po_line_id": po.id,
            "po_id": po.po_id,
            "po_name": po.po_name,
            "product_id": po.product_id,
            "uom": po.uom_name,
            "ordered_qty": po.ordered_qty,
            "received_qty": _q(self.received.get(po.id, Fraction(0))),
            "previously_billed_qty": po.previously_billed_qty,
            "billed_qty": _q(qty_ref / pf),
            "billed_qty_on_bill": _q(group.now_ref / pf),
            "billable_qty": _q(group.billable_ref / pf),
            "po_price": po.price_unit,
            "bill_price": self.price(self.net_price(line) / bf * pf),
            "contract_price": self.price(frac(contract.price) / frac(contract.uom_factor) * pf)
            if contract
            else None,
            "contract_ref": contract.contract_ref if contract else None,
            "billed_amount": billed_amount,
            "tolerance": tol.to_dict(),
            "bill_uom": line.uom_name,
        }
        uom = _uom(po.uom_name)
        if line.is_credit:
            text = (
                f"Credit: reduces the quantity billed on {po.po_name} by {fmt(_q(-qty_ref / pf))}{uom} "
                f"({fmt(-billed_amount)}); a credit note is never a variance by itself."
            )
            # Expected equals billed: a credit at another price is no total variance either.
            return LineMatch(
                line.id,
                MATCHED,
                (),
                "credit note",
                text,
                expected_amount=billed_amount,
                checks=(),
                **common,
            )
        checks = [group.check]
        issues = [group.status] if group.status else []
        price_check = self.price_check(
            "price", line, po, tol, po.price_unit, po.uom_factor, "PO price"
        )
        checks.append(price_check)
        if not price_check.passed:
            issues.append(PRICE_VARIANCE)
        if contract is not None:
            contract_check = self.price_check(
                "contract price", line, po, tol, contract.price, contract.uom_factor,
                f"contract {contract.contract_ref} price",
            )  # fmt: skip
            checks.append(contract_check)
            if not contract_check.passed:
                issues.append(CONTRACT_PRICE_VARIANCE)
        issues = tuple(status for status in STATUS_PRECEDENCE if status in issues)
        status = issues[0] if issues else MATCHED
        if status == MATCHED:
            decided_by = "all checks within tolerance"
            headline = (
                f"Matched: {fmt(_q(qty_ref / pf))}{uom} at {fmt(self.price(self.net_price(line) / bf * pf))} against "
                f"{po.po_name}."
            )
        else:
            failed = next(check for check in checks if not check.passed)
            if failed.check == CHECK_RECEIPT:
                decided_by = "receipt check: nothing received yet"
            else:
                decided_by = f"{failed.check} check: {failed.tolerance}"
            headline = f"Blocked, {EXCEPTION_LABELS[EXCEPTION_OF_STATUS[status]].lower()}, against {po.po_name}."
        hints = " ".join(HINTS[EXCEPTION_OF_STATUS[issue]] for issue in issues)
        text = " ".join([headline, *(check.explanation for check in checks), hints]).strip()
        return LineMatch(
            line.id,
            status,
            issues,
            decided_by,
            text,
            expected_amount=expected_amount,
            checks=tuple(checks),
            **common,
        )

    # -- bill ------------------------------------------------------------------

    def run(self):
        linked = {}  # bill line id -> PO line
        outcome = {}  # bill line id -> LineMatch, for lines decided without the group
        groups = {}
        for line in self.bill_lines:
            po, reason = self.link(line)
            if po is None:
                outcome[line.id] = self.unlinked_result(line, reason)
            elif po.uom_factor is None or line.uom_factor is None:
                outcome[line.id] = self.uom_result(line, po)
            else:
                linked[line.id] = po
                group = groups.get(po.id)
                if group is None:
                    group = groups[po.id] = _Group(po, self.resolve(po.vendor_id, po.category_path))
                group.now_ref += frac(line.signed_qty) * frac(line.uom_factor)
        for group in groups.values():
            self.quantity_verdict(group)
        results = []
        for line in self.bill_lines:
            if line.id in outcome:
                results.append(outcome[line.id])
            else:
                results.append(self.linked_result(line, groups[linked[line.id].id]))
        total_check, bill_total = self.total_check(results, linked)
        charge_check = self.charge_check(results, linked)
        amount_checks = self.amount_checks()
        exceptions = self.exceptions(results, groups, linked, total_check)
        exceptions += self.amount_exceptions(charge_check, amount_checks)
        status = BILL_MATCHED if not exceptions else BILL_BLOCKED
        return BillMatchResult(
            status, tuple(results), total_check, exceptions,
            self.summary(status, results, exceptions, total_check, (*filter(None, [charge_check]), *amount_checks)),
            bill_total, self.rounding, charge_check, amount_checks,
        )  # fmt: skip

    # -- charges, allowances and the supplier's stated amounts --------------------

    def document_allowances(self):
        """Allowances of the whole bill (not folded into a line's net price)."""
        return [c for c in self.charges if not c.is_charge and c.id not in self._folded()]

    def _folded(self):
        ids = {line.id for line in self.bill_lines}
        return {c.id for c in self.charges if not c.is_charge and c.bill_line_id in ids}

    def charge_check(self, results, linked):
        """Charges against the charge tolerance (a % of the goods' net amount or an amount).

        None when the bill has no charge.  A credit note's charges refund the buyer and
        are never a variance.
        """
        charges = [c for c in self.charges if c.is_charge]
        if not charges:
            return None
        line_numbers = {line.id: index + 1 for index, line in enumerate(self.bill_lines)}
        named = ", ".join(
            f"{c.label or 'charge'} {fmt(self.money(frac(c.amount)))}"
            + (
                f" (bill line {line_numbers[c.bill_line_id]})"
                if c.bill_line_id in line_numbers
                else ""
            )
            for c in charges
        )
        total = sum((frac(c.amount) for c in charges), Fraction(0))
        # a charge the purchase order agreed counts only for what it exceeds
        unagreed = sum(
            (
                frac(c.amount) - min(frac(c.amount), max(frac(c.agreed), Fraction(0)))
                if c.agreed is not None
                else frac(c.amount)
                for c in charges
            ),
            Fraction(0),
        )
        agreed = [c for c in charges if c.agreed is not None]
        if agreed:
            named += "; agreed on the order: " + ", ".join(
                f"{fmt(self.money(frac(c.agreed)))} on {c.agreed_on or 'its PO line'}"
                for c in agreed
            )
        goods = sum(
            (
                frac(r.billed_amount)
                for r in results
                if r.billed_amount is not None and not r.is_credit
            ),
            Fraction(0),
        )
        goods -= sum((frac(c.amount) for c in self.document_allowances()), Fraction(0))
        goods = max(goods, Fraction(0))
        tol = self.resolve(self.bill_vendor(linked), ())
        allowed = tol.allowed("charge", goods)
        describe = tol.describe("charge", "")
        if self.credit_note:
            passed = True
            text = f"Charges refunded by a credit note ({named}): in the buyer's favour, not a variance."
        else:
            passed = unagreed <= allowed
            numbers = f"charges {named}: {fmt(self.money(total))} on goods of {fmt(self.money(goods))}{_pct(total, goods)}"
            if agreed:
                numbers += f", {fmt(self.money(unagreed))} beyond what the order agreed"
            if passed:
                text = f"Charges OK: {numbers}, within the {fmt(self.price(allowed))} allowed by {describe}."
            else:
                text = f"Charge variance: {numbers}, more than the {fmt(self.price(allowed))} allowed by {describe}."
        return ToleranceCheck(
            check=CHECK_CHARGES,
            passed=passed,
            actual=self.money(total),
            expected=self.money(allowed) if not self.credit_note else self.money(total),
            variance=self.money(unagreed - allowed) if not passed else self.money(0),
            allowed=self.price(allowed),
            unit="",
            tolerance=describe,
            sources=tol.source_labels("charge"),
            explanation=text,
        )

    def amount_checks(self):
        """The bill's untaxed, tax and total amounts against the supplier's stated ones.

        A difference beyond ``stated_abs`` (default: the currency's precision) is a
        mismatch; a stated prepaid amount means the bill's total is more than what is
        due, which a person must settle before payment.
        """
        stated = self.stated
        if stated is None:
            return ()
        tol = self.resolve(self.vendor_id, ())
        allowed = tol.allowed("stated", 0)
        describe = tol.describe("stated")
        if allowed == 0:
            describe = "the currency's precision (no stated-amount tolerance configured)"
        checks = []
        for name, label, bill_value, stated_value in (
            (CHECK_STATED_UNTAXED, "untaxed amount", stated.bill_untaxed, stated.untaxed),
            (CHECK_STATED_TAX, "tax", stated.bill_tax, stated.tax),
            (CHECK_STATED_TOTAL, "total", stated.bill_total, stated.total),
        ):
            if stated_value is None:
                continue
            bill_money = self.money(frac(abs(bill_value)))
            stated_money = self.money(frac(abs(stated_value)))
            variance = frac(bill_money) - frac(stated_money)
            passed = abs(variance) <= allowed
            numbers = (
                f"the bill's {label} {fmt(bill_money)} against {fmt(stated_money)} stated by the supplier: "
                f"{'+' if variance >= 0 else ''}{fmt(self.money(variance))}"
            )
            if passed:
                text = f"Stated {label} OK: {numbers}, within {describe}."
            else:
                text = f"Stated {label} mismatch: {numbers}, beyond {describe}."
            checks.append(
                ToleranceCheck(
                    name,
                    passed,
                    bill_money,
                    stated_money,
                    self.money(variance),
                    self.price(allowed),
                    "",
                    describe,
                    tol.source_labels("stated"),
                    text,
                )
            )
        if stated.prepaid:
            prepaid = self.money(frac(abs(stated.prepaid)))
            due = self.money(frac(abs(stated.bill_total)) - frac(prepaid))
            checks.append(
                ToleranceCheck(
                    CHECK_PREPAID,
                    False,
                    self.money(frac(abs(stated.bill_total))),
                    due,
                    prepaid,
                    self.money(0),
                    "",
                    "",
                    {},
                    f"The supplier states {fmt(prepaid)} already paid: only {fmt(due)} is due, not the bill's "
                    f"{fmt(self.money(frac(abs(stated.bill_total))))}. Reconcile the prepayment before payment.",
                )
            )
        return tuple(checks)

    def amount_exceptions(self, charge_check, amount_checks):
        found = []
        if charge_check is not None and not charge_check.passed:
            found.append(
                MatchException(
                    EXC_CHARGE_VARIANCE,
                    (),
                    charge_check.variance,
                    charge_check.explanation,
                    HINTS[EXC_CHARGE_VARIANCE],
                )
            )
        failed = {check.check: check for check in amount_checks if not check.passed}
        tax = failed.get(CHECK_STATED_TAX)
        if tax is not None:
            found.append(
                MatchException(
                    EXC_TAX_VARIANCE,
                    (),
                    abs(tax.variance),
                    tax.explanation,
                    HINTS[EXC_TAX_VARIANCE],
                )
            )
        mismatch = [
            failed[name]
            for name in (CHECK_STATED_UNTAXED, CHECK_STATED_TOTAL, CHECK_PREPAID)
            if name in failed
        ]
        if tax is not None and CHECK_STATED_UNTAXED not in failed and CHECK_STATED_TOTAL in failed:
            total = failed[CHECK_STATED_TOTAL]
            if total.variance == tax.variance:
                # the total is off by the tax difference only: one problem, the tax
                mismatch = [check for check in mismatch if check is not total]
        if mismatch:
            # money at stake: the difference either way (a bill below the stated total
            # is as wrong as one above it)
            amount = abs(
                next(
                    (c.variance for c in mismatch if c.check != CHECK_PREPAID), mismatch[0].variance
                )
            )
            found.append(
                MatchException(
                    EXC_TOTAL_MISMATCH,
                    (),
                    amount,
                    " ".join(c.explanation for c in mismatch),
                    HINTS[EXC_TOTAL_MISMATCH],
                )
            )
        return tuple(found)

    def bill_vendor(self, linked):
        if self.vendor_id is not None:
            return self.vendor_id
        vendors = {po.vendor_id for po in linked.values() if po.vendor_id is not None}
        # Several vendors on one bill is an anomaly; the company default then decides.
        return next(iter(vendors)) if len(vendors) == 1 else None

    def total_check(self, results, linked):
        """Sum of comparable line amounts against their expected amounts."""
        doc_allowances = sum((frac(c.amount) for c in self.document_allowances()), Fraction(0))
        charges = sum((frac(c.amount) for c in self.charges if c.is_charge), Fraction(0))
        bill_total = sum((frac(r.billed_amount) for r in results), Fraction(0))
        sign = -1 if self.credit_note else 1
        bill_total += sign * (charges - doc_allowances)
        comparable = [
            r
            for r in results
            if r.expected_amount is not None or (r.is_credit and r.status == MATCHED)
        ]
        billed = sum((frac(r.billed_amount) for r in comparable), Fraction(0))
        if not self.credit_note:
            # a document allowance is in the buyer's favour: it lowers what was billed
            billed -= doc_allowances
        expected = sum(
            (
                frac(r.expected_amount if r.expected_amount is not None else r.billed_amount)
                for r in comparable
            ),
            Fraction(0),
        )
        comparable_ids = {r.bill_line_id for r in comparable}
        excluded = [r.bill_line_id for r in results if r.bill_line_id not in comparable_ids]
        tol = self.resolve(self.bill_vendor(linked), ())
        variance = billed - expected
        allowed = tol.allowed("total", expected)
        passed = self.checked(variance) <= allowed
        describe = tol.describe("total")
        numbers = (
            f"lines total {fmt(self.money(billed))} against {fmt(self.money(expected))} expected at PO prices: "
            f"{'+' if variance >= 0 else ''}{fmt(self.money(variance))}{_pct(variance, expected)}"
        )
        if excluded:
            numbers += f" (lines {', '.join(str(i) for i in excluded)} have no expected amount and are left out)"
        if doc_allowances and not self.credit_note:
            numbers += f", after {fmt(self.money(doc_allowances))} of allowances on the bill"
        if passed:
            text = f"Bill total OK: {numbers}, within the {fmt(self.price(allowed))} allowed by {describe}."
        else:
            text = f"Bill total variance: {numbers}, more than the {fmt(self.price(allowed))} allowed by {describe}."
        check = ToleranceCheck(
            check=CHECK_TOTAL,
            passed=passed,
            actual=self.money(billed),
            expected=self.money(expected),
            variance=self.money(variance),
            allowed=self.price(allowed),
            unit="",
            tolerance=describe,
            sources=tol.source_labels("total"),
            explanation=text,
        )
        return check, self.money(bill_total)

    def exceptions(self, results, groups, linked, total_check):
        by_type = {}
        for result in results:
            for issue in result.issues:
                by_type.setdefault(EXCEPTION_OF_STATUS[issue], []).append(result)
        found = []
        for exc_type in EXCEPTION_TYPES:
            if exc_type == EXC_TOTAL_VARIANCE:
                if not total_check.passed:
                    found.append(
                        MatchException(
                            exc_type,
                            (),
                            total_check.variance,
                            total_check.explanation,
                            HINTS[EXC_TOTAL_VARIANCE],
                        )
                    )
                continue
            concerned = by_type.get(exc_type)
            if not concerned:
                continue
            amount = self.exception_amount(exc_type, concerned, groups, linked)
            ids = _sort_ids(r.bill_line_id for r in concerned)
            labels = {line.id: line.label for line in self.bill_lines}
            lines = ", ".join(str(labels.get(i) or i) for i in ids)
            text = (
                f"{EXCEPTION_LABELS[exc_type]} on bill line{'s' if len(ids) > 1 else ''} {lines}: "
                f"{fmt(amount)} at stake"
            )
            found.append(MatchException(exc_type, ids, amount, text, HINTS[exc_type]))
        return tuple(found)

    def exception_amount(self, exc_type, concerned, groups, linked):
        """Money at stake for one exception type, in the bill currency."""
        if exc_type == EXC_QTY_VARIANCE:
            seen = {linked[r.bill_line_id].id for r in concerned}
            total = Fraction(0)
            for po_line_id in sorted(seen, key=str):
                group = groups[po_line_id]
                total += frac(
                    self.money(
                        group.excess_ref * frac(group.po.price_unit) / frac(group.po.uom_factor)
                    )
                )
            return self.money(total)
        if exc_type in (EXC_PRICE_VARIANCE, EXC_CONTRACT_PRICE_MISMATCH):
            name = CHECK_PRICE if exc_type == EXC_PRICE_VARIANCE else CHECK_CONTRACT
            return self.money(
                sum((frac(self.excess[name, r.bill_line_id]) for r in concerned), Fraction(0))
            )
        return self.money(sum((frac(r.billed_amount) for r in concerned), Fraction(0)))

    def summary(self, status, results, exceptions, total_check, extra_checks=()):
        count = len(results)
        if status == BILL_MATCHED:
            extra = "".join(f" {check.explanation}" for check in extra_checks)
            return (
                f"Matched: all {count} line{'s' if count != 1 else ''} agree with their purchase orders and receipts "
                f"within tolerance, and {total_check.explanation[0].lower()}{total_check.explanation[1:]}{extra} "
                "The bill can be paid without review."
            )
        problems = "; ".join(exc.explanation.rstrip(".") for exc in exceptions)
        return f"Blocked: {problems}."


def match_bill(
    po_lines,
    receipts,
    bill_lines,
    tolerance_resolver,
    currency_rounding,
    contract_prices=None,
    *,
    vendor_id=None,
    check_favorable=False,
    charges=(),
    stated=None,
    credit_note=False,
):
    """Three-way match a vendor bill against its purchase order lines and receipts.

    :param po_lines: :class:`PoLine` of every PO line the bill refers to (several POs
        are fine); their ``previously_billed_qty`` counts the other bills
    :param receipts: :class:`ReceiptQty` records, added up per PO line
    :param bill_lines: :class:`BillLine` of the bill (credit note lines included)
    :param tolerance_resolver: ``callable(vendor_id, category_path) -> ResolvedTolerance``
        (see :func:`~.tolerance.make_resolver`); a ResolvedTolerance or Tolerance is
        used as is, None means exact matching
    :param currency_rounding: the bill currency's rounding (``Decimal("0.01")``)
    :param contract_prices: :class:`ContractPrice` records of the vendor(s), or None
    :param vendor_id: the bill's vendor for the total tolerance; by default the vendor of
        the linked PO lines when there is exactly one
    :param check_favorable: also block prices and totals below expectation beyond
        tolerance (some hospitals want a human to look at suspicious discounts)
    :param charges: :class:`ChargeLine` records: the bill's charges (matched against the
        charge tolerance) and allowances (lowering the line's net price or the bill)
    :param stated: :class:`StatedAmounts`, the supplier's stated amounts beside the
        bill's; None when the bill does not come from a supplier's document
    :param credit_note: the bill is a credit note (its charges refund the buyer)
    :returns: :class:`BillMatchResult`
    :raises ValueError: duplicate ids or invalid rounding (caller bugs, not exceptions
        for a clerk)
    """
    matcher = _Matcher(
        po_lines,
        receipts,
        bill_lines,
        _as_resolver(tolerance_resolver),
        _rounding(currency_rounding),
        contract_prices,
        vendor_id,
        check_favorable,
        charges,
        stated,
        credit_note,
    )
    return matcher.run()


# --------------------------------------------------------------------------- explanation

# The check that decides each exception type (None: decided by the PO link or the unit).
CHECK_OF_EXCEPTION = {
    EXC_MISSING_RECEIPT: CHECK_RECEIPT,
    EXC_QTY_VARIANCE: CHECK_QTY,
    EXC_PRICE_VARIANCE: CHECK_PRICE,
    EXC_CONTRACT_PRICE_MISMATCH: CHECK_CONTRACT,
    EXC_TOTAL_VARIANCE: CHECK_TOTAL,
    EXC_CHARGE_VARIANCE: CHECK_CHARGES,
    EXC_TAX_VARIANCE: CHECK_STATED_TAX,
}
CHECK_PO_LINK = "po_link"
CHECK_UOM = "uom"


def _line_check(line, name):
    return next((check for check in line.checks if check.check == name), None)


def _bill_check(result, exception):
    """The failed bill-level check behind a bill-level exception."""
    if exception.type == EXC_TOTAL_VARIANCE:
        return result.total_check
    if exception.type == EXC_CHARGE_VARIANCE:
        return result.charge_check
    failed = [check for check in result.amount_checks if not check.passed]
    if exception.type == EXC_TAX_VARIANCE:
        names = (CHECK_STATED_TAX,)
    else:
        names = (CHECK_STATED_UNTAXED, CHECK_STATED_TOTAL, CHECK_PREPAID)
    return next((check for name in names for check in failed if check.check == name), None)


def _rule(check):
    if check.check == CHECK_RECEIPT:
        return "receipt check: nothing received yet"
    return (
        f"{check.check.replace('_', ' ')} check: {check.tolerance}"
        if check.tolerance
        else (f"{check.check.replace('_', ' ')} check")
    )


def explain_exception(result, exception):
    """The figures behind one exception of a :class:`BillMatchResult`, for a clerk.

    Returns a JSON-ready dict: ``check`` (the check that failed, ``po_link`` or ``uom``
    when the line could not be compared), ``rule`` (the check with the tolerance that
    decided), ``tolerance`` (the limits in words with the rules behind them),
    ``sources`` (tolerance field -> rule label), ``kind`` (``qty``: ``difference`` and
    ``allowed`` are quantities in ``uom``; ``price``: money per ``uom``; ``amount``:
    money on the bill; ``none``), ``actual``/``expected`` (what was compared) and, for a
    line exception, the figures of its lead line (``bill_line_id``, ``product_id``,
    ``uom``, ``ordered_qty``, ``received_qty``, ``billed_qty`` (this bill, on the PO
    line), ``billable_qty``, ``previously_billed_qty``, ``po_price``, ``contract_price``,
    ``contract_ref``, ``bill_price``) and ``line_ids``.  The lead line of an exception
    of several lines is the one with the largest difference (then amount billed).
    """
    facts = {
        "type": exception.type,
        "check": None,
        "rule": "",
        "tolerance": "",
        "sources": {},
        "kind": "none",
        "actual": None,
        "expected": None,
        "difference": None,
        "allowed": None,
        "line_ids": list(exception.line_ids),
    }
    check_name = CHECK_OF_EXCEPTION.get(exception.type)
    if not exception.line_ids:
        check = _bill_check(result, exception)
        if check is not None:
            facts.update(
                check=check.check,
                rule=_rule(check),
                tolerance=check.tolerance,
                sources=dict(check.sources),
                kind="amount",
                actual=check.actual,
                expected=check.expected,
                difference=check.variance,
                allowed=check.allowed,
            )
        return _jsonable(facts)
    lines = [result.line(line_id) for line_id in exception.line_ids]

    def weight(line):
        check = _line_check(line, check_name) if check_name else None
        variance = check.variance if check is not None and check.variance is not None else 0
        return (abs(variance), abs(line.billed_amount or 0))

    lead = max(lines, key=weight)
    check = _line_check(lead, check_name) if check_name else None
    facts.update(
        bill_line_id=lead.bill_line_id,
        po_line_id=lead.po_line_id,
        po_name=lead.po_name,
        product_id=lead.product_id,
        uom=lead.uom,
        bill_uom=lead.bill_uom,
        ordered_qty=lead.ordered_qty,
        received_qty=lead.received_qty,
        billed_qty=lead.billed_qty_on_bill
        if lead.billed_qty_on_bill is not None
        else lead.billed_qty,
        billable_qty=lead.billable_qty,
        previously_billed_qty=lead.previously_billed_qty,
        po_price=lead.po_price,
        contract_price=lead.contract_price,
        contract_ref=lead.contract_ref,
        bill_price=lead.bill_price,
        billed_amount=lead.billed_amount,
    )
    if check is not None:
        kind = "qty" if check.check in (CHECK_QTY, CHECK_RECEIPT) else "price"
        difference = check.variance
        if check.check == CHECK_RECEIPT:
            # nothing received: the whole quantity billed so far is the difference
            difference = to_display(frac(check.actual) - frac(check.expected))
        facts.update(
            check=check.check,
            rule=_rule(check),
            tolerance=check.tolerance,
            sources=dict(check.sources),
            kind=kind,
            actual=check.actual,
            expected=check.expected,
            difference=difference,
            allowed=check.allowed,
        )
    elif exception.type == EXC_UOM_MISMATCH:
        facts.update(check=CHECK_UOM, rule="unit conversion: the units cannot be converted")
    else:
        reason = lead.explanation.replace(f" {HINTS[EXC_NO_PO]}", "").rstrip(".")
        facts.update(check=CHECK_PO_LINK, rule=f"PO link: {reason}")
    return _jsonable(facts)
