"""Invoice reference normalisation and duplicate-invoice classification.

The same invoice arrives twice in many disguises: re-keyed by a capture service as
``INV-000123``, sent by EDI as ``123``, by e-mail PDF as ``Invoice No. 123``.  A
duplicate check on the raw string misses all of them, and a paid duplicate is one of the
costliest AP errors.  :func:`normalize_reference` reduces a reference to its significant
characters so those compare equal.

Equal references are not always duplicates, though: many suppliers restart their
numbering every year (or per branch), so ``classify_invoice_pair`` distinguishes a true
``duplicate`` from a reused number that a clerk must ``review``, and also flags a
``suspect`` pair (same vendor, same amount, close dates, different reference), the
classic re-submission with a retyped number.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation

VERDICT_DUPLICATE = "duplicate"
VERDICT_REVIEW = "review"
VERDICT_SUSPECT = "suspect"
VERDICT_DISTINCT = "distinct"

# Severity order, most severe first: used to pick the strongest finding among candidates.
_SEVERITY = {VERDICT_DUPLICATE: 0, VERDICT_REVIEW: 1, VERDICT_SUSPECT: 2, VERDICT_DISTINCT: 3}

DEFAULT_WINDOW_DAYS = 7

# Words that introduce a reference rather than belong to it (English, French, German,
# Dutch, Nordic, Spanish/Italian).  A prefix is stripped only when followed by a
# separator or a digit, so a reference such as "INVALID7" or "NORD-12" is left intact.
_PREFIXES = (
    "INVOICENUMBER",
    "INVOICENO",
    "INVOICE",
    "INVNO",
    "INV",
    "BILL",
    "REF",
    "NUMBER",
    "NUM",
    "NO",
    "NR",
    "FACTURE",
    "FACTURA",
    "FATTURA",
    "RECHNUNG",
    "FAKTURA",
    "FACTUUR",
    "RG",
    "FA",
)
_PREFIX_RE = re.compile(rf"^(?:{'|'.join(_PREFIXES)})(?=[\W_]|\d)[\W_]*")
_NON_ALNUM = re.compile(r"[\W_]+")


def _fold(text):
    # NFKD then drop combining marks: "Nº" and "N°" become "N", full-width digits become
    # ASCII digits, so visually equal references compare equal.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _normalize_once(text):
    text = _fold(text).upper().replace("°", "O").replace("º", "O").replace("#", " ").strip()
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX_RE.sub("", text).strip()
    text = _NON_ALNUM.sub("", text)
    stripped = text.lstrip("0")
    if not stripped and text:
        return "0"
    return stripped


def normalize_reference(reference):
    """Return the comparable form of an invoice reference.

    Upper-cases, folds accents and full-width characters, strips prefixes such as
    ``INV``, ``INV-``, ``Invoice No.``, ``#``, removes whitespace and punctuation, and
    leading zeros (``INV-000123`` -> ``123``).  The function is idempotent.  ``None`` or
    a blank string gives ``""``.
    """
    text = "" if reference is None else str(reference)
    # Iterate to a fixed point: removing punctuation or zeros can expose a new prefix
    # ("0-INV-5"), and callers store the result and re-normalise it later.
    result = _normalize_once(text)
    while True:
        again = _normalize_once(result)
        if again == result:
            return result
        result = again


@dataclass(frozen=True)
class InvoiceKey:
    """The facts of an invoice that duplicate detection compares."""

    vendor: str
    reference: str
    date: dt.date
    amount: Decimal
    currency: str | None = None

    @property
    def normalized_reference(self):
        """The reference in :func:`normalize_reference` form."""
        return normalize_reference(self.reference)


@dataclass(frozen=True)
class DuplicateVerdict:
    """Result of comparing a new invoice with an existing one."""

    verdict: str
    reason: str

    @property
    def blocking(self):
        """True when the new invoice must not be posted without a human decision."""
        return self.verdict != VERDICT_DISTINCT


def _amount(value):
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _as_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def classify_invoice_pair(existing, new, window_days=DEFAULT_WINDOW_DAYS):
    """Decide whether ``new`` duplicates ``existing`` (both :class:`InvoiceKey`).

    * different vendor: ``distinct`` (vendor is the scope of the supplier's numbering);
    * same normalised reference, same amount, and same year or dates within
      ``window_days``: ``duplicate``;
    * same normalised reference otherwise (another year, another amount): ``review``,
      because suppliers reuse numbers yearly and a clerk must look;
    * different reference, same amount and currency, dates within ``window_days``:
      ``suspect`` (a re-submission with a retyped number);
    * else ``distinct``.

    Amounts are compared as Decimals (``100.0 == 100``); a different currency makes
    amounts different.
    """
    if (existing.vendor or "").strip() != (new.vendor or "").strip():
        return DuplicateVerdict(VERDICT_DISTINCT, "different vendors")
    old_ref, new_ref = existing.normalized_reference, new.normalized_reference
    old_amount, new_amount = _amount(existing.amount), _amount(new.amount)
    same_currency = (existing.currency or "").upper() == (new.currency or "").upper()
    same_amount = same_currency and old_amount is not None and old_amount == new_amount
    old_date, new_date = _as_date(existing.date), _as_date(new.date)
    days_apart = abs((new_date - old_date).days)
    within_window = days_apart <= window_days

    if old_ref and old_ref == new_ref:
        if same_amount and (old_date.year == new_date.year or within_window):
            return DuplicateVerdict(
                VERDICT_DUPLICATE,
                f"same vendor, reference {new_ref} and amount {new_amount} as the invoice of {old_date}",
            )
        if same_amount:
            return DuplicateVerdict(
                VERDICT_REVIEW,
                f"reference {new_ref} and amount {new_amount} reused from {old_date.year}: "
                "check whether the supplier restarted its numbering",
            )
        return DuplicateVerdict(
            VERDICT_REVIEW,
            f"reference {new_ref} already used on {old_date} for {old_amount} "
            f"{existing.currency or ''}, now {new_amount} {new.currency or ''}".rstrip(),
        )
    if same_amount and new_amount and within_window:
        return DuplicateVerdict(
            VERDICT_SUSPECT,
            f"same vendor and amount {new_amount} within {days_apart} day(s) of invoice "
            f"{existing.reference} ({old_date}) under another reference {new.reference}",
        )
    return DuplicateVerdict(VERDICT_DISTINCT, "no matching reference or amount")


def find_duplicates(new, candidates, window_days=DEFAULT_WINDOW_DAYS):
    """Compare ``new`` with every candidate; return ``[(candidate, verdict)]`` that block.

    The list is sorted most severe first (duplicate, review, suspect), then by the
    closest date, so ``result[0]`` is what the exception should cite.
    """
    findings = []
    new_date = _as_date(new.date)
    for candidate in candidates:
        verdict = classify_invoice_pair(candidate, new, window_days)
        if verdict.blocking:
            findings.append((candidate, verdict))
    findings.sort(
        key=lambda item: (_SEVERITY[item[1].verdict], abs((_as_date(item[0].date) - new_date).days))
    )
    return findings
