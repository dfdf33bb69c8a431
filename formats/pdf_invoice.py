# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The invoice XML embedded in a PDF/A-3 invoice (Factur-X, ZUGFeRD, XRechnung).

A hybrid e-invoice is a PDF/A-3 whose embedded file is the structured invoice: Factur-X
and ZUGFeRD 2.x name it ``factur-x.xml`` or ``zugferd-invoice.xml`` (ZUGFeRD 1.0:
``ZUGFeRD-invoice.xml``), XRechnung ``xrechnung.xml``.  :func:`embedded_invoice_xml`
finds it in the document's ``/EmbeddedFiles`` name tree (or, failing that, in the
catalog's PDF/A-3 ``/AF`` associated files) and returns its bytes; the XML is then read
like any other (safely, by :mod:`.safe_xml`).  The PDF itself is what the supplier sent
and is kept as the bill's original.

PDF objects are read with the pypdf (or PyPDF2) library Odoo depends on; a PDF it cannot
read, or one without a known invoice file, is a :class:`~.errors.ParseError`.
"""

import io
import logging

from .errors import ParseError

try:  # pragma: no cover - the library Odoo 19 installs depends on the Python version
    import pypdf as _pdf
except ImportError:  # pragma: no cover
    import PyPDF2 as _pdf

_logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
# Lower-cased names of the embedded invoice files, in order of preference.
INVOICE_FILE_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
MAX_NAME_TREE_DEPTH = 8
MAX_EMBEDDED_BYTES = 10 * 1024 * 1024


def is_pdf(payload):
    """Whether ``payload`` starts like a PDF (within its first 1024 bytes, as readers allow)."""
    return PDF_MAGIC in bytes(payload[:1024])


def _resolve(value):
    return value.get_object() if hasattr(value, "get_object") else value


def _name_tree(node, depth=0):
    """``(name, file spec)`` pairs of a PDF name tree (``/Names`` leaves, ``/Kids``)."""
    node = _resolve(node)
    if node is None or depth > MAX_NAME_TREE_DEPTH:
        return
    names = _resolve(node.get("/Names")) or []
    for index in range(0, len(names) - 1, 2):
        yield str(_resolve(names[index])), _resolve(names[index + 1])
    for kid in _resolve(node.get("/Kids")) or []:
        yield from _name_tree(kid, depth + 1)


def _file_name(spec):
    return str(_resolve(spec.get("/UF")) or _resolve(spec.get("/F")) or "")


def _content(spec):
    stream = _resolve(_resolve(spec.get("/EF") or {}).get("/F"))
    if stream is None:
        return None
    data = stream.get_data()
    if len(data) > MAX_EMBEDDED_BYTES:
        raise ParseError(
            "pdf_embedded_too_large",
            f"the embedded file is {len(data)} bytes, more than {MAX_EMBEDDED_BYTES}",
        )
    return data


def _specs(catalog):
    """Every embedded file spec of the document: the name tree, then ``/AF``."""
    names = _resolve(catalog.get("/Names")) or {}
    tree = names.get("/EmbeddedFiles") if names else None
    found = [spec for _name, spec in _name_tree(tree)] if tree is not None else []
    found += [_resolve(spec) for spec in _resolve(catalog.get("/AF")) or []]
    return found


def embedded_invoice_xml(payload):
    """``(file name, XML bytes)`` of the invoice embedded in a PDF invoice.

    :raises ParseError: ``pdf_unreadable`` (not a PDF, encrypted, or broken),
        ``pdf_no_invoice_xml`` (no factur-x.xml / zugferd-invoice.xml / xrechnung.xml;
        the message lists the files that are there).
    """
    if not is_pdf(payload):
        raise ParseError("pdf_unreadable", "the payload is not a PDF document")
    try:
        reader = _pdf.PdfReader(io.BytesIO(bytes(payload)), strict=False)
        if reader.is_encrypted:
            raise ParseError("pdf_unreadable", "the PDF is encrypted")
        catalog = _resolve(reader.trailer["/Root"])
        specs = [spec for spec in _specs(catalog) if spec is not None]
        by_name = {}
        for spec in specs:
            by_name.setdefault(_file_name(spec).strip().lower(), spec)
        for wanted in INVOICE_FILE_NAMES:
            spec = by_name.get(wanted)
            if spec is not None:
                content = _content(spec)
                if content:
                    return _file_name(spec), content
    except ParseError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # A malformed PDF makes the library raise about anything (KeyError, ValueError,
        # its own PdfReadError, RecursionError...): each is an unreadable PDF.
        _logger.debug("PDF not readable", exc_info=True)
        raise ParseError("pdf_unreadable", f"the PDF cannot be read: {exc}") from None
    present = ", ".join(sorted(name for name in by_name if name)) or "none"
    raise ParseError(
        "pdf_no_invoice_xml",
        "the PDF embeds no invoice XML (factur-x.xml, zugferd-invoice.xml or xrechnung.xml); "
        f"embedded files: {present}",
    )
