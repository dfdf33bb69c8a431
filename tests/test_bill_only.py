"""Bill-only: a consigned implant used in a case is bought when it is used."""

from odoo import Command

from .supply_common import SupplyCase


class TestBillOnly(SupplyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.implant = cls.env["product.product"].create(
            {
                "name": "Hip implant",
                "is_storable": True,
                "barcode": "00614141000043",
                "tracking": "serial",
                "purchase_method": "receive",
            }
        )
        cls.contract(cls.implant, 900.0, ref="GPO-IMPL")
        cls.serial = cls.env["stock.lot"].create(
            {"product_id": cls.implant.id, "name": "SN-1001", "company_id": cls.company.id}
        )

    def test_consigned_implant_used_in_a_case_creates_the_bill_only_order(self):
        self.put(self.implant, 1, lot=self.serial, owner=self.vendor)
        [message] = self.consume(
            self.consumption(
                ref="OR-CASE-1",
                item={"gtin": "00614141000043"},
                udi="(01)00614141000043(21)SN-1001",
                case_reference="CASE-555",
            )
        )
        self.assertEqual(message.state, "done", message.error_message)
        order = (
            self.env["purchase.order"].with_user(self.supply).search([("hc_bill_only", "=", True)])
        )
        self.assertEqual(order.partner_id, self.vendor)
        self.assertEqual(order.state, "purchase")
        self.assertEqual(order.hc_case_reference, "CASE-555")
        self.assertFalse(order.picking_ids, "no transfer from the vendor: the goods were used")
        line = order.order_line
        self.assertEqual((line.product_qty, line.price_unit), (1, 900.0))
        self.assertIn("SN-1001", line.name)
        self.assertEqual(line.qty_received, 1, "the consumption is the receipt")
        self.assertEqual(order.invoice_status, "to invoice")
        move = line.move_ids
        self.assertEqual(move.hc_consumption_ref, "consumption:cabinet:OR-CASE-1")
        self.assertEqual(move.move_line_ids.owner_id, self.vendor)
        self.assertEqual(self.qty(self.implant, lot=self.serial), 0)
        self.assertIn("bill-only", message.result_summary)

        # the vendor's invoice is matched like any other
        self.company.hc_accept_threshold = 50.0
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.vendor.id,
                "invoice_date": "2026-12-07",
                "ref": "INV-IMPL-1",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.implant.id,
                            "quantity": 1,
                            "price_unit": 900.0,
                            "purchase_line_id": line.id,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        result = self.env["hc.three.way.match"]._match_bills(bill)[bill]
        self.assertTrue(result.matched, bill.hc_match_line_ids.mapped("status"))
        self.assertEqual(bill.hc_match_state, "matched")

    def test_company_owned_implant_makes_no_order_and_replay_makes_one(self):
        self.put(self.implant, 1, lot=self.serial)
        doc = self.consumption(ref="OR-CASE-2", item={"gtin": "00614141000043"}, serial="SN-1001")
        self.consume(doc)
        self.assertFalse(self.env["purchase.order"].search([("hc_bill_only", "=", True)]))
        other = self.env["stock.lot"].create(
            {"product_id": self.implant.id, "name": "SN-1002", "company_id": self.company.id}
        )
        self.put(self.implant, 1, lot=other, owner=self.vendor)
        doc3 = self.consumption(ref="OR-CASE-3", item={"gtin": "00614141000043"}, serial="SN-1002")
        self.consume(doc3, key="a")
        self.consume(doc3, key="b")
        self.assertEqual(len(self.env["purchase.order"].search([("hc_bill_only", "=", True)])), 1)
