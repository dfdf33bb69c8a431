"""The bills the import creates are the bills Odoo's own create gives for the same lines.

The import gives a new bill's lines their amounts at create (no line re-written by Odoo's
synchronisation), reads the analytic distribution models once per lane batch and skips
Odoo's sequence query that cannot find a number while the bill has no date yet.  None of
it may change what is stored: every line's account, taxes, tax tags, analytic
distribution, amounts and purchase order line, the tax and payment lines, the totals and
the accounting date are compared with a bill created by ``account.move.create`` of the
same lines, in a plain environment.
"""

from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.addons.account.models.account_move_line import AccountMoveLine
from odoo.tests import tagged

from ..models.hc_reference_resolver import BATCH_MEMO
from .common import HcCase

VENDOR_GLN = "0614141000012"
GTIN_GLOVES = "04006381333931"
GTIN_SYRINGE = "05901234123457"
GTIN_MASK = "09501101530010"


@tagged("post_install", "-at_install")
class TestBillCreateEquivalence(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.hc_autopost_matched = False
        cls.currency = cls.company.currency_id
        cls.vendor = cls.make_vendor(VENDOR_GLN)
        cls.tax8 = cls.purchase_tax("HC eq 8.25%", 8.25)
        # taxes whose base is not quantity x price, or that tag the base line: the
        # import leaves those lines' amounts to Odoo
        cls.tax_incl = cls.purchase_tax(
            "HC eq 10% incl.", 10, price_include_override="tax_included"
        )
        cls.tax5 = cls.purchase_tax("HC eq 5% tagged", 5)
        tag = cls.env["account.account.tag"].create(
            {
                "name": "HC eq base",
                "applicability": "taxes",
                "country_id": cls.company.country_id.id,
            }
        )
        cls.tax5.invoice_repartition_line_ids.filtered(
            lambda r: r.repartition_type == "base"
        ).tag_ids = tag
        cls.env["hc.tax.mapping"].create(
            {
                "company_id": cls.company.id,
                "category": "AE",
                "tax_ids": [Command.set(cls.tax_incl.ids)],
            }
        )
        Product = cls.env["product.product"]
        vals = {
            "type": "consu",
            "is_storable": True,
            "purchase_ok": True,
            "purchase_method": "purchase",
        }
        cls.gloves = Product.create(dict(vals, name="Nitrile gloves", barcode=GTIN_GLOVES))
        cls.syringe = Product.create(dict(vals, name="Syringe 10 ml", barcode=GTIN_SYRINGE))
        cls.mask = Product.create(dict(vals, name="Mask FFP2", barcode=GTIN_MASK))
        # analytic distribution models: one for the gloves only, one for the vendor
        plan = cls.env["account.analytic.plan"].create({"name": "HC eq plan"})
        other_plan = cls.env["account.analytic.plan"].create({"name": "HC eq wards"})
        Account = cls.env["account.analytic.account"]
        cls.ward = Account.create({"name": "Ward 4 West", "plan_id": plan.id})
        cls.pharmacy = Account.create({"name": "Pharmacy", "plan_id": other_plan.id})
        Model = cls.env["account.analytic.distribution.model"]
        Model.create(
            {"product_id": cls.gloves.id, "analytic_distribution": {str(cls.ward.id): 100}}
        )
        Model.create(
            {"partner_id": cls.vendor.id, "analytic_distribution": {str(cls.pharmacy.id): 40}}
        )
        cls.pos = [cls.make_po(f"PO-EQ-{n}") for n in (1, 2)]
        # the second order's lines carry no distribution (a buyer cleared it): its bill's
        # lines get theirs from the models alone, product by product
        cls.pos[1].order_line.analytic_distribution = False

    @classmethod
    def make_po(cls, name):
        po = cls.env["purchase.order"].create(
            {
                "name": name,
                "partner_id": cls.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_qty": 100,
                            "price_unit": price,
                            "hc_line_ref": ref,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for product, price, ref in (
                        (cls.gloves, 12.5, "1"),
                        (cls.syringe, 0.8, "2"),
                        (cls.mask, 1.37, "3"),
                    )
                ],
            }
        )
        po.button_confirm()
        picking = po.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.button_validate()
        return po

    @staticmethod
    def line(number, gtin, qty, price, taxes):
        return {
            "line_number": str(number),
            "po_line_ref": str(number),
            "item": {"gtin": gtin},
            "quantity": str(qty),
            "uom": "EA",
            "unit_price": str(price),
            "taxes": taxes,
        }

    def invoice(self, number, po, lines, tax_total, gross_total):
        return {
            "number": number,
            "issue_date": "2026-03-02",
            "currency": self.currency.name,
            "vendor": {"identifiers": [{"scheme": "GLN", "value": VENDOR_GLN}]},
            "po_numbers": [po.name],
            "lines": lines,
            "tax_total": tax_total,
            "gross_total": gross_total,
        }

    def documents(self):
        s8 = [{"category": "S", "rate": "8.25"}]
        return [
            # 10 x 12.50 + 8.25 % = 135.31; 7 x 0.80 incl. 10 % = 5.60; 3 x 1.37 + 5 % = 4.32
            self.invoice(
                "EQ-1",
                self.pos[0],
                [
                    self.line(1, GTIN_GLOVES, 10, "12.50", s8),
                    self.line(2, GTIN_SYRINGE, 7, "0.80", [{"category": "AE", "rate": "10"}]),
                    self.line(3, GTIN_MASK, 3, "1.37", [{"category": "S", "rate": "5"}]),
                ],
                "10.93",
                "145.23",
            ),
            # odd unit prices: what a rounding of the line amount would show
            self.invoice(
                "EQ-2",
                self.pos[1],
                [
                    self.line(1, GTIN_GLOVES, 3, "12.335", s8),
                    self.line(3, GTIN_MASK, 7, "1.3749", s8),
                ],
                "3.85",
                "50.48",
            ),
        ]

    def reference_bill(self, bill):
        """The bill Odoo's own create gives for ``bill``'s header and lines."""
        return self.env["account.move"].create(
            {
                "move_type": bill.move_type,
                "partner_id": bill.partner_id.id,
                "currency_id": bill.currency_id.id,
                "invoice_date": bill.invoice_date,
                "ref": f"{bill.ref}-odoo",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": line.name,
                            "product_id": line.product_id.id,
                            "product_uom_id": line.product_uom_id.id,
                            "quantity": line.quantity,
                            "price_unit": line.price_unit,
                            "tax_ids": [Command.set(line.tax_ids.ids)],
                            "purchase_line_id": line.purchase_line_id.id,
                        }
                    )
                    for line in bill.invoice_line_ids.sorted("sequence")
                ],
            }
        )

    @staticmethod
    def picture(bill):
        def lines(kind):
            return sorted(
                (
                    line.product_id.id,
                    line.account_id.id,
                    tuple(line.tax_ids.ids),
                    tuple(line.tax_tag_ids.ids),
                    tuple(sorted((line.analytic_distribution or {}).items())),
                    line.amount_currency,
                    line.balance,
                    line.debit,
                    line.credit,
                    line.price_subtotal,
                    line.price_total,
                    line.purchase_line_id.id,
                    line.partner_id.id,
                    line.tax_line_id.id,
                    line.tax_base_amount,
                    line.date_maturity,
                )
                for line in bill.line_ids
                if line.display_type == kind
            )

        return {
            "product": lines("product"),
            "tax": lines("tax"),
            "payment_term": lines("payment_term"),
            "totals": (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            "date": bill.date,
            "journal": bill.journal_id.id,
            "name": bill.name,
            "manually_modified": bill.is_manually_modified,
        }

    def import_bills(self):
        written = []
        original = AccountMoveLine.write

        def write(lines, vals):
            if {"amount_currency", "balance"} & set(vals):
                written.extend((line.move_id.ref, sorted(vals)) for line in lines)
            return original(lines, vals)

        messages = [m for m, _s in self.accept(self.documents(), doc_type="invoice")]
        with self.patch_write(write):
            self.process(self.env.ref("healthcare_p2p_integration.lane_standard"))
        for message in messages:
            self.assertEqual(message.state, "done", message.error_message)
        bills = self.env["account.move"].search(
            [("hc_message_id", "in", [m.id for m in messages])], order="ref"
        )
        self.assertEqual(bills.mapped("ref"), ["EQ-1", "EQ-2"])
        return bills, written

    def patch_write(self, write):
        return patch.object(AccountMoveLine, "write", write)

    def test_imported_bills_equal_odoos_own_create(self):
        bills, written = self.import_bills()
        first, second = bills
        # the analytic models applied per product (the memo is keyed by the line's product)
        gloves = first.invoice_line_ids.filtered(lambda ln: ln.product_id == self.gloves)
        syringe = first.invoice_line_ids.filtered(lambda ln: ln.product_id == self.syringe)
        self.assertEqual(
            gloves.analytic_distribution,
            {str(self.ward.id): 100.0, str(self.pharmacy.id): 40.0},
        )
        self.assertEqual(syringe.analytic_distribution, {str(self.pharmacy.id): 40.0})
        self.assertEqual(
            {line.product_id: line.analytic_distribution for line in second.invoice_line_ids},
            {
                self.gloves: {str(self.ward.id): 100.0, str(self.pharmacy.id): 40.0},
                self.mask: {str(self.pharmacy.id): 40.0},
            },
        )
        self.assertEqual(first.amount_total, 145.23)
        self.assertEqual(
            first.invoice_line_ids.tax_tag_ids, self.tax5.invoice_repartition_line_ids.tag_ids
        )
        for bill in bills:
            self.assertEqual(
                len(bill.invoice_line_ids.purchase_line_id), len(bill.invoice_line_ids)
            )
            reference = self.reference_bill(bill)
            self.assertEqual(self.picture(bill), self.picture(reference), bill.ref)
        # the lines whose amounts the import gave were not written again by Odoo; the
        # price-included and the tagged taxes' lines were (Odoo computes them)
        rewritten = {(ref, tuple(fields)) for ref, fields in written}
        self.assertFalse({ref for ref, _f in rewritten} - {"EQ-1"}, rewritten)
        self.assertEqual(
            len([w for w in written if w[0] == "EQ-1"]),
            2 * 3,  # two lines (incl. tax, tagged tax), three writes each
            written,
        )

    def test_a_distribution_model_changed_within_a_batch_is_read_again(self):
        Model = self.env["account.analytic.distribution.model"]
        args = {
            "product_id": self.mask.id,
            "partner_id": self.vendor.id,
            "partner_category_id": [],
            "company_id": self.company.id,
        }
        batch = BATCH_MEMO.set({"cr": self.env.cr})
        try:
            self.assertEqual(Model._get_distribution(dict(args)), {str(self.pharmacy.id): 40.0})
            model = Model.create(
                {"product_id": self.mask.id, "analytic_distribution": {str(self.ward.id): 50}}
            )
            self.assertEqual(
                Model._get_distribution(dict(args)),
                {str(self.ward.id): 50.0, str(self.pharmacy.id): 40.0},
            )
            model.analytic_distribution = {str(self.ward.id): 25}
            self.assertEqual(
                Model._get_distribution(dict(args)),
                {str(self.ward.id): 25.0, str(self.pharmacy.id): 40.0},
            )
            model.unlink()
            self.assertEqual(Model._get_distribution(dict(args)), {str(self.pharmacy.id): 40.0})
            # another user's result is not another's (record rules)
            memo = self.env["hc.reference.resolver"]._hc_memo("analytic_distribution")
            self.assertEqual({key[0] for key in memo}, {self.env.uid})
        finally:
            BATCH_MEMO.reset(batch)

    def test_the_batch_memo_outlives_what_a_commit_empties_not_the_transaction(self):
        # A lane worker commits after each message: Odoo then empties cr.cache, where
        # the memos were kept and gone for the rest of the batch.  Now they last as long
        # as the transaction they were read in, and no longer.
        Resolver = self.env["hc.reference.resolver"]
        self.assertEqual(Resolver._hc_memo("currency"), {})  # outside a batch: nothing
        Resolver._hc_memo("currency")["EUR"] = 1
        self.assertEqual(Resolver._hc_memo("currency"), {})
        batch = BATCH_MEMO.set({"cr": self.env.cr})
        try:
            Resolver._hc_memo("currency")["EUR"] = 1
            self.env.cr.cache.clear()  # what a commit does to cr.cache
            self.assertEqual(Resolver._hc_memo("currency"), {"EUR": 1})
            later = self.env.cr.now() + timedelta(seconds=1)
            with patch.object(type(self.env.cr), "now", lambda cr: later):  # a new transaction
                self.assertEqual(Resolver._hc_memo("currency"), {})
        finally:
            BATCH_MEMO.reset(batch)

    def test_the_sequence_shortcut_answers_odoos_query(self):
        """Where the domain is not ``WHERE FALSE`` the import's context runs Odoo's own
        query: the same last number as without it."""
        bills, _written = self.import_bills()
        journal = bills[0].journal_id
        posted = self.reference_bill(bills[0])
        posted.action_post()
        probe = self.env["account.move"].new(
            {"move_type": "in_invoice", "journal_id": journal.id, "date": posted.date}
        )
        for relaxed in (False, True):
            plain = probe._get_last_sequence(relaxed=relaxed)
            shortcut = probe.with_context(hc_log_creation_notes=True)._get_last_sequence(
                relaxed=relaxed
            )
            self.assertEqual(shortcut, plain)
            self.assertEqual(plain, posted.name)
        no_date = self.env["account.move"].new(
            {"move_type": "in_invoice", "journal_id": journal.id}
        )
        self.assertIsNone(no_date.with_context(hc_log_creation_notes=True)._get_last_sequence())
        self.assertIsNone(no_date._get_last_sequence())
