"""Approval rules: purchase orders and non-PO vendor bills above an amount per company and
product category, approved by the rule's role (not the requester), audited; Odoo's
purchase double validation kept, and enforced on a raw write of the state too."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import tagged

from .credentialing_common import CredentialingCase
from .security_common import CallKwMixin


class ApprovalCase(CredentialingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Category = cls.env["product.category"]
        cls.implants = Category.create({"name": "Implants"})
        cls.spinal = Category.create({"name": "Spinal", "parent_id": cls.implants.id})
        cls.implant = cls.env["product.product"].create(
            {
                "name": "Pedicle screw",
                "categ_id": cls.spinal.id,
                "supplier_taxes_id": [Command.clear()],
                "taxes_id": [Command.clear()],
            }
        )
        cls.env["hc.approval.rule"].create(
            [
                {
                    "name": "Implants from 1,000",
                    "company_id": cls.company_a.id,
                    "document_kind": "po",
                    "category_id": cls.implants.id,
                    "min_amount": 1000.0,
                    "group_id": cls.env.ref("purchase.group_purchase_manager").id,
                },
                {
                    "name": "Non-PO bills from 5,000",
                    "company_id": cls.company_a.id,
                    "document_kind": "bill",
                    "min_amount": 5000.0,
                    "group_id": cls.env.ref("healthcare_p2p_integration.group_hc_ap_manager").id,
                },
            ]
        )

    def non_po_bill(self, amount, user):
        return (
            self.env["account.move"]
            .with_user(user)
            .with_company(self.company_a)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": self.vendor.id,
                    "company_id": self.company_a.id,
                    "ref": f"UTIL-{amount}",
                    "invoice_date": "2026-11-20",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Utilities",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )


@tagged("post_install", "-at_install")
class TestApprovalRules(ApprovalCase):
    def test_rule_sends_order_to_approval_and_approver_confirms(self):
        order = self.draft_po(self.buyer, qty=10, price=150.0, product=self.implant)
        order.button_confirm()
        self.assertEqual(order.state, "to approve")
        # the buyer's own approve does nothing; forcing the state is refused and audited
        order.button_approve()
        self.assertEqual(order.state, "to approve")
        with self.assertRaisesRegex(UserError, "needs the approval of"):
            order.write({"state": "purchase"})
        self.assertTrue(self.audit("approval_refused", order))
        # a purchase manager (not its creator) approves it
        order.with_user(self.purchase_manager).button_approve()
        self.assertEqual(order.state, "purchase")
        entry = self.audit("approval_granted", order)
        self.assertEqual(entry.user_id, self.purchase_manager)
        self.assertEqual(entry.data["rules"], ["Implants from 1,000"])

    def test_approver_does_not_approve_own_order(self):
        order = self.draft_po(self.purchase_manager, qty=10, price=150.0, product=self.implant)
        order.button_confirm()
        self.assertEqual(order.state, "to approve")
        with self.assertRaisesRegex(UserError, "other than its creator"):
            order.write({"state": "purchase"})

    def test_other_category_or_smaller_amount_confirms_directly(self):
        gloves = self.draft_po(self.buyer, qty=1000, price=5.0)  # not an implant
        gloves.button_confirm()
        self.assertEqual(gloves.state, "purchase")
        small = self.draft_po(self.buyer, qty=2, price=150.0, product=self.implant)
        small.button_confirm()
        self.assertEqual(small.state, "purchase")
        self.assertFalse(self.audit("approval_granted", small))

    def test_odoo_double_validation_is_enforced_on_write(self):
        self.company_a.write(
            {"po_double_validation": "two_step", "po_double_validation_amount": 500.0}
        )
        order = self.draft_po(self.buyer, qty=100, price=10.0)
        order.button_confirm()
        self.assertEqual(order.state, "to approve")
        with self.assertRaisesRegex(UserError, "purchase manager approves"):
            order.write({"state": "purchase"})
        order.with_user(self.purchase_manager).button_approve()
        self.assertEqual(order.state, "purchase")

    def test_non_po_bill_posted_by_ap_manager_only(self):
        bill = self.non_po_bill(7500.0, self.clerk)
        with self.assertRaisesRegex(UserError, "needs the approval of"):
            bill.action_post()
        self.assertEqual(bill.state, "draft")
        self.assertTrue(self.audit("approval_refused", bill))
        bill.with_user(self.manager).action_post()
        self.assertEqual(bill.state, "posted")
        self.assertEqual(self.audit("approval_granted", bill).user_id, self.manager)
        # below the amount the clerk posts it
        small = self.non_po_bill(900.0, self.clerk)
        small.action_post()
        self.assertEqual(small.state, "posted")

    def test_rule_changes_are_audited(self):
        rule = self.env["hc.approval.rule"].search([("document_kind", "=", "bill")])
        rule.with_user(self.manager).min_amount = 4000.0
        self.assertTrue(self.audit("approval_rule_changed", rule))
        # a clerk cannot lower it
        with self.assertRaises(AccessError):
            rule.with_user(self.clerk).min_amount = 1.0


@tagged("post_install", "-at_install")
class TestApprovalRulesOverRpc(CallKwMixin, ApprovalCase, HttpCase):
    def test_clerk_cannot_post_and_buyer_cannot_force_over_rpc(self):
        ctx = {"allowed_company_ids": self.company_a.ids}
        bill = self.non_po_bill(7500.0, self.clerk)
        self.authenticate(self.clerk.login, f"{self.clerk.login}_pw!")
        _result, error = self.call_kw("account.move", "action_post", [bill.ids], context=ctx)
        self.assertIn("needs the approval of", error["data"]["message"])
        order = self.draft_po(self.buyer, qty=10, price=150.0, product=self.implant)
        self.authenticate(self.buyer.login, f"{self.buyer.login}_pw!")
        self.call_kw("purchase.order", "button_confirm", [order.ids], context=ctx)
        _result, error = self.call_kw(
            "purchase.order", "write", [order.ids, {"state": "purchase"}], context=ctx
        )
        self.assertIn("needs the approval of", error["data"]["message"])
        order.invalidate_recordset()
        bill.invalidate_recordset()
        self.assertEqual((order.state, bill.state), ("to approve", "draft"))
