from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase


@tagged("post_install", "-at_install")
class TestHealthAndMetrics(HcCase, HttpCase):
    def admin_key(self):
        return (
            self.env["res.users.apikeys"]
            .with_user(self.env.ref("base.user_admin"))
            .sudo()
            ._generate("hc_p2p", "metrics test", None)
        )

    def test_health_reports_lanes_and_stalled_workers(self):
        self.accept([self.vendor_doc()])
        self.env["hc.lane"].search([]).cron_ids.write({"lastcall": fields.Datetime.now()})
        detailed = {"Authorization": f"Bearer {self.admin_key()}"}
        response = self.url_open("/api/hc/v1/health", headers=detailed)
        body = response.json()
        self.assertEqual(body["database"], "ok")
        self.assertEqual(body["lanes"]["bulk"]["queue_depth"], 1)
        # without a key: ok or unavailable, no internals
        response = self.url_open("/api/hc/v1/health")
        self.assertEqual((response.status_code, response.json()), (200, {"status": "ok"}))
        # a lane worker that has not run for an hour while messages wait: degraded
        self.lane_bulk.cron_ids.write({"lastcall": fields.Datetime.now() - timedelta(hours=1)})
        response = self.url_open("/api/hc/v1/health", headers=detailed)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["status"], "degraded")
        self.assertTrue(response.json()["stalled_workers"])
        response = self.url_open("/api/hc/v1/health")
        self.assertEqual((response.status_code, response.json()), (503, {"status": "unavailable"}))
        self.process()
        self.assertEqual(
            self.url_open("/api/hc/v1/health").status_code, 200, "nothing waits: healthy"
        )
        # a key that is not an administrator's or an auditor's reads no details
        denied = self.url_open(
            "/api/hc/v1/health", headers={"Authorization": f"Bearer {self.api_key}"}
        )
        self.assertEqual(denied.status_code, 403, denied.text)

    def test_metrics_need_an_admin_and_count_what_is_there(self):
        self.accept([self.vendor_doc(), self.vendor_doc(gln="0614141000029", name="Owens & Minor")])
        self.accept([{"name": "no identifiers"}])
        self.process()
        self.assertEqual(self.url_open("/api/hc/v1/metrics").status_code, 401)
        connector_denied = self.url_open(
            "/api/hc/v1/metrics", headers={"Authorization": f"Bearer {self.api_key}"}
        )
        self.assertEqual(connector_denied.status_code, 403, "a connector does not read metrics")
        response = self.url_open(
            "/api/hc/v1/metrics", headers={"Authorization": f"Bearer {self.admin_key()}"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        text = response.text
        self.assertIn(
            'hc_inbox_messages{connector="srcplat",doc_type="vendor",lane="bulk",state="done"} 2.0',
            text,
        )
        self.assertIn(
            'hc_inbox_messages{connector="srcplat",doc_type="vendor",lane="bulk",state="dead"} 1.0',
            text,
        )
        self.assertIn('hc_inbox_queue_depth{lane="bulk"} 0.0', text)
        self.assertIn("hc_touchless_rate", text)
