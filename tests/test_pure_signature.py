"""The request-signing scheme, as a pure function: no ORM, no database."""

import hashlib
import hmac

import pytest

from ..api_contract import signature as sig

SECRET = "hcs_3q2+7wZ-example-secret-not-real-0000000000"
BODY = b'{"identifiers":[{"scheme":"GLN","value":"0614141000012"}],"name":"Acme"}'
NOW = 1_764_028_800
NONCE = "0f8b6c1e2d3a4b5c6d7e8f9a0b1c2d3e"
TARGET = "/api/hc/v1/vendors"


def headers(secret=SECRET, ts=NOW, nonce=NONCE, body=BODY, method="POST", target=TARGET):
    return {
        sig.HEADER_TIMESTAMP: str(ts),
        sig.HEADER_NONCE: nonce,
        sig.HEADER_SIGNATURE: sig.sign(secret, method, target, ts, nonce, body),
    }


def check(hdrs, secrets=(SECRET,), body=BODY, method="POST", target=TARGET, now=NOW, window=300):
    return sig.verify(list(secrets), method, target, hdrs, body, now, window)


def test_canonical_string_is_the_documented_one():
    expected = f"POST\n{TARGET}\n{NOW}\n{NONCE}\n{hashlib.sha256(BODY).hexdigest()}".encode()
    assert sig.canonical_string("post", TARGET, NOW, NONCE, BODY) == expected
    # an independent HMAC over those bytes gives the header value
    mac = hmac.new(SECRET.encode(), expected, hashlib.sha256).hexdigest()
    assert sig.sign(SECRET, "POST", TARGET, NOW, NONCE, BODY) == f"v1={mac}"
    # no body signs the SHA-256 of the empty string
    assert sig.canonical_string("GET", "/x", 1, NONCE, None).endswith(
        b"\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_known_vector():
    # Fixed vector published in the README: a sender can check its implementation on it.
    value = sig.sign(
        "demo-secret-do-not-use",
        "POST",
        "/api/hc/v1/vendors",
        1764028800,
        "3f9a2c7e1b8d4f60a5c2e9b7d1f4a8c3",
        b'{"name":"Acme"}',
    )
    canonical = (
        b"POST\n/api/hc/v1/vendors\n1764028800\n3f9a2c7e1b8d4f60a5c2e9b7d1f4a8c3\n"
        + hashlib.sha256(b'{"name":"Acme"}').hexdigest().encode()
    )
    assert value == "v1=" + hmac.new(b"demo-secret-do-not-use", canonical, "sha256").hexdigest()
    # the exact value printed in the README's worked example
    assert value == "v1=feb942ad6af569805771132364655a389b70ee0cf449281f884b70f4f4f60958"


def test_valid_signature_verifies():
    result = check(headers())
    assert result == sig.Verified(secret_index=0, timestamp=NOW, nonce=NONCE)


def test_edges_of_the_window_are_inside_and_one_second_more_is_outside():
    assert check(headers(ts=NOW - 300)).timestamp == NOW - 300
    assert check(headers(ts=NOW + 300)).timestamp == NOW + 300
    for ts in (NOW - 301, NOW + 301, 0):
        with pytest.raises(sig.SignatureError) as err:
            check(headers(ts=ts))
        assert err.value.code == "timestamp_out_of_window"
    # the window is per connector
    assert check(headers(ts=NOW - 1000), window=1200)
    with pytest.raises(sig.SignatureError):
        check(headers(ts=NOW - 31), window=30)


@pytest.mark.parametrize("missing", [sig.HEADER_TIMESTAMP, sig.HEADER_NONCE, sig.HEADER_SIGNATURE])
def test_each_missing_header_is_signature_missing(missing):
    hdrs = headers()
    del hdrs[missing]
    with pytest.raises(sig.SignatureError) as err:
        check(hdrs)
    assert err.value.code == "signature_missing"
    assert missing in err.value.message
    hdrs[missing] = ""
    with pytest.raises(sig.SignatureError):
        check(hdrs)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (sig.HEADER_TIMESTAMP, "1764028800.5"),
        (sig.HEADER_TIMESTAMP, "-1764028800"),
        (sig.HEADER_TIMESTAMP, "2025-11-25T00:00:00Z"),
        (sig.HEADER_TIMESTAMP, "9" * 13),
        (sig.HEADER_NONCE, "short"),
        (sig.HEADER_NONCE, "x" * 129),
        (sig.HEADER_NONCE, "0f8b6c1e2d3a4b5c 6d7e8f9a0b1c2d3e"),
        (sig.HEADER_NONCE, "0f8b6c1e2d3a4b5c';DROP TABLE x;--"),
        (sig.HEADER_SIGNATURE, "abc"),
        (sig.HEADER_SIGNATURE, "v2=" + "0" * 64),
        (sig.HEADER_SIGNATURE, "v1=" + "0" * 63),
        (sig.HEADER_SIGNATURE, "v1=" + "G" * 64),
        (sig.HEADER_SIGNATURE, "sha256=" + "0" * 64),
    ],
)
def test_malformed_headers_are_refused(header, value):
    hdrs = headers()
    hdrs[header] = value
    with pytest.raises(sig.SignatureError) as err:
        check(hdrs)
    assert err.value.code == "signature_malformed"


@pytest.mark.parametrize(
    "tamper",
    [
        {"body": BODY + b" "},
        {"body": BODY.replace(b"Acme", b"Acmf")},
        {"body": b""},
        {"method": "PUT"},
        {"target": "/api/hc/v1/invoices"},
        {"target": TARGET + "?x=1"},
        {"secrets": ("another-secret",)},
        {"secrets": ()},
        {"secrets": ("",)},
    ],
)
def test_anything_changed_is_signature_invalid(tamper):
    kwargs = {"secrets": (SECRET,), "body": BODY, "method": "POST", "target": TARGET}
    kwargs.update(tamper)
    with pytest.raises(sig.SignatureError) as err:
        check(headers(), **kwargs)
    assert err.value.code == "signature_invalid"


def test_changed_timestamp_or_nonce_breaks_the_signature():
    hdrs = headers()
    hdrs[sig.HEADER_TIMESTAMP] = str(NOW + 1)
    with pytest.raises(sig.SignatureError) as err:
        check(hdrs)
    assert err.value.code == "signature_invalid"
    hdrs = headers()
    hdrs[sig.HEADER_NONCE] = NONCE[::-1]
    with pytest.raises(sig.SignatureError) as err:
        check(hdrs)
    assert err.value.code == "signature_invalid"


def test_out_of_window_with_a_wrong_signature_says_invalid():
    # The clock is only discussed with the holder of a secret.
    with pytest.raises(sig.SignatureError) as err:
        check(headers(secret="wrong", ts=NOW - 10_000))
    assert err.value.code == "signature_invalid"


def test_uppercase_hex_is_malformed_not_silently_accepted():
    hdrs = headers()
    hdrs[sig.HEADER_SIGNATURE] = hdrs[sig.HEADER_SIGNATURE].upper().replace("V1=", "v1=")
    with pytest.raises(sig.SignatureError) as err:
        check(hdrs)
    assert err.value.code == "signature_malformed"


def test_rotation_overlap_accepts_each_listed_secret():
    old, new = "old-secret-0000000000", "new-secret-1111111111"
    assert check(headers(secret=new), secrets=(new, old)).secret_index == 0
    assert check(headers(secret=old), secrets=(new, old)).secret_index == 1
    # once the old one is no longer listed (overlap over), its signatures fail
    with pytest.raises(sig.SignatureError) as err:
        check(headers(secret=old), secrets=(new,))
    assert err.value.code == "signature_invalid"


def test_query_string_is_part_of_the_target():
    assert sig.request_target("/api/hc/v1/messages", b"") == "/api/hc/v1/messages"
    assert (
        sig.request_target("/api/hc/v1/messages", b"idempotency_key=a%20b")
        == "/api/hc/v1/messages?idempotency_key=a%20b"
    )
    target = "/api/hc/v1/messages?idempotency_key=k1"
    hdrs = headers(method="GET", target=target, body=b"")
    assert check(hdrs, method="GET", target=target, body=b"")
    with pytest.raises(sig.SignatureError):
        check(hdrs, method="GET", target="/api/hc/v1/messages?idempotency_key=k2", body=b"")


def test_sign_refuses_an_empty_secret():
    with pytest.raises(ValueError):
        sig.sign("", "POST", TARGET, NOW, NONCE, BODY)


def test_unicode_secret_and_body_are_utf8():
    secret = "clé-secrète-ünïcode-0000"
    body = '{"name":"Hôpital Saint-Éloi"}'.encode()
    assert check(headers(secret=secret, body=body), secrets=(secret,), body=body)


def test_openapi_documents_signature_headers_and_limits():
    from ..api_contract.openapi import build

    doc = build()
    documented = 0
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if path.endswith(("/health", "/metrics", "/openapi.json", "/replay")):
                continue
            documented += 1
            names = {p["name"] for p in operation.get("parameters", [])}
            assert {
                sig.HEADER_TIMESTAMP,
                sig.HEADER_NONCE,
                sig.HEADER_SIGNATURE,
            } <= names, (path, method)
            responses = operation["responses"]
            assert "Retry-After" in responses["429"]["headers"], (path, method)
            assert "nonce_reused" in responses["401"]["description"]
            if method == "post":
                assert {"411", "413"} <= set(responses), path
    assert documented == 16  # fourteen document endpoints and the two status lookups
