from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import HcCase

GLN = "0614141000012"
GTIN_GLOVES = "00614141000418"
GTIN_WIPES = "00614141000425"
M = "healthcare_p2p_integration."


@tagged("post_install", "-at_install")
class TestUnits(HcCase):
    """Unit codes map to Odoo's units, packs are per item, unknown units go to a steward."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor = cls.make_vendor(GLN)
        cls.set_tolerance()
        cls.unit = cls.env.ref("uom.product_uom_unit")
        cls.steward = cls.env["res.users"].create(
            {
                "name": "Robin Park (data steward)",
                "login": "steward.units",
                "group_ids": [Command.set([cls.env.ref(M + "group_hc_integration_admin").id])],
                "company_ids": [Command.set(cls.company.ids)],
                "company_id": cls.company.id,
            }
        )
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "AP clerk",
                "login": "clerk.units",
                "group_ids": [Command.set([cls.env.ref(M + "group_hc_ap_clerk").id])],
                "company_ids": [Command.set(cls.company.ids)],
                "company_id": cls.company.id,
            }
        )

    # -- helpers ------------------------------------------------------------------------

    def item(self, gtin, description, uom="CS", pack_factor=None, base_uom=None):
        doc = {
            "gtin": gtin,
            "description": description,
            "uom": uom,
            "vendor": {"identifiers": [{"scheme": "GLN", "value": GLN}], "name": "Medline"},
        }
        if pack_factor is not None:
            doc["pack_factor"] = str(pack_factor)
        if base_uom:
            doc["base_uom"] = base_uom
        [(message, _s)] = self.accept([doc], doc_type="item")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        return self.env["product.product"].search([("barcode", "=", gtin)])

    def po(self, name, product, qty, uom, price):
        product.supplier_taxes_id = [Command.clear()]
        order = self.env["purchase.order"].create(
            {
                "name": name,
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_qty": qty,
                            "product_uom_id": uom.id,
                            "price_unit": price,
                            "hc_line_ref": "1",
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        order.button_confirm()
        picking = order.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        picking.button_validate()
        return order

    def invoice(self, number, po_name, gtin, qty, uom, price, currency=None, date="2026-11-20"):
        doc = {
            "number": number,
            "issue_date": date,
            "currency": currency or self.company.currency_id.name,
            "vendor": {"identifiers": [{"scheme": "GLN", "value": GLN}], "name": "Medline"},
            "po_numbers": [po_name],
            "lines": [
                {
                    "line_number": "1",
                    "po_line_ref": "1",
                    "item": {"gtin": gtin},
                    "quantity": str(qty),
                    "uom": uom,
                    "unit_price": str(price),
                }
            ],
            "tax_total": "0",
            "gross_total": f"{qty * price:.2f}",
        }
        [(message, _s)] = self.accept([doc], doc_type="invoice")
        self.process()
        return message

    def bill(self, message):
        return self.env["account.move"].search([("hc_message_id", "=", message.id)])

    def open_exceptions(self, exception_type):
        return self.env["hc.exception"].search(
            [
                ("exception_type", "=", exception_type),
                ("state", "not in", ("resolved", "cancelled")),
            ]
        )

    # -- UN/ECE Rec 20 and X12 codes out of the box ------------------------------------

    def test_rec20_and_x12_codes_map_to_odoo_units(self):
        ref = self.env.ref
        expected = {
            "uom.product_uom_unit": ["EA", "C62", "H87", "PCE", "EACH"],
            "uom.product_uom_dozen": ["DZN", "DZ"],
            M + "uom_pair": ["PR"],
            "uom.product_uom_kgm": ["KGM", "KG"],
            "uom.product_uom_gram": ["GRM", "GR", "G"],
            M + "uom_milligram": ["MGM", "MG"],
            "uom.product_uom_litre": ["LTR", "LT"],
            "uom.product_uom_milliliter": ["MLT", "ML"],
            "uom.product_uom_meter": ["MTR"],
            "uom.product_uom_cm": ["CMT", "CM"],
            "uom.product_uom_millimeter": ["MMT", "MM"],
            "uom.product_uom_yard": ["YD", "YRD"],
            "uom.product_uom_foot": ["FOT", "FT"],
            "uom.product_uom_inch": ["INH", "INC", "IN"],
            "uom.product_uom_lb": ["LBR", "LB"],
            "uom.product_uom_oz": ["ONZ", "OZ"],
            "uom.product_uom_gal": ["GLL", "GAL", "GA"],
            "uom.product_uom_hour": ["HUR", "HR"],
            "uom.product_uom_day": ["DAY", "DA"],
        }
        Item = self.env["hc.reference.resolver"]
        for xmlid, codes in expected.items():
            for code in codes:
                self.assertEqual(Item._resolve_uom(code), ref(xmlid), code)
        self.assertTrue(ref("uom.product_uom_lb").active, "documents arrive in pounds")
        # real ratios: a dozen is 12 units, a pound 453.59 g, a milligram a thousandth of a g
        self.assertAlmostEqual(Item._resolve_uom("DZN")._compute_quantity(1, self.unit), 12)
        self.assertAlmostEqual(
            Item._resolve_uom("LBR")._compute_quantity(1, ref("uom.product_uom_gram"), round=False),
            453.592,
            2,
        )
        self.assertAlmostEqual(
            Item._resolve_uom("MGM")._compute_quantity(1000, ref("uom.product_uom_gram")), 1.0
        )

    def test_unit_of_another_family_is_refused(self):
        product = self.item(GTIN_GLOVES, "Nitrile gloves M", uom="EA")
        with self.assertRaises(Exception) as caught:
            self.env["hc.reference.resolver"]._resolve_uom("KGM", product)
        self.assertEqual(caught.exception.code, "uom_incompatible")

    # -- packs are per item -------------------------------------------------------------

    def test_pack_factor_is_kept_per_item(self):
        gloves = self.item(GTIN_GLOVES, "Nitrile gloves M", "CS", 12, "EA")
        wipes = self.item(GTIN_WIPES, "Disinfectant wipes", "CS", 24)
        self.assertEqual(gloves.uom_id, self.unit, "stocked in eaches")
        self.assertEqual(wipes.uom_id, self.unit)
        Item = self.env["hc.reference.resolver"]
        case12, case24 = Item._resolve_uom("CS", gloves), Item._resolve_uom("CA", wipes)
        self.assertEqual(case12._compute_quantity(1, self.unit), 12)
        self.assertEqual(case24._compute_quantity(1, self.unit), 24)
        self.assertIn(case12, gloves.uom_ids, "a packaging of the product (Odoo 19)")
        self.assertEqual(gloves.seller_ids.product_uom_id, case12, "the vendor sells cases")
        # a new item master with another case size replaces the packaging
        self.item(GTIN_GLOVES, "Nitrile gloves M", "CS", 10, "EA")
        self.assertEqual(Item._resolve_uom("CS", gloves)._compute_quantity(1, self.unit), 10)
        self.assertNotIn(case12, gloves.uom_ids)

    def test_bill_in_eaches_against_po_in_cases_matches(self):
        gloves = self.item(GTIN_GLOVES, "Nitrile gloves M", "CS", 12, "EA")
        case = self.env["hc.reference.resolver"]._resolve_uom("CS", gloves)
        order = self.po("PO-U1", gloves, 10, case, 60.0)  # 10 CS of 12 at 60.00 a case
        message = self.invoice("INV-U1", order.name, GTIN_GLOVES, 120, "EA", 5.0)
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(message)
        self.assertEqual(bill.invoice_line_ids.product_uom_id, self.unit)
        self.assertEqual(bill.hc_match_state, "matched")
        self.assertAlmostEqual(bill.amount_total, 600.0)

    def test_bill_in_cases_at_the_case_price_matches(self):
        gloves = self.item(GTIN_GLOVES, "Nitrile gloves M", "CS", 12, "EA")
        case = self.env["hc.reference.resolver"]._resolve_uom("CS", gloves)
        order = self.po("PO-U2", gloves, 10, case, 60.0)
        message = self.invoice("INV-U2", order.name, GTIN_GLOVES, 10, "CS", 60.0)
        bill = self.bill(message)
        self.assertEqual(bill.invoice_line_ids.product_uom_id, case)
        self.assertEqual(bill.hc_match_state, "matched")
        # and a bill of 10 cases against a PO of 120 eaches
        order = self.po("PO-U3", gloves, 120, self.unit, 5.0)
        # (months apart: the same amount days apart would be a possible duplicate, held)
        message = self.invoice("INV-U3", order.name, GTIN_GLOVES, 10, "CS", 60.0, date="2026-06-01")
        bill = self.bill(message)
        self.assertEqual(bill.hc_match_state, "matched", bill.hc_match_explanation)
        # a case billed at 66.00 against 120 eaches at 5.00 (60.00 a case) is a variance
        order = self.po("PO-U4", gloves, 120, self.unit, 5.0)
        bill = self.bill(self.invoice("INV-U4", order.name, GTIN_GLOVES, 10, "CS", 66.0))
        self.assertEqual(bill.hc_match_state, "blocked")
        self.assertIn("price_variance", bill.hc_exception_ids.mapped("exception_type"))

    def test_bill_in_another_family_is_a_uom_mismatch(self):
        gloves = self.item(GTIN_GLOVES, "Nitrile gloves M", uom="EA")
        order = self.po("PO-U5", gloves, 10, self.unit, 5.0)
        bill = self.bill(self.invoice("INV-U5", order.name, GTIN_GLOVES, 10, "KGM", 5.0))
        mismatch = bill.hc_exception_ids.filtered(lambda e: e.exception_type == "uom_mismatch")
        # billed in the product's unit, so high: never released touchless with it open
        self.assertEqual(mismatch.severity, "high")

    # -- unknown units: a steward decides once ------------------------------------------

    def test_unknown_code_waits_with_one_exception_and_steward_maps_it_once(self):
        gloves = self.item(GTIN_GLOVES, "Nitrile gloves M", uom="EA")
        order = self.po("PO-U6", gloves, 20, self.unit, 5.0)
        first = self.invoice("INV-U6", order.name, GTIN_GLOVES, 10, "ZZ", 5.0)
        other = self.po("PO-U7", gloves, 10, self.unit, 5.0)  # (one PO's documents queue)
        second = self.invoice("INV-U7", other.name, GTIN_GLOVES, 10, "ZZ", 5.0)
        self.assertEqual((first.state, second.state), ("waiting", "waiting"))
        self.assertEqual(first.waiting_key, "uom:ZZ")
        exc = self.open_exceptions("unknown_uom")
        self.assertEqual(len(exc), 1, "one exception for one code")
        self.assertEqual(exc.queue_id, self.env.ref(M + "queue_vendor_data"))
        self.assertEqual(exc.message_id, first)
        # a clerk cannot decide it, on any path
        with self.assertRaises(AccessError):
            exc.with_user(self.clerk)._map_unknown_uom(uom=self.unit)
        # the steward maps it through the form's wizard, as their own user
        exc = exc.with_user(self.steward)
        action = exc.action_map_uom()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.steward)
            .with_context(**action["context"])
            .create({"uom_id": self.unit.id})
        )
        self.assertEqual(wizard.code, "ZZ")
        wizard.action_confirm()
        self.assertEqual(exc.state, "resolved")
        self.assertEqual(exc.resolved_by_id, self.steward)
        alias = self.env["hc.uom.alias"].search([("code", "=", "ZZ")])
        self.assertEqual(alias.uom_id, self.unit, "the mapping is kept")
        self.process()
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual(self.bill(first).invoice_line_ids.product_uom_id, self.unit)
        # the next document with that code goes straight through
        later = self.invoice("INV-U8", order.name, GTIN_GLOVES, 0, "ZZ", 5.0)
        self.assertNotEqual(later.state, "waiting")
        self.assertFalse(self.open_exceptions("unknown_uom"))

    def test_unknown_code_on_every_processor_waits(self):
        gloves = self.item(GTIN_GLOVES, "Nitrile gloves M", uom="EA")
        order = self.po("PO-U9", gloves, 20, self.unit, 5.0)
        doc = {
            "po_number": order.name,
            "asn_number": "ASN-U9",
            "ship_date": "2026-11-20",
            "lines": [
                {"line_number": "1", "item": {"gtin": GTIN_GLOVES}, "quantity": "1", "uom": "QQ"}
            ],
        }
        [(receipt, _s)] = self.accept([doc], doc_type="ship_notice")
        contract = {
            "contract_reference": "GPO-1",
            "vendor": {"identifiers": [{"scheme": "GLN", "value": GLN}]},
            "item": {"gtin": GTIN_GLOVES},
            "price": "5.00",
            "currency": self.company.currency_id.name,
            "uom": "QQ",
            "date_start": "2026-01-01",
        }
        [(price, _s)] = self.accept([contract], doc_type="contract_price")
        self.process()
        self.assertEqual((receipt.state, price.state), ("waiting", "waiting"))
        self.assertEqual(receipt.waiting_key, "uom:QQ")
        self.assertEqual(len(self.open_exceptions("unknown_uom")), 1)

    def test_missing_pack_size_waits_for_the_steward(self):
        gloves = self.item(GTIN_GLOVES, "Nitrile gloves M", uom="EA")
        order = self.po("PO-U10", gloves, 120, self.unit, 5.0)
        message = self.invoice("INV-U10", order.name, GTIN_GLOVES, 10, "BX", 60.0)
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, f"uom:BX:{gloves.id}")
        exc = self.open_exceptions("unknown_uom")
        self.assertEqual(exc.details["product_id"], gloves.id)
        wizard = (
            self.env["hc.uom.map.wizard"]
            .with_user(self.steward)
            .create({"exception_id": exc.id, "pack_qty": 12})
        )
        wizard.action_confirm()
        box = self.env["hc.reference.resolver"]._resolve_uom("BX", gloves)
        self.assertEqual(box._compute_quantity(1, self.unit), 12)
        self.assertIn(box, gloves.uom_ids)
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        bill = self.bill(message)
        self.assertEqual(bill.invoice_line_ids.product_uom_id, box)
        self.assertEqual(bill.hc_match_state, "matched")
