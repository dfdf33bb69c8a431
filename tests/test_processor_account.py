import base64
import copy
from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import HcCase
from .common import read_sample

VENDOR_GLN = "0614141000012"
GTIN_GLOVES = "04006381333931"
GTIN_SYRINGE = "05901234123457"
GTIN_GOWN = "09501101530003"


@tagged("post_install", "-at_install")
class TestProcessorAccount(HcCase):
    """Supplier invoices become draft vendor bills; payment status lands on the bills."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Bills stay drafts here: these tests are about the import, not the release.
        cls.company.hc_autopost_matched = False
        cls.currency = cls.company.currency_id
        cls.vendor = cls.make_vendor(VENDOR_GLN)
        cls.tax10 = cls.env["account.tax"].create(
            {
                "name": "HC purchase 10%",
                "amount": 10,
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": cls.company.id,
            }
        )
        product_vals = {"type": "consu", "is_storable": True, "purchase_ok": True}
        cls.gloves = cls.env["product.product"].create(
            dict(product_vals, name="Nitrile gloves", barcode=GTIN_GLOVES)
        )
        cls.syringe = cls.env["product.product"].create(
            dict(product_vals, name="Syringe 10 ml", barcode=GTIN_SYRINGE)
        )
        cls.gown = cls.env["product.product"].create(
            dict(product_vals, name="Isolation gown", barcode=GTIN_GOWN)
        )
        cls.po = cls._make_po(
            cls.vendor,
            "PO-HC-1001",
            [(cls.gloves, 10, 12.5, "1", cls.tax10), (cls.syringe, 100, 0.8, "2", cls.tax10)],
        )

    @classmethod
    def _make_po(cls, vendor, name, lines, currency=None):
        """A confirmed purchase order as a buyer keys it in (or the PO processor makes)."""
        order = cls.env["purchase.order"].create(
            {
                "name": name,
                "partner_id": vendor.id,
                "currency_id": (currency or cls.currency).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_qty": qty,
                            "price_unit": price,
                            "hc_line_ref": ref,
                            "tax_ids": [Command.set(taxes.ids)],
                        }
                    )
                    for product, qty, price, ref, taxes in lines
                ],
            }
        )
        order.button_confirm()
        return order

    def invoice_doc(self, number="INV-000123", date="2026-03-02", lines=None, **extra):
        doc = {
            "number": number,
            "issue_date": date,
            "due_date": "2026-04-01",
            "currency": self.currency.name,
            "vendor": {
                "identifiers": [{"scheme": "GLN", "value": VENDOR_GLN}],
                "name": "Medline Industries, Inc.",
            },
            "po_numbers": ["PO-HC-1001"],
            "lines": lines
            or [
                {
                    "line_number": "1",
                    "po_line_ref": "1",
                    "item": {"gtin": GTIN_GLOVES, "description": "Nitrile gloves M"},
                    "quantity": "10",
                    "uom": "EA",
                    "unit_price": "12.50",
                },
                {
                    "line_number": "2",
                    "po_line_ref": "2",
                    "item": {"gtin": GTIN_SYRINGE},
                    "quantity": "100",
                    "uom": "EA",
                    "unit_price": "0.80",
                },
            ],
            "tax_total": "20.50",
            "gross_total": "225.50",
        }
        doc.update(extra)
        return doc

    def process_invoice(self, doc, key=None, doc_type="invoice"):
        ((message, status),) = self.accept([doc], doc_type=doc_type, key=key)
        self.assertEqual(status, "created")
        self.process()
        return message

    def bills_of(self, message):
        return self.env["account.move"].search([("hc_message_id", "=", message.id)])

    @staticmethod
    def processor_exceptions(bill):
        """Exceptions the invoice processor raised (the three-way match adds its own)."""
        return bill.hc_exception_ids.filtered(
            lambda e: not (e.dedup_key or "").startswith("match:")
        )

    def exceptions(self, exception_type, bill=None):
        domain = [("exception_type", "=", exception_type), ("dedup_key", "not like", "match:%")]
        if bill is not None:
            domain += [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        return self.env["hc.exception"].search(domain)

    # ------------------------------------------------------------------------------
    # Invoices
    # ------------------------------------------------------------------------------

    def test_json_invoice_draft_bill_linked_to_po_lines(self):
        message = self.process_invoice(self.invoice_doc())
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bills_of(message)
        self.assertEqual(len(bill), 1)
        self.assertEqual(message.result_model, "account.move")
        self.assertEqual(message.result_ids, bill.ids)
        self.assertRecordValues(
            bill,
            [
                {
                    "move_type": "in_invoice",
                    "state": "draft",
                    "partner_id": self.vendor.id,
                    "ref": "INV-000123",
                    "hc_ref_normalized": "123",
                    "invoice_date": fields.Date.to_date("2026-03-02"),
                    "invoice_date_due": fields.Date.to_date("2026-04-01"),
                    "currency_id": self.currency.id,
                    "invoice_origin": "PO-HC-1001",
                    "hc_stated_total": 225.5,
                    "hc_stated_tax_total": 20.5,
                    "amount_untaxed": 205.0,
                    "amount_tax": 20.5,
                    "amount_total": 225.5,
                }
            ],
        )
        lines = bill.invoice_line_ids.sorted(lambda ln: ln.product_id.id)
        self.assertEqual(lines.purchase_line_id, self.po.order_line)
        self.assertEqual(lines.product_id, self.gloves | self.syringe)
        self.assertEqual(lines.tax_ids, self.tax10)
        self.assertEqual(sorted(lines.mapped("quantity")), [10.0, 100.0])
        # The purchase order knows it is billed (the native link).
        self.assertEqual(self.po.order_line.mapped("qty_invoiced"), [10.0, 100.0])
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        )
        self.assertEqual(len(attachment), 1)
        self.assertEqual(attachment.mimetype, "application/json")
        self.assertEqual(attachment.raw, base64.b64decode(message.payload))
        self.assertFalse(self.processor_exceptions(bill))

    def test_credit_note_is_in_refund(self):
        self.process_invoice(self.invoice_doc())
        credit = self.invoice_doc(
            number="CN-77",
            move_type="credit_note",
            original_invoice_number="INV-000123",
            lines=[
                {
                    "line_number": "1",
                    "po_line_ref": "1",
                    "item": {"gtin": GTIN_GLOVES},
                    "quantity": "2",
                    "uom": "EA",
                    "unit_price": "12.50",
                }
            ],
            tax_total="2.50",
            gross_total="27.50",
        )
        message = self.process_invoice(credit)
        self.assertEqual(message.state, "done", message.error_message)
        refund = self.bills_of(message)
        self.assertEqual(refund.move_type, "in_refund")
        self.assertEqual(refund.state, "draft")
        self.assertEqual(refund.amount_total, 27.5)
        self.assertEqual(refund.invoice_line_ids.quantity, 2.0)
        self.assertEqual(refund.invoice_line_ids.purchase_line_id.product_id, self.gloves)
        self.assertEqual(refund.reversed_entry_id.ref, "INV-000123")

    def test_same_invoice_twice_makes_one_bill(self):
        first = self.process_invoice(self.invoice_doc(), key="capture-1")
        second = self.process_invoice(self.invoice_doc(), key="capture-2")
        self.assertNotEqual(first, second)
        self.assertEqual(second.state, "done", second.error_message)
        bills = self.env["account.move"].search([("partner_id", "=", self.vendor.id)])
        self.assertEqual(len(bills), 1)
        self.assertEqual(second.result_ids, bills.ids)
        # An exact resubmission is harmless: no exception for a clerk.
        self.assertFalse(self.exceptions("duplicate_invoice"))

        # Re-keyed by another channel ("INV 123"): same bill, but a clerk looks at it.
        third = self.process_invoice(self.invoice_doc(number="INV 123", payment_terms="Net 30"))
        self.assertEqual(third.state, "done", third.error_message)
        self.assertEqual(
            len(self.env["account.move"].search([("partner_id", "=", self.vendor.id)])), 1
        )
        duplicate = self.exceptions("duplicate_invoice", bills)
        self.assertEqual(len(duplicate), 1)
        self.assertEqual(duplicate.details["verdict"], "duplicate")
        self.assertEqual(duplicate.message_id, third)

    # -- several invoices in one claimed batch ----------------------------------------

    def _spy_bill_creates(self):
        Move = type(self.env["account.move"])
        original = Move.create
        calls = []

        def create(records, vals_list):
            calls.append(len(vals_list) if isinstance(vals_list, list) else 1)
            return original(records, vals_list)

        return patch.object(Move, "create", create), calls

    def test_batch_creates_bills_together_and_sees_duplicates(self):
        self._make_po(self.vendor, "PO-HC-1002", [(self.gloves, 4, 12.5, "1", self.tax10)])
        other = self.invoice_doc(
            number="INV-000200",
            po_numbers=["PO-HC-1002"],
            lines=[
                {
                    "line_number": "1",
                    "po_line_ref": "1",
                    "item": {"gtin": GTIN_GLOVES},
                    "quantity": "4",
                    "uom": "EA",
                    "unit_price": "12.50",
                }
            ],
            tax_total="5.00",
            gross_total="55.00",
        )
        first = self.accept([self.invoice_doc()], doc_type="invoice", key="b-1")[0][0]
        second = self.accept([other], doc_type="invoice", key="b-2")[0][0]
        # the same invoice again in the same batch, re-keyed: must see the first's bill
        third = self.accept([self.invoice_doc(number="INV 123")], doc_type="invoice", key="b-3")[0][
            0
        ]
        spy, calls = self._spy_bill_creates()
        with spy:
            self.process()
        self.assertEqual((first | second | third).mapped("state"), ["done"] * 3)
        self.assertEqual(calls, [2], "the first two bills are created in one call")
        bills = self.env["account.move"].search([("partner_id", "=", self.vendor.id)])
        self.assertEqual(len(bills), 2, "no duplicate bill inside a batch")
        self.assertEqual(third.result_ids, first.result_ids)
        self.assertEqual(len(self.exceptions("duplicate_invoice")), 1)
        for message in first | second:
            bill = self.bills_of(message)
            self.assertTrue(bill.attachment_ids, "original document attached")
            self.assertTrue(bill.hc_match_state, "matched after the batch create")

    def test_batch_member_failing_to_finish_is_applied_alone(self):
        self._make_po(self.vendor, "PO-HC-1003", [(self.gloves, 4, 12.5, "1", self.tax10)])
        bad = self.invoice_doc(number="BAD-1", po_numbers=["PO-HC-1003"], gross_total="55.00")
        good = self.accept([self.invoice_doc()], doc_type="invoice", key="g-1")[0][0]
        poison = self.accept([bad], doc_type="invoice", key="p-1")[0][0]
        Processor = type(self.env["hc.processor.invoice"])
        original = Processor._attach_document

        def attach(processor, message, document, bill):
            if document.number == "BAD-1":
                raise ValueError("cannot store this attachment")
            return original(processor, message, document, bill)

        with patch.object(Processor, "_attach_document", attach):
            self.process()
        self.assertEqual(good.state, "done", good.error_message)
        self.assertEqual(poison.state, "dead")
        self.assertIn("cannot store this attachment", poison.error_message)
        self.assertFalse(
            self.env["account.move"].search([("ref", "=", "BAD-1")]), "no half-applied bill"
        )
        self.assertEqual(len(self.bills_of(good)), 1)
        # the audit entries of a batch are chained at commit: only what was applied
        Audit = self.env["hc.audit.log"]
        processed = Audit.search([("action", "=", "message_processed")])
        self.assertIn(good.id, processed.mapped("res_id"))
        self.assertNotIn(poison.id, processed.mapped("res_id"))
        self.assertFalse(Audit._verify_chain(), "the chain holds")

    def test_batch_create_failing_falls_back_to_one_by_one(self):
        self._make_po(self.vendor, "PO-HC-1004", [(self.gloves, 4, 12.5, "1", self.tax10)])
        other = self.invoice_doc(number="INV-000400", po_numbers=["PO-HC-1004"])
        messages = self.accept([self.invoice_doc()], doc_type="invoice", key="f-1")[0][0]
        messages |= self.accept([other], doc_type="invoice", key="f-2")[0][0]
        Move = type(self.env["account.move"])
        original = Move.create

        def create(records, vals_list):
            if isinstance(vals_list, list) and len(vals_list) > 1:
                raise UserError(self.env._("simulated failure of a combined create"))
            return original(records, vals_list)

        with patch.object(Move, "create", create):
            self.process()
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        self.assertEqual(
            len(self.env["account.move"].search([("hc_message_id", "in", messages.ids)])), 2
        )

    def test_replay_finds_its_bill(self):
        message = self.process_invoice(self.invoice_doc())
        bill = self.bills_of(message)
        result = self.env["hc.processor.invoice"]._apply(
            message, self.env["hc.processor.invoice"]._parse(message).document
        )
        self.assertEqual(result["records"], bill)
        self.assertEqual(len(self.env["account.move"].search([("ref", "=", "INV-000123")])), 1)
        self.assertEqual(len(bill.invoice_line_ids), 2)

    def test_reused_number_next_year_other_amount(self):
        self.process_invoice(self.invoice_doc())
        lines = copy.deepcopy(self.invoice_doc()["lines"][:1])
        lines[0]["quantity"] = "4"
        later = self.invoice_doc(
            date="2027-03-01",
            due_date="2027-03-31",
            lines=lines,
            tax_total="5.00",
            gross_total="55.00",
        )
        message = self.process_invoice(later)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bills_of(message)
        self.assertEqual(len(bill), 1, "a reused number is still a new bill")
        review = self.exceptions("duplicate_invoice", bill)
        self.assertEqual(len(review), 1)
        self.assertEqual(review.severity, "medium")
        self.assertEqual(review.details["verdict"], "review")
        self.assertEqual(self.processor_exceptions(bill), review)

    def test_same_amount_other_reference_is_suspect(self):
        self.process_invoice(self.invoice_doc())
        message = self.process_invoice(self.invoice_doc(number="INV-000124", date="2026-03-04"))
        bill = self.bills_of(message)
        self.assertTrue(bill)
        suspect = self.exceptions("duplicate_invoice", bill)
        self.assertEqual(suspect.details["verdict"], "suspect")

    def test_unknown_vendor_waits_for_vendor_master(self):
        doc = self.invoice_doc(
            vendor={"identifiers": [{"scheme": "GLN", "value": "4012345000009"}], "name": "Nova"},
            po_numbers=[],
        )
        message = self.process_invoice(doc)
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "vendor:gln=4012345000009")
        unknown = self.exceptions("unknown_vendor")
        self.assertEqual(len(unknown), 1)
        self.assertEqual(unknown.message_id, message)

        vendor_msg = self.process_invoice(
            self.vendor_doc(gln="4012345000009", name="Nova Surgical GmbH", city="Hamburg"),
            doc_type="vendor",
        )
        self.assertEqual(vendor_msg.state, "done", vendor_msg.error_message)
        # Released by the vendor (bulk lane); its own lane picks it up on the next run.
        self.assertEqual(message.state, "received")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bills_of(message)
        self.assertEqual(bill.partner_id.name, "Nova Surgical GmbH")
        self.assertEqual(unknown.state, "resolved")
        # Without a purchase order the lines are billed but flagged.
        self.assertEqual(len(self.exceptions("no_po", bill)), 1)

    def test_invoice_before_its_po_waits_then_is_released(self):
        message = self.process_invoice(self.invoice_doc(number="INV-9", po_numbers=["PO-LATE"]))
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "purchase_order:PO-LATE")
        self.assertFalse(self.bills_of(message))

        po = self._make_po(
            self.vendor,
            "PO-LATE",
            [(self.gloves, 10, 12.5, "1", self.tax10), (self.syringe, 100, 0.8, "2", self.tax10)],
        )
        # A PO keyed in by hand produces no message: the waiting invoice finds it when
        # it is polled.
        message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bills_of(message)
        self.assertEqual(bill.invoice_line_ids.purchase_line_id, po.order_line)

    def test_line_without_po_line_and_unknown_item(self):
        lines = copy.deepcopy(self.invoice_doc()["lines"])
        lines.append(
            {
                "line_number": "3",
                "item": {"gtin": GTIN_GOWN},
                "quantity": "5",
                "uom": "EA",
                "unit_price": "3.00",
            }
        )
        lines.append(
            {
                "line_number": "4",
                "item": {"vendor_part_number": "MED-999", "description": "Mystery item"},
                "quantity": "1",
                "uom": "EA",
                "unit_price": "7.00",
            }
        )
        message = self.process_invoice(self.invoice_doc(lines=lines, gross_total="250.00"))
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bills_of(message)
        self.assertEqual(bill.state, "draft")
        self.assertEqual(len(bill.invoice_line_ids), 4)
        gown_line = bill.invoice_line_ids.filtered(lambda ln: ln.product_id == self.gown)
        self.assertFalse(gown_line.purchase_line_id)
        no_po = self.exceptions("no_po", bill)
        self.assertEqual(no_po.details["lines"], ["3", "4"])
        unknown = self.exceptions("unknown_item", bill)
        self.assertEqual(unknown.details["lines"], ["4"])
        mystery = bill.invoice_line_ids.filtered(lambda ln: ln.name == "Mystery item")
        self.assertFalse(mystery.product_id)
        self.assertEqual(mystery.price_subtotal, 7.0)

    # ------------------------------------------------------------------------------
    # Payment status
    # ------------------------------------------------------------------------------

    def payment_doc(self, status, payment_id="PAY-1", reference="123", **extra):
        doc = {
            "payment_id": payment_id,
            "status": status,
            "vendor": {"identifiers": [{"scheme": "GLN", "value": VENDOR_GLN}]},
            "amount": "225.50",
            "currency": self.currency.name,
            "payment_date": "2026-04-01",
            "method": "ach",
            "invoices": [{"invoice_number": reference, "amount_paid": "225.50"}],
        }
        doc.update(extra)
        return doc

    def test_payment_paid_records_status_without_accounting_payment(self):
        bill = self.bills_of(self.process_invoice(self.invoice_doc()))
        message = self.process_invoice(self.payment_doc("scheduled"), doc_type="payment")
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(bill.hc_payment_status, "scheduled")
        message = self.process_invoice(self.payment_doc("paid"), doc_type="payment")
        self.assertEqual(message.state, "done", message.error_message)
        self.assertRecordValues(
            bill,
            [
                {
                    "hc_payment_status": "paid",
                    "hc_payment_ref": "PAY-1",
                    "hc_payment_date": fields.Date.to_date("2026-04-01"),
                    "hc_payment_amount": 225.5,
                    "payment_state": "not_paid",
                    "state": "draft",
                }
            ],
        )
        self.assertFalse(self.env["account.payment"].search([("partner_id", "=", self.vendor.id)]))

    def test_payment_status_without_payee_finds_the_bill_by_reference(self):
        bill = self.bills_of(self.process_invoice(self.invoice_doc()))
        doc = self.payment_doc("scheduled")
        del doc["vendor"]  # a bank status file naming only the invoices it settles
        message = self.process_invoice(doc, doc_type="payment")
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(bill.hc_payment_status, "scheduled")

    def test_payment_rejected_raises_exception(self):
        bill = self.bills_of(self.process_invoice(self.invoice_doc()))
        message = self.process_invoice(
            self.payment_doc("rejected", reason="R03 no account / unable to locate account"),
            doc_type="payment",
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(bill.hc_payment_status, "rejected")
        rejected = self.exceptions("payment_rejected", bill)
        self.assertEqual(len(rejected), 1)
        self.assertIn("R03", rejected.description)
        self.assertEqual(rejected.severity, "high")

    def test_payment_hold_recorded(self):
        bill = self.bills_of(self.process_invoice(self.invoice_doc()))
        message = self.process_invoice(
            self.payment_doc("hold", reason="Vendor bank details under review"),
            doc_type="payment",
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(bill.hc_payment_status, "hold")
        self.assertEqual(bill.hc_payment_note, "Vendor bank details under review")
        self.assertFalse(self.exceptions("payment_rejected"))

    def test_payment_for_unknown_invoice_waits_then_dies(self):
        message = self.process_invoice(
            self.payment_doc("paid", reference="INV-000555"), doc_type="payment"
        )
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "invoice_number:555")
        # The invoice arrives: the payment is released and applied.
        bill = self.bills_of(self.process_invoice(self.invoice_doc(number="INV-000555")))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(bill.hc_payment_status, "paid")

        late = self.process_invoice(
            self.payment_doc("paid", payment_id="PAY-2", reference="777"), doc_type="payment"
        )
        self.assertEqual(late.state, "waiting")
        # five days later (received_at is evidence the ORM never rewrites: set in SQL)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE hc_inbox_message SET received_at = %s, next_attempt_at = %s WHERE id = %s",
            (
                fields.Datetime.now() - timedelta(days=5),
                fields.Datetime.now() - timedelta(seconds=1),
                late.id,
            ),
        )
        self.env.invalidate_all()
        self.process()
        self.assertEqual(late.state, "dead")
        self.assertEqual(late.error_code, "unknown_invoice")

    # ------------------------------------------------------------------------------
    # Real-world samples
    # ------------------------------------------------------------------------------

    def accept_raw(self, raw, content_type):
        doc_type = self.doc_types.filtered(lambda d: d.code == "invoice")
        ((message, status),) = self.Inbox._accept(
            self.connector, doc_type, self.company, content_type, [raw]
        )
        self.assertEqual(status, "created")
        self.process()
        return message

    def test_peppol_bis3_sample(self):
        raw = read_sample("peppol-bis3_base-example.xml")
        eur = self.env.ref("base.EUR")
        eur.active = True
        supplier = self.env["res.partner"].create(
            {"name": "SupplierTradingName Ltd.", "is_company": True}
        )
        self.env["hc.partner.identifier"].create(
            {"partner_id": supplier.id, "scheme": "vat", "value": "GB1232434"}
        )
        vat25 = self.env["account.tax"].create(
            {
                "name": "VAT 25% (purchase)",
                "amount": 25,
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": self.company.id,
            }
        )
        day = self.env.ref("uom.product_uom_day")
        day.hc_code = "DAY"
        product = self.env["product.product"].create(
            {
                "name": "Consulting day",
                "type": "service",
                "barcode": "21382183120983",
                "uom_id": day.id,
                "supplier_taxes_id": [Command.set(vat25.ids)],
            }
        )
        message = self.accept_raw(raw, "application/xml")
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bills_of(message)
        self.assertRecordValues(
            bill,
            [
                {
                    "partner_id": supplier.id,
                    "ref": "Snippet1",
                    "currency_id": eur.id,
                    "invoice_date": fields.Date.to_date("2017-11-13"),
                    "invoice_date_due": fields.Date.to_date("2017-12-01"),
                    "amount_untaxed": 1325.0,
                    "amount_tax": 331.25,
                    "amount_total": 1656.25,
                    "hc_stated_total": 1656.25,
                    "hc_stated_tax_total": 331.25,
                }
            ],
        )
        goods = bill.invoice_line_ids.filtered("product_id")
        self.assertEqual(goods.product_id, product)
        self.assertEqual(goods.product_uom_id, day)
        self.assertEqual(sorted(goods.mapped("quantity")), [-3.0, 7.0])
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        )
        self.assertEqual(attachment.mimetype, "application/xml")
        # The example names no purchase order: billed, and flagged for a clerk.
        self.assertEqual(self.exceptions("no_po", bill).details["lines"], ["1", "2"])

    def test_x12_810_sample(self):
        raw = read_sample("x12_810a_edinet.edi")
        supplier = self.env["res.partner"].create({"name": "ABC Music Supply", "is_company": True})
        self.env["hc.partner.identifier"].create(
            {
                "partner_id": supplier.id,
                "scheme": "source",
                "value": "ABCMUSICSUPPLY",
                "source_system": f"{self.connector.code}:x12_isa_zz",
            }
        )
        products = self.env["product.product"]
        for code in ("ID001", "ID002"):
            products |= self.env["product.product"].create(
                {
                    "name": f"Power cord {code}",
                    "type": "consu",
                    "supplier_taxes_id": [Command.clear()],
                    "seller_ids": [
                        Command.create({"partner_id": supplier.id, "product_code": code})
                    ],
                }
            )
        order = self._make_po(
            supplier,
            "DO091003",
            [
                (products[0], 2, 99.99, "1", self.env["account.tax"]),
                (products[1], 2, 79.99, "2", self.env["account.tax"]),
            ],
        )
        message = self.accept_raw(raw, "application/edi-x12")
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bills_of(message)
        self.assertRecordValues(
            bill,
            [
                {
                    "partner_id": supplier.id,
                    "ref": "DO091003TESTINV01",
                    "invoice_date": fields.Date.to_date("2003-03-10"),
                    "amount_total": 365.96,
                    "hc_stated_total": 365.96,
                }
            ],
        )
        goods = bill.invoice_line_ids.filtered("product_id")
        self.assertEqual(goods.purchase_line_id, order.order_line)
        self.assertEqual(sorted(goods.mapped("price_unit")), [79.99, 99.99])
        # Line charges (SAC G830) are their own lines, so unit prices stay comparable.
        charges = bill.invoice_line_ids - goods
        self.assertEqual(sorted(charges.mapped("price_subtotal")), [3.0, 3.0])
        self.assertFalse(self.exceptions("no_po", bill))
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        )
        self.assertEqual(attachment.mimetype, "application/edi-x12")
