"""Exclusion list screening: the OIG LEIE and SAM.gov exclusion extracts, read and matched.

Hospitals may not buy from or pay a party excluded from federal health care programs (the
HHS-OIG *List of Excluded Individuals/Entities*, LEIE) or from federal procurement (the
SAM.gov *Exclusions* extract).  Both are published as CSV files:

* LEIE (``UPDATED.csv``): ``LASTNAME, FIRSTNAME, MIDNAME, BUSNAME, GENERAL, SPECIALTY,
  UPIN, NPI, DOB, ADDRESS, CITY, STATE, ZIP, EXCLTYPE, EXCLDATE, REINDATE, WAIVERDATE,
  WVRSTATE``; dates as ``YYYYMMDD``, ``00000000`` for none, NPI ``0000000000`` for none.
* SAM exclusions extract: ``Classification, Name, Prefix, First, Middle, Last, Suffix,
  Address 1-4, City, State / Province, Country, Zip Code, DUNS`` (the newer layout: ``Open
  Data Flag, Blank (Deprecated), Unique Entity ID``), ``Exclusion Program, Excluding
  Agency, CT Code, Exclusion Type, Additional Comments, Active Date, Termination Date,
  Record Status, Cross-Reference, SAM Number, CAGE, NPI`` (and ``Creation_Date``); dates as
  ``MM/DD/YYYY`` (ISO accepted), termination ``Indefinite`` for none.

The readers stream (one row at a time from any iterable of text lines), check the header
and report every row they cannot read as a :class:`RowError` instead of dropping it.  The
matcher compares a vendor with list entries on NPI, tax id / UEI / DUNS (conclusive) and
on the name, normalised (case, diacritics, punctuation, legal forms such as INC/LLC/CORP)
and scored 0-100.  Nothing here imports Odoo.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from rapidfuzz import fuzz

from .vendor_dedup import clean_vendor_name

SOURCE_LEIE = "leie"
SOURCE_SAM = "sam"

LEIE_COLUMNS = (
    "LASTNAME", "FIRSTNAME", "MIDNAME", "BUSNAME", "GENERAL", "SPECIALTY", "UPIN", "NPI",
    "DOB", "ADDRESS", "CITY", "STATE", "ZIP", "EXCLTYPE", "EXCLDATE", "REINDATE",
    "WAIVERDATE", "WVRSTATE",
)  # fmt: skip
# The SAM columns a row cannot be read without; the others are optional (layouts differ).
SAM_REQUIRED = ("Classification", "Name", "First", "Last", "Exclusion Type", "Active Date")
# Entity identifier column of the SAM extract, by layout (oldest last).
SAM_ENTITY_ID_COLUMNS = ("Unique Entity ID", "UEI", "DUNS/UEI", "DUNS")

DEFAULT_NAME_THRESHOLD = 90.0
NUMBER_MISMATCH_CAP = 60.0


class ExclusionFormatError(ValueError):
    """The file is not one of the known layouts (its header says which columns lack)."""


@dataclass(frozen=True)
class ExclusionRecord:
    """One exclusion, whatever the list.  ``name`` is the business name, or the person's
    name as "LAST FIRST MIDDLE"; ``key`` identifies the exclusion across list versions."""

    source: str
    name: str
    is_individual: bool
    npi: str | None = None
    entity_id: str | None = None
    tax_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    exclusion_type: str | None = None
    agency: str | None = None
    excluded_on: datetime.date | None = None
    reinstated_on: datetime.date | None = None
    waiver_on: datetime.date | None = None
    active: bool = True
    line: int = 0

    @property
    def name_clean(self):
        return clean_vendor_name(self.name)

    @property
    def key(self):
        """Stable key of the exclusion (the same person or firm, the same exclusion)."""
        return "|".join(
            [
                self.source,
                self.name_clean,
                self.npi or "",
                self.entity_id or "",
                self.excluded_on.isoformat() if self.excluded_on else "",
            ]
        )


@dataclass(frozen=True)
class RowError:
    """A row of the file that could not be read: its line number and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class Candidate:
    """What is screened: a vendor's names and identifiers (``key``: the caller's id)."""

    name: str
    npi: str | None = None
    tax_ids: tuple = ()
    entity_ids: tuple = ()
    key: object = None


@dataclass(frozen=True)
class ExclusionHit:
    """A vendor that looks like a list entry: ``matched_on`` is ``npi``, ``tax_id``,
    ``entity_id`` or ``name``; ``score`` the name similarity (0-100)."""

    candidate: Candidate
    record: ExclusionRecord
    matched_on: str
    score: float
    reasons: tuple = field(default_factory=tuple)


# -- values --------------------------------------------------------------------------------


def _text(value):
    value = (value or "").strip()
    return value if value and value.lower() not in ("null", "none") else None


def normalize_npi(value):
    """The 10-digit NPI, or None (blank, all zeros, or not 10 digits)."""
    digits = re.sub(r"\D", "", str(value or ""))
    if len(digits) != 10 or not digits.strip("0"):
        return None
    return digits


def normalize_tax_id(value):
    """Tax id, UEI or DUNS compared as upper-case letters and digits only (None if empty)."""
    compact = re.sub(r"[^0-9A-Za-z]", "", str(value or "")).upper()
    return compact if compact and compact.strip("0") else None


def parse_leie_date(value):
    """``YYYYMMDD`` -> date; ``00000000`` or blank -> None."""
    value = (value or "").strip()
    if not value or not value.strip("0"):
        return None
    return datetime.datetime.strptime(value, "%Y%m%d").date()


def parse_sam_date(value):
    """``MM/DD/YYYY`` or ``YYYY-MM-DD`` -> date; blank, ``Indefinite``, ``null`` -> None."""
    value = (value or "").strip()
    if not value or value.lower() in ("indefinite", "null", "none", "n/a"):
        return None
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y"):
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unreadable date {value!r}")


def person_name(last, first, middle=None):
    return " ".join(part for part in (_text(last), _text(first), _text(middle)) if part)


# -- readers -------------------------------------------------------------------------------


def _rows(lines):
    """(line number, row dict) of a CSV given as an iterable of text lines; the header is
    returned first as ``(1, header list)``.  A leading UTF-8 BOM is ignored."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ExclusionFormatError("the file is empty") from None
    header = [h.lstrip("\ufeff").strip() for h in header]
    yield 1, header
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        yield reader.line_num, row


def detect_source(header):
    """``leie`` or ``sam`` from a header row; :class:`ExclusionFormatError` otherwise."""
    names = {h.lstrip("\ufeff").strip() for h in header}
    upper = {h.upper() for h in names}
    if {"LASTNAME", "BUSNAME", "EXCLTYPE", "EXCLDATE"} <= upper:
        return SOURCE_LEIE
    if {"Classification", "Exclusion Type"} <= names:
        return SOURCE_SAM
    raise ExclusionFormatError(
        "not an OIG LEIE or SAM.gov exclusions file: the header has neither "
        "LASTNAME/BUSNAME/EXCLTYPE/EXCLDATE nor Classification/Exclusion Type"
    )


def read_exclusions(lines: Iterable[str], source=None) -> Iterator[ExclusionRecord | RowError]:
    """Stream the records of an LEIE or SAM file (``source`` detected from the header when
    not given).  Yields :class:`ExclusionRecord` and, for unreadable rows,
    :class:`RowError`; raises :class:`ExclusionFormatError` for a wrong header."""
    rows = _rows(lines)
    _line, header = next(rows)
    found = detect_source(header)
    if source and source != found:
        raise ExclusionFormatError(f"expected a {source.upper()} file, the header is {found}'s")
    if found == SOURCE_LEIE:
        index = {h.upper(): i for i, h in enumerate(header)}
        missing = [c for c in LEIE_COLUMNS if c not in index]
        build = _leie_record
    else:
        index = {h: i for i, h in enumerate(header)}
        missing = [c for c in SAM_REQUIRED if c not in index]
        build = _sam_record
    if missing:
        raise ExclusionFormatError(f"{found.upper()} file without column(s) {', '.join(missing)}")
    width = len(header)
    for line, row in rows:
        if len(row) != width:
            yield RowError(line, f"{len(row)} columns where the header has {width}")
            continue
        get = lambda name, row=row: row[index[name]] if name in index else ""  # noqa: E731
        try:
            record = build(get, line)
        except ValueError as exc:
            yield RowError(line, str(exc))
            continue
        if record is None:
            yield RowError(line, "no name: neither a business nor a person's name")
            continue
        yield record


def _leie_record(get, line):
    business = _text(get("BUSNAME"))
    person = person_name(get("LASTNAME"), get("FIRSTNAME"), get("MIDNAME"))
    name = business or person
    if not name:
        return None
    reinstated = parse_leie_date(get("REINDATE"))
    return ExclusionRecord(
        source=SOURCE_LEIE,
        name=name,
        is_individual=not business,
        npi=normalize_npi(get("NPI")),
        first_name=_text(get("FIRSTNAME")),
        last_name=_text(get("LASTNAME")),
        address=_text(get("ADDRESS")),
        city=_text(get("CITY")),
        state=_text(get("STATE")),
        zip_code=_text(get("ZIP")),
        country="USA",
        exclusion_type=_text(get("EXCLTYPE")),
        agency="HHS-OIG",
        excluded_on=parse_leie_date(get("EXCLDATE")),
        reinstated_on=reinstated,
        waiver_on=parse_leie_date(get("WAIVERDATE")),
        active=reinstated is None,
        line=line,
    )


def _sam_record(get, line):
    classification = (_text(get("Classification")) or "").lower()
    business = _text(get("Name"))
    person = person_name(get("Last"), get("First"), get("Middle"))
    is_individual = classification == "individual" or (not business and bool(person))
    name = (person or business) if is_individual else (business or person)
    if not name:
        return None
    entity_id = None
    for column in SAM_ENTITY_ID_COLUMNS:
        entity_id = normalize_tax_id(_text(get(column)))
        if entity_id:
            break
    terminated = parse_sam_date(get("Termination Date"))
    status = (_text(get("Record Status")) or "active").lower()
    address = ", ".join(part for part in (_text(get(f"Address {n}")) for n in (1, 2, 3, 4)) if part)
    return ExclusionRecord(
        source=SOURCE_SAM,
        name=name,
        is_individual=is_individual,
        npi=normalize_npi(get("NPI")),
        entity_id=entity_id,
        first_name=_text(get("First")),
        last_name=_text(get("Last")),
        address=address or None,
        city=_text(get("City")),
        state=_text(get("State / Province")),
        zip_code=_text(get("Zip Code")),
        country=_text(get("Country")),
        exclusion_type=_text(get("Exclusion Type")),
        agency=_text(get("Excluding Agency")),
        excluded_on=parse_sam_date(get("Active Date")),
        reinstated_on=terminated,
        active=status == "active" and (terminated is None or terminated > datetime.date.today()),
        line=line,
    )


# -- matching ------------------------------------------------------------------------------


def name_tokens(name):
    """The tokens of the normalised name (what candidate lookup is keyed on)."""
    return clean_vendor_name(name).split()


def name_score(name_a, name_b):
    """Similarity (0-100) of two names after normalisation.

    ``token_sort_ratio`` (word order does not count: "SMITH JOHN" = "JOHN SMITH"); when
    both names have at least two words, ``token_set_ratio`` too, so that a middle name or
    initial on one side only ("SMITH JOHN A" / "John Smith") does not hide a match.  One
    shared word ("MEDICAL") between names of several words never scores high by itself:
    the set ratio needs two shared words at least.  Names whose numbers differ ("Vendor 7"
    / "Vendor 59", "Clinic 2") are different parties: the score is capped below any
    sensible threshold.
    """
    a, b = clean_vendor_name(name_a), clean_vendor_name(name_b)
    if not a or not b:
        return 0.0
    score = fuzz.token_sort_ratio(a, b)
    tokens_a, tokens_b = set(a.split()), set(b.split())
    if len(tokens_a & tokens_b) >= 2:
        score = max(score, fuzz.token_set_ratio(a, b))
    numbers_a = {t for t in tokens_a if any(ch.isdigit() for ch in t)}
    numbers_b = {t for t in tokens_b if any(ch.isdigit() for ch in t)}
    if numbers_a != numbers_b:
        score = min(score, NUMBER_MISMATCH_CAP)
    return float(score)


def match_candidate(candidate, records, threshold=DEFAULT_NAME_THRESHOLD):
    """The records ``candidate`` matches: identifiers first (conclusive), then the name at
    ``threshold`` or above.  Inactive records (reinstated, terminated) never match."""
    npi = normalize_npi(candidate.npi)
    tax_ids = {t for t in map(normalize_tax_id, candidate.tax_ids) if t}
    entity_ids = {t for t in map(normalize_tax_id, candidate.entity_ids) if t} | tax_ids
    hits = []
    for record in records:
        if not record.active:
            continue
        score = name_score(candidate.name, record.name)
        if npi and record.npi == npi:
            hits.append(ExclusionHit(candidate, record, "npi", score, (f"same NPI {npi}",)))
        elif record.tax_id and record.tax_id in tax_ids:
            hits.append(
                ExclusionHit(candidate, record, "tax_id", score, (f"same tax id {record.tax_id}",))
            )
        elif record.entity_id and record.entity_id in entity_ids:
            hits.append(
                ExclusionHit(
                    candidate, record, "entity_id", score, (f"same UEI/DUNS {record.entity_id}",)
                )
            )
        elif score >= threshold:
            reasons = [f"name {score:.0f}/100"]
            if npi and record.npi and record.npi != npi:
                # Different NPIs under the same name: two people, most likely; still shown.
                reasons.append(f"different NPI ({record.npi})")
            hits.append(ExclusionHit(candidate, record, "name", score, tuple(reasons)))
    order = {"npi": 0, "tax_id": 1, "entity_id": 2, "name": 3}
    hits.sort(key=lambda h: (order[h.matched_on], -h.score))
    return hits
