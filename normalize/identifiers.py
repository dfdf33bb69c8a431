"""Business identifier validation and normalisation: GTIN, GLN, DUNS, tax ids.

Real supplier documents routinely carry identifiers with a wrong check digit (hand-keyed
master data, test GLNs that escaped into production, truncated leading zeros).  Refusing
such a document would stop the whole procure-to-pay flow for a cosmetic defect, so every
function here *returns* an :class:`IdentifierResult` whose ``valid`` flag and ``message``
describe the defect; the caller turns it into a data-quality issue.  Nothing here raises
on bad input.

Normalised forms are chosen so that equal identifiers compare equal as strings:

* GTIN: always the 14-digit form (GTIN-8/12/13 left-padded with zeros), the form GS1
  recommends for databases, so a UPC-A ``036000291452`` and its EAN-13
  ``0036000291452`` match the same product.
* GLN: 13 digits.
* DUNS: 9 digits (separators removed).
* Tax id: upper-case compact form with the country prefix kept when one was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import ean
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

SCHEME_GTIN = "gtin"
SCHEME_GLN = "gln"
SCHEME_DUNS = "duns"
SCHEME_VAT = "vat"
SCHEME_TAX_ID = "tax_id"

GTIN_LENGTHS = (8, 12, 13, 14)

# Identifier scheme codes seen in the wild, mapped to our scheme names: PEPPOL/ISO 6523
# ICD codes (UBL ``schemeID`` on EndpointID/PartyIdentification/StandardItemIdentification),
# the legacy OASIS UBL 2.x spellings and cXML ``Credential/@domain`` values.
SCHEME_ALIASES = {
    "0088": SCHEME_GLN,
    "GLN": SCHEME_GLN,
    "EAN": SCHEME_GLN,
    "0160": SCHEME_GTIN,
    "GTIN": SCHEME_GTIN,
    "UPC": SCHEME_GTIN,
    "EAN13": SCHEME_GTIN,
    "0060": SCHEME_DUNS,
    "DUNS": SCHEME_DUNS,
    "DUNS+4": SCHEME_DUNS,
    "VAT": SCHEME_VAT,
    "TAX": SCHEME_TAX_ID,
    "TAXID": SCHEME_TAX_ID,
    "TAX_ID": SCHEME_TAX_ID,
}

# Greece uses "EL" in VAT numbers but "GR" as ISO country code; stdnum knows both.
_EU_VAT_PREFIXES = {cc.upper() for cc in eu_vat.MEMBER_STATES} | {"EL"}
_SEPARATORS = re.compile(r"[\s\-./]")


@dataclass(frozen=True)
class IdentifierResult:
    """Outcome of normalising one identifier.

    ``valid`` is False when a defect was found (wrong check digit, wrong length, not
    digits).  ``checked`` is False when no algorithm exists for the value (e.g. a tax id
    without a recognisable country); such a value is kept as is, ``valid`` stays True and
    ``message`` says it was not verified.  ``message`` is empty for a clean identifier.
    """

    scheme: str
    raw: str
    value: str
    valid: bool
    message: str = ""
    checked: bool = True
    expected_check_digit: str | None = None

    def __bool__(self):
        # An empty value is "no identifier", whatever its validity.
        return bool(self.value)


def _compact(value, *, upper=False):
    text = _SEPARATORS.sub("", str(value or "")).strip()
    return text.upper() if upper else text


def gs1_check_digit(payload):
    """Return the GS1 mod-10 check digit (as a one-character str) for ``payload`` digits.

    Works for every GS1 key length (GTIN-8..14, GLN, SSCC) because the weights are
    applied from the right.
    """
    return ean.calc_check_digit(payload)


def gs1_check_digit_ok(digits):
    """Whether the last digit of ``digits`` is its GS1 mod-10 check digit.

    Any GS1 key (GTIN-8/12/13/14, GLN, SSCC); False for anything but two or more digits.
    """
    digits = str(digits or "")
    if not (digits.isascii() and digits.isdigit()) or len(digits) < 2:
        return False
    return gs1_check_digit(digits[:-1]) == digits[-1]


def _gs1_key(value, scheme, lengths, label):
    raw = "" if value is None else str(value)
    compact = _compact(raw)
    if not compact:
        return IdentifierResult(scheme, raw, "", False, f"{label} is empty")
    if not compact.isdigit():
        return IdentifierResult(
            scheme, raw, compact, False, f"{label} {raw!r} must contain digits only"
        )
    if len(compact) not in lengths:
        expected = ", ".join(str(n) for n in lengths)
        return IdentifierResult(
            scheme,
            raw,
            compact,
            False,
            f"{label} {compact} has {len(compact)} digits, expected {expected}",
        )
    expected_digit = gs1_check_digit(compact[:-1])
    normalized = compact.zfill(max(lengths))
    if expected_digit != compact[-1]:
        return IdentifierResult(
            scheme,
            raw,
            normalized,
            False,
            f"{label} {compact} has a wrong check digit: expected {expected_digit}, got {compact[-1]}",
            expected_check_digit=expected_digit,
        )
    return IdentifierResult(scheme, raw, normalized, True, expected_check_digit=expected_digit)


def normalize_gtin(value):
    """Validate a GTIN-8/12/13/14 and return it in 14-digit form.

    A wrong check digit gives ``valid=False`` with the expected digit in
    ``expected_check_digit``; the normalised value is still returned so the item can be
    looked up (and the defect reported) rather than dropped.
    """
    return _gs1_key(value, SCHEME_GTIN, GTIN_LENGTHS, "GTIN")


def normalize_gln(value):
    """Validate a 13-digit GLN (Global Location Number) and its GS1 check digit."""
    return _gs1_key(value, SCHEME_GLN, (13,), "GLN")


def normalize_duns(value):
    """Normalise a D-U-N-S number to its 9 digits.

    DUNS has no public check digit, so only the shape is verified.  A DUNS+4 (13 digits,
    the last four naming a site) is reduced to the 9-digit company number and flagged in
    the message, because vendor matching is done on the company.
    """
    raw = "" if value is None else str(value)
    compact = _compact(raw)
    if not compact:
        return IdentifierResult(SCHEME_DUNS, raw, "", False, "DUNS is empty")
    if not compact.isdigit():
        return IdentifierResult(
            SCHEME_DUNS, raw, compact, False, f"DUNS {raw!r} must contain digits only"
        )
    if len(compact) == 13:
        return IdentifierResult(
            SCHEME_DUNS, raw, compact[:9], True, f"DUNS+4 {compact} reduced to DUNS {compact[:9]}"
        )
    if len(compact) != 9:
        return IdentifierResult(
            SCHEME_DUNS,
            raw,
            compact,
            False,
            f"DUNS {compact} has {len(compact)} digits, expected 9",
        )
    return IdentifierResult(SCHEME_DUNS, raw, compact, True)


def _country_module(country):
    # get_cc_module returns None (or raises on odd input) when stdnum has no such module.
    for kind in ("vat", "tin"):
        try:
            module = get_cc_module(country.lower(), kind)
        except (ImportError, ValueError):
            module = None
        if module is not None:
            return module
    return None


def normalize_tax_id(value, country=None):
    """Normalise and, where possible, verify a tax identifier.

    * A value starting with an EU VAT prefix (``DK12345674``, ``EL...``, ``XI...``) is
      checked with ``stdnum.eu.vat``.
    * Otherwise, with ``country`` (ISO 3166 alpha-2) or a two-letter prefix that stdnum
      has a ``vat``/``tin`` module for (``NO``, ``CH``, ``GB``, ``US``...), that module
      checks it.
    * Anything else is kept in compact upper-case form with ``checked=False``.
    """
    raw = "" if value is None else str(value)
    compact = _compact(raw, upper=True)
    if not compact:
        return IdentifierResult(SCHEME_TAX_ID, raw, "", False, "tax id is empty")
    prefix = compact[:2] if compact[:2].isalpha() else ""
    if prefix in _EU_VAT_PREFIXES:
        try:
            return IdentifierResult(SCHEME_VAT, raw, eu_vat.validate(compact), True)
        except ValidationError as exc:
            return IdentifierResult(
                SCHEME_VAT, raw, compact, False, f"VAT number {compact} is invalid: {exc}"
            )
    cc = (country or prefix or "").upper()
    module = _country_module(cc) if cc else None
    if module is None:
        return IdentifierResult(
            SCHEME_TAX_ID,
            raw,
            compact,
            True,
            f"tax id {compact} not verified: no rule for its country",
            checked=False,
        )
    # Country modules expect the number without the ISO prefix for most countries but
    # accept it for some; try the bare number first, then the prefixed one.
    number = compact[2:] if prefix and prefix == cc else compact
    error = None
    for candidate in (number, compact):
        try:
            module.validate(candidate)
        except ValidationError as exc:
            error = error or exc
            continue
        normalized = cc + module.compact(candidate).upper().removeprefix(cc)
        return IdentifierResult(SCHEME_VAT, raw, normalized, True)
    return IdentifierResult(
        SCHEME_VAT,
        raw,
        compact if prefix else cc + compact,
        False,
        f"tax id {compact} is invalid for {cc}: {error}",
    )


def scheme_for(code):
    """Map a document's scheme code (``0088``, ``GLN``, ``DUNS``...) to our scheme name, or None."""
    if not code:
        return None
    return SCHEME_ALIASES.get(str(code).strip().upper())


def normalize_identifier(value, scheme, country=None):
    """Normalise ``value`` according to ``scheme`` (our name or any alias in SCHEME_ALIASES).

    Unknown schemes are returned compacted with ``checked=False``: a proprietary
    supplier-assigned id is still useful for the crosswalk, it just cannot be verified.
    """
    resolved = scheme_for(scheme) or (scheme or "").lower()
    if resolved == SCHEME_GTIN:
        return normalize_gtin(value)
    if resolved == SCHEME_GLN:
        return normalize_gln(value)
    if resolved == SCHEME_DUNS:
        return normalize_duns(value)
    if resolved in (SCHEME_VAT, SCHEME_TAX_ID):
        return normalize_tax_id(value, country)
    raw = "" if value is None else str(value)
    return IdentifierResult(
        resolved or "other", raw, raw.strip(), bool(raw.strip()), "", checked=False
    )
