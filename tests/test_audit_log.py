from unittest.mock import patch

import psycopg2

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import HcCase


def tampered_copy(cr, name="hc_audit_copy"):
    """A copy of the audit log, in a temporary table dropped with the test's transaction.

    Tampering tests change the copy: the log itself cannot be changed by the application's
    role (append-only trigger), nor its trigger switched off where the audit guard is
    installed (make test installs it), and the verification reads a copy the same way.
    """
    cr.execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT * FROM hc_audit_log")
    return name


@tagged("post_install", "-at_install")
class TestAuditLog(HcCase):
    def _entries(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        message._replay("first replay")
        message._replay("second replay")
        return self.env["hc.audit.log"].search([("res_id", "=", message.id)], order="id")

    def test_chain_verifies_and_orm_refuses_changes(self):
        entries = self._entries()
        self.assertEqual(len(entries), 2)
        self.assertEqual(
            entries[1].prev_hash, entries[0].entry_hash, "each entry hashes the previous"
        )
        self.assertFalse(self.env["hc.audit.log"]._verify_chain())
        with self.assertRaises(UserError):
            entries[0].write({"reason": "nothing happened"})
        with self.assertRaises(UserError):
            entries[0].unlink()
        with self.assertRaises(UserError):
            self.env["hc.audit.log"].create({"action": "forged"})

    @mute_logger("odoo.sql_db")
    def test_database_refuses_sql_changes(self):
        entries = self._entries()
        with self.assertRaises(psycopg2.errors.RaiseException), self.env.cr.savepoint():
            self.env.cr.execute(
                "UPDATE hc_audit_log SET reason = 'edited' WHERE id = %s", [entries[0].id]
            )
        with self.assertRaises(psycopg2.errors.RaiseException), self.env.cr.savepoint():
            self.env.cr.execute("DELETE FROM hc_audit_log WHERE id = %s", [entries[0].id])

    def test_tampering_is_found_by_verification(self):
        entries = self._entries()
        Audit = self.env["hc.audit.log"]
        copy = tampered_copy(self.env.cr)
        self.assertTrue(Audit._verify_report(table=copy)["ok"], "an untouched copy verifies")
        # What an attacker with the database's rights would do, on the copy.
        self.env.cr.execute(
            f"UPDATE {copy} SET reason = 'nothing to see' WHERE id = %s", [entries[1].id]
        )
        report = Audit._verify_report(table=copy)
        self.assertEqual(report["broken_id"], entries[1].id, "the first broken link")
        self.assertIn("content changed", report["problem"])
        self.assertFalse(Audit._verify_chain(), "the log itself is untouched")
        with patch.object(type(Audit), "_verify_report", return_value=report):
            action = Audit.action_verify_chain()
        self.assertEqual(action["params"]["type"], "danger")

    def test_lane_worker_entries_wait_for_its_commit_not_a_savepoint(self):
        """Inside a lane worker's batch, entries are chained when the worker commits: the
        chain's lock taken at a savepoint's flush was held with the batch's rows until
        its commit, and two workers deadlocked (found by the month-end spike benchmark)."""
        from odoo.sql_db import db_connect

        Audit = self.env["hc.audit.log"]
        before = Audit.search_count([])
        with Audit._hold():  # what a lane worker does around each message
            Audit._log("spike_test", self.connector, data={"n": 1})
            with self.env.cr.savepoint():  # flushes and runs the precommit callbacks
                Audit.search_count([])
            other = db_connect(self.env.cr.dbname).cursor()
            try:
                other.execute("SELECT pg_try_advisory_lock(hashtext('hc_audit_log'))")
                self.assertTrue(other.fetchone()[0], "the chain's lock is free during the batch")
                other.execute("SELECT pg_advisory_unlock(hashtext('hc_audit_log'))")
            finally:
                other.close()
            self.assertEqual(Audit.search_count([]), before, "queued")
            self.assertEqual(Audit._pending_mark(), 1, "a flush does not drop the queue")
        # The hold is over: the next flush (the commit's at the latest) chains the entry,
        # whether or not the worker flushes it itself.
        self.env.cr.flush()
        entry = Audit.search([("action", "=", "spike_test")])
        self.assertEqual(entry.data, {"n": 1})
        self.assertFalse(Audit._verify_chain(), "the chain holds")

    def test_no_context_key_defers_or_forges_an_entry(self):
        """F5: ``hc_audit_deferred`` came from the caller's context and dropped the entry
        (nothing flushed it); ``hc_audit_append`` let a caller create one."""
        Audit = self.env["hc.audit.log"].with_context(hc_audit_deferred=True, hc_audit_append=True)
        before = Audit.search_count([])
        Audit._log("context_test", self.connector)
        self.assertEqual(Audit.search_count([]), before + 1, "written at once")
        Audit._log_detached("context_test_refusal", self.connector)
        self.assertEqual(Audit.search_count([]), before + 2, "written at once")
        self.assertFalse(self.env.cr.postrollback.data.get("hc_audit_pending"))
        with self.assertRaises(UserError):
            Audit.sudo().create({"action": "forged", "logged_at": "2026-01-01"})
        self.assertFalse(Audit._verify_chain())
