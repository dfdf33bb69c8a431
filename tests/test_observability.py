from datetime import timedelta

from odoo import Command
from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase
from .common import MatchCase


class MetricsData:
    """Inbox messages with known states, timings and API latencies."""

    def make_messages(self):
        docs = [self.vendor_doc(gln=f"061414100{i:04d}") for i in range(5)]
        msgs = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        old = self.Inbox.browse(self.accept([self.vendor_doc(name="Old")])[0][0].id)
        now = fields.Datetime.now()
        rows = [
            # state, attempts, received seconds ago, finished seconds ago, api ms
            ("done", 1, 10, 0, 10),
            ("done", 1, 30, 0, 20),
            ("dead", 3, 5, 0, 30),
            ("failed", 2, 5, None, 40),
            ("received", 0, 3000, None, 100),
        ]
        self.env.flush_all()
        for msg, (state, attempts, received, finished, api_ms) in zip(msgs, rows, strict=True):
            self.env.cr.execute(
                """UPDATE hc_inbox_message SET state = %s, attempts = %s, received_at = %s,
                          finished_at = %s, api_latency_ms = %s WHERE id = %s""",
                [
                    state,
                    attempts,
                    now - timedelta(seconds=received),
                    now - timedelta(seconds=finished) if finished is not None else None,
                    api_ms,
                    msg.id,
                ],
            )
        self.env.cr.execute(
            """UPDATE hc_inbox_message SET state = 'done', attempts = 4, api_latency_ms = 5000,
                      received_at = %s, finished_at = %s WHERE id = %s""",
            [now - timedelta(days=2), now - timedelta(days=2), old.id],
        )
        self.Inbox.invalidate_model()
        return msgs


@tagged("post_install", "-at_install")
class TestObservability(MetricsData, MatchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Metrics = cls.env["hc.metrics"]
        cls.other_company = cls.env["res.company"].create({"name": "Lakeside Clinic"})

    def test_technical_metrics_against_known_data(self):
        self.make_messages()
        values = self.Metrics._compute_metrics(self.company.ids, 24)
        self.assertEqual(values["accepted"], 5, "the message of two days ago is outside")
        self.assertEqual(values["processed"], 2)
        self.assertEqual(values["failed"], 1)
        self.assertEqual(values["dead"], 1)
        self.assertEqual(values["retries"], 3)
        self.assertAlmostEqual(values["error_rate"], 33.33)
        self.assertEqual(values["queue_depth"], 2)
        self.assertAlmostEqual(values["oldest_open_age"], 3000, delta=60)
        # percentile_cont over 10, 20, 30, 40, 100 (linear interpolation)
        self.assertAlmostEqual(values["api_latency_p50"], 30.0)
        self.assertAlmostEqual(values["api_latency_p95"], 88.0)
        self.assertAlmostEqual(values["api_latency_p99"], 97.6)
        # accepted -> applied: 10 s and 30 s
        self.assertAlmostEqual(values["processing_p50"], 20.0, delta=0.01)
        self.assertAlmostEqual(values["processing_p95"], 29.0, delta=0.01)
        self.assertAlmostEqual(values["processing_p99"], 29.8, delta=0.01)
        # a wider window takes in the old message
        week = self.Metrics._compute_metrics(self.company.ids, 24 * 7)
        self.assertEqual(week["accepted"], 6)
        self.assertEqual(week["api_latency_p99"] > values["api_latency_p99"], True)
        rows = self.Metrics._flow_rows(self.company.ids, 24)
        self.assertEqual(
            [(r["connector"], r["lane"], r["doc_type"], r["accepted"]) for r in rows],
            [("srcplat", "bulk", "vendor", 5)],
        )
        # another facility sees none of it
        other = self.Metrics._compute_metrics(self.other_company.ids, 24)
        self.assertEqual(
            {k: v for k, v in other.items() if v}, {}, "company filter: all zero elsewhere"
        )

    def business_data(self):
        # known data only: receipts a kept development database already holds are not late
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_picking SET scheduled_date = now() + interval '30 days' "
            "WHERE state NOT IN ('done', 'cancel')"
        )
        self.env.invalidate_all()
        touchless = self.make_bill(self.make_po())
        self.match(touchless)
        blocked = self.make_bill(self.make_po(), price=10.5)
        self.match(blocked)
        accepted = self.make_bill(self.make_po(), price=10.5)
        self.match(accepted)
        self.env["hc.exception"].search([("move_id", "=", accepted.id)])._resolve(
            "accept", "agreed with the supplier"
        )
        accepted.write({"hc_match_state": "accepted"})
        accepted._hc_release(touchless=False)
        late = self.make_po(receive=0)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE stock_picking SET scheduled_date = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(days=3), tuple(late.picking_ids.ids)],
        )
        self.env.cr.execute(
            "UPDATE account_move SET hc_release_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=11), touchless.id],
        )
        self.env.invalidate_all()
        return touchless, blocked, accepted

    def test_business_metrics_against_known_data(self):
        _touchless, blocked, _accepted = self.business_data()
        msgs = self.make_messages()
        values = self.Metrics._compute_metrics(self.company.ids, 24)
        self.assertEqual(values["touchless_rate"], 50.0, "1 of 2 released bills")
        self.assertEqual(values["unmatched_bills"], 1)
        self.assertAlmostEqual(values["unmatched_amount"], 105.0)
        self.assertAlmostEqual(blocked.amount_total, 105.0)
        open_exc = self.env["hc.exception"].search(
            [("state", "not in", ("resolved", "cancelled")), ("company_id", "=", self.company.id)]
        )
        self.assertTrue(open_exc)
        self.assertEqual(values["open_exceptions"], len(open_exc))
        self.assertEqual(values["overdue_exceptions"], 0)
        open_exc[:1].date_deadline = fields.Datetime.now() - timedelta(hours=1)
        self.assertEqual(self.Metrics._compute_metrics(self.company.ids)["overdue_exceptions"], 1)
        self.assertEqual(values["delayed_receipts"], 1)
        self.assertEqual(values["failed_vendor_syncs"], 2, "one dead, one retrying")
        self.assertEqual(values["payment_status_gaps"], 1)
        self.assertEqual(values["recon_findings"], 0)
        # the dashboard's cards open exactly the records they count
        dashboard = self.Metrics.get_dashboard(self.company.ids, 24)
        cards = {card["code"]: card for card in dashboard["cards"]}
        for code in (
            "dead",
            "failed",
            "queue_depth",
            "unmatched_bills",
            "open_exceptions",
            "delayed_receipts",
            "failed_vendor_syncs",
            "payment_status_gaps",
        ):
            card = cards[code]
            self.assertEqual(
                self.env[card["res_model"]].search_count(card["domain"]),
                card["value"],
                f"card {code} opens what it counts",
            )
        self.assertEqual(self.env["hc.inbox.message"].search(cards["dead"]["domain"]), msgs[2])
        by_type = {row["type"]: row["count"] for row in dashboard["exceptions"]["by_type"]}
        self.assertEqual(sum(by_type.values()), len(open_exc))
        self.assertEqual(sum(b["count"] for b in dashboard["exceptions"]["by_age"]), len(open_exc))

    def test_dashboard_is_for_procure_to_pay_users_and_their_companies(self):
        outsider = self.env["res.users"].create(
            {
                "name": "outsider",
                "login": "outsider",
                "group_ids": [Command.set([self.env.ref("base.group_user").id])],
            }
        )
        with self.assertRaises(AccessError):
            self.Metrics.with_user(outsider).get_dashboard()
        data = self.Metrics.with_user(self.clerk).get_dashboard([self.other_company.id])
        self.assertEqual(data["company_ids"], [], "a company the clerk may not see is dropped")

    def test_dashboard_charts_queue_depth_and_latency_per_company_of_the_reader(self):
        """The dashboard's two charts, from the hourly snapshots of the window: one line per
        company the reader may see (issue 14 F11), values in the unit of the axis."""
        Snapshot = self.env["hc.metric.snapshot"]
        Snapshot.search([]).unlink()
        now = fields.Datetime.now()
        t1, t2, t3 = (now - timedelta(minutes=m) for m in (180, 120, 20))
        rows = [
            # company, date, queue depth, processing p95 (s)
            (self.company, now - timedelta(hours=30), 99, 9999),  # before the window
            (self.company, t1, 4, 90),
            (self.company, t2, 6, 150),
            (self.company, t3, 2, 45),
            (self.other_company, t2, 9, 30),
        ]
        for company, date, depth, p95 in rows:
            for metric, value in (("queue_depth", depth), ("processing_p95", p95)):
                Snapshot.create(
                    {"date": date, "company_id": company.id, "metric": metric, "value": value}
                )
        group = self.env.ref("healthcare_p2p_integration.group_hc_auditor")
        auditor = self.env["res.users"].create(
            {
                "name": "auditor of one facility",
                "login": "auditor_one",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "group_ids": [Command.set(group.ids)],
            }
        )
        self.manager.company_ids |= self.other_company
        labels = [fields.Datetime.to_string(d) for d in (t1, t2, t3)]
        mine = {"company_id": self.company.id, "company": self.company.name}
        other = {"company_id": self.other_company.id, "company": self.other_company.name}
        both = [self.company.id, self.other_company.id]
        for user, asked, datasets in (
            # the auditor of one facility: its line only, even when asking for both
            (auditor, None, [(mine, [4, 6, 2], [1.5, 2.5, 0.75])]),
            (auditor, both, [(mine, [4, 6, 2], [1.5, 2.5, 0.75])]),
            # a reader of both: a line each (by name), the other's gaps left empty
            (
                self.manager,
                both,
                sorted(
                    [
                        (other, [None, 9, None], [None, 0.5, None]),
                        (mine, [4, 6, 2], [1.5, 2.5, 0.75]),
                    ],
                    key=lambda row: row[0]["company"],
                ),
            ),
        ):
            with self.subTest(user=user.login, asked=asked):
                data = self.Metrics.with_user(user).get_dashboard(asked, window_hours=24)
                charts = {chart["metric"]: chart for chart in data["charts"]}
                self.assertEqual(list(charts), ["queue_depth", "processing_p95"])
                depth, latency = charts["queue_depth"], charts["processing_p95"]
                self.assertEqual((depth["title"], depth["unit"]), ("Queue depth", "messages"))
                # the largest latency is 150 s: the axis reads in minutes, and so do values
                self.assertEqual(latency["unit"], "minutes")
                self.assertEqual((depth["labels"], latency["labels"]), (labels, labels))
                self.assertEqual(
                    depth["datasets"], [dict(who, values=d) for who, d, _l in datasets]
                )
                self.assertEqual(
                    latency["datasets"], [dict(who, values=lat) for who, _d, lat in datasets]
                )
        # the last hour: 45 s at most, in seconds
        data = self.Metrics.with_user(auditor).get_dashboard(None, window_hours=1)
        latency = data["charts"][1]
        self.assertEqual((latency["unit"], latency["labels"]), ("seconds", labels[2:]))
        self.assertEqual(latency["datasets"], [dict(mine, values=[45.0])])
        # a company the reader may not see draws nothing, not even an empty line
        data = self.Metrics.with_user(auditor).get_dashboard([self.other_company.id])
        self.assertEqual([chart["datasets"] for chart in data["charts"]], [[], []])

    def test_threshold_opens_once_and_closes_when_healthy(self):
        msgs = self.make_messages()
        rule = self.env.ref("healthcare_p2p_integration.recon_metric_thresholds")
        Threshold = self.env["hc.metric.threshold"]
        dead = Threshold.create(
            {
                "metric": "dead",
                "company_id": self.company.id,
                "comparator": ">",
                "value": 0,
                "user_id": self.clerk.id,
            }
        )
        depth = Threshold.create(
            {"metric": "queue_depth", "company_id": self.company.id, "value": 100}
        )
        rule.action_run_now()
        self.assertEqual((dead.state, dead.last_value), ("breached", 1.0))
        self.assertEqual(depth.state, "ok")
        alert = self.env["hc.exception"].search(
            [("dedup_key", "=", f"recon:metric_thresholds:{dead.id}")]
        )
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.exception_type, "threshold_breach")
        self.assertEqual(alert.owner_id, self.clerk)
        self.assertEqual(alert.activity_ids.user_id, self.clerk, "the owner is told")
        self.assertFalse(
            self.env["hc.exception"].search(
                [("dedup_key", "=", f"recon:metric_thresholds:{depth.id}")]
            )
        )
        rule.action_run_now()
        rule.action_run_now()
        self.assertEqual(
            self.env["hc.exception"].search_count(
                [("dedup_key", "=", f"recon:metric_thresholds:{dead.id}")]
            ),
            1,
            "once, not every run",
        )
        msgs[2].sudo().write({"state": "done"})
        rule.action_run_now()
        self.assertEqual(dead.state, "ok")
        self.assertEqual(alert.state, "resolved")
        self.assertFalse(alert.activity_ids, "its activity is done")
        dashboard = self.Metrics.get_dashboard(self.company.ids)
        self.assertEqual(
            {t["id"]: t["state"] for t in dashboard["thresholds"]},
            {dead.id: "ok", depth.id: "ok"},
        )

    def test_prometheus_has_percentiles_flows_and_business_figures(self):
        self.make_messages()
        self.business_data()
        text = self.Metrics._prometheus().decode()
        route = 'connector="srcplat",doc_type="vendor",lane="bulk"'
        self.assertIn(f'hc_api_latency_ms{{{route},quantile="0.5"}} 30.0', text)
        self.assertIn(f'hc_api_latency_ms{{{route},quantile="0.95"}} 88.0', text)
        self.assertIn(f'hc_messages_last_hour{{{route},outcome="accepted"}} 5.0', text)
        self.assertIn(f'hc_messages_last_hour{{{route},outcome="dead"}} 1.0', text)
        self.assertIn(f'hc_messages_last_hour{{{route},outcome="retries"}} 3.0', text)
        self.assertIn(f"hc_route_queue_depth{{{route}}} 2.0", text)
        self.assertIn(f'hc_processing_seconds{{{route},quantile="0.5"}} 20.0', text)
        company = self.company.name
        self.assertIn(f'hc_business{{company="{company}",metric="unmatched_bills"}} 1.0', text)
        self.assertIn(f'hc_business{{company="{company}",metric="touchless_rate"}} 50.0', text)
        self.assertIn(f'hc_business{{company="{company}",metric="delayed_receipts"}} 1.0', text)
        self.assertIn('hc_exceptions_open_by_age{age="0-1d"}', text)


@tagged("post_install", "-at_install")
class TestDashboardTour(HcCase, HttpCase):
    def test_dashboard_tour(self):
        self.accept([self.vendor_doc()])
        self.accept([{"name": "no identifiers"}])
        self.process()
        self.assertEqual(self.Inbox.search_count([("state", "=", "dead")]), 1)
        # the hourly snapshots behind the charts: two earlier hours, and now
        Snapshot = self.env["hc.metric.snapshot"]
        for hours, depth, p95 in ((2, 3, 12.0), (1, 5, 30.0)):
            for metric, value in (("queue_depth", depth), ("processing_p95", p95)):
                Snapshot.create(
                    {
                        "date": fields.Datetime.now() - timedelta(hours=hours),
                        "company_id": self.company.id,
                        "metric": metric,
                        "value": value,
                    }
                )
        Snapshot._take(self.company)
        # an integration administrator of the demo, not the superuser
        self.make_demo_user("data.steward")
        self.start_tour("/odoo", "hc_dashboard_tour", login="data.steward")
