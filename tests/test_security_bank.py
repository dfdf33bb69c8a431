import base64
import json
from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import Form
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..trust import crypto
from .common import HcCase

IBAN = "DE89370400440532013000"
IBAN_SPACED = "DE89 3704 0044 0532 0130 00"
US_ACCOUNT = "4099887766"
US_ROUTING = "021000021"
CLEAR_FRAGMENTS = ("0532013000", "370400440", "409988776", "021000021")


@tagged("post_install", "-at_install")
class TestSecurityBank(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Bank = cls.env["res.partner.bank"]
        cls.Request = cls.env["hc.bank.change.request"]
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Cardinal Health", "is_company": True, "supplier_rank": 1}
        )
        ref = cls.env.ref
        cls.clerk = cls._user("bank_clerk", [ref("healthcare_p2p_integration.group_hc_ap_clerk")])
        cls.manager = cls._user(
            "bank_manager_a", [ref("healthcare_p2p_integration.group_hc_ap_manager")]
        )
        cls.manager_b = cls._user(
            "bank_manager_b", [ref("healthcare_p2p_integration.group_hc_ap_manager")]
        )
        cls.treasurer = cls._user(
            "bank_treasurer",
            [
                ref("healthcare_p2p_integration.group_hc_ap_clerk"),
                ref("healthcare_p2p_integration.group_hc_bank_unmasked"),
            ],
        )
        cls.company.hc_sod_bank_change = True

    @classmethod
    def _user(cls, login, groups):
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [
                    Command.set([g.id for g in groups] + [cls.env.ref("base.group_user").id])
                ],
            }
        )

    # -- helpers ------------------------------------------------------------------------

    def _store(self, partner=None, number=IBAN, **details):
        """An approved account, as the approval applies it (system)."""
        vals = self.Bank._hc_vals_from_details(dict(details, acc_number=number))
        return self.Bank.sudo().create(dict(vals, partner_id=(partner or self.vendor).id))

    def _request(self, user, number=US_ACCOUNT, partner=None, **extra):
        return self.Request.with_user(user).create(
            dict(
                {
                    "partner_id": (partner or self.vendor).id,
                    "new_acc_number": number,
                    "new_routing_number": US_ROUTING,
                    "new_bic": "CHASUS33",
                },
                **extra,
            )
        )

    def _row_text(self, table, record_id):
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT row_to_json(t)::text FROM {table} t WHERE id = %s", [record_id]
        )
        return self.env.cr.fetchone()[0]

    def _assert_no_clear(self, text, what):
        for fragment in CLEAR_FRAGMENTS:
            self.assertNotIn(fragment, text, f"{what} holds a clear bank number")

    def _audit_text(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT string_agg(row_to_json(t)::text, ' ') FROM hc_audit_log t")
        return self.env.cr.fetchone()[0] or ""

    def _no_keys(self):
        return patch.object(type(self.env["hc.vault"]), "_keys", lambda self: [])

    # -- encryption at rest -------------------------------------------------------------

    def test_encrypted_at_rest_masked_and_fingerprinted(self):
        account = self._store(routing_number=US_ROUTING, bic="DEUTDEFF")
        self.assertTrue(account.hc_protected)
        self.assertEqual(account.acc_number, "DE••••3000")
        self.assertEqual(account.hc_bic_masked, "••••DEFF")
        self.assertTrue(account.sanitized_acc_number.startswith("HCFP"))
        self._assert_no_clear(self._row_text("res_partner_bank", account.id), "the row")
        # the ciphertext holds the details: the system (and only it) reads them back
        details = account._hc_decrypt()
        self.assertEqual(details["acc_number"], IBAN)
        self.assertEqual(details["routing_number"], US_ROUTING)
        # equality searches (bank statements, Odoo's duplicate checks) find it by number
        self.assertEqual(self.Bank.search([("acc_number", "=", IBAN_SPACED)]), account)
        self.assertEqual(self.Bank.search([("acc_number", "in", [IBAN])]), account)
        self.assertNotIn(account, self.Bank.search([("acc_number", "!=", IBAN)]))
        self.assertFalse(self.Bank.search([("acc_number", "=", "DE89370400440532013001")]))
        # Odoo's unique (number, partner) still holds, on the fingerprint
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError):
            with self.env.cr.savepoint():
                self._store(number=IBAN_SPACED)
        # the same account on another vendor is flagged as a duplicate (fraud signal) ...
        other = self.env["res.partner"].create({"name": "Shell Co", "is_company": True})
        twin = self._store(partner=other)
        self.assertEqual(twin.duplicate_bank_partner_ids, self.vendor)
        # ... but a different account with the same last digits is not
        lookalike = self._store(partner=other, number="FR7630006000011234567893000")
        self.assertEqual(lookalike.acc_number[-4:], account.acc_number[-4:])
        self.assertFalse(lookalike.duplicate_bank_partner_ids)

    def test_system_writes_of_clear_numbers_are_encrypted(self):
        """Odoo's own flows (as the system) storing a clear number get it encrypted."""
        account = self.Bank.sudo().create({"partner_id": self.vendor.id, "acc_number": IBAN})
        self.assertTrue(account.hc_protected)
        self._assert_no_clear(self._row_text("res_partner_bank", account.id), "the row")
        account.sudo().write({"acc_number": US_ACCOUNT})
        self.assertEqual(account._hc_decrypt()["acc_number"], US_ACCOUNT)
        self._assert_no_clear(self._row_text("res_partner_bank", account.id), "the row")
        # the company's own accounts (journals) are not concerned
        own = self.Bank.sudo().create(
            {"partner_id": self.company.partner_id.id, "acc_number": "BE71096123456769"}
        )
        self.assertFalse(own.hc_protected)
        self.assertEqual(own.acc_number, "BE71096123456769")

    def test_no_key_refuses_to_store(self):
        with self._no_keys(), patch.dict("os.environ", {crypto.ENV_VARIABLE: ""}):
            with self.assertRaisesRegex(UserError, "hc_p2p_encryption_keys"):
                self.Bank.sudo().create({"partner_id": self.vendor.id, "acc_number": IBAN})
            with self.assertRaisesRegex(UserError, "hc_p2p_encryption_keys"):
                self._request(self.clerk)
            # an inbound vendor update with bank details is refused, not stored in clear
            [(message, _s)] = self.accept([self.vendor_doc(bank_accounts=[{"iban": IBAN}])])
            self.process(self.lane_bulk)
        self.assertEqual(message.state, "dead")
        self.assertIn("hc_p2p_encryption_keys", message.error_message)
        self.assertFalse(self.Bank.search([("partner_id.name", "=", "Medline Industries, Inc.")]))
        self.assertFalse(self.Request.search([("message_id", "=", message.id)]))
        self.assertEqual(message.document["bank_accounts"][0]["iban"], "DE••••3000")

    def test_vendor_payload_with_bank_details_encrypted_from_acceptance(self):
        [(message, _s)] = self.accept([self.vendor_doc(bank_accounts=[{"iban": IBAN}])])
        self.assertTrue(message.payload_encrypted, "encrypted before any worker sees it")
        self.env.flush_all()
        self.env.cr.execute("SELECT payload FROM hc_inbox_message WHERE id = %s", [message.id])
        stored = bytes(self.env.cr.fetchone()[0])
        self.assertNotIn(IBAN.encode(), base64.b64decode(stored))
        self.assertNotIn(IBAN.encode(), stored)
        self.assertIn(IBAN.encode(), message._raw_payload(), "decrypted for processing")
        # a vendor update without bank details is stored as received
        [(plain, _s)] = self.accept([self.vendor_doc(gln="0614141000029", name="Other")])
        self.assertFalse(plain.payload_encrypted)

    # -- reveal -------------------------------------------------------------------------

    def test_clerk_cannot_reveal_privileged_group_can_and_is_audited(self):
        account = self._store()
        with self.assertRaises(AccessError):
            account.with_user(self.clerk)._hc_reveal()
        with self.assertRaises(AccessError):
            account.with_user(self.manager).action_hc_reveal()
        self.assertEqual(account.with_user(self.treasurer)._hc_reveal()["acc_number"], IBAN)
        action = account.with_user(self.treasurer).action_hc_reveal()
        self.assertIn(IBAN, action["params"]["message"])
        entry = self.env["hc.audit.log"].search(
            [("action", "=", "bank_details_revealed"), ("res_id", "=", account.id)], limit=1
        )
        self.assertEqual(entry.user_id, self.treasurer)
        self._assert_no_clear(self._audit_text(), "the audit log")
        # what everyone else reads (views, exports, API) is masked
        self.clerk.group_ids += self.env.ref("base.group_allow_export")
        exported = account.with_user(self.clerk).export_data(["acc_number", "display_name"])
        self._assert_no_clear(json.dumps(exported), "an export")

    # -- change requests ----------------------------------------------------------------

    def test_manual_change_is_a_request_never_a_direct_edit(self):
        account = self._store()
        with self.assertRaisesRegex(UserError, "bank change request"):
            self.Bank.with_user(self.manager).create(
                {"partner_id": self.vendor.id, "acc_number": US_ACCOUNT}
            )
        with self.assertRaisesRegex(UserError, "bank change request"):
            account.with_user(self.manager).write({"acc_number": US_ACCOUNT})
        other = self.env["res.partner"].create({"name": "Other", "is_company": True})
        with self.assertRaisesRegex(UserError, "bank change request"):
            account.with_user(self.manager).write({"partner_id": other.id})
        request = self._request(self.clerk, mode="add", replace_bank_id=account.id)
        self.assertEqual(request.state, "pending")
        self.assertEqual(request.requested_by_id, self.clerk)
        self.assertEqual(request.old_masked, "DE••••3000")
        self.assertIn("••••7766", request.new_masked)
        self._assert_no_clear(
            self._row_text("hc_bank_change_request", request.id), "the request row"
        )
        # the clerk cannot decide, nor write the decision fields directly
        with self.assertRaises(AccessError):
            request.with_user(self.clerk).action_approve(reason="phoned")
        with self.assertRaises(UserError):
            request.with_user(self.manager).write({"state": "approved"})
        # an exception in the AP managers' queue, with an activity
        exc = request.exception_id
        self.assertEqual(exc.exception_type, "bank_change")
        self.assertEqual(exc.queue_id, self.env.ref("healthcare_p2p_integration.queue_bank_change"))
        self.assertTrue(
            self.env["hc.audit.log"].search_count(
                [("action", "=", "bank_change_requested"), ("res_id", "=", request.id)]
            )
        )
        request.with_user(self.manager).action_approve(reason="Called the vendor's known AP line")
        self.assertEqual(request.state, "approved")
        self.assertEqual(request.approver_id, self.manager)
        self.assertEqual(exc.state, "resolved")
        active = self.Bank.search([("partner_id", "=", self.vendor.id)])
        self.assertEqual(len(active), 1)
        self.assertEqual(active._hc_decrypt()["acc_number"], US_ACCOUNT)
        self.assertEqual(active._hc_decrypt()["routing_number"], US_ROUTING)
        self.assertFalse(account.active, "the replaced account is archived")
        self._assert_no_clear(self._audit_text(), "the audit log")

    def test_clerk_files_a_request_in_the_form(self):
        """The form a clerk uses: clear input is encrypted on save, shown masked after."""
        with Form(self.Request.with_user(self.clerk)) as form:
            form.partner_id = self.vendor
            form.new_acc_number = IBAN_SPACED
            form.new_bic = "DEUTDEFF"
        request = form.record
        self.assertEqual(request.state, "pending")
        self.assertEqual(request.new_masked, "DE••••3000, BIC ••••DEFF")
        self.assertFalse(request.new_acc_number, "the clear input is never read back")
        self._assert_no_clear(self._row_text("hc_bank_change_request", request.id), "the row")
        action = self.vendor.with_user(self.clerk).action_hc_bank_changes()
        self.assertEqual(self.Request.search(action["domain"]), request)
        self.assertEqual(self.vendor.hc_bank_change_count, 1)

    def test_requester_cannot_approve_segregation_of_duties(self):
        request = self._request(self.manager)
        with self.assertRaisesRegex(AccessError, "Segregation of duties"):
            request.with_user(self.manager).action_approve(reason="self-approval")
        with self.assertRaisesRegex(AccessError, "Segregation of duties"):
            request.with_user(self.manager).action_reject(reason="self-rejection")
        self.assertEqual(request.state, "pending")
        self.assertFalse(self.Bank.search([("partner_id", "=", self.vendor.id)]))
        # configurable per company
        self.company.hc_sod_bank_change = False
        request.with_user(self.manager).action_approve(reason="small clinic, one manager")
        self.assertEqual(request.state, "approved")

    def test_decision_needs_a_reason(self):
        request = self._request(self.clerk)
        action = request.with_user(self.manager).action_approve()
        self.assertEqual(action["res_model"], "hc.bank.change.decision.wizard")
        wizard = (
            self.env["hc.bank.change.decision.wizard"]
            .with_user(self.manager)
            .create(
                {"request_ids": [Command.set(request.ids)], "decision": "reject", "reason": " "}
            )
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertEqual(request.state, "pending")

    def test_rejected_change_leaves_old_details(self):
        account = self._store()
        request = self._request(self.clerk, mode="add", replace_bank_id=account.id)
        request.with_user(self.manager).action_reject(reason="Vendor never sent this")
        self.assertEqual(request.state, "rejected")
        self.assertEqual(self.Bank.search([("partner_id", "=", self.vendor.id)]), account)
        self.assertEqual(account._hc_decrypt()["acc_number"], IBAN)
        self.assertTrue(
            self.env["hc.audit.log"].search_count(
                [("action", "=", "bank_change_rejected"), ("res_id", "=", request.id)]
            )
        )
        with self.assertRaises(UserError):
            request.with_user(self.manager_b).action_approve(reason="changed my mind")

    def test_inbound_vendor_update_is_held_until_approved(self):
        doc = self.vendor_doc(
            bank_accounts=[{"iban": IBAN, "bic": "DEUTDEFF", "holder_name": "Medline Inc"}]
        )
        [(message, _s)] = self.accept([doc])
        self.process(self.lane_bulk)
        self.assertEqual(message.state, "done", message.error_message)
        vendor = self.env["res.partner"].browse(message.result_ids)
        self.assertFalse(vendor.bank_ids, "nothing applied before approval")
        request = self.Request.search([("message_id", "=", message.id)])
        self.assertEqual(request.state, "pending")
        self.assertEqual(request.mode, "replace_all")
        self.assertEqual(request.requested_by_id, self.connector.user_id)
        self.assertIn("held for approval", message.result_summary)
        # the canonical document kept on the message is masked, the raw payload encrypted
        self.assertEqual(message.document["bank_accounts"][0]["iban"], "DE••••3000")
        self.assertTrue(message.payload_encrypted)
        self._assert_no_clear(self._row_text("hc_inbox_message", message.id), "the message")
        self.assertNotIn(IBAN, message._payload_text())
        self.assertIn(IBAN.encode(), message._raw_payload())
        # a replay decrypts it and changes nothing more (same pending request)
        message._replay("check the replay of an encrypted payload")
        self.process(self.lane_bulk)
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.Request.search([("partner_id", "=", vendor.id)]), request)
        self.assertEqual(vendor.hc_bank_change_count, 1)
        # the same update again: no second request
        [(again, _s)] = self.accept([doc], key="second-delivery")
        self.process(self.lane_bulk)
        self.assertEqual(again.state, "done")
        self.assertEqual(self.Request.search_count([("partner_id", "=", vendor.id)]), 1)
        request.with_user(self.manager).action_approve(reason="Verified by phone")
        self.assertEqual(vendor.bank_ids._hc_decrypt()["acc_number"], IBAN)
        # the holder is in the token; the column keeps it masked like the number
        self.assertEqual(vendor.bank_ids.acc_holder_name, "M••• I•••")
        self.assertEqual(vendor.bank_ids._hc_decrypt()["holder_name"], "Medline Inc")
        # a later update replacing the account: held again; the old one stays until approved
        new_doc = self.vendor_doc(bank_accounts=[{"account_number": US_ACCOUNT}])
        [(third, _s)] = self.accept([new_doc])
        self.process(self.lane_bulk)
        change = self.Request.search([("message_id", "=", third.id)])
        self.assertEqual(change.old_masked, "DE••••3000")
        self.assertEqual(vendor.bank_ids._hc_decrypt()["acc_number"], IBAN)
        change.with_user(self.manager_b).action_approve(reason="Verified by phone")
        self.assertEqual(vendor.bank_ids._hc_decrypt()["acc_number"], US_ACCOUNT)
        self.assertEqual(
            self.Bank.with_context(active_test=False).search_count(
                [("partner_id", "=", vendor.id), ("active", "=", False)]
            ),
            1,
            "the replaced account is archived, not deleted",
        )
        self._assert_no_clear(self._audit_text(), "the audit log")

    def test_newer_vendor_update_supersedes_a_pending_one(self):
        [(first, _s)] = self.accept([self.vendor_doc(bank_accounts=[{"iban": IBAN}])])
        self.process(self.lane_bulk)
        [(second, _s)] = self.accept(
            [self.vendor_doc(bank_accounts=[{"account_number": US_ACCOUNT}])]
        )
        self.process(self.lane_bulk)
        older = self.Request.search([("message_id", "=", first.id)])
        newer = self.Request.search([("message_id", "=", second.id)])
        self.assertEqual(older.state, "cancelled")
        self.assertEqual(older.exception_id.state, "resolved")
        self.assertEqual(newer.state, "pending")
        self.assertTrue(
            self.env["hc.audit.log"].search_count(
                [("action", "=", "bank_change_superseded"), ("res_id", "=", older.id)]
            )
        )
        with self.assertRaises(UserError):
            older.with_user(self.manager).action_approve(reason="too late")

    def test_payments_refused_while_a_change_is_pending(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.vendor.id,
                "invoice_date": "2026-11-01",
                "invoice_line_ids": [
                    Command.create({"name": "Gloves", "quantity": 1, "price_unit": 100})
                ],
            }
        )
        bill.action_post()
        self.assertFalse(bill.hc_bank_change_pending)
        request = self._request(self.clerk)
        bill.invalidate_recordset(["hc_bank_change_pending"])
        self.assertTrue(bill.hc_bank_change_pending)
        with self.assertRaisesRegex(UserError, "bank details"):
            bill.action_register_payment()
        payment = self.env["account.payment"].create(
            {
                "payment_type": "outbound",
                "partner_type": "supplier",
                "partner_id": self.vendor.id,
                "amount": 100,
            }
        )
        with self.assertRaisesRegex(UserError, "bank details"):
            payment.action_post()
        request.with_user(self.manager).action_reject(reason="not genuine")
        bill.invalidate_recordset(["hc_bank_change_pending"])
        self.assertFalse(bill.hc_bank_change_pending)
        bill._hc_check_payable()  # no longer refused
        payment.action_post()
        self.assertIn(payment.state, ("in_process", "paid"))

    # -- key rotation -------------------------------------------------------------------

    def test_key_rotation_reencrypts_under_the_newest_key(self):
        old, new = crypto.generate_key(), crypto.generate_key()
        with patch.object(type(self.env["hc.vault"]), "_keys", lambda self: [old]):
            [(message, _s)] = self.accept([self.vendor_doc(bank_accounts=[{"iban": IBAN}])])
            self.process(self.lane_bulk)
            self.assertTrue(message.payload_encrypted)
            account = self._store()
            request = self._request(self.clerk)
            legacy = self.Bank.create(
                {"partner_id": self.vendor.id, "acc_number": "NL91ABNA0417164300"}
            )
            self.env.flush_all()
        # a clear account stored before this module (straight in SQL)
        self.env.cr.execute(
            "UPDATE res_partner_bank SET acc_number = %s, sanitized_acc_number = %s, "
            "hc_protected = false, hc_secret = NULL WHERE id = %s",
            ["NL91 ABNA 0417 1643 00", "NL91ABNA0417164300", legacy.id],
        )
        self.env.invalidate_all()
        # the legacy account, and any a kept development database already holds
        clear = (
            self.Bank.sudo()
            .with_context(active_test=False)
            .search([("hc_protected", "=", False)])
            .filtered(lambda b: b.acc_number and self.Bank._hc_is_protected_partner(b.partner_id))
        )
        self.assertIn(legacy, clear)
        with patch.object(type(self.env["hc.vault"]), "_keys", lambda self: [new, old]):
            action = self.env["res.config.settings"].create({}).action_hc_rotate_encryption_keys()
            self.assertIn(
                f"clear bank accounts encrypted: {len(clear)}", action["params"]["message"]
            )
            self.env.flush_all()
            self.env.cr.execute(
                "UPDATE res_partner_bank SET acc_number = %s, sanitized_acc_number = %s, "
                "hc_protected = false, hc_secret = NULL WHERE id = %s",
                ["NL91 ABNA 0417 1643 00", "NL91ABNA0417164300", legacy.id],
            )
            self.env.invalidate_all()
            counts = self.env["hc.vault"]._rotate_keys()
            self.env.flush_all()
        self.assertEqual(counts["derived"]["clear bank accounts encrypted"], 1)
        self.assertGreaterEqual(counts["columns"]["res.partner.bank.hc_secret"], 1)
        self.assertGreaterEqual(counts["columns"]["hc.bank.change.request.new_secret"], 2)
        self.assertEqual(counts["columns"]["hc.inbox.message.payload"], 1)
        self.env.invalidate_all()
        with patch.object(type(self.env["hc.vault"]), "_keys", lambda self: [new]):
            # the old key can go: everything decrypts and is found with the new one alone
            self.assertEqual(account._hc_decrypt()["acc_number"], IBAN)
            self.assertEqual(legacy._hc_decrypt()["acc_number"], "NL91ABNA0417164300")
            self.assertEqual(self.Bank.search([("acc_number", "=", IBAN)]), account)
            self.assertEqual(request._hc_new_details()[0]["acc_number"], US_ACCOUNT)
            self.assertIn(IBAN.encode(), message._raw_payload())
        self.assertEqual(legacy.acc_number, "NL••••4300")
        with self.assertRaises(crypto.DecryptionError):
            crypto.decrypt([old], account.sudo().hc_secret)
        self.assertTrue(
            self.env["hc.audit.log"].search_count([("action", "=", "encryption_keys_rotated")])
        )
        with self.assertRaises(AccessError):
            self.env["hc.vault"].with_user(self.manager)._rotate_keys()
        # the ciphertext itself is not readable by ordinary users either
        with self.assertRaises(AccessError):
            account.with_user(self.treasurer).read(["hc_secret"])
        with self.assertRaises(AccessError):
            request.with_user(self.manager).read(["new_secret"])
