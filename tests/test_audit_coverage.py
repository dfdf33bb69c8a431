import hashlib
import importlib.util
import json
import os
import subprocess
import sys

from odoo import Command
from odoo.tests import tagged
from odoo.tools import config

from .common import HcCase
from .test_audit_log import tampered_copy

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "scripts", "audit_verify.py")


def _load_script():
    spec = importlib.util.spec_from_file_location("hc_audit_verify", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestAuditCoverage(HcCase):
    """Every decision that matters leaves a chained entry; the command finds tampering."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Audit = cls.env["hc.audit.log"]
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Owens & Minor", "is_company": True, "supplier_rank": 1}
        )
        cls.admin = cls.env["res.users"].create(
            {
                "name": "Integration admin",
                "login": "audit_admin",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("base.group_system").id,
                            cls.env.ref("healthcare_p2p_integration.group_hc_integration_admin").id,
                        ]
                    )
                ],
            }
        )

    def entry(self, action, record=None):
        domain = [("action", "=", action)]
        if record is not None:
            domain += [("res_model", "=", record._name), ("res_id", "=", record.id)]
        found = self.Audit.search(domain, order="id desc", limit=1)
        self.assertTrue(found, f"no audit entry {action} for {record}")
        return found

    # -- pipeline -----------------------------------------------------------------------

    def test_processed_message_chains_input_and_output_hashes(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        self.process(self.lane_bulk)
        self.assertEqual(message.state, "done", message.error_message)
        entry = self.entry("message_processed", message)
        self.assertEqual(entry.data["in"], message.content_hash)
        self.assertEqual(entry.data["in"], hashlib.sha256(self.raw(self.vendor_doc())).hexdigest())
        stored = json.dumps(message.document, sort_keys=True, default=str)
        self.assertEqual(entry.data["out"], hashlib.sha256(stored.encode()).hexdigest())
        self.assertEqual(entry.data["result_model"], "res.partner")
        self.assertEqual(entry.data["result_ids"], message.result_ids)
        self.assertFalse(self.Audit._verify_chain())

    def test_replay_and_kill_are_audited(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        message.with_user(self.admin)._replay("sender fixed the data")
        replay = self.entry("replay", message)
        self.assertEqual(replay.reason, "sender fixed the data")
        self.assertEqual(replay.user_id, self.admin)
        message.with_user(self.admin)._kill("duplicate feed")
        self.assertEqual(self.entry("mark_dead", message).reason, "duplicate feed")

    # -- credentials --------------------------------------------------------------------

    def test_api_key_rotation_and_revocation_are_audited(self):
        Wizard = self.env["hc.connector.key.wizard"].with_user(self.admin)
        Wizard.create({"connector_id": self.connector.id, "overlap_hours": 24}).action_generate()
        rotated = self.entry("credential_rotated", self.connector)
        self.assertEqual(rotated.data["overlap_hours"], 24)
        Wizard.create({"connector_id": self.connector.id, "overlap_hours": 0}).action_generate()
        self.entry("credential_revoked", self.connector)
        self.assertNotIn(self.api_key, json.dumps(self.Audit.search([]).mapped("data")))

    # -- tolerances ---------------------------------------------------------------------

    def test_tolerance_rule_changes_are_audited(self):
        rule = self.env["hc.tolerance.rule"].create(
            {
                "name": "Owens price",
                "company_id": self.company.id,
                "partner_id": self.vendor.id,
                "price_pct": 1.0,
            }
        )
        self.entry("tolerance_created", rule)
        rule.price_pct = 5.0
        self.assertEqual(self.entry("tolerance_changed", rule).data, {"price_pct": 5.0})
        rule_id = rule.id
        rule.unlink()
        deleted = self.Audit.search(
            [("action", "=", "tolerance_deleted"), ("res_id", "=", rule_id)], limit=1
        )
        self.assertEqual(deleted.data["price_pct"], 5.0)
        self.assertEqual(deleted.data["partner"], self.vendor.id)

    def test_company_settings_are_audited(self):
        settings = self.env["res.config.settings"].create(
            {"hc_accept_threshold": 1234.0, "hc_sod_bank_change": False, "hc_tol_price_pct": 3.0}
        )
        settings.execute()
        changed = {}
        for entry in self.Audit.search(
            [("action", "=", "company_settings_changed"), ("res_id", "=", self.company.id)]
        ):
            changed.update(entry.data)
        self.assertEqual(changed["hc_accept_threshold"]["new"], 1234.0)
        self.assertEqual(changed["hc_sod_bank_change"], {"old": True, "new": False})
        rule = self.env["hc.tolerance.rule"].search(
            [("company_id", "=", self.company.id), ("scope", "=", "company")]
        )
        self.assertTrue(
            self.Audit.search_count(
                [
                    ("action", "in", ("tolerance_created", "tolerance_changed")),
                    ("res_model", "=", "hc.tolerance.rule"),
                    ("res_id", "=", rule.id),
                ]
            )
        )

    # -- exception actions and approvals ------------------------------------------------

    def _exception(self, key, exception_type="price_variance"):
        return self.env["hc.exception"]._raise(
            exception_type, f"Problem {key}", f"test:{key}", company_id=self.company.id
        )

    def test_exception_actions_are_audited(self):
        accepted = self._exception("accept")
        accepted._resolve("accept", "within contract terms")
        self.assertEqual(self.entry("exception_accept", accepted).reason, "within contract terms")
        reassigned = self._exception("reassign")
        self.env["hc.exception.resolve.wizard"].create(
            {
                "exception_ids": [Command.set(reassigned.ids)],
                "action": "reassign",
                "owner_id": self.admin.id,
                "reason": "vendor specialist",
            }
        ).action_confirm()
        self.assertEqual(
            self.entry("exception_reassigned", reassigned).data["owner"], self.admin.id
        )
        waiting = self._exception("wait")
        self.env["hc.exception.resolve.wizard"].create(
            {"exception_ids": [Command.set(waiting.ids)], "action": "wait_receipt"}
        ).action_confirm()
        self.entry("wait_receipt", waiting)
        review = self._exception("steward", "duplicate_vendor")
        review.partner_id = self.vendor
        review.action_vendor_confirm_new()
        self.assertEqual(self.entry("vendor_review_decided", review).data, {"action": "new"})

    # -- verification -------------------------------------------------------------------

    def test_verification_command_names_the_first_broken_link(self):
        check = _load_script().check
        [(message, _s)] = self.accept([self.vendor_doc()])
        message._replay("first")
        message._replay("second")
        message._replay("third")
        entries = self.Audit.search([("res_id", "=", message.id)], order="id")
        code, text = check(self.env)
        self.assertEqual(code, 0, text)
        self.assertIn("intact", text)
        head = self.Audit.search([], order="id desc", limit=1).entry_hash
        self.assertIn(head, text)
        self.assertEqual(check(self.env, expect=head)[0], 0)
        self.assertEqual(check(self.env, expect="f" * 64)[0], 1, "a known head must be present")
        copy = tampered_copy(self.env.cr)  # the log itself cannot be changed
        self.assertEqual(check(self.env, table=copy)[0], 0, "an untouched copy verifies")
        self.env.cr.execute(
            f"UPDATE {copy} SET data = '{{}}'::jsonb WHERE id = %s", [entries[1].id]
        )
        self.env.cr.execute(f"DELETE FROM {copy} WHERE id = %s", [entries[2].id])
        code, text = check(self.env, table=copy)
        self.assertEqual(code, 1)
        self.assertIn(f"BROKEN at entry {entries[1].id} ", text)
        self.assertIn("content changed", text)
        report = self.Audit._verify_report(batch=1, table=copy)  # batching hides nothing
        self.assertEqual(report["broken_id"], entries[1].id)

    def test_deleted_entry_breaks_the_next_link(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        message._replay("first")
        message._replay("second")
        entries = self.Audit.search([("res_id", "=", message.id)], order="id")
        copy = tampered_copy(self.env.cr)
        self.env.cr.execute(f"DELETE FROM {copy} WHERE id = %s", [entries[0].id])
        report = self.Audit._verify_report(table=copy)
        self.assertEqual(report["broken_id"], entries[1].id)
        self.assertIn("previous entry missing", report["problem"])

    def test_command_line_runs_against_the_database(self):
        """The real command, in its own process, on the committed database."""
        conf = config["config"]
        if not conf or not os.path.exists(conf):
            self.skipTest("no Odoo configuration file to hand to the command")
        run = subprocess.run(
            [sys.executable, SCRIPT, "-c", conf, "-d", self.env.cr.dbname],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("audit chain intact", run.stdout)
        run = subprocess.run(
            [sys.executable, SCRIPT, "-c", conf, "-d", self.env.cr.dbname, "--expect", "0" * 63],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("BROKEN", run.stdout)
