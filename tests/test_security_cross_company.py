"""Connector scopes re-checked in processing; references to another company refused."""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase
from .security_common import TwoCompanyCase

GTIN = "00614141000029"
VENDOR = {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}], "name": "Shared"}


@tagged("post_install", "-at_install")
class TestSecurityCrossCompany(TwoCompanyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a.hc_autopost_matched = False
        cls.po_b = cls.make_po(cls.company_b, "PO-B-1")
        cls.bill_b = cls.make_bill(cls.company_b, "INV-B-1", amount=20.0, order=cls.po_b)
        cls.integration_queue = cls.env.ref("healthcare_p2p_integration.queue_integration")

    # -- helpers -----------------------------------------------------------------------

    def invoice_doc(self, number="INV-A-1", po="PO-B-1", **extra):
        return dict(
            {
                "number": number,
                "issue_date": "2026-11-20",
                "currency": self.company_a.currency_id.name,
                "vendor": VENDOR,
                "po_numbers": [po] if po else [],
                "lines": [
                    {
                        "line_number": "1",
                        "po_line_ref": "1",
                        "item": {"gtin": GTIN},
                        "quantity": "10",
                        "uom": "EA",
                        "unit_price": "2.00",
                    }
                ],
                "tax_total": "0",
                "gross_total": "20.00",
            },
            **extra,
        )

    def assert_refused(self, message, code="cross_company_reference"):
        """Dead with the stable code, an exception for the integration team, nothing
        applied to the other company."""
        self.assertEqual(message.state, "dead", message.error_message)
        self.assertEqual(message.error_code, code, message.error_message)
        exceptions = self.env["hc.exception"].search([("message_id", "=", message.id)])
        # a refused supplier invoice also tells AP (never naming the other facility)
        refused = exceptions.filtered(lambda e: e.exception_type == "invoice_refused")
        self.assertEqual(len(refused), 1 if message.doc_type_id.code == "invoice" else 0)
        exception = exceptions - refused
        self.assertEqual(len(exception), 1)
        self.assertEqual(
            exception.exception_type,
            "scope_violation" if code != "cross_company_reference" else code,
        )
        self.assertEqual(exception.company_id, message.company_id)
        self.assertEqual(exception.queue_id, self.integration_queue)
        self.assertEqual(exception.severity, "high")
        if code == "cross_company_reference":
            # The other facility is not named to the sender or to this company's users.
            other = (self.company_a | self.company_b) - message.company_id
            self.assertNotIn(other.name, message.error_message)
            self.assertNotIn(other.name, exception.description)
            self.assertNotIn(other.name, refused.description or "")
        self.assertFalse(
            self.env["account.move"].search([("hc_message_id", "=", message.id)]),
            "nothing is applied",
        )
        return exception

    def assert_same_as_unknown(self, doc, unknown_doc, doc_type, company=None, connector=None):
        """A document naming another company's record gets exactly the answer of one
        naming a record that exists nowhere (security review F16): same state, same
        error code, nothing that tells the other company's record exists."""
        company = company or self.company_a
        message = self.run_for(doc, doc_type, company, connector)
        unknown = self.run_for(unknown_doc, doc_type, company, connector)
        self.assertEqual(
            (message.state, message.error_code),
            (unknown.state, unknown.error_code),
            f"{message.error_message} / {unknown.error_message}",
        )
        self.assertFalse(
            self.env["hc.exception"].search(
                [
                    ("message_id", "in", (message | unknown).ids),
                    ("exception_type", "=", "cross_company_reference"),
                ]
            )
        )
        other = (self.company_a | self.company_b) - company
        for text in (message.error_message or "", str(message.document or "")):
            self.assertNotIn(other.name, text)
        return message, unknown

    # -- connector scopes, again in processing ------------------------------------------

    def test_doc_type_narrowed_after_acceptance_is_dead(self):
        message = self.accept_for(self.vendor_doc(), "vendor", self.company_a)
        self.connector.allowed_doc_type_ids = self.doc_types.filtered(lambda d: d.code != "vendor")
        self.process()
        self.assert_refused(message, "document_type_not_allowed")
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "Medline Industries, Inc.")])
        )

    def test_company_not_allowed_is_dead(self):
        # Reached the inbox for B without the API's check (import, scope narrowed since).
        message = self.accept_for(self.vendor_doc(), "vendor", self.company_b)
        self.process()
        exception = self.assert_refused(message, "company_not_allowed")
        self.assertEqual(exception.company_id, self.company_b)
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "Medline Industries, Inc.")])
        )

    def test_company_allowed_is_processed(self):
        self.connector.allowed_company_ids = self.company_a | self.company_b
        message = self.accept_for(self.vendor_doc(), "vendor", self.company_b)
        self.process()
        self.assertEqual(message.state, "done", message.error_message)

    def test_replay_is_checked_again(self):
        message = self.run_for(self.vendor_doc(), "vendor", self.company_a)
        self.assertEqual(message.state, "done", message.error_message)
        self.connector.allowed_doc_type_ids = self.doc_types.filtered(lambda d: d.code != "vendor")
        message._replay("re-run after a fix")
        self.process()
        self.assert_refused(message, "document_type_not_allowed")

    def test_technical_user_holds_only_the_connector_group(self):
        user = self.connector.user_id
        connector_group = self.env.ref("healthcare_p2p_integration.group_hc_connector")
        self.assertEqual(user.all_group_ids, connector_group)
        self.assertTrue(user.share, "not an internal user: no web client")
        with self.assertRaises(AccessError, msg="no other group, ever (F6)"):
            user.group_ids |= self.env.ref("healthcare_p2p_integration.group_hc_ap_manager")
        self.connector._generate_api_key()
        self.assertEqual(user.all_group_ids, connector_group)
        self.connector.allowed_company_ids = self.company_a | self.company_b
        self.assertEqual(user.company_ids, self.company_a | self.company_b)
        self.connector.allowed_company_ids = self.company_a
        self.assertEqual(user.company_ids, self.company_a)

    # -- references to another company's records -------------------------------------

    def test_invoice_for_other_company_po_same_as_unknown(self):
        message, _unknown = self.assert_same_as_unknown(
            self.invoice_doc(), self.invoice_doc(number="INV-A-2", po="PO-NOPE-1"), "invoice"
        )
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "purchase_order:PO-B-1")
        self.assertFalse(self.po_b.invoice_ids - self.bill_b, "B's order is not billed")
        # B's order arriving through B's connector does not release A's invoice onto it
        self.run_for(
            {
                "number": "PO-B-1",
                "order_date": "2026-11-20",
                "vendor": VENDOR,
                "currency": self.company_a.currency_id.name,
                "approval_status": "approved",
                "lines": [
                    {
                        "line_number": "1",
                        "item": {"gtin": GTIN},
                        "quantity": "10",
                        "uom": "EA",
                        "unit_price": "2.00",
                    }
                ],
            },
            "purchase_order",
            self.company_b,
            connector=self.connector_b,
        )
        self.process()
        self.assertEqual(message.state, "waiting")
        self.assertFalse(self.env["account.move"].search([("hc_message_id", "=", message.id)]))

    def test_invoice_same_po_number_in_own_company_is_applied(self):
        # Both facilities use the number: the message's company's order is the one.
        po_a = self.make_po(self.company_a, "PO-B-1")
        message = self.run_for(self.invoice_doc(), "invoice", self.company_a)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.env["account.move"].search([("hc_message_id", "=", message.id)])
        self.assertEqual(bill.company_id, self.company_a)
        self.assertEqual(bill.invoice_line_ids.purchase_line_id.order_id, po_a)

    def test_credit_note_of_other_company_bill_same_as_unknown(self):
        doc = self.invoice_doc(
            number="CN-A-1",
            po=None,
            move_type="credit_note",
            original_invoice_number="INV-B-1",
        )
        unknown = dict(doc, number="CN-A-2", original_invoice_number="INV-NOPE-1")
        message, _unknown = self.assert_same_as_unknown(doc, unknown, "invoice")
        credit = self.env["account.move"].search([("hc_message_id", "=", message.id)])
        self.assertFalse(credit.reversed_entry_id, "never linked to B's bill")

    def test_invoice_vendor_of_other_company_refused(self):
        self.vendor.company_id = self.company_b
        message = self.run_for(self.invoice_doc(po=None), "invoice", self.company_a)
        self.assert_refused(message)

    def test_master_data_of_other_company_vendor_refused(self):
        """Vendor master, item and contract price naming a vendor private to B."""
        self.vendor.company_id = self.company_b
        name = self.vendor.name
        vendor = self.run_for(self.vendor_doc(name="Renamed by A"), "vendor", self.company_a)
        self.assert_refused(vendor)
        self.assertEqual(self.vendor.name, name)
        item = {
            "vendor": VENDOR,
            "gtin": "09501101530003",
            "description": "Isolation gown",
            "uom": "EA",
        }
        self.assert_refused(self.run_for(item, "item", self.company_a))
        contract = {
            "contract_reference": "GPO-X",
            "vendor": VENDOR,
            "item": {"gtin": GTIN},
            "price": "1.00",
            "currency": self.company_a.currency_id.name,
            "uom": "EA",
            "date_start": "2026-01-01",
            "date_end": "2026-12-31",
        }
        self.assert_refused(self.run_for(contract, "contract_price", self.company_a))

    def test_ship_notice_for_other_company_po_same_as_unknown(self):
        doc = {
            "asn_number": "ASN-X",
            "po_number": "PO-B-1",
            "ship_date": "2026-11-20",
            "lines": [{"line_number": "1", "item": {"gtin": GTIN}, "quantity": "10", "uom": "EA"}],
        }
        self.assert_same_as_unknown(
            doc, dict(doc, asn_number="ASN-Y", po_number="PO-NOPE-1"), "ship_notice"
        )
        self.assertFalse(self.env["hc.asn.line"].search([("po_number", "=", "PO-B-1")]))

    def test_receipt_for_other_company_po_same_as_unknown(self):
        doc = {
            "receipt_id": "GR-X",
            "po_number": "PO-B-1",
            "facility": {"identifiers": [{"scheme": "GLN", "value": "0614141000029"}]},
            "received_date": "2026-11-20",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": GTIN},
                    "quantity_received": "10",
                    "uom": "EA",
                }
            ],
        }
        self.assert_same_as_unknown(
            doc, dict(doc, receipt_id="GR-Y", po_number="PO-NOPE-1"), "receipt"
        )
        self.assertFalse(self.po_b.picking_ids.filtered(lambda p: p.state == "done"))

    def test_po_ack_for_other_company_po_same_as_unknown(self):
        doc = {
            "po_number": "PO-B-1",
            "ack_number": "ACK-X",
            "ack_date": "2026-11-20",
            "status": "accepted_with_changes",
            "lines": [{"line_number": "1", "status": "change", "unit_price": "0.01"}],
        }
        self.assert_same_as_unknown(
            doc, dict(doc, ack_number="ACK-Y", po_number="PO-NOPE-1"), "po_ack"
        )
        self.assertEqual(self.po_b.order_line.price_unit, 2.0, "B's order is untouched")
        self.assertEqual(self.po_b.hc_ack_state, "none")

    def test_po_cancel_of_other_company_order_same_as_unknown(self):
        doc = {
            "number": "PO-B-1",
            "order_date": "2026-11-20",
            "vendor": VENDOR,
            "currency": self.company_a.currency_id.name,
            "approval_status": "approved",
            "purpose": "cancel",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": GTIN},
                    "quantity": "10",
                    "uom": "EA",
                    "unit_price": "2.00",
                }
            ],
        }
        self.assert_same_as_unknown(doc, dict(doc, number="PO-NOPE-1"), "purchase_order")
        self.assertEqual(self.po_b.state, "purchase")

    def test_payment_for_other_company_bill_same_as_unknown(self):
        doc = {
            "payment_id": "PAY-X",
            "status": "rejected",
            "reason": "account closed",
            "vendor": VENDOR,
            "amount": "20.00",
            "currency": self.company_a.currency_id.name,
            "payment_date": "2026-11-21",
            "invoices": [{"invoice_number": "INV-B-1", "amount_paid": "20.00"}],
        }
        unknown = dict(
            doc,
            payment_id="PAY-Y",
            invoices=[{"invoice_number": "INV-NOPE-1", "amount_paid": "20.00"}],
        )
        self.assert_same_as_unknown(doc, unknown, "payment")
        self.assertFalse(self.bill_b.hc_payment_status, "B's bill is untouched")
        self.assertFalse(
            self.env["hc.exception"].search([("exception_type", "=", "payment_rejected")])
        )

    def test_payment_for_own_bill_applied(self):
        self.make_bill(self.company_a, "INV-A-9", amount=20.0)
        doc = {
            "payment_id": "PAY-A",
            "status": "scheduled",
            "vendor": VENDOR,
            "amount": "20.00",
            "currency": self.company_a.currency_id.name,
            "payment_date": "2026-11-21",
            "invoices": [{"invoice_number": "INV-A-9", "amount_paid": "20.00"}],
        }
        message = self.run_for(doc, "payment", self.company_a)
        self.assertEqual(message.state, "done", message.error_message)

    def test_connector_of_b_cannot_touch_a(self):
        po_a = self.make_po(self.company_a, "PO-A-7")
        message, _unknown = self.assert_same_as_unknown(
            self.invoice_doc(po="PO-A-7"),
            self.invoice_doc(number="INV-A-2", po="PO-NOPE-1"),
            "invoice",
            company=self.company_b,
            connector=self.connector_b,
        )
        self.assertEqual(message.company_id, self.company_b)
        self.assertFalse(po_a.invoice_ids)


@tagged("post_install", "-at_install")
class TestApiCompanyBoundary(HcCase, HttpCase):
    """Replay over the API reaches only the administrator's companies."""

    def test_admin_key_replays_own_company_only(self):
        company_b = self.env["res.company"].create({"name": "Facility B (API)"})
        connector_b = self.env["hc.connector"].create(
            {
                "name": "Facility B",
                "code": "facb_api",
                "company_id": company_b.id,
                "allowed_doc_type_ids": [(6, 0, self.doc_types.ids)],
            }
        )
        [(message_a, _s)] = self.accept([self.vendor_doc()])
        [(message_b, _s)] = self.Inbox._accept(
            connector_b,
            self.doc_types.filtered(lambda d: d.code == "vendor"),
            company_b,
            "application/json",
            [self.raw(self.vendor_doc(gln="0614141000029"))],
        )
        admin_a = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Integration admin A",
                    "login": "integration_admin_a",
                    "company_id": self.company.id,
                    "company_ids": [(6, 0, self.company.ids)],
                    "group_ids": [
                        (
                            6,
                            0,
                            [
                                self.env.ref(
                                    "healthcare_p2p_integration.group_hc_integration_admin"
                                ).id
                            ],
                        )
                    ],
                }
            )
        )
        key = self.env["res.users.apikeys"].with_user(admin_a).sudo()._generate("hc_p2p", "t", None)

        def replay(message):
            return self.url_open(
                f"/api/hc/v1/messages/{message.id}/replay",
                data=b'{"reason": "supplier fixed data"}',
                headers={"Authorization": f"Bearer {key}"},
                method="POST",
            )

        other = replay(message_b)
        self.assertEqual(other.status_code, 404, other.text)
        self.assertEqual(other.json()["error"]["code"], "not_found")
        self.assertEqual(message_b.replay_count, 0)
        own = replay(message_a)
        self.assertEqual(own.status_code, 202, own.text)
