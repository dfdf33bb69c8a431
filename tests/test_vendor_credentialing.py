"""Vendor credentials with expiry: an expired credential holds new orders and payments."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .credentialing_common import CredentialingCase


@tagged("post_install", "-at_install")
class TestVendorCredentials(CredentialingCase):
    def credential(self, days_left, ctype="insurance", user=None):
        today = fields.Date.today()
        return (
            self.env["hc.vendor.credential"]
            .with_user(user or self.officer)
            .create(
                {
                    "partner_id": self.vendor.id,
                    "credential_type": ctype,
                    "number": f"COI-{days_left}",
                    "issuer": "Mutual Insurance",
                    "date_from": today - timedelta(days=400),
                    "date_to": today + timedelta(days=days_left),
                }
            )
        )

    def test_states_valid_expiring_expired(self):
        self.assertEqual(self.credential(200).state, "valid")
        self.assertEqual(self.credential(10).state, "expiring")
        self.assertEqual(self.credential(-1).state, "expired")
        self.assertTrue(self.audit("credential_created", self.credential(5, "licence")))

    def test_only_compliance_officers_keep_credentials(self):
        with self.assertRaises(AccessError):
            self.credential(100, user=self.buyer)
        # everyone may read why a vendor is held
        cred = self.credential(100)
        self.assertEqual(cred.with_user(self.buyer).state, "valid")

    def test_expired_credential_blocks_purchase_order_until_renewed(self):
        expired = self.credential(-3)
        self.assertIn("expired credential", self.vendor.hc_vendor_hold)
        order = self.draft_po(self.buyer)  # an RFQ may still be drafted
        with self.assertRaisesRegex(UserError, "on hold: expired credential"):
            order.button_confirm()
        self.assertEqual(order.state, "draft")
        self.assertTrue(self.audit("vendor_hold_refused", order))
        # a raw write of the state is refused just the same
        with self.assertRaisesRegex(UserError, "on hold"):
            order.write({"state": "purchase"})
        # a renewed certificate of the same type lifts the hold
        self.credential(300)
        self.vendor.invalidate_recordset(["hc_vendor_hold"])
        self.assertFalse(self.vendor.hc_vendor_hold)
        self.assertTrue(expired.active)
        order.button_confirm()
        self.assertEqual(order.state, "purchase")

    def test_expired_credential_of_another_type_still_holds(self):
        self.credential(300, "insurance")
        self.credential(-1, "tax_form")
        self.assertIn("W-9", self.vendor.hc_vendor_hold)

    def test_expired_credential_blocks_payment(self):
        bill = self.make_bill(self.company_a, "INV-CRED-1", 120.0)
        bill.with_user(self.clerk).action_post()
        self.credential(-1)
        with self.assertRaisesRegex(UserError, "on hold"):
            bill.with_user(self.clerk).action_register_payment()
        journal = self.env["account.journal"].search(
            [("company_id", "=", self.company_a.id), ("type", "=", "bank")], limit=1
        )
        payment = (
            self.env["account.payment"]
            .with_user(self.clerk)
            .create(
                {
                    "payment_type": "outbound",
                    "partner_type": "supplier",
                    "partner_id": self.vendor.id,
                    "amount": 120.0,
                    "journal_id": journal.id,
                }
            )
        )
        with self.assertRaisesRegex(UserError, "on hold"):
            payment.action_post()
        self.assertEqual(payment.state, "draft")
        self.assertEqual(bill.payment_state, "not_paid")

    def test_nightly_job_moves_states_and_audits(self):
        cred = self.credential(20)
        self.assertEqual(cred.state, "expiring")
        self.env["ir.config_parameter"].set_param(
            "healthcare_p2p_integration.credential_warning_days", "5"
        )
        self.env["hc.vendor.credential"]._cron_refresh_states()
        self.assertEqual(cred.state, "valid")
        self.assertTrue(self.audit("credential_valid", cred))

    def test_credential_on_a_contact_is_refused(self):
        contact = self.env["res.partner"].create({"name": "Jo", "parent_id": self.vendor.id})
        with self.assertRaises(ValidationError):
            self.env["hc.vendor.credential"].create(
                {"partner_id": contact.id, "credential_type": "licence"}
            )
        # and the hold of the vendor applies to its contacts too
        self.credential(-1)
        self.assertTrue(contact.hc_vendor_hold)
        order = self.draft_po(self.buyer, partner=contact)
        with self.assertRaisesRegex(UserError, "on hold"):
            order.button_confirm()
