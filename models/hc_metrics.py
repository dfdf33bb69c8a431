from datetime import timedelta

from prometheus_client import CollectorRegistry
from prometheus_client import Gauge
from prometheus_client import generate_latest

from odoo import api
from odoo import fields
from odoo import models

OPEN_STATES = ("received", "processing", "failed", "waiting")
# A lane worker that has not run for this long while messages wait is not alive.
STALE_CRON_MINUTES = 15


class HcMetrics(models.AbstractModel):
    """Health and Prometheus metrics of the integration, computed from the database.

    Every figure is an aggregate query, so any worker of any server answers the same and
    nothing is lost with a restart (no in-process counters).
    """

    _name = "hc.metrics"
    _description = "Integration metrics"

    @api.model
    def _health(self):
        """``(healthy, details)``: database reachable, lane workers alive, oldest message."""
        now = fields.Datetime.now()
        self.env.cr.execute(
            """SELECT l.code, count(m.id), min(m.received_at)
                 FROM hc_lane l
            LEFT JOIN hc_inbox_message m ON m.lane_id = l.id AND m.state IN %s
                WHERE l.active
             GROUP BY l.code""",
            [OPEN_STATES],
        )
        lanes = {}
        for code, depth, oldest in self.env.cr.fetchall():
            lanes[code] = {
                "queue_depth": depth,
                "oldest_age_seconds": (now - oldest).total_seconds() if oldest else 0,
            }
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
            "lanes": lanes,
            "stalled_workers": stale,
        }

    @api.model
    def _prometheus(self):
        """The metrics in Prometheus' text exposition format (bytes)."""
        registry = CollectorRegistry()
        messages = Gauge(
            "hc_inbox_messages",
            "Inbox messages by state",
            ["connector", "doc_type", "lane", "state"],
            registry=registry,
        )
        self.env.cr.execute(
            """SELECT c.code, m.doc_type, l.code, m.state, count(*)
                 FROM hc_inbox_message m
                 JOIN hc_connector c ON c.id = m.connector_id
                 JOIN hc_lane l ON l.id = m.lane_id
             GROUP BY 1, 2, 3, 4"""
        )
        for connector, doc_type, lane, state, count in self.env.cr.fetchall():
            messages.labels(connector, doc_type or "", lane, state).set(count)
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
        self.env.cr.execute(
            """SELECT l.code, count(m.id), coalesce(sum(greatest(m.attempts - 1, 0)), 0), min(m.received_at)
                 FROM hc_lane l
            LEFT JOIN hc_inbox_message m ON m.lane_id = l.id AND m.state IN %s
             GROUP BY l.code""",
            [OPEN_STATES],
        )
        for lane, count, retries, first in self.env.cr.fetchall():
            depth.labels(lane).set(count)
            attempts.labels(lane).set(retries)
            oldest.labels(lane).set((now - first).total_seconds() if first else 0)
        latency = Gauge(
            "hc_processing_seconds_avg",
            "Average processing time of messages done in the last hour",
            ["doc_type"],
            registry=registry,
        )
        self.env.cr.execute(
            """SELECT doc_type, avg(extract(epoch FROM finished_at - received_at))
                 FROM hc_inbox_message
                WHERE state = 'done' AND finished_at > %s
             GROUP BY doc_type""",
            [now - timedelta(hours=1)],
        )
        for doc_type, seconds in self.env.cr.fetchall():
            latency.labels(doc_type or "").set(float(seconds or 0))
        exceptions = Gauge(
            "hc_exceptions_open", "Open exceptions", ["type", "queue", "overdue"], registry=registry
        )
        self.env.cr.execute(
            """SELECT e.exception_type, coalesce(q.name->>'en_US', ''), (e.date_deadline < %s), count(*)
                 FROM hc_exception e LEFT JOIN hc_exception_queue q ON q.id = e.queue_id
                WHERE e.state NOT IN ('resolved', 'cancelled')
             GROUP BY 1, 2, 3""",
            [now],
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
                WHERE hc_match_state IS NOT NULL AND state != 'cancel'
             GROUP BY 1"""
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
            "SELECT count(*) FILTER (WHERE hc_touchless), count(*) FROM account_move WHERE hc_released"
        )
        done, released = self.env.cr.fetchone()
        touchless.set(done / released if released else 0)
        self._prometheus_outbox(registry)
        return generate_latest(registry)

    @api.model
    def _prometheus_outbox(self, registry):
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
             GROUP BY 1, 2, 3, 4"""
        )
        first_open = {}
        for connector, endpoint, event_type, state, count, first in self.env.cr.fetchall():
            events.labels(connector, str(endpoint), event_type, state).set(count)
            if first and (endpoint not in first_open or first < first_open[endpoint]):
                first_open[endpoint] = first
        self.env.cr.execute("SELECT id, circuit_state FROM hc_outbox_endpoint WHERE active")
        for endpoint, state in self.env.cr.fetchall():
            circuit.labels(str(endpoint)).set(0 if state == "closed" else 1)
            first = first_open.get(endpoint)
            oldest.labels(str(endpoint)).set((now - first).total_seconds() if first else 0)
