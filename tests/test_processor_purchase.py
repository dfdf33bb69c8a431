from odoo.tests import tagged

from .common import HcCase
from .common import read_sample

VENDOR_GLN = "0614141000012"
VENDOR = {"identifiers": [{"scheme": "GLN", "value": VENDOR_GLN}]}
GLOVES = "00614141000418"
GOWNS = "00614141000425"


@tagged("post_install", "-at_install")
class TestProcessorPurchase(HcCase):
    # -- helpers ----------------------------------------------------------------------

    def item_doc(self, gtin=GLOVES, description="Nitrile exam gloves, medium", **extra):
        return dict(
            {"gtin": gtin, "description": description, "uom": "EA", "vendor": VENDOR}, **extra
        )

    def setup_masters(self):
        self.accept([self.vendor_doc()])
        self.accept([self.item_doc(), self.item_doc(GOWNS, "Isolation gown")], doc_type="item")
        self.process()
        self.vendor = self.env["hc.partner.identifier"]._find_partner([("gln", VENDOR_GLN, "")])
        Product = self.env["product.product"]
        self.gloves = Product.search([("barcode", "=", GLOVES)])
        self.gowns = Product.search([("barcode", "=", GOWNS)])
        self.assertTrue(self.vendor and self.gloves and self.gowns)

    def contract_doc(self, price="10.00", **extra):
        return dict(
            {
                "contract_reference": "GPO-2026-17",
                "vendor": VENDOR,
                "item": {"gtin": GLOVES},
                "price": price,
                "currency": self.env.company.currency_id.name,
                "uom": "EA",
                "date_start": "2026-01-01",
                "date_end": "2026-12-31",
            },
            **extra,
        )

    def po_doc(self, number="PO-1001", lines=None, **extra):
        return dict(
            {
                "number": number,
                "order_date": "2026-03-02",
                "vendor": VENDOR,
                "currency": self.env.company.currency_id.name,
                "approval_status": "approved",
                "lines": lines
                or [
                    {
                        "line_number": "1",
                        "item": {"gtin": GLOVES},
                        "quantity": "100",
                        "uom": "EA",
                        "unit_price": "9.50",
                        "requested_date": "2026-03-10",
                    }
                ],
            },
            **extra,
        )

    def order(self, number="PO-1001"):
        return self.env["purchase.order"].search([("hc_source_ref", "=", number)])

    def run_doc(self, doc, doc_type):
        [(message, _status)] = self.accept([doc], doc_type=doc_type)
        self.process()
        return message

    # -- contract prices ------------------------------------------------------------

    def test_contract_price_created_updated_in_place(self):
        self.setup_masters()
        message = self.run_doc(self.contract_doc(min_quantity="10"), "contract_price")
        self.assertEqual(message.state, "done", message.error_message)
        info = self.env["product.supplierinfo"].search([("hc_contract_ref", "=", "GPO-2026-17")])
        self.assertEqual(len(info), 1)
        self.assertEqual(info.partner_id, self.vendor)
        self.assertEqual(info.product_tmpl_id, self.gloves.product_tmpl_id)
        self.assertEqual((info.price, info.min_qty), (10.0, 10.0))
        self.assertEqual(str(info.date_start), "2026-01-01")
        self.assertEqual(str(info.date_end), "2026-12-31")
        self.assertEqual(info.currency_id, self.env.company.currency_id)
        # same contract, item and start date: updated in place, never a second entry
        message2 = self.run_doc(
            self.contract_doc(price="9.00", min_quantity="10", date_end="2027-06-30"),
            "contract_price",
        )
        self.assertEqual(message2.state, "done", message2.error_message)
        again = self.env["product.supplierinfo"].search([("hc_contract_ref", "=", "GPO-2026-17")])
        self.assertEqual(again, info)
        self.assertEqual(info.price, 9.0)
        self.assertEqual(str(info.date_end), "2027-06-30")
        # a new validity period is its own entry
        self.run_doc(
            self.contract_doc(price="8.50", date_start="2028-01-01", date_end=None),
            "contract_price",
        )
        infos = self.env["product.supplierinfo"].search([("hc_contract_ref", "=", "GPO-2026-17")])
        self.assertEqual(len(infos), 2)

    def test_contract_price_validity_on_po_date(self):
        self.setup_masters()
        self.run_doc(self.contract_doc(price="10.00", date_end="2026-02-28"), "contract_price")
        self.run_doc(
            self.contract_doc(price="8.00", date_start="2026-03-01", date_end=None),
            "contract_price",
        )
        lookup = self.env["hc.reference.resolver"]
        unit = self.env.ref("uom.product_uom_unit")
        args = (self.vendor, self.gloves)
        rest = (5, unit, self.env.company.currency_id, self.env.company)
        from datetime import date

        self.assertEqual(lookup._resolve_contract_price(*args, date(2026, 2, 1), *rest)[1], 10.0)
        self.assertEqual(lookup._resolve_contract_price(*args, date(2026, 3, 2), *rest)[1], 8.0)
        self.assertIsNone(lookup._resolve_contract_price(*args, date(2025, 12, 31), *rest)[1])
        # converted to the line's unit: a box of 10 costs ten units
        box = self.env["uom.uom"].create(
            {"name": "Box of 10", "relative_factor": 10, "relative_uom_id": unit.id}
        )
        price = lookup._resolve_contract_price(
            *args, date(2026, 3, 2), 1, box, self.env.company.currency_id, self.env.company
        )[1]
        self.assertAlmostEqual(price, 80.0)

    def test_contract_price_waits_for_its_item(self):
        self.accept([self.vendor_doc()])
        self.process()
        message = self.run_doc(self.contract_doc(), "contract_price")
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, f"item:gtin={GLOVES}")
        self.accept([self.item_doc()], doc_type="item")
        self.process()
        self.assertEqual(message.state, "done", "released when the item arrived")

    # -- purchase orders -------------------------------------------------------------

    def test_po_created_and_confirmed(self):
        self.setup_masters()
        message = self.run_doc(self.po_doc(), "purchase_order")
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order()
        self.assertEqual(order.name, "PO-1001")
        self.assertEqual(order.partner_id, self.vendor)
        self.assertEqual(order.hc_connector_id, self.connector)
        self.assertEqual(order.state, "purchase")
        line = order.order_line
        self.assertEqual(
            (line.product_id, line.product_qty, line.price_unit, line.hc_line_ref),
            (self.gloves, 100.0, 9.5, "1"),
        )
        self.assertEqual(line.product_uom_id, self.env.ref("uom.product_uom_unit"))
        self.assertEqual(str(line.date_planned.date()), "2026-03-10")
        self.assertIn("purchase_order:PO-1001", message.natural_key)

    def test_pending_po_stays_rfq_change_adds_line_then_cancel(self):
        self.setup_masters()
        self.run_doc(self.po_doc(approval_status="pending"), "purchase_order")
        order = self.order()
        self.assertEqual(order.state, "draft")
        lines = [
            dict(self.po_doc()["lines"][0], quantity="120"),
            {
                "line_number": "2",
                "item": {"gtin": GOWNS},
                "quantity": "30",
                "uom": "EA",
                "unit_price": "4.00",
            },
        ]
        message = self.run_doc(self.po_doc(purpose="change", lines=lines), "purchase_order")
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(order.state, "purchase")
        self.assertEqual(len(order.order_line), 2, "line 1 updated, line 2 added")
        self.assertEqual(
            order.order_line.sorted("hc_line_ref").mapped("product_qty"), [120.0, 30.0]
        )
        message = self.run_doc(self.po_doc(purpose="cancel"), "purchase_order")
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(order.state, "cancel")

    def test_change_order_deletes_a_line_and_keeps_what_was_received(self):
        """An X12 860 (POC02 ``DI``), read by the project's reader: a confirmed order's
        deleted line drops to what was received; a replay changes nothing more."""
        self.setup_masters()
        two = [
            self.po_doc()["lines"][0],
            {
                "line_number": "2",
                "item": {"gtin": GOWNS},
                "quantity": "30",
                "uom": "EA",
                "unit_price": "4.00",
            },
        ]
        self.run_doc(self.po_doc(lines=two), "purchase_order")
        order = self.order()
        self.assertEqual(order.state, "purchase")
        gloves = order.order_line.filtered(lambda ln: ln.hc_line_ref == "1")
        gowns = order.order_line.filtered(lambda ln: ln.hc_line_ref == "2")
        # 40 gloves were received before the change
        move = order.picking_ids.move_ids.filtered(lambda m: m.purchase_line_id == gloves)
        move.quantity = 40
        move.picked = True
        order.picking_ids._action_done()
        self.assertEqual(gloves.qty_received, 40.0)
        change = [
            dict(two[0], change_code="delete"),
            dict(two[1], change_code="delete"),
        ]
        message = self.run_doc(
            self.po_doc(purpose="change", revision="1", lines=change), "purchase_order"
        )
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(gloves.product_qty, 40.0, "what was received stays ordered")
        self.assertEqual(gowns.product_qty, 0.0, "nothing received: the line is cancelled")
        open_moves = order.picking_ids.move_ids.filtered(
            lambda m: m.product_id == gowns.product_id and m.state not in ("done", "cancel")
        )
        self.assertEqual(
            sum(open_moves.mapped("product_uom_qty")),
            0.0,
            f"no gowns are expected any more: {open_moves.read(['product_uom_qty', 'state'])}",
        )
        open_gloves = order.picking_ids.move_ids.filtered(
            lambda m: m.product_id == gloves.product_id and m.state not in ("done", "cancel")
        )
        self.assertEqual(sum(open_gloves.mapped("product_uom_qty")), 0.0, "nor gloves")
        message._replay("idempotency check")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertIn("unchanged", message.result_summary)

    def test_x12_860_from_the_renderer_is_applied(self):
        """The change order the module sends suppliers, read back by its own X12 reader
        and applied: the line change codes survive the round trip."""
        from ..canonical import from_dict
        from ..formats import outbound
        from ..formats.registry import parse

        self.setup_masters()
        two = [
            self.po_doc()["lines"][0],
            {"line_number": "2", "item": {"gtin": GOWNS}, "quantity": "30", "uom": "EA",
             "unit_price": "4.00"},
        ]  # fmt: skip
        self.run_doc(self.po_doc(approval_status="pending", lines=two), "purchase_order")
        change = from_dict(
            "purchase_order",
            self.po_doc(
                purpose="change",
                revision="2",
                change_date="2026-03-05",
                lines=[dict(two[0], quantity="150", change_code="change"),
                       dict(two[1], change_code="delete")],
            ),
        )  # fmt: skip
        envelope = outbound.Envelope(
            sender_qualifier="ZZ", sender_id="HOSPITAL", receiver_qualifier="ZZ",
            receiver_id="VENDOR", interchange_control_number=7, group_control_number=7,
        )  # fmt: skip
        rendered = outbound.render(change, "x12", envelope=envelope)
        [parsed] = parse("purchase_order", "application/edi-x12", rendered.body)
        self.assertEqual([ln.change_code for ln in parsed.document.lines], ["change", "delete"])
        doc_type = self.doc_types.filtered(lambda d: d.code == "purchase_order")
        [(message, _status)] = self.Inbox._accept(
            self.connector, doc_type, self.company, "application/edi-x12", [rendered.body]
        )
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order()
        self.assertEqual(order.order_line.mapped("hc_line_ref"), ["1"], "a draft's line goes")
        self.assertEqual(order.order_line.product_qty, 150.0)

    def test_replaying_a_po_changes_nothing(self):
        self.setup_masters()
        message = self.run_doc(self.po_doc(), "purchase_order")
        order = self.order()
        before = (order.write_date, order.order_line.ids, order.order_line.write_date)
        pickings = order.picking_ids.ids
        message._replay("idempotency check")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertIn("unchanged", message.result_summary)
        self.assertEqual(self.order(), order)
        self.assertEqual((order.order_line.ids, order.picking_ids.ids), (before[1], pickings))
        self.assertEqual(self.env["purchase.order"].search_count([("name", "=", "PO-1001")]), 1)

    def test_po_before_its_vendor_waits_then_released(self):
        message = self.run_doc(self.po_doc(), "purchase_order")
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, f"vendor:gln={VENDOR_GLN}")
        self.setup_masters()
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.order().state, "purchase")

    def test_po_before_its_items_waits_then_released(self):
        """Item master and orders come by different feeds: an order naming an item the
        master has not delivered yet waits for it instead of dying."""
        self.setup_masters()
        lines = [
            self.po_doc()["lines"][0],
            {
                "line_number": "2",
                "item": {"buyer_part_number": "LATE-1"},
                "quantity": "1",
                "uom": "EA",
                "unit_price": "1",
            },
        ]
        message = self.run_doc(self.po_doc(lines=lines), "purchase_order")
        self.assertEqual(message.state, "waiting", message.error_message)
        self.assertEqual(message.waiting_key, "item:bpn=LATE-1")
        self.assertFalse(self.order(), "no half-applied order")
        self.run_doc(
            {"buyer_part_number": "LATE-1", "description": "Late item", "uom": "EA"}, "item"
        )
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(len(self.order().order_line), 2)

    def test_unknown_item_dead_with_exception_and_no_po(self):
        """An item named by a description only can never arrive: refused at once."""
        self.setup_masters()
        lines = [
            self.po_doc()["lines"][0],
            {
                "line_number": "2",
                "item": {"buyer_part_number": "NOPE-1"},
                "quantity": "1",
                "uom": "EA",
                "unit_price": "1",
            },
            {
                "line_number": "3",
                "item": {"description": "Free-text gauze, assorted"},
                "quantity": "1",
                "uom": "EA",
                "unit_price": "1",
            },
        ]
        message = self.run_doc(self.po_doc(lines=lines), "purchase_order")
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "unknown_item")
        self.assertFalse(self.order(), "no half-applied order")
        excs = self.env["hc.exception"].search([("message_id", "=", message.id)])
        self.assertEqual(set(excs.mapped("exception_type")), {"unknown_item"})
        self.assertIn("NOPE-1", " ".join(excs.mapped("name")))
        self.assertIn("Free-text gauze", " ".join(excs.mapped("name")))

    def test_contract_price_mismatch_flagged(self):
        self.setup_masters()
        self.run_doc(self.contract_doc(price="9.00"), "contract_price")
        message = self.run_doc(self.po_doc(), "purchase_order")
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order()
        self.assertEqual(order.state, "purchase", "the order is still created")
        exc = self.env["hc.exception"].search(
            [("res_model", "=", "purchase.order"), ("res_id", "=", order.id)]
        )
        self.assertEqual(exc.exception_type, "contract_price_mismatch")
        self.assertEqual(exc.details["contract_price"], 9.0)
        # a change order back within the contract resolves it
        lines = [dict(self.po_doc()["lines"][0], unit_price="9.00")]
        self.run_doc(self.po_doc(purpose="change", lines=lines), "purchase_order")
        self.assertEqual(exc.state, "resolved")

    def test_po_within_contract_not_flagged(self):
        self.setup_masters()
        contract = self.run_doc(self.contract_doc(price="9.50"), "contract_price")
        self.assertEqual(contract.state, "done", contract.error_message)
        message = self.run_doc(self.po_doc(), "purchase_order")
        # the order went through the contract check: applied, at the contract price
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order()
        self.assertEqual(order.state, "purchase")
        self.assertEqual(order.order_line.price_unit, 9.5)
        mismatch = [("exception_type", "=", "contract_price_mismatch")]
        self.assertFalse(self.env["hc.exception"].search(mismatch))
        # the control: one cent above the contract, the same order is flagged
        lines = [dict(self.po_doc()["lines"][0], unit_price="9.51")]
        change = self.run_doc(self.po_doc(purpose="change", lines=lines), "purchase_order")
        self.assertEqual(change.state, "done", change.error_message)
        self.assertEqual(self.env["hc.exception"].search(mismatch).res_id, order.id)

    # -- acknowledgments -------------------------------------------------------------

    def ack_doc(self, **extra):
        return dict(
            {
                "po_number": "PO-1001",
                "ack_number": "ACK-1",
                "ack_date": "2026-03-03",
                "status": "accepted_with_changes",
                "lines": [
                    {
                        "line_number": "1",
                        "status": "change",
                        "quantity": "80",
                        "unit_price": "9.75",
                        "scheduled_date": "2026-03-14",
                        "reason": "allocation",
                    }
                ],
            },
            **extra,
        )

    def test_ack_of_a_confirmed_po_proposes_changes_with_history(self):
        """The PO is confirmed (approved at the source): the acknowledgment's changes wait
        for the buyer (see test_po_ack_control for the decisions)."""
        self.setup_masters()
        self.run_doc(self.po_doc(), "purchase_order")
        order = self.order()
        self.assertEqual(order.state, "purchase")
        message = self.run_doc(self.ack_doc(), "po_ack")
        self.assertEqual(message.state, "done", message.error_message)
        line = order.order_line
        self.assertEqual((line.product_qty, line.price_unit), (100.0, 9.5), "order as agreed")
        self.assertEqual(str(line.date_planned.date()), "2026-03-10")
        self.assertEqual(order.hc_ack_state, "proposed")
        hist = order.hc_ack_line_ids
        self.assertEqual(len(hist), 1)
        self.assertEqual((hist.old_qty, hist.proposed_qty), (100.0, 80.0))
        self.assertEqual((hist.old_price, hist.proposed_price), (9.5, 9.75))
        self.assertEqual(str(hist.proposed_date.date()), "2026-03-14")
        self.assertTrue(hist.changed)
        self.assertEqual(hist.decision, "pending")
        exc = hist.exception_id
        self.assertEqual(exc.exception_type, "po_ack_change")
        self.assertEqual(exc.purchase_id, order)
        self.assertEqual(exc.partner_id, self.vendor)
        # 80 x 9.75 - 100 x 9.50
        self.assertAlmostEqual(exc.amount, 170.0)
        self.assertEqual(exc.details["changes"][0]["changes"], ["qty", "price", "date"])
        self.assertIn("ACK-1", order.message_ids[0].body)
        # applied once: processing it again changes nothing
        message._replay("idempotency check")
        self.process()
        self.assertEqual(message.state, "done")
        self.assertEqual(len(order.hc_ack_line_ids), 1)
        self.assertEqual(
            self.env["hc.exception"].search([("exception_type", "=", "po_ack_change")]), exc
        )

    def test_ack_before_its_po_waits(self):
        self.setup_masters()
        message = self.run_doc(self.ack_doc(), "po_ack")
        self.assertEqual(message.state, "waiting")
        self.assertEqual(message.waiting_key, "purchase_order:PO-1001")
        self.run_doc(self.po_doc(), "purchase_order")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(self.order().order_line.product_qty, 100.0, "confirmed: not changed")
        self.assertEqual(self.order().hc_ack_line_ids.proposed_qty, 80.0)

    # -- X12 850 ----------------------------------------------------------------------

    def test_x12_850_sample(self):
        raw = read_sample("x12_850_node-x12.edi")
        vendor = {"identifiers": [{"scheme": "DUNS", "value": "999999999"}]}
        self.accept(
            [
                self.vendor_doc(
                    gln="0614141000029",
                    name="Widget Supply",
                    identifiers=[{"scheme": "DUNS", "value": "999999999"}],
                )
            ]
        )
        items = [
            ("065322-117", "SMALL WIDGET"),
            ("066850-116", "MEDIUM WIDGET"),
            ("060733-110", "LARGE WIDGET"),
            ("065308-116", "NANO WIDGET"),
            ("065374-118", "BLUE WIDGET"),
            ("067504-118", "ORANGE WIDGET"),
        ]
        self.accept(
            [
                {"buyer_part_number": bpn, "description": name, "uom": "EA", "vendor": vendor}
                for bpn, name in items
            ],
            doc_type="item",
        )
        self.process()
        doc_type = self.doc_types.filtered(lambda d: d.code == "purchase_order")
        [(message, _s)] = self.Inbox._accept(
            self.connector, doc_type, self.company, "application/edi-x12", [raw]
        )
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order("08292233294")
        self.assertEqual(order.name, "08292233294")
        self.assertEqual(len(order.order_line), 6)
        self.assertEqual(order.state, "purchase")
        self.assertAlmostEqual(order.amount_untaxed, 13045.94, places=2)

    # -- X12 855 ----------------------------------------------------------------------

    def test_x12_855_sample(self):
        """The public 855 acknowledges PO POTEST1112 line by line: lines 1 and 4 accepted,
        2 and 3 rejected; units are 'UN' (X12 'unit'), i.e. each."""
        raw = read_sample("x12_855_node-x12.edi")
        self.setup_masters()
        books = ["9780446360265", "9780767928427", "9780099599531", "9780446360272"]
        self.accept(
            [self.item_doc(gtin, f"Book {gtin}") for gtin in books],
            doc_type="item",
        )
        self.process()
        lines = [
            {
                "line_number": str(n + 1),
                "item": {"gtin": gtin},
                "quantity": qty,
                "uom": "EA",
                "unit_price": price,
            }
            for n, (gtin, qty, price) in enumerate(
                zip(books, ["3", "2", "1", "2"], ["4.50", "15.99", "7.99", "4.50"], strict=True)
            )
        ]
        self.run_doc(self.po_doc(number="POTEST1112", lines=lines), "purchase_order")
        order = self.order("POTEST1112")
        self.assertEqual(order.state, "purchase")
        doc_type = self.doc_types.filtered(lambda d: d.code == "po_ack")
        [(message, _s)] = self.Inbox._accept(
            self.connector, doc_type, self.company, "application/edi-x12", [raw]
        )
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(message.source_format, "x12")
        by_ref = {line.hc_line_ref: line for line in order.order_line}
        # the order is confirmed: nothing changes until the buyer decides
        self.assertEqual(
            [by_ref[n].product_qty for n in "1234"], [3.0, 2.0, 1.0, 2.0], "order as agreed"
        )
        history = order.hc_ack_line_ids
        self.assertEqual(len(history), 4, "CTT*4: every line acknowledged")
        self.assertEqual(
            {h.line_number: h.status for h in history},
            {"1": "accept", "2": "reject", "3": "reject", "4": "accept"},
        )
        by_line = {h.line_number: h for h in history}
        self.assertEqual(by_line["2"].proposed_qty, 0.0)
        self.assertEqual(by_line["3"].proposed_qty, 0.0)
        self.assertEqual(order.hc_ack_state, "proposed")
        exc = self.env["hc.exception"].search(
            [("exception_type", "=", "po_ack_change"), ("purchase_id", "=", order.id)]
        )
        self.assertEqual(len(exc), 1)
        self.assertEqual(exc.severity, "high")
        self.assertIn("60169126", exc.name, "BAK06: the acknowledgment number")
        changes = {c["line"]: c for c in exc.details["changes"]}
        # lines 1 and 4 are accepted with the SCH ship date 2004-12-31 (a date change);
        # 2 and 3 are rejected: the value at stake is what they would have cost
        self.assertEqual(set(changes), {"1", "2", "3", "4"})
        self.assertEqual(changes["2"]["status"], "reject")
        self.assertEqual(changes["1"]["changes"], ["date"])
        self.assertEqual(changes["1"]["proposed"]["date"], "2004-12-31")
        self.assertAlmostEqual(exc.amount, 2 * 15.99 + 1 * 7.99)
        self.assertAlmostEqual(exc.details["net_change"], -(2 * 15.99 + 1 * 7.99))
        self.assertFalse(message.issues and [i for i in message.issues if "uom" in i["code"]])
        # the buyer (an integration administrator is a supply chain user) accepts:
        # the rejected lines are cancelled to zero, the accepted ones keep their quantity
        exc._po_ack_decide("accept", "Out of print: buy elsewhere")
        self.assertEqual([by_ref[n].product_qty for n in "1234"], [3.0, 0.0, 0.0, 2.0])
        self.assertEqual(str(by_ref["1"].date_planned.date()), "2004-12-31")
        self.assertEqual(order.hc_ack_state, "changed")
        self.assertEqual(exc.state, "resolved")

    # -- receiving facility -----------------------------------------------------------

    def test_ship_to_gln_picks_the_receiving_warehouse(self):
        self.setup_masters()
        east_address = self.env["res.partner"].create(
            {"name": "East Campus dock", "global_location_number": "0614141000104"}
        )
        east = self.env["stock.warehouse"].create(
            {"name": "East Campus", "code": "EAST", "partner_id": east_address.id}
        )
        doc = self.po_doc(ship_to={"identifiers": [{"scheme": "GLN", "value": "0614141000104"}]})
        message = self.run_doc(doc, "purchase_order")
        self.assertEqual(message.state, "done", message.error_message)
        order = self.order()
        self.assertEqual(order.picking_type_id, east.in_type_id)
        self.assertEqual(order.picking_ids.location_dest_id.warehouse_id, east)

    def test_unknown_ship_to_uses_default_and_tells_supply_chain(self):
        self.setup_masters()
        doc = self.po_doc(ship_to={"identifiers": [{"scheme": "GLN", "value": "0614141000111"}]})
        message = self.run_doc(doc, "purchase_order")
        self.assertEqual(message.state, "done", message.error_message)
        default = (
            self.env["purchase.order"].with_company(self.company)._get_picking_type(self.company.id)
        )
        self.assertEqual(self.order().picking_type_id, default)
        exc = self.env["hc.exception"].search([("dedup_key", "like", "unknown_ship_to:%")])
        self.assertEqual(len(exc), 1)
        self.assertIn("0614141000111", exc.description)

    def test_ship_to_of_another_company_is_refused(self):
        self.setup_masters()
        other = self.env["res.company"].create({"name": "Other facility"})
        address = self.env["res.partner"].create(
            {"name": "Other dock", "global_location_number": "0614141000128"}
        )
        self.env["stock.warehouse"].create(
            {"name": "Other WH", "code": "OTH", "partner_id": address.id, "company_id": other.id}
        )
        doc = self.po_doc(ship_to={"identifiers": [{"scheme": "GLN", "value": "0614141000128"}]})
        message = self.run_doc(doc, "purchase_order")
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "ship_to_other_company")
        self.assertFalse(self.order(), "no order created")
