"""Fixtures of the outbound document tests: a loopback receiver that keeps the exact bytes
and headers it was sent, a vendor with a trading-partner profile, and the role users."""

import contextlib
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from odoo import Command
from odoo.tests.common import _super_send

from ..delivery import outbound
from .common import MatchCase

SECRET = "outbound-document-secret-0123456789"


class RawReceiver:
    """A loopback HTTP receiver recording each request's raw body and headers."""

    def __init__(self, secret=SECRET):
        self.secret = secret
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "body": body,
                        "content_type": self.headers.get("Content-Type"),
                        "event_id": self.headers.get("X-HC-Event-Id"),
                        "event_type": self.headers.get("X-HC-Event-Type"),
                        "signature_ok": outbound.verify_signature(
                            receiver.secret, self.headers.get("X-HC-Signature"), body
                        ),
                    }
                )
                with contextlib.suppress(OSError):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}')

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


class OutboundCase(MatchCase):
    """A vendor (GLN in the crosswalk) with a production profile on a loopback endpoint,
    a test endpoint beside it, and a purchase user who confirms orders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = RawReceiver()
        cls.addClassCleanup(cls.receiver.stop)
        cls.env["hc.partner.identifier"].create(
            {"partner_id": cls.vendor.id, "scheme": "gln", "value": "0614141000012"}
        )
        cls.network = cls.env["hc.connector"].create({"name": "Vendor network", "code": "vnet"})
        cls.endpoint_prod = cls.make_endpoint("/prod", "production")
        cls.endpoint_test = cls.make_endpoint("/test", "test")
        cls.profile = cls.env["hc.trading.partner"].create(
            {
                "partner_id": cls.vendor.id,
                "endpoint_id": cls.endpoint_prod.id,
                "environment": "production",
                "isa_sender_id": "HOSPITAL01",
                "isa_receiver_id": "MEDLINE01",
            }
        )
        cls.buyer = cls._user(
            "buyer_a", [cls.env.ref("healthcare_p2p_integration.group_hc_supply_chain")]
        )

    @classmethod
    def make_endpoint(cls, path, environment):
        return cls.env["hc.outbox.endpoint"].create(
            {
                "name": path,
                "connector_id": cls.network.id,
                "url": cls.receiver.url(path),
                "environment": environment,
                "event_type_ids": [
                    Command.set(
                        cls.env["hc.outbox.event.type"]
                        .search([("code", "=", "stock.replenishment")])
                        .ids
                    )
                ],
                "secret": SECRET,
                "timeout_seconds": 2.0,
            }
        )

    @classmethod
    def _request_handler(cls, s, r, **kw):
        if urlsplit(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @contextmanager
    def refused(self, exception, pattern):
        """``assertRaisesRegex`` in a savepoint (Odoo's ``assertRaises``)."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertRegex(str(caught.exception), pattern)

    def confirm_po(self, qty=10, price=10.0, user=None):
        po = (
            self.env["purchase.order"]
            .with_user(user or self.buyer)
            .create(
                {
                    "partner_id": self.vendor.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_qty": qty, "price_unit": price}
                        )
                    ],
                }
            )
        )
        po.button_confirm()
        return po

    def documents(self, record, kind=None):
        domain = [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if kind:
            domain.append(("kind", "=", kind))
        return self.env["hc.outbound.document"].search(domain, order="id")

    def deliver(self):
        return self.env["hc.outbox.event"]._deliver(commit=False)

    def commit_hooks(self):
        """What a commit runs before committing (changes and remittances are built then)."""
        self.env.flush_all()
        self.env.cr.flush()
