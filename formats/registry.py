# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Format registry: content type -> reader; raw payload -> documents.

The one place that knows which formats exist and which reader handles each:

* :data:`CONTENT_TYPES` maps every accepted media type (aliases included) to a format key,
  and :data:`STORED_CONTENT_TYPES` gives the one content type a stored document of that
  format is kept under (what :func:`parse` is later called with);
* :func:`split` cuts a batch payload (JSON array, NDJSON, X12 interchange with several
  transaction sets, CSV with many rows) into the exact text of each document, so that each
  is stored, de-duplicated, retried and replayed on its own;
* :func:`parse` turns one payload into :class:`ParsedDocument` objects;
* :func:`screen` names the documents of a batch the endpoint will never process (an X12
  transaction set of another type), so they are refused at intake and not stored;
* :func:`acknowledgment` is the format's own answer to an interchange (X12: the TA1 for
  the interchange envelope, the 997/999 for its sets), if the format has one.

XML is routed to the UBL, cXML or CII (Factur-X / ZUGFeRD / XRechnung CII) reader by
sniffing the root element; a PDF invoice (``application/pdf``) is read through the invoice
XML it embeds (``factur-x.xml``, ``zugferd-invoice.xml``, ``xrechnung.xml``).  A UTF-8 byte order
mark in front of any payload is tolerated by every reader (RFC 8259 and the XML spec allow
it; Windows tools write one).  The readers import nothing from here: they return
:class:`ParsedDocument` (``formats.parsed``) and raise ``formats.errors``.
"""

import re
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import is_dataclass
from dataclasses import replace
from decimal import Decimal

from ..canonical import CanonicalValidationError
from ..canonical import validate
from . import cii
from . import cxml
from . import safe_xml
from . import ubl
from .csv_master import parse_csv
from .csv_master import split_csv
from .errors import DataQualityIssue
from .errors import ParseError
from .json_doc import parse_json
from .json_doc import split_json
from .parsed import ParsedDocument
from .pdf_invoice import embedded_invoice_xml
from .x12 import catalog
from .x12.ack import functional_ack
from .x12.ack import interchange_ack
from .x12.envelope import SUPPORTED_SETS
from .x12.envelope import read_interchange
from .x12.envelope import split_interchange
from .x12.mappers import parse_x12

# Every media type a client may send, with the format it names.
CONTENT_TYPES = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/edi-x12": "x12",
    "application/edi_x12": "x12",
    "application/edi": "x12",
    "application/x12": "x12",
    "text/x12": "x12",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/pdf": "pdf",
}
# The content type a stored document of each format is kept under: one NDJSON line is
# one JSON document.
STORED_CONTENT_TYPES = {
    "json": "application/json",
    "ndjson": "application/json",
    "x12": "application/edi-x12",
    "xml": "application/xml",
    "csv": "text/csv",
    "pdf": "application/pdf",
}

_UBL_NS = re.compile(r"^urn:oasis:names:specification:ubl:schema:xsd:[A-Za-z]+-2$")
# The first element start tag after the prolog, comments, PIs and DOCTYPE.
_ROOT_TAG = re.compile(rb"<(?![?!])([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>", re.S)


def normalize_content_type(content_type):
    """``"Application/JSON; charset=utf-8"`` -> ``"application/json"``."""
    return (content_type or "").split(";")[0].strip().lower()


def format_of(content_type):
    """The format key (``json``, ``ndjson``, ``x12``, ``xml``, ``csv``) of a content type.

    :raises ParseError: ``unsupported_content_type``.
    """
    fmt = CONTENT_TYPES.get(normalize_content_type(content_type))
    if fmt is None:
        raise ParseError(
            "unsupported_content_type",
            f"content type {content_type!r} is not supported "
            f"(use one of {', '.join(sorted(CONTENT_TYPES))})",
        )
    return fmt


def _xml_root(payload):
    """``(namespace, local name)`` of an XML payload's root element.

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
    return (ns_match.group(1) if ns_match else ""), local


def sniff_xml(payload):
    """Return ``"ubl"``, ``"cxml"`` or ``"cii"`` from the root element of an XML payload
    (see :func:`_xml_root`: no XML parser runs)."""
    namespace, local = _xml_root(payload)
    if _UBL_NS.match(namespace):
        return "ubl"
    if local == "cXML":
        return "cxml"
    if cii.is_cii(namespace, local):
        return "cii"
    raise ParseError(
        "xml_unsupported",
        f"root element {{{namespace}}}{local} is neither UBL 2, cXML nor a CII "
        "CrossIndustryInvoice",
    )


# ---------------------------------------------------------------------------------------
# Findings every format shares, made on the canonical document itself
# ---------------------------------------------------------------------------------------


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


def _decimals(value, path=""):
    """``(path, Decimal)`` for every decimal number in a canonical document."""
    if isinstance(value, Decimal):
        yield path, value
    elif is_dataclass(value):
        for f in fields(value):
            yield from _decimals(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _decimals(item, f"{path}[{index}]")


def _float_precision_issues(document):
    """A number with more significant digits than a binary float holds (about 15 to 17).

    The canonical document keeps it exactly; Odoo's Float fields (unit prices,
    quantities) are IEEE doubles, so applying it keeps the nearest float. That rounding is
    reported here, on the message, instead of happening unseen.
    """
    issues = []
    for path, value in _decimals(document):
        kept = Decimal(repr(float(value)))
        if kept != value:
            issues.append(
                DataQualityIssue(
                    "float_precision",
                    f"{value} has more significant digits than Odoo's float fields hold: "
                    f"applied as {kept}",
                    path,
                )
            )
    return issues


def _document_issues(document):
    issues = []
    due, issued = getattr(document, "due_date", None), getattr(document, "issue_date", None)
    if due and issued and due < issued:
        issues.append(
            DataQualityIssue(
                "due_before_issue", f"due date {due} is before the issue date {issued}", "due_date"
            )
        )
    return issues + _float_precision_issues(document)


def _with_document_issues(parsed):
    return [
        replace(item, issues=[*item.issues, *_document_issues(item.document)]) for item in parsed
    ]


# ---------------------------------------------------------------------------------------
# The readers
# ---------------------------------------------------------------------------------------


def _parse_json(doc_type, payload, fmt):
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
    return [ParsedDocument(document=d, issues=[], source_format=fmt) for d in documents]


def _parse_x12(doc_type, payload, _fmt):
    results = parse_x12(payload, doc_type)
    return _check([ParsedDocument(document=d, issues=i, source_format="x12") for d, i in results])


def _parse_csv(doc_type, payload, _fmt):
    return [
        ParsedDocument(document=d, issues=i, source_format="csv")
        for d, i in parse_csv(payload, doc_type)
    ]


def _parse_xml(doc_type, payload, _fmt):
    kind = sniff_xml(payload)
    reader = {"ubl": ubl, "cxml": cxml, "cii": cii}[kind]
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
    return _check(parsed)


def _split_json(_doc_type, payload, fmt):
    return split_json(payload, ndjson=fmt == "ndjson")


def _split_x12(doc_type, payload, _fmt):
    parts = split_interchange(payload)
    # One transaction set: the interchange as received is that document.
    documents = [payload] if len(parts) == 1 else [part.payload for part in parts]
    if doc_type != "contract_price":
        return documents
    # A price catalog (832/845) holds many prices: one document per price.
    return [
        price
        for part, document in zip(parts, documents, strict=True)
        for price in (
            catalog.split_prices(document) if part.set_id in catalog.CATALOG_SETS else [document]
        )
    ]


def _split_csv(doc_type, payload, _fmt):
    return split_csv(payload, doc_type)


def _split_xml(doc_type, payload, _fmt):
    kind = sniff_xml(payload)  # refuse what no reader would accept, at intake time
    # entity declarations and foreign DOCTYPEs (XXE, expansion bombs): refused at intake
    safe_xml.prescan(payload, ("cXML",) if kind == "cxml" else ())
    # and a document this endpoint never processes: refused now, not dead in a worker
    if kind == "cxml":
        cxml.screen(payload, doc_type)
    elif kind == "cii":
        if doc_type != "invoice":
            raise ParseError(
                "unexpected_doc_type",
                f"a CII CrossIndustryInvoice is an invoice, not processed by this endpoint "
                f"({doc_type})",
            )
    else:
        _screen_ubl(doc_type, payload)
    return [payload]


def _parse_pdf(doc_type, payload, _fmt):
    name, xml = embedded_invoice_xml(payload)
    return [
        replace(
            item,
            source_format=f"{item.source_format}-pdf",
            issues=[
                DataQualityIssue(
                    "pdf_embedded_invoice", f"read from {name} embedded in the PDF", name
                ),
                *item.issues,
            ],
        )
        for item in _parse_xml(doc_type, xml, "xml")
    ]


def _split_pdf(doc_type, payload, _fmt):
    # the embedded XML is screened like a posted one (unsafe XML, another document type)
    _name, xml = embedded_invoice_xml(payload)
    _split_xml(doc_type, xml, "xml")
    return [payload]


def _screen_ubl(doc_type, payload):
    _namespace, local = _xml_root(payload)
    kind = ubl.ROOT_DOC_TYPES.get(local)
    if kind is None:
        raise ParseError(
            "ubl_unsupported",
            f"UBL {local} is not a supported document; supported: "
            f"{', '.join(sorted(ubl.ROOT_DOC_TYPES))}",
        )
    if kind != doc_type:
        expected = sorted(root for root, dt in ubl.ROOT_DOC_TYPES.items() if dt == doc_type)
        raise ParseError(
            "unexpected_doc_type",
            f"UBL {local} is a {kind}, not processed by this endpoint; it takes "
            f"{', '.join(expected) or 'no UBL document'}",
        )


def x12_sets_for(doc_type):
    """The X12 transaction set ids (ST01) an endpoint for ``doc_type`` processes."""
    return frozenset(set_id for set_id, kind in SUPPORTED_SETS.items() if kind == doc_type)


def _screen_x12(doc_type, part, _fmt):
    """A field error when the one-set interchange ``part`` is not a set for ``doc_type``."""
    interchange = read_interchange(part, strict=False)
    errors = []
    for tx in interchange.transactions:
        if tx.set_id in x12_sets_for(doc_type) and tx.set_id in catalog.CATALOG_SETS:
            # a price that can never be applied (expired, ends before it starts, no
            # purchase price...) is refused now, with its reason, not stored to die
            errors += [
                {
                    "path": exc.path or f"ST {tx.control_number}",
                    "code": exc.code,
                    "message": exc.message,
                }
                for exc in catalog.refusals(tx)
            ]
        elif tx.set_id not in x12_sets_for(doc_type):
            what = f"an X12 {SUPPORTED_SETS[tx.set_id]}" if tx.set_id in SUPPORTED_SETS else ""
            errors.append(
                {
                    "path": f"ST {tx.control_number}",
                    "code": "x12_set_not_supported",
                    "message": f"transaction set {tx.set_id} is not processed here"
                    + (f" (it is {what})" if what else "")
                    + f"; this endpoint takes {', '.join(sorted(x12_sets_for(doc_type)))}",
                }
            )
    return errors


def _x12_acknowledgment(doc_type, payload, accepted):
    """``{"interchange_ack": TA1 or None, "functional_ack": 997/999 or None}``.

    An interchange whose envelope is rejected (TA1 ``R``) gets no 997/999: its groups are
    not read.  Nothing at all when even the ISA cannot be read.
    """
    try:
        interchange = read_interchange(payload, strict=False)
    except ParseError:
        return {"interchange_ack": None, "functional_ack": None}
    supported = x12_sets_for(doc_type) if doc_type else None
    ta1 = interchange_ack(interchange)
    if doc_type == "functional_ack":
        # an acknowledgment is never acknowledged (X12): a TA1 at most
        return {"interchange_ack": ta1, "functional_ack": None}
    if interchange.ta1_code:
        return {"interchange_ack": ta1, "functional_ack": None}
    return {
        "interchange_ack": ta1,
        "functional_ack": functional_ack(
            interchange,
            accepted,
            _catalog_set_errors(interchange, supported),
            supported=supported,
        ),
    }


_SEGMENT_PATH = re.compile(r"^segment (\d+) \(([A-Z0-9]+)\)$")


def _catalog_set_errors(interchange, supported):
    """The 997/999 errors of the price catalogs (832/845) none of whose prices will be
    applied: such a set is rejected (AK5/IK5 ``R*5``, the first refused segment in
    AK3/IK3); a set with at least one price taken is accepted, its refused prices are
    answered one by one in the HTTP response."""
    errors = []
    for tx in interchange.transactions:
        if tx.errors or tx.set_id not in catalog.CATALOG_SETS:
            continue
        if supported is not None and tx.set_id not in supported:
            continue
        try:
            refused = catalog.refusals(tx)
            total = len(catalog.price_units(tx))
        except ParseError as exc:
            refused, total = [exc], 1
        if not refused or len(refused) < total:
            continue
        error = {"transaction": tx.control_number}
        match = _SEGMENT_PATH.match(refused[0].path or "")
        if match and tx.segments:
            error.update(
                segment_tag=match.group(2),
                segment_position=int(match.group(1)) - tx.segments[0].position + 1,
            )
        errors.append(error)
    return errors


@dataclass(frozen=True)
class Reader:
    """How one format is split and parsed (``acknowledge`` when it answers interchanges,
    ``screen`` when a split document can be refused by its type before it is stored)."""

    parse: object
    split: object
    acknowledge: object = None
    screen: object = None


READERS = {
    "json": Reader(_parse_json, _split_json),
    "ndjson": Reader(_parse_json, _split_json),
    "x12": Reader(_parse_x12, _split_x12, _x12_acknowledgment, _screen_x12),
    "csv": Reader(_parse_csv, _split_csv),
    "xml": Reader(_parse_xml, _split_xml),
    "pdf": Reader(_parse_pdf, _split_pdf),
}


def parse(doc_type, content_type, payload):
    """Parse ``payload`` into ``[ParsedDocument]``.

    :param doc_type: the document type the endpoint expects (``invoice``...); documents
        of another type are refused.
    :param content_type: any media type of :data:`CONTENT_TYPES` (parameters ignored).
    :param payload: bytes.
    :raises ParseError: unreadable payload, unsupported content, or a document that fails
        canonical validation (code ``canonical_validation``, ``details`` lists all errors).
    """
    fmt = format_of(content_type)
    return _with_document_issues(READERS[fmt].parse(doc_type, payload, fmt))


def split(doc_type, content_type, payload):
    """Cut a batch payload into the exact bytes of each document.

    Nothing is re-serialised: JSON arrays and NDJSON give each element's original text, a
    CSV the original header line and data row, an X12 interchange one interchange per
    transaction set (its original ISA, GS and segments, with a GE/IEA counting one set; an
    interchange of one set comes back as received).  XML documents are single documents
    and come back unchanged.

    :raises ParseError: when the batch structure itself is unreadable.
    """
    fmt = format_of(content_type)
    return READERS[fmt].split(doc_type, payload, fmt)


def acknowledges(fmt):
    """Whether format ``fmt`` answers an interchange with an acknowledgment (X12)."""
    return READERS[fmt].acknowledge is not None


def screen(doc_type, fmt, part):
    """Field errors (``[{"path", "code", "message"}]``) of one split document the endpoint
    for ``doc_type`` will never process (empty: go ahead), without parsing it."""
    check = READERS[fmt].screen
    return check(doc_type, part, fmt) if check else []


def acknowledgment(fmt, payload, accepted, doc_type=None):
    """The format's answers to an interchange as text, by kind (X12: ``interchange_ack``,
    the TA1, and ``functional_ack``, the 997/999); ``{}`` when the format has none, a kind
    is None when not even the envelope reads or it is not due.

    :param accepted: the verdict for the sets without envelope errors (``False`` rejects
        them all, e.g. the request was refused).
    :param doc_type: the endpoint's document type: sets of another type are rejected as not
        supported (AK502/IK502 ``1``) whatever ``accepted`` says.
    """
    acknowledge = READERS[fmt].acknowledge
    if not acknowledge:
        return {}
    answers = acknowledge(doc_type, payload, accepted)
    return {
        kind: ack.decode("latin-1") if ack is not None else None for kind, ack in answers.items()
    }
