"""Key rotation covers every encrypted column (architecture review 3.2, issue 14 item 11).

End to end, with the keys where an administrator puts them (the server option
``hc_p2p_encryption_keys``): secrets of every kind are stored under an old key; a new key is
prepended; the rotation runs from Settings; the old key is removed.  Then a signed request
of a connector still passes, an outbound event is still signed, bank details and inbox
payloads still decrypt, and nothing is left under the old key.

The registry of encrypted columns cannot be forgotten: the database is scanned for Fernet
tokens, and a column holding one that is not declared ``hc_encrypted`` fails the test.
"""

import base64
import json
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import Command
from odoo import tools
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests.common import _super_send
from odoo.tools import SQL

from ..trust import crypto
from .security_api_common import SecurityCase
from .test_outbox import Receiver

IBAN = "DE89370400440532013000"
NEW_IBAN = "NL91ABNA0417164300"
SECRET = "endpoint-secret-before-0123456789"
SECRET_2 = "endpoint-secret-current-0123456789"
# A Fernet token starts with its version byte 0x80 and a 64-bit timestamp whose high bytes
# are zero: "gAAAAA" in base64, and "Z0FBQUFB" once more base64-encoded (Binary fields).
TOKEN_MARKERS = ("gAAAAA", "Z0FBQUFB")


@tagged("post_install", "-at_install")
class TestKeyRotation(SecurityCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver(secret=SECRET_2)
        cls.addClassCleanup(cls.receiver.stop)
        cls.Vault = cls.env["hc.vault"]
        cls.admin = cls.env.ref("base.user_admin")
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Owens & Minor", "is_company": True, "supplier_rank": 1}
        )

    @classmethod
    def _request_handler(cls, s, r, **kw):
        # loopback deliveries to the test receiver go out (see tests/test_outbox.py)
        if urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.old, self.new = crypto.generate_key(), crypto.generate_key()
        self.configured = [self.old]
        real_get = tools.config.get

        def get(key, default=None):
            if key == crypto.CONFIG_OPTION:
                return ",".join(self.configured)
            return real_get(key, default)

        self.startPatcher(patch.object(tools.config, "get", get))

    def restart_with(self, *keys):
        """The administrator edits hc_p2p_encryption_keys and restarts the server."""
        self.env.flush_all()
        self.configured = list(keys)
        self.env.invalidate_all()
        self.env.registry.clear_cache()

    # -- fixtures: one secret of every kind, under the old key ------------------------------

    def store_secrets(self):
        connector = self.connector
        connector.require_signature = True
        signing_secret = connector._generate_signing_secret(overlap_hours=24)
        # an inbound vendor update with bank details: encrypted payload + change request
        doc = self.vendor_doc(bank_accounts=[{"iban": NEW_IBAN, "holder_name": "O&M"}])
        response = self.post_signed("vendors", doc, signing_secret)
        self.assertEqual(response.status_code, 202, response.text)
        message = self.Inbox.browse(response.json()["id"])
        self.assertTrue(message.payload_encrypted)
        self.process(self.lane_bulk)
        # the same message as the archive keeps it a year later (encrypted payload too)
        columns = SQL(", ").join(
            SQL.identifier(c) for c in self.env["hc.inbox.message.archive"]._columns_moved()
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """INSERT INTO hc_inbox_message_archive (%s, archived_at, archive_month)
                   SELECT %s, now(), date_trunc('month', now())::date
                     FROM hc_inbox_message WHERE id = %s""",
                columns,
                columns,
                message.id,
            )
        )
        request = self.env["hc.bank.change.request"].search([("message_id", "=", message.id)])
        self.assertTrue(request.sudo().new_secret)
        Bank = self.env["res.partner.bank"]
        account = Bank.sudo().create(
            dict(Bank._hc_vals_from_details({"acc_number": IBAN}), partner_id=self.vendor.id)
        )
        endpoint = self.env["hc.outbox.endpoint"].create(
            {
                "name": "rotation",
                "connector_id": connector.id,
                "url": self.receiver.url("/rotation"),
                "event_type_ids": [
                    Command.set(
                        self.env.ref("healthcare_p2p_integration.outbox_event_type_po_released").ids
                    )
                ],
                "secret": SECRET,
                "timeout_seconds": 2.0,
            }
        )
        endpoint.secret = SECRET_2  # the previous secret stays valid for 24 h
        self.assertTrue(endpoint.sudo().previous_secret_encrypted)
        return signing_secret, message, request, account, endpoint

    # -- the scan -----------------------------------------------------------------------------

    def columns_holding_tokens(self):
        """``{(table, column)}`` of every text or bytea column holding a Fernet token."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
                WHERE table_schema = current_schema()
                  AND data_type IN ('text', 'character varying', 'bytea')
                  AND table_name IN (SELECT tablename FROM pg_tables
                                      WHERE schemaname = current_schema())"""
        )
        by_table = {}
        for table, column, data_type in self.env.cr.fetchall():
            by_table.setdefault(table, []).append((column, data_type))
        found = set()
        for table, columns in by_table.items():
            tests = []
            for column, data_type in columns:
                text = SQL.identifier(column)
                if data_type == "bytea":
                    text = SQL("encode(%s, 'escape')", text)
                tests.append(
                    SQL(
                        "bool_or(%s)",
                        SQL(" OR ").join(SQL("%s LIKE %s", text, f"%{m}%") for m in TOKEN_MARKERS),
                    )
                )
            self.env.cr.execute(
                SQL("SELECT %s FROM %s", SQL(", ").join(tests), SQL.identifier(table))
            )
            for (column, _type), hit in zip(columns, self.env.cr.fetchone(), strict=True):
                if hit:
                    found.add((table, column))
        return found

    def registered_columns(self):
        return {
            (self.env[model]._table, fname)
            for model, fname, _flag in self.Vault._encrypted_fields()
        }

    # -- tests ----------------------------------------------------------------------------

    def test_every_column_holding_ciphertext_is_registered(self):
        self.store_secrets()
        registered = self.registered_columns()
        self.assertEqual(
            registered,
            {
                ("res_partner_bank", "hc_secret"),
                ("hc_bank_change_request", "new_secret"),
                ("hc_connector_secret", "secret_encrypted"),
                ("hc_outbox_endpoint", "secret_encrypted"),
                ("hc_outbox_endpoint", "previous_secret_encrypted"),
                ("hc_inbox_message", "payload"),
                # the archive keeps a message's columns, the encrypted payload included
                ("hc_inbox_message_archive", "payload"),
            },
        )
        found = self.columns_holding_tokens()
        self.assertEqual(
            found - registered,
            set(),
            "these columns hold Fernet tokens but are not declared hc_encrypted: key "
            "rotation would leave them undecryptable",
        )
        self.assertEqual(registered - found, set(), "the scan finds every registered column")

    def test_the_vault_refuses_an_undeclared_field(self):
        with self.assertRaisesRegex(RuntimeError, "not declared hc_encrypted"):
            self.Vault._encrypt(self.env["hc.connector.secret"], "fingerprint", "x")
        with self.assertRaisesRegex(RuntimeError, "not declared hc_encrypted"):
            self.Vault._decrypt(self.env["res.partner.bank"], "acc_number", "x")

    def test_rotation_end_to_end(self):
        signing_secret, message, request, account, endpoint = self.store_secrets()
        # step 1: the new key first, restart; only an administrator may rotate
        self.restart_with(self.new, self.old)
        with self.assertRaises(AccessError):
            self.Vault.with_user(self.clerk_user())._rotate_keys()
        # step 2: Settings > Re-encrypt under the newest key
        settings = self.env["res.config.settings"].with_user(self.admin).create({})
        action = settings.action_hc_rotate_encryption_keys()
        text = action["params"]["message"]
        for column in (
            "hc.connector.secret.secret_encrypted",
            "hc.outbox.endpoint.secret_encrypted",
        ):
            self.assertIn(column, text)
        report = self.Vault._key_report()
        self.assertTrue(all(r["older"] == 0 and r["undecryptable"] == 0 for r in report.values()))
        # step 3: remove the old key, restart
        self.restart_with(self.new)
        report = self.Vault._key_report()
        for column, row in report.items():
            self.assertEqual(row["undecryptable"], 0, column)
        for column in (
            "res.partner.bank.hc_secret",
            "hc.bank.change.request.new_secret",
            "hc.connector.secret.secret_encrypted",
            "hc.outbox.endpoint.secret_encrypted",
            "hc.outbox.endpoint.previous_secret_encrypted",
            "hc.inbox.message.payload",
        ):
            self.assertGreaterEqual(report[column]["newest"], 1, column)
        # a signed request of the connector still passes
        response = self.post_signed(
            "vendors", self.vendor_doc(name="After rotation"), signing_secret
        )
        self.assertEqual(response.status_code, 202, response.text)
        # an outbound event is still signed, with the current and the previous secret
        self.assertEqual(endpoint._signing_secrets(), [SECRET_2, SECRET])
        event = self.env["hc.outbox.event"]._emit(
            "po.released", message, lambda _m: {"check": "after rotation"}
        )
        self.assertEqual(len(event), 1)
        self.assertEqual(self.env["hc.outbox.event"]._deliver(commit=False), 1)
        self.assertEqual(event.state, "delivered", event.error_message)
        self.assertTrue(self.receiver.requests[-1]["signature_ok"])
        # bank details, the change request and the stored payload still decrypt
        self.assertEqual(account._hc_decrypt()["acc_number"], IBAN)
        self.assertEqual(self.env["res.partner.bank"].search([("acc_number", "=", IBAN)]), account)
        self.assertEqual(request._hc_new_details()[0]["acc_number"], NEW_IBAN)
        self.assertEqual(json.loads(message._raw_payload())["bank_accounts"][0]["iban"], NEW_IBAN)
        # and none of them under the old key any more
        for token in (
            account.sudo().hc_secret,
            request.sudo().new_secret,
            endpoint.sudo().secret_encrypted,
            base64.b64decode(message.sudo().payload).decode(),
        ):
            with self.assertRaises(crypto.DecryptionError):
                crypto.decrypt([self.old], token)

    def test_a_token_no_key_opens_stops_the_rotation(self):
        _secret, _message, _request, account, _endpoint = self.store_secrets()
        before = account.sudo().hc_secret
        # the old key was dropped before the rotation ran
        self.restart_with(self.new)
        with self.assertRaisesRegex(UserError, "res.partner.bank.hc_secret"):
            self.Vault._rotate_keys()
        account.invalidate_recordset()
        self.assertEqual(account.sudo().hc_secret, before)

    def clerk_user(self):
        return self.env["res.users"].create(
            {
                "name": "Rotation clerk",
                "login": "rotation_clerk",
                "group_ids": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref(
                                "healthcare_p2p_integration.group_hc_integration_admin"
                            ).id,
                        ]
                    )
                ],
            }
        )
