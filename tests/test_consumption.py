"""Point-of-use consumption over the inbox: stock leaves the location with its lot."""

from odoo.exceptions import AccessError

from .supply_common import SupplyCase


class TestConsumption(SupplyCase):
    def test_consumption_moves_stock_out_with_its_lot_from_the_udi(self):
        lot = self.env["stock.lot"].create(
            {"product_id": self.stent.id, "name": "L-42", "company_id": self.company.id}
        )
        self.put(self.stent, 5, lot=lot)
        [message] = self.consume(
            self.consumption(
                qty=2,
                item={"buyer_part_number": "ST-200"},
                udi="(01)00614141000036(17)301231(10)L-42",
            )
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.lane_id, self.lane_standard)
        self.assertEqual(self.qty(self.stent, lot=lot), 3)
        move = self.env["stock.move"].search(
            [("hc_consumption_ref", "=", "consumption:cabinet:CAB-1")]
        )
        self.assertEqual(move.state, "done")
        self.assertEqual(move.move_line_ids.lot_id, lot)
        self.assertEqual(
            move.location_dest_id,
            self.env.ref("healthcare_p2p_integration.stock_location_consumption"),
        )
        self.assertEqual(move.hc_case_reference, "CASE-77")
        self.assertEqual(str(move.date), "2026-12-06 08:30:00")
        # the supply chain user sees the consumption, as that user
        moves = (
            self.env["stock.move"]
            .with_user(self.supply)
            .search([("hc_consumption_ref", "!=", False)])
        )
        self.assertEqual(moves, move)

    def test_replayed_consumption_is_applied_once(self):
        self.put(self.gloves, 10)
        self.consume(self.consumption(qty=3), key="k1")
        [again] = self.consume(self.consumption(qty=3), key="k2")
        self.assertEqual(again.state, "done", again.error_message)
        self.assertIn("already applied", again.result_summary)
        self.assertEqual(self.qty(self.gloves), 7)

    def test_location_by_gln_and_unknown_location_refused(self):
        self.put(self.gloves, 4)
        [ok] = self.consume(self.consumption(location=None, location_gln="0614141000500"))
        self.assertEqual(ok.state, "done", ok.error_message)
        self.assertEqual(self.qty(self.gloves), 3)
        [bad] = self.consume(self.consumption(ref="CAB-2", location="Nowhere"))
        self.assertEqual(bad.state, "dead")
        self.assertEqual(bad.error_code, "unknown_location")
        self.assertEqual(self.qty(self.gloves), 3)

    def test_tracked_item_without_lot_refused(self):
        [message] = self.consume(self.consumption(item={"gtin": "00614141000036"}))
        self.assertEqual(message.error_code, "lot_required")
        self.assertFalse(self.env["stock.move"].search([("hc_consumption_ref", "!=", False)]))

    def test_used_beyond_recorded_stock_is_still_recorded(self):
        self.put(self.gloves, 1)
        [message] = self.consume(self.consumption(qty=3))
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.qty(self.gloves), -2)

    def test_critical_item_takes_the_critical_lane(self):
        self.gloves.hc_critical = True
        results = self.accept(
            [
                self.consumption(),
                self.consumption(ref="CAB-9", item={"gtin": "00614141000036"}, lot="L-1"),
                self.consumption(ref="CAB-10", item={"default_code_unknown": "x"}),
            ],
            doc_type="consumption",
        )
        self.assertEqual(results[0][0].lane_id, self.lane_critical)
        self.assertEqual(results[1][0].lane_id, self.lane_standard)
        flagged, _status = self.accept(
            [
                self.consumption(
                    ref="CAB-11", item={"gtin": "00614141000036"}, lot="L-1", critical=True
                )
            ],
            doc_type="consumption",
        )[0]
        self.assertEqual(flagged.lane_id, self.lane_critical)

    def test_supply_user_cannot_post_or_forge_consumption_moves(self):
        with self.assertRaises(AccessError):
            self.env["hc.inbox.message"].with_user(self.supply).create({})
