"""The inbox archive: done messages past the archive age leave the hot table, stay
searchable by the people who read the inbox, are still recognised when resubmitted, come
back to be replayed while their payload is kept, and are purged by whole months."""

from datetime import timedelta

from odoo import Command
from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import HcCase


@tagged("post_install", "-at_install")
class TestInboxArchive(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Archive = cls.env["hc.inbox.message.archive"]
        group = cls.env.ref
        cls.admin = cls.env["res.users"].create(
            {
                "name": "Archive admin",
                "login": "archive_admin",
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [
                    Command.set(
                        [
                            group("base.group_user").id,
                            group("healthcare_p2p_integration.group_hc_integration_admin").id,
                        ]
                    )
                ],
            }
        )
        cls.auditor = cls.env["res.users"].create(
            {
                "name": "Archive auditor",
                "login": "archive_auditor",
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [
                    Command.set(
                        [
                            group("base.group_user").id,
                            group("healthcare_p2p_integration.group_hc_auditor").id,
                        ]
                    )
                ],
            }
        )

    def message(self, name, state, days):
        msg, status = self.accept([self.vendor_doc(name=name)])[0]
        self.assertEqual(status, "created")
        when = fields.Datetime.now() - timedelta(days=days)
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE hc_inbox_message SET state = %s, received_at = %s, finished_at = %s,
                      document = '{"name": "x"}' WHERE id = %s""",
            [state, when - timedelta(minutes=1), when if state in ("done", "dead") else None,
             msg.id],
        )  # fmt: skip
        msg.invalidate_recordset()
        return self.Inbox.browse(msg.id)

    def test_archive_moves_old_done_messages_only_and_they_stay_readable(self):
        old = self.message("Old done", "done", 120)
        recent = self.message("Recent done", "done", 5)
        dead = self.message("Old dead", "dead", 120)
        failed = self.message("Old failed", "failed", 120)
        needed = self.message("Old with an exception", "done", 120)
        self.env["hc.exception"]._raise(
            "data_quality", "check", "test:archive", message_id=needed.id
        )
        self.env["ir.config_parameter"].set_param(
            "healthcare_p2p_integration.archive_after_days", "90"
        )
        self.assertEqual(self.Archive._archive_days(), 90)
        key, finished = old.idempotency_key, old.finished_at
        self.assertEqual(self.Archive._archive_done(), 1)
        self.assertFalse(self.Inbox.search([("id", "=", old.id)]), "left the hot table")
        archived = self.Archive.search([("id", "=", old.id)])
        self.assertEqual((archived.idempotency_key, archived.state), (key, "done"))
        self.assertEqual(archived.archive_month, fields.Date.to_date(finished).replace(day=1))
        for kept in (recent, dead, failed, needed):
            self.assertTrue(self.Inbox.search([("id", "=", kept.id)]), kept.display_ref)
        # searchable by who reads the inbox, in the companies they work for
        self.assertEqual(
            self.Archive.with_user(self.auditor).search([("id", "=", old.id)]), archived
        )
        other = self.env["res.company"].create({"name": "Far clinic"})
        self.auditor.write({"company_ids": [Command.link(other.id)], "company_id": other.id})
        self.assertFalse(
            self.Archive.with_user(self.auditor)
            .with_context(allowed_company_ids=other.ids)
            .search([("id", "=", old.id)])
        )
        # read-only
        with self.assertRaises(UserError):
            archived.with_user(self.admin).write({"result_summary": "changed"})
        # the age cannot go under the dashboard's longest window
        self.env["ir.config_parameter"].set_param(
            "healthcare_p2p_integration.archive_after_days", "3"
        )
        self.assertEqual(self.Archive._archive_days(), 32)

    def test_resubmitting_an_archived_document_is_a_duplicate(self):
        old = self.message("Resent", "done", 120)
        self.Archive._archive_done(days=90)
        again, status = self.accept([self.vendor_doc(name="Resent")])[0]
        self.assertEqual(status, "duplicate")
        self.assertEqual((again._name, again.id), ("hc.inbox.message.archive", old.id))
        self.assertEqual(again._api_status()["state"], "done")
        self.env.cr.execute(
            "SELECT count(*) FROM hc_inbox_message WHERE connector_id = %s AND idempotency_key = %s",
            [self.connector.id, again.idempotency_key],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "no second message")

    def test_restore_and_replay_is_audited(self):
        old = self.message("Replayed", "done", 120)
        self.Archive._archive_done(days=90)
        archived = self.Archive.browse(old.id)
        with self.assertRaises(Exception):  # noqa: B017 - not an integration administrator
            archived.with_user(self.auditor).action_replay()
        action = archived.with_user(self.admin).action_replay()
        self.assertEqual(action["res_model"], "hc.inbox.replay.wizard")
        self.assertFalse(self.Archive.search([("id", "=", old.id)]))
        restored = self.Inbox.browse(old.id)
        self.assertEqual(restored.state, "done")
        restored.with_user(self.admin)._replay("supplier asked for it again")
        self.assertEqual(restored.state, "received")
        actions = (
            self.env["hc.audit.log"]
            .search([("res_id", "=", old.id), ("action", "in", ("restore_from_archive", "replay"))])
            .mapped("action")
        )
        self.assertEqual(sorted(actions), ["replay", "restore_from_archive"])
        self.process()
        self.assertEqual(restored.state, "done")

    def test_retention_cleans_whole_months_and_keeps_the_audit_log(self):
        policy = self.env.ref("healthcare_p2p_integration.retention_internal")
        self.connector.data_classification = "internal"
        # finished 170 and 240 days ago: whole months past the payload age, past the log age
        very_old = self.message("Very old", "done", 240)
        old = self.message("Old", "done", 170)
        self.Archive._archive_done(days=90)
        audit_before = self.env["hc.audit.log"].search_count([])
        policy.write({"payload_days": 120, "log_days": 200})
        policy._purge()
        self.assertFalse(self.Archive.search([("id", "=", very_old.id)]), "its month deleted")
        kept = self.Archive.search([("id", "=", old.id)])
        self.assertTrue(kept)
        self.assertTrue(kept.payload_purged_at, "its whole month is past the payload age")
        self.assertFalse(kept.sudo().payload)
        with self.assertRaisesRegex(UserError, "purged"):
            kept.with_user(self.admin).action_replay()
        self.assertGreater(self.env["hc.audit.log"].search_count([]), audit_before)
        self.env.cr.execute(
            "SELECT count(*) FROM hc_audit_log WHERE action = 'retention_purge' AND res_id = %s",
            [policy.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 1)
