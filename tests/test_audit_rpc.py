"""F5 over the web client's own RPC: a context sent by the caller cannot suppress an entry."""

from unittest.mock import patch

from odoo import Command
from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tests.common import JsonRpcException

from ..models import hc_audit_log
from .security_common import TwoCompanyCase

# Every key that ever switched the audit log's behaviour (F5), sent by the caller.
HOSTILE_CONTEXT = {"hc_audit_deferred": True, "hc_audit_append": True}
PASSWORD = "Audit-Context-F5-pw"


@tagged("post_install", "-at_install")
class TestAuditContextOverRpc(TwoCompanyCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        A = cls.company_a
        billing = ("account.group_account_invoice",)
        cls.author = cls.make_user("f5_author", "clerk", A, billing)
        cls.clerk = cls.make_user("f5_clerk", "clerk", A, billing)
        (cls.author | cls.clerk).write({"password": PASSWORD})
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

    def call(self, model, method, *args, **kwargs):
        context = {"allowed_company_ids": self.company_a.ids, **HOSTILE_CONTEXT}
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": {**kwargs, "context": context},
            },
        )

    def entries(self, action, record):
        return self.env["hc.audit.log"].search(
            [("action", "=", action), ("res_model", "=", record._name), ("res_id", "=", record.id)]
        )

    def test_refusal_is_logged_whatever_the_context(self):
        """The refusal's entry is written on a cursor of its own, committed before the
        request rolls back.  In the registry's test mode that cursor is a savepoint inside
        the request's, which the refusal rolls back with it: what is checked here is that
        the entry reached the chain's writer (with ``hc_audit_deferred`` it was queued on
        the detached cursor and dropped unwritten); test_security_roles checks the commit."""
        bill = self.make_bill(self.company_a, "INV-F5-PAY", 12000.0)
        bill.action_post()
        Audit = type(self.env["hc.audit.log"])
        append = Audit._append
        appended = []

        def spy(model, vals_list):
            appended.extend((v["action"], v["res_id"], v["user_id"]) for v in vals_list)
            return append(model, vals_list)

        self.authenticate(self.clerk.login, PASSWORD)
        with (
            patch.object(Audit, "_append", spy),
            patch.object(hc_audit_log._logger, "warning") as warning,
            self.assertRaises(JsonRpcException) as refused,
        ):
            self.call("account.move", "action_register_payment", bill.ids)
        self.assertIn("UserError", str(refused.exception))
        self.assertEqual(bill.payment_state, "not_paid")
        self.assertIn(("sod_refused", bill.id, self.clerk.id), appended)
        warning.assert_not_called()  # "written in the refused transaction only"

    def test_decisions_are_logged_whatever_the_context(self):
        order = self.make_po(self.company_a, "PO-F5", qty=10, price=2.0)
        picking = order.picking_ids[:1]
        picking.move_ids.quantity = 10
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[]).button_validate()
        bill = self.make_bill(self.company_a, "INV-F5-ACCEPT", 21.0, order, self.author)
        self.env["hc.three.way.match"]._match_bills(bill)
        self.assertEqual(bill.hc_match_state, "blocked")
        exceptions = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.assertTrue(exceptions)

        self.authenticate(self.clerk.login, PASSWORD)
        wizard_id = self.call(
            "hc.exception.resolve.wizard",
            "create",
            [
                {
                    "exception_ids": [Command.set(exceptions.ids)],
                    "action": "accept",
                    "reason": "agreed with the vendor",
                }
            ],
        )
        self.call("hc.exception.resolve.wizard", "action_confirm", wizard_id)
        self.env.invalidate_all()
        self.assertTrue(bill.hc_released, "the decision went through")
        accepted = self.env["hc.audit.log"].search(
            [
                ("res_model", "=", "hc.exception"),
                ("res_id", "in", exceptions.ids),
                ("user_id", "=", self.clerk.id),
            ]
        )
        self.assertTrue(accepted, "the acceptance is on record")
        self.assertEqual(len(self.entries("bill_released", bill)), 1, "the release too")
        self.assertFalse(self.env["hc.audit.log"]._verify_chain())
