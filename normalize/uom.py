"""Units of measure: code mapping (X12 355 and UN/ECE Recommendation 20) and conversion.

Suppliers send the same unit under many codes: X12 ``EA``, UN/ECE ``C62`` ("one") and
``H87`` ("piece") all mean "each" for a hospital buyer.  :func:`normalize_uom` maps any of
them to one canonical code (the UN/ECE Rec 20 code, because PEPPOL and UBL mandate that
list) and a category.  Units of a category with a fixed ratio (mass, volume, length,
time and counted units such as dozen) convert without item data; packaging units (box,
case, pack...) only convert through the *item's* pack factors, because a box of gloves
and a box of syringes hold different quantities.

All arithmetic is done with :class:`decimal.Decimal` so that 3-way match tolerances are
not eroded by binary floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation

CATEGORY_UNIT = "unit"  # counted pieces: each, dozen, pair...
CATEGORY_PACK = "pack"  # packaging levels, item specific
CATEGORY_MASS = "mass"
CATEGORY_VOLUME = "volume"
CATEGORY_LENGTH = "length"
CATEGORY_AREA = "area"
CATEGORY_TIME = "time"

D = Decimal

# canonical code: (category, factor to the category's base unit, label)
# Bases: EA (unit), KGM (mass), LTR (volume), MTR (length), MTK (area), HUR (time).
# Pack units have no fixed factor (None).
_CANONICAL = {
    "EA": (CATEGORY_UNIT, D(1), "each"),
    "PR": (CATEGORY_UNIT, D(2), "pair"),
    "DZN": (CATEGORY_UNIT, D(12), "dozen"),
    "CEN": (CATEGORY_UNIT, D(100), "hundred"),
    "GRO": (CATEGORY_UNIT, D(144), "gross"),
    "MIL": (CATEGORY_UNIT, D(1000), "thousand"),
    "BX": (CATEGORY_PACK, None, "box"),
    "CS": (CATEGORY_PACK, None, "case"),
    "PK": (CATEGORY_PACK, None, "pack"),
    "CT": (CATEGORY_PACK, None, "carton"),
    "BG": (CATEGORY_PACK, None, "bag"),
    "BO": (CATEGORY_PACK, None, "bottle"),
    "KT": (CATEGORY_PACK, None, "kit"),
    "SET": (CATEGORY_PACK, None, "set"),
    "RO": (CATEGORY_PACK, None, "roll"),
    "TU": (CATEGORY_PACK, None, "tube"),
    "VI": (CATEGORY_PACK, None, "vial"),
    "AM": (CATEGORY_PACK, None, "ampoule"),
    "PF": (CATEGORY_PACK, None, "pallet"),
    "KGM": (CATEGORY_MASS, D(1), "kilogram"),
    "GRM": (CATEGORY_MASS, D("0.001"), "gram"),
    "MGM": (CATEGORY_MASS, D("0.000001"), "milligram"),
    "MC": (CATEGORY_MASS, D("0.000000001"), "microgram"),
    "LBR": (CATEGORY_MASS, D("0.45359237"), "pound"),
    "ONZ": (CATEGORY_MASS, D("0.028349523125"), "ounce"),
    "LTR": (CATEGORY_VOLUME, D(1), "litre"),
    "MLT": (CATEGORY_VOLUME, D("0.001"), "millilitre"),
    "CLT": (CATEGORY_VOLUME, D("0.01"), "centilitre"),
    "DLT": (CATEGORY_VOLUME, D("0.1"), "decilitre"),
    "MTQ": (CATEGORY_VOLUME, D(1000), "cubic metre"),
    "GLL": (CATEGORY_VOLUME, D("3.785411784"), "US gallon"),
    "MTR": (CATEGORY_LENGTH, D(1), "metre"),
    "CMT": (CATEGORY_LENGTH, D("0.01"), "centimetre"),
    "MMT": (CATEGORY_LENGTH, D("0.001"), "millimetre"),
    "INH": (CATEGORY_LENGTH, D("0.0254"), "inch"),
    "FOT": (CATEGORY_LENGTH, D("0.3048"), "foot"),
    "YRD": (CATEGORY_LENGTH, D("0.9144"), "yard"),
    "MTK": (CATEGORY_AREA, D(1), "square metre"),
    "CMK": (CATEGORY_AREA, D("0.0001"), "square centimetre"),
    "HUR": (CATEGORY_TIME, D(1), "hour"),
    "MIN": (CATEGORY_TIME, D(1) / D(60), "minute"),
    "DAY": (CATEGORY_TIME, D(24), "day"),
    "WEE": (CATEGORY_TIME, D(168), "week"),
}

# Every accepted code (upper case) -> canonical code.  X12 element 355 and UN/ECE Rec 20
# codes both appear; where X12 and Rec 20 disagree on a code the hospital meaning wins
# (X12 "GR" is gram, whereas Rec 20 "GRM" is gram; X12 "LT" is litre).
_ALIASES = {
    # each / piece / unit
    "EA": "EA", "EACH": "EA", "C62": "EA", "H87": "EA", "PCE": "EA", "PC": "EA",
    "PCS": "EA", "NIU": "EA", "UN": "EA", "UNT": "EA", "UNIT": "EA", "ST": "EA",
    "PR": "PR", "PAI": "PR", "DZ": "DZN", "DZN": "DZN", "CEN": "CEN", "HD": "CEN",
    "GRO": "GRO", "MIL": "MIL", "TH": "MIL",
    # packaging (X12 code / Rec 20 Annex 21 "package" codes)
    "BX": "BX", "BOX": "BX", "CS": "CS", "CA": "CS", "CASE": "CS", "PK": "PK",
    "PA": "PK", "PACK": "PK", "PH": "PK", "CT": "CT", "CTN": "CT", "CR": "CT",
    "BG": "BG", "BAG": "BG", "BO": "BO", "BTL": "BO", "KT": "KT", "KIT": "KT",
    "SET": "SET", "SE": "SET", "RO": "RO", "RL": "RO", "TU": "TU", "TB": "TU",
    "VI": "VI", "VL": "VI", "AM": "AM", "AV": "AM", "PF": "PF", "PL": "PF",
    "PX": "PF",
    # UN/ECE Rec 21 package codes as Rec 20 carries them (prefixed X): what UBL/Peppol send
    "XBX": "BX", "XCS": "CS", "XPK": "PK", "XCT": "CT", "XBG": "BG", "XBO": "BO",
    "XRO": "RO", "XTU": "TU", "XVI": "VI", "XAM": "AM", "XPF": "PF", "XPX": "PF",
    # mass
    "KG": "KGM", "KGM": "KGM", "G": "GRM", "GR": "GRM", "GRM": "GRM", "GM": "GRM",
    "MG": "MGM", "MGM": "MGM", "ME": "MGM", "MC": "MC", "UG": "MC", "MCG": "MC",
    "LB": "LBR", "LBR": "LBR", "OZ": "ONZ", "ONZ": "ONZ",
    # volume
    "L": "LTR", "LT": "LTR", "LTR": "LTR", "ML": "MLT", "MLT": "MLT", "CLT": "CLT",
    "DLT": "DLT", "M3": "MTQ", "MTQ": "MTQ", "CR3": "MTQ", "GAL": "GLL", "GLL": "GLL",
    "GA": "GLL",
    # length, area
    "M": "MTR", "MR": "MTR", "MTR": "MTR", "CM": "CMT", "CMT": "CMT", "MM": "MMT",
    "MMT": "MMT", "IN": "INH", "INH": "INH", "INC": "INH", "FT": "FOT", "FOT": "FOT",
    "YD": "YRD", "YRD": "YRD",
    "MTK": "MTK", "SM": "MTK", "M2": "MTK", "CMK": "CMK",
    # time (services on invoices, e.g. PEPPOL's DAY)
    "HUR": "HUR", "HR": "HUR", "H": "HUR", "MIN": "MIN", "MJ": "MIN",
    "DAY": "DAY", "DA": "DAY", "D": "DAY", "WEE": "WEE", "WK": "WEE",
}  # fmt: skip


# Canonical code -> X12 element 355 (two characters), where X12 and the reader above
# agree: what the module sends in an 850/860, read back as the same canonical unit.
_X12_PREFERRED = {"CS": "CA", "SET": "SE", "MTQ": "M3", "MTK": "SM", "CEN": "HD", "MIL": "TH"}


def x12_unit(code):
    """The two-character X12 unit (element 355) for canonical ``code``, or ``None`` when
    X12 has none the module's own reader maps back to it (e.g. gross)."""
    canonical = _ALIASES.get((code or "").strip().upper())
    if not canonical:
        return None
    preferred = _X12_PREFERRED.get(canonical)
    if preferred:
        return preferred
    if len(canonical) == 2:
        return canonical
    for alias, target in _ALIASES.items():
        if target == canonical and len(alias) == 2 and alias.isalnum():
            return alias
    return None


class UomConversionError(ValueError):
    """A quantity cannot be converted between two units.

    ``code`` is one of ``uom_unknown``, ``uom_incompatible``, ``uom_missing_pack_factor``
    or ``uom_invalid_quantity``; the matching engine maps it to a "UoM mismatch"
    exception.
    """

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class UomInfo:
    """A unit code as received and what it means."""

    raw: str
    code: str  # canonical code, or the upper-cased raw code when unknown
    category: str | None
    factor: Decimal | None  # to the category base; None for pack units and unknown codes
    label: str = ""
    known: bool = True


def normalize_uom(code):
    """Map any accepted unit code to a :class:`UomInfo`; never raises.

    Unknown codes come back with ``known=False`` so the caller can raise a data-quality
    issue (and an admin can add a mapping) instead of rejecting the document.
    """
    raw = "" if code is None else str(code)
    key = raw.strip().upper()
    canonical = _ALIASES.get(key)
    if canonical is None:
        return UomInfo(raw, key, None, None, "", False)
    category, factor, label = _CANONICAL[canonical]
    return UomInfo(raw, canonical, category, factor, label, True)


def canonical_uom(code):
    """Return the canonical code of ``code``, or None when the code is unknown."""
    info = normalize_uom(code)
    return info.code if info.known else None


def uom_category(code):
    """Return the category of ``code`` (``unit``, ``pack``, ``mass``...) or None."""
    return normalize_uom(code).category


def _to_decimal(value, what):
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        # repr() round-trips, so 0.1 becomes Decimal("0.1"), not its binary expansion.
        result = Decimal(repr(value))
    else:
        try:
            result = Decimal(str(value).strip())
        except (InvalidOperation, ValueError) as exc:
            raise UomConversionError(
                "uom_invalid_quantity", f"{what} {value!r} is not a number"
            ) from exc
    if not result.is_finite():
        raise UomConversionError("uom_invalid_quantity", f"{what} {value!r} is not a finite number")
    return result


def _normalize_pack_factors(pack_factors):
    """Canonicalise pack factor keys; values become ``(Decimal qty, canonical inner unit)``."""
    result = {}
    for key, value in (pack_factors or {}).items():
        info = normalize_uom(key)
        if isinstance(value, tuple | list):
            qty, inner = value
        else:
            qty, inner = value, "EA"
        inner_info = normalize_uom(inner)
        if not inner_info.known:
            raise UomConversionError(
                "uom_unknown", f"pack factor of {key}: unknown inner unit {inner!r}"
            )
        qty = _to_decimal(qty, f"pack factor of {key}")
        if qty <= 0:
            raise UomConversionError(
                "uom_invalid_quantity", f"pack factor of {key} must be positive, got {qty}"
            )
        result[info.code] = (qty, inner_info.code)
    return result


def _resolve(code, factors, seen=()):
    """Return ``(category, factor to the category base)`` for a canonical code."""
    info = normalize_uom(code) if code not in _CANONICAL else None
    canonical = info.code if info else code
    if info is not None and not info.known and canonical not in factors:
        raise UomConversionError("uom_unknown", f"unknown unit of measure {code!r}")
    if canonical in factors:
        # Item-specific factors win, even over fixed ones: a supplier may define its
        # "dozen" pack of 10 (it happens); the item master is the authority.
        if canonical in seen:
            raise UomConversionError("uom_incompatible", f"pack factors loop through {canonical}")
        qty, inner = factors[canonical]
        category, factor = _resolve(inner, factors, (*seen, canonical))
        return category, qty * factor
    category, factor, _label = _CANONICAL[canonical]
    if factor is None:
        raise UomConversionError(
            "uom_missing_pack_factor",
            f"no pack factor for {canonical}: it cannot be converted for this item",
        )
    return category, factor


def build_pack_factors(levels):
    """Flatten a packaging hierarchy into factors expressed in the base unit.

    ``levels`` maps a pack unit to ``(quantity, inner unit)``, e.g.
    ``{"CS": (10, "BX"), "BX": (10, "EA")}`` (1 case = 10 boxes, 1 box = 10 each) and
    returns ``{"CS": (Decimal(100), "EA"), "BX": (Decimal(10), "EA")}``.
    """
    factors = _normalize_pack_factors(levels)
    flat = {}
    for code in factors:
        qty = Decimal(1)
        current = code
        seen = set()
        while current in factors:
            if current in seen:
                raise UomConversionError(
                    "uom_incompatible", f"pack hierarchy loops through {current}"
                )
            seen.add(current)
            step, current = factors[current]
            qty *= step
        flat[code] = (qty, current)
    return flat


def convert(qty, from_uom, to_uom, pack_factors=None):
    """Convert ``qty`` from ``from_uom`` to ``to_uom`` and return a Decimal.

    ``pack_factors`` holds the item's packaging: ``{"CS": 100, "BX": 10}`` (in each) or
    ``{"CS": (10, "BX"), "BX": (10, "EA")}`` (nested), so 1 CS = 10 BX = 100 EA.
    Codes may be given in any accepted spelling (``C62``, ``EA``, ``H87``...).

    Raises :class:`UomConversionError` for unknown units, units of different categories
    (kilograms to boxes), or a pack unit without a factor.  The result is exact for
    terminating ratios; otherwise it carries the current Decimal context precision.
    """
    amount = _to_decimal(qty, "quantity")
    factors = _normalize_pack_factors(pack_factors)
    src_category, src_factor = _resolve(from_uom, factors)
    dst_category, dst_factor = _resolve(to_uom, factors)
    if src_category != dst_category:
        raise UomConversionError(
            "uom_incompatible",
            f"cannot convert {from_uom} ({src_category}) to {to_uom} ({dst_category})",
        )
    if src_factor == dst_factor:
        return amount
    return amount * src_factor / dst_factor


def is_convertible(from_uom, to_uom, pack_factors=None):
    """True when :func:`convert` would succeed between the two units."""
    try:
        convert(1, from_uom, to_uom, pack_factors)
    except UomConversionError:
        return False
    return True
