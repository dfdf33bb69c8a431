"""Outbound events end to end, against a real HTTP receiver on the loopback interface.

The receiver (``http.server`` in a thread, ephemeral port) verifies every signature and
records every event id, like a production receiver that de-duplicates.  Delivery runs
through ``hc.outbox.event._deliver(commit=False)``: the cron's own code, minus the commits
a test transaction cannot make.  Time passing (backoff, circuit cool-down) is simulated by
moving the stored due dates into the past.
"""

import contextlib
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import Command
from odoo import fields
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import Form
from odoo.tests import tagged
from odoo.tests.common import _super_send

from ..delivery import outbound
from ..models import hc_outbox_event as outbox_module
from ..trust import crypto
from .common import HcCase

SECRET = "test-signing-secret-0123456789"


class Receiver:
    """A loopback HTTP receiver with a script of answers per path.

    Each path answers from its script, one entry per request (the last one repeats):
    an int is a status; ``("sleep", seconds, status)`` answers late (a timeout for the
    sender); ``(status, {headers})`` adds headers.  Every request is recorded with its
    event id and whether its signature verified; ``processed`` is what a de-duplicating
    receiver keeps (each event id once).
    """

    def __init__(self, secret=SECRET):
        self.secret = secret
        self.scripts = {}
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    script = receiver.scripts.get(self.path) or [200]
                    action = script.pop(0) if len(script) > 1 else script[0]
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "event_id": self.headers.get("X-HC-Event-Id"),
                            "event_type": self.headers.get("X-HC-Event-Type"),
                            "attempt": self.headers.get("X-HC-Delivery-Attempt"),
                            "signature_ok": outbound.verify_signature(
                                receiver.secret, self.headers.get("X-HC-Signature"), body
                            ),
                            "body": json.loads(body),
                        }
                    )
                headers = {}
                if isinstance(action, tuple) and action[0] == "sleep":
                    time.sleep(action[1])
                    status = action[2]
                elif isinstance(action, tuple):
                    status, headers = action
                else:
                    status = action
                with contextlib.suppress(OSError):  # the sender may have given up
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": %s}' % (b"true" if status < 300 else b"false"))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def ids(self, path=None):
        return [r["event_id"] for r in self.requests if path is None or r["path"] == path]

    @property
    def processed(self):
        """What a de-duplicating receiver applies: each event id once, signature valid."""
        return {r["event_id"] for r in self.requests if r["signature_ok"]}


@tagged("post_install", "-at_install")
class TestOutbox(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()
        cls.addClassCleanup(cls.receiver.stop)
        cls.Event = cls.env["hc.outbox.event"]
        cls.types = {t.code: t for t in cls.env["hc.outbox.event.type"].search([])}
        cls.supplier_system = cls.env["hc.connector"].create(
            {"name": "Supplier network", "code": "suppnet"}
        )
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Medline", "is_company": True, "supplier_rank": 1, "vat": "US123"}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Nitrile gloves",
                "default_code": "GLV-1",
                "barcode": "00614141000029",
                "is_storable": True,
                "purchase_method": "receive",
            }
        )

    @classmethod
    def _request_handler(cls, s, r, **kw):
        # Odoo's test harness raises every timeout below 10 s to 10 s; the timeout tests
        # need the endpoint's own timeout, so loopback requests go out untouched.
        if urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def endpoint(self, path, events=("po.released",), **vals):
        return self.env["hc.outbox.endpoint"].create(
            dict(
                {
                    "name": path,
                    "connector_id": self.supplier_system.id,
                    "url": self.receiver.url(path),
                    "event_type_ids": [Command.set([self.types[e].id for e in events])],
                    "secret": SECRET,
                    "timeout_seconds": 2.0,
                    "max_attempts": 4,
                    "backoff_base_seconds": 10,
                    "backoff_max_seconds": 60,
                },
                **vals,
            )
        )

    def make_po(self, qty=10, price=10.0, confirm=True):
        po = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product.id, "product_qty": qty, "price_unit": price}
                    )
                ],
            }
        )
        if confirm:
            po.button_confirm()
        return po

    def events(self, record=None, event_type=None):
        domain = []
        if record is not None:
            domain += [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if event_type:
            domain.append(("event_type", "=", event_type))
        return self.Event.sudo().search(domain, order="id")

    def deliver(self, **kw):
        return self.Event._deliver(commit=False, **kw)

    def make_due(self, events):
        """Time passes: the backoff of these events has elapsed."""
        events.sudo().write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=1)})

    # -- emission -----------------------------------------------------------------------

    def test_po_released_delivered_signed_with_canonical_payload(self):
        self.endpoint("/orders")
        po = self.make_po()
        event = self.events(po, "po.released")
        self.assertEqual(len(event), 1, "queued in the transaction of the confirmation")
        self.assertEqual(event.state, "pending")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count(
                [
                    (
                        "cron_id",
                        "=",
                        self.env.ref("healthcare_p2p_integration.ir_cron_hc_outbox_deliver").id,
                    )
                ]
            ),
            "the delivery cron is woken",
        )
        self.assertEqual(self.deliver(), 1)
        self.assertEqual(event.state, "delivered")
        self.assertEqual(event.attempts, 1)
        self.assertEqual(event.last_http_status, 200)
        self.assertTrue(event.delivered_at and event.last_attempt_at)
        [request] = self.receiver.requests[-1:]
        self.assertTrue(request["signature_ok"])
        self.assertEqual(request["event_id"], event.event_uuid)
        self.assertEqual(request["event_type"], "po.released")
        body = request["body"]
        self.assertEqual(body["id"], event.event_uuid, "the event id is in the body too")
        self.assertEqual(body["specversion"], "1.0")
        self.assertEqual(body["data_version"], 1)
        self.assertEqual(body["subject"], {"model": "purchase.order", "id": po.id, "ref": po.name})
        order = body["data"]["order"]
        self.assertEqual(order["number"], po.name)
        self.assertEqual(order["amount_untaxed"], "100.00")
        self.assertEqual(order["vendor"]["name"], "Medline")
        [line] = order["lines"]
        self.assertEqual(line["quantity"], "10")
        self.assertEqual(line["unit_price"], "10.00")
        self.assertEqual(line["product"]["gtin"], "00614141000029")
        # the body on the wire is exactly the stored canonical JSON
        self.assertEqual(outbound.canonical_json(body), event.payload)

    def test_no_subscriber_costs_no_query(self):
        po = self.make_po(confirm=False)
        self.Event._subscribers("po.released")  # warm the cache
        with self.assertQueryCount(0):
            po._hc_emit_released()
            self.env["hc.exception"].browse()._hc_emit_outbound()
            self.Event._emit("stock.replenishment", po, lambda r: {})
        po.button_confirm()
        self.assertFalse(self.events(po))

    def test_ack_request_and_echo_suppression(self):
        self.endpoint("/acks", events=("po.released", "po.ack_requested"))
        po = self.make_po()
        self.assertEqual(
            sorted(self.events(po).mapped("event_type")), ["po.ack_requested", "po.released"]
        )
        ack = self.events(po, "po.ack_requested")
        self.assertEqual(
            json.loads(ack.payload)["data"]["acknowledgment"]["respond_to"], "/api/hc/v1/po-acks"
        )
        po.action_hc_request_ack()
        self.assertEqual(len(self.events(po, "po.ack_requested")), 2, "asked again by hand")
        # an order that came from the subscribed system is not echoed back to it
        po2 = self.make_po(confirm=False)
        po2.sudo().hc_connector_id = self.supplier_system
        po2.button_confirm()
        self.assertFalse(self.events(po2))

    def test_po_from_the_inbox_goes_to_the_supplier_not_back_to_its_source(self):
        self.endpoint("/orders")
        source = self.endpoint("/source", connector_id=self.connector.id)
        vendor = {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}]}
        self.accept([self.vendor_doc()])
        self.accept(
            [{"gtin": "00614141000418", "description": "Gloves", "uom": "EA", "vendor": vendor}],
            doc_type="item",
        )
        self.process()
        po_doc = {
            "number": "PO-OUT-1",
            "order_date": "2026-03-02",
            "vendor": vendor,
            "currency": self.company.currency_id.name,
            "approval_status": "approved",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": "00614141000418"},
                    "quantity": "100",
                    "uom": "EA",
                    "unit_price": "9.50",
                }
            ],
        }
        [(message, _status)] = self.accept([po_doc], doc_type="purchase_order")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        order = self.env["purchase.order"].search([("hc_source_ref", "=", "PO-OUT-1")])
        self.assertEqual(order.state, "purchase")
        event = self.events(order, "po.released")
        self.assertEqual(event.connector_id, self.supplier_system)
        self.assertNotIn(source, event.endpoint_id)
        data = json.loads(event.payload)["data"]["order"]
        self.assertEqual(data["source_ref"], "PO-OUT-1")
        self.assertEqual(data["lines"][0]["line_ref"], "1")
        self.assertIn(
            {"scheme": "gln", "value": "0614141000012", "source_system": None},
            data["vendor"]["identifiers"],
        )

    def test_company_not_allowed_for_connector_gets_nothing(self):
        self.endpoint("/orders")
        other = self.env["res.company"].create({"name": "Other facility"})
        self.env.user.company_ids |= other
        po = (
            self.env["purchase.order"]
            .with_company(other)
            .create(
                {
                    "partner_id": self.vendor.id,
                    "company_id": other.id,
                    "order_line": [
                        Command.create({"product_id": self.product.id, "product_qty": 1})
                    ],
                }
            )
        )
        po.button_confirm()
        self.assertEqual(po.state, "purchase")
        self.assertFalse(self.events(po))

    def test_rolled_back_change_emits_nothing(self):
        self.endpoint("/orders")
        po = self.make_po(confirm=False)
        with contextlib.suppress(RuntimeError), self.env.cr.savepoint():
            po.button_confirm()
            self.assertTrue(self.events(po), "created with the business change...")
            raise RuntimeError("the business transaction fails")
        self.env.invalidate_all()
        self.assertEqual(po.state, "draft")
        self.assertFalse(self.events(po), "...and rolled back with it")
        before = len(self.receiver.requests)
        self.deliver()
        self.assertEqual(len(self.receiver.requests), before)

    def test_invoice_exception_and_payment_hold_from_the_match(self):
        self.endpoint("/ap", events=("invoice.exception", "payment.hold"))
        self.set_tolerance()
        po = self.make_po()
        picking = po.picking_ids[:1]
        picking.move_ids.quantity = 10
        picking.button_validate()
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.vendor.id,
                "invoice_date": "2026-11-20",
                "ref": "INV-OUT-1",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "quantity": 10,
                            "price_unit": 12.0,
                            "purchase_line_id": po.order_line.id,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        self.env["hc.three.way.match"]._match_bills(bill)
        self.assertEqual(bill.hc_match_state, "blocked")
        hold = self.events(bill, "payment.hold")
        self.assertEqual(len(hold), 1)
        data = json.loads(hold.payload)["data"]
        self.assertEqual(data["bill"]["vendor_ref"], "INV-OUT-1")
        self.assertEqual(data["bill"]["purchase_orders"], [po.name])
        self.assertEqual([e["type"] for e in data["hold"]["open_exceptions"]], ["price_variance"])
        alerts = self.events(event_type="invoice.exception")
        self.assertEqual(len(alerts), 1)
        alert = json.loads(alerts.payload)["data"]
        self.assertEqual(alert["exception"]["type"], "price_variance")
        self.assertEqual(alert["bill"]["id"], bill.id)
        # matching again (still blocked) is no new hold, and no second alert
        self.env["hc.three.way.match"]._match_bills(bill)
        self.assertEqual(len(self.events(bill, "payment.hold")), 1)
        self.assertEqual(len(self.events(event_type="invoice.exception")), 1)
        self.deliver()
        self.assertEqual((hold | alerts).mapped("state"), ["delivered", "delivered"])

    def test_critical_replenishment_signal(self):
        self.endpoint("/stock", events=("stock.replenishment",))
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        self.product.hc_critical = True
        self.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": self.product.id,
                "warehouse_id": warehouse.id,
                "location_id": warehouse.lot_stock_id.id,
                "product_min_qty": 20,
                "product_max_qty": 50,
                "trigger": "manual",
            }
        )
        signal = self.env["hc.replenishment.signal"]._signal(self.product, warehouse)
        self.assertTrue(signal)
        event = self.events(signal, "stock.replenishment")
        self.assertEqual(len(event), 1)
        data = json.loads(event.payload)["data"]
        self.assertEqual(data["product"]["default_code"], "GLV-1")
        self.assertTrue(data["product"]["critical"])
        self.assertEqual(data["qty_minimum"], "20")
        self.assertEqual(data["qty_maximum"], "50")
        # a refresh of the open signal is not a new event
        self.env["hc.replenishment.signal"]._signal(self.product, warehouse)
        self.assertEqual(len(self.events(signal)), 1)

    # -- delivery -----------------------------------------------------------------------

    def test_fails_then_recovers(self):
        self.receiver.scripts["/flaky"] = [500, 503, 200]
        self.endpoint("/flaky")
        event = self.events(self.make_po())
        self.deliver()
        self.assertEqual(event.state, "failed")
        self.assertEqual(event.last_http_status, 500)
        self.assertEqual(event.error_code, "http_500")
        self.assertGreater(event.next_attempt_at, fields.Datetime.now())
        self.deliver()
        self.assertEqual(event.attempts, 1, "not due yet: not attempted")
        self.make_due(event)
        self.deliver()
        self.assertEqual((event.state, event.attempts), ("failed", 2))
        self.make_due(event)
        self.deliver()
        self.assertEqual((event.state, event.attempts), ("delivered", 3))
        self.assertEqual(self.receiver.ids("/flaky"), [event.event_uuid] * 3)
        self.assertEqual([r["attempt"] for r in self.receiver.requests[-3:]], ["1", "2", "3"])
        self.assertEqual(event.endpoint_id.consecutive_failures, 0, "success resets the count")

    def test_times_out_then_recovers_and_receiver_dedups(self):
        self.receiver.scripts["/slow"] = [("sleep", 1.5, 200), 200]
        endpoint = self.endpoint("/slow", timeout_seconds=0.5)
        event = self.events(self.make_po())
        self.deliver()
        self.assertEqual(event.state, "failed")
        self.assertEqual(event.error_code, "timeout")
        self.assertLess(event.last_duration_ms, 1400, "gave up at the endpoint's timeout")
        self.assertEqual(endpoint.consecutive_failures, 1)
        self.make_due(event)
        self.deliver()
        self.assertEqual(event.state, "delivered")
        # the slow receiver did get the first attempt: a duplicate, same event id
        time.sleep(1.2)
        self.assertEqual(self.receiver.ids("/slow"), [event.event_uuid] * 2)
        self.assertIn(event.event_uuid, self.receiver.processed)
        self.assertEqual(len(set(self.receiver.ids("/slow"))), 1)

    def test_rate_limited_honours_retry_after(self):
        self.receiver.scripts["/busy"] = [(429, {"Retry-After": "600"}), 200]
        endpoint = self.endpoint("/busy")
        event = self.events(self.make_po())
        self.deliver()
        self.assertEqual((event.state, event.error_code), ("failed", "http_429"))
        wait = (event.next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertGreater(wait, 590)
        self.assertEqual(endpoint.circuit_state, "closed")
        self.assertEqual(endpoint.consecutive_failures, 0, "pacing is not ill health")

    def test_client_error_is_dead_at_once_then_replayed_with_same_id(self):
        self.receiver.scripts["/strict"] = [422, 200]
        endpoint = self.endpoint("/strict")
        event = self.events(self.make_po())
        self.deliver()
        self.assertEqual((event.state, event.attempts), ("dead", 1))
        self.assertEqual(event.error_code, "http_422")
        self.assertEqual(endpoint.circuit_state, "closed")
        self.assertEqual(endpoint.dead_count, 1)
        self.make_due(event)
        self.deliver()
        self.assertEqual(event.attempts, 1, "a dead event is never retried by itself")
        # replay: an integration administrator, a reason, the audit log
        with self.assertRaises(UserError):
            event._replay(" ")
        clerk = self.env["res.users"].create(
            {
                "name": "clerk",
                "login": "outbox_clerk",
                "group_ids": [
                    Command.set([self.env.ref("healthcare_p2p_integration.group_hc_ap_clerk").id])
                ],
            }
        )
        with self.assertRaises(AccessError):
            event.with_user(clerk)._replay("trying")
        wizard = self.env["hc.outbox.replay.wizard"].create(
            {"event_ids": [Command.set(event.ids)], "reason": "Receiver fixed its schema"}
        )
        wizard.action_confirm()
        self.assertEqual((event.state, event.attempts, event.replay_count), ("pending", 0, 1))
        log = self.env["hc.audit.log"].search(
            [("action", "=", "outbox_replay"), ("res_id", "=", event.id)]
        )
        self.assertEqual(log.reason, "Receiver fixed its schema")
        self.assertEqual(log.data["event_id"], event.event_uuid)
        self.assertEqual(log.data["previous_state"], "dead")
        self.deliver()
        self.assertEqual(event.state, "delivered")
        self.assertEqual(self.receiver.ids("/strict"), [event.event_uuid] * 2)

    def test_mark_dead_stops_retries_with_the_inbox_vocabulary(self):
        """Marking dead (the queue mixin shared with the inbox): a reason, an audit entry,
        ``error_code``/``error_message`` like a dead inbox message; an event being sent
        or already delivered is left alone."""
        self.endpoint("/gone")
        queued, sending, delivered = (self.events(self.make_po()) for _i in range(3))
        sending.sudo().write({"state": "sending", "started_at": fields.Datetime.now()})
        delivered.sudo().write({"state": "delivered"})
        events = queued | sending | delivered
        with self.assertRaises(UserError):
            events._kill("  ")
        events._kill("Receiver decommissioned")
        self.assertEqual(events.mapped("state"), ["dead", "sending", "delivered"])
        self.assertEqual(
            (queued.error_code, queued.error_message),
            ("killed_by_admin", "Receiver decommissioned"),
        )
        log = self.env["hc.audit.log"].search([("action", "=", "outbox_mark_dead")])
        self.assertEqual(log.res_id, queued.id)
        self.assertEqual(log.data, {"event_id": queued.event_uuid, "previous_state": "pending"})
        with self.assertRaises(UserError, msg="an event being sent is not replayed"):
            sending._replay("again")

    def test_retries_exhausted_is_dead(self):
        self.receiver.scripts["/down"] = [500]
        self.endpoint("/down", max_attempts=2, breaker_threshold=10)
        event = self.events(self.make_po())
        self.deliver()
        self.make_due(event)
        self.deliver()
        self.assertEqual((event.state, event.attempts), ("dead", 2))
        self.assertIn("Retries exhausted after 2 attempts", event.error_message)

    def test_circuit_opens_holds_then_probes_once(self):
        self.receiver.scripts["/cb"] = [500]
        endpoint = self.endpoint("/cb", breaker_threshold=2, breaker_cooldown_seconds=300)
        events = (
            self.events(self.make_po()) | self.events(self.make_po()) | self.events(self.make_po())
        )
        self.deliver()
        self.assertEqual(endpoint.circuit_state, "open")
        self.assertEqual(endpoint.consecutive_failures, 2)
        self.assertEqual(events.mapped("attempts"), [1, 1, 0], "the third was not attempted")
        self.assertEqual(events[2].state, "pending")
        self.assertEqual(len(self.receiver.ids("/cb")), 2)
        # while open: nothing attempted, nothing counted
        self.make_due(events)
        self.deliver()
        self.assertEqual(len(self.receiver.ids("/cb")), 2)
        self.assertEqual(events.mapped("attempts"), [1, 1, 0])
        # cool-down over, receiver still down: one probe, which reopens the circuit
        endpoint.sudo().circuit_open_until = fields.Datetime.now() - timedelta(seconds=1)
        self.deliver()
        self.assertEqual(len(self.receiver.ids("/cb")), 3, "exactly one probe")
        self.assertEqual(endpoint.circuit_state, "open")
        self.assertGreater(endpoint.circuit_open_until, fields.Datetime.now())
        # cool-down over again, receiver back: the probe closes the circuit
        self.receiver.scripts["/cb"] = [200]
        endpoint.sudo().circuit_open_until = fields.Datetime.now() - timedelta(seconds=1)
        self.make_due(events)
        self.deliver(max_batches=1)
        self.assertEqual(len(self.receiver.ids("/cb")), 4, "one probe in the first batch")
        self.assertEqual(endpoint.circuit_state, "closed")
        self.deliver()
        self.assertEqual(events.mapped("state"), ["delivered"] * 3)
        self.assertEqual(self.receiver.processed >= set(events.mapped("event_uuid")), True)

    def test_half_open_admits_a_single_probe(self):
        endpoint = self.endpoint("/half")
        self.events(self.make_po()) | self.events(self.make_po())
        endpoint.sudo().write(
            {
                "circuit_state": "open",
                "consecutive_failures": 5,
                "circuit_open_until": fields.Datetime.now() - timedelta(seconds=1),
            }
        )
        jobs = self.Event._claim(10, commit=False)
        self.assertEqual(len(jobs), 1)
        self.assertTrue(jobs[0]["probe"])
        self.env.invalidate_all()
        self.assertEqual(endpoint.circuit_state, "half_open")
        self.assertEqual(self.Event._claim(10, commit=False), [], "the probe is in flight")

    def test_connection_refused_is_retried(self):
        endpoint = self.endpoint("/x")
        endpoint.url = "http://127.0.0.1:9/nothing-listens"
        event = self.events(self.make_po())
        self.deliver()
        self.assertEqual((event.state, event.error_code), ("failed", "connection_error"))

    def test_stale_sending_is_requeued(self):
        self.endpoint("/orders")
        event = self.events(self.make_po())
        event.sudo().write(
            {
                "state": "sending",
                "attempts": 1,
                "started_at": fields.Datetime.now() - timedelta(hours=1),
            }
        )
        self.deliver()
        self.assertEqual(event.state, "delivered")
        self.assertEqual(event.attempts, 2)

    def test_prometheus_metrics(self):
        self.receiver.scripts["/m"] = [500]
        endpoint = self.endpoint("/m", breaker_threshold=1)
        self.make_po()
        self.deliver()
        text = self.env["hc.metrics"]._prometheus().decode()
        self.assertIn(
            f'hc_outbox_events{{connector="suppnet",endpoint="{endpoint.id}",'
            'event_type="po.released",state="failed"} 1.0',
            text,
        )
        self.assertIn(f'hc_outbox_circuit_open{{endpoint="{endpoint.id}"}} 1.0', text)
        self.assertIn(f'hc_outbox_oldest_undelivered_seconds{{endpoint="{endpoint.id}"}}', text)

    def test_purge_keeps_dead_letters_and_recent_events(self):
        self.receiver.scripts["/purge"] = [200, 200, 400]
        self.endpoint("/purge")
        old, recent, dead = (self.events(self.make_po()) for _ in range(3))
        self.deliver()
        self.assertEqual((old | recent | dead).mapped("state"), ["delivered", "delivered", "dead"])
        long_ago = fields.Datetime.now() - timedelta(days=91)
        (old | dead).sudo().write({"delivered_at": long_ago, "occurred_at": long_ago})
        self.assertEqual(self.Event._cron_purge(keep_days=90), 1)
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists() and dead.exists())

    def test_slow_batch_gives_back_untried_events(self):
        self.endpoint("/orders")
        event = self.events(self.make_po())
        with patch.object(outbox_module, "BATCH_SECONDS", -1):
            self.deliver(max_batches=1)
        self.assertEqual((event.state, event.attempts), ("pending", 0), "untried, uncounted")
        self.deliver()
        self.assertEqual((event.state, event.attempts), ("delivered", 1))

    # -- configuration ------------------------------------------------------------------

    def test_secret_encrypted_at_rest_and_rotated_with_overlap(self):
        endpoint = self.endpoint("/orders")
        stored = endpoint.sudo().secret_encrypted
        self.assertNotIn(SECRET, stored)
        keys = crypto.keys_from_config(__import__("odoo").tools.config)
        self.assertEqual(crypto.decrypt(keys, stored), SECRET)
        self.assertFalse(endpoint.secret, "write-only")
        self.assertTrue(endpoint.secret_set)
        endpoint.secret = "a-brand-new-secret-456789"
        self.assertEqual(endpoint._signing_secrets(), ["a-brand-new-secret-456789", SECRET])
        self.assertTrue(
            self.env["hc.audit.log"].search_count(
                [("action", "=", "outbox_secret_rotated"), ("res_id", "=", endpoint.id)]
            )
        )
        # the receiver still holding the old secret keeps verifying during the overlap
        self.make_po()
        self.deliver()
        self.assertTrue(self.receiver.requests[-1]["signature_ok"])
        with self.assertRaises(ValidationError):
            endpoint.secret = "short"

    def test_endpoint_form_sets_secret_and_connector_button(self):
        with Form(self.env["hc.outbox.endpoint"]) as form:
            form.name = "Form endpoint"
            form.connector_id = self.supplier_system
            form.url = "https://supplier.example.org/hook"
            form.event_type_ids.add(self.types["payment.hold"])
            form.secret = SECRET
        endpoint = form.record
        self.assertTrue(endpoint.secret_set)
        self.assertEqual(endpoint._signing_secrets(), [SECRET])
        self.assertIn(
            (endpoint.id, self.supplier_system.id, frozenset(self.company.ids)),
            self.Event._subscribers("payment.hold"),
            "the subscription cache sees the new endpoint at once",
        )
        endpoint.active = False
        self.assertFalse(self.Event._subscribers("payment.hold"))

    def test_views_for_auditor_hide_the_secret(self):
        auditor = self.env["res.users"].create(
            {
                "name": "auditor",
                "login": "outbox_auditor",
                "group_ids": [
                    Command.set([self.env.ref("healthcare_p2p_integration.group_hc_auditor").id])
                ],
            }
        )
        endpoint = self.endpoint("/orders")
        views = (False, "list"), (False, "form"), (False, "search")
        for model in ("hc.outbox.event", "hc.outbox.endpoint"):
            for user in (auditor, self.env.user):
                result = self.env[model].with_user(user).get_views(list(views))
                self.assertEqual(set(result["views"]), {"list", "form", "search"})
        form = self.env["hc.outbox.endpoint"].with_user(auditor).get_views([(False, "form")])
        self.assertNotIn('name="secret"', form["views"]["form"]["arch"])
        self.assertEqual(endpoint.with_user(auditor).circuit_state, "closed")
        with self.assertRaises(AccessError):
            endpoint.with_user(auditor).secret_encrypted  # noqa: B018
        with self.assertRaises(AccessError):
            endpoint.with_user(auditor).write({"url": "https://elsewhere.example.org"})

    def test_endpoint_validation(self):
        with self.assertRaises(ValidationError):
            self.endpoint("/p", url="http://supplier.example.org/hook")
        with self.assertRaises(ValidationError):
            self.endpoint("/p", url="ftp://supplier.example.org/hook")
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.env["hc.outbox.endpoint"].create(
                {
                    "name": "no secret",
                    "connector_id": self.supplier_system.id,
                    "url": "https://supplier.example.org/hook",
                    "event_type_ids": [Command.set([self.types["po.released"].id])],
                }
            )
        ok = self.endpoint("/p", url="http://supplier.internal/hook", allow_plain_http=True)
        self.assertTrue(ok)
