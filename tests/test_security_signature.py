import json
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo import tools
from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import tagged

from ..api_contract import signature
from ..trust import crypto
from .security_api_common import SecurityCase

VENDORS = "/api/hc/v1/vendors"


@tagged("post_install", "-at_install")
class TestSignedRequests(SecurityCase, HttpCase):
    """Connectors that require signatures: every refusal fails closed with a stable code."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connector.require_signature = True
        cls.secret = cls.connector._generate_signing_secret(overlap_hours=24)

    def inbox_count(self):
        return self.Inbox.search_count([("connector_id", "=", self.connector.id)])

    def test_signed_post_and_get_are_accepted(self):
        response = self.post_signed("vendors", self.vendor_doc(), self.secret)
        self.assertEqual(response.status_code, 202, response.text)
        mid = response.json()["id"]
        target = f"/api/hc/v1/messages/{mid}"
        status = self.get(
            f"messages/{mid}", headers=self.signed_headers(self.secret, b"", target, "GET")
        )
        self.assertEqual(status.status_code, 200, status.text)
        # the query string is signed too
        target = "/api/hc/v1/messages?idempotency_key=sha256%3Aabc"
        found = self.get(
            "messages?idempotency_key=sha256%3Aabc",
            headers=self.signed_headers(self.secret, b"", target, "GET"),
        )
        self.assertError(found, 404, "not_found")  # signature passed; no such key
        unsigned = self.get(f"messages/{mid}")
        self.assertError(unsigned, 401, "signature_missing")

    def test_unsigned_and_partially_signed_requests_are_refused(self):
        before = self.inbox_count()
        response = self.post("vendors", self.vendor_doc())
        self.assertError(response, 401, "signature_missing")
        self.assertIn("HC-HMAC-SHA256", response.headers["WWW-Authenticate"])
        body = json.dumps(self.vendor_doc()).encode()
        for dropped in (
            signature.HEADER_TIMESTAMP,
            signature.HEADER_NONCE,
            signature.HEADER_SIGNATURE,
        ):
            hdrs = self.signed_headers(self.secret, body, VENDORS)
            del hdrs[dropped]
            self.assertError(self.post("vendors", body, headers=hdrs), 401, "signature_missing")
        self.assertEqual(self.inbox_count(), before, "nothing refused is stored")

    def test_wrong_or_tampered_signatures_are_invalid(self):
        before = self.inbox_count()
        body = json.dumps(self.vendor_doc()).encode()
        cases = {
            "wrong secret": (self.signed_headers("not-the-secret", body, VENDORS), body),
            "tampered body": (
                self.signed_headers(self.secret, body, VENDORS),
                body.replace(b"Medline", b"Mallory"),
            ),
            "other path": (
                self.signed_headers(self.secret, body, "/api/hc/v1/invoices"),
                body,
            ),
            "other method": (self.signed_headers(self.secret, body, VENDORS, method="PUT"), body),
        }
        for name, (hdrs, sent) in cases.items():
            with self.subTest(name):
                self.assertError(self.post("vendors", sent, headers=hdrs), 401, "signature_invalid")
        hdrs = self.signed_headers(self.secret, body, VENDORS)
        hdrs[signature.HEADER_SIGNATURE] = "sha256=" + "0" * 64
        self.assertError(self.post("vendors", body, headers=hdrs), 401, "signature_malformed")
        hdrs = self.signed_headers(self.secret, body, VENDORS)
        hdrs[signature.HEADER_NONCE] = "'; DROP TABLE hc_request_nonce;--"
        self.assertError(self.post("vendors", body, headers=hdrs), 401, "signature_malformed")
        self.assertEqual(self.inbox_count(), before)

    def test_timestamp_window_is_per_connector(self):
        now = int(time.time())
        old = self.post_signed("vendors", self.vendor_doc(), self.secret, ts=now - 301)
        self.assertError(old, 401, "timestamp_out_of_window")
        future = self.post_signed("vendors", self.vendor_doc(), self.secret, ts=now + 400)
        self.assertError(future, 401, "timestamp_out_of_window")
        self.connector.signature_window_seconds = 900
        late = self.post_signed("vendors", self.vendor_doc(), self.secret, ts=now - 600)
        self.assertEqual(late.status_code, 202, late.text)

    def test_nonce_is_single_use_within_the_window(self):
        nonce = "a" * 32
        first = self.post_signed(
            "vendors",
            self.vendor_doc(),
            self.secret,
            nonce=nonce,
            headers={"Idempotency-Key": "n-1"},
        )
        self.assertEqual(first.status_code, 202, first.text)
        # the exact same signed request again (a replay) is refused before idempotency
        replay = self.post_signed(
            "vendors",
            self.vendor_doc(),
            self.secret,
            nonce=nonce,
            headers={"Idempotency-Key": "n-1"},
        )
        self.assertError(replay, 401, "nonce_reused")
        # a freshly signed, different request reusing the nonce is refused too
        other = self.post_signed(
            "vendors", self.vendor_doc(gln="0614141000029"), self.secret, nonce=nonce
        )
        self.assertError(other, 401, "nonce_reused")
        # another connector may use the same nonce: nonces are unique per connector
        second = self.env["hc.connector"].create(
            {
                "name": "Second",
                "code": "second",
                "allowed_doc_type_ids": [(6, 0, self.doc_types.ids)],
                "require_signature": True,
            }
        )
        second_key = second._generate_api_key()
        second_secret = second._generate_signing_secret()
        ok = self.post_signed(
            "vendors", self.vendor_doc(), second_secret, key=second_key, nonce=nonce
        )
        self.assertEqual(ok.status_code, 202, ok.text)
        # once the window of its first use is over, the row no longer blocks the nonce
        self.env.cr.execute(
            "UPDATE hc_request_nonce SET expires_at = now() at time zone 'utc' - interval '1 s'"
            " WHERE connector_id = %s AND nonce = %s",
            [self.connector.id, nonce],
        )
        later = self.post_signed(
            "vendors", self.vendor_doc(gln="0614141000036"), self.secret, nonce=nonce
        )
        self.assertEqual(later.status_code, 202, later.text)

    def test_a_refused_signature_uses_up_no_nonce(self):
        nonce = "b" * 32
        body = json.dumps(self.vendor_doc()).encode()
        bad = self.signed_headers("wrong", body, VENDORS, nonce=nonce)
        self.assertError(self.post("vendors", body, headers=bad), 401, "signature_invalid")
        good = self.post_signed("vendors", self.vendor_doc(), self.secret, nonce=nonce)
        self.assertEqual(good.status_code, 202, good.text)

    def test_rotation_overlap_then_expiry(self):
        old_secret = self.secret
        new_secret = self.connector._generate_signing_secret(overlap_hours=2)
        self.assertNotEqual(old_secret, new_secret)
        for gln, secret in (("0614141000029", new_secret), ("0614141000036", old_secret)):
            response = self.post_signed("vendors", self.vendor_doc(gln=gln), secret)
            self.assertEqual(response.status_code, 202, response.text)
        old_record = self.connector.secret_ids.filtered(lambda s: s.state == "expiring")
        self.assertEqual(len(old_record), 1)
        # the overlap ends: the old secret is refused, the new one still works
        old_record.expires_at = fields.Datetime.now() - timedelta(seconds=1)
        self.env.registry.clear_cache()
        self.assertEqual(old_record.state, "expired")
        self.assertError(
            self.post_signed("vendors", self.vendor_doc(gln="0614141000043"), old_secret),
            401,
            "signature_invalid",
        )
        self.assertEqual(
            self.post_signed(
                "vendors", self.vendor_doc(gln="0614141000043"), new_secret
            ).status_code,
            202,
        )
        # the cleanup erases the ciphertext of expired secrets
        self.env["hc.connector.secret"]._gc_erase_expired()
        self.assertFalse(old_record.sudo().secret_encrypted)

    def test_rotation_without_overlap_revokes_at_once(self):
        leaked = self.secret
        fresh = self.connector._generate_signing_secret(overlap_hours=0)
        self.assertError(
            self.post_signed("vendors", self.vendor_doc(), leaked), 401, "signature_invalid"
        )
        self.assertEqual(self.post_signed("vendors", self.vendor_doc(), fresh).status_code, 202)
        revoked = self.connector.secret_ids.filtered(lambda s: s.state == "expired")
        self.assertTrue(revoked)
        self.assertFalse(revoked.sudo().secret_encrypted, "a revoked secret is erased")

    def test_no_valid_secret_fails_closed(self):
        self.connector._generate_signing_secret(overlap_hours=0)
        self.connector.secret_ids.write({"expires_at": fields.Datetime.now()})
        self.env.registry.clear_cache()
        response = self.post_signed("vendors", self.vendor_doc(), self.secret)
        self.assertError(response, 401, "signature_invalid")

    def test_secret_that_does_not_decrypt_fails_closed(self):
        record = self.connector.secret_ids.sudo()
        record.secret_encrypted = crypto.encrypt([crypto.generate_key()], self.secret)
        self.env.registry.clear_cache()
        with self.assertLogs("odoo.addons.healthcare_p2p_integration", "WARNING") as logs:
            response = self.post_signed("vendors", self.vendor_doc(), self.secret)
        self.assertError(response, 401, "signature_invalid")
        self.assertIn("does not decrypt", "\n".join(logs.output))
        self.assertNotIn(self.secret, "\n".join(logs.output))

    def test_secret_is_encrypted_at_rest_and_shown_once(self):
        self.env.cr.execute(
            "SELECT secret_encrypted, fingerprint FROM hc_connector_secret WHERE connector_id = %s",
            [self.connector.id],
        )
        [(stored, fingerprint)] = self.env.cr.fetchall()
        self.assertNotIn(self.secret, stored)
        self.assertEqual(crypto.decrypt(crypto.keys_from_config(tools.config), stored), self.secret)
        self.assertNotIn(fingerprint, self.secret.encode().hex())  # a hash, not a prefix
        # the wizard returns a dialog on a model without a table
        wizard = self.env["hc.connector.secret.wizard"].create(
            {"connector_id": self.connector.id, "overlap_hours": 1}
        )
        action = wizard.action_generate()
        self.assertEqual(action["res_model"], "hc.connector.secret.show")
        shown = action["context"]["default_secret"]
        self.assertTrue(self.env["hc.connector.secret.show"]._abstract)
        self.assertEqual(self.post_signed("vendors", self.vendor_doc(), shown).status_code, 202)
        self.env.cr.execute(
            "SELECT count(*) FROM hc_connector_secret WHERE secret_encrypted LIKE %s",
            [f"%{shown}%"],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        # rotation is audited without the secret
        entry = self.env["hc.audit.log"].search(
            [("action", "=", "signing_secret_rotated")], order="id desc", limit=1
        )
        self.assertTrue(entry)
        self.assertNotIn(shown, json.dumps(entry.read()[0], default=str))

    def test_issuing_needs_an_admin_and_a_key(self):
        clerk = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "clerk_sig",
                "group_ids": [
                    (6, 0, [self.env.ref("healthcare_p2p_integration.group_hc_ap_clerk").id])
                ],
            }
        )
        with self.assertRaises(UserError):
            self.connector.with_user(clerk).action_generate_signing_secret()
        real_get = tools.config.get

        def no_key(key, default=None):
            return None if key == crypto.CONFIG_OPTION else real_get(key, default)

        with (
            patch.object(tools.config, "get", no_key),
            patch.dict("os.environ", {crypto.ENV_VARIABLE: ""}),
            self.assertRaises(UserError),
        ):
            self.connector._generate_signing_secret()

    def test_unsigned_connector_is_unaffected(self):
        # the control: this very request is refused while the connector requires signatures
        self.assertError(self.post("vendors", self.vendor_doc()), 401, "signature_missing")
        before = self.inbox_count()
        self.connector.require_signature = False
        response = self.post("vendors", self.vendor_doc())
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(self.inbox_count(), before + 1, "accepted and stored")

    def test_window_change_extends_remembered_nonces_and_purge(self):
        nonce = "c" * 32
        self.assertEqual(
            self.post_signed("vendors", self.vendor_doc(), self.secret, nonce=nonce).status_code,
            202,
        )
        Nonce = self.env["hc.request.nonce"]
        row = Nonce.search([("connector_id", "=", self.connector.id), ("nonce", "=", nonce)])
        before = row.expires_at
        self.connector.signature_window_seconds = 600
        row.invalidate_recordset()
        self.assertEqual(row.expires_at - before, timedelta(seconds=300))
        # purge: expired rows go, live ones stay
        expired = Nonce.create(
            {
                "connector_id": self.connector.id,
                "nonce": "d" * 32,
                "expires_at": fields.Datetime.now() - timedelta(minutes=1),
            }
        )
        self.assertGreaterEqual(Nonce._cron_purge(), 1)
        self.assertFalse(expired.exists())
        self.assertTrue(row.exists())
