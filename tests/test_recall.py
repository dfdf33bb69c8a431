"""Recall by lot across facilities, quarantine, exceptions and report; expiry alerts per
facility (issue 18, item 4), as the facilities' warehouse users."""

import base64
import csv
import io
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .supply_chain_common import GLN_B
from .supply_chain_common import GTIN
from .supply_chain_common import SupplyChainCase


@tagged("post_install", "-at_install")
class TestRecall(SupplyChainCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot = cls.stock(cls.wh_a, "R1", 10)
        cls.other = cls.stock(cls.wh_a, "R2", 5)  # not recalled: must not move

    def ship_to_b(self, qty):
        doc = {
            "transfer_id": "TR-REC",
            "event": "shipped",
            "event_date": "2026-12-05",
            "from_facility": {"identifiers": [{"scheme": "SOURCE", "value": self.wh_a.code}]},
            "to_facility": {"identifiers": [{"scheme": "GLN", "value": GLN_B}]},
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": GTIN},
                    "lot": "R1",
                    "quantity": qty,
                    "uom": "EA",
                }
            ],
        }
        self.assertEqual(self.run_for(doc, "stock_transfer", self.company_a).state, "done")
        doc["event"] = "received"
        message = self.run_for(doc, "stock_transfer", self.company_b, self.connector_b)
        self.assertEqual(message.state, "done", message.error_message)

    def consume(self, warehouse, lot, qty):
        """A point-of-use consumption: stock to the customer (patient) location."""
        move = self.env["stock.move"].create(
            {
                "product_id": self.item.id,
                "product_uom_qty": qty,
                "product_uom": self.item.uom_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "company_id": warehouse.company_id.id,
            }
        )
        move._action_confirm()
        move.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            {
                "move_id": move.id,
                "product_id": self.item.id,
                "lot_id": lot.id,
                "quantity": qty,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": move.location_dest_id.id,
                "picked": True,
            }
        )
        move.picked = True
        move._action_done()
        return move

    def recall_doc(self, **extra):
        return {
            "recall_id": "FDA-Z-1234-2027",
            "item": {"gtin": GTIN},
            "classification": "class_i",
            "reason": "Balloon may not deflate",
            "issued_date": "2026-12-05",
            "manufacturer": {"name": "Stentco"},
            **extra,
        }

    def test_one_exception_per_facility_of_one_company(self):
        """Two hospitals of one company hold the lot: each receiving team gets its own
        exception, naming its facility; the consumption goes with the facility it left."""
        self.stock(self.wh_north, "R1", 3)
        self.consume(self.wh_a, self.lot, 2)
        message = self.run_for(self.recall_doc(lots=["R1"]), "recall", self.company_a)
        self.assertEqual(message.state, "done", message.error_message)
        excs = self.exceptions("recall", self.company_a)
        self.assertEqual(len(excs), 2, excs.mapped("name"))
        main = excs.filtered(lambda e: self.wh_a.name in e.name)
        north = excs.filtered(lambda e: self.wh_north.name in e.name)
        self.assertEqual(len(main), 1)
        self.assertEqual(len(north), 1)
        self.assertIn("2.0 consumed", main.description)
        self.assertIn("0 consumed", north.description)
        self.assertIn("3.0 on hand", north.description)

    def test_recall_over_the_api_traces_quarantines_and_routes_every_facility(self):
        self.ship_to_b("4")
        self.consume(self.wh_a, self.lot, 1)
        message = self.run_for(self.recall_doc(lots=["R1"]), "recall", self.company_a)
        self.assertEqual(message.state, "done", message.error_message)
        recall = self.env["hc.recall"].search([("name", "=", "FDA-Z-1234-2027")])
        self.assertEqual(recall.state, "open")
        self.assertEqual(recall.lot_ids, self.lot)
        kinds = {(line.kind, line.company_id) for line in recall.line_ids}
        self.assertLessEqual(
            {
                ("transfer", self.company_a),
                ("transfer", self.company_b),
                ("consumption", self.company_a),
                ("quarantine", self.company_a),
                ("quarantine", self.company_b),
                ("on_hand", self.company_a),
                ("on_hand", self.company_b),
            },
            kinds,
        )
        # what is still on hand sits in each warehouse's quarantine location
        on_hand = recall.line_ids.filtered(lambda x: x.kind == "on_hand")
        self.assertEqual(sorted(on_hand.mapped("quantity")), [4.0, 5.0])
        self.assertTrue(all(on_hand.mapped("quarantined")))
        self.assertEqual(set(on_hand.location_id.mapped("name")), {"Quarantine"})
        self.assertEqual({loc.warehouse_id for loc in on_hand.location_id}, {self.wh_a, self.wh_b})
        self.assertEqual(len(recall.quarantine_picking_ids), 2)
        self.assertEqual(set(recall.quarantine_picking_ids.mapped("state")), {"done"})
        # the lot that is not recalled stayed where it was
        self.assertEqual(
            self.env["stock.quant"]
            .search([("lot_id", "=", self.other.id), ("quantity", ">", 0)])
            .location_id,
            self.wh_a.lot_stock_id,
        )
        # one exception per facility, in the receiving team's queue
        excs = self.exceptions("recall")
        self.assertEqual(excs.company_id, self.company_a | self.company_b)
        self.assertEqual(excs.queue_id, self.env.ref("healthcare_p2p_integration.queue_receiving"))
        self.assertEqual(set(excs.mapped("severity")), {"high"})
        exc_a = excs.filtered(lambda e: e.company_id == self.company_a)
        self.assertIn("1.0 consumed", exc_a.description)

        # each facility's warehouse user sees its own trace lines and exception only
        lines_a = (
            self.env["hc.recall.line"]
            .with_user(self.user_a)
            .search([("recall_id", "=", recall.id)])
        )
        self.assertTrue(lines_a)
        self.assertEqual(lines_a.company_id, self.company_a)
        self.assertEqual(
            self.env["hc.recall.line"].with_user(self.user_b).search([]).company_id,
            self.company_b,
        )
        self.assertEqual(
            self.env["hc.exception"]
            .with_user(self.user_b)
            .search([("exception_type", "=", "recall")]),
            excs.filtered(lambda e: e.company_id == self.company_b),
        )

        # the report: CSV of the trace as the user sees it
        action = recall.with_user(self.user_a).action_export_csv()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(attachment.datas).decode())))
        self.assertEqual(len(rows), len(lines_a))
        self.assertEqual({r["Lot / serial"] for r in rows}, {"R1"})
        self.assertIn("Consumption", {r["Kind"] for r in rows})

    def test_recall_created_in_the_ui_by_udi_as_the_warehouse_user(self):
        recall = (
            self.env["hc.recall"]
            .with_user(self.user_a)
            .create(
                {
                    "name": "MFR-77",
                    "product_id": self.item.id,
                    "classification": "class_ii",
                    "reason": "Labelling error",
                    "udis": f"(01){GTIN}(17)291231(10)R2",
                }
            )
        )
        recall.action_open()
        self.assertEqual(recall.lot_ids, self.other)
        self.assertEqual(self.on_hand(self.wh_a, self.other), 5)  # still in the warehouse
        quarantine = recall.quarantine_picking_ids.location_dest_id
        self.assertEqual(quarantine.name, "Quarantine")
        self.assertEqual(
            self.env["stock.quant"]
            .search([("lot_id", "=", self.other.id), ("quantity", ">", 0)])
            .location_id,
            quarantine,
        )
        # R1 untouched
        self.assertEqual(
            self.env["stock.quant"]
            .search([("lot_id", "=", self.lot.id), ("quantity", ">", 0)])
            .location_id,
            self.wh_a.lot_stock_id,
        )
        # replay-safe: tracing again does not quarantine twice
        recall.action_retrace()
        self.assertEqual(len(recall.quarantine_picking_ids), 1)

    def test_only_the_supply_chain_role_opens_a_recall_even_over_rpc(self):
        from odoo.exceptions import AccessError

        recall = self.env["hc.recall"].create(
            {
                "name": "RPC-1",
                "product_id": self.item.id,
                "reason": "Test",
                "lot_names": "R1",
            }
        )
        auditor = self.make_user("auditor.a", "auditor", self.company_a)
        self.assertTrue(recall.with_user(auditor).read(["name"]), "the auditor reads it")
        with self.assertRaises(AccessError):
            recall.with_user(auditor).action_open()
        self.assertEqual(recall.state, "draft")
        self.assertFalse(recall.quarantine_picking_ids)
        # a supply chain user of another facility does not even see it
        with self.assertRaises(AccessError):
            recall.with_user(self.user_b).action_open()
        recall.with_user(self.user_a).action_open()  # positive control
        self.assertEqual(recall.state, "open")

    def test_serial_range_recall(self):
        serial_item = self.env["product.product"].create(
            {
                "name": "Pacemaker",
                "is_storable": True,
                "tracking": "serial",
                "barcode": "00614141000036",
            }
        )
        serials = [
            self.stock(self.wh_a, f"PM-{n}", 1, product=serial_item) for n in (8, 9, 10, 120, 121)
        ]
        message = self.run_for(
            self.recall_doc(
                recall_id="PM-RANGE",
                item={"gtin": "00614141000036"},
                serial_first="PM-9",
                serial_last="PM-120",
            ),
            "recall",
            self.company_a,
        )
        self.assertEqual(message.state, "done", message.error_message)
        recall = self.env["hc.recall"].search([("name", "=", "PM-RANGE")])
        self.assertEqual(recall.lot_ids.sorted("id"), self.env["stock.lot"].union(*serials[1:4]))

    def test_recall_of_an_unknown_item_fails_with_its_reason(self):
        message = self.run_for(
            self.recall_doc(recall_id="X-1", item={"gtin": "00614141000043"}, lots=["Z"]),
            "recall",
            self.company_a,
        )
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "unknown_item")


@tagged("post_install", "-at_install")
class TestExpiryAlerts(SupplyChainCase):
    def test_lots_close_to_expiry_per_facility(self):
        soon = fields.Datetime.now() + timedelta(days=20)
        expiring = self.stock(self.wh_a, "SOON", 3, expiry=soon)
        self.stock(self.wh_north, "SOON", 2)
        self.stock(self.wh_a, "LATER", 7)  # expires in 700 days: no alert
        Alert = self.env["hc.expiry.alert"]
        Alert._cron_refresh()
        alerts = Alert.with_user(self.user_a).search([("lot_id.name", "in", ("SOON", "LATER"))])
        self.assertEqual(alerts.lot_id, expiring)
        self.assertEqual(
            {(a.warehouse_id, a.quantity) for a in alerts}, {(self.wh_a, 3.0), (self.wh_north, 2.0)}
        )
        self.assertEqual(set(alerts.mapped("state")), {"expiring"})
        self.assertTrue(all(18 <= d <= 20 for d in alerts.mapped("days_left")))
        self.assertFalse(Alert.with_user(self.user_b).search([]), "another facility's alerts")
        # written off at North: its alert closes, the main warehouse's stays
        quant = self.env["stock.quant"].search(
            [("lot_id", "=", expiring.id), ("location_id", "=", self.wh_north.lot_stock_id.id)]
        )
        quant.with_context(inventory_mode=True).inventory_quantity = 0
        quant._apply_inventory()
        Alert._cron_refresh()
        self.assertEqual(
            {(a.warehouse_id, a.state) for a in alerts},
            {(self.wh_a, "expiring"), (self.wh_north, "closed")},
        )
