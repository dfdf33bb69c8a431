"""Decisions per kind of exception, as the AP clerk's own user (issue 16, items 4 and 5).

The clerk here has the AP Clerk role only: the role implies Odoo's Billing rights
(``account.group_account_invoice``) that the decisions on vendor bills need.
"""

import base64
import os
import re
from pathlib import Path

from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase
from .common import sample_path
from .security_common import CallKwMixin

MODULE = "healthcare_p2p_integration"
VENDOR_GLN = "0614141000012"
GTIN_GLOVES = "04006381333931"


class ActionsCase(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.hc_autopost_matched = False
        cls.company.hc_accept_threshold = 1000.0
        cls.vendor = cls.make_vendor(VENDOR_GLN)
        cls.vendor.email = "ar@medline.example"
        product_vals = {"type": "consu", "is_storable": True, "purchase_ok": True}
        cls.gloves = cls.env["product.product"].create(
            dict(product_vals, name="Nitrile gloves", barcode=GTIN_GLOVES)
        )
        cls.gown = cls.env["product.product"].create(dict(product_vals, name="Isolation gown"))
        cls.env["hc.tolerance.rule"].search([]).unlink()
        cls.env["hc.tolerance.rule"].create(
            {"name": "Default", "company_id": cls.company.id, "price_pct": 2.0, "total_pct": 2.0}
        )
        group = cls.env.ref
        cls.clerk = cls._user("hc_clerk", [f"{MODULE}.group_hc_ap_clerk"])
        cls.receiver = cls._user("hc_receiver", [f"{MODULE}.group_hc_supply_chain"])
        cls.receiving = group(f"{MODULE}.queue_receiving")
        cls.receiving.write({"member_ids": [Command.set(cls.receiver.ids)]})
        group(f"{MODULE}.queue_ap_match").member_ids = cls.clerk

    @classmethod
    def _user(cls, login, groups):
        return (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": login,
                    "login": login,
                    "password": f"{login}_pw!",
                    "email": f"{login}@hospital.example",
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                    "group_ids": [Command.set([cls.env.ref(g).id for g in groups])],
                }
            )
        )

    @classmethod
    def make_po(cls, name, qty=10, price=12.5, receive=True):
        order = cls.env["purchase.order"].create(
            {
                "name": name,
                "partner_id": cls.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.gloves.id,
                            "product_qty": qty,
                            "price_unit": price,
                            "hc_line_ref": "1",
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        order.button_confirm()
        if receive:
            picking = order.picking_ids[:1]
            picking.move_ids.quantity = qty
            picking.with_context(
                skip_backorder=True, picking_ids_not_to_backorder=[]
            ).button_validate()
        return order

    def invoice(self, number, po, lines=None, date="2026-11-20", **extra):
        lines = lines or [
            {
                "line_number": "1",
                "po_line_ref": "1",
                "item": {"gtin": GTIN_GLOVES, "description": "Nitrile gloves M"},
                "quantity": "10",
                "uom": "EA",
                "unit_price": "12.50",
            }
        ]
        total = sum(float(ln["quantity"]) * float(ln["unit_price"]) for ln in lines)
        doc = {
            "number": number,
            "issue_date": date,
            "currency": self.company.currency_id.name,
            "vendor": {
                "identifiers": [{"scheme": "GLN", "value": VENDOR_GLN}],
                "name": "Medline Industries, Inc.",
            },
            "po_numbers": [po.name] if po else [],
            "lines": lines,
            "gross_total": f"{total:.2f}",
        }
        doc.update(extra)
        ((message, status),) = self.accept([doc], doc_type="invoice")
        self.assertEqual(status, "created")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        return message

    def bill_of(self, message):
        return self.env["account.move"].search([("hc_message_id", "=", message.id)])

    def open_exc(self, exception_type, bill):
        return self.env["hc.exception"].search(
            [
                ("exception_type", "=", exception_type),
                ("res_model", "=", "account.move"),
                ("res_id", "=", bill.id),
                ("state", "not in", ("resolved", "cancelled")),
            ]
        )

    def decide(self, exc, action, reason="checked with the vendor", user=None, **vals):
        wizard = (
            self.env["hc.exception.resolve.wizard"]
            .with_user(user or self.clerk)
            .create(
                {
                    "exception_ids": [Command.set(exc.ids)],
                    "action": action,
                    "reason": reason,
                    **vals,
                }
            )
        )
        self.assertIn(action, wizard.allowed_actions)
        return wizard.action_confirm()

    def audit(self, action, record):
        return self.env["hc.audit.log"].search(
            [("action", "=", action), ("res_model", "=", record._name), ("res_id", "=", record.id)]
        )

    def suspect_pair(self):
        po = self.make_po("PO-DUP-1", qty=20)
        first = self.bill_of(self.invoice("INV-500", po))
        # another number, same vendor and amount, two days later: a possible duplicate
        second = self.bill_of(self.invoice("INV-501", po, date="2026-11-22"))
        exc = self.open_exc("duplicate_invoice", second)
        self.assertEqual(len(exc), 1)
        self.assertEqual(second.hc_match_state, "blocked")
        return first, second, exc

    def mystery_line(self, number="1"):
        return {
            "line_number": number,
            "item": {"vendor_part_number": "MED-999", "description": "Isolation gown, blue"},
            "quantity": "2",
            "uom": "EA",
            "unit_price": "7.00",
        }

    def variance_bill(self, number="INV-1000"):
        po = self.make_po(f"PO-{number}")
        lines = [
            {
                "line_number": "1",
                "po_line_ref": "1",
                "item": {"gtin": GTIN_GLOVES},
                "quantity": "10",
                "uom": "EA",
                "unit_price": "13.50",
            }
        ]
        bill = self.bill_of(self.invoice(number, po, lines=lines))
        exc = self.open_exc("price_variance", bill)
        self.assertEqual(len(exc), 1)
        return bill, exc


@tagged("post_install", "-at_install")
class TestExceptionActions(ActionsCase):
    # -- duplicate invoice -------------------------------------------------------------

    def test_duplicate_offers_its_own_decisions_and_shows_both_invoices(self):
        _first, _second, exc = self.suspect_pair()
        wizard = (
            self.env["hc.exception.resolve.wizard"]
            .with_user(self.clerk)
            .create({"exception_ids": [Command.set(exc.ids)]})
        )
        self.assertEqual(wizard.allowed_actions, ["confirm_duplicate", "not_duplicate", "reassign"])
        self.assertFalse(wizard.action, "nothing is preselected")
        html = str(exc.with_user(self.clerk).duplicate_comparison)
        for text in ("INV-500", "INV-501", "2026-11-20", "2026-11-22", "Nitrile gloves M"):
            self.assertIn(text, html)
        self.assertIn(self.connector.name, html)
        with self.assertRaises(UserError):  # an item decision never fits, over RPC neither
            self.env["hc.exception.resolve.wizard"].with_user(self.clerk).create(
                {"exception_ids": exc.ids, "action": "map_item", "reason": "x"}
            ).action_confirm()
        self.assertEqual(exc.state, "new")

    def test_clerk_confirms_a_duplicate_the_bill_is_cancelled(self):
        first, second, exc = self.suspect_pair()
        self.decide(exc, "confirm_duplicate", "same delivery billed twice")
        self.assertEqual(exc.state, "resolved")
        self.assertEqual(exc.resolution_action, "duplicate")
        self.assertEqual(exc.resolution, "same delivery billed twice")
        self.assertEqual(exc.resolved_by_id, self.clerk)
        self.assertEqual(second.state, "cancel")
        self.assertNotEqual(first.state, "cancel")
        self.assertEqual(self.audit("exception_duplicate", exc).user_id, self.clerk)
        cancelled = self.audit("duplicate_bill_cancelled", second)
        self.assertEqual(cancelled.data["original"], first.id)
        self.assertIn("same delivery billed twice", exc.message_ids[:1].body)

    def test_clerk_says_not_a_duplicate_the_hold_is_released(self):
        _first, second, exc = self.suspect_pair()
        self.decide(exc, "not_duplicate", "second delivery of the same order")
        self.assertEqual(exc.resolution_action, "not_duplicate")
        self.assertEqual(second.state, "draft")
        self.assertIn(second.hc_match_state, ("matched", "accepted"), second.hc_match_explanation)
        self.assertTrue(second.hc_released)
        self.assertTrue(self.audit("exception_not_duplicate", exc))

    def test_copy_never_billed_is_billed_once_declared_not_a_duplicate(self):
        po = self.make_po("PO-DUP-2", qty=20)
        original = self.bill_of(self.invoice("INV-600", po))
        copy = self.invoice("INV 600", po, payment_terms="Net 30")  # re-keyed: same invoice
        self.assertFalse(self.bill_of(copy))
        exc = self.env["hc.exception"].search(
            [("exception_type", "=", "duplicate_invoice"), ("message_id", "=", copy.id)]
        )
        self.assertIn("Not billed", str(exc.duplicate_comparison))
        self.decide(exc, "not_duplicate", "vendor confirms a separate invoice")
        self.assertEqual(copy.state, "received")
        self.process()
        self.assertEqual(copy.state, "done", copy.error_message)
        bill = self.bill_of(copy)
        self.assertEqual(len(bill), 1)
        self.assertNotEqual(bill, original)
        self.assertFalse(self.open_exc("duplicate_invoice", bill))

    # -- missing receipt ---------------------------------------------------------------

    def test_clerk_asks_receiving(self):
        po = self.make_po("PO-REC-1", receive=False)
        bill = self.bill_of(self.invoice("INV-700", po))
        exc = self.open_exc("missing_receipt", bill)
        self.assertEqual(len(exc), 1)
        self.decide(exc, "ask_receiving", "dock says it came Tuesday")
        self.assertEqual(exc.state, "waiting")
        self.assertEqual(exc.resolution, "dock says it came Tuesday")
        picking = po.picking_ids
        self.assertEqual(exc.picking_id, picking)
        activity = picking.activity_ids.filtered(lambda a: a.user_id == self.receiver)
        self.assertEqual(len(activity), 1)
        self.assertIn(po.name, activity.summary)
        self.assertEqual(activity.create_uid, self.clerk)
        log = self.audit("receiving_asked", exc)
        self.assertEqual(log.data["document"], ["stock.picking", picking.id])
        # the goods come in: the match closes the exception by itself
        picking.move_ids.quantity = 10
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[]).button_validate()
        self.env["hc.three.way.match"]._match_bills(bill)
        self.assertEqual(exc.state, "resolved")

    # -- unknown item ------------------------------------------------------------------

    def test_clerk_maps_an_unknown_item_and_the_next_document_finds_it(self):
        bill = self.bill_of(self.invoice("INV-800", None, lines=[self.mystery_line()]))
        exc = self.open_exc("unknown_item", bill)
        self.assertEqual(len(exc), 1)
        line = bill.invoice_line_ids.filtered(lambda ln: ln.hc_line_ref == "1")
        self.decide(
            exc,
            "map_item",
            "MED-999 is our isolation gown",
            move_line_id=line.id,
            product_id=self.gown.id,
        )
        self.assertEqual(exc.state, "resolved")
        self.assertEqual(exc.resolution_action, "mapped")
        self.assertEqual(line.product_id, self.gown)
        self.assertEqual((line.quantity, line.price_unit), (2.0, 7.0), "billed as invoiced")
        info = self.env["product.supplierinfo"].search(
            [("partner_id", "=", self.vendor.id), ("product_code", "=", "MED-999")]
        )
        self.assertEqual(info.product_id, self.gown)
        self.assertEqual(self.audit("item_mapped", exc).data["supplierinfo"], info.id)
        # the next invoice naming MED-999 finds the gown: no unknown item any more
        later = self.bill_of(self.invoice("INV-801", None, lines=[self.mystery_line()]))
        self.assertEqual(later.invoice_line_ids.product_id, self.gown)
        self.assertFalse(self.open_exc("unknown_item", later))

    def test_clerk_links_a_line_to_a_po_line(self):
        po = self.make_po("PO-LINK-1")
        line_doc = {
            "line_number": "1",
            "item": {"gtin": GTIN_GLOVES, "description": "Gloves"},
            "quantity": "10",
            "uom": "EA",
            "unit_price": "12.50",
        }
        bill = self.bill_of(self.invoice("INV-900", None, lines=[line_doc]))
        exc = self.open_exc("no_po", bill)
        self.assertEqual(len(exc), 1)
        line = bill.invoice_line_ids.filtered(lambda ln: ln.hc_line_ref == "1")
        self.decide(
            exc,
            "link_po_line",
            "PO missing on the invoice",
            move_line_id=line.id,
            purchase_line_id=po.order_line.id,
        )
        self.assertEqual(line.purchase_line_id, po.order_line)
        self.assertEqual(exc.state, "resolved")
        self.assertEqual(exc.resolution_action, "linked")
        self.assertIn(bill.hc_match_state, ("matched", "accepted"), bill.hc_match_explanation)

    # -- price variance ----------------------------------------------------------------

    def test_clerk_requests_a_credit_note(self):
        bill, exc = self.variance_bill()
        self.assertGreater(exc.amount, 0)
        self.decide(exc, "credit_note", "price above the contract")
        self.assertEqual(exc.state, "waiting")
        self.assertEqual(exc.resolution, "price above the contract")
        refund = self.env["account.move"].search(
            [("move_type", "=", "in_refund"), ("reversed_entry_id", "=", bill.id)]
        )
        self.assertEqual(len(refund), 1)
        self.assertEqual(refund.state, "draft")
        self.assertEqual(refund.partner_id, self.vendor)
        self.assertAlmostEqual(refund.amount_total, exc.amount)
        self.assertEqual(refund.create_uid, self.clerk)
        self.assertEqual(self.audit("credit_note_requested", exc).data["credit_note"], refund.id)
        to_vendor = bill.message_ids.filtered(lambda m: self.vendor in m.partner_ids)
        self.assertTrue(to_vendor, "the vendor is asked for the credit note")
        self.assertEqual(bill.hc_match_state, "blocked", "still blocked until credited")

    def test_variance_offers_variance_decisions(self):
        _bill, exc = self.variance_bill("INV-1001")
        wizard = (
            self.env["hc.exception.resolve.wizard"]
            .with_user(self.clerk)
            .create({"exception_ids": [Command.set(exc.ids)]})
        )
        self.assertEqual(wizard.allowed_actions, ["accept", "credit_note", "reject", "reassign"])

    # -- reassigning -------------------------------------------------------------------

    def test_reassign_to_a_queue_changes_the_owner_and_keeps_the_reason(self):
        _bill, exc = self.variance_bill("INV-1100")
        self.assertEqual(exc.owner_id, self.clerk)
        self.decide(exc, "reassign", "receiving must check the count", queue_id=self.receiving.id)
        self.assertEqual(exc.queue_id, self.receiving)
        self.assertEqual(exc.owner_id, self.receiver)
        self.assertEqual(exc.activity_ids.user_id, self.receiver)
        self.assertEqual(exc.resolution, "receiving must check the count")
        with self.assertRaises(AccessError):  # never inline, without a reason
            exc.with_user(self.clerk).write({"owner_id": self.clerk.id})

    # -- the original document -----------------------------------------------------------

    def test_rendered_document_on_bill_and_exception_not_the_raw_payload(self):
        bill, exc = self.variance_bill("INV-1200")
        message = bill.hc_message_id
        html = str(bill.with_user(self.clerk).hc_document_html)
        for text in ("INV-1200", "Medline Industries", VENDOR_GLN, "13.50", "Total with tax"):
            self.assertIn(text, html)
        self.assertEqual(str(exc.with_user(self.clerk).document_html), html)
        with self.assertRaises(AccessError):
            message.with_user(self.clerk).read(["payload_pretty"])
        with self.assertRaises(AccessError):
            message.with_user(self.clerk).read(["payload"])
        self.assertIn('\n  "number": "INV-1200"', message.payload_pretty)
        # as the web client reads it (binary fields as their size)
        self.assertIn('"INV-1200"', message.with_context(bin_size=True).payload_pretty)

    def test_ubl_embedded_pdf_is_attached_to_the_bill(self):
        sample = sample_path("peppol-bis3_base-example.xml")
        pdf_path = Path(os.environ.get("ODOO_SRC", "/opt/odoo19")) / (
            "odoo/addons/base/tests/minimal.pdf"
        )
        if not pdf_path.exists():
            self.skipTest(f"Odoo's minimal.pdf is absent ({pdf_path}: set ODOO_SRC)")
        pdf = pdf_path.read_bytes()
        reference = (
            "<cac:AdditionalDocumentReference><cbc:ID>INV-PDF</cbc:ID>"
            "<cbc:DocumentDescription>Invoice image</cbc:DocumentDescription>"
            '<cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" '
            f'filename="Snippet1.pdf">{base64.b64encode(pdf).decode()}'
            "</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>"
            "</cac:AdditionalDocumentReference>"
        )
        raw = re.sub(
            r"(<cac:AccountingSupplierParty>)", reference + r"\1", sample.read_text(), count=1
        ).encode()
        self.env.ref("base.EUR").active = True
        supplier = self.env["res.partner"].create(
            {"name": "SupplierTradingName Ltd.", "is_company": True}
        )
        self.env["hc.partner.identifier"].create(
            {"partner_id": supplier.id, "scheme": "vat", "value": "GB1232434"}
        )
        doc_type = self.doc_types.filtered(lambda d: d.code == "invoice")
        ((message, _status),) = self.Inbox._accept(
            self.connector, doc_type, self.company, "application/xml", [raw]
        )
        self.process()
        bill = self.bill_of(message)
        self.assertTrue(bill, message.error_message)
        attachments = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        )
        pdf_attachment = attachments.filtered(lambda a: a.mimetype == "application/pdf")
        self.assertEqual(pdf_attachment.name, "Snippet1.pdf")
        self.assertEqual(pdf_attachment.raw, pdf)
        self.assertTrue(all(attachments.mapped("hc_received_document")))
        self.assertEqual(bill.message_main_attachment_id, pdf_attachment)


@tagged("post_install", "-at_install")
class TestReceivedAttachmentsOverRpc(CallKwMixin, ActionsCase, HttpCase):
    def test_clerk_cannot_delete_or_replace_the_received_document(self):
        po = self.make_po("PO-ATT-1")
        bill = self.bill_of(self.invoice("INV-1300", po))
        received = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        )
        self.assertTrue(received.hc_received_document)
        note = self.env["ir.attachment"].create(
            {
                "name": "note.txt",
                "raw": b"call back",
                "res_model": "account.move",
                "res_id": bill.id,
            }
        )
        self.authenticate(self.clerk.login, f"{self.clerk.login}_pw!")
        context = {"allowed_company_ids": self.company.ids}
        # the clerk reads it (the bill's attachment)...
        _result, error = self.call_kw(
            "ir.attachment", "read", [received.ids, ["name"]], context=context
        )
        self.assertIsNone(error)
        # ...but neither deletes, replaces, moves nor unmarks it
        for method, args in (
            ("unlink", [received.ids]),
            ("write", [received.ids, {"raw": base64.b64encode(b"forged").decode()}]),
            ("write", [received.ids, {"datas": base64.b64encode(b"forged").decode()}]),
            ("write", [received.ids, {"res_id": note.res_id + 1}]),
            ("write", [received.ids, {"hc_received_document": False}]),
        ):
            with self.subTest(method=method, args=args[1:]):
                _result, error = self.call_kw("ir.attachment", method, args, context=context)
                self.assertTrue(error, f"{method} was allowed")
                self.assertEqual(error["data"]["name"], "odoo.exceptions.AccessError")
        _result, error = self.call_kw(
            "ir.attachment",
            "create",
            [
                [
                    {
                        "name": "fake.xml",
                        "raw": "PGEvPg==",
                        "res_model": "account.move",
                        "res_id": bill.id,
                        "hc_received_document": True,
                    }
                ]
            ],
            context=context,
        )
        self.assertTrue(error, "a clerk marks nothing as received")
        self.assertTrue(received.exists())
        self.assertEqual(received.raw[:5], b'{"num')
        # an attachment of their own stays theirs to remove
        _result, error = self.call_kw("ir.attachment", "unlink", [note.ids], context=context)
        self.assertIsNone(error)
        self.assertFalse(note.exists())


@tagged("post_install", "-at_install")
class TestClerkDecisionsTour(ActionsCase, HttpCase):
    """The demo's own users, as the demo creates them (their module role and nothing else):
    ``ap.clerk`` works the AP queue, ``supply.chain`` receives."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = cls.make_demo_user("ap.clerk")
        cls.receiver = cls.make_demo_user("supply.chain")
        cls.env.ref(f"{MODULE}.queue_ap_match").member_ids = [Command.set(cls.clerk.ids)]
        cls.receiving.member_ids = [Command.set(cls.receiver.ids)]

    def test_clerk_decides_a_variance_a_duplicate_and_a_missing_receipt_in_the_ui(self):
        bill, variance = self.variance_bill("INV-TOUR-1")
        _first, second, duplicate = self.suspect_pair()
        # another amount than the pair's, or it would be a possible duplicate too
        po = self.make_po("PO-REC-TOUR", price=11.0, receive=False)
        line = {
            "line_number": "1",
            "po_line_ref": "1",
            "item": {"gtin": GTIN_GLOVES},
            "quantity": "10",
            "uom": "EA",
            "unit_price": "11.00",
        }
        unreceived = self.bill_of(self.invoice("INV-TOUR-2", po, lines=[line]))
        missing = self.open_exc("missing_receipt", unreceived)
        self.assertEqual(len(missing), 1)
        open_ = self.env["hc.exception"].search([("state", "not in", ("resolved", "cancelled"))])
        self.assertEqual(
            sorted(open_.mapped("exception_type")),
            ["duplicate_invoice", "missing_receipt", "price_variance"],
            "one row of each in the clerk's list",
        )
        self.assertEqual(
            (variance | duplicate | missing).owner_id, self.clerk, "the clerk's own work"
        )
        self.start_tour("/odoo", "hc_clerk_decisions_tour", login="ap.clerk")
        # price variance: a credit note is requested, the exception waits for it
        self.assertEqual(variance.state, "waiting")
        self.assertEqual(variance.resolved_by_id.id, False)
        refund = self.env["account.move"].search(
            [("move_type", "=", "in_refund"), ("reversed_entry_id", "=", bill.id)]
        )
        self.assertEqual(refund.create_uid, self.clerk)
        # duplicate: confirmed, the second bill cancelled
        self.assertEqual(duplicate.state, "resolved")
        self.assertEqual(duplicate.resolution_action, "duplicate")
        self.assertEqual(duplicate.resolved_by_id, self.clerk)
        self.assertEqual(second.state, "cancel")
        # missing receipt: receiving is asked on the expected receipt, the exception waits
        self.assertEqual(missing.state, "waiting")
        self.assertEqual(missing.resolution, "Dock says it came Tuesday")
        picking = po.picking_ids
        self.assertEqual(missing.picking_id, picking)
        activity = picking.activity_ids
        self.assertEqual(activity.user_id, self.receiver, "the receiving queue's member")
        self.assertEqual(activity.create_uid, self.clerk)
        self.assertIn(po.name, activity.summary)
        self.assertIn("Dock says it came Tuesday", str(activity.note))
        self.assertFalse(po.activity_ids, "on the receipt, not the order")
        log = self.audit("receiving_asked", missing)
        self.assertEqual(
            (log.user_id, log.data["document"]), (self.clerk, ["stock.picking", picking.id])
        )
