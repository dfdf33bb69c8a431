# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Canonical JSON reader: a single object, a JSON array of objects, or NDJSON.

The payload comes from outside, so it is read defensively: size, nesting depth and document
count are bounded *before* ``json`` builds anything, UTF-8 is strict, duplicate keys are
refused (two ``"quantity"`` keys would let sender and receiver read different values),
``NaN``/``Infinity`` and numbers beyond a double's range are refused, numbers become
:class:`~decimal.Decimal` so that ``0.1 + 0.2`` and ``12345678.1234567891`` stay exact,
and text that cannot be stored (an unpaired surrogate escape, ``\\u0000``) is refused.

A batch is split into slices of the original text (:func:`split_documents`), never
re-serialised: what is stored is the exact text each document had in the request.
"""

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal

from ..canonical import CanonicalValidationError
from ..canonical import from_dict
from .errors import ParseError

_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_WS = " \t\r\n"  # the only whitespace JSON allows between tokens
# A JSON string (skipped as a whole by the C regex engine) or a bracket.
_DEPTH_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
# A JSON \u0000 escape (not an escaped backslash followed by "u0000"): PostgreSQL text
# cannot hold NUL, and no business field needs it.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(frozen=True)
class JsonLimits:
    """Bounds applied to a JSON payload before it is decoded."""

    max_bytes: int = 50 * 1024 * 1024
    max_depth: int = 32
    max_documents: int = 50_000


DEFAULT_LIMITS = JsonLimits()


def _decode_text(payload, limits):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if len(payload) > limits.max_bytes:
        raise ParseError(
            "json_too_large", f"payload of {len(payload)} bytes exceeds {limits.max_bytes}"
        )
    if payload.startswith(_UTF8_BOM):
        # RFC 8259 lets a parser ignore a BOM; Windows tools still write one.
        payload = payload[len(_UTF8_BOM) :]
    try:
        return payload.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise ParseError(
            "json_encoding", f"invalid UTF-8: {exc.reason}", f"byte {exc.start}"
        ) from None


def _check_depth(text, limits, base_path=None):
    """Refuse nesting deeper than the limit without recursing (no RecursionError)."""
    depth = 0
    for match in _DEPTH_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limits.max_depth:
                raise ParseError(
                    "json_depth",
                    f"nesting deeper than {limits.max_depth} levels",
                    base_path or f"char {match.start()}",
                )
        elif token in "]}":
            depth -= 1


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name):
    raise ValueError(f"{name} is not a valid number")


def _decimal(text):
    """A JSON number with a fraction or exponent, exactly; refused beyond a double's range
    (``1e999``: no JSON peer could read it back)."""
    value = Decimal(text)
    if math.isinf(float(value)):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_reject_duplicates,
    parse_float=_decimal,
    parse_constant=_reject_constant,
)


def _unstorable_text(value):
    """The first string (key or value) that is not valid Unicode text, else None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
    return None


def _check_text(text, value, path):
    """Refuse text PostgreSQL cannot store: ``\\u0000`` and unpaired surrogate escapes."""
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise ParseError("json_nul", "text must not contain NUL (\\u0000)", path)
    if "\\u" in text and _unstorable_text(value) is not None:
        raise ParseError(
            "json_encoding", "text holds an unpaired surrogate escape (not valid Unicode)", path
        )


def _loads(text, path=None):
    try:
        value, end = _DECODER.raw_decode(text, _skip_ws(text, 0))
    except json.JSONDecodeError as exc:
        raise ParseError(
            "json_syntax", exc.msg, path or f"line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        # Duplicate keys, NaN, over-long integers (int_max_str_digits).
        code = "json_duplicate_key" if "duplicate key" in str(exc) else "json_syntax"
        raise ParseError(code, str(exc), path) from None
    if _skip_ws(text, end) != len(text):
        raise ParseError("json_syntax", "extra data after the JSON value", path)
    return value


def _skip_ws(text, index):
    while index < len(text) and text[index] in _JSON_WS:
        index += 1
    return index


def _lines(text):
    """``(line number, line)`` of NDJSON: lines end with LF (or CRLF); blank ones skipped.

    Not :meth:`str.splitlines`, which also breaks at U+2028 and other characters a JSON
    string may hold as they are.
    """
    for lineno, line in enumerate(text.split("\n"), start=1):
        if line.strip(_JSON_WS):
            yield lineno, line


def _documents(payload, ndjson, limits):
    """``[(text, value)]``: the exact text of each document in the payload and its value.

    A top-level array yields its elements, NDJSON its non-blank lines, a single value
    itself; ``text`` is a slice of the decoded payload without the whitespace around it.
    """
    text = _decode_text(payload, limits)
    documents = []
    if ndjson:
        for lineno, line in _lines(text):
            path = f"line {lineno}"
            _check_depth(line, limits, path)
            value = _loads(line, path)
            _check_text(line, value, path)
            documents.append((line.strip(_JSON_WS), value))
            _check_count(len(documents), limits)
        if not documents:
            raise ParseError("json_empty", "no JSON document in the payload")
        return documents
    _check_depth(text, limits)
    start = _skip_ws(text, 0)
    if start == len(text):
        raise ParseError("json_empty", "empty payload")
    if text[start] != "[":
        value = _loads(text)
        _check_text(text, value, None)
        return [(text.strip(_JSON_WS), value)]
    index = _skip_ws(text, start + 1)
    if index < len(text) and text[index] == "]":
        raise ParseError("json_empty", "empty JSON array")
    while True:
        path = f"[{len(documents)}]"
        try:
            value, end = _DECODER.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            raise ParseError(
                "json_syntax", exc.msg, f"line {exc.lineno} column {exc.colno}"
            ) from None
        except (ValueError, RecursionError) as exc:
            code = "json_duplicate_key" if "duplicate key" in str(exc) else "json_syntax"
            raise ParseError(code, str(exc), path) from None
        _check_text(text[index:end], value, path)
        documents.append((text[index:end], value))
        _check_count(len(documents), limits)
        index = _skip_ws(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip_ws(text, index + 1)
            continue
        if index < len(text) and text[index] == "]":
            break
        raise ParseError("json_syntax", "expected ',' or ']' in the array", f"char {index}")
    if _skip_ws(text, index + 1) != len(text):
        raise ParseError("json_syntax", "extra data after the JSON array")
    return documents


def split_documents(payload, *, ndjson=False, limits=DEFAULT_LIMITS):
    """``[(raw bytes, value)]``: the exact UTF-8 bytes of each document and its value.

    What intake stores: slices of the original text (not re-serialised), so each stored
    document is byte for byte what the client sent for it and hashes the same whoever
    splits it; numbers in ``value`` are :class:`~decimal.Decimal`.  A UTF-8 BOM in front
    of the payload is not part of any document.
    """
    return [(text.encode("utf-8"), value) for text, value in _documents(payload, ndjson, limits)]


def split_json(payload, *, ndjson=False, limits=DEFAULT_LIMITS):
    """The exact text of each JSON document (UTF-8 bytes); see :func:`split_documents`."""
    return [raw for raw, _value in split_documents(payload, ndjson=ndjson, limits=limits)]


def _check_count(count, limits):
    if count > limits.max_documents:
        raise ParseError("json_too_many_documents", f"more than {limits.max_documents} documents")


def load_values(payload, *, ndjson=False, limits=DEFAULT_LIMITS):
    """Decode the payload into a list of JSON values (one per document), within limits."""
    return [value for _text, value in _documents(payload, ndjson, limits)]


def parse_json(payload, doc_type=None, *, ndjson=False, limits=DEFAULT_LIMITS):
    """Parse canonical JSON into canonical documents.

    :param payload: bytes (UTF-8) of one object, an array of objects, or NDJSON.
    :param doc_type: expected document type (from the endpoint); when ``None`` each
        object must name its own ``doc_type``.
    :param ndjson: read one JSON object per line.
    :raises ParseError: unreadable payload (syntax, encoding, limits, not objects).
    :raises CanonicalValidationError: readable but invalid documents; all errors of all
        documents are reported, paths prefixed with ``[index]`` for batches.
    """
    values = load_values(payload, ndjson=ndjson, limits=limits)
    batch = ndjson or len(values) > 1 or payload_is_array(values, payload)
    documents = []
    errors = []
    for index, value in enumerate(values):
        prefix = f"[{index}]" if batch else ""
        if not isinstance(value, dict):
            raise ParseError("json_not_object", "each document must be a JSON object", prefix)
        this_type = doc_type or value.get("doc_type")
        if not isinstance(this_type, str):
            raise ParseError(
                "json_doc_type", "doc_type is missing and not given by the endpoint", prefix
            )
        try:
            documents.append(from_dict(this_type, value))
        except CanonicalValidationError as exc:
            for err in exc.errors:
                path = err["path"]
                if prefix:
                    path = f"{prefix}.{path}" if path else prefix
                errors.append({**err, "path": path})
    if errors:
        raise CanonicalValidationError(errors)
    return documents


def payload_is_array(values, payload):
    """Whether a one-element result came from a JSON array (paths then get ``[0]``)."""
    if len(values) != 1:
        return True
    head = payload.lstrip(_UTF8_BOM + b" \t\r\n") if isinstance(payload, bytes) else b""
    return head[:1] == b"["
