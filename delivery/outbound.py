"""Outbound event delivery rules, free of Odoo: signing, response classification, retry
decisions and the per-endpoint circuit breaker.

The Odoo side (``models/hc_outbox_event.py``) claims events, sends them with ``requests``
and records what these functions decide, so every rule here is unit-tested without a
database (``tests/test_pure_outbound.py``).

Signature (documented for receivers in the README, "Outbound events")::

    X-HC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The timestamp is signed with the body, so a captured request cannot be replayed later
than the receiver's tolerance window; several ``v1=`` entries may appear while a secret
is being rotated (any one matching is enough).
"""

import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from email.utils import parsedate_to_datetime

from .backoff import retry_delay

SPEC_VERSION = "1.0"
SIGNATURE_HEADER = "X-HC-Signature"
EVENT_ID_HEADER = "X-HC-Event-Id"
EVENT_TYPE_HEADER = "X-HC-Event-Type"
TIMESTAMP_HEADER = "X-HC-Timestamp"
ATTEMPT_HEADER = "X-HC-Delivery-Attempt"
DEFAULT_TOLERANCE_SECONDS = 300
# A Retry-After longer than this is not trusted as is (a misconfigured receiver).
MAX_RETRY_AFTER_SECONDS = 24 * 3600

DELIVERED = "delivered"
RETRY = "retry"
DEAD = "dead"

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


# -- payload ------------------------------------------------------------------------


def canonical_json(value):
    """The one serialisation of a payload: sorted keys, no spaces, UTF-8 text.

    The body is serialised once, when the event is created, and the very same bytes are
    sent on every attempt: the signature and a receiver's hash of it never change.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- signing ------------------------------------------------------------------------


def _bytes(value):
    return value.encode() if isinstance(value, str) else value


def sign(secret, timestamp, body):
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    if not secret:
        raise ValueError("a signing secret is required")
    message = str(int(timestamp)).encode() + b"." + _bytes(body)
    return hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def signature_header(secrets, timestamp, body):
    """``t=<timestamp>,v1=<sig>[,v1=<sig of the next secret>...]``.

    :param secrets: one secret, or several (current first) during a rotation
    """
    if isinstance(secrets, str | bytes):
        secrets = [secrets]
    parts = [f"t={int(timestamp)}"]
    parts += [f"v1={sign(secret, timestamp, body)}" for secret in secrets if secret]
    if len(parts) == 1:
        raise ValueError("a signing secret is required")
    return ",".join(parts)


def parse_signature_header(value):
    """``(timestamp or None, [v1 signatures])`` from a signature header; never raises."""
    timestamp, signatures = None, []
    for part in (value or "").split(","):
        key, _sep, val = part.strip().partition("=")
        if key == "t" and val.isdigit():
            timestamp = int(val)
        elif key == "v1" and val:
            signatures.append(val)
    return timestamp, signatures


def verify_signature(secret, header, body, tolerance=DEFAULT_TOLERANCE_SECONDS, now=None):
    """What a receiver does: the timestamp is fresh and one ``v1`` matches (constant time).

    Fails closed: a missing, malformed, stale or future-dated header is refused.
    """
    timestamp, signatures = parse_signature_header(header)
    if timestamp is None or not signatures or not secret:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def delivery_headers(event_id, event_type, secrets, body, timestamp, attempt=1, content_type=None):
    """Every header an outbound request carries.

    :param content_type: a document's own (``application/edi-x12``, ``application/xml``...);
        the JSON event envelope's by default
    """
    return {
        "Content-Type": content_type or "application/json; charset=utf-8",
        "User-Agent": "healthcare-p2p-outbox/1",
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        TIMESTAMP_HEADER: str(int(timestamp)),
        ATTEMPT_HEADER: str(attempt),
        SIGNATURE_HEADER: signature_header(secrets, timestamp, body),
    }


# -- classification -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt means.

    ``kind``: ``delivered``, ``retry`` or ``dead``; ``breaker_failure``: whether it counts
    against the endpoint's health (5xx, 408, timeouts, refused connections do; a 4xx answer
    proves the endpoint is up, a 429 is the receiver pacing us); ``retry_after``: seconds
    the receiver asked us to wait (429/503 Retry-After).
    """

    kind: str
    code: str
    breaker_failure: bool = False
    retry_after: float | None = None


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        now = datetime.now(UTC).timestamp() if now is None else now
        seconds = when.timestamp() - now
    return max(0.0, min(seconds, MAX_RETRY_AFTER_SECONDS))


def classify(status=None, error=None, retry_after=None):
    """Classify an HTTP status, or a transport error kind (``timeout``, ``connection``).

    2xx delivered; 408 and 5xx retried (and count against the circuit breaker); 429
    retried after its Retry-After; other 4xx dead at once (the receiver refused this
    payload: sending it again cannot help); 3xx dead (redirects are not followed, the
    endpoint URL must be the final one); timeouts and connection errors retried.
    """
    if error is not None:
        return Outcome(RETRY, error, breaker_failure=True)
    if status is None:
        raise ValueError("a status or an error is required")
    if 200 <= status < 300:
        return Outcome(DELIVERED, f"http_{status}")
    if status == 429:
        return Outcome(RETRY, "http_429", retry_after=parse_retry_after(retry_after))
    if status == 408 or status >= 500:
        return Outcome(
            RETRY,
            f"http_{status}",
            breaker_failure=True,
            retry_after=parse_retry_after(retry_after) if status == 503 else None,
        )
    return Outcome(DEAD, f"http_{status}")


def next_step(outcome, attempts, max_attempts, base_seconds, max_seconds, rng=random):
    """``(state, delay seconds or None)`` after an attempt: delivered, failed or dead.

    :param attempts: attempts made so far, this one included
    """
    if outcome.kind == DELIVERED:
        return DELIVERED, None
    if outcome.kind == DEAD or attempts >= max_attempts:
        return DEAD, None
    delay = retry_delay(max(attempts, 1), base_seconds, max_seconds, rng=rng)
    if outcome.retry_after is not None:
        # The receiver knows best when it can take more; never sooner than it asked.
        delay = max(delay, outcome.retry_after)
    return "failed", delay


# -- circuit breaker ----------------------------------------------------------------


@dataclass(frozen=True)
class Breaker:
    """A per-endpoint circuit breaker's persisted state.

    ``open_until``: when an open circuit lets one probe through (unix seconds);
    ``probe_since``: when the half-open probe in flight was claimed (None: no probe).
    """

    state: str = CLOSED
    failures: int = 0
    open_until: float | None = None
    probe_since: float | None = None


def admission(breaker, now, probe_timeout):
    """May an event be sent to this endpoint now?

    :return: ``"send"`` (closed), ``"probe"`` (the single trial request of a half-open
        circuit: the caller must record the probe before sending) or ``"wait"``
    """
    if breaker.state == CLOSED:
        return "send"
    if breaker.state == OPEN and (breaker.open_until is None or now < breaker.open_until):
        return "wait"
    # open past its cool-down, or half-open: one probe at a time (a probe whose worker
    # died is given up after probe_timeout)
    if breaker.probe_since is not None and now - breaker.probe_since < probe_timeout:
        return "wait"
    return "probe"


def start_probe(breaker, now):
    return Breaker(HALF_OPEN, breaker.failures, breaker.open_until, now)


def on_success(breaker):
    """Any answer that proves the endpoint works closes the circuit."""
    return Breaker(CLOSED, 0, None, None)


def on_failure(breaker, threshold, cooldown_seconds, now):
    """Count a failure; open after ``threshold`` in a row, re-open when a probe fails."""
    failures = breaker.failures + 1
    if breaker.state == HALF_OPEN or failures >= threshold:
        return Breaker(OPEN, failures, now + cooldown_seconds, None)
    return Breaker(breaker.state, failures, breaker.open_until, None)
