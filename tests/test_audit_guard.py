"""F7b: the application's own database role cannot switch the audit log's protection off.

The append-only trigger refuses UPDATE, DELETE and TRUNCATE; the role that owns the table
(the one Odoo connects with) could still disable or drop that trigger, replace its
function, or rewrite rows through ``ALTER TABLE``.  The audit guard (scripts/audit_guard.sql,
event triggers a PostgreSQL superuser installs: ``make test`` does it on its database, as
``make audit-guard`` does on a production one) refuses those.  Every statement below runs
on the test's own cursor, that is as the application's role, in a savepoint.
"""

import psycopg2

from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import mute_logger

ATTACKS = {
    "disable the trigger": ("ALTER TABLE hc_audit_log DISABLE TRIGGER hc_audit_log_append_only"),
    "disable every trigger": "ALTER TABLE hc_audit_log DISABLE TRIGGER USER",
    "rewrite rows without firing it (the review's F7b)": (
        "ALTER TABLE hc_audit_log ALTER COLUMN reason TYPE text"
        " USING (CASE WHEN id = {entry} THEN 'FORGED' ELSE reason END)"
    ),
    "drop the trigger": "DROP TRIGGER hc_audit_log_append_only ON hc_audit_log",
    "rename the trigger": (
        "ALTER TRIGGER hc_audit_log_append_only ON hc_audit_log RENAME TO hc_other"
    ),
    "replace its function": (
        "CREATE OR REPLACE FUNCTION hc_audit_log_append_only() RETURNS trigger"
        " AS $$ BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql"
    ),
    "rename its function": "ALTER FUNCTION hc_audit_log_append_only() RENAME TO hc_other",
    "a rule that swallows changes": (
        "CREATE RULE hc_swallow AS ON UPDATE TO hc_audit_log DO INSTEAD NOTHING"
    ),
    "a trigger that drops new entries": (
        "CREATE TRIGGER hc_drop BEFORE INSERT ON hc_audit_log"
        " FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()"
    ),
    "rename the table": "ALTER TABLE hc_audit_log RENAME TO hc_audit_log_old",
    "drop the table": "DROP TABLE hc_audit_log",
    "drop the guard": "DROP EVENT TRIGGER hc_audit_guard_ddl",
    "disable the guard": "ALTER EVENT TRIGGER hc_audit_guard_drop DISABLE",
    "replace the guard": (
        "CREATE OR REPLACE FUNCTION hc_guard.audit_ddl() RETURNS event_trigger"
        " AS $$ BEGIN END; $$ LANGUAGE plpgsql"
    ),
    "drop the guard's schema": "DROP SCHEMA hc_guard CASCADE",
    "replication role": "SET LOCAL session_replication_role = replica",
}


@tagged("post_install", "-at_install")
class TestAuditGuard(TransactionCase):
    def setUp(self):
        super().setUp()
        self.Audit = self.env["hc.audit.log"]
        if not self.Audit._guard_state():
            self.skipTest(
                "this database has no audit guard (make test installs it; elsewhere: "
                "make audit-guard DB=...)"
            )
        self.env.cr.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        self.assertFalse(self.env.cr.fetchone()[0], "the application's role is no superuser")
        self.entry = self.Audit._log("guard_probe", data={"n": 1})

    def _trigger_enabled(self):
        self.env.cr.execute(
            """SELECT tgenabled FROM pg_trigger
                WHERE tgrelid = 'hc_audit_log'::regclass AND tgname = 'hc_audit_log_append_only'"""
        )
        return self.env.cr.fetchone() == ("O",)

    @mute_logger("odoo.sql_db")
    def test_the_application_role_cannot_switch_the_protection_off(self):
        for name, statement in ATTACKS.items():
            with self.subTest(name), self.assertRaises(psycopg2.Error) as caught:
                with self.env.cr.savepoint():
                    self.env.cr.execute(statement.format(entry=self.entry.id))
            # insufficient privilege: refused by the guard, or the role is not the owner
            self.assertEqual(caught.exception.pgcode, "42501", f"{name}: {caught.exception}")
        self.assertTrue(self._trigger_enabled())
        self.env.cr.execute("SELECT reason FROM hc_audit_log WHERE id = %s", [self.entry.id])
        self.assertEqual(self.env.cr.fetchone(), (None,), "the entry is unchanged")
        self.assertTrue(self.Audit._verify_report()["ok"])
        with self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
            self.env.cr.execute(
                "UPDATE hc_audit_log SET reason = 'x' WHERE id = %s", [self.entry.id]
            )

    def test_what_changes_nothing_recorded_is_allowed(self):
        """Positive control: the guard refuses changes to the log, not everything."""
        with self.env.cr.savepoint():
            self.env.cr.execute("CREATE INDEX hc_audit_guard_probe ON hc_audit_log (reason)")
            self.env.cr.execute("CREATE TABLE hc_guard_probe (a int)")
            self.env.cr.execute("ALTER TABLE hc_guard_probe DISABLE TRIGGER USER")
            self.env.cr.execute("ALTER TABLE hc_guard_probe ADD COLUMN b int")
            self.env.cr.execute("DROP TABLE hc_guard_probe")
        self.assertTrue(self.Audit._log("guard_probe_after"), "entries are still appended")

    def test_verification_says_the_guard_is_there(self):
        report = self.Audit._verify_report()
        self.assertGreaterEqual(report["guard"], 1)
        self.assertNotIn("WARNING", self.Audit._verify_report_text(report))
        unguarded = dict(report, guard=0)
        self.assertIn("audit guard is not installed", self.Audit._verify_report_text(unguarded))
