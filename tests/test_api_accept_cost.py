"""What accepting a document costs the database, next to Odoo's ``GET /web/health``.

Counted over HTTP (Odoo's whole request path: routing, authentication, the handler), as
the difference with ``/web/health`` served the same way, so that what every request of
Odoo costs (the registry's signaling check) is left out.  An accepted document is one
statement (the insert, the archive look-up and the lane workers' trigger in one round
trip), for a single document, a batch and a consumption of a critical item alike; a
resubmission one more (the original message).
"""

import odoo.sql_db
from odoo.tests import HttpCase
from odoo.tests import tagged

from .security_api_common import SecurityCase

# statements of one accepted POST beyond those of GET /web/health
NEW_DOCUMENT = 1
RESUBMISSION = 2


@tagged("post_install", "-at_install")
class TestAcceptCost(SecurityCase, HttpCase):
    def statements(self, send):
        """``(response, SQL statements sent while serving it)``."""
        self.env.flush_all()
        before = odoo.sql_db.sql_counter
        response = send()
        return response, odoo.sql_db.sql_counter - before

    def health(self):
        response, count = self.statements(lambda: self.url_open("/web/health"))
        self.assertEqual(response.status_code, 200)
        return count

    def assertAcceptedWithin(self, endpoint, body, ceiling, status=202, headers=None):
        health = self.health()
        response, count = self.statements(lambda: self.post(endpoint, body, headers=headers))
        self.assertEqual(response.status_code, status, response.text)
        self.assertLessEqual(
            count - health,
            ceiling,
            f"POST /{endpoint}: {count} statements, /web/health {health}",
        )
        return response

    def test_one_new_document_costs_one_statement(self):
        self.post("vendors", self.vendor_doc(name="Warm-up"))  # per-worker caches
        response = self.assertAcceptedWithin("vendors", self.vendor_doc(), NEW_DOCUMENT)
        message = self.Inbox.browse(response.json()["id"])
        self.assertEqual(message.state, "received")
        self.assertEqual(message.connector_id, self.connector)
        # the same statement woke the lane's workers
        crons = message.lane_id.cron_ids.filtered("active")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "in", crons.ids)]),
            "the accepted document triggered its lane's workers",
        )

    def test_a_batch_costs_one_statement(self):
        self.post("vendors", self.vendor_doc(name="Warm-up"))
        docs = [self.vendor_doc(gln=f"061414100{i:04d}", name=f"Batch {i}") for i in range(5)]
        response = self.assertAcceptedWithin("vendors", docs, NEW_DOCUMENT)
        self.assertEqual(response.json()["counts"]["created"], 5)

    def test_consumption_costs_one_statement_critical_or_not(self):
        # per-worker caches (the item master's critical items, each lane's workers)
        self.post("consumption", self.consumption_doc("CAB-W1"))
        self.post("consumption", self.consumption_doc("CAB-W2", critical=True))
        self.assertAcceptedWithin("consumption", self.consumption_doc("CAB-1"), NEW_DOCUMENT)
        response = self.assertAcceptedWithin(
            "consumption", self.consumption_doc("CAB-2", critical=True), NEW_DOCUMENT
        )
        message = self.Inbox.browse(response.json()["id"])
        self.assertEqual(message.lane_id, self.lane_critical)

    def test_resubmission_costs_two_statements(self):
        doc = self.vendor_doc()
        first = self.post("vendors", doc, headers={"Idempotency-Key": "cost-1"})
        self.assertEqual(first.status_code, 202)
        again = self.assertAcceptedWithin(
            "vendors", doc, RESUBMISSION, status=200, headers={"Idempotency-Key": "cost-1"}
        )
        self.assertEqual(again.json()["id"], first.json()["id"])
        self.assertTrue(again.json()["duplicate"])
        conflict = self.assertAcceptedWithin(
            "vendors",
            self.vendor_doc(name="Other"),
            RESUBMISSION,
            status=409,
            headers={"Idempotency-Key": "cost-1"},
        )
        self.assertEqual(conflict.json()["error"]["code"], "idempotency_conflict")

    def test_a_key_deleted_in_odoo_stops_at_once(self):
        """Keys are verified once per worker and cached; deleting one the way Odoo's own
        *API Keys* list does clears that cache on every worker."""
        self.addCleanup(self.env.registry.clear_cache)  # (the key comes back after the test)
        self.assertEqual(self.post("vendors", self.vendor_doc(name="Before")).status_code, 202)
        keys = (
            self.env["res.users.apikeys"]
            .sudo()
            .search([("user_id", "=", self.connector.user_id.id)])
        )
        self.assertTrue(keys)
        keys._remove()
        self.assertError(
            self.post("vendors", self.vendor_doc(name="After")), 401, "invalid_credentials"
        )
