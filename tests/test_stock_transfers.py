"""Inter-facility transfers and stock adjustments over the API (issue 18, item 3),
applied with Odoo's stock model and checked as the facilities' warehouse users."""

import json

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase
from .supply_chain_common import GLN_B
from .supply_chain_common import GTIN
from .supply_chain_common import SupplyChainCase

NORTH = {"identifiers": [{"scheme": "SOURCE", "value": "NORTH"}], "name": "North Clinic"}
FACILITY_B = {"identifiers": [{"scheme": "GLN", "value": GLN_B}]}


@tagged("post_install", "-at_install")
class TestStockTransfers(SupplyChainCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main = {"identifiers": [{"scheme": "SOURCE", "value": cls.wh_a.code}]}
        cls.lot = cls.stock(cls.wh_a, "L1", 10)

    def transfer(self, event, transfer_id="TR-1", to=None, qty="4", company=None, **line):
        line = {"line_number": "1", "quantity": qty, "uom": "EA", **line}
        if "udi" not in line and "item" not in line:
            line.update(item={"gtin": GTIN}, lot="L1")
        doc = {
            "transfer_id": transfer_id,
            "event": event,
            "event_date": "2026-12-05",
            "from_facility": self.main,
            "to_facility": to or NORTH,
            "lines": [line],
        }
        connector = self.connector_b if company == self.company_b else None
        return self.run_for(doc, "stock_transfer", company or self.company_a, connector)

    def record(self, transfer_id="TR-1"):
        return self.env["hc.stock.transfer"].search([("name", "=", transfer_id)])

    def test_requested_shipped_received_between_warehouses_keeps_the_lot(self):
        message = self.transfer("requested")
        self.assertEqual(message.state, "done", message.error_message)
        transfer = self.record()
        self.assertEqual(transfer.state, "requested")
        self.assertEqual(transfer.out_picking_id.state, "assigned")
        self.assertEqual(transfer.out_picking_id.location_id, self.wh_a.lot_stock_id)

        # shipped by its UDI scan: GTIN, expiry and lot (GS1 AI 01/17/10)
        udi = f"(01){GTIN}(17){self.expiry:%y%m%d}(10)L1"
        message = self.transfer("shipped", udi=udi)
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(transfer.state, "shipped")
        out, incoming = transfer.out_picking_id, transfer.in_picking_id
        self.assertEqual(out.state, "done")
        self.assertFalse(transfer.inter_company)
        self.assertEqual(out.location_dest_id, self.company_a.internal_transit_location_id)
        self.assertEqual(out.location_dest_id.usage, "transit")
        self.assertEqual(incoming.picking_type_id, self.wh_north.in_type_id)
        self.assertEqual(incoming.move_line_ids.lot_id, self.lot)
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 6)

        message = self.transfer("received")
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(transfer.state, "received")
        self.assertEqual(incoming.state, "done")
        self.assertEqual(self.on_hand(self.wh_north, self.lot), 4)
        self.assertEqual(self.lot.expiration_date, self.expiry)

        # the warehouse user of the company finds it in Odoo's transfer views and ours
        as_user = self.env["stock.picking"].with_user(self.user_a)
        self.assertEqual(as_user.search([("origin", "=", "Transfer TR-1")]), out | incoming)
        self.assertEqual(
            self.env["hc.stock.transfer"].with_user(self.user_a).search([]).name, "TR-1"
        )
        # another facility's user does not see it (positive control above)
        self.assertFalse(self.env["hc.stock.transfer"].with_user(self.user_b).search([]))

    def test_between_companies_through_inter_company_transit(self):
        message = self.transfer("shipped", to=FACILITY_B, qty="3")
        self.assertEqual(message.state, "done", message.error_message)
        transfer = self.record()
        self.assertTrue(transfer.inter_company)
        self.assertEqual(
            (transfer.company_id, transfer.dest_company_id), (self.company_a, self.company_b)
        )
        self.assertEqual(
            transfer.out_picking_id.location_dest_id,
            self.env.ref("stock.stock_location_inter_company"),
        )
        self.assertEqual(transfer.in_picking_id.company_id, self.company_b)

        # facility B's own system reports the receipt: it waits for nothing more
        message = self.transfer("received", to=FACILITY_B, qty="3", company=self.company_b)
        self.assertEqual(message.state, "done", message.error_message)
        quants = self.env["stock.quant"].search(
            [("location_id", "=", self.wh_b.lot_stock_id.id), ("product_id", "=", self.item.id)]
        )
        self.assertEqual(sum(quants.mapped("quantity")), 3)
        self.assertEqual(quants.lot_id.name, "L1")
        self.assertEqual(quants.lot_id.expiration_date, self.expiry, "expiry kept")
        # facility B's warehouse user sees the transfer and its receipt
        self.assertEqual(self.env["hc.stock.transfer"].with_user(self.user_b).search([]), transfer)
        self.assertTrue(
            self.env["stock.picking"]
            .with_user(self.user_b)
            .search([("id", "=", transfer.in_picking_id.id)])
        )

    def test_receipt_waits_for_its_shipment(self):
        message = self.transfer("received", transfer_id="TR-W")
        self.assertEqual(message.state, "waiting")
        self.transfer("shipped", transfer_id="TR-W")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.on_hand(self.wh_north, self.lot), 4)

    def test_other_facility_receipt_waits_for_the_shipment_reported_by_the_shipper(self):
        message = self.transfer(
            "received", transfer_id="TR-WB", to=FACILITY_B, qty="2", company=self.company_b
        )
        self.assertEqual(message.state, "waiting")
        self.transfer("shipped", transfer_id="TR-WB", to=FACILITY_B, qty="2")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.record("TR-WB").state, "received")

    def test_a_third_facility_may_not_report_a_transfer(self):
        company_c = self.env["res.company"].create({"name": "Facility C"})
        connector_c = self.connector_b.copy({"code": "facc", "company_id": company_c.id})
        doc_line = {"line_number": "1", "quantity": "1", "uom": "EA", "item": {"gtin": GTIN}}
        doc = {
            "transfer_id": "TR-C",
            "event": "shipped",
            "event_date": "2026-12-05",
            "from_facility": self.main,
            "to_facility": NORTH,
            "lines": [dict(doc_line, lot="L1")],
        }
        message = self.run_for(doc, "stock_transfer", company_c, connector_c)
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "cross_company_reference")
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 10)

    def test_short_receipt_leaves_a_backorder_and_a_discrepancy(self):
        self.transfer("shipped", transfer_id="TR-S", qty="5")
        message = self.transfer("received", transfer_id="TR-S", qty="3")
        self.assertEqual(message.state, "done", message.error_message)
        transfer = self.record("TR-S")
        backorder = transfer.in_picking_id.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 2)
        exc = self.exceptions("transfer_discrepancy")
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.queue_id, self.env.ref("healthcare_p2p_integration.queue_receiving"))
        self.assertEqual(exc.details["missing"], 2)
        self.assertEqual(self.on_hand(self.wh_north, self.lot), 3)

    def test_shipping_more_than_on_hand_or_an_unknown_lot_is_refused(self):
        message = self.transfer("shipped", transfer_id="TR-X", qty="11")
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "nothing_shipped")
        exc = self.exceptions("transfer_discrepancy")
        self.assertEqual(len(exc), 1)
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 10, "nothing moved")
        message = self.transfer("shipped", transfer_id="TR-Y", item={"gtin": GTIN}, lot="NOPE")
        self.assertEqual(message.state, "dead")
        self.assertEqual(len(self.exceptions("transfer_discrepancy")), 2)

    def test_replayed_shipment_changes_nothing(self):
        message = self.transfer("shipped", transfer_id="TR-R")
        pickings = self.env["stock.picking"].search([("origin", "=", "Transfer TR-R")])
        message._replay("replayed by the test")
        self.process()
        self.assertEqual(
            self.env["stock.picking"].search([("origin", "=", "Transfer TR-R")]), pickings
        )
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 6)

    def test_unknown_facility_is_refused_with_its_reason(self):
        message = self.transfer("shipped", transfer_id="TR-U", to={"name": "Nowhere"})
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "unknown_facility")


@tagged("post_install", "-at_install")
class TestStockAdjustments(SupplyChainCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot = cls.stock(cls.wh_a, "A1", 10)

    def adjust(self, *lines, adjustment_id="ADJ-1"):
        doc = {
            "adjustment_id": adjustment_id,
            "facility": {"identifiers": [{"scheme": "SOURCE", "value": self.wh_a.code}]},
            "adjustment_date": "2026-12-05",
            "counted_by": "Night shift",
            "lines": [
                {"line_number": str(n), "uom": "EA", "item": {"gtin": GTIN}, "lot": "A1", **line}
                for n, line in enumerate(lines, 1)
            ],
        }
        return self.run_for(doc, "stock_adjustment", self.company_a)

    def test_count_correction_and_write_offs_with_reasons(self):
        message = self.adjust(
            {"reason": "count", "quantity": "8"},
            {"reason": "correction", "quantity": "-1"},
            {"reason": "expired", "quantity": "2"},
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 5)
        moves = self.env["stock.move"].search([("inventory_name", "like", "ADJ-1/")])
        self.assertEqual(
            sorted(moves.mapped("inventory_name")), ["ADJ-1/1 count", "ADJ-1/2 correction"]
        )
        scrap = self.env["stock.scrap"].search([("origin", "=", "ADJ-1/3 expired")])
        self.assertEqual(scrap.state, "done")
        self.assertEqual(scrap.lot_id, self.lot)
        self.assertEqual(scrap.scrap_reason_tag_ids.name, "Expired")
        # the warehouse user reads the adjustment moves in Odoo's moves history
        as_user = self.env["stock.move"].with_user(self.user_a)
        self.assertEqual(len(as_user.search([("id", "in", moves.ids)])), 2)

    def test_write_off_beyond_stock_is_refused_the_rest_applied(self):
        message = self.adjust(
            {"reason": "damaged", "quantity": "50"}, {"reason": "wastage", "quantity": "1"}
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 9)
        exc = self.exceptions("stock_adjustment")
        self.assertEqual(len(exc), 1)
        self.assertIn("50", exc.name)

    def test_replayed_adjustment_is_not_applied_twice(self):
        message = self.adjust({"reason": "correction", "quantity": "-3"}, adjustment_id="ADJ-R")
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 7)
        message._replay("replayed by the test")
        self.process()
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 7)

    def test_hibc_udi_counts_a_new_lot(self):
        from ..normalize.gs1 import hibc_check_character

        self.item.hc_hibc = "A123STENT1"
        body = "+A123STENT1/$$3291231NEWLOT"
        udi = body + hibc_check_character(body)
        doc_line = {"reason": "count", "quantity": "4", "udi": udi, "item": {"hibc": "A123STENT1"}}
        doc_line["lot"] = None
        message = self.adjust(doc_line, adjustment_id="ADJ-H")
        self.assertEqual(message.state, "done", message.error_message)
        lot = self.env["stock.lot"].search([("name", "=", "NEWLOT")])
        self.assertEqual(lot.product_id, self.item)
        self.assertEqual(str(lot.expiration_date.date()), "2029-12-31")
        self.assertEqual(self.on_hand(self.wh_a, lot), 4)

    def test_unknown_location_is_refused(self):
        self.adjust({"reason": "count", "quantity": "1", "location": "No/Such/Bin"})
        self.assertEqual(len(self.exceptions("stock_adjustment")), 1)
        self.assertEqual(self.on_hand(self.wh_a, self.lot), 10)


@tagged("post_install", "-at_install")
class TestSupplyChainApi(HcCase, HttpCase):
    """The new endpoints answer like every other document endpoint: accepted fast,
    de-duplicated, and bad input refused with the field that is wrong."""

    def post(self, endpoint, body):
        return self.url_open(
            f"/api/hc/v1/{endpoint}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
            method="POST",
        )

    def test_endpoints_accept_deduplicate_and_refuse_bad_udis(self):
        transfer = {
            "transfer_id": "TR-API",
            "event": "requested",
            "event_date": "2026-12-05",
            "from_facility": {"name": "Main"},
            "to_facility": NORTH,
            "lines": [
                {"line_number": "1", "udi": f"(01){GTIN}(10)L1", "quantity": "1", "uom": "EA"}
            ],
        }
        adjustment = {
            "adjustment_id": "ADJ-API",
            "facility": NORTH,
            "adjustment_date": "2026-12-05",
            "lines": [
                {
                    "line_number": "1",
                    "reason": "wastage",
                    "quantity": "1",
                    "uom": "EA",
                    "udi": f"(01){GTIN}(10)L1",
                }
            ],
        }
        recall = {
            "recall_id": "R-API",
            "item": {"gtin": GTIN},
            "classification": "class_ii",
            "reason": "Sterility",
            "issued_date": "2026-12-05",
            "udis": [f"(01){GTIN}(10)L1"],
        }
        for endpoint, doc, doc_type in (
            ("stock-transfers", transfer, "stock_transfer"),
            ("stock-adjustments", adjustment, "stock_adjustment"),
            ("recalls", recall, "recall"),
        ):
            response = self.post(endpoint, doc)
            self.assertEqual(response.status_code, 202, response.text)
            message = self.Inbox.browse(response.json()["id"])
            self.assertEqual(message.doc_type, doc_type)
            again = self.post(endpoint, doc)
            self.assertEqual(again.status_code, 200, again.text)
            self.assertTrue(again.json()["duplicate"])
        transfer["transfer_id"] = "TR-BAD"
        transfer["lines"][0]["udi"] = f"(01){GTIN}(10)L1"[:-2] + "(99"
        response = self.post("stock-transfers", transfer)
        self.assertEqual(response.status_code, 422, response.text)
        self.assertEqual(response.json()["error"]["code"], "invalid_document")
        self.assertIn("lines[0].udi", response.text)
