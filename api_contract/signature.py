"""Signed requests: HMAC-SHA256 over the method, target, timestamp, nonce and body.

A connector that requires signatures sends, besides its bearer API key::

    X-HC-Timestamp: 1764028800                 (Unix time, seconds)
    X-HC-Nonce: 6f1c0e6a4b3d4f3e9c1b2a0d8e7f6a5b   (16-128 of A-Z a-z 0-9 - _, single use)
    X-HC-Signature: v1=<64 lowercase hex digits>

where the signature is ``HMAC-SHA256(secret, canonical string)`` and the canonical string
is five lines joined by ``\\n`` (no trailing newline)::

    METHOD          upper case, e.g. POST
    TARGET          the path as sent, plus "?" and the raw query string when there is one
    TIMESTAMP       the X-HC-Timestamp header, as sent
    NONCE           the X-HC-Nonce header, as sent
    BODY_SHA256     lowercase hex SHA-256 of the raw body bytes (of b"" for no body)

The secret is the text shown once when it was generated, used as its UTF-8 bytes.

This module is pure (no ORM, no database): :func:`verify` checks everything that needs
no state; the caller then checks the nonce against the ones already seen (the database).
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

from ..trust.crypto import constant_time_equal

SCHEME = "v1"
HEADER_TIMESTAMP = "X-HC-Timestamp"
HEADER_NONCE = "X-HC-Nonce"
HEADER_SIGNATURE = "X-HC-Signature"
DEFAULT_WINDOW_SECONDS = 300
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")
SIGNATURE_RE = re.compile(r"^v1=([0-9a-f]{64})$")
METHOD_RE = re.compile(r"^[A-Z]{1,16}$")


class SignatureError(Exception):
    """A refused signature: ``code`` is the stable API error code (HTTP 401)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Verified:
    """A signature that checks out: which secret matched, and the nonce to record."""

    secret_index: int
    timestamp: int
    nonce: str


def body_digest(body):
    return hashlib.sha256(body or b"").hexdigest()


def canonical_string(method, target, timestamp, nonce, body):
    """The exact bytes that are signed (see the module docstring)."""
    return "\n".join((method.upper(), target, str(timestamp), nonce, body_digest(body))).encode(
        "utf-8"
    )


def sign(secret, method, target, timestamp, nonce, body):
    """The ``X-HC-Signature`` header value a sender computes (used by tests and the docs)."""
    if not secret:
        raise ValueError("a signing secret is required")
    mac = hmac.new(
        secret.encode("utf-8"),
        canonical_string(method, target, timestamp, nonce, body),
        hashlib.sha256,
    )
    return f"{SCHEME}={mac.hexdigest()}"


def verify(secrets, method, target, headers, body, now, window_seconds=DEFAULT_WINDOW_SECONDS):
    """Check a request's signature headers; return :class:`Verified` or raise.

    :param secrets: the connector's currently valid secrets (text), newest first; during
        a rotation's overlap the previous ones are still in the list
    :param headers: a mapping with ``.get`` (case-insensitive like werkzeug's headers)
    :param body: the raw body bytes
    :param now: the server's Unix time in seconds
    :param window_seconds: how far the timestamp may be from ``now``, either way
    :raises SignatureError: ``signature_missing`` (a header is absent),
        ``signature_malformed`` (a header does not have its documented form),
        ``signature_invalid`` (no valid secret produces this signature, or the connector
        has no valid secret at all), ``timestamp_out_of_window``
    """
    raw_ts = headers.get(HEADER_TIMESTAMP)
    nonce = headers.get(HEADER_NONCE)
    raw_sig = headers.get(HEADER_SIGNATURE)
    missing = [
        name
        for name, value in (
            (HEADER_TIMESTAMP, raw_ts),
            (HEADER_NONCE, nonce),
            (HEADER_SIGNATURE, raw_sig),
        )
        if not value
    ]
    if missing:
        raise SignatureError(
            "signature_missing",
            f"This connector must sign its requests; missing header(s): {', '.join(missing)}.",
        )
    if not TIMESTAMP_RE.match(raw_ts):
        raise SignatureError(
            "signature_malformed", f"{HEADER_TIMESTAMP} must be Unix time in whole seconds."
        )
    if not NONCE_RE.match(nonce):
        raise SignatureError(
            "signature_malformed",
            f"{HEADER_NONCE} must be 16 to 128 characters of A-Z, a-z, 0-9, '-' and '_'.",
        )
    match = SIGNATURE_RE.match(raw_sig.strip())
    if not match:
        raise SignatureError(
            "signature_malformed",
            f"{HEADER_SIGNATURE} must be '{SCHEME}=' followed by 64 lowercase hex digits.",
        )
    if not method or not METHOD_RE.match(method.upper()):
        raise SignatureError("signature_invalid", "The request method cannot be signed.")
    given = match.group(0)
    matched = None
    # Every candidate is computed and compared, in constant time: which secret matched
    # (or how close a guess came) shows neither in the answer nor in its timing.
    for index, secret in enumerate(s for s in secrets if s):
        expected = sign(secret, method, target, raw_ts, nonce, body)
        if constant_time_equal(expected, given) and matched is None:
            matched = index
    if matched is None:
        raise SignatureError(
            "signature_invalid",
            "The signature does not match the request (check the secret, the canonical "
            "string and that the body is signed exactly as sent).",
        )
    # Checked after the signature, so only the holder of a secret learns about the clock.
    timestamp = int(raw_ts)
    if abs(now - timestamp) > window_seconds:
        raise SignatureError(
            "timestamp_out_of_window",
            f"{HEADER_TIMESTAMP} is more than {window_seconds} seconds away from the "
            "server's time; check the sender's clock (NTP).",
        )
    return Verified(secret_index=matched, timestamp=timestamp, nonce=nonce)


def request_target(path, query_string):
    """The TARGET line: the path, plus ``?query`` exactly as sent when there is one."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    return f"{path}?{query_string}" if query_string else path
