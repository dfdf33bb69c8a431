"""In-process benchmark of outbound documents (run by bench/run.py).

For each format (X12 004010, X12 005010, UBL / Peppol, cXML, JSON): ``count`` purchase
orders of 3 lines are confirmed for a vendor while its trading-partner profile is off
(setup, not timed); then the profile is switched on and the builder sends all of them
(``hc.outbound.document.builder._send_orders``: canonical document built from the order,
rendered, queued in the outbox, recorded) -> documents **built per second**; then the
outbox delivery the cron runs (``hc.outbox.event._deliver``) posts them, signed, to a
loopback HTTP receiver started here -> documents **delivered per second**.  Every
delivered body is compared with what was queued.  Nothing is committed (``_deliver`` runs
with ``commit=False``; production commits each result, a little slower): every run
starts from the same state.

Usage: python bench/outbound.py <odoo.conf> <database> <count>; prints ``RESULT {json}``.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import odoo
import odoo.api
import odoo.tools
from odoo import Command
from odoo.modules.registry import Registry

FORMATS = [
    ("x12 004010", {"order_format": "x12", "x12_version": "004010"}),
    ("x12 005010", {"order_format": "x12", "x12_version": "005010"}),
    ("ubl", {"order_format": "ubl"}),
    ("cxml", {"order_format": "cxml"}),
    ("json", {"order_format": "json"}),
]
SECRET = "bench-outbound-secret-0123456789"


class Receiver:
    """A loopback receiver answering 200 and keeping the bodies it was sent."""

    def __init__(self):
        self.bodies = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/orders"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def setup(env, count, receiver):
    """A vendor with an inactive profile on a loopback endpoint, ``count`` confirmed POs."""
    company = env.company
    vendor = env["res.partner"].create(
        {
            "name": "Bench outbound vendor",
            "is_company": True,
            "supplier_rank": 1,
            "street": "1 Bench Way",
            "city": "Springfield",
            "zip": "62701",
            "country_id": env.ref("base.us").id,
        }
    )
    env["hc.partner.identifier"].create(
        {"partner_id": vendor.id, "scheme": "gln", "value": "0614141000012"}
    )
    connector = env["hc.connector"].create({"name": "Bench outbound", "code": "bench_out"})
    endpoint = env["hc.outbox.endpoint"].create(
        {
            "name": "Bench outbound receiver",
            "connector_id": connector.id,
            "url": receiver.url(),
            "environment": "production",
            "event_type_ids": [
                Command.set(
                    env["hc.outbox.event.type"].search([("code", "=", "stock.replenishment")]).ids
                )
            ],
            "secret": SECRET,
            "timeout_seconds": 10.0,
        }
    )
    profile = env["hc.trading.partner"].create(
        {
            "partner_id": vendor.id,
            "company_id": company.id,
            "endpoint_id": endpoint.id,
            "environment": "production",
            "isa_sender_id": "HOSPITAL01",
            "isa_receiver_id": "VENDOR01",
            "company_participant_id": "0088:0614141000036",
            "cxml_to_domain": "DUNS",
            "cxml_to_identity": "123456789",
            "active": False,
        }
    )
    products = env["product.product"].create(
        [{"name": f"Bench outbound item {i}", "default_code": f"BO-{i}"} for i in range(3)]
    )
    orders = env["purchase.order"].create(
        [
            {
                "partner_id": vendor.id,
                "order_line": [
                    Command.create(
                        {"product_id": p.id, "product_qty": 5 + i, "price_unit": 2.5 + i}
                    )
                    for i, p in enumerate(products)
                ],
            }
            for _n in range(count)
        ]
    )
    orders.button_confirm()
    return profile, orders


def measure(env, profile, orders, receiver, values):
    Event = env["hc.outbox.event"]
    profile.write(dict(values, active=True))
    builder = env["hc.outbound.document.builder"]
    env.flush_all()
    start = time.perf_counter()
    documents = builder._send_orders(orders, "original")
    env.flush_all()
    built_s = time.perf_counter() - start
    failed = documents.filtered(lambda d: d.state != "queued")
    events = documents.event_id
    seen = len(receiver.bodies)
    start = time.perf_counter()
    attempts = 0
    while events.filtered(lambda e: e.state == "pending") and attempts < 10 * len(events):
        made = Event._deliver(batch_size=50, commit=False)
        attempts += made
        events.invalidate_recordset()
        if not made:
            break
    delivered_s = time.perf_counter() - start
    delivered = events.filtered(lambda e: e.state == "delivered")
    bodies = set(receiver.bodies[seen:])
    exact = sum(1 for e in delivered if e.payload.encode() in bodies)
    profile.write({"active": False})
    return {
        "documents": len(documents),
        "failed": len(failed),
        "failure": failed[:1].error_message or "",
        "built_seconds": round(built_s, 3),
        "built_per_second": round(len(documents) / built_s, 1) if built_s else 0,
        "delivered": len(delivered),
        "exact_bytes": exact,
        "delivered_seconds": round(delivered_s, 3),
        "delivered_per_second": round(len(delivered) / delivered_s, 1) if delivered_s else 0,
        "bytes_per_document": round(sum(len(e.payload) for e in events) / max(len(events), 1)),
    }


def main():
    conf, db, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    odoo.tools.config["log_db"] = False
    receiver = Receiver()
    out = {"orders": count, "formats": {}}
    try:
        with Registry(db).cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
            # events already pending in the bench database are not ours: set aside
            env["hc.outbox.event"].search([("state", "=", "pending")]).write(
                {"next_attempt_at": "2999-01-01 00:00:00"}
            )
            profile, orders = setup(env, count, receiver)
            for name, values in FORMATS:
                out["formats"][name] = measure(env, profile, orders, receiver, values)
            cr.rollback()  # every run starts from the same state
    finally:
        receiver.stop()
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
