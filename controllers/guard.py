"""Request guards of the HTTP API: per-connector rate limit and signed requests.

Kept apart from the route handlers (``api.py``) so that each handler calls them in one
line each.  Every function answers ``None`` (go on) or a :class:`Refusal`, which the
handler turns into the API's JSON error (``_error(*refusal)``).
"""

import logging
from collections import namedtuple

from odoo.http import request

from ..api_contract import signature

_logger = logging.getLogger(__name__)

Refusal = namedtuple("Refusal", "status code message fields headers", defaults=(None, None))


def rate_limit(connector):
    """Take a token from the connector's bucket; a 429 refusal when it is empty.

    Unlimited connectors (rate 0) cost nothing: the policy is cached per worker.
    """
    retry_after = connector._take_rate_token()
    if retry_after is None:
        return None
    return Refusal(
        429,
        "rate_limited",
        f"Rate limit of connector {connector.code} exceeded; retry in {retry_after} s.",
        None,
        [("Retry-After", str(retry_after))],
    )


def verify_signature(connector, body):
    """Check the request's HMAC signature when the connector requires one (401 if bad).

    The signed target is the path plus the raw query string; the body is the exact bytes
    received.  Refusals are logged with the connector and the reason, never a header value.
    """
    httprequest = request.httprequest
    try:
        connector._check_signature(
            httprequest.method,
            signature.request_target(httprequest.path, httprequest.query_string),
            httprequest.headers,
            body,
        )
    except signature.SignatureError as exc:
        _logger.warning(
            "Refused a request of connector %s from %s: %s",
            connector.code,
            httprequest.remote_addr,
            exc.code,
        )
        return Refusal(
            401,
            exc.code,
            exc.message,
            None,
            [("WWW-Authenticate", f'HC-HMAC-SHA256 error="{exc.code}"')],
        )
    return None
