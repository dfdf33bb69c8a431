import base64
import json

from odoo.tests import TransactionCase


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
    def make_vendor(cls, gln, name="Medline Industries, Inc."):
        """A vendor known to the crosswalk by its GLN, as the vendor master leaves it."""
        vendor = cls.env["res.partner"].create(
            {"name": name, "is_company": True, "supplier_rank": 1}
        )
        cls.env["hc.partner.identifier"].create(
            {"partner_id": vendor.id, "scheme": "gln", "value": gln}
        )
        return vendor

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
        """Tours (with HttpCase): build the web client's bundles in the test transaction
        first.  Compiled inside the browser's first request on a loaded shared machine,
        they can hold the test cursor longer than the other requests wait for it (20 s)."""
        qweb = self.env["ir.qweb"]
        for bundle in ("web.assets_web", "web.assets_tests"):
            qweb._get_asset_bundle(bundle, css=True, js=False).css()
            qweb._get_asset_bundle(bundle, css=False, js=True).js()
        return super().start_tour(url_path, tour_name, **kwargs)
