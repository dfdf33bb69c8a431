from odoo import Command
from odoo.tests import tagged

from .common import HcCase

GLN = "0614141000012"
M = "healthcare_p2p_integration."


@tagged("post_install", "-at_install")
class TestInvoiceRefused(HcCase):
    """A supplier invoice that goes dead always opens an exception in the AP queue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor = cls.make_vendor(GLN)
        cls.product = cls.env["product.product"].create(
            {"name": "Nitrile gloves", "barcode": "00614141000418", "purchase_ok": True}
        )
        cls.admin_user = cls.env["res.users"].create(
            {
                "name": "Integration admin",
                "login": "integration.refused",
                "group_ids": [Command.set([cls.env.ref(M + "group_hc_integration_admin").id])],
                "company_ids": [Command.set(cls.company.ids)],
                "company_id": cls.company.id,
            }
        )
        cls.chf = cls.env.ref("base.CHF")
        cls.chf.active = False

    def invoice_doc(self, number="INV-R1", currency="CHF"):
        return {
            "number": number,
            "issue_date": "2026-11-20",
            "currency": currency,
            "vendor": {"identifiers": [{"scheme": "GLN", "value": GLN}], "name": "Medline"},
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": "00614141000418"},
                    "quantity": "2",
                    "uom": "EA",
                    "unit_price": "5.00",
                }
            ],
            "tax_total": "0",
            "gross_total": "10.00",
        }

    def refused(self, message):
        return self.env["hc.exception"].search(
            [("exception_type", "=", "invoice_refused"), ("message_id", "=", message.id)]
        )

    def test_inactive_currency_opens_an_ap_exception_and_replay_resolves_it(self):
        [(message, _s)] = self.accept([self.invoice_doc()], doc_type="invoice")
        self.process()
        self.assertEqual((message.state, message.error_code), ("dead", "inactive_currency"))
        exc = self.refused(message)
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.severity, "high")
        self.assertEqual(exc.queue_id, self.env.ref(M + "queue_ap_match"))
        self.assertEqual(exc.partner_id, self.vendor)
        self.assertIn("INV-R1", exc.name)
        self.assertIn("Sourcing platform", exc.description, "names the sender")
        self.assertIn("Currency CHF is not active", exc.description)
        self.assertIn("Activate the currency", exc.hint)
        self.assertEqual(exc.details["code"], "inactive_currency")
        self.assertEqual(exc.details["invoice_number"], "INV-R1")
        # dying again after a replay keeps one exception
        message.with_user(self.admin_user)._replay("retry before the fix")
        self.process()
        self.assertEqual(message.state, "dead")
        self.assertEqual(self.refused(message), exc)
        # the currency is activated, an administrator replays: the bill is made, it is over
        self.chf.active = True
        message.with_user(self.admin_user)._replay("currency activated")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(exc.state, "resolved")
        self.assertEqual(exc.resolution_action, "fixed")

    def test_unparsable_invoice_opens_an_ap_exception(self):
        doc_type = self.doc_types.filtered(lambda d: d.code == "invoice")
        [(message, _s)] = self.Inbox._accept(
            self.connector, doc_type, self.company, "application/json", [b'{"number": "INV-']
        )
        self.process()
        self.assertEqual(message.state, "dead")
        exc = self.refused(message)
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.severity, "high")
        self.assertEqual(exc.queue_id, self.env.ref(M + "queue_ap_match"))
        self.assertIn("number unreadable", exc.description)
        self.assertIn(message.error_code, exc.description)
        self.assertIn("send the invoice again", exc.hint)
        self.assertIsNone(exc.details["invoice_number"])

    def test_invalid_document_and_killed_invoice_open_an_exception(self):
        doc = self.invoice_doc("INV-R2", self.company.currency_id.name)
        doc["lines"][0]["quantity"] = "two"
        [(invalid, _s)] = self.accept([doc], doc_type="invoice")
        self.process()
        self.assertEqual(invalid.state, "dead")
        self.assertEqual(len(self.refused(invalid)), 1)
        # retries exhausted and marked dead by an administrator
        [(parked, _s)] = self.accept([self.invoice_doc("INV-R3", "EUR")], doc_type="invoice")
        parked.sudo().write({"attempts": self.connector.max_attempts})
        parked._mark_failed("transient", "remote system down")
        self.assertEqual(parked.state, "dead")
        self.assertEqual(len(self.refused(parked)), 1)
        [(killed, _s)] = self.accept([self.invoice_doc("INV-R4", "EUR")], doc_type="invoice")
        killed.with_user(self.admin_user)._kill("sent to the wrong company")
        exc = self.refused(killed)
        self.assertEqual(exc.details["code"], "killed_by_admin")
        self.assertIn("administrator", exc.hint)

    def test_dead_vendor_message_opens_no_invoice_exception(self):
        [(message, _s)] = self.accept([{"name": "no identifiers"}], doc_type="vendor")
        self.process()
        self.assertEqual(message.state, "dead")
        self.assertFalse(
            self.env["hc.exception"].search([("exception_type", "=", "invoice_refused")])
        )
