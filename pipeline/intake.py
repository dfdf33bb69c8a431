"""What a POST does before anything is stored: content negotiation, batch splitting and
the cheap checks a client should hear about at once (syntax 400, content 422).

Everything expensive (lookups, applying to records) happens later, in the lane workers.
"""

import json
import math
import re

from ..canonical import CanonicalValidationError
from ..canonical import from_dict
from ..formats import split as split_payload
from ..formats.errors import ParseError

FORMAT_ALIASES = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/edi-x12": "x12",
    "application/edi": "x12",
    "application/x12": "x12",
    "text/x12": "x12",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
}
# The formats each document type is really exchanged in, besides canonical JSON.
FORMATS_BY_DOC_TYPE = {
    "vendor": ("json", "ndjson", "csv"),
    "item": ("json", "ndjson", "csv"),
    "contract_price": ("json", "ndjson"),
    "purchase_order": ("json", "ndjson", "x12", "xml"),
    "po_ack": ("json", "ndjson", "x12"),
    "ship_notice": ("json", "ndjson", "x12", "xml"),
    "receipt": ("json", "ndjson", "xml"),
    "invoice": ("json", "ndjson", "x12", "xml"),
    "payment": ("json", "ndjson", "x12"),
}
CANONICAL_CONTENT_TYPE = {
    "json": "application/json",
    "ndjson": "application/json",
    "x12": "application/edi-x12",
    "xml": "application/xml",
    "csv": "text/csv",
}
MAX_JSON_DEPTH = 32
# A JSON \u0000 escape (not an escaped backslash followed by "u0000"): PostgreSQL text
# cannot hold NUL, and no business field needs it.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


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
    media = (content_type or "").split(";")[0].strip().lower()
    fmt = FORMAT_ALIASES.get(media)
    allowed = FORMATS_BY_DOC_TYPE.get(doc_type, ())
    if fmt not in allowed:
        accepted = sorted({m for m, f in FORMAT_ALIASES.items() if f in allowed})
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


def _depth(value, level=0):
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _no_duplicate_keys(pairs):
    keys = [k for k, _v in pairs]
    if len(keys) != len(set(keys)):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f"duplicate keys: {', '.join(dupes)}")
    return dict(pairs)


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _load_json_documents(fmt, body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IntakeError(400, "invalid_encoding", f"Body is not valid UTF-8: {exc}") from exc
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise IntakeError(400, "invalid_character", "Text must not contain NUL (\\u0000).")
    options = {
        "object_pairs_hook": _no_duplicate_keys,
        "parse_constant": _refuse_constant,
        "parse_float": _finite_float,
    }
    try:
        if fmt == "ndjson":
            docs = [json.loads(line, **options) for line in text.splitlines() if line.strip()]
            batch = True
        else:
            value = json.loads(text, **options)
            batch = isinstance(value, list)
            docs = value if batch else [value]
    except RecursionError as exc:
        raise IntakeError(
            400, "too_deep", f"JSON nested deeper than {MAX_JSON_DEPTH} levels."
        ) from exc
    except ValueError as exc:
        raise IntakeError(400, "malformed_json", f"Malformed JSON: {exc}") from exc
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise IntakeError(
                400,
                "malformed_json",
                "Each document must be a JSON object.",
                [{"path": f"[{index}]"}],
            )
        if _depth(doc) > MAX_JSON_DEPTH:
            raise IntakeError(
                400,
                "too_deep",
                f"Document nested deeper than {MAX_JSON_DEPTH} levels.",
                [{"path": f"[{index}]"}],
            )
    return docs, batch


def split_request(doc_type, content_type, body, max_documents):
    """Split a request body into documents, each checked as far as is cheap.

    :return: ``(fmt, batch, items)`` where each item is ``(raw_bytes, errors)``: ``errors``
        is empty for an acceptable document, else the 422 field errors of that document
    """
    fmt = negotiate(doc_type, content_type)
    if not body:
        raise IntakeError(400, "empty_body", "The request body is empty.")
    if fmt in ("json", "ndjson"):
        docs, batch = _load_json_documents(fmt, body)
        if not docs:
            raise IntakeError(400, "empty_batch", "The batch holds no document.")
        if len(docs) > max_documents:
            raise IntakeError(
                413, "too_many_documents", f"A batch holds at most {max_documents} documents."
            )
        items = []
        for index, doc in enumerate(docs):
            try:
                raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
            except UnicodeEncodeError as exc:
                # a lone surrogate escape ("\\ud800"): not text, cannot be stored
                raise IntakeError(
                    400,
                    "invalid_encoding",
                    "Text holds an unpaired surrogate escape (not valid Unicode).",
                    [{"path": f"[{index}]"}],
                ) from exc
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
        parts = split_payload(doc_type, CANONICAL_CONTENT_TYPE[fmt], body)
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
    return fmt, len(parts) > 1, [(part, []) for part in parts]
