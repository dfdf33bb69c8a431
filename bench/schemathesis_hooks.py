"""Schemathesis hooks for ``make fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

The API takes text formats schemathesis has no serializer for (NDJSON, X12, CSV, XML):
the OpenAPI document types them as strings, so the generated string is sent as the body.
"""

import schemathesis


@schemathesis.serializer(
    "application/x-ndjson", "application/edi-x12", "text/csv", "application/xml"
)
def as_text(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", errors="surrogatepass")
