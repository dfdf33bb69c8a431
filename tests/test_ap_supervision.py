"""AP supervision: workload per queue and clerk, trends over time, metric snapshots and
the dashboard's trend links, read as the AP manager's and the AP clerk's own users."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..models.hc_metric_snapshot import SNAPSHOT_METRICS
from .test_three_way_match import MatchCase


@tagged("post_install", "-at_install")
class TestApSupervision(MatchCase):
    """``self.manager``: AP Manager plus Accounting manager (given explicitly);
    ``self.clerk_b``: AP Clerk plus Billing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["product.supplierinfo"].create(
            {
                "partner_id": cls.vendor.id,
                "product_id": cls.product.id,
                "product_tmpl_id": cls.product.product_tmpl_id.id,
                "price": 9.0,
                "hc_contract_ref": "GPO-7",
            }
        )

    def blocked_bill(self):
        """A bill of 105.00 held by two exceptions (price and contract price)."""
        bill = self.make_bill(self.make_po(), price=10.5)
        self.match(bill)
        exceptions = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.assertEqual(len(exceptions), 2)
        return bill, exceptions

    def test_workload_per_clerk_counts_a_bill_once_and_the_overdue(self):
        bill, exceptions = self.blocked_bill()
        exceptions[:1].sudo().date_deadline = fields.Datetime.now() - timedelta(hours=1)
        self.env.flush_all()  # the report is a SQL view of what is in the database
        Report = self.env["hc.ap.workload.report"].with_user(self.manager)
        [(open_count, overdue, blocked, at_stake)] = Report._read_group(
            [("move_id", "=", bill.id)],
            [],
            ["open_count:sum", "overdue_count:sum", "value_blocked:sum", "amount:sum"],
        )
        self.assertEqual((open_count, overdue), (2, 1))
        self.assertAlmostEqual(blocked, bill.amount_total, msg="the bill counts once")
        self.assertAlmostEqual(at_stake, sum(exceptions.mapped("amount")))
        per_clerk = Report._read_group(
            [("move_id", "=", bill.id)], ["queue_id", "owner_id"], ["open_count:sum"]
        )
        self.assertEqual(
            {(queue, owner) for queue, owner, _count in per_clerk},
            {(e.queue_id, e.owner_id) for e in exceptions},
        )
        self.assertEqual(sum(count for *_key, count in per_clerk), 2)
        [age] = Report.search([("exception_id", "=", exceptions[0].id)]).mapped("age_bucket")
        self.assertEqual(age, "0_1")

    def test_exceptions_opened_and_closed_per_day(self):
        _bill, exceptions = self.blocked_bill()
        self.env["hc.exception.resolve.wizard"].with_user(self.clerk_b).create(
            {"exception_ids": exceptions.ids, "action": "accept", "reason": "agreed"}
        ).action_confirm()
        self.env.flush_all()
        Trend = self.env["hc.exception.trend.report"].with_user(self.manager)
        counts = dict(
            Trend._read_group(
                [("exception_id", "in", exceptions.ids)], ["event"], ["event_count:sum"]
            )
        )
        self.assertEqual(counts, {"opened": 2, "closed": 2})
        by_day = Trend._read_group(
            [("exception_id", "in", exceptions.ids)], ["date:day"], ["event_count:sum"]
        )
        self.assertEqual(len(by_day), 1)

    def test_touchless_rate_per_day(self):
        touchless = self.make_bill(self.make_po(price=9.0), price=9.0)  # the contract price
        self.match(touchless)
        self.assertEqual(touchless.hc_match_state, "matched")
        bill, exceptions = self.blocked_bill()
        self.env["hc.exception.resolve.wizard"].with_user(self.clerk_b).create(
            {"exception_ids": exceptions.ids, "action": "accept", "reason": "agreed"}
        ).action_confirm()
        self.assertEqual(bill.hc_match_state, "accepted")
        self.env.flush_all()
        Release = self.env["hc.bill.release.report"].with_user(self.manager)
        [(rate, count)] = Release._read_group(
            [("move_id", "in", (touchless | bill).ids)],
            [],
            ["touchless_rate:avg", "bill_count:sum"],
        )
        self.assertEqual((rate, count), (50.0, 2))

    def test_snapshots_keep_the_levels_over_time(self):
        self.blocked_bill()
        Snapshot = self.env["hc.metric.snapshot"]
        taken = Snapshot._take(self.company)
        self.assertEqual(set(taken.mapped("metric")), set(SNAPSHOT_METRICS))
        blocked = taken.filtered(lambda s: s.metric == "unmatched_amount")
        self.assertGreaterEqual(blocked.value, 105.0)
        self.assertEqual(blocked.unit, "company currency")
        latency = taken.filtered(lambda s: s.metric == "processing_p95")
        self.assertEqual(latency.unit, "seconds")
        # the dashboard's readers read them, nobody writes them
        self.assertEqual(Snapshot.with_user(self.clerk_b).search([("id", "in", taken.ids)]), taken)
        with self.assertRaises(AccessError):
            taken[:1].with_user(self.manager).write({"value": 0})
        # the cron adds a snapshot and drops those past the retention
        old = Snapshot.create(
            {
                "date": fields.Datetime.now() - timedelta(days=500),
                "company_id": self.company.id,
                "metric": "queue_depth",
                "value": 3,
            }
        )
        Snapshot._cron_snapshot()
        self.assertFalse(old.exists())
        self.assertGreater(Snapshot.search_count([]), len(taken))

    def test_reports_are_the_supervisors(self):
        for model in (
            "hc.ap.workload.report",
            "hc.exception.trend.report",
            "hc.bill.release.report",
        ):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.clerk_b).search([])
            views = (
                self.env[model]
                .with_user(self.manager)
                .get_views([(False, "graph"), (False, "pivot")])
            )
            self.assertTrue(views["views"]["graph"]["arch"])

    def test_dashboard_labels_carry_no_unit_and_link_the_trends(self):
        data = self.env["hc.metrics"].with_user(self.manager).get_dashboard()
        for card in data["cards"]:
            self.assertFalse(card["label"].endswith(("(s)", "(ms)", "(%)")), card["label"])
        labels = {card["code"]: card["label"] for card in data["cards"]}
        self.assertEqual(labels["oldest_open_age"], "Age of the oldest open message")
        xmlids = {trend["xmlid"].split(".")[1] for trend in data["trends"]}
        self.assertEqual(
            xmlids,
            {
                "action_hc_queue_depth_trend",
                "action_hc_latency_trend",
                "action_hc_blocked_amount_trend",
                "action_hc_ap_workload",
                "action_hc_exception_trend",
                "action_hc_touchless_trend",
            },
        )
        clerk = self.env["hc.metrics"].with_user(self.clerk_b).get_dashboard()
        self.assertEqual(
            {trend["xmlid"].split(".")[1] for trend in clerk["trends"]},
            {
                "action_hc_queue_depth_trend",
                "action_hc_latency_trend",
                "action_hc_blocked_amount_trend",
            },
            "a clerk is not shown the supervisor's reports",
        )
