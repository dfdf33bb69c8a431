# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""CSV batches of vendor master and item master records.

The first row is the header.  Column names are matched case-insensitively, spaces and
dashes read as underscores (``Vendor Part Number`` = ``vendor_part_number``).  Unknown
columns are reported as data-quality issues (ERP exports carry many), a missing required
column or a duplicated column is a :class:`~.errors.ParseError` ``csv_header``.  Every data
row is validated; errors carry the physical row number (header = row 1) so that a data
steward can fix the spreadsheet in one pass.
"""

import csv
import io
from dataclasses import dataclass
from dataclasses import field

from ..canonical import SCHEME_DUNS
from ..canonical import SCHEME_GLN
from ..canonical import SCHEME_SOURCE
from ..canonical import SCHEME_TAX_ID
from ..canonical import SCHEME_VAT
from ..canonical import CanonicalValidationError
from ..canonical import from_dict
from ..normalize.identifiers import gs1_check_digit_ok
from .errors import DataQualityIssue
from .errors import ParseError

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
_UTF8_BOM = "\ufeff"
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"0", "false", "no", "n", ""}

# Column -> identifier scheme.
VENDOR_ID_COLUMNS = {
    "source_id": SCHEME_SOURCE,
    "gln": SCHEME_GLN,
    "duns": SCHEME_DUNS,
    "vat": SCHEME_VAT,
    "tax_id": SCHEME_TAX_ID,
}
VENDOR_COLUMNS = (
    *VENDOR_ID_COLUMNS,
    "name",
    "legal_name",
    "street",
    "street2",
    "city",
    "state",
    "zip",
    "country_code",
    "email",
    "phone",
    "currency",
    "payment_terms",
    "category",
    "iban",
    "bic",
    "account_number",
    "routing_number",
    "holder_name",
    "active",
)
ITEM_COLUMNS = (
    "gtin",
    "vendor_part_number",
    "buyer_part_number",
    "manufacturer_part_number",
    "hibc",
    "ndc",
    "description",
    "uom",
    "pack_factor",
    "base_uom",
    "category",
    "unspsc",
    "critical",
    "lot_tracked",
    "serial_tracked",
    "active",
    "manufacturer",
    "vendor_gln",
    "vendor_duns",
    "vendor_source_id",
    "vendor_name",
)
REQUIRED_COLUMNS = {
    "vendor": ("name",),
    "item": ("description", "uom"),
}
# At least one of these must be a column: a record without any key cannot be matched.
KEY_COLUMNS = {
    "vendor": tuple(VENDOR_ID_COLUMNS),
    "item": ("gtin", "vendor_part_number", "buyer_part_number", "manufacturer_part_number"),
}
KNOWN_COLUMNS = {"vendor": VENDOR_COLUMNS, "item": ITEM_COLUMNS}


@dataclass
class CsvRow:
    """Outcome of one data row: a document, or the errors that prevented it."""

    row_number: int
    document: object = None
    errors: list = field(default_factory=list)
    issues: list = field(default_factory=list)


def _text(payload, max_bytes):
    if isinstance(payload, bytes):
        if len(payload) > max_bytes:
            raise ParseError("csv_too_large", f"payload exceeds {max_bytes} bytes")
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(
                "csv_encoding", f"invalid UTF-8: {exc.reason}", f"byte {exc.start}"
            ) from None
    return payload.lstrip(_UTF8_BOM)


def _dialect(text):
    """Comma, semicolon (European Excel) or tab, chosen from the header line."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    return delimiter if counts[delimiter] else ","


def _column(name):
    return "_".join(name.strip().lower().replace("-", " ").split())


def _reader(text):
    return csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text), strict=True)


def _header(rows, doc_type):
    if doc_type not in KNOWN_COLUMNS:
        raise ParseError("csv_doc_type", f"no CSV layout for doc_type {doc_type!r}")
    try:
        raw = next(rows)
    except StopIteration:
        raise ParseError("csv_header", "empty CSV: no header row", "row 1") from None
    except csv.Error as exc:
        raise ParseError("csv_syntax", str(exc), "row 1") from None
    columns = [_column(c) for c in raw]
    issues = []
    seen = set()
    for index, column in enumerate(columns):
        if column in seen:
            raise ParseError(
                "csv_header", f"duplicate column {column!r}", f"row 1 column {index + 1}"
            )
        seen.add(column)
        if column and column not in KNOWN_COLUMNS[doc_type]:
            issues.append(
                DataQualityIssue("csv_unknown_column", f"column {column!r} ignored", "row 1")
            )
    missing = [c for c in REQUIRED_COLUMNS[doc_type] if c not in seen]
    if missing:
        raise ParseError("csv_header", f"missing required column(s): {', '.join(missing)}", "row 1")
    if not seen.intersection(KEY_COLUMNS[doc_type]):
        raise ParseError(
            "csv_header",
            f"needs at least one key column: {', '.join(KEY_COLUMNS[doc_type])}",
            "row 1",
        )
    return columns, issues


def _bool(value, column, errors):
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return None  # empty -> the field default
    errors.append({"path": column, "code": "type", "message": f"{value!r} is not yes/no"})
    return None


def _vendor_dict(values, errors):
    data = {
        "identifiers": [
            {"scheme": scheme, "value": values[column]}
            for column, scheme in VENDOR_ID_COLUMNS.items()
            if values.get(column)
        ],
    }
    for column in ("name", "legal_name", "email", "phone", "currency", "payment_terms", "category"):
        data[column] = values.get(column)
    address = {
        k: values.get(k) for k in ("street", "street2", "city", "state", "zip", "country_code")
    }
    if any(address.values()):
        data["address"] = address
    bank = {k: values.get(k) for k in ("iban", "bic", "account_number", "routing_number")}
    if any(bank.values()):
        bank["holder_name"] = values.get("holder_name")
        data["bank_accounts"] = [bank]
    if "active" in values:
        active = _bool(values["active"], "active", errors)
        if values["active"].strip():
            data["active"] = bool(active)
    return data


def _item_dict(values, errors):
    data = {
        k: values.get(k)
        for k in (
            "gtin",
            "vendor_part_number",
            "buyer_part_number",
            "manufacturer_part_number",
            "hibc",
            "ndc",
            "description",
            "uom",
            "pack_factor",
            "base_uom",
            "category",
            "unspsc",
            "manufacturer",
        )
    }
    if data["uom"]:
        data["uom"] = data["uom"].strip().upper()
    for flag in ("critical", "lot_tracked", "serial_tracked", "active"):
        if values.get(flag, "").strip():
            data[flag] = bool(_bool(values[flag], flag, errors))
    identifiers = [
        {"scheme": scheme, "value": values[column]}
        for column, scheme in (
            ("vendor_gln", SCHEME_GLN),
            ("vendor_duns", SCHEME_DUNS),
            ("vendor_source_id", SCHEME_SOURCE),
        )
        if values.get(column)
    ]
    if identifiers or values.get("vendor_name"):
        data["vendor"] = {"identifiers": identifiers, "name": values.get("vendor_name")}
    return data


def iter_csv(payload, doc_type, *, max_bytes=MAX_BYTES, max_rows=MAX_ROWS):
    """Yield a :class:`CsvRow` per data row (blank rows skipped).

    Header problems raise :class:`ParseError` immediately; row problems are reported on
    the row, so a caller can apply the good rows and report the bad ones.
    """
    text = _text(payload, max_bytes)
    rows = _reader(text)
    columns, header_issues = _header(rows, doc_type)
    builder = _vendor_dict if doc_type == "vendor" else _item_dict
    count = 0
    row_number = 1
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError("csv_syntax", str(exc), f"row {rows.line_num}") from None
        row_number += 1
        if not any(cell.strip() for cell in raw):
            continue
        count += 1
        if count > max_rows:
            raise ParseError("csv_too_many_rows", f"more than {max_rows} rows")
        result = CsvRow(row_number=row_number, issues=list(header_issues))
        if len(raw) != len(columns):
            result.errors.append(
                {
                    "path": "",
                    "code": "format",
                    "message": f"{len(raw)} cells, the header has {len(columns)}",
                }
            )
            yield result
            continue
        values = {c: v.strip() for c, v in zip(columns, raw, strict=True) if c}
        data = builder(values, result.errors)
        try:
            document = from_dict(doc_type, data)
        except CanonicalValidationError as exc:
            result.errors.extend(exc.errors)
        else:
            if not result.errors:
                result.document = document
                result.issues += _quality(document, doc_type, row_number)
        yield result


def _quality(document, doc_type, row_number):
    issues = []
    where = f"row {row_number}"
    if doc_type == "item" and document.gtin and not gs1_check_digit_ok(document.gtin):
        issues.append(
            DataQualityIssue(
                "gtin_check_digit", f"GTIN {document.gtin} has a wrong check digit", where
            )
        )
    if doc_type == "vendor":
        gln = document.party.identifier(SCHEME_GLN)
        if gln and not gs1_check_digit_ok(gln):
            issues.append(
                DataQualityIssue("gln_check_digit", f"GLN {gln} has a wrong check digit", where)
            )
    return issues


def parse_csv(payload, doc_type, **limits):
    """Parse a whole CSV batch into ``[(document, issues)]``.

    :raises ParseError: ``csv_header``/``csv_syntax``/``csv_encoding``..., or ``csv_rows``
        when any row is invalid; ``details`` then lists every row error as
        ``{"row": n, "path": ..., "code": ..., "message": ...}``.
    """
    results = []
    details = []
    for row in iter_csv(payload, doc_type, **limits):
        if row.errors:
            details += [{"row": row.row_number, **err} for err in row.errors]
        else:
            results.append((row.document, row.issues))
    if details:
        rows = sorted({d["row"] for d in details})
        raise ParseError(
            "csv_rows",
            f"{len(rows)} invalid row(s): {', '.join(map(str, rows[:20]))}",
            f"row {rows[0]}",
            details=details,
        )
    if not results:
        raise ParseError("csv_empty", "no data row")
    return results


class _Lines:
    """The physical lines of a CSV text, handed to :mod:`csv` one at a time and kept until
    taken, so that each record's original text (quoted newlines included) can be cut out."""

    def __init__(self, text):
        self._lines = iter(io.StringIO(text, newline=""))
        self._taken = []

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self):
        """The text read since the last call: the record :mod:`csv` just returned."""
        text, self._taken = "".join(self._taken), []
        return text


def split_csv(payload, doc_type=None, *, max_bytes=MAX_BYTES, max_rows=MAX_ROWS):
    """One CSV (header + one row) per non-blank data row.

    Each part is the original text of the header line followed by the original text of
    the row (quoted cells with delimiters or newlines included), nothing re-written; the
    header is checked when ``doc_type`` is given.
    """
    text = _text(payload, max_bytes)
    if doc_type:
        _header(_reader(text), doc_type)
    lines = _Lines(text)
    rows = csv.reader(lines, delimiter=_dialect(text), strict=True)
    try:
        next(rows)
    except StopIteration:
        raise ParseError("csv_header", "empty CSV: no header row", "row 1") from None
    except csv.Error as exc:
        raise ParseError("csv_syntax", str(exc), "row 1") from None
    header = lines.take()
    parts = []
    while True:
        try:
            raw = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ParseError("csv_syntax", str(exc), f"row {rows.line_num}") from None
        row = lines.take()
        if not any(cell.strip() for cell in raw):
            continue
        if len(parts) >= max_rows:
            raise ParseError("csv_too_many_rows", f"more than {max_rows} rows")
        parts.append((header + row).encode("utf-8"))
    if not parts:
        raise ParseError("csv_empty", "no data row")
    return parts
