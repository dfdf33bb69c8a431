"""Ship notices and goods receipts applied to the purchase order's incoming transfer."""

from datetime import timedelta

from odoo import fields

from .common import HcCase
from .common import sample_path

FACILITY = {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}], "name": "Main dock"}


class TestProcessorStock(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor = cls.env["res.partner"].create({"name": "Acme Medical", "is_company": True})
        Product = cls.env["product.product"]
        cls.gloves = Product.create(
            {
                "name": "Exam gloves",
                "is_storable": True,
                "barcode": "00614141000029",
                "default_code": "GL-100",
            }
        )
        cls.stent = Product.create(
            {
                "name": "Coronary stent",
                "is_storable": True,
                "barcode": "00614141000036",
                "default_code": "ST-200",
                "tracking": "lot",
                "use_expiration_date": True,
            }
        )
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.future = cls.today + timedelta(days=400)

    # -- helpers -----------------------------------------------------------------------

    def make_po(self, name="PO-1001", lines=None):
        lines = lines or [(self.gloves, 10), (self.stent, 5)]
        order = self.env["purchase.order"].create(
            {
                "name": name,
                "partner_id": self.vendor.id,
                "order_line": [
                    (0, 0, {"product_id": p.id, "product_qty": q, "price_unit": 2.0})
                    for p, q in lines
                ],
            }
        )
        order.button_confirm()
        return order

    def receipt(self, lines, receipt_id="GR-1", po="PO-1001", **extra):
        doc = {
            "receipt_id": receipt_id,
            "po_number": po,
            "facility": FACILITY,
            "received_date": self.today.isoformat(),
            "received_by": "dock clerk",
            "lines": [
                dict({"line_number": str(i), "uom": "EA"}, **ln) for i, ln in enumerate(lines, 1)
            ],
        }
        doc.update(extra)
        [(message, _status)] = self.accept([doc], doc_type="receipt")
        self.process()
        return message

    def ship_notice(self, lines, asn="ASN-1", po="PO-1001", **extra):
        doc = {
            "asn_number": asn,
            "po_number": po,
            "ship_date": self.today.isoformat(),
            "carrier": "UPSN",
            "tracking_number": "1Z999",
            "lines": [
                dict({"line_number": str(i), "uom": "EA"}, **ln) for i, ln in enumerate(lines, 1)
            ],
        }
        doc.update(extra)
        [(message, _status)] = self.accept([doc], doc_type="ship_notice")
        self.process()
        return message

    def gloves_line(self, qty, **extra):
        return dict({"item": {"gtin": "00614141000029"}, "quantity_received": str(qty)}, **extra)

    def stent_line(self, qty, lot="LOT-S1", expiry=None, **extra):
        line = {"item": {"buyer_part_number": "ST-200"}, "quantity_received": str(qty)}
        if lot:
            line["lot"] = lot
            line["expiry_date"] = (expiry or self.future).isoformat()
        line.update(extra)
        return line

    def exceptions(self, exception_type):
        return self.env["hc.exception"].search([("exception_type", "=", exception_type)])

    def incoming(self, order):
        return order.picking_ids.filtered(lambda p: p.picking_type_code == "incoming")

    # -- ship notices ------------------------------------------------------------------

    def test_asn_recorded_on_picking(self):
        order = self.make_po()
        message = self.ship_notice(
            [
                {"item": {"gtin": "00614141000029"}, "quantity": "10"},
                {
                    "item": {"buyer_part_number": "ST-200"},
                    "quantity": "5",
                    "lot": "LOT-S1",
                    "expiry_date": self.future.isoformat(),
                },
            ]
        )
        self.assertEqual(message.state, "done", message.error_message)
        picking = self.incoming(order)
        self.assertEqual(picking.hc_carrier, "UPSN")
        self.assertEqual(picking.hc_tracking_number, "1Z999")
        self.assertEqual(picking.hc_asn_number, "ASN-1")
        stent_line = picking.hc_asn_line_ids.filtered(lambda a: a.product_id == self.stent)
        self.assertEqual(stent_line.lot_name, "LOT-S1")
        self.assertEqual(stent_line.expiration_date, self.future)
        self.assertEqual(stent_line.move_id.product_id, self.stent)
        self.assertFalse(self.exceptions("short_shipment"))
        self.assertFalse(self.exceptions("lot_expiry"))

    def test_asn_short_and_expiring(self):
        self.env.company.hc_expiry_warning_days = 30
        self.make_po()
        self.ship_notice(
            [
                {"item": {"gtin": "00614141000029"}, "quantity": "6"},
                {
                    "item": {"buyer_part_number": "ST-200"},
                    "quantity": "5",
                    "lot": "LOT-OLD",
                    "expiry_date": (self.today + timedelta(days=10)).isoformat(),
                },
            ]
        )
        short = self.exceptions("short_shipment")
        self.assertEqual(len(short), 1)
        self.assertEqual(short.severity, "low")
        expiry = self.exceptions("lot_expiry")
        self.assertEqual(len(expiry), 1)
        self.assertIn("LOT-OLD", expiry.name)

    def test_asn_waits_for_po(self):
        message = self.ship_notice([{"item": {"gtin": "00614141000029"}, "quantity": "10"}])
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "purchase_order:PO-1001")

    # -- goods receipts ----------------------------------------------------------------

    def test_full_receipt_validates_picking(self):
        order = self.make_po()
        message = self.receipt([self.gloves_line(10), self.stent_line(5)])
        self.assertEqual(message.state, "done", message.error_message)
        picking = self.incoming(order)
        self.assertEqual(len(picking), 1)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.hc_receipt_ref, "GR-1")
        self.assertEqual(self.gloves.qty_available, 10)
        self.assertEqual(self.stent.qty_available, 5)
        lot = picking.move_line_ids.filtered(lambda ml: ml.product_id == self.stent).lot_id
        self.assertEqual(lot.name, "LOT-S1")
        self.assertEqual(lot.expiration_date.date(), self.future)
        self.assertEqual(order.order_line.mapped("qty_received"), [10, 5])

    def test_partial_receipt_then_backorder_then_replay(self):
        order = self.make_po()
        first = self.receipt(
            [
                self.gloves_line(6, quantity_rejected="1", reject_reason="damaged box"),
                self.stent_line(5),
            ]
        )
        self.assertEqual(first.state, "done", first.error_message)
        done = self.incoming(order).filtered(lambda p: p.state == "done")
        backorder = self.incoming(order) - done
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.backorder_id, done)
        self.assertEqual(backorder.move_ids.product_id, self.gloves)
        self.assertEqual(backorder.move_ids.product_uom_qty, 4)
        gloves_move = done.move_ids.filtered(lambda m: m.product_id == self.gloves)
        self.assertEqual(gloves_move.hc_qty_rejected, 1)
        self.assertEqual(gloves_move.hc_reject_reason, "damaged box")

        # The same receipt again (a replay): nothing more is received.
        self.env.user.group_ids |= self.env.ref(
            "healthcare_p2p_integration.group_hc_integration_admin"
        )
        first._replay("receiving system resent it")
        self.process()
        self.assertEqual(first.state, "done")
        self.assertEqual(self.gloves.qty_available, 6)
        self.assertEqual(len(self.incoming(order)), 2)

        second = self.receipt([self.gloves_line(4)], receipt_id="GR-2")
        self.assertEqual(second.state, "done", second.error_message)
        self.assertEqual(backorder.state, "done")
        self.assertEqual(backorder.hc_receipt_ref, "GR-2")
        self.assertEqual(self.gloves.qty_available, 10)
        self.assertFalse(order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")))

    def test_receipt_waits_for_po_then_released(self):
        message = self.receipt([self.gloves_line(10)])
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "purchase_order:PO-1001")
        order = self.make_po(lines=[(self.gloves, 10)])
        self.Inbox._release_waiting({"purchase_order:PO-1001"})
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.incoming(order).state, "done")

    def test_lot_tracked_without_lot_refused(self):
        order = self.make_po()
        message = self.receipt([self.gloves_line(10), self.stent_line(5, lot=None)])
        self.assertEqual(message.state, "done", message.error_message)
        exc = self.exceptions("lot_expiry")
        self.assertEqual(len(exc), 1)
        self.assertIn("no lot", exc.name)
        self.assertEqual(self.stent.qty_available, 0)
        self.assertEqual(self.gloves.qty_available, 10)
        backorder = self.incoming(order).filtered(lambda p: p.state != "done")
        self.assertEqual(backorder.move_ids.product_id, self.stent)

    def test_expired_lot_refused(self):
        self.make_po()
        self.receipt(
            [self.gloves_line(10), self.stent_line(5, expiry=self.today - timedelta(days=1))]
        )
        exc = self.exceptions("lot_expiry")
        self.assertEqual(len(exc), 1)
        self.assertIn("expired", exc.name)
        self.assertEqual(self.stent.qty_available, 0)

    def test_over_receipt_beyond_tolerance(self):
        self.env.company.hc_over_receipt_tolerance_pct = 10
        order = self.make_po(lines=[(self.gloves, 10), (self.stent, 5)])
        # 11 gloves of 10 is within 10 %; 7 stents of 5 is not.
        message = self.receipt([self.gloves_line(11), self.stent_line(7)])
        self.assertEqual(message.state, "done", message.error_message)
        exc = self.exceptions("over_receipt")
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.details["allowed"], 5.5)
        self.assertEqual(self.gloves.qty_available, 11)
        self.assertEqual(self.stent.qty_available, 0)
        self.assertEqual(
            order.order_line.filtered(lambda pol: pol.product_id == self.gloves).qty_received, 11
        )

    def test_asn_lots_prefill_receipt(self):
        order = self.make_po()
        self.ship_notice(
            [
                {"item": {"gtin": "00614141000029"}, "quantity": "10"},
                {
                    "item": {"gtin": "00614141000036"},
                    "quantity": "3",
                    "lot": "LOT-A",
                    "expiry_date": self.future.isoformat(),
                },
                {
                    "item": {"gtin": "00614141000036"},
                    "quantity": "2",
                    "lot": "LOT-B",
                    "expiry_date": (self.future + timedelta(days=30)).isoformat(),
                },
            ]
        )
        message = self.receipt(
            [self.gloves_line(10), self.stent_line(5, lot=None)], asn_number="ASN-1"
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertFalse(self.exceptions("lot_expiry"))
        mls = self.incoming(order).move_line_ids.filtered(lambda ml: ml.product_id == self.stent)
        self.assertEqual(
            sorted((ml.lot_id.name, ml.quantity) for ml in mls), [("LOT-A", 3), ("LOT-B", 2)]
        )
        self.assertEqual(
            mls.filtered(lambda ml: ml.lot_id.name == "LOT-B").lot_id.expiration_date.date(),
            self.future + timedelta(days=30),
        )

    def test_short_shipment_closed_by_full_receipt(self):
        self.make_po(lines=[(self.gloves, 10)])
        self.ship_notice([{"item": {"gtin": "00614141000029"}, "quantity": "6"}])
        short = self.exceptions("short_shipment")
        self.assertEqual(short.state, "new")
        self.receipt([self.gloves_line(10)])
        self.assertEqual(short.state, "resolved")

    def test_critical_item_below_minimum_signals(self):
        self.gloves.hc_critical = True
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        self.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": self.gloves.id,
                "warehouse_id": warehouse.id,
                "location_id": warehouse.lot_stock_id.id,
                "product_min_qty": 20,
                "product_max_qty": 50,
                "trigger": "manual",
            }
        )
        self.make_po(lines=[(self.gloves, 10)])
        self.receipt([self.gloves_line(10, critical=True)])
        signal = self.env["hc.replenishment.signal"].search([("product_id", "=", self.gloves.id)])
        self.assertEqual(len(signal), 1)
        self.assertEqual(signal.state, "new")
        self.assertEqual(signal.warehouse_id, warehouse)
        self.assertEqual(signal.qty_on_hand, 10)
        self.assertEqual(signal.qty_minimum, 20)

    def test_x12_856_sample(self):
        path = sample_path("x12_856_node-x12.edi")
        Product = self.env["product.product"]
        blue = Product.create({"name": "Blue widget", "is_storable": True})
        red = Product.create({"name": "Red widget", "is_storable": True})
        for product, code in ((blue, "87787D"), (red, "99887D")):
            self.env["product.supplierinfo"].create(
                {
                    "partner_id": self.vendor.id,
                    "product_tmpl_id": product.product_tmpl_id.id,
                    "product_code": code,
                }
            )
        order = self.make_po(name="99999817", lines=[(blue, 24), (red, 10)])
        doc_type = self.doc_types.filtered(lambda d: d.code == "ship_notice")
        [(message, _status)] = self.Inbox._accept(
            self.connector, doc_type, self.company, "application/edi-x12", [path.read_bytes()]
        )
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        picking = self.incoming(order)
        self.assertEqual(picking.hc_asn_number, "829716")
        self.assertEqual(picking.hc_tracking_number, "5787970539")
        self.assertEqual(
            sorted((a.product_id.name, a.qty_expected) for a in picking.hc_asn_line_ids),
            [("Blue widget", 24), ("Red widget", 6)],
        )
        short = self.exceptions("short_shipment")
        self.assertEqual(short.mapped("name"), [f"Short shipment of Red widget on {order.name}"])

    # -- a receipt overtaking its ship notice (found by the demo day) --------------------

    def test_receipt_without_lots_waits_for_its_pending_asn(self):
        """The receipt (critical lane) may be processed before its ASN (standard lane)."""
        order = self.make_po()
        asn = {
            "asn_number": "ASN-1",
            "po_number": "PO-1001",
            "ship_date": self.today.isoformat(),
            "lines": [
                {"line_number": "1", "uom": "EA", "item": {"gtin": "00614141000029"},
                 "quantity": "10"},
                {"line_number": "2", "uom": "EA", "item": {"gtin": "00614141000036"},
                 "quantity": "5", "lot": "LOT-A", "expiry_date": self.future.isoformat()},
            ],
        }  # fmt: skip
        [(asn_message, _s)] = self.accept([asn], doc_type="ship_notice")
        receipt = self.receipt(
            [self.gloves_line(10), self.stent_line(5, lot=None)], asn_number="ASN-1"
        )  # one pass: the receipt goes first, waits, then the ASN releases it
        self.assertEqual(asn_message.state, "done", asn_message.error_message)
        self.process()
        self.assertEqual(receipt.state, "done", receipt.error_message)
        self.assertFalse(self.exceptions("lot_expiry"))
        mls = self.incoming(order).move_line_ids.filtered(lambda ml: ml.product_id == self.stent)
        self.assertEqual([(ml.lot_id.name, ml.quantity) for ml in mls], [("LOT-A", 5)])

    def test_receipt_stops_waiting_for_an_asn_that_never_comes(self):
        self.make_po()
        doc = {
            "receipt_id": "GR-1",
            "po_number": "PO-1001",
            "asn_number": "ASN-404",
            "facility": FACILITY,
            "received_date": self.today.isoformat(),
            "lines": [
                dict({"line_number": "1", "uom": "EA"}, **self.stent_line(5, lot=None)),
            ],
        }
        [(message, _s)] = self.accept([doc], doc_type="receipt")
        self.process()
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "ship_notice:PO-1001:ASN-404")
        # an hour later (default wait), the line is refused as without an ASN
        # (received_at is evidence the ORM never rewrites: set in SQL)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE hc_inbox_message SET received_at = %s, next_attempt_at = %s WHERE id = %s",
            (
                fields.Datetime.now() - timedelta(minutes=61),
                fields.Datetime.now(),
                message.id,
            ),
        )
        self.env.invalidate_all()
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertIn("no lot", self.exceptions("lot_expiry").name)
