"""Odoo's request retry after a serialization failure sees the body that arrived (F12).

A POST whose transaction hits a serialization failure is served a second time by Odoo
(``odoo.service.model.retrying``) with the same request object.  These tests make the
database raise a real ``SerializationFailure`` (SQLSTATE 40001) on the first attempt of
each request, at the point where it happens under contention (storing the message, after
the body was read and its signature checked), while several threads post at once: the
same document, resubmissions of it, conflicting documents under one Idempotency-Key, and
signed requests.  Every valid request must be answered as if nothing had happened: no
``400 empty_body``, no ``401 signature_invalid``, and the stored bytes are the sent bytes.
"""

import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import requests

from odoo import http
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.hc_inbox_message import HcInboxMessage
from .security_api_common import SecurityCase

_accept = HcInboxMessage._accept


class FirstAttemptFails:
    """Patch for ``hc.inbox.message._accept``: the first attempt of each request gets a
    serialization failure raised by PostgreSQL itself; Odoo then serves the same request
    object again."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0

    def __call__(self, model, connector, doc_type, company, content_type, documents, **kw):
        with self.lock:
            self.calls += 1
        first = not getattr(http.request, "_hc_test_failed_once", False)
        if first:
            http.request._hc_test_failed_once = True
            model.env.cr.execute(
                "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access due to concurrent "
                "update (forced by the test)' USING ERRCODE = 'serialization_failure'; END $$"
            )
        return _accept(model, connector, doc_type, company, content_type, documents, **kw)


@tagged("post_install", "-at_install")
class TestRetriedRequestsSeeTheirBody(SecurityCase, HttpCase):
    def setUp(self):
        super().setUp()
        self.failing = FirstAttemptFails()
        failing = self.failing
        patcher = patch.object(
            HcInboxMessage, "_accept", lambda model, *args, **kw: failing(model, *args, **kw)
        )
        patcher.start()
        self.addCleanup(patcher.stop)
        # the retry waits up to 2 s: keep the test short
        sleep = patch("odoo.service.model.time.sleep", lambda _s: None)
        sleep.start()
        self.addCleanup(sleep.stop)
        # the forced failures are logged as bad queries: expected, not errors of the run
        self.enterContext(mute_logger("odoo.sql_db"))

    def send(self, endpoint, body, headers):
        """One POST from a thread of its own (no shared session between threads)."""
        hdrs = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"}
        hdrs.update(headers)
        return requests.post(
            f"{self.base_url()}/api/hc/v1/{endpoint}",
            data=body,
            headers=hdrs,
            cookies=self.opener.cookies,  # the test server serves only its own tests
            timeout=60,
        )

    def concurrently(self, calls):
        """Send ``calls`` from 4 threads at once (what ``url_open`` does for one request:
        flush, then allow requests carrying this test's cookie)."""
        self.env.flush_all()
        with self.allow_requests(), ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda c: self.send(*c), calls))

    def assertNoRetryRefusal(self, responses):
        for response in responses:
            self.assertNotIn(response.status_code, (400, 401), response.text)

    def stored(self, message_id):
        """The stored document, parsed (intake stores each document's bytes as sent)."""
        message = self.Inbox.browse(message_id)
        message.invalidate_recordset()
        return json.loads(base64.b64decode(message.sudo().payload))

    def test_concurrent_resubmissions_after_a_serialization_failure(self):
        doc = json.dumps(self.vendor_doc(name="Retry Medical")).encode()
        other = json.dumps(self.vendor_doc(name="Retry Surgical")).encode()
        calls = [("vendors", doc, {}) for _i in range(4)]
        calls += [("vendors", other, {"Idempotency-Key": "retry-other"}) for _i in range(2)]
        responses = self.concurrently(calls)
        self.assertNoRetryRefusal(responses)
        self.assertEqual(
            sorted(r.status_code for r in responses[:4]), [200, 200, 200, 202], "one created"
        )
        self.assertEqual(sorted(r.status_code for r in responses[4:]), [200, 202])
        self.assertEqual(len({r.json()["id"] for r in responses[:4]}), 1)
        self.assertEqual(self.stored(responses[0].json()["id"]), json.loads(doc))
        self.assertEqual(self.stored(responses[4].json()["id"]), json.loads(other))
        # every request was served twice: the body was read by the attempt that failed
        self.assertEqual(self.failing.calls, 2 * len(calls))

    def test_conflicting_documents_under_one_key(self):
        """Same Idempotency-Key, different bodies, all retried: one is stored, the other
        gets 409 for ITS body (a retry reading no body would give 400 instead)."""
        first = json.dumps(self.vendor_doc(name="Key Holder")).encode()
        second = json.dumps(self.vendor_doc(name="Key Thief")).encode()
        responses = self.concurrently(
            [
                ("vendors", first, {"Idempotency-Key": "retry-conflict"}),
                ("vendors", second, {"Idempotency-Key": "retry-conflict"}),
            ]
        )
        self.assertNoRetryRefusal(responses)
        codes = sorted(r.status_code for r in responses)
        self.assertEqual(codes, [202, 409], [r.text for r in responses])
        winner = next(r for r in responses if r.status_code == 202)
        sent = first if responses[0].status_code == 202 else second
        self.assertEqual(self.stored(winner.json()["id"]), json.loads(sent))

    def test_signed_requests_are_verified_on_the_retried_bytes(self):
        self.connector.require_signature = True
        secret = self.connector._generate_signing_secret(overlap_hours=24)
        bodies = [json.dumps(self.vendor_doc(name=f"Signed {i}")).encode() for i in range(3)]
        calls = []
        for body in bodies:
            # each request signed with its own nonce; the first one sent twice (2 nonces)
            for _copy in range(2 if body is bodies[0] else 1):
                calls.append(
                    ("vendors", body, self.signed_headers(secret, body, "/api/hc/v1/vendors"))
                )
        responses = self.concurrently(calls)
        self.assertNoRetryRefusal(responses)
        self.assertEqual(
            sorted(r.status_code for r in responses),
            [200, 202, 202, 202],
            [r.text for r in responses],
        )
        for response, (_e, body, _h) in zip(responses, calls, strict=True):
            self.assertEqual(self.stored(response.json()["id"]), json.loads(body))
