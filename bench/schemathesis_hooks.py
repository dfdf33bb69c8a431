"""Schemathesis hooks for ``make fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

The API takes text formats schemathesis has no serializer for (NDJSON, X12, CSV, XML):
the OpenAPI document types them as strings, so the generated string is sent as the body.

``ast.parse`` is serialised.  Hypothesis describes every ``.filter(lambda ...)`` strategy by
parsing the source file of the lambda; schemathesis filters the values of path parameters
(``message_id`` of ``GET /messages/{message_id}`` and of the replay) with a lambda in a
200 kB module.  On CPython 3.11, two worker threads building ASTs at once corrupt the
interpreter-wide recursion counter of the AST constructor and one of them fails with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905), which
schemathesis reports as an internal error of the operation.  One parse at a time avoids it
without dropping the operation, the workers or the coverage phase.
"""

import ast
import threading

import schemathesis

_parse = ast.parse
_parse_lock = threading.Lock()


def _serialised_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serialised_parse


@schemathesis.serializer(
    "application/x-ndjson", "application/edi-x12", "text/csv", "application/xml"
)
def as_text(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", errors="surrogatepass")
