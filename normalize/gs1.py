"""GS1 element strings and HIBC barcodes: GTIN, lot, expiry and serial from a scan.

Regulated medical stock (implants, drugs, sterile disposables) is labelled with a UDI:
either a GS1 element string (GS1-128 / GS1 DataMatrix: AI 01 GTIN, 10 lot, 17 expiry,
21 serial...) or an HIBC code (Health Industry Bar Code, ``+`` labeler code, product,
unit of measure, then lot/expiry in the secondary data).  Ship notices, receipts and
UBL ``ProductTraceID`` elements carry these strings; this module turns them into one
:class:`BarcodeData`.

Two kinds of defect are told apart on purpose:

* a *syntax* error (not an element string at all, unknown AI, value of the wrong length
  or characters) raises :class:`BarcodeError`: nothing reliable can be read;
* a *data-quality* defect (wrong GTIN check digit, impossible date such as month 65, HIBC
  check character mismatch) is listed in ``BarcodeData.issues`` and the readable fields
  are still returned, because real labels carry such defects and the receiving clerk
  must see them rather than lose the scan.

The AI table (formats, which AIs need an FNC1 separator) comes from biip, which follows
the GS1 General Specifications; dates are validated here rather than by biip's patterns
so that an impossible date is reported instead of aborting the parse.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS

from .identifiers import normalize_gtin

GS = "\x1d"  # ASCII group separator: what scanners transmit for FNC1
SYMBOLOGY_GS1 = "gs1"
SYMBOLOGY_HIBC = "hibc"

# AIs whose value is a YYMMDD date (day 00 = last day of the month for these).
_DATE_AIS = {
    "11": "production_date",
    "12": "due_date",
    "13": "packaging_date",
    "15": "best_before",
    "16": "sell_by",
    "17": "expiry",
}
# AIMs symbology identifiers that announce GS1 data (GS1-128, DataBar, DataMatrix, QR,
# Aztec, DotCode): stripped before parsing.
_GS1_SYMBOLOGY_IDS = ("]C1", "]e0", "]e1", "]e2", "]d2", "]Q3", "]J1", "]z1")
_COMPONENT = re.compile(r"([NXYZ])(\.\.)?(\d+)")


class BarcodeError(ValueError):
    """A barcode string that cannot be read; ``code`` is ``gs1_syntax`` or ``hibc_syntax``."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class BarcodeData:
    """What a GS1 or HIBC barcode says about an item.

    ``gtin`` is the 14-digit GTIN (GS1 only); ``labeler``/``product``/``uom_level`` are
    the HIBC primary data.  ``expiry`` is a date (GS1 day 00 and HIBC month-only dates
    resolve to the last day of the month).  ``elements`` keeps every (AI, value) pair in
    order.  ``issues`` lists data-quality messages; ``valid`` is True when it is empty.
    """

    symbology: str
    raw: str
    gtin: str | None = None
    lot: str | None = None
    expiry: dt.date | None = None
    serial: str | None = None
    production_date: dt.date | None = None
    best_before: dt.date | None = None
    quantity: Decimal | None = None
    labeler: str | None = None
    product: str | None = None
    uom_level: str | None = None
    elements: tuple = ()
    issues: tuple = ()
    extra: dict = field(default_factory=dict)

    @property
    def valid(self):
        """True when no data-quality issue was found."""
        return not self.issues


# --------------------------------------------------------------------------- dates


def _century(two_digit_year, today):
    """GS1 General Specifications 7.12: a YY within -49..+50 years of today."""
    current = today.year % 100
    century = today.year - current
    diff = two_digit_year - current
    if 51 <= diff <= 99:
        return century - 100
    if -99 <= diff <= -50:
        return century + 100
    return century


def parse_gs1_date(yymmdd, today=None):
    """Parse a GS1 ``YYMMDD`` date; ``DD=00`` means the last day of that month.

    The century follows the GS1 sliding window (49 years back, 50 ahead of ``today``).
    Raises ValueError with a readable message for a wrong length, non-digits, or an
    impossible month or day.
    """
    text = str(yymmdd)
    if len(text) != 6:
        raise ValueError(f"date {text!r} must have 6 digits (YYMMDD)")
    if not text.isdigit():
        raise ValueError(f"date {text!r} must contain digits only")
    today = today or dt.date.today()
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
    year = _century(yy, today) + yy
    if not 1 <= month <= 12:
        raise ValueError(f"date {text}: month {month:02d} does not exist")
    last = calendar.monthrange(year, month)[1]
    if day == 0:
        return dt.date(year, month, last)
    if day > last:
        raise ValueError(f"date {text}: day {day:02d} does not exist in {year}-{month:02d}")
    return dt.date(year, month, day)


# --------------------------------------------------------------------------- GS1


def _ai_definition(ai):
    definition = _GS1_APPLICATION_IDENTIFIERS.get(ai)
    if definition is None:
        raise BarcodeError("gs1_syntax", f"unknown GS1 application identifier ({ai})")
    return definition


def _value_lengths(definition):
    """(fixed, max_length) of the data after the AI, from a format such as N4+N..15."""
    parts = definition.format.split("+")[1:]
    fixed, maximum = True, 0
    for part in parts:
        for _kind, variable, size in _COMPONENT.findall(part):
            maximum += int(size)
            if variable or "[" in part:
                fixed = False
    return fixed and not definition.separator_required, maximum


def _extract_ai(text):
    """Find the AI at the start of ``text`` (GS1 AIs are prefix-free, 2 to 4 digits)."""
    for size in (2, 3, 4):
        candidate = text[:size]
        if (
            len(candidate) == size
            and candidate.isdigit()
            and candidate in _GS1_APPLICATION_IDENTIFIERS
        ):
            return candidate
    raise BarcodeError("gs1_syntax", f"no known GS1 application identifier at {text[:4]!r}")


def _check_value(ai, value):
    """Raise BarcodeError unless ``value`` fits the AI's format (dates: shape only)."""
    definition = _ai_definition(ai)
    if not value:
        raise BarcodeError("gs1_syntax", f"({ai}) has an empty value")
    if "^" in value or GS in value:
        raise BarcodeError("gs1_syntax", f"({ai}) value {value!r} contains an FNC1 character")
    if ai in _DATE_AIS:
        # Shape only: an impossible date is a data-quality issue, reported later.
        if len(value) != 6 or not value.isdigit():
            raise BarcodeError("gs1_syntax", f"({ai}) value {value!r} must be 6 digits (YYMMDD)")
        return
    if not re.fullmatch(definition.pattern, ai + value):
        raise BarcodeError(
            "gs1_syntax", f"({ai}) value {value!r} does not match format {definition.format}"
        )


def _split_bracketed(text):
    """Split ``(01)...(10)...`` into (AI, value) pairs; ``\\(`` escapes a bracket in data."""
    if not text.startswith("("):
        raise BarcodeError("gs1_syntax", f"{text!r} must start with an AI in brackets")
    pairs = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != "(":
            raise BarcodeError("gs1_syntax", f"expected '(' at position {i} of {text!r}")
        close = text.find(")", i + 1)
        if close == -1:
            raise BarcodeError("gs1_syntax", f"unterminated AI in {text!r}")
        ai = text[i + 1 : close]
        if not ai.isdigit() or not 2 <= len(ai) <= 4:
            raise BarcodeError("gs1_syntax", f"AI ({ai}) must be 2 to 4 digits")
        value = []
        i = close + 1
        while i < n and text[i] != "(":
            if text[i] == "\\" and i + 1 < n and text[i + 1] == "(":
                value.append("(")
                i += 2
                continue
            value.append(text[i])
            i += 1
        pairs.append((ai, "".join(value)))
    return pairs


def _split_raw(text):
    """Split an unbracketed element string (FNC1 as GS) into (AI, value) pairs."""
    pairs = []
    rest = text
    while rest:
        while rest.startswith(GS):
            rest = rest[1:]
        if not rest:
            break
        ai = _extract_ai(rest)
        definition = _ai_definition(ai)
        fixed, maximum = _value_lengths(definition)
        rest = rest[len(ai) :]
        if fixed:
            value, rest = rest[:maximum], rest[maximum:]
            if len(value) != maximum:
                raise BarcodeError(
                    "gs1_syntax", f"({ai}) needs {maximum} characters, got {len(value)}"
                )
        else:
            end = rest.find(GS)
            value, rest = (rest, "") if end == -1 else (rest[:end], rest[end + 1 :])
            if len(value) > maximum:
                raise BarcodeError(
                    "gs1_syntax",
                    f"({ai}) value {value!r} exceeds {maximum} characters: missing FNC1 separator?",
                )
        pairs.append((ai, value))
    if not pairs:
        raise BarcodeError("gs1_syntax", "empty element string")
    return pairs


def to_element_string(elements, fnc1=GS):
    """Render (AI, value) pairs unbracketed: leading FNC1, FNC1 after variable-length AIs.

    The separator is omitted after the last element and after predefined-length AIs
    (GTIN, dates...), as GS1 General Specifications 7.8.5 prescribe.
    """
    out = [fnc1]
    for index, (ai, value) in enumerate(elements):
        out.append(ai + value)
        if _ai_definition(ai).separator_required and index < len(elements) - 1:
            out.append(fnc1)
    return "".join(out)


def _build_gs1(raw, pairs, today):
    values = {}
    issues = []
    dates = {}
    for ai, value in pairs:
        _check_value(ai, value)
        if ai in values:
            if values[ai] != value:
                raise BarcodeError("gs1_syntax", f"({ai}) occurs twice with different values")
            continue
        values[ai] = value
        if ai in _DATE_AIS:
            try:
                dates[_DATE_AIS[ai]] = parse_gs1_date(value, today)
            except ValueError as exc:
                issues.append(f"({ai}) {exc}")
    gtin = None
    gtin_ai = "01" if "01" in values else ("02" if "02" in values else None)
    if gtin_ai:
        result = normalize_gtin(values[gtin_ai])
        gtin = result.value
        if not result.valid:
            issues.append(f"({gtin_ai}) {result.message}")
    quantity = None
    for qty_ai in ("30", "37"):
        if qty_ai in values:
            quantity = Decimal(values[qty_ai])
    return BarcodeData(
        symbology=SYMBOLOGY_GS1,
        raw=raw,
        gtin=gtin,
        lot=values.get("10"),
        expiry=dates.get("expiry"),
        serial=values.get("21"),
        production_date=dates.get("production_date"),
        best_before=dates.get("best_before"),
        quantity=quantity,
        elements=tuple(pairs),
        issues=tuple(issues),
    )


def parse_gs1(text, today=None):
    """Parse a GS1 element string, bracketed (HRI) or raw, into :class:`BarcodeData`.

    Accepted forms: ``(01)09506000134352(17)201225(10)ABC123``; the raw scanner form
    ``010950600013435217201225\\x1d10ABC123`` (FNC1 transmitted as ASCII GS, optionally
    preceded by an AIM symbology identifier such as ``]d2``).  ``today`` anchors the
    two-digit-year window (defaults to today).  Raises :class:`BarcodeError` on syntax
    errors; wrong check digits and impossible dates become ``issues``.
    """
    raw = str(text or "")
    body = raw.strip()
    if not body:
        raise BarcodeError("gs1_syntax", "empty barcode")
    if body.startswith("("):
        pairs = _split_bracketed(body)
    else:
        for prefix in _GS1_SYMBOLOGY_IDS:
            if body.startswith(prefix):
                body = body[len(prefix) :]
                break
        pairs = _split_raw(body)
    return _build_gs1(raw, pairs, today)


def bracketed_to_element_string(text, fnc1=GS):
    """Convert a bracketed GS1 string to its unbracketed form (FNC1 rendered as ``fnc1``)."""
    pairs = _split_bracketed(str(text).strip())
    for ai, value in pairs:
        _check_value(ai, value)
    return to_element_string(pairs, fnc1)


# --------------------------------------------------------------------------- HIBC

HIBC_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
_HIBC_PRIMARY = re.compile(r"([A-Z][A-Z0-9]{3})([A-Z0-9]{1,18})([0-9])")


def hibc_check_character(data):
    """Mod-43 check character of an HIBC data string (``+`` included, check excluded)."""
    total = 0
    for char in data:
        index = HIBC_CHARSET.find(char)
        if index < 0:
            raise BarcodeError("hibc_syntax", f"character {char!r} is not allowed in HIBC data")
        total += index
    return HIBC_CHARSET[total % 43]


def _hibc_date(fmt, text):
    """Decode an HIBC secondary date; returns (date, consumed characters)."""
    if fmt == "MMYY":
        month, year = int(text[:2]), 2000 + int(text[2:4])
        return dt.date(year, month, calendar.monthrange(year, month)[1]), 4
    if fmt == "MMDDYY":
        return dt.date(2000 + int(text[4:6]), int(text[:2]), int(text[2:4])), 6
    if fmt == "YYMMDD":
        return dt.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6])), 6
    if fmt == "YYMMDDHH":
        return dt.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6])), 8
    if fmt in ("YYJJJ", "YYJJJHH"):
        year, day = 2000 + int(text[:2]), int(text[2:5])
        if not 1 <= day <= (366 if calendar.isleap(year) else 365):
            raise ValueError(f"day of year {day} does not exist in {year}")
        return dt.date(year, 1, 1) + dt.timedelta(days=day - 1), 5 if fmt == "YYJJJ" else 7
    raise ValueError(fmt)


_HIBC_DATE_FLAGS = {
    "2": "MMDDYY",
    "3": "YYMMDD",
    "4": "YYMMDDHH",
    "5": "YYJJJ",
    "6": "YYJJJHH",
    "7": None,
}
_HIBC_DATE_LENGTHS = {"MMYY": 4, "MMDDYY": 6, "YYMMDD": 6, "YYMMDDHH": 8, "YYJJJ": 5, "YYJJJHH": 7}


def _parse_hibc_secondary(text, result, issues):
    """Decode HIBC secondary data (without leading ``+``, link and check characters)."""
    main, *supplemental = text.split("/")
    if main.startswith("$"):
        rest = main[1:]
        if not rest.startswith("$"):
            # "$" + lot (or "$+" + serial), no expiry.
            key = "serial" if rest.startswith("+") else "lot"
            result[key] = rest.removeprefix("+") or None
        else:
            rest = rest[1:]
            key = "lot"
            if rest.startswith("+"):
                key, rest = "serial", rest[1:]
            if rest[:1] in ("8", "9"):
                size = 2 if rest[0] == "8" else 5
                qty = rest[1 : 1 + size]
                if len(qty) != size or not qty.isdigit():
                    raise BarcodeError(
                        "hibc_syntax", f"HIBC quantity {qty!r} must be {size} digits"
                    )
                result["quantity"] = Decimal(qty)
                rest = rest[1 + size :]
            fmt = None
            if rest[:1] in ("0", "1"):
                fmt = "MMYY"
            elif rest[:1] in _HIBC_DATE_FLAGS:
                fmt = _HIBC_DATE_FLAGS[rest[0]]
                rest = rest[1:]
            if fmt:
                size = _HIBC_DATE_LENGTHS[fmt]
                chunk = rest[:size]
                if len(chunk) != size or not chunk.isdigit():
                    raise BarcodeError("hibc_syntax", f"HIBC {fmt} date {chunk!r} is incomplete")
                try:
                    result["expiry"], _ = _hibc_date(fmt, chunk)
                except ValueError as exc:
                    issues.append(f"HIBC expiry {chunk} ({fmt}) is not a date: {exc}")
                rest = rest[size:]
            result[key] = rest or None
    elif main[:5].isdigit() and len(main) >= 5:
        # Legacy secondary: YYJJJ date (Julian) then lot.
        try:
            result["expiry"], _ = _hibc_date("YYJJJ", main[:5])
        except ValueError as exc:
            issues.append(f"HIBC expiry {main[:5]} (YYJJJ) is not a date: {exc}")
        result["lot"] = main[5:] or None
    elif main:
        raise BarcodeError("hibc_syntax", f"unrecognised HIBC secondary data {main!r}")
    for item in supplemental:
        # Supplemental data fields (HIBC LIC 2.6 section 2.3.3): S serial, 16D
        # manufacture date YYYYMMDD, 14D expiry YYYYMMDD, Q quantity.
        if item.startswith("S"):
            result["serial"] = item[1:] or None
        elif item.startswith(("16D", "14D")) and len(item) == 11 and item[3:].isdigit():
            try:
                value = dt.date(int(item[3:7]), int(item[7:9]), int(item[9:11]))
            except ValueError as exc:
                issues.append(f"HIBC date {item} is not a date: {exc}")
            else:
                result["production_date" if item.startswith("16D") else "expiry"] = value
        elif item.startswith("Q") and item[1:].isdigit():
            result["quantity"] = Decimal(item[1:])
        elif item:
            result.setdefault("supplemental", []).append(item)


def parse_hibc(text, strict=False):
    """Parse an HIBC LIC barcode (primary, secondary or concatenated) into BarcodeData.

    * primary ``+A123BJC5D6E71G``: labeler A123, product BJC5D6E7, unit-of-measure
      level 1, check character G;
    * secondary ``+$$3250101LOT42/L``: expiry, lot, link character (the primary's check
      character), check character;
    * concatenated ``+A99912345/$$52001510X3/16D20111212/S77DE1G45-``.

    Code 39 start/stop ``*`` and an AIM prefix are removed.  A wrong mod-43 check
    character is an issue, or a :class:`BarcodeError` when ``strict``.
    """
    raw = str(text or "")
    body = raw.strip().strip("*")
    for prefix in ("]C0", "]A0"):
        body = body.removeprefix(prefix)
    if not body.startswith("+") or len(body) < 3:
        raise BarcodeError("hibc_syntax", f"{raw!r} is not an HIBC barcode (must start with '+')")
    body = body.upper()
    data, check = body[:-1], body[-1]
    issues = []
    if check not in HIBC_CHARSET:
        raise BarcodeError(
            "hibc_syntax", f"HIBC check character {check!r} is not in the HIBC character set"
        )
    expected = hibc_check_character(data)
    if expected != check:
        message = f"HIBC check character is {check!r}, expected {expected!r}"
        if strict:
            raise BarcodeError("hibc_syntax", message)
        issues.append(message)
    payload = data[1:]
    result = {}
    extra = {}
    if payload.startswith("$") or payload[:5].isdigit():
        # Stand-alone secondary: its last character links it to the primary's check char.
        extra["link"] = payload[-1]
        _parse_hibc_secondary(payload[:-1], result, issues)
    else:
        primary, _, secondary = payload.partition("/")
        match = _HIBC_PRIMARY.fullmatch(primary)
        if not match:
            raise BarcodeError(
                "hibc_syntax", f"HIBC primary data {primary!r} is not LIC + product + unit"
            )
        result["labeler"], result["product"], result["uom_level"] = match.groups()
        if secondary:
            _parse_hibc_secondary(secondary, result, issues)
    if "supplemental" in result:
        extra["supplemental"] = tuple(result.pop("supplemental"))
    return BarcodeData(
        symbology=SYMBOLOGY_HIBC, raw=raw, issues=tuple(issues), extra=extra, **result
    )


def hibc_linked(primary, secondary):
    """True when a stand-alone secondary HIBC barcode belongs to ``primary``.

    The secondary's link character must equal the primary's check character.
    """
    return (
        primary.strip().strip("*")[-1:] == secondary.extra.get("link") if secondary.extra else False
    )


def parse_barcode(text, today=None):
    """Parse a GS1 or HIBC barcode, deciding by its first character (``+`` is HIBC)."""
    body = str(text or "").strip().strip("*")
    if body.startswith(("+", "]C0+", "]A0+")):
        return parse_hibc(text)
    return parse_gs1(text, today=today)
