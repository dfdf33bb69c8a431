"""One resolver for document references (``hc.reference.resolver``).

End to end through the inbox: the vendor posted with the GLN alias scheme ``0088`` is
found by its invoices; items known only by HIBC, manufacturer part number or NDC are found
again; master fields the documents carry are kept on the Odoo records; inactive currencies
are refused the same way by every document type.
"""

from odoo import Command
from odoo.tests import tagged

from ..api_contract.errors import PermanentError
from ..canonical.documents import Identifier
from ..canonical.documents import ItemRef
from ..canonical.documents import Party
from .common import HcCase

GLN = "0614141000012"
ALIAS_VENDOR = {"identifiers": [{"scheme": "0088", "value": GLN}], "name": "Medline"}
GLOVES = "00614141000418"
M = "healthcare_p2p_integration."


@tagged("post_install", "-at_install")
class TestReferenceResolver(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.hc_autopost_matched = False
        cls.currency = cls.company.currency_id
        cls.Resolver = cls.env["hc.reference.resolver"]

    # -- helpers ------------------------------------------------------------------------

    def run_doc(self, doc, doc_type):
        [(message, _status)] = self.accept([doc], doc_type=doc_type)
        self.process()
        return message

    def item_doc(self, description="Exam gloves", **ids):
        return dict({"description": description, "uom": "EA", "vendor": ALIAS_VENDOR}, **ids)

    def alias_vendor(self):
        """The vendor master posted with the documented GLN alias scheme ``0088``."""
        message = self.run_doc(
            self.vendor_doc(identifiers=ALIAS_VENDOR["identifiers"], name="Medline"), "vendor"
        )
        self.assertEqual(message.state, "done", message.error_message)
        return self.vendor()

    def vendor(self):
        return self.env["hc.partner.identifier"]._find_partner([("gln", GLN, "")])

    def invoice_doc(self, number="INV-A1", currency=None, po="PO-A1"):
        return {
            "number": number,
            "issue_date": "2026-03-02",
            "currency": currency or self.currency.name,
            "vendor": ALIAS_VENDOR,
            "po_numbers": [po] if po else [],
            "lines": [
                {
                    "line_number": "1",
                    "po_line_ref": "1",
                    "item": {"gtin": GLOVES},
                    "quantity": "10",
                    "uom": "EA",
                    "unit_price": "12.50",
                }
            ],
            "tax_total": "0",
            "gross_total": "125.00",
        }

    # -- vendor: scheme aliases ---------------------------------------------------------

    def test_invoice_citing_0088_first_is_released_by_the_gln_vendor_master(self):
        """Arrival order reversed: the invoice (vendor ``0088``) comes before the vendor
        master (``GLN``); it waits on the key the vendor master releases, not forever."""
        invoice = self.run_doc(self.invoice_doc(po=None), "invoice")
        self.assertEqual(invoice.state, "waiting", invoice.error_message)
        self.assertEqual(invoice.waiting_key, f"vendor:gln={GLN}")
        master = self.run_doc(
            self.vendor_doc(identifiers=[{"scheme": "GLN", "value": GLN}], name="Medline"),
            "vendor",
        )
        self.assertEqual(master.state, "done", master.error_message)
        self.process()
        invoice.invalidate_recordset()
        self.assertNotEqual(invoice.state, "waiting", "released by the vendor master")
        self.assertFalse(invoice.waiting_key)
        bill = self.env["account.move"].search([("hc_message_id", "=", invoice.id)])
        self.assertEqual(bill.partner_id, self.vendor())

    def test_invoice_finds_the_vendor_posted_with_the_0088_alias(self):
        """The reproduced bug: the invoice waited forever on ``vendor:0088=...``."""
        vendor = self.alias_vendor()
        self.assertTrue(vendor, "the vendor master stores the 0088 GLN as a gln identifier")
        item = self.run_doc(self.item_doc(gtin=GLOVES), "item")
        self.assertEqual(item.state, "done", item.error_message)
        po = self.run_doc(
            {
                "number": "PO-A1",
                "order_date": "2026-03-01",
                "vendor": ALIAS_VENDOR,
                "currency": self.currency.name,
                "approval_status": "approved",
                "lines": [
                    {
                        "line_number": "1",
                        "item": {"gtin": GLOVES},
                        "quantity": "10",
                        "uom": "EA",
                        "unit_price": "12.50",
                    }
                ],
            },
            "purchase_order",
        )
        self.assertEqual(po.state, "done", po.error_message)
        invoice = self.run_doc(self.invoice_doc(), "invoice")
        self.assertEqual(invoice.state, "done", invoice.error_message)
        self.assertFalse(invoice.waiting_key)
        bill = self.env["account.move"].search([("hc_message_id", "=", invoice.id)])
        self.assertEqual(bill.partner_id, vendor)
        order = self.env["purchase.order"].search([("hc_source_ref", "=", "PO-A1")])
        self.assertEqual(bill.invoice_line_ids.purchase_line_id, order.order_line)
        self.assertFalse(
            self.env["hc.exception"].search(
                [("exception_type", "=", "unknown_vendor"), ("message_id", "=", invoice.id)]
            )
        )
        # the payment status of the bill names the payee by the same alias
        payment = self.run_doc(
            {
                "payment_id": "PAY-A1",
                "status": "paid",
                "payment_date": "2026-04-01",
                "amount": "125.00",
                "currency": self.currency.name,
                "vendor": ALIAS_VENDOR,
                "invoices": [{"invoice_number": "INV-A1", "amount_paid": "125.00"}],
            },
            "payment",
        )
        self.assertEqual(payment.state, "done", payment.error_message)
        self.assertEqual(bill.hc_payment_status, "paid")

    def test_every_alias_of_a_gln_names_one_vendor(self):
        vendor = self.alias_vendor()
        message = self.env["hc.inbox.message"].search([], limit=1)
        for scheme in ("0088", "GLN", "gln", "EAN"):
            party = Party(identifiers=[Identifier(scheme=scheme, value=GLN)])
            self.assertEqual(self.Resolver._resolve_vendor(message, party), vendor, scheme)
        # positive control: another GLN names nobody
        other = self.Resolver._lookup_stored_vendor(
            message, {"identifiers": [{"scheme": "0088", "value": "4012345000009"}]}
        )
        self.assertFalse(other)

    def test_dead_invoice_exception_names_the_alias_vendor(self):
        """The refused-invoice exception finds the vendor by the same rule."""
        self.alias_vendor()
        chf = self.env.ref("base.CHF")
        chf.active = False
        invoice = self.run_doc(self.invoice_doc("INV-A2", currency="CHF", po=None), "invoice")
        self.assertEqual((invoice.state, invoice.error_code), ("dead", "inactive_currency"))
        refused = self.env["hc.exception"].search(
            [("exception_type", "=", "invoice_refused"), ("message_id", "=", invoice.id)]
        )
        self.assertEqual(refused.partner_id, self.vendor())

    # -- products: found again by any identifier -----------------------------------------

    def products(self, **domain):
        Product = self.env["product.product"].with_context(active_test=False)
        return Product.search([(k, "=", v) for k, v in domain.items()])

    def test_hibc_only_item_is_found_again_not_created_twice(self):
        self.alias_vendor()
        first = self.run_doc(self.item_doc(hibc="+A123GLOVE1"), "item")
        second = self.run_doc(self.item_doc("Exam gloves, nitrile", hibc="A123GLOVE1"), "item")
        self.assertEqual((first.state, second.state), ("done", "done"), second.error_message)
        product = self.products(hc_hibc="A123GLOVE1")
        self.assertEqual(len(product), 1, "one product for one HIBC")
        self.assertEqual(product.name, "Exam gloves, nitrile", "the second master updated it")
        # positive control: another HIBC is another item
        self.run_doc(self.item_doc("Gown", hibc="A123GOWN1"), "item")
        self.assertEqual(len(self.products(hc_hibc="A123GOWN1")), 1)
        self.assertEqual(len(self.products(hc_hibc="A123GLOVE1")), 1)

    def test_mpn_only_and_ndc_only_items_are_found_again(self):
        self.alias_vendor()
        for _round in range(2):
            self.run_doc(self.item_doc("Catheter", manufacturer_part_number="CV-1234"), "item")
            self.run_doc(self.item_doc("Heparin 5000 IU", ndc="0409-2720-01"), "item")
        self.assertEqual(len(self.products(hc_manufacturer_part_number="CV-1234")), 1)
        # the NDC is kept in its 11-digit form, whatever spelling the next document uses
        self.assertEqual(len(self.products(hc_ndc="00409272001")), 1)
        product = self.Resolver._resolve_product(ItemRef(ndc="00409-2720-01"))
        self.assertEqual(product, self.products(hc_ndc="00409272001"))

    def test_mpn_does_not_merge_two_packaging_levels(self):
        """One MPN, two GTINs (each and case): two items, not one overwritten."""
        self.alias_vendor()
        self.run_doc(
            self.item_doc("Gloves, each", gtin=GLOVES, manufacturer_part_number="X1"), "item"
        )
        self.run_doc(
            self.item_doc("Gloves, case", gtin="10614141000415", manufacturer_part_number="X1"),
            "item",
        )
        both = self.products(hc_manufacturer_part_number="X1")
        self.assertEqual(len(both), 2)
        self.assertEqual(set(both.mapped("barcode")), {GLOVES, "10614141000415"})
        # the MPN alone names the first of them
        self.assertIn(self.Resolver._resolve_product(ItemRef(manufacturer_part_number="X1")), both)

    def test_purchase_order_line_named_by_hibc_finds_the_item(self):
        self.alias_vendor()
        self.run_doc(self.item_doc(hibc="A123GLOVE1"), "item")
        po = self.run_doc(
            {
                "number": "PO-H1",
                "order_date": "2026-03-01",
                "vendor": ALIAS_VENDOR,
                "currency": self.currency.name,
                "approval_status": "approved",
                "lines": [
                    {
                        "line_number": "1",
                        "item": {"hibc": "+A123GLOVE1"},
                        "quantity": "5",
                        "uom": "EA",
                        "unit_price": "3.00",
                    }
                ],
            },
            "purchase_order",
        )
        self.assertEqual(po.state, "done", po.error_message)
        order = self.env["purchase.order"].search([("hc_source_ref", "=", "PO-H1")])
        self.assertEqual(order.order_line.product_id, self.products(hc_hibc="A123GLOVE1"))

    def test_the_orders_product_comes_first(self):
        """A line whose identifiers name two products resolves to the one ordered."""
        vendor = self.make_vendor(GLN)
        Product = self.env["product.product"]
        listed = Product.create({"name": "Gloves (catalogue)", "barcode": GLOVES})
        ordered = Product.create({"name": "Gloves (ordered)", "purchase_ok": True})
        self.env["product.supplierinfo"].create(
            {
                "partner_id": vendor.id,
                "product_tmpl_id": ordered.product_tmpl_id.id,
                "product_code": "V-1",
            }
        )
        order = self.env["purchase.order"].create(
            {
                "partner_id": vendor.id,
                "order_line": [Command.create({"product_id": ordered.id, "product_qty": 1})],
            }
        )
        item = ItemRef(gtin=GLOVES, vendor_part_number="V-1")
        self.assertEqual(self.Resolver._resolve_product(item, vendor), listed, "GTIN first")
        self.assertEqual(self.Resolver._resolve_product(item, vendor, order), ordered)
        # a vendor part number that is the internal reference of an ordered product
        ordered.default_code = "V-2"
        self.assertEqual(
            self.Resolver._resolve_product(ItemRef(vendor_part_number="V-2"), orders=order), ordered
        )
        self.assertFalse(self.Resolver._resolve_product(ItemRef(vendor_part_number="V-2"), vendor))

    # -- master fields kept ---------------------------------------------------------------

    def test_item_master_fields_are_kept_on_the_product(self):
        self.alias_vendor()
        message = self.run_doc(
            self.item_doc(
                "Exam gloves, box",
                gtin=GLOVES,
                manufacturer_part_number="MDS195085",
                hibc="+A123GLOVE1",
                ndc="0409-2720-01",
                unspsc="42132203",
                manufacturer="Medline",
                category="Medical / Gloves",
                uom="BX",
                pack_factor="100",
            ),
            "item",
        )
        self.assertEqual(message.state, "done", message.error_message)
        product = self.products(barcode=GLOVES)
        self.assertEqual(product.hc_manufacturer_part_number, "MDS195085")
        self.assertEqual(product.hc_hibc, "A123GLOVE1")
        self.assertEqual(product.hc_ndc, "00409272001")
        self.assertEqual(product.hc_unspsc, "42132203")
        self.assertEqual(product.hc_manufacturer, "Medline")
        self.assertEqual(product.categ_id.complete_name, "Medical / Gloves")
        # the pack factor: a packaging of 100 units, the unit the vendor sells in
        box = product.uom_ids.filtered(lambda u: u.hc_pack_code == "BX")
        self.assertEqual(box.relative_factor, 100)
        self.assertEqual(box.relative_uom_id, product.uom_id)
        self.assertEqual(product.seller_ids.product_uom_id, box)
        # the same category is found again, not created twice
        self.run_doc(self.item_doc("Other gloves", hibc="A9", category="Medical / Gloves"), "item")
        self.assertEqual(
            self.env["product.category"].search_count([("complete_name", "=", "Medical / Gloves")]),
            1,
        )

    def test_vendor_master_terms_currency_and_category_are_kept(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        message = self.run_doc(
            self.vendor_doc(
                identifiers=ALIAS_VENDOR["identifiers"],
                currency="EUR",
                payment_terms="Net 30",
                category="Surgical supplies",
            ),
            "vendor",
        )
        self.assertEqual(message.state, "done", message.error_message)
        vendor = self.vendor().with_company(self.company)
        self.assertEqual(vendor.property_purchase_currency_id, eur)
        self.assertEqual(
            vendor.property_supplier_payment_term_id,
            self.env.ref("account.account_payment_term_30days"),
        )
        self.assertEqual(vendor.hc_payment_terms, "Net 30")
        self.assertEqual(vendor.category_id.mapped("name"), ["Surgical supplies"])
        # a new purchase order of the vendor takes the currency by Odoo's own default
        order = self.env["purchase.order"].create({"partner_id": vendor.id})
        self.assertEqual(order.currency_id, eur)

    def test_unknown_payment_terms_are_kept_as_text_and_reported(self):
        message = self.run_doc(
            self.vendor_doc(identifiers=ALIAS_VENDOR["identifiers"], payment_terms="2% 10 EOM"),
            "vendor",
        )
        self.assertEqual(message.state, "done", message.error_message)
        vendor = self.vendor().with_company(self.company)
        self.assertEqual(vendor.hc_payment_terms, "2% 10 EOM")
        self.assertFalse(vendor.property_supplier_payment_term_id)
        report = self.env["hc.exception"].search(
            [("exception_type", "=", "data_quality"), ("partner_id", "=", vendor.id)]
        )
        self.assertEqual(len(report), 1)
        self.assertIn("2% 10 EOM", report.name)

    # -- currency: one policy -------------------------------------------------------------

    def test_inactive_currency_is_refused_by_every_document_type(self):
        chf = self.env.ref("base.CHF")
        chf.active = False
        vendor = self.run_doc(
            self.vendor_doc(identifiers=ALIAS_VENDOR["identifiers"], currency="CHF"), "vendor"
        )
        self.assertEqual((vendor.state, vendor.error_code), ("dead", "inactive_currency"))
        self.assertIn("Currency CHF is not active", vendor.error_message)
        self.alias_vendor()
        self.run_doc(self.item_doc(gtin=GLOVES), "item")
        price = self.run_doc(
            {
                "contract_reference": "GPO-1",
                "vendor": ALIAS_VENDOR,
                "item": {"gtin": GLOVES},
                "price": "10",
                "currency": "CHF",
                "uom": "EA",
                "date_start": "2026-01-01",
            },
            "contract_price",
        )
        self.assertEqual((price.state, price.error_code), ("dead", "inactive_currency"))
        # positive control: once active, the same currency is used
        chf.active = True
        self.assertEqual(self.Resolver._resolve_currency("chf"), chf)

    def test_unknown_currency_is_refused(self):
        with self.assertRaises(PermanentError) as caught:
            self.Resolver._resolve_currency("QQQ")
        self.assertEqual(caught.exception.code, "unknown_currency")
