from datetime import timedelta

from prometheus_client import CollectorRegistry
from prometheus_client import Gauge
from prometheus_client import generate_latest

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.tools import SQL

OPEN_STATES = ("received", "processing", "failed", "waiting")
# A lane worker that has not run for this long while messages wait is not alive.
STALE_CRON_MINUTES = 15
# Business rates (touchless) are measured over the bills released in this many days.
BUSINESS_WINDOW_DAYS = 30
QUANTILES = (0.5, 0.95, 0.99)
# (code, label, unit): the figures of the dashboard, the thresholds and Prometheus.
METRICS = [
    ("accepted", "Messages accepted", "count"),
    ("processed", "Messages processed", "count"),
    ("failed", "Messages failed (retrying)", "count"),
    ("dead", "Dead letters", "count"),
    ("retries", "Retries", "count"),
    ("error_rate", "Error rate (%)", "pct"),
    ("queue_depth", "Queue depth", "count"),
    ("oldest_open_age", "Age of the oldest open message (s)", "seconds"),
    ("api_latency_p50", "API latency p50 (ms)", "ms"),
    ("api_latency_p95", "API latency p95 (ms)", "ms"),
    ("api_latency_p99", "API latency p99 (ms)", "ms"),
    ("processing_p50", "Processing latency p50 (s)", "seconds"),
    ("processing_p95", "Processing latency p95 (s)", "seconds"),
    ("processing_p99", "Processing latency p99 (s)", "seconds"),
    ("touchless_rate", "Touchless rate (%)", "pct"),
    ("unmatched_bills", "Unmatched bills", "count"),
    ("unmatched_amount", "Unmatched bills amount", "amount"),
    ("open_exceptions", "Open exceptions", "count"),
    ("overdue_exceptions", "Overdue exceptions", "count"),
    ("delayed_receipts", "Delayed receipts", "count"),
    ("failed_vendor_syncs", "Failed vendor and item syncs", "count"),
    ("payment_status_gaps", "Payment status gaps", "count"),
    ("recon_findings", "Open reconciliation findings", "count"),
]
TECHNICAL_METRICS = [code for code, _label, _unit in METRICS[:14]]
BUSINESS_METRICS = [code for code, _label, _unit in METRICS[14:]]
AGE_BUCKETS = [("0-1d", 0, 1), ("1-3d", 1, 3), ("3-7d", 3, 7), ("7d+", 7, None)]
# What the dashboard's "Trends" buttons open (each shown to who may read its model).
TREND_ACTIONS = (
    "healthcare_p2p_integration.action_hc_queue_depth_trend",
    "healthcare_p2p_integration.action_hc_latency_trend",
    "healthcare_p2p_integration.action_hc_blocked_amount_trend",
    "healthcare_p2p_integration.action_hc_ap_workload",
    "healthcare_p2p_integration.action_hc_exception_trend",
    "healthcare_p2p_integration.action_hc_touchless_trend",
)
# The dashboard's own charts: (metric, title, unit) of the hourly snapshots drawn over the
# selected window, one line per company.
CHART_METRICS = (
    ("queue_depth", "Queue depth", "count"),
    ("processing_p95", "Processing latency p95", "seconds"),
)
# A chart's axis in seconds reads in the largest of these units its values reach.
SECONDS_SCALES = ((3600.0, "hours"), (60.0, "minutes"), (1.0, "seconds"))
# A card's value is formatted with its unit (19.1 min, 9 ms, 12.5 %): its label does not
# repeat a unit the value may not be in.
UNIT_SUFFIXES = (" (s)", " (ms)", " (%)")
HC_GROUPS = (
    "healthcare_p2p_integration.group_hc_auditor",
    "healthcare_p2p_integration.group_hc_supply_chain",
    "healthcare_p2p_integration.group_hc_ap_clerk",
)


def _card_label(label):
    for suffix in UNIT_SUFFIXES:
        if label.endswith(suffix):
            return label[: -len(suffix)]
    return label


class HcMetrics(models.AbstractModel):
    """Health and Prometheus metrics of the integration, computed from the database.

    Every figure is an aggregate query, so any worker of any server answers the same and
    nothing is lost with a restart (no in-process counters).
    """

    _name = "hc.metrics"
    _description = "Integration metrics"

    @api.model
    def _window_start(self, window_hours):
        """Start of a window of the last ``window_hours``: the figures are kept per hour,
        so a window starts at the top of its first hour."""
        since = fields.Datetime.now() - timedelta(hours=window_hours)
        return since.replace(minute=0, second=0, microsecond=0)

    @api.model
    def _oldest_open(self, company_ids=None, by_route=False):
        """``{key: oldest received_at}`` of the open messages per lane id (or per route
        ``(connector code, lane code, doc type)``): read through the state index, so
        it costs the backlog, never the history."""
        company_filter = (
            SQL("AND m.company_id IN %s", tuple(company_ids) or (0,))
            if company_ids is not None
            else SQL()
        )
        keys = SQL("c.code, l.code, m.doc_type") if by_route else SQL("m.lane_id")
        self.env.cr.execute(
            SQL(
                """SELECT %(keys)s, min(m.received_at)
                     FROM hc_inbox_message m
                     JOIN hc_connector c ON c.id = m.connector_id
                     JOIN hc_lane l ON l.id = m.lane_id
                    WHERE m.state IN %(open)s %(companies)s
                 GROUP BY %(keys)s""",
                keys=keys,
                open=OPEN_STATES,
                companies=company_filter,
            )
        )
        if by_route:
            return {tuple(row[:3]): row[3] for row in self.env.cr.fetchall()}
        return dict(self.env.cr.fetchall())

    @api.model
    def _lane_depths(self, company_ids=None):
        """``{lane code: {queue_depth, oldest_age_seconds}}`` (of these companies).

        Depths are the kept figures (``hc.inbox.stat``), not a count of the inbox."""
        now = fields.Datetime.now()
        self.env.flush_all()
        depths = {}
        for row in self.env["hc.inbox.stat"]._figures(["s"], company_ids):
            if row["state"] in OPEN_STATES:
                depths[row["lane"]] = depths.get(row["lane"], 0) + row["n"]
        oldest = self._oldest_open(company_ids)
        lanes = self.env["hc.lane"].sudo().search([])
        return {
            lane.code: {
                "queue_depth": depths.get(lane.code, 0),
                "oldest_age_seconds": (
                    (now - oldest[lane.id]).total_seconds() if oldest.get(lane.id) else 0
                ),
            }
            for lane in lanes
        }

    @api.model
    def _health(self, company_ids=None):
        """``(healthy, details)``: database reachable, lane workers alive, oldest message.

        Healthy is about every company (a stalled worker is stalled for all); the lanes
        shown count ``company_ids``' messages when given (a reader's own companies).
        """
        now = fields.Datetime.now()
        lanes = self._lane_depths()
        stale = []
        workers = [
            (lane, cron)
            for lane in self.env["hc.lane"].sudo().search([])
            for cron in lane.cron_ids.filtered("active")
        ]
        for lane, cron in workers:
            waiting = lanes.get(lane.code, {}).get("queue_depth", 0)
            last = cron.lastcall
            if cron.failure_count >= 3 or (
                waiting and (not last or (now - last).total_seconds() > STALE_CRON_MINUTES * 60)
            ):
                stale.append(cron.name)
        healthy = not stale
        return healthy, {
            "status": "ok" if healthy else "degraded",
            "database": "ok",
            "lanes": lanes if company_ids is None else self._lane_depths(company_ids),
            "stalled_workers": stale,
        }

    # ------------------------------------------------------------------------------
    # Figures (dashboard, thresholds, Prometheus)
    # ------------------------------------------------------------------------------

    @api.model
    def _flow_rows(self, company_ids, window_hours, group_by=True):
        """Technical figures of the inbox, per connector / lane / document type (or total).

        Flows (accepted, processed, dead, retries) count the hours of the last
        ``window_hours`` (from the top of the first hour), queue depth and age of the
        oldest open message are as of now: counts are the figures kept as messages
        change state (``hc.inbox.stat``), whatever the history.  Latency percentiles
        are PostgreSQL's ``percentile_cont`` over the window's messages, read through
        the ``received_at`` and ``finished_at`` indexes (the window, not the history).
        """
        now = fields.Datetime.now()
        since = self._window_start(window_hours)
        company_ids = tuple(company_ids) or (0,)
        self.env.flush_all()

        def key(route):
            return tuple(route) if group_by else (None, None, None)

        rows = {}

        def row(route):
            return rows.setdefault(
                key(route),
                {"accepted": 0, "processed": 0, "failed": 0, "dead": 0, "retries": 0,
                 "queue_depth": 0, "oldest": None, "api": None, "proc": None},
            )  # fmt: skip

        for fig in self.env["hc.inbox.stat"]._figures(["s", "r", "f"], company_ids, since):
            route = (fig["connector"], fig["lane"], fig["doc_type"])
            if fig["kind"] == "s":
                if fig["state"] == "failed":
                    row(route)["failed"] += fig["n"]
                if fig["state"] in OPEN_STATES:
                    row(route)["queue_depth"] += fig["n"]
            elif fig["kind"] == "r":
                row(route)["accepted"] += fig["n"]
                row(route)["retries"] += fig["retries"]
            elif fig["state"] == "done":
                row(route)["processed"] += fig["n"]
            elif fig["state"] == "dead":
                row(route)["dead"] += fig["n"]
        for route, oldest in self._oldest_open(company_ids, by_route=True).items():
            current = row(route)["oldest"]
            row(route)["oldest"] = min(oldest, current) if current else oldest
        keys = SQL("c.code, l.code, m.doc_type") if group_by else SQL("NULL, NULL, NULL")
        for name, value, condition in (
            ("api", SQL("m.api_latency_ms"),
             SQL("m.received_at >= %s AND m.api_latency_ms IS NOT NULL", since)),
            ("proc", SQL("extract(epoch FROM m.finished_at - m.received_at)"),
             SQL("m.state = 'done' AND m.finished_at >= %s", since)),
        ):  # fmt: skip
            self.env.cr.execute(
                SQL(
                    """SELECT %(keys)s,
                              percentile_cont(%(q)s) WITHIN GROUP (ORDER BY %(value)s)
                         FROM hc_inbox_message m
                         JOIN hc_connector c ON c.id = m.connector_id
                         JOIN hc_lane l ON l.id = m.lane_id
                        WHERE m.company_id IN %(companies)s AND %(condition)s
                     GROUP BY 1, 2, 3""",
                    keys=keys,
                    q=list(QUANTILES),
                    value=value,
                    condition=condition,
                    companies=company_ids,
                )
            )
            for *route, quantiles in self.env.cr.fetchall():
                row(route)[name] = quantiles
        result = []
        for route in sorted(rows, key=lambda k: tuple(v or "" for v in k)):
            r = rows[route]
            if not any(r[k] for k in ("accepted", "processed", "failed", "dead", "queue_depth")):
                continue
            api_q = r["api"] or [0.0] * 3
            proc = r["proc"] or [0.0] * 3
            finished = r["processed"] + r["dead"]
            result.append(
                {
                    "connector": route[0],
                    "lane": route[1],
                    "doc_type": route[2],
                    "accepted": r["accepted"],
                    "processed": r["processed"],
                    "failed": r["failed"],
                    "dead": r["dead"],
                    "retries": int(r["retries"]),
                    "error_rate": round(100.0 * r["dead"] / finished, 2) if finished else 0.0,
                    "queue_depth": r["queue_depth"],
                    "oldest_open_age": (now - r["oldest"]).total_seconds() if r["oldest"] else 0.0,
                    "api_latency_p50": round(api_q[0] or 0.0, 2),
                    "api_latency_p95": round(api_q[1] or 0.0, 2),
                    "api_latency_p99": round(api_q[2] or 0.0, 2),
                    "processing_p50": round(proc[0] or 0.0, 3),
                    "processing_p95": round(proc[1] or 0.0, 3),
                    "processing_p99": round(proc[2] or 0.0, 3),
                }
            )
        return result

    @api.model
    def _compute_metrics(self, company_ids, window_hours=24):
        """Every figure of ``METRICS`` for these companies, as ``{code: value}``."""
        company_ids = tuple(company_ids) or (0,)
        values = dict.fromkeys(TECHNICAL_METRICS, 0.0)
        total = self._flow_rows(company_ids, window_hours, group_by=False)
        if total:
            values.update({k: v for k, v in total[0].items() if k in values})
        now = fields.Datetime.now()
        cr = self.env.cr
        cr.execute(
            """SELECT count(*) FILTER (WHERE hc_touchless), count(*)
                 FROM account_move
                WHERE hc_released AND state != 'cancel' AND company_id IN %s
                  AND hc_release_date >= %s""",
            [company_ids, now - timedelta(days=BUSINESS_WINDOW_DAYS)],
        )
        touchless, released = cr.fetchone()
        values["touchless_rate"] = round(100.0 * touchless / released, 2) if released else 0.0
        cr.execute(
            """SELECT count(*), coalesce(sum(abs(amount_total_signed)), 0)
                 FROM account_move
                WHERE hc_match_state IN ('blocked', 'pending') AND state != 'cancel'
                  AND move_type IN ('in_invoice', 'in_refund') AND company_id IN %s""",
            [company_ids],
        )
        count, amount = cr.fetchone()
        values["unmatched_bills"] = count
        values["unmatched_amount"] = float(amount)
        cr.execute(
            """SELECT count(*), count(*) FILTER (WHERE date_deadline < %s),
                      count(*) FILTER (WHERE dedup_key LIKE 'recon:%%')
                 FROM hc_exception
                WHERE state NOT IN ('resolved', 'cancelled') AND company_id IN %s""",
            [now, company_ids],
        )
        values["open_exceptions"], values["overdue_exceptions"], values["recon_findings"] = (
            cr.fetchone()
        )
        cr.execute(
            """SELECT count(*) FROM stock_picking p
                 JOIN stock_picking_type t ON t.id = p.picking_type_id AND t.code = 'incoming'
                WHERE p.state NOT IN ('draft', 'done', 'cancel') AND p.scheduled_date < %s
                  AND p.company_id IN %s
                  AND EXISTS (SELECT 1 FROM stock_move sm
                               WHERE sm.picking_id = p.id AND sm.purchase_line_id IS NOT NULL)""",
            [now, company_ids],
        )
        values["delayed_receipts"] = cr.fetchone()[0]
        values["failed_vendor_syncs"] = sum(
            fig["n"]
            for fig in self.env["hc.inbox.stat"]._figures(
                ["s", "f"], company_ids, self._window_start(window_hours)
            )
            if fig["doc_type"] in ("vendor", "item")
            and (
                (fig["kind"] == "s" and fig["state"] == "failed")
                or (fig["kind"] == "f" and fig["state"] == "dead")
            )
        )
        values["payment_status_gaps"] = self._payment_status_gaps(company_ids)
        return values

    @api.model
    def _payment_status_gaps(self, company_ids):
        """Released bills with no payment status, past the reconciliation rule's delay."""
        Rule = self.env["hc.reconciliation.rule"].sudo()
        companies = self.env["res.company"].sudo().browse(company_ids).exists()
        count = 0
        for company in companies:
            rule = Rule.search(
                [("code", "=", "payment_status_gap"), ("company_id", "in", (company.id, False))],
                order="company_id",
                limit=1,
            )
            delta = rule._delta() if rule else timedelta(days=5)
            rule = rule or Rule.new({"code": "payment_status_gap"})
            findings, _repaired = rule._find_payment_status_gap(
                company, fields.Datetime.now() - delta
            )
            count += len(findings)
        return count

    @api.model
    def _exception_breakdown(self, company_ids):
        """Open exceptions by type, by queue and by age bucket."""
        now = fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT e.exception_type, e.queue_id, coalesce(q.name->>'en_US', ''),
                      extract(epoch FROM %s - e.create_date) / 86400, e.date_deadline < %s
                 FROM hc_exception e LEFT JOIN hc_exception_queue q ON q.id = e.queue_id
                WHERE e.state NOT IN ('resolved', 'cancelled') AND e.company_id IN %s""",
            [now, now, tuple(company_ids) or (0,)],
        )
        by_type, by_queue = {}, {}
        by_age = dict.fromkeys((name for name, _low, _high in AGE_BUCKETS), 0)
        labels = dict(self.env["hc.exception"]._fields["exception_type"].selection)
        for exc_type, queue_id, queue, age, overdue in self.env.cr.fetchall():
            row = by_type.setdefault(
                exc_type, {"type": exc_type, "label": labels.get(exc_type, exc_type),
                           "count": 0, "overdue": 0}
            )  # fmt: skip
            row["count"] += 1
            row["overdue"] += bool(overdue)
            qrow = by_queue.setdefault(
                queue_id or 0, {"queue_id": queue_id or False, "queue": queue, "count": 0,
                                "overdue": 0}
            )  # fmt: skip
            qrow["count"] += 1
            qrow["overdue"] += bool(overdue)
            for name, low, high in AGE_BUCKETS:
                if age >= low and (high is None or age < high):
                    by_age[name] += 1
                    break
        return {
            "by_type": sorted(by_type.values(), key=lambda r: -r["count"]),
            "by_queue": sorted(by_queue.values(), key=lambda r: -r["count"]),
            "by_age": [{"bucket": name, "count": by_age[name]} for name, *_r in AGE_BUCKETS],
        }

    @api.model
    def _card_actions(self, company_ids, window_hours):
        """What each dashboard figure opens: ``{code: (model, name, domain)}``."""
        now = fields.Datetime.now()
        since = fields.Datetime.to_string(self._window_start(window_hours))
        company = [("company_id", "in", list(company_ids))]
        inbox, move, exc = "hc.inbox.message", "account.move", "hc.exception"
        open_msgs = [("state", "in", list(OPEN_STATES))]
        window = [("received_at", ">=", since)]
        unmatched = [
            ("hc_match_state", "in", ("blocked", "pending")),
            ("state", "!=", "cancel"),
            ("move_type", "in", ("in_invoice", "in_refund")),
        ]
        open_exc = [("state", "not in", ("resolved", "cancelled"))]
        gap_rule = (
            self.env["hc.reconciliation.rule"]
            .sudo()
            .search([("code", "=", "payment_status_gap")], order="company_id desc", limit=1)
        )
        gap_since = now - (gap_rule._delta() if gap_rule else timedelta(days=5))
        actions = {
            "accepted": (inbox, window),
            "processed": (inbox, [("state", "=", "done"), ("finished_at", ">=", since)]),
            "failed": (inbox, [("state", "=", "failed")]),
            "dead": (inbox, [("state", "=", "dead"), ("finished_at", ">=", since)]),
            "retries": (inbox, [*window, ("attempts", ">", 1)]),
            "error_rate": (inbox, [("state", "=", "dead"), ("finished_at", ">=", since)]),
            "queue_depth": (inbox, open_msgs),
            "oldest_open_age": (inbox, open_msgs),
            "touchless_rate": (
                move,
                [
                    ("hc_released", "=", True),
                    ("hc_release_date", ">=", fields.Datetime.to_string(now - timedelta(days=30))),
                ],
            ),
            "unmatched_bills": (move, unmatched),
            "unmatched_amount": (move, unmatched),
            "open_exceptions": (exc, open_exc),
            "overdue_exceptions": (exc, [("is_overdue", "=", True)]),
            "recon_findings": (exc, [*open_exc, ("dedup_key", "=like", "recon:%")]),
            "delayed_receipts": (
                "stock.picking",
                [
                    ("picking_type_code", "=", "incoming"),
                    ("state", "not in", ("draft", "done", "cancel")),
                    ("scheduled_date", "<", fields.Datetime.to_string(now)),
                    ("move_ids.purchase_line_id", "!=", False),
                ],
            ),
            "failed_vendor_syncs": (
                inbox,
                [
                    ("doc_type", "in", ("vendor", "item")),
                    "|",
                    ("state", "=", "failed"),
                    "&",
                    ("state", "=", "dead"),
                    ("finished_at", ">=", since),
                ],
            ),
            "payment_status_gaps": (
                move,
                [
                    ("move_type", "=", "in_invoice"),
                    ("state", "!=", "cancel"),
                    ("hc_released", "=", True),
                    ("hc_payment_status", "=", False),
                    ("payment_state", "not in", ("paid", "in_payment", "reversed")),
                    ("hc_release_date", "<", fields.Datetime.to_string(gap_since)),
                ],
            ),
        }
        for code in ("api_latency_p50", "api_latency_p95", "api_latency_p99"):
            actions[code] = (inbox, [*window, ("api_latency_ms", "!=", False)])
        for code in ("processing_p50", "processing_p95", "processing_p99"):
            actions[code] = (inbox, [("state", "=", "done"), ("finished_at", ">=", since)])
        return {code: (model, [*company, *domain]) for code, (model, domain) in actions.items()}

    @api.model
    @api.readonly
    def get_dashboard(self, company_ids=None, window_hours=24):
        """Everything the integration dashboard shows (called by the OWL client action).

        Restricted to the companies the user may see; only procure-to-pay users read it.
        Read-only (``@api.readonly``): Odoo 19 serves the RPC on the read replica when
        one is configured; it writes nothing (``tests/test_readonly_routes.py``).
        """
        user = self.env.user
        if not any(user.has_group(group) for group in HC_GROUPS):
            raise AccessError(self.env._("Only procure-to-pay users see the dashboard."))
        allowed = set(user.company_ids.ids)
        company_ids = [c for c in (company_ids or self.env.companies.ids) if c in allowed]
        window_hours = max(1, min(int(window_hours or 24), 24 * 31))
        metrics = self.sudo()
        values = metrics._compute_metrics(company_ids, window_hours)
        labels = {code: (label, unit) for code, label, unit in METRICS}
        thresholds = (
            self.env["hc.metric.threshold"].sudo().search([("company_id", "in", company_ids)])
        )
        breached = {t.metric for t in thresholds if t.state == "breached"}
        actions = metrics._card_actions(company_ids, window_hours)
        return {
            "companies": [{"id": c.id, "name": c.name} for c in user.company_ids.sorted("name")],
            "company_ids": company_ids,
            "window_hours": window_hours,
            "currency": self.env.company.currency_id.symbol,
            "cards": [
                {
                    "code": code,
                    "label": _card_label(labels[code][0]),
                    "unit": labels[code][1],
                    "value": values[code],
                    "group": "technical" if code in TECHNICAL_METRICS else "business",
                    "breached": code in breached,
                    "res_model": actions[code][0],
                    "domain": actions[code][1],
                }
                for code, _label, _unit in METRICS
            ],
            "rows": metrics._flow_rows(company_ids, window_hours),
            "charts": self._charts(company_ids, window_hours),
            "trends": self._trend_actions(),
            "exceptions": metrics._exception_breakdown(company_ids),
            "thresholds": [
                {
                    "id": t.id,
                    "name": t.display_name,
                    "state": t.state,
                    "last_value": t.last_value,
                }
                for t in thresholds
            ],
        }

    @api.model
    def _charts(self, company_ids, window_hours):
        """The dashboard's line charts: ``CHART_METRICS`` from the hourly snapshots of the
        last ``window_hours``, one dataset per company of ``company_ids`` (the reader's
        own: read with the reader's rights, so the snapshot company rule applies too).

        Every chart has the dates of its points (UTC, ``labels``), a dataset per company
        with its values at those dates (``None`` where it has no snapshot) and the unit of
        its axis, in which its values are: latencies in seconds, minutes or hours as their
        largest value reads best.
        """
        Snapshot = self.env["hc.metric.snapshot"]
        since = fields.Datetime.now() - timedelta(hours=window_hours)
        snapshots = Snapshot.browse()
        if company_ids:
            snapshots = Snapshot.with_context(allowed_company_ids=company_ids).search(
                [
                    ("company_id", "in", company_ids),
                    ("metric", "in", [code for code, _title, _unit in CHART_METRICS]),
                    ("date", ">=", since),
                ],
                order="date, id",
            )
        charts = []
        for code, title, unit in CHART_METRICS:
            points = snapshots.filtered(lambda s, code=code: s.metric == code)
            dates = sorted(set(points.mapped("date")))
            factor, axis = 1.0, "messages"
            if unit == "seconds":
                peak = max(points.mapped("value"), default=0.0)
                factor, axis = next(
                    (scale for scale in SECONDS_SCALES if peak >= scale[0]), SECONDS_SCALES[-1]
                )
            datasets = []
            for company in points.company_id.sorted("name"):
                values = {p.date: p.value for p in points if p.company_id == company}
                datasets.append(
                    {
                        "company_id": company.id,
                        "company": company.name,
                        "values": [
                            round(values[d] / factor, 3) if d in values else None for d in dates
                        ],
                    }
                )
            charts.append(
                {
                    "metric": code,
                    "title": title,
                    "unit": axis,
                    "labels": [fields.Datetime.to_string(d) for d in dates],
                    "datasets": datasets,
                }
            )
        return charts

    @api.model
    def _trend_actions(self):
        """``[{xmlid, name}]``: the trend charts this user may open."""
        trends = []
        for xmlid in TREND_ACTIONS:
            action = self.env.ref(xmlid, raise_if_not_found=False)
            if action and self.env[action.sudo().res_model].has_access("read"):
                trends.append({"xmlid": xmlid, "name": action.sudo().name})
        return trends

    @api.model
    def _prometheus(self, company_ids=None):
        """The metrics in Prometheus' text exposition format (bytes).

        :param company_ids: the companies whose figures are shown (the API passes the
            reader's own: an auditor of one facility never sees another's figures or
            connectors, security review F11); ``None``: every company (monitoring
            inside Odoo)
        """
        if company_ids is None:
            company_ids = self.env["res.company"].sudo().search([]).ids
        companies = tuple(company_ids) or (0,)
        registry = CollectorRegistry()
        messages = Gauge(
            "hc_inbox_messages",
            "Inbox messages by state",
            ["connector", "doc_type", "lane", "state"],
            registry=registry,
        )
        self.env.flush_all()
        Stat = self.env["hc.inbox.stat"]
        lane_figures = {}
        for fig in Stat._figures(["s"], companies):
            messages.labels(fig["connector"], fig["doc_type"] or "", fig["lane"], fig["state"]).set(
                fig["n"]
            )
            if fig["state"] in OPEN_STATES:
                depth_retries = lane_figures.setdefault(fig["lane"], [0, 0])
                depth_retries[0] += fig["n"]
                depth_retries[1] += fig["retries"]
        attempts = Gauge(
            "hc_inbox_retries", "Retries of messages not yet done", ["lane"], registry=registry
        )
        oldest = Gauge(
            "hc_inbox_oldest_open_seconds",
            "Age of the oldest open message",
            ["lane"],
            registry=registry,
        )
        depth = Gauge(
            "hc_inbox_queue_depth",
            "Open messages (received, processing, failed, waiting)",
            ["lane"],
            registry=registry,
        )
        now = fields.Datetime.now()
        firsts = self._oldest_open(companies)
        for lane in self.env["hc.lane"].sudo().with_context(active_test=False).search([]):
            count, retries = lane_figures.get(lane.code, (0, 0))
            first = firsts.get(lane.id)
            depth.labels(lane.code).set(count)
            attempts.labels(lane.code).set(retries)
            oldest.labels(lane.code).set((now - first).total_seconds() if first else 0)
        latency = Gauge(
            "hc_processing_seconds_avg",
            "Average processing time of messages done in the last hour",
            ["doc_type"],
            registry=registry,
        )
        done = {}
        for fig in Stat._figures(["f"], companies, self._window_start(1)):
            if fig["state"] == "done":
                n_seconds = done.setdefault(fig["doc_type"] or "", [0, 0.0])
                n_seconds[0] += fig["n"]
                n_seconds[1] += fig["seconds"]
        for doc_type, (count, seconds) in done.items():
            latency.labels(doc_type).set(seconds / count if count else 0)
        exceptions = Gauge(
            "hc_exceptions_open", "Open exceptions", ["type", "queue", "overdue"], registry=registry
        )
        self.env.cr.execute(
            """SELECT e.exception_type, coalesce(q.name->>'en_US', ''), (e.date_deadline < %s), count(*)
                 FROM hc_exception e LEFT JOIN hc_exception_queue q ON q.id = e.queue_id
                WHERE e.state NOT IN ('resolved', 'cancelled') AND e.company_id IN %s
             GROUP BY 1, 2, 3""",
            [now, companies],
        )
        for exc_type, queue, overdue, count in self.env.cr.fetchall():
            exceptions.labels(exc_type, queue, "true" if overdue else "false").set(count)
        bills = Gauge("hc_bills", "Vendor bills by match state", ["match_state"], registry=registry)
        amount = Gauge(
            "hc_bills_amount",
            "Amount of vendor bills by match state",
            ["match_state"],
            registry=registry,
        )
        self.env.cr.execute(
            """SELECT hc_match_state, count(*), coalesce(sum(amount_total_signed), 0)
                 FROM account_move
                WHERE hc_match_state IS NOT NULL AND state != 'cancel' AND company_id IN %s
             GROUP BY 1""",
            [companies],
        )
        for state, count, total in self.env.cr.fetchall():
            bills.labels(state).set(count)
            amount.labels(state).set(abs(float(total)))
        touchless = Gauge(
            "hc_touchless_rate",
            "Share of released bills released with no human action",
            registry=registry,
        )
        self.env.cr.execute(
            """SELECT count(*) FILTER (WHERE hc_touchless), count(*) FROM account_move
                WHERE hc_released AND company_id IN %s""",
            [companies],
        )
        done, released = self.env.cr.fetchone()
        touchless.set(done / released if released else 0)
        self._prometheus_more(registry, companies)
        self._prometheus_outbox(registry, companies)
        return generate_latest(registry)

    @api.model
    def _prometheus_more(self, registry, company_ids):
        """Per-route flows and latency percentiles (last hour), business figures per company."""
        route = ["connector", "lane", "doc_type"]
        flows = Gauge(
            "hc_messages_last_hour",
            "Messages accepted, processed, failed (retrying now), dead and retries in the "
            "last hour",
            [*route, "outcome"],
            registry=registry,
        )
        route_depth = Gauge(
            "hc_route_queue_depth", "Open messages per route", route, registry=registry
        )
        route_oldest = Gauge(
            "hc_route_oldest_open_seconds",
            "Age of the oldest open message per route",
            route,
            registry=registry,
        )
        api_latency = Gauge(
            "hc_api_latency_ms",
            "API latency percentiles of the last hour",
            [*route, "quantile"],
            registry=registry,
        )
        processing = Gauge(
            "hc_processing_seconds",
            "Processing latency (accepted to applied) percentiles of the last hour",
            [*route, "quantile"],
            registry=registry,
        )
        companies = self.env["res.company"].sudo().browse(company_ids).exists()
        for row in self._flow_rows(companies.ids, 1):
            labels = (row["connector"], row["lane"], row["doc_type"] or "")
            for outcome in ("accepted", "processed", "failed", "dead", "retries"):
                flows.labels(*labels, outcome).set(row[outcome])
            route_depth.labels(*labels).set(row["queue_depth"])
            route_oldest.labels(*labels).set(row["oldest_open_age"])
            for quantile in ("p50", "p95", "p99"):
                q = str(int(quantile[1:]) / 100)
                api_latency.labels(*labels, q).set(row[f"api_latency_{quantile}"])
                processing.labels(*labels, q).set(row[f"processing_{quantile}"])
        business = Gauge(
            "hc_business",
            "Business figures per company (touchless rate over 30 days, in %)",
            ["company", "metric"],
            registry=registry,
        )
        for company in companies:
            values = self._compute_metrics(company.ids, 24)
            for code in BUSINESS_METRICS:
                business.labels(company.name, code).set(values[code])
        ages = Gauge(
            "hc_exceptions_open_by_age",
            "Open exceptions by age (days)",
            ["age"],
            registry=registry,
        )
        for bucket in self._exception_breakdown(companies.ids)["by_age"]:
            ages.labels(bucket["bucket"]).set(bucket["count"])
        breaches = Gauge(
            "hc_threshold_breached",
            "Alert thresholds currently breached (1) or healthy (0)",
            ["company", "metric", "threshold"],
            registry=registry,
        )
        thresholds = (
            self.env["hc.metric.threshold"].sudo().search([("company_id", "in", companies.ids)])
        )
        for threshold in thresholds:
            breaches.labels(threshold.company_id.name, threshold.metric, str(threshold.id)).set(
                1 if threshold.state == "breached" else 0
            )
        findings = Gauge(
            "hc_reconciliation_findings_open",
            "Open reconciliation findings per rule",
            ["rule"],
            registry=registry,
        )
        self.env.cr.execute(
            """SELECT split_part(dedup_key, ':', 2), count(*) FROM hc_exception
                WHERE dedup_key LIKE 'recon:%%' AND state NOT IN ('resolved', 'cancelled')
                  AND company_id IN %s
             GROUP BY 1""",
            [tuple(companies.ids) or (0,)],
        )
        for rule, count in self.env.cr.fetchall():
            findings.labels(rule).set(count)

    @api.model
    def _prometheus_outbox(self, registry, company_ids):
        """Outbound events by endpoint and state, oldest undelivered, circuit states."""
        events = Gauge(
            "hc_outbox_events",
            "Outbound events by endpoint, type and state",
            ["connector", "endpoint", "event_type", "state"],
            registry=registry,
        )
        oldest = Gauge(
            "hc_outbox_oldest_undelivered_seconds",
            "Age of the oldest event not yet delivered (pending, sending, failed)",
            ["endpoint"],
            registry=registry,
        )
        circuit = Gauge(
            "hc_outbox_circuit_open",
            "1 when the endpoint's circuit breaker is open or half-open",
            ["endpoint"],
            registry=registry,
        )
        now = fields.Datetime.now()
        self.env.cr.execute(
            """SELECT c.code, p.id, e.event_type, e.state, count(*),
                      min(e.occurred_at) FILTER (WHERE e.state IN ('pending', 'sending', 'failed'))
                 FROM hc_outbox_event e
                 JOIN hc_outbox_endpoint p ON p.id = e.endpoint_id
                 JOIN hc_connector c ON c.id = e.connector_id
                WHERE e.company_id IN %s
             GROUP BY 1, 2, 3, 4""",
            [company_ids],
        )
        first_open = {}
        for connector, endpoint, event_type, state, count, first in self.env.cr.fetchall():
            events.labels(connector, str(endpoint), event_type, state).set(count)
            if first and (endpoint not in first_open or first < first_open[endpoint]):
                first_open[endpoint] = first
        self.env.cr.execute(
            "SELECT id, circuit_state FROM hc_outbox_endpoint WHERE active AND company_id IN %s",
            [company_ids],
        )
        for endpoint, state in self.env.cr.fetchall():
            circuit.labels(str(endpoint)).set(0 if state == "closed" else 1)
            first = first_open.get(endpoint)
            oldest.labels(str(endpoint)).set((now - first).total_seconds() if first else 0)
