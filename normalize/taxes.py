# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Which tax the supplier stated on each line of an invoice: pure, no Odoo import.

A bill must carry the taxes the supplier invoiced, not Odoo's product or purchase order
defaults.  Documents state them in different places: per line (UBL
``ClassifiedTaxCategory``, cXML line ``Tax``, X12 line ``TXI``), only as tax subtotals
(one category and rate for the whole document), or only as a tax amount (an X12 810 with
a header ``TXI``).  :func:`stated_taxes` reduces all of them to one answer per line and per
allowance or charge: a tuple of :class:`TaxKey` (empty: the supplier stated no tax), or
None when the document states tax but not in a way that says which line bears it; the
Odoo layer maps keys to the company's purchase taxes and turns None into an exception,
never a guess.
"""

from dataclasses import dataclass
from decimal import Decimal

# UNCL5305 duty/tax categories that carry no tax for the buyer: exempt, zero rated,
# outside the scope of tax, intra-community supply and export.
ZERO_CATEGORIES = frozenset({"E", "Z", "O", "K", "G"})
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class TaxKey:
    """A stated tax: scheme (VAT, GST, sales...), category and rate (percent).

    ``implied`` marks a rate computed from a stated tax amount and its base (the
    document gave no rate): the Odoo layer only accepts a tax that reproduces the amount.
    """

    scheme: str = ""
    category: str = ""
    rate: Decimal | None = None
    implied: bool = False

    @property
    def is_zero(self):
        """No tax for the buyer: an exempt-type category, or a 0 % rate with no category
        that says otherwise (reverse charge at 0 % still needs its own tax)."""
        if self.category in ZERO_CATEGORIES:
            return not self.rate
        return not self.category and self.rate is not None and self.rate == 0

    def describe(self):
        parts = [self.scheme or "tax", self.category or ""]
        if self.rate is not None:
            parts.append(f"{self.rate.normalize():f} %" + (" (implied)" if self.implied else ""))
        return " ".join(part for part in parts if part)


def tax_key(tax_line):
    """The :class:`TaxKey` of a canonical ``TaxLine``."""
    rate = tax_line.rate
    return TaxKey(
        scheme=(tax_line.tax_type or "").strip().upper(),
        category=(tax_line.category or "").strip().upper(),
        rate=Decimal(rate).quantize(RATE_PLACES) if rate is not None else None,
    )


def _keys(tax_lines):
    keys = []
    for line in tax_lines:
        key = tax_key(line)
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def _line_keys(line):
    """A line's own stated taxes; a tax given as an amount only implies its rate."""
    keys = []
    for tax in line.taxes:
        key = tax_key(tax)
        if key.rate is None and not key.category and tax.amount is not None:
            base = tax.taxable_amount or line.line_total or line.computed_total()
            if base:
                rate = (Decimal(tax.amount) * 100 / Decimal(base)).quantize(RATE_PLACES)
                key = TaxKey(scheme=key.scheme, rate=abs(rate), implied=True)
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def _implied_key(document):
    """A single tax implied by a stated tax amount over the taxable base, or None."""
    total = document.tax_total
    amounts = [t.amount for t in document.taxes if t.amount is not None]
    if total is None and amounts:
        total = sum(amounts, Decimal(0))
    if not total:
        return None
    base = document.tax_exclusive_total
    if base is None and document.net_total is not None:
        base = document.net_total - (document.allowance_total or 0) + (document.charge_total or 0)
    if base is None:
        base = sum((line.computed_total() for line in document.lines), Decimal(0))
    if not base:
        return None
    schemes = {(t.tax_type or "").strip().upper() for t in document.taxes}
    scheme = schemes.pop() if len(schemes) == 1 else ""
    rate = (Decimal(total) * 100 / Decimal(base)).quantize(RATE_PLACES)
    return TaxKey(scheme=scheme, rate=abs(rate), implied=True)


@dataclass(frozen=True)
class StatedTaxes:
    """Per-line and per-allowance/charge stated taxes of an invoice (see module doc)."""

    lines: tuple  # one entry per document line: tuple of TaxKey, or None (unplaceable)
    document_charges: tuple  # one entry per document-level allowance/charge
    line_charges: tuple  # per line: a tuple with one entry per line allowance/charge


def stated_taxes(document):
    """Which taxes the supplier stated for each line, allowance and charge of ``document``.

    * a line's own tax statement wins;
    * else the document's tax subtotals when they name a single tax (the common case of
      one rate for everything);
    * else, when the document states only a tax amount, the single rate it implies over
      the taxable base;
    * a document stating no tax at all gives every line no tax (an empty tuple);
    * several subtotals and nothing on the line: None, the line cannot be placed.

    Allowances and charges take their own stated tax category, else that of their line
    (line level) or of the goods when every goods line bears the same (document level),
    else None.
    """
    subtotal_keys = tuple(
        key for key in _keys(document.taxes) if key.category or key.rate is not None
    )
    states_tax = (
        bool(document.taxes)
        or bool(document.tax_total)
        or any(line.taxes for line in document.lines)
    )
    if len(subtotal_keys) == 1:
        default = subtotal_keys
    elif subtotal_keys:
        default = None
    elif states_tax:
        implied = _implied_key(document)
        default = (implied,) if implied else ()
    else:
        default = ()
    if default is not None and any(key.is_zero for key in default):
        default = ()
    lines = []
    for line in document.lines:
        keys = _line_keys(line) if line.taxes else default
        if keys:
            keys = tuple(key for key in keys if not key.is_zero)
        lines.append(keys)
    line_charges = []
    for line, keys in zip(document.lines, lines, strict=True):
        line_charges.append(
            tuple(
                tuple(k for k in _keys(ac.taxes) if not k.is_zero) if ac.taxes else keys
                for ac in line.allowance_charges
            )
        )
    distinct = set(lines)
    goods = distinct.pop() if len(distinct) == 1 else None
    document_charges = tuple(
        tuple(k for k in _keys(ac.taxes) if not k.is_zero) if ac.taxes else goods
        for ac in document.allowance_charges
    )
    return StatedTaxes(tuple(lines), document_charges, tuple(line_charges))
