"""Duplicate vendor detection for vendor-master imports.

Vendor masters merged from several sourcing systems and AP platforms contain the same
supplier several times ("Medline Industries, Inc." vs "MEDLINE INDUSTRIES").  Paying the
same company through two vendor records defeats duplicate-invoice detection, so every
imported vendor is compared with the existing ones:

* a shared identifier (GLN, DUNS or tax id, normalised) is conclusive: ``merge``;
* a similar name (rapidfuzz ``token_sort_ratio`` on the name without legal form and
  punctuation) at the same city or postcode needs a data steward: ``review``;
* anything else is a ``new`` vendor.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from .identifiers import normalize_duns
from .identifiers import normalize_gln
from .identifiers import normalize_tax_id

ACTION_MERGE = "merge"
ACTION_REVIEW = "review"
ACTION_NEW = "new"

DEFAULT_THRESHOLD = 90.0

# Legal-form words, compared after punctuation removal ("L.L.C." -> "LLC", "S.A." -> "SA").
LEGAL_SUFFIXES = frozenset(
    {
        "INC", "INCORPORATED", "LLC", "LLP", "LP", "PLLC", "LTD", "LIMITED", "CORP",
        "CORPORATION", "CO", "COMPANY", "PLC", "GMBH", "MBH", "AG", "KG", "KGAA", "EV",
        "UG", "SA", "SAS", "SARL", "SRL", "SPA", "BV", "NV", "AB", "AS", "ASA", "APS",
        "OY", "OYJ", "PTY", "PC", "SE", "SL", "SAU", "CV", "LDA",
    }
)  # fmt: skip
_SPLIT = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class VendorRecord:
    """What vendor de-duplication compares; ``key`` is the caller's id (e.g. a partner id)."""

    name: str
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    gln: str | None = None
    duns: str | None = None
    tax_id: str | None = None
    key: object = None


@dataclass(frozen=True)
class VendorMatch:
    """Decision for one imported vendor.

    ``candidate`` is the existing record the decision refers to (None for ``new``),
    ``score`` the name similarity 0-100, ``matched_on`` the identifier scheme that
    decided a merge (``gln``, ``duns``, ``tax_id``) or ``name``.
    """

    action: str
    candidate: VendorRecord | None = None
    score: float = 0.0
    matched_on: str | None = None
    reason: str = ""


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean_vendor_name(name):
    """Comparable form of a vendor name: upper case, no accents, punctuation or legal form.

    ``"Medline Industries, Inc."`` -> ``"MEDLINE INDUSTRIES"``; ``"B. Braun Melsungen AG"``
    -> ``"B BRAUN MELSUNGEN"``; ``&`` becomes ``AND``.  Dotted abbreviations are joined
    first so ``L.L.C.`` is recognised as ``LLC``.
    """
    text = _fold(str(name or "")).upper().replace("&", " AND ")
    # Join single letters separated by dots ("S.A.", "L.L.C.") before splitting on punctuation.
    text = re.sub(r"\b(\w)\.(?=\w\b\.?)", r"\1", text)
    tokens = [token for token in _SPLIT.split(text) if token]
    kept = [token for token in tokens if token not in LEGAL_SUFFIXES]
    # A name made only of legal words ("Company AG") keeps its words rather than vanish.
    return " ".join(kept or tokens)


def name_similarity(name_a, name_b):
    """rapidfuzz ``token_sort_ratio`` (0-100) of the two cleaned names."""
    a, b = clean_vendor_name(name_a), clean_vendor_name(name_b)
    if not a or not b:
        return 0.0
    return float(fuzz.token_sort_ratio(a, b))


def _identifiers(record):
    """Normalised identifiers of a record by scheme; invalid check digits still count.

    A GLN with a wrong check digit typed the same way in two systems is still the same
    key, so the normalised value is used whatever its validity.
    """
    ids = {}
    if record.gln:
        ids["gln"] = normalize_gln(record.gln).value
    if record.duns:
        ids["duns"] = normalize_duns(record.duns).value
    if record.tax_id:
        ids["tax_id"] = normalize_tax_id(record.tax_id, record.country).value
    return {scheme: value for scheme, value in ids.items() if value}


def _compact_postcode(value):
    return re.sub(r"[\s\-]", "", str(value or "")).upper()


def _same_location(a, b):
    if a.country and b.country and a.country.strip().upper() != b.country.strip().upper():
        return False
    city_a, city_b = clean_vendor_name(a.city), clean_vendor_name(b.city)
    if city_a and city_a == city_b:
        return True
    post_a, post_b = _compact_postcode(a.postcode), _compact_postcode(b.postcode)
    return bool(post_a) and post_a == post_b


def compare_vendors(new, existing, threshold=DEFAULT_THRESHOLD):
    """Compare two :class:`VendorRecord` and return a :class:`VendorMatch`."""
    new_ids, old_ids = _identifiers(new), _identifiers(existing)
    for scheme in ("gln", "duns", "tax_id"):
        if scheme in new_ids and new_ids[scheme] == old_ids.get(scheme):
            return VendorMatch(
                ACTION_MERGE, existing, name_similarity(new.name, existing.name), scheme,
                f"same {scheme} {new_ids[scheme]}",
            )  # fmt: skip
    score = name_similarity(new.name, existing.name)
    if score >= threshold and _same_location(new, existing):
        conflicts = sorted(s for s in new_ids.keys() & old_ids.keys() if new_ids[s] != old_ids[s])
        reason = f"similar name ({score:.0f}) at the same location"
        if conflicts:
            # Different identifiers under a similar name: often a branch or a sister
            # company; still worth a look, but the steward must see the conflict.
            reason += f"; different {', '.join(conflicts)}"
        return VendorMatch(ACTION_REVIEW, existing, score, "name", reason)
    return VendorMatch(
        ACTION_NEW, None, score, None, "no identifier or similar name at the same location"
    )


def match_vendor(new, existing, threshold=DEFAULT_THRESHOLD):
    """Find the best decision for ``new`` among ``existing`` vendor records.

    A ``merge`` beats any ``review``; among reviews the highest score wins.  Returns a
    ``new`` :class:`VendorMatch` carrying the best name score seen when nothing matched.
    """
    best_review = None
    best_score = 0.0
    for record in existing:
        match = compare_vendors(new, record, threshold)
        if match.action == ACTION_MERGE:
            return match
        if match.action == ACTION_REVIEW and (
            best_review is None or match.score > best_review.score
        ):
            best_review = match
        best_score = max(best_score, match.score)
    if best_review is not None:
        return best_review
    return VendorMatch(
        ACTION_NEW, None, best_score, None, "no identifier or similar name at the same location"
    )
