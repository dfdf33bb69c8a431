"""Shared fixtures of the Odoo tests: ``HcCase`` (a connector and its API key),
``MatchCase`` (a PO and bills to match) and the samples loader (``tests/samples.py``)."""

import base64
import json
from unittest.mock import patch

from odoo import Command
from odoo.modules.registry import DummyRLock
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase
from odoo.tests import tagged

from .samples import read_sample  # noqa: F401 (the samples loader, for the Odoo tests)
from .samples import sample_path  # noqa: F401
from .samples import samples_dir  # noqa: F401


def let_threads_open_environments(test):
    """For a test whose threads open environments on connections of their own.

    ``odoo-bin --test-enable`` runs the tests while its server holds ``Registry._lock``
    (``ThreadedServer.run``): a thread building an ``api.Environment`` (which looks the
    registry up under that lock) would wait for the end of the run.  As Odoo's registry
    test mode does for the HTTP requests of an ``HttpCase``, the lock is a no-op for the
    test's duration: the registry exists, the threads only read it.
    """
    test.startPatcher(patch.object(Registry, "_lock", DummyRLock()))


class HcCase(TransactionCase):
    """Shared fixtures: a connector with its technical user and a live API key."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.doc_types = cls.env["hc.document.type"].search([])
        cls.lane_bulk = cls.env.ref("healthcare_p2p_integration.lane_bulk")
        cls.lane_critical = cls.env.ref("healthcare_p2p_integration.lane_critical")
        cls.connector = cls.env["hc.connector"].create(
            {
                "name": "Sourcing platform",
                "code": "srcplat",
                "source_system": "Sourcing platform",
                "allowed_doc_type_ids": [(6, 0, cls.doc_types.ids)],
                "max_attempts": 3,
            }
        )
        cls.api_key = cls.connector._generate_api_key()
        cls.Inbox = cls.env["hc.inbox.message"]

    @classmethod
    def purchase_tax(cls, name, amount, **extra):
        """A percent purchase tax of the test company."""
        return cls.env["account.tax"].create(
            {
                "name": name,
                "amount": amount,
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": cls.company.id,
                **extra,
            }
        )

    @classmethod
    def make_vendor(cls, gln, name="Medline Industries, Inc."):
        """A vendor known to the crosswalk by its GLN, as the vendor master leaves it."""
        vendor = cls.env["res.partner"].create(
            {"name": name, "is_company": True, "supplier_rank": 1}
        )
        cls.env["hc.partner.identifier"].create(
            {"partner_id": vendor.id, "scheme": "gln", "value": gln}
        )
        return vendor

    @classmethod
    def make_demo_user(cls, login, company=None):
        """The demo's user ``login`` (simulator/odoo_setup.py USERS) as the demo creates it: its
        module role and nothing else (the role brings the Odoo rights it needs); the
        password is the login, as ``HttpCase.start_tour(login=...)`` expects."""
        from ..simulator.odoo_setup import USERS

        [(name, group)] = [(n, g) for user, n, g, _queue in USERS if user == login]
        company = company or cls.company
        return (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": name,
                    "login": login,
                    "password": login,
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "group_ids": [
                        Command.set([cls.env.ref(f"healthcare_p2p_integration.{group}").id])
                    ],
                }
            )
        )

    @classmethod
    def set_tolerance(cls, **vals):
        """Replace every tolerance rule by one company default: unit price and bill total
        within 2 % unless ``vals`` says otherwise."""
        Rule = cls.env["hc.tolerance.rule"]
        Rule.search([]).unlink()
        return Rule.create(
            {"name": "Default", "company_id": cls.company.id, "price_pct": 2.0, "total_pct": 2.0}
            | vals
        )

    @staticmethod
    def vendor_doc(
        gln="0614141000012", name="Medline Industries, Inc.", city="Northfield", **extra
    ):
        doc = {
            "identifiers": [{"scheme": "GLN", "value": gln}],
            "name": name,
            "address": {
                "street": "3 Lakes Drive",
                "city": city,
                "zip": "60093",
                "country_code": "US",
            },
        }
        doc.update(extra)
        return doc

    @staticmethod
    def consumption_doc(ref, **extra):
        """A cabinet's consumption of one item (``critical=True``: the critical lane)."""
        return {
            "consumption_id": ref,
            "source_system": "cabinet",
            "location": "LOC-OR3",
            "item": {"gtin": "00614141000029"},
            "quantity": "1",
            "uom": "EA",
            "consumed_at": "2026-12-06T08:30:00Z",
            **extra,
        }

    @staticmethod
    def raw(doc):
        return json.dumps(doc).encode()

    def accept(self, docs, doc_type="vendor", key=None, connector=None):
        """Store documents as the API would; return the messages."""
        doc_type = self.doc_types.filtered(lambda d: d.code == doc_type)
        results = self.Inbox._accept(
            connector or self.connector,
            doc_type,
            self.company,
            "application/json",
            [self.raw(d) for d in docs],
            idempotency_key=key,
        )
        return results

    def process(self, lane=None):
        """Drain a lane like its cron would (without committing: we are in a test)."""
        for lane_ in lane or self.env["hc.lane"].search([]):
            self.env["hc.lane.worker"]._cron_process_lane(lane_.id)

    @staticmethod
    def payload(message):
        return json.loads(base64.b64decode(message.payload))

    def start_tour(self, url_path, tour_name, **kwargs):
        """Tours (with HttpCase): build the web client's bundles (and Chart.js's, loaded
        lazily) in the test transaction first.  Compiled inside the browser's first request on a loaded shared machine,
        they can hold the test cursor longer than the other requests wait for it (20 s)."""
        qweb = self.env["ir.qweb"]
        for bundle in ("web.assets_web", "web.assets_tests"):
            qweb._get_asset_bundle(bundle, css=True, js=False).css()
            qweb._get_asset_bundle(bundle, css=False, js=True).js()
        # loaded lazily by the dashboard's charts (as by graph views)
        qweb._get_asset_bundle("web.chartjs_lib", css=False, js=True).js()
        return super().start_tour(url_path, tour_name, **kwargs)


@tagged("post_install", "-at_install")
class MatchCase(HcCase):
    """A confirmed PO of 10 gloves boxes at 10.00, and bills against it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Medline", "is_company": True, "supplier_rank": 1}
        )
        cls.categ = cls.env["product.category"].create({"name": "Gloves"})
        cls.product = cls.env["product.product"].create(
            {
                "name": "Nitrile gloves",
                "is_storable": True,
                "categ_id": cls.categ.id,
                "purchase_method": "receive",
            }
        )
        cls.company.hc_accept_threshold = 50.0
        # each user has its module role only: the role brings the Odoo rights it needs
        group = cls.env.ref
        cls.clerk = cls._user("clerk_a", [group("healthcare_p2p_integration.group_hc_ap_clerk")])
        cls.clerk_b = cls._user("clerk_b", [group("healthcare_p2p_integration.group_hc_ap_clerk")])
        cls.manager = cls._user(
            "ap_manager", [group("healthcare_p2p_integration.group_hc_ap_manager")]
        )
        cls.queue = cls.env.ref("healthcare_p2p_integration.queue_ap_match")
        cls.queue.member_ids = cls.clerk_b
        cls.company_rule = cls.set_tolerance(qty_pct=0)

    @classmethod
    def _user(cls, login, groups):
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [
                    Command.set([g.id for g in groups] + [cls.env.ref("base.group_user").id])
                ],
            }
        )

    def make_po(self, qty=10, price=10.0, receive=None):
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
        po.button_confirm()
        received = qty if receive is None else receive
        if received:
            self.receive(po, received)
        return po

    def receive(self, po, qty):
        picking = po.picking_ids.filtered(lambda p: p.state not in ("done", "cancel"))[:1]
        picking.move_ids.quantity = qty
        picking.with_context(skip_backorder=True, picking_ids_not_to_backorder=[]).button_validate()
        return picking

    def make_bill(self, po, qty=10, price=10.0, user=None, refund=False):
        line = po.order_line[:1]
        bill = (
            self.env["account.move"]
            .with_user(user or self.clerk)
            .create(
                {
                    "move_type": "in_refund" if refund else "in_invoice",
                    "partner_id": self.vendor.id,
                    "invoice_date": "2026-11-20",
                    "ref": f"INV-{po.id}-{qty}-{price}",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.product.id,
                                "quantity": qty,
                                "price_unit": price,
                                "purchase_line_id": line.id,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        return bill.sudo()

    def match(self, bill):
        return self.env["hc.three.way.match"]._match_bills(bill)[bill]
