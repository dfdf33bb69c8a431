# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A stored canonical document (``to_dict()`` output) laid out for people to read.

``document_sections(data)`` turns any document type into the same four parts a clerk
reads on paper: the header (number, dates, references), the parties (vendor, buyer,
ship-to... with their identifiers and address), the tables (lines, allowances and
charges, tax subtotals) and the totals.  Plain values only: the caller renders them
(QWeb escapes them).  No Odoo here.
"""

from dataclasses import dataclass
from dataclasses import field

# Not shown: the envelope, and what the caller shows elsewhere.
HIDDEN_KEYS = frozenset({"doc_type", "schema_version"})
# Top-level amounts shown as totals, in reading order.
TOTAL_KEYS = (
    "net_total",
    "allowance_total",
    "charge_total",
    "tax_exclusive_total",
    "tax_total",
    "rounding_amount",
    "gross_total",
    "prepaid_amount",
    "payable_amount",
    "total_amount",
    "amount",
)
# Labels that read better than the key made readable.
LABELS = {
    "gtin": "GTIN",
    "hibc": "HIBC",
    "ndc": "NDC",
    "uom": "Unit",
    "po_numbers": "PO numbers",
    "po_number": "PO number",
    "po_line_ref": "PO line",
    "asn_number": "Ship notice",
    "iban": "IBAN",
    "bic": "BIC",
    "country_code": "Country",
    "zip": "ZIP",
    "tax_exclusive_total": "Total without tax",
    "gross_total": "Total with tax",
    "payable_amount": "Amount due",
    "vendor_part_number": "Vendor part",
    "buyer_part_number": "Buyer part",
    "manufacturer_part_number": "Manufacturer part",
    "line_number": "Line",
    "move_type": "Kind",
    "is_charge": "Charge",
}
# Keys of a line's nested item (``ItemRef``) shown in the line's own columns.
ITEM_COLUMNS = (
    "description",
    "gtin",
    "vendor_part_number",
    "buyer_part_number",
    "manufacturer_part_number",
    "hibc",
    "ndc",
)


def label(key):
    """``gross_total`` -> ``Total with tax``; ``issue_date`` -> ``Issue date``."""
    if key in LABELS:
        return LABELS[key]
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def text(value):
    """A value as a person reads it (lists joined, booleans as Yes/No)."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(text(v) for v in value if not isinstance(v, dict | list))
    return str(value)


@dataclass
class Party:
    title: str
    rows: list = field(default_factory=list)


@dataclass
class Table:
    title: str
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)


@dataclass
class Sections:
    title: str
    header: list = field(default_factory=list)
    parties: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    totals: list = field(default_factory=list)


def _party_rows(data):
    rows = []
    for key, value in data.items():
        if key == "identifiers":
            for ident in value or []:
                if isinstance(ident, dict) and ident.get("value"):
                    rows.append((ident.get("scheme") or "ID", ident["value"]))
        elif key == "address" and isinstance(value, dict):
            parts = [
                value.get(k)
                for k in ("street", "street2", "zip", "city", "state", "country_code")
                if value.get(k)
            ]
            if parts:
                rows.append(("Address", ", ".join(str(p) for p in parts)))
        elif isinstance(value, dict):
            rows.extend((f"{label(key)}: {k}", v) for k, v in _party_rows(value))
        elif isinstance(value, list):
            if any(isinstance(v, dict) for v in value):
                for index, item in enumerate(value, 1):
                    if isinstance(item, dict):
                        rows.extend((f"{label(key)} {index}: {k}", v) for k, v in _party_rows(item))
            elif value:
                rows.append((label(key), text(value)))
        elif text(value):
            rows.append((label(key), text(value)))
    return rows


def _flatten_row(row):
    """A line's cells by column key: nested item fields first, then its own scalars;
    nested lists (taxes, charges) summarised in one cell."""
    cells = {}
    item = row.get("item")
    if isinstance(item, dict):
        for key in ITEM_COLUMNS:
            if item.get(key):
                cells[key] = text(item[key])
    for key, value in row.items():
        if key == "item" or key in HIDDEN_KEYS:
            continue
        if isinstance(value, dict):
            summary = "; ".join(f"{label(k)} {text(v)}" for k, v in value.items() if text(v))
            if summary:
                cells[key] = summary
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            parts = []
            for entry in value:
                if isinstance(entry, dict):
                    parts.append(
                        " ".join(
                            text(v)
                            for k, v in entry.items()
                            if text(v) and not isinstance(v, dict | list)
                        )
                    )
            if parts:
                cells[key] = "; ".join(parts)
        elif text(value):
            cells[key] = text(value)
    return cells


def _table(title, rows):
    flat = [_flatten_row(row) for row in rows if isinstance(row, dict)]
    columns = []
    for cells in flat:
        for key in cells:
            if key not in columns:
                columns.append(key)
    return Table(
        title=title,
        columns=[label(key) for key in columns],
        rows=[[cells.get(key, "") for key in columns] for cells in flat],
    )


def document_sections(data, title=None):
    """The parts of a stored canonical document (see the module docstring)."""
    data = data or {}
    doc_type = data.get("doc_type") or ""
    sections = Sections(
        title=title or label(doc_type) or "Document",
    )
    totals = {}
    for key, value in data.items():
        if key in HIDDEN_KEYS:
            continue
        if key in TOTAL_KEYS and not isinstance(value, dict | list):
            if text(value):
                totals[key] = text(value)
        elif isinstance(value, dict):
            rows = _party_rows(value)
            if rows:
                sections.parties.append(Party(title=label(key), rows=rows))
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            table = _table(label(key), value)
            if table.rows:
                sections.tables.append(table)
        elif text(value):
            sections.header.append((label(key), text(value)))
    sections.totals = [(label(key), totals[key]) for key in TOTAL_KEYS if key in totals]
    return sections
