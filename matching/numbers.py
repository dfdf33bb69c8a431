# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Exact arithmetic shared by tolerance resolution and the matching engine.

Documents carry :class:`~decimal.Decimal` values.  The engine computes with
:class:`~fractions.Fraction` internally: converting a price per dozen into a price per
each divides by 12, and a Decimal context would round there.  A three-way match verdict
must not depend on the unit a document happened to use, nor on the order in which lines
are summed, so nothing is rounded until accounting itself rounds: line amounts and
totals, to the currency rounding, half up (what Odoo's ``float_round`` does by default).
Results are handed back as Decimal again, so they serialise exactly (as strings).
"""

from decimal import Decimal
from decimal import InvalidOperation
from fractions import Fraction

# Digits kept when a converted quantity or price has no finite decimal expansion
# (2 boxes of 3 shown per each): display only, never used for a decision.
DISPLAY_PLACES = 6


def to_decimal(value, what, *, allow_none=False):
    """Coerce ``value`` (Decimal, int, str or float) to a finite Decimal.

    Floats go through ``repr`` so that ``0.1`` becomes ``Decimal("0.1")`` and not its
    binary expansion.  Booleans are refused: ``True`` as a quantity is a caller bug.
    """
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{what} is required")
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"{what} {value!r} is not a number") from exc
    else:
        raise ValueError(f"{what} must be a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what} {value!r} is not a finite number")
    return result


def frac(value):
    """Exact Fraction of a Decimal (or int); None stays None."""
    return None if value is None else Fraction(value)


def round_half_up(value, rounding):
    """Round ``value`` to a multiple of ``rounding`` (both Fractions), half away from zero.

    Works for any rounding, not only powers of ten (0.05 for cash-rounded currencies),
    which is why this is not ``Decimal.quantize``.
    """
    steps = abs(value) / rounding
    whole = steps.numerator // steps.denominator
    if steps - whole >= Fraction(1, 2):
        whole += 1
    return (whole if value >= 0 else -whole) * rounding


def _decimal(digits, places):
    # The string constructor is exact whatever the context precision; scaleb() is not.
    return Decimal(f"{digits}E-{places}")


def _strip_zeros(digits, places):
    while places > 0 and digits % 10 == 0:
        digits //= 10
        places -= 1
    return digits, places


def to_display(value, places=DISPLAY_PLACES):
    """Decimal for a Fraction: exact when it terminates, else ``places`` digits, half up.

    Trailing zeros are dropped (``2.5`` rather than ``2.500000``) but never turned into
    an exponent, so ``str()`` of the result always reads as a plain number.
    """
    if value is None:
        return None
    value = Fraction(value)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den == 1:
        exact_places = max(twos, fives)
        digits = value.numerator * 10**exact_places // value.denominator
        digits, exact_places = _strip_zeros(digits, exact_places)
        return _decimal(digits, exact_places)
    scaled = round_half_up(value * 10**places, Fraction(1))
    digits, places = _strip_zeros(int(scaled), places)
    return _decimal(digits, places)


def to_money(value, rounding):
    """Round a Fraction to the currency rounding and return a Decimal with its places.

    ``rounding`` is the currency's Decimal rounding (``Decimal("0.01")``); the result
    keeps that many places (``12.50``, not ``12.5``) because clerks read amounts so.
    """
    rounded = round_half_up(Fraction(value), Fraction(rounding))
    places = max(0, -rounding.as_tuple().exponent)
    digits = rounded * 10**places
    # rounded is a multiple of the rounding, hence of 10**-places: digits is whole.
    return _decimal(int(digits), places)


def to_price(value, rounding):
    """Decimal of a unit price: exact (or ``DISPLAY_PLACES``), but at least the currency's
    places, so ``12`` shows as ``12.00`` while ``0.0325`` per glove keeps its digits."""
    if value is None:
        return None
    shown = to_display(value)
    places = max(0, -rounding.as_tuple().exponent)
    if -shown.as_tuple().exponent < places:
        shown = shown.quantize(Decimal(1).scaleb(-places))
    return shown


def fmt(value):
    """Plain string of a Decimal for messages: no exponent, no surprise."""
    if value is None:
        return "-"
    return format(value, "f")
