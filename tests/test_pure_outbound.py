"""Outbound delivery rules without Odoo: signing, classification, retries, circuit breaker."""

import hashlib
import hmac
import json
import random

import pytest

from ..delivery import outbound as ob


class FixedRng:
    def __init__(self, value):
        self.value = value

    def random(self):
        return self.value


# -- payload and signing ----------------------------------------------------------------


def test_canonical_json_is_stable_and_compact():
    a = ob.canonical_json({"b": 1, "a": {"y": "é", "x": [1, 2]}})
    b = ob.canonical_json({"a": {"x": [1, 2], "y": "é"}, "b": 1})
    assert a == b == '{"a":{"x":[1,2],"y":"é"},"b":1}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"e1"}'
    expected = hmac.new(b"s3cret-s3cret-16", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert ob.sign("s3cret-s3cret-16", 1700000000, body) == expected
    assert (
        ob.signature_header("s3cret-s3cret-16", 1700000000, body) == f"t=1700000000,v1={expected}"
    )


def test_signature_header_carries_one_v1_per_secret_during_rotation():
    header = ob.signature_header(["new-secret-xxxxxxxx", "old-secret-xxxxxxxx"], 100, b"x")
    timestamp, sigs = ob.parse_signature_header(header)
    assert timestamp == 100 and len(sigs) == 2
    assert ob.verify_signature("old-secret-xxxxxxxx", header, b"x", now=100)
    assert ob.verify_signature("new-secret-xxxxxxxx", header, b"x", now=100)


def test_signing_without_secret_refuses():
    with pytest.raises(ValueError):
        ob.sign("", 1, b"x")
    with pytest.raises(ValueError):
        ob.signature_header([None, ""], 1, b"x")


@pytest.mark.parametrize(
    "header, body, secret, now, ok",
    [
        ("GOOD", b"body", "secret-0123456789", 1000, True),
        ("GOOD", b"body!", "secret-0123456789", 1000, False),  # body changed
        ("GOOD", b"body", "other-0123456789", 1000, False),  # wrong secret
        ("GOOD", b"body", "secret-0123456789", 1000 + 301, False),  # too old
        ("GOOD", b"body", "secret-0123456789", 1000 - 301, False),  # from the future
        ("", b"body", "secret-0123456789", 1000, False),
        ("t=1000", b"body", "secret-0123456789", 1000, False),
        ("v1=abc", b"body", "secret-0123456789", 1000, False),
        ("t=abc,v1=abc", b"body", "secret-0123456789", 1000, False),
        ("GOOD", b"body", "", 1000, False),
    ],
)
def test_verify_signature_fails_closed(header, body, secret, now, ok):
    if header == "GOOD":
        header = ob.signature_header("secret-0123456789", 1000, b"body")
    assert ob.verify_signature(secret, header, body, now=now) is ok


def test_delivery_headers():
    headers = ob.delivery_headers("uuid-1", "po.released", "secret-0123456789", b"{}", 5, 2)
    assert headers["X-HC-Event-Id"] == "uuid-1"
    assert headers["X-HC-Event-Type"] == "po.released"
    assert headers["X-HC-Timestamp"] == "5"
    assert headers["X-HC-Delivery-Attempt"] == "2"
    assert ob.verify_signature("secret-0123456789", headers["X-HC-Signature"], b"{}", now=5)
    json.dumps(headers)  # all text


# -- classification --------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, kind, breaker",
    [
        (200, ob.DELIVERED, False),
        (202, ob.DELIVERED, False),
        (204, ob.DELIVERED, False),
        (301, ob.DEAD, False),
        (400, ob.DEAD, False),
        (401, ob.DEAD, False),
        (404, ob.DEAD, False),
        (409, ob.DEAD, False),
        (422, ob.DEAD, False),
        (408, ob.RETRY, True),
        (429, ob.RETRY, False),
        (500, ob.RETRY, True),
        (502, ob.RETRY, True),
        (503, ob.RETRY, True),
        (504, ob.RETRY, True),
    ],
)
def test_classify_status(status, kind, breaker):
    outcome = ob.classify(status)
    assert (outcome.kind, outcome.breaker_failure, outcome.code) == (
        kind,
        breaker,
        f"http_{status}",
    )


@pytest.mark.parametrize("error", ["timeout", "connection_error"])
def test_classify_transport_errors_retry_and_count(error):
    outcome = ob.classify(error=error)
    assert outcome.kind == ob.RETRY and outcome.breaker_failure and outcome.code == error


def test_classify_needs_something():
    with pytest.raises(ValueError):
        ob.classify()


def test_retry_after_seconds_and_http_date():
    assert ob.parse_retry_after("120") == 120
    assert ob.parse_retry_after(None) is None
    assert ob.parse_retry_after("soon") is None
    assert ob.parse_retry_after("") is None
    # Sun, 06 Nov 1994 08:49:37 GMT = 784111777
    assert ob.parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now=784111777 - 30) == 30
    assert ob.parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now=784111777 + 30) == 0
    assert ob.parse_retry_after("99999999") == ob.MAX_RETRY_AFTER_SECONDS
    assert ob.classify(429, retry_after="7").retry_after == 7
    assert ob.classify(503, retry_after="9").retry_after == 9
    assert ob.classify(500, retry_after="9").retry_after is None


# -- retry decisions -------------------------------------------------------------------


def test_next_step_delivered_and_dead():
    assert ob.next_step(ob.classify(200), 1, 5, 30, 3600) == (ob.DELIVERED, None)
    assert ob.next_step(ob.classify(400), 1, 5, 30, 3600) == (ob.DEAD, None)
    assert ob.next_step(ob.classify(500), 5, 5, 30, 3600) == (ob.DEAD, None)


def test_next_step_backoff_grows_with_jitter_and_cap():
    low, high = FixedRng(0.0), FixedRng(0.999999)
    outcome = ob.classify(error="timeout")
    delays = [ob.next_step(outcome, n, 99, 30, 3600, rng=high)[1] for n in range(1, 10)]
    assert delays == sorted(delays)
    assert delays[-1] <= 3600
    assert ob.next_step(outcome, 1, 99, 30, 3600, rng=low) == ("failed", 15)
    assert 15 <= ob.next_step(outcome, 1, 99, 30, 3600, rng=random.Random(1))[1] <= 30


def test_next_step_honours_retry_after():
    outcome = ob.classify(429, retry_after="600")
    state, delay = ob.next_step(outcome, 1, 5, 30, 3600, rng=FixedRng(0.5))
    assert state == "failed" and delay == 600
    # never sooner than asked, but the backoff wins when it is longer
    outcome = ob.classify(429, retry_after="1")
    assert ob.next_step(outcome, 3, 5, 30, 3600, rng=FixedRng(0.0))[1] == 60


# -- circuit breaker -------------------------------------------------------------------


def test_breaker_opens_after_threshold_consecutive_failures():
    b = ob.Breaker()
    for _ in range(2):
        b = ob.on_failure(b, threshold=3, cooldown_seconds=60, now=1000)
        assert b.state == ob.CLOSED
    b = ob.on_failure(b, threshold=3, cooldown_seconds=60, now=1000)
    assert b == ob.Breaker(ob.OPEN, 3, 1060, None)


def test_success_resets_the_count():
    b = ob.on_failure(ob.Breaker(), 3, 60, 0)
    b = ob.on_success(b)
    assert b == ob.Breaker()
    b = ob.on_failure(ob.on_failure(b, 3, 60, 0), 3, 60, 0)
    assert b.state == ob.CLOSED


def test_admission_closed_open_half_open():
    assert ob.admission(ob.Breaker(), now=0, probe_timeout=600) == "send"
    opened = ob.Breaker(ob.OPEN, 5, 1060, None)
    assert ob.admission(opened, now=1059, probe_timeout=600) == "wait"
    assert ob.admission(opened, now=1060, probe_timeout=600) == "probe"
    probing = ob.start_probe(opened, now=1061)
    assert probing.state == ob.HALF_OPEN
    # only one probe at a time ...
    assert ob.admission(probing, now=1062, probe_timeout=600) == "wait"
    # ... unless its worker died
    assert ob.admission(probing, now=1061 + 600, probe_timeout=600) == "probe"


def test_probe_success_closes_and_failure_reopens():
    probing = ob.start_probe(ob.Breaker(ob.OPEN, 5, 1060, None), now=1061)
    assert ob.on_success(probing) == ob.Breaker()
    reopened = ob.on_failure(probing, threshold=5, cooldown_seconds=60, now=1070)
    assert reopened == ob.Breaker(ob.OPEN, 6, 1130, None)
    # a single failed probe reopens even under a high threshold
    assert (
        ob.on_failure(ob.start_probe(ob.Breaker(ob.OPEN, 1, 0, None), 1), 99, 10, 2).state
        == ob.OPEN
    )
