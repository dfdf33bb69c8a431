# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Format registry: raw payload + content type -> canonical documents.

Two entry points, both pure Python:

* :func:`split` cuts a batch payload (JSON array, NDJSON, X12 interchange with several
  transaction sets, CSV with many rows) into one payload per document, so that each is
  stored, de-duplicated, retried and replayed on its own;
* :func:`parse` turns one payload into :class:`ParsedDocument` objects.

XML is routed to the UBL or cXML reader by sniffing the root element (``formats.ubl`` and
``formats.cxml`` are imported lazily: they need lxml and may be absent in some setups).
"""

import re
from dataclasses import dataclass, field, replace

from ..canonical import CanonicalValidationError, validate
from .csv_master import parse_csv, split_csv
from .errors import DataQualityIssue, ParseError
from . import safe_xml
from .json_doc import parse_json, split_json
from .x12.envelope import split_interchange
from .x12.mappers import parse_x12

__all__ = [
    "CONTENT_TYPES",
    "DataQualityIssue",
    "ParseError",
    "ParsedDocument",
    "normalize_content_type",
    "parse",
    "sniff_xml",
    "split",
]


@dataclass
class ParsedDocument:
    """A canonical document with the data-quality findings made while reading it."""

    document: object
    issues: list = field(default_factory=list)
    source_format: str = ""


CONTENT_TYPES = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/edi-x12": "x12",
    "application/edi_x12": "x12",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/xml": "xml",
    "text/xml": "xml",
}

_UBL_NS = re.compile(r"^urn:oasis:names:specification:ubl:schema:xsd:[A-Za-z]+-2$")
# The first element start tag after the prolog, comments, PIs and DOCTYPE.
_ROOT_TAG = re.compile(rb"<(?![?!])([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>", re.S)


def normalize_content_type(content_type):
    """``"Application/JSON; charset=utf-8"`` -> ``"application/json"``."""
    return (content_type or "").split(";")[0].strip().lower()


def _format_of(content_type):
    fmt = CONTENT_TYPES.get(normalize_content_type(content_type))
    if fmt is None:
        raise ParseError(
            "unsupported_content_type",
            f"content type {content_type!r} is not supported "
            f"(use one of {', '.join(sorted(CONTENT_TYPES))})",
        )
    return fmt


def sniff_xml(payload):
    """Return ``"ubl"`` or ``"cxml"`` from the root element of an XML payload.

    Only the first start tag is looked at (a regex on at most 64 KiB, no XML parser), so
    this cannot be abused for entity expansion; the chosen reader parses safely.
    """
    head = payload[:65536] if isinstance(payload, bytes) else payload[:65536].encode()
    # Skip comments and DOCTYPE, whose content may contain '<'.
    head = re.sub(rb"<!--.*?-->", b"", head, flags=re.S)
    head = re.sub(rb"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", b"", head, flags=re.S)
    match = _ROOT_TAG.search(head)
    if not match:
        raise ParseError("xml_root", "no root element found")
    prefix = (match.group(1) or b"").rstrip(b":").decode("ascii", "replace")
    local = match.group(2).decode("ascii", "replace")
    attrs = match.group(3).decode("utf-8", "replace")
    ns_attr = f"xmlns:{prefix}" if prefix else "xmlns"
    ns_match = re.search(rf'{re.escape(ns_attr)}\s*=\s*["\']([^"\']*)["\']', attrs)
    namespace = ns_match.group(1) if ns_match else ""
    if _UBL_NS.match(namespace):
        return "ubl"
    if local == "cXML":
        return "cxml"
    raise ParseError(
        "xml_unsupported",
        f"root element {{{namespace}}}{local} is neither UBL 2 nor cXML",
    )


def _xml_reader(payload):
    kind = sniff_xml(payload)
    # Lazy: the XML readers import ParsedDocument from this module (and lxml).
    if kind == "ubl":
        from . import ubl as reader
    else:
        from . import cxml as reader
    return kind, reader


def _check(parsed):
    """Validate parser output against the canonical rules; ParseError when invalid.

    Parsers build dataclasses directly; this is the single point where their output is
    held to the same rules as canonical JSON input.
    """
    errors = []
    for index, item in enumerate(parsed):
        for err in validate(item.document):
            prefix = f"[{index}]." if len(parsed) > 1 else ""
            errors.append({**err, "path": prefix + err["path"]})
    if errors:
        first = errors[0]
        raise ParseError(
            "canonical_validation",
            f"{first['path']}: {first['message']}",
            first["path"],
            details=errors,
        )
    return parsed


def _document_issues(document):
    """Findings every format shares, made on the canonical document itself."""
    issues = []
    due, issued = getattr(document, "due_date", None), getattr(document, "issue_date", None)
    if due and issued and due < issued:
        issues.append(
            DataQualityIssue(
                "due_before_issue", f"due date {due} is before the issue date {issued}", "due_date"
            )
        )
    return issues


def _with_document_issues(parsed):
    return [
        replace(item, issues=[*item.issues, *_document_issues(item.document)]) for item in parsed
    ]


def parse(doc_type, content_type, payload):
    """Parse ``payload`` into ``[ParsedDocument]``.

    :param doc_type: the document type the endpoint expects (``invoice``...); documents
        of another type are refused.
    :param content_type: ``application/json``, ``application/x-ndjson``,
        ``application/edi-x12``, ``text/csv`` or ``application/xml`` (parameters ignored).
    :param payload: bytes.
    :raises ParseError: unreadable payload, unsupported content, or a document that fails
        canonical validation (code ``canonical_validation``, ``details`` lists all errors).
    """
    fmt = _format_of(content_type)
    if fmt in ("json", "ndjson"):
        try:
            documents = parse_json(payload, doc_type, ndjson=fmt == "ndjson")
        except CanonicalValidationError as exc:
            first = exc.errors[0]
            raise ParseError(
                "canonical_validation",
                f"{first['path']}: {first['message']}",
                first["path"],
                details=exc.errors,
            ) from None
        return _with_document_issues(
            [ParsedDocument(document=d, issues=[], source_format=fmt) for d in documents]
        )
    if fmt == "x12":
        results = parse_x12(payload, doc_type)
        return _with_document_issues(
            _check([ParsedDocument(document=d, issues=i, source_format="x12") for d, i in results])
        )
    if fmt == "csv":
        results = parse_csv(payload, doc_type)
        return [ParsedDocument(document=d, issues=i, source_format="csv") for d, i in results]
    kind, reader = _xml_reader(payload)
    parsed = [
        item if item.source_format else replace(item, source_format=kind)
        for item in reader.parse(payload)
    ]
    for item in parsed:
        if item.document.doc_type != doc_type:
            raise ParseError(
                "unexpected_doc_type",
                f"the XML holds a {item.document.doc_type}, not a {doc_type}",
            )
    return _with_document_issues(_check(parsed))


def split(doc_type, content_type, payload):
    """Cut a batch payload into one payload (bytes) per document.

    JSON arrays and NDJSON give each element's original text, an X12 interchange one
    interchange per transaction set (original ISA/GS kept), a CSV one CSV per data row
    (header repeated).  XML documents are single documents and come back unchanged.

    :raises ParseError: when the batch structure itself is unreadable.
    """
    fmt = _format_of(content_type)
    if fmt in ("json", "ndjson"):
        return split_json(payload, ndjson=fmt == "ndjson")
    if fmt == "x12":
        return [part.payload for part in split_interchange(payload)]
    if fmt == "csv":
        return split_csv(payload, doc_type)
    kind = sniff_xml(payload)  # refuse what no reader would accept, at intake time
    # entity declarations and foreign DOCTYPEs (XXE, expansion bombs): refused at intake
    safe_xml.prescan(payload, ("cXML",) if kind == "cxml" else ())
    return [payload]
