import psycopg2

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import HcCase


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
        # An attacker with the database owner's rights disables the trigger first.
        self.env.cr.execute("ALTER TABLE hc_audit_log DISABLE TRIGGER hc_audit_log_append_only")
        self.env.cr.execute(
            "UPDATE hc_audit_log SET reason = 'nothing to see' WHERE id = %s", [entries[1].id]
        )
        self.env.cr.execute("ALTER TABLE hc_audit_log ENABLE TRIGGER hc_audit_log_append_only")
        self.env.invalidate_all()
        self.assertEqual(
            self.env["hc.audit.log"]._verify_chain(), entries[1], "the first broken link"
        )
        action = self.env["hc.audit.log"].action_verify_chain()
        self.assertEqual(action["params"]["type"], "danger")
