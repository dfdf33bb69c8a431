"""Product identifiers besides the GTIN: HIBC product codes and US National Drug Codes.

Both are kept on the product in one normalised spelling so that a document writing them
differently still finds the product the item master created.  Nothing here imports Odoo.
"""

import re

_SPACES = re.compile(r"\s+")
_NDC_SEGMENTS = (5, 4, 2)


def normalize_hibc(value):
    """An HIBC LIC product code in one spelling: upper case, no spaces, no ``+`` flag.

    ``+A123PROD1`` (as scanned, with the HIBC flag character), ``*+A123PROD1*`` (with
    Code 39 start/stop characters) and ``a123prod1`` are the same code.  ``None`` for an
    empty value.
    """
    text = _SPACES.sub("", str(value or "")).upper().strip("*")
    text = text.removeprefix("+")
    return text or None


def normalize_ndc(value):
    """A National Drug Code as digits, in the 11-digit (5-4-2) form when it can be known.

    A hyphenated 10-digit NDC (4-4-2, 5-3-2 or 5-4-1) is padded segment by segment to the
    11-digit billing form, so ``0002-1433-80`` and ``00002-1433-80`` (and the X12 N4
    ``00002143380``) are one code.  Ten digits without hyphens cannot be placed and are
    kept as they are.  ``None`` for a value without digits.
    """
    text = _SPACES.sub("", str(value or ""))
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        if all(len(p) <= size for p, size in zip(parts, _NDC_SEGMENTS, strict=True)):
            return "".join(p.zfill(size) for p, size in zip(parts, _NDC_SEGMENTS, strict=True))
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits or None
