"""Roles, access rights, company rules and segregation of duties."""

from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models import hc_audit_log
from .security_common import MODULE
from .security_common import ROLES
from .security_common import TwoCompanyCase

# What each role may do on each model of the module: r(ead) w(rite) c(reate) u(nlink).
# Connector technical users may do nothing at all (the API stores their documents).
STAFF = ("auditor", "supply", "clerk", "manager")
CONFIG = {"auditor": "r", "supply": "r", "clerk": "r", "manager": "r", "admin": "rwc"}
AP_CONFIG = {"auditor": "r", "supply": "r", "clerk": "r", "manager": "rwcu", "admin": "r"}
STOCK_DOCS = {"auditor": "r", "supply": "rw", "clerk": "r", "manager": "r", "admin": "rwcu"}
MATRIX = {
    "hc.lane": CONFIG,
    "hc.document.type": CONFIG,
    "hc.connector": {**dict.fromkeys(STAFF, "r"), "admin": "rwcu"},
    "hc.connector.route": {"auditor": "r", "admin": "rwcu"},
    "hc.inbox.message": {**dict.fromkeys(STAFF, "r"), "admin": "rw"},
    "hc.partner.identifier": {**dict.fromkeys(STAFF, "r"), "admin": "rwcu"},
    "hc.exception": {
        "auditor": "r",
        "supply": "rw",
        "clerk": "rw",
        "manager": "rwc",
        "admin": "rw",
    },
    "hc.audit.log": {"auditor": "r", "manager": "r", "admin": "r"},
    "hc.asn.line": STOCK_DOCS,
    "hc.replenishment.signal": STOCK_DOCS,
    "hc.po.ack.line": {**dict.fromkeys(STAFF, "r"), "admin": "rwcu"},
    "hc.exception.queue": AP_CONFIG,
    "hc.exception.routing.rule": AP_CONFIG,
    "hc.tolerance.rule": AP_CONFIG,
    "hc.bill.match.line": {**dict.fromkeys(STAFF, "r"), "admin": "r"},
    "hc.inbox.replay.wizard": {"auditor": "r", "admin": "rwcu"},
    "hc.connector.key.wizard": {"auditor": "r", "admin": "rwcu"},
    "hc.exception.resolve.wizard": {
        "auditor": "r",
        "supply": "rwcu",
        "clerk": "rwcu",
        "manager": "rwcu",
        "admin": "rwcu",
    },
    "hc.tolerance.whatif.wizard": {"auditor": "r", "manager": "rwcu", "admin": "r"},
}
OPERATIONS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}


def module_models(env):
    """The concrete models this module defines (wizards included)."""
    return [
        model
        for model in env["ir.model"].search([])
        if model.model in env
        and env[model.model]._original_module == MODULE
        and not env[model.model]._abstract
    ]


class SecurityCase(TwoCompanyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        A, B = cls.company_a, cls.company_b
        cls.users = {role: cls.make_user(f"{role}_a", role, A) for role in ROLES[1:]}
        cls.users["connector"] = cls.connector._ensure_technical_user()
        cls.users_b = {role: cls.make_user(f"{role}_b", role, B) for role in ROLES[1:]}
        cls.records = {A: {}, B: {}}
        lane = cls.env.ref("healthcare_p2p_integration.lane_bulk")
        vendor_doc = cls.doc_types.filtered(lambda d: d.code == "vendor")
        warehouses = cls.env["stock.warehouse"]
        uom = cls.env.ref("uom.product_uom_unit")
        for company, connector in ((A, cls.connector), (B, cls.connector_b)):
            recs = cls.records[company]
            recs["hc.connector"] = connector
            recs["hc.connector.route"] = cls.env["hc.connector.route"].create(
                {"connector_id": connector.id, "doc_type_id": vendor_doc.id, "lane_id": lane.id}
            )
            [(message, _status)] = cls.env["hc.inbox.message"]._accept(
                connector,
                vendor_doc,
                company,
                "application/json",
                [cls.raw({"company": company.name})],
            )
            recs["hc.inbox.message"] = message
            recs["hc.exception"] = cls.env["hc.exception"].create(
                {
                    "name": f"Exception of {company.name}",
                    "exception_type": "data_quality",
                    "company_id": company.id,
                    "message_id": message.id,
                    "dedup_key": f"test:{company.id}",
                }
            )
            order = cls.make_po(company, f"PO-{company.id}-SEC")
            recs["hc.asn.line"] = cls.env["hc.asn.line"].create(
                {
                    "asn_number": f"ASN-{company.id}",
                    "line_number": "1",
                    "po_number": order.name,
                    "purchase_id": order.id,
                    "company_id": company.id,
                    "product_id": cls.product.id,
                    "product_uom_id": uom.id,
                    "qty_expected": 1.0,
                }
            )
            recs["hc.po.ack.line"] = cls.env["hc.po.ack.line"].create(
                {
                    "order_id": order.id,
                    "ack_key": f"ack:{company.id}",
                    "ack_date": "2026-11-20",
                    "line_number": "1",
                    "status": "accept",
                }
            )
            warehouse = warehouses.search([("company_id", "=", company.id)], limit=1)
            recs["hc.replenishment.signal"] = cls.env["hc.replenishment.signal"].create(
                {"product_id": cls.product.id, "warehouse_id": warehouse.id}
            )
            bill = cls.make_bill(company, f"INV-{company.id}-SEC")
            recs["hc.bill.match.line"] = cls.env["hc.bill.match.line"].create(
                {"move_id": bill.id, "status": "matched"}
            )
            partner = cls.env["res.partner"].create(
                {"name": f"Local vendor {company.name}", "company_id": company.id}
            )
            recs["hc.partner.identifier"] = cls.env["hc.partner.identifier"].create(
                {"partner_id": partner.id, "scheme": "duns", "value": f"0000000{company.id}"}
            )
            recs["hc.tolerance.rule"] = cls.env["hc.tolerance.rule"].create(
                {
                    "name": "Vendor rule",
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "price_pct": 1.0,
                }
            )
            queue = cls.env["hc.exception.queue"].create(
                {"name": f"Queue of {company.name}", "company_id": company.id}
            )
            recs["hc.exception.queue"] = queue
            recs["hc.exception.routing.rule"] = cls.env["hc.exception.routing.rule"].create(
                {"company_id": company.id, "queue_id": queue.id, "sequence": 99}
            )
            recs["hc.audit.log"] = cls.env["hc.audit.log"]._log("test", recs["hc.exception"])
        cls.records[A]["hc.lane"] = lane
        cls.records[A]["hc.document.type"] = vendor_doc

    def as_user(self, records, user):
        return records.with_user(user).with_context(allowed_company_ids=user.company_ids.ids)


@tagged("post_install", "-at_install")
class TestAccessRights(SecurityCase):
    def test_every_model_has_access_rows_auditor_reads_and_writes_none(self):
        models = module_models(self.env)
        self.assertGreaterEqual(len(models), len(MATRIX))
        auditor = self.users["auditor"]
        Access = self.env["ir.model.access"]
        for model in models:
            with self.subTest(model=model.model):
                self.assertTrue(
                    Access.search_count([("model_id", "=", model.id)]),
                    f"{model.model} has no access rule",
                )
                records = self.as_user(self.env[model.model], auditor)
                self.assertTrue(records.has_access("read"), f"auditor cannot read {model.model}")
                for operation in ("write", "create", "unlink"):
                    self.assertFalse(
                        records.has_access(operation), f"auditor may {operation} {model.model}"
                    )

    def test_every_company_model_has_a_company_rule(self):
        Rule = self.env["ir.rule"]
        for model in module_models(self.env):
            fields = self.env[model.model]._fields
            if self.env[model.model]._transient:
                continue
            reachable = "company_id" in fields or model.model == "hc.connector.route"
            if not reachable:
                continue
            with self.subTest(model=model.model):
                rules = Rule.search([("model_id", "=", model.id), ("global", "=", True)])
                self.assertTrue(
                    any("company_ids" in (r.domain_force or "") for r in rules),
                    f"{model.model} has no multi-company rule",
                )

    def test_role_matrix(self):
        own = self.records[self.company_a]
        for model, allowed in MATRIX.items():
            for role in ROLES:
                user = self.users[role]
                expected = allowed.get(role, "")
                Model = self.as_user(self.env[model], user)
                record = own.get(model)
                for letter, operation in OPERATIONS.items():
                    with self.subTest(model=model, role=role, operation=operation):
                        if letter == "c" or record is None:
                            may = Model.has_access(operation)
                        else:
                            may = self.as_user(record, user).has_access(operation)
                        self.assertEqual(
                            may, letter in expected, f"{role} {operation} {model}: {may}"
                        )

    def test_role_matrix_real_operations(self):
        exc = self.records[self.company_a]["hc.exception"]
        message = self.records[self.company_a]["hc.inbox.message"]
        # Allowed
        self.as_user(exc, self.users["clerk"]).write({"description": "looked at it"})
        self.as_user(exc, self.users["supply"]).write({"description": "called the dock"})
        # Refused
        with self.assertRaises(AccessError):
            self.as_user(exc, self.users["auditor"]).write({"description": "no"})
        with self.assertRaises(AccessError):
            self.as_user(exc, self.users["connector"]).read(["name"])
        with self.assertRaises(AccessError):
            self.as_user(message, self.users["connector"]).read(["state"])
        with self.assertRaises(AccessError):
            self.as_user(self.env["hc.connector"], self.users["clerk"]).create(
                {"name": "Rogue", "code": "rogue"}
            )
        with self.assertRaises(AccessError):
            self.as_user(message, self.users["clerk"])._replay("not mine to replay")
        with self.assertRaises(UserError):  # append-only, whoever asks
            self.as_user(self.records[self.company_a]["hc.audit.log"], self.users["admin"]).unlink()
        with self.assertRaises(AccessError):
            self.as_user(self.env["hc.tolerance.rule"], self.users["clerk"]).create(
                {"name": "Loose", "company_id": self.company_a.id, "price_pct": 50}
            )

    def test_integration_admin_is_not_an_ap_manager(self):
        admin = self.users["admin"]
        self.assertFalse(admin.has_group(f"{MODULE}.group_hc_ap_manager"))
        self.assertFalse(admin.has_group(f"{MODULE}.group_hc_ap_clerk"))
        self.assertTrue(admin.has_group(f"{MODULE}.group_hc_auditor"))
        for role in ("auditor", "supply", "clerk", "manager"):
            self.assertFalse(self.users[role].has_group(f"{MODULE}.group_hc_integration_admin"))
        self.assertFalse(self.users["connector"].has_group("base.group_user"))


@tagged("post_install", "-at_install")
class TestCompanyIsolation(SecurityCase):
    def test_users_of_a_never_see_b(self):
        for model, allowed in MATRIX.items():
            own = self.records[self.company_a].get(model)
            other = self.records[self.company_b].get(model)
            if own is None or other is None:
                continue
            for role in ("auditor", "clerk", "supply", "manager", "admin"):
                user = self.users[role]
                if role not in allowed:
                    continue
                with self.subTest(model=model, role=role):
                    found = self.as_user(self.env[model], user).search(
                        [("id", "in", (own | other).ids)]
                    )
                    self.assertEqual(found, own)
                    with self.assertRaises(AccessError):
                        self.as_user(other, user).read(["id"])

    def test_users_of_b_never_see_a(self):
        for model in MATRIX:
            own = self.records[self.company_b].get(model)
            other = self.records[self.company_a].get(model)
            if own is None or other is None:
                continue
            user = self.users_b["auditor"]
            with self.subTest(model=model):
                found = self.as_user(self.env[model], user).search(
                    [("id", "in", (own | other).ids)]
                )
                self.assertEqual(found, own)

    def test_multi_company_user_sees_the_companies_selected(self):
        user = self.users["auditor"]
        user.company_ids = self.company_a | self.company_b
        both = (
            self.records[self.company_a]["hc.exception"]
            | self.records[self.company_b]["hc.exception"]
        )
        Exc = self.env["hc.exception"].with_user(user)
        self.assertEqual(
            Exc.with_context(allowed_company_ids=self.company_a.ids).search(
                [("id", "in", both.ids)]
            ),
            self.records[self.company_a]["hc.exception"],
        )
        self.assertEqual(
            Exc.with_context(allowed_company_ids=(self.company_a | self.company_b).ids).search(
                [("id", "in", both.ids)]
            ),
            both,
        )

    def test_admin_of_a_cannot_replay_b(self):
        message_b = self.records[self.company_b]["hc.inbox.message"]
        with self.assertRaises(AccessError):
            self.as_user(message_b, self.users["admin"])._replay("cross-company replay")
        message_a = self.records[self.company_a]["hc.inbox.message"]
        self.as_user(message_a, self.users["admin"])._replay("own replay")
        self.assertEqual(message_a.replay_count, 1)

    def test_audit_entries_carry_their_company(self):
        log_b = self.records[self.company_b]["hc.audit.log"]
        self.assertEqual(log_b.company_id, self.company_b)
        self.assertFalse(self.env["hc.audit.log"]._verify_chain())


@tagged("post_install", "-at_install")
class TestSegregationOfDuties(TwoCompanyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        A = cls.company_a
        billing = ("account.group_account_invoice",)
        cls.author = cls.make_user("sod_author", "clerk", A, billing)
        cls.clerk = cls.make_user("sod_clerk", "clerk", A, billing)
        cls.manager = cls.make_user("sod_manager", "manager", A, ("account.group_account_manager",))
        cls.supply = cls.make_user("sod_supply", "supply", A, billing)
        cls.env["hc.tolerance.rule"].search([("company_id", "=", A.id)]).unlink()
        cls.env["hc.tolerance.rule"].create(
            {"name": "Exact", "company_id": A.id, "qty_pct": 0, "price_pct": 0}
        )
        A.write(
            {
                "hc_accept_threshold": 500.0,
                "hc_payment_manager_threshold": 10000.0,
                "hc_autopost_matched": False,
            }
        )

    def refused(self, func, exception=UserError):
        """Run ``func`` expecting a refusal, without a savepoint rollback (the audit
        entry of the refusal is written in the test transaction)."""
        try:
            func()
        except exception as exc:
            return exc
        self.fail("not refused")

    def blocked_bill(self, price=2.1, qty=10, user=None, po_price=2.0):
        """A received PO at ``po_price`` a unit, billed at ``price``: a price variance."""
        order = self.make_po(self.company_a, f"PO-SOD-{price}-{qty}", qty=qty, price=po_price)
        picking = order.picking_ids[:1]
        picking.move_ids.quantity = qty
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[]).button_validate()
        bill = self.make_bill(
            self.company_a, f"INV-SOD-{price}-{qty}", price * qty, order, user or self.author
        )
        self.env["hc.three.way.match"]._match_bills(bill)
        self.assertEqual(bill.hc_match_state, "blocked")
        exc = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.assertTrue(exc)
        return bill, exc

    def accept(self, user, exceptions, reason="agreed with the vendor"):
        return (
            self.env["hc.exception.resolve.wizard"]
            .with_user(user)
            .create({"exception_ids": exceptions.ids, "action": "accept", "reason": reason})
            .action_confirm()
        )

    def audit(self, action, **domain):
        return self.env["hc.audit.log"].search(
            [("action", "=", action), *[(k, "=", v) for k, v in domain.items()]]
        )

    # -- (a) the bill's author does not accept its variances ---------------------------

    def test_author_rule_on_by_default(self):
        self.assertTrue(self.env["res.company"].new({}).hc_sod_creator_cannot_accept)
        bill, exc = self.blocked_bill()
        error = self.refused(lambda: self.accept(self.author, exc), AccessError)
        self.assertIn("Segregation of duties", str(error))
        self.assertEqual(exc.state, "new")
        log = self.audit("sod_refused", res_model="hc.exception", res_id=exc.id)
        self.assertEqual(log.data["rule"], "bill_author")
        self.assertEqual(log.user_id, self.author)
        self.accept(self.clerk, exc)
        self.assertEqual(exc.state, "resolved")
        self.assertTrue(bill.hc_released)

    def test_author_rule_off_allows_and_audits_the_override(self):
        self.company_a.hc_sod_creator_cannot_accept = False
        changed = self.audit("sod_settings_changed", res_model="res.company")
        self.assertEqual(
            changed[:1].data["after"], {"hc_sod_creator_cannot_accept": False}, changed.data
        )
        _bill, exc = self.blocked_bill()
        self.accept(self.author, exc)
        self.assertEqual(exc.state, "resolved")
        override = self.audit("sod_override", res_id=exc.id)
        self.assertEqual(override.data["rule"], "bill_author")
        self.assertEqual(override.user_id, self.author)

    def test_last_changed_by_is_refused_too(self):
        bill, exc = self.blocked_bill(user=self.manager)
        bill.with_user(self.clerk).write(
            {"invoice_line_ids": [Command.update(bill.invoice_line_ids[:1].id, {"name": "x"})]}
        )
        self.assertEqual(bill.hc_last_changed_by_id, self.clerk)
        exc = self.env["hc.exception"].search([("move_id", "=", bill.id), ("state", "=", "new")])
        self.refused(lambda: self.accept(self.clerk, exc), AccessError)

    def test_supply_chain_user_cannot_accept_variances(self):
        _bill, exc = self.blocked_bill()
        self.refused(lambda: self.accept(self.supply, exc), AccessError)
        self.assertEqual(self.audit("sod_refused", res_id=exc.id).data["rule"], "ap_role")
        # but may still put it on hold for the receipt
        self.env["hc.exception.resolve.wizard"].with_user(self.supply).create(
            {"exception_ids": exc.ids, "action": "wait_receipt"}
        ).action_confirm()
        self.assertEqual(exc.state, "waiting")

    # -- (b) releasing or paying above the threshold needs an AP manager --------------

    def test_release_above_threshold_needs_a_manager(self):
        # 10 x 1,005.00 = 10,050.00 > 10,000.00; the variance (50.00) is below 500.00
        bill, exc = self.blocked_bill(price=1005.0, po_price=1000.0)
        error = self.refused(lambda: self.accept(self.clerk, exc))
        self.assertIn("AP manager", str(error))
        self.assertFalse(bill.hc_released)
        self.assertEqual(exc.state, "new")
        log = self.audit("sod_refused", res_model="account.move", res_id=bill.id)
        self.assertEqual(log.data["rule"], "payment_threshold")
        self.assertEqual(log.data["action"], "accept_variance")
        self.accept(self.manager, exc)
        self.assertTrue(bill.hc_released)
        approval = self.audit("sod_manager_approval", res_id=bill.id)
        self.assertEqual(approval.user_id, self.manager)

    def test_release_below_threshold_by_a_clerk(self):
        bill, exc = self.blocked_bill(price=2.1)
        self.accept(self.clerk, exc)
        self.assertTrue(bill.hc_released)
        self.assertFalse(self.audit("sod_refused", res_id=bill.id))

    def pay(self, user, bill):
        return (
            self.env["account.payment.register"]
            .with_user(user)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({})
            ._create_payments()
        )

    def posted_bill(self, amount):
        bill = self.make_bill(self.company_a, f"INV-PAY-{amount}", amount)
        bill.action_post()
        return bill

    def test_payment_above_threshold_needs_a_manager(self):
        bill = self.posted_bill(12000.0)
        error = self.refused(lambda: self.pay(self.clerk, bill))
        self.assertIn("Segregation of duties", str(error))
        self.assertEqual(bill.payment_state, "not_paid")
        log = self.audit("sod_refused", res_model="account.move", res_id=bill.id)
        self.assertEqual(log.data["action"], "register_payment")
        self.refused(lambda: bill.with_user(self.clerk).action_register_payment())
        self.pay(self.manager, bill)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        self.assertTrue(self.audit("sod_manager_approval", res_id=bill.id))

    def test_payment_below_threshold_by_a_clerk(self):
        bill = self.posted_bill(900.0)
        self.pay(self.clerk, bill)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))

    def test_payment_rule_off(self):
        self.company_a.hc_sod_payment_manager = False
        bill = self.posted_bill(12000.0)
        self.pay(self.clerk, bill)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        self.assertTrue(self.audit("sod_settings_changed", res_id=self.company_a.id))

    def test_threshold_is_per_company(self):
        self.company_b.hc_payment_manager_threshold = 100000.0
        self.assertEqual(self.company_a.hc_payment_manager_threshold, 10000.0)
        bill = self.posted_bill(12000.0)
        self.refused(lambda: self.pay(self.clerk, bill))

    def test_refusal_entry_written_on_its_own_cursor(self):
        """The production path: the entry goes through a cursor of its own (in the
        registry's test mode, a cursor on the test transaction), committed before the
        refused action rolls back."""
        bill = self.posted_bill(15000.0)
        with (
            patch.object(hc_audit_log, "_in_test_transaction", lambda: False),
            self.enter_registry_test_mode(),
        ):
            self.env["hc.audit.log"]._log_detached(
                "sod_refused", bill, reason="payment_threshold", data={"action": "test"}
            )
        log = self.audit("sod_refused", res_id=bill.id)
        self.assertEqual(log.data, {"action": "test"})
        self.assertEqual(log.company_id, self.company_a)
        self.assertFalse(self.env["hc.audit.log"]._verify_chain())

    def test_clerk_of_a_cannot_read_bills_of_b(self):
        bill_b = self.make_bill(self.company_b, "INV-B-VIS")
        bill_a = self.make_bill(self.company_a, "INV-A-VIS")
        Move = (
            self.env["account.move"]
            .with_user(self.clerk)
            .with_context(allowed_company_ids=self.company_a.ids)
        )
        self.assertEqual(Move.search([("id", "in", (bill_a | bill_b).ids)]), bill_a)
        with self.assertRaises(AccessError):
            Move.browse(bill_b.id).read(["ref"])
