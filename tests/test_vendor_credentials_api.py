"""Vendor credentials posted with the vendor master over the API, and what a hold does to
an approved purchase order arriving from the sourcing system (issue 18, item 5)."""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged

from .credentialing_common import CredentialingCase
from .credentialing_common import leie_file

GLN = "0614141000012"  # the shared vendor's GLN (security_common.TwoCompanyCase)
GLOVES = "00614141000029"


@tagged("post_install", "-at_install")
class TestVendorCredentialsOverApi(CredentialingCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the item master / MDM system: vendor master only; the sourcing platform: orders
        types = cls.env["hc.document.type"].search([])
        cls.mdm = cls.env["hc.connector"].create(
            {
                "name": "Item master",
                "code": "mdmcred",
                "allowed_doc_type_ids": [(6, 0, types.filtered(lambda t: t.code == "vendor").ids)],
            }
        )
        cls.mdm_key = cls.mdm._generate_api_key()
        cls.today = fields.Date.today()

    def vendor_master(self, *credentials, name="Acme Medical Supply, Inc."):
        return self.vendor_doc(gln=GLN, name=name, credentials=list(credentials))

    def credential(self, number, days_left, ctype="licence"):
        return {
            "credential_type": ctype,
            "number": number,
            "issuer": "State Board of Pharmacy",
            "valid_from": str(self.today - timedelta(days=400)),
            "valid_to": str(self.today + timedelta(days=days_left)),
        }

    def post_vendor(self, doc, key="v1"):
        """The MDM system posts the vendor master over HTTP with its own key."""
        response = self.url_open(
            "/api/hc/v1/vendors",
            data=json.dumps(doc).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.mdm_key}",
                "Idempotency-Key": key,
            },
            method="POST",
        )
        self.assertEqual(response.status_code, 202, response.text)
        return self.processed(self.Inbox.browse(response.json()["id"]))

    def post_order(self, doc, key=None):
        """The sourcing platform's order, through the inbox."""
        [(message, _status)] = self.accept([doc], doc_type="purchase_order", key=key)
        return self.processed(message)

    def processed(self, message):
        self.process()
        message.invalidate_recordset()
        self.assertEqual(message.state, "done", message.error_message)
        return message

    def credentials(self):
        return self.env["hc.vendor.credential"].search([("partner_id", "=", self.vendor.id)])

    def po_doc(self, number):
        return {
            "number": number,
            "order_date": str(self.today),
            "vendor": {"identifiers": [{"scheme": "GLN", "value": GLN}], "name": "Acme"},
            "currency": self.company_a.currency_id.name,
            "approval_status": "approved",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": GLOVES},
                    "quantity": "40",
                    "uom": "EA",
                    "unit_price": "2.50",
                }
            ],
        }

    def order(self, number):
        return self.env["purchase.order"].search([("hc_source_ref", "=", number)])

    # ------------------------------------------------------------------ credentials

    def test_credentials_applied_idempotent_on_type_and_number(self):
        message = self.post_vendor(
            self.vendor_master(
                self.credential("DL-77", 200), self.credential("COI-1", 90, "insurance")
            ),
        )
        self.assertIn("2 added", message.result_summary)
        licence = self.credentials().filtered(lambda c: c.credential_type == "licence")
        self.assertEqual(licence.number, "DL-77")
        self.assertEqual(licence.issuer, "State Board of Pharmacy")
        self.assertEqual(licence.date_to, self.today + timedelta(days=200))
        self.assertEqual(licence.state, "valid")
        self.assertTrue(self.audit("credential_created", licence))
        # the same master again: nothing new, nothing changed
        self.post_vendor(
            self.vendor_master(
                self.credential("DL-77", 200), self.credential("COI-1", 90, "insurance")
            ),
            key="again",
        )
        self.assertEqual(len(self.credentials()), 2)
        self.assertEqual(len(self.audit("credential_changed", licence)), 0)
        # a later master extends the licence: the same record, its change audited
        self.post_vendor(self.vendor_master(self.credential("DL-77", 500)), key="later")
        self.assertEqual(len(self.credentials()), 2)
        self.assertEqual(licence.date_to, self.today + timedelta(days=500))
        self.assertTrue(self.audit("credential_changed", licence))
        self.assertFalse(self.vendor.hc_vendor_hold)

    def test_expired_credential_posted_holds_the_approved_order(self):
        self.post_vendor(self.vendor_master(self.credential("DL-1", -3)))
        self.vendor.invalidate_recordset(["hc_vendor_hold"])
        self.assertIn("expired credential", self.vendor.hc_vendor_hold)
        # the same hold as one entered by hand: Odoo refuses to confirm a new order
        self.assertEqual(self.credentials().state, "expired")
        # the sourcing platform's approved order is kept as an RFQ, with an exception
        message = self.post_order(self.po_doc("PO-HOLD-1"))
        order = self.order("PO-HOLD-1")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.amount_untaxed, 100.0)
        exc = self.env["hc.exception"].search(
            [("exception_type", "=", "vendor_hold"), ("purchase_id", "=", order.id)]
        )
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.message_id, message)
        self.assertEqual(exc.partner_id, self.vendor)
        self.assertEqual(exc.queue_id, self.env.ref("healthcare_p2p_integration.queue_vendor_data"))
        self.assertIn("expired credential", exc.description)
        self.assertTrue(self.audit("vendor_hold_refused", order))
        # the order replayed: still one exception, still not confirmed
        self.post_order(self.po_doc("PO-HOLD-1"), key="replay")
        self.assertEqual(order.state, "draft")
        self.assertEqual(
            self.env["hc.exception"].search_count([("exception_type", "=", "vendor_hold")]), 1
        )
        # the renewed licence arrives with the vendor master: the hold is lifted and the
        # buyer confirms the order
        self.post_vendor(
            self.vendor_master(self.credential("DL-1", -3), self.credential("DL-2", 365)),
            key="renewed",
        )
        self.vendor.invalidate_recordset(["hc_vendor_hold"])
        self.assertFalse(self.vendor.hc_vendor_hold)
        order.with_user(self.purchase_manager).button_confirm()
        self.assertEqual(order.state, "purchase")
        # and the next approved order is confirmed on arrival
        self.post_order(self.po_doc("PO-HOLD-2"))
        self.assertEqual(self.order("PO-HOLD-2").state, "purchase")

    def test_vendor_on_a_loaded_exclusion_list_is_screened_on_arrival(self):
        self.env["hc.exclusion.list"].with_user(self.officer)._hc_load(
            leie_file(("ACME MEDICAL SUPPLY INC", None)), file_name="UPDATED.csv"
        )
        self.env["hc.exclusion.list"].search([]).write({"screened_at": fields.Datetime.now()})
        message = self.post_vendor(self.vendor_master())
        match = self.env["hc.exclusion.match"].search([("partner_id", "=", self.vendor.id)])
        self.assertEqual(len(match), 1)
        self.assertEqual(match.state, "pending")
        self.assertIn("exclusion", message.result_summary)
        self.post_order(self.po_doc("PO-EXCL-1"))
        self.assertEqual(self.order("PO-EXCL-1").state, "draft")
        exc = self.env["hc.exception"].search([("exception_type", "=", "vendor_hold")])
        self.assertIn("exclusion", exc.description)

    def test_bad_credentials_refused_at_intake(self):
        response = self.url_open(
            "/api/hc/v1/vendors",
            data=json.dumps(
                self.vendor_master({"credential_type": "diploma", "number": "X"})
            ).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.mdm_key}"},
            method="POST",
        )
        self.assertEqual(response.status_code, 422, response.text)
        self.assertIn("credentials[0].credential_type", response.text)
        self.assertFalse(self.credentials())
