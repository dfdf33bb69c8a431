"""What a POST does before anything is stored: content negotiation, batch splitting and
the cheap checks a client should hear about at once (syntax 400, content 422).

Everything expensive (lookups, applying to records) happens later, in the lane workers.
"""

from ..canonical import CanonicalValidationError
from ..canonical import from_dict
from ..formats.errors import ParseError
from ..formats.json_doc import JsonLimits
from ..formats.json_doc import split_documents
from ..formats.registry import CONTENT_TYPES
from ..formats.registry import STORED_CONTENT_TYPES
from ..formats.registry import normalize_content_type
from ..formats.registry import screen
from ..formats.registry import split as split_payload

# The formats each document type is really exchanged in, besides canonical JSON.
FORMATS_BY_DOC_TYPE = {
    "vendor": ("json", "ndjson", "csv"),
    "item": ("json", "ndjson", "csv"),
    "contract_price": ("json", "ndjson", "x12"),
    "purchase_order": ("json", "ndjson", "x12", "xml"),
    "po_ack": ("json", "ndjson", "x12", "xml"),
    "ship_notice": ("json", "ndjson", "x12", "xml"),
    "receipt": ("json", "ndjson", "xml"),
    "invoice": ("json", "ndjson", "x12", "xml", "pdf"),
    "payment": ("json", "ndjson", "x12"),
    "stock_transfer": ("json", "ndjson"),
    "stock_adjustment": ("json", "ndjson"),
    "recall": ("json", "ndjson"),
    "functional_ack": ("x12",),
    "consumption": ("json", "ndjson"),
}
MAX_JSON_DEPTH = 32
# The JSON reader's refusals, as the API's stable 400 codes.
_JSON_REFUSALS = {
    "json_encoding": "invalid_encoding",
    "json_nul": "invalid_character",
    "json_depth": "too_deep",
    "json_empty": "empty_batch",
}


class IntakeError(Exception):
    """A request-level refusal: HTTP ``status`` with a stable ``code``."""

    def __init__(self, status, code, message, fields=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []


def negotiate(doc_type, content_type):
    """Return the format key for a Content-Type header, or raise 415."""
    media = normalize_content_type(content_type)
    fmt = CONTENT_TYPES.get(media)
    allowed = FORMATS_BY_DOC_TYPE.get(doc_type, ())
    if fmt not in allowed:
        accepted = sorted({m for m, f in CONTENT_TYPES.items() if f in allowed})
        raise IntakeError(
            415,
            "unsupported_media_type",
            f"Content-Type {media or '(none)'} is not accepted for {doc_type}; "
            f"use one of: {', '.join(accepted)}",
        )
    return fmt


def negotiate_quietly(doc_type, content_type):
    """The format key for a Content-Type, or None when it is not accepted."""
    try:
        return negotiate(doc_type, content_type)
    except IntakeError:
        return None


def _json_documents(fmt, body, max_documents):
    """``(batch, [(raw bytes, document dict)])``: each document's exact text and value.

    The bytes are slices of the body (``formats.json_doc.split_documents``): what is stored
    is what the client sent, numbers included (``12345678.1234567891`` stays that, where a
    float would keep ``12345678.12345679``).
    """
    limits = JsonLimits(max_bytes=len(body), max_depth=MAX_JSON_DEPTH, max_documents=max_documents)
    try:
        documents = split_documents(body, ndjson=fmt == "ndjson", limits=limits)
    except ParseError as exc:
        fields = [{"path": exc.path}] if exc.path else []
        if exc.code == "json_too_many_documents":
            raise IntakeError(
                413, "too_many_documents", f"A batch holds at most {max_documents} documents."
            ) from exc
        if exc.code == "json_depth":
            raise IntakeError(
                400, "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels.", fields
            ) from exc
        code = _JSON_REFUSALS.get(exc.code, "malformed_json")
        raise IntakeError(400, code, f"Malformed JSON: {exc.message}", fields) from exc
    for index, (_raw, value) in enumerate(documents):
        if not isinstance(value, dict):
            raise IntakeError(
                400,
                "malformed_json",
                "Each document must be a JSON object.",
                [{"path": f"[{index}]"}],
            )
    batch = fmt == "ndjson" or body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["
    return batch, documents


def split_request(doc_type, content_type, body, max_documents):
    """Split a request body into documents, each checked as far as is cheap.

    :return: ``(fmt, batch, items)`` where each item is ``(raw_bytes, errors)``:
        ``raw_bytes`` are that document's exact bytes in the body (nothing re-serialised),
        ``errors`` is empty for an acceptable document, else the 422 field errors of that
        document
    """
    fmt = negotiate(doc_type, content_type)
    if not body:
        raise IntakeError(400, "empty_body", "The request body is empty.")
    if fmt in ("json", "ndjson"):
        batch, documents = _json_documents(fmt, body, max_documents)
        items = []
        for raw, doc in documents:
            try:
                from_dict(
                    doc_type,
                    {k: v for k, v in doc.items() if k not in ("doc_type", "schema_version")},
                )
                errors = []
            except CanonicalValidationError as exc:
                errors = exc.errors
            items.append((raw, errors))
        return fmt, batch, items
    try:
        parts = split_payload(doc_type, STORED_CONTENT_TYPES[fmt], body)
    except ParseError as exc:
        raise IntakeError(
            400, exc.code, exc.message, [{"path": exc.path}] if exc.path else []
        ) from exc
    if not parts:
        raise IntakeError(400, "empty_batch", "The payload holds no document.")
    if len(parts) > max_documents:
        raise IntakeError(
            413, "too_many_documents", f"A batch holds at most {max_documents} documents."
        )
    # A document the endpoint never processes (an X12 832 on /invoices) is refused now,
    # not stored to die later.
    return fmt, len(parts) > 1, [(part, screen(doc_type, fmt, part)) for part in parts]
