from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MatchCase


@tagged("post_install", "-at_install")
class TestRetention(MatchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Policy = cls.env["hc.retention.policy"]
        cls.confidential = cls.env.ref("healthcare_p2p_integration.retention_confidential")
        cls.confidential.write({"payload_days": 10, "log_days": 30})
        cls.restricted = cls.env.ref("healthcare_p2p_integration.retention_restricted")
        cls.restricted.write({"payload_days": 0, "log_days": 0})
        cls.bank = cls.env["hc.connector"].create(
            {
                "name": "Bank",
                "code": "bank",
                "data_classification": "restricted",
                "allowed_doc_type_ids": [(6, 0, cls.doc_types.ids)],
            }
        )

    def message(self, name, state, days, connector=None, finished=True):
        msg, status = self.accept([self.vendor_doc(name=name)], connector=connector)[0]
        self.assertEqual(status, "created")
        when = fields.Datetime.now() - timedelta(days=days)
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE hc_inbox_message SET state = %s, received_at = %s, finished_at = %s,
                      document = '{"name": "x"}' WHERE id = %s""",
            [state, when, when if finished else None, msg.id],
        )
        msg.invalidate_recordset()
        return self.Inbox.browse(msg.id)

    def test_purge_keeps_what_is_still_needed_and_never_the_audit_log(self):
        done_old = self.message("a", "done", 15)
        done_recent = self.message("b", "done", 2)
        dead_with_exception = self.message("c", "dead", 15)
        exc = self.env["hc.exception"]._raise(
            "data_quality", "bad vendor", "test:c", message_id=dead_with_exception.id
        )
        blocked_bill = self.make_bill(self.make_po(receive=0))
        self.match(blocked_bill)
        self.assertEqual(blocked_bill.hc_match_state, "blocked")
        created_blocked_bill = self.message("d", "done", 15)
        blocked_bill.hc_message_id = created_blocked_bill
        unpaid = self.make_bill(self.make_po())
        self.match(unpaid)
        self.assertEqual(unpaid.payment_state, "not_paid")
        names_unpaid_bill = self.message("e", "done", 15)
        names_unpaid_bill.sudo().write({"result_model": "account.move", "result_ids": unpaid.ids})
        unfinished = self.message("f", "failed", 15, finished=False)
        very_old = self.message("g", "done", 40)
        paid_bill = self.make_bill(self.make_po())
        self.match(paid_bill)
        created_paid_bill = self.message("h", "done", 40)
        paid_bill.hc_message_id = created_paid_bill
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_move SET payment_state = 'paid' WHERE id = %s", [paid_bill.id]
        )
        paid_bill.invalidate_recordset()
        restricted_old = self.message("r", "done", 100, connector=self.bank)
        audit_before = self.env["hc.audit.log"].search([]).ids
        hash_before = done_old.content_hash

        purged, deleted = self.confidential._purge()

        self.assertEqual((purged, deleted), (1, 2))
        # purged: payload and canonical document gone, metadata and hash kept
        self.assertFalse(done_old.payload)
        self.assertFalse(done_old.document)
        self.assertTrue(done_old.payload_purged_at)
        self.assertEqual(done_old.content_hash, hash_before)
        self.assertEqual(done_old.state, "done")
        # deleted after log_days, unless still needed
        self.assertFalse(very_old.exists())
        self.assertFalse(created_paid_bill.exists())
        self.assertFalse(paid_bill.hc_message_id, "a paid bill no longer needs it")
        # kept: recent, unfinished, an open exception's, an unmatched or unpaid bill's
        for kept in (
            done_recent,
            dead_with_exception,
            created_blocked_bill,
            names_unpaid_bill,
            unfinished,
            restricted_old,
        ):
            self.assertTrue(kept.payload, f"{kept.display_ref} kept")
            self.assertFalse(kept.payload_purged_at)
        # the audit log is never purged, and records the purge
        audit_after = self.env["hc.audit.log"].search([])
        self.assertLess(set(audit_before), set(audit_after.ids))
        entry = audit_after.filtered(lambda e: e.action == "retention_purge")
        self.assertEqual(entry.data["payloads_purged"], 1)
        self.assertEqual(entry.data["messages_deleted"], 2)
        self.assertEqual(self.confidential.last_purged_payloads, 1)
        # re-run: nothing more
        self.assertEqual(self.confidential._purge(), (0, 0))
        # once the exception is resolved, its message follows the policy
        exc._resolve("fixed", "corrected at the source")
        self.assertEqual(self.confidential._purge(), (1, 0))
        self.assertFalse(dead_with_exception.payload)

    def test_purged_message_still_deduplicates_and_cannot_be_replayed(self):
        old = self.message("Owens", "done", 15)
        self.Policy._cron_purge()
        self.assertTrue(old.payload_purged_at)
        again, status = self.accept([self.vendor_doc(name="Owens")])[0]
        self.assertEqual((again, status), (old, "duplicate"), "the resubmission is recognised")
        with self.assertRaisesRegex(UserError, "purged"):
            old._replay("try again")

    @mute_logger("odoo.sql_db")  # the CHECK violation provoked below
    def test_days_validation(self):
        with self.assertRaises(UserError):
            self.confidential.write({"payload_days": 60, "log_days": 30})
        with self.assertRaises(Exception):  # noqa: B017 - the database CHECK
            with self.env.cr.savepoint():
                self.confidential.write({"payload_days": -1})
                self.env.flush_all()

    def test_zero_days_keeps_forever(self):
        self.confidential.write({"payload_days": 0, "log_days": 0})
        old = self.message("ancient", "done", 3000)
        self.assertEqual(self.confidential._purge(), (0, 0))
        self.assertTrue(old.payload)
