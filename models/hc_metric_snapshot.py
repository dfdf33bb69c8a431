from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from .hc_metrics import METRICS

# The figures kept over time (hourly): the integration's queue and latency, the AP's
# blocked amount and workload.  The others are flows of a window, already trends.
SNAPSHOT_METRICS = (
    "queue_depth",
    "oldest_open_age",
    "processing_p50",
    "processing_p95",
    "api_latency_p95",
    "error_rate",
    "touchless_rate",
    "unmatched_bills",
    "unmatched_amount",
    "open_exceptions",
    "overdue_exceptions",
)
UNIT_LABELS = {
    "count": "count",
    "pct": "%",
    "seconds": "seconds",
    "ms": "milliseconds",
    "amount": "company currency",
}
KEEP_DAYS = 400


class HcMetricSnapshot(models.Model):
    """A metric of a company at one moment: the history behind the trend charts.

    Taken every hour by a cron (``_cron_snapshot``) from the same aggregates as the
    dashboard (``hc.metrics._compute_metrics``, processing latency over the last hour),
    kept ``KEEP_DAYS`` days.  Graph and pivot views show them over time.
    """

    _name = "hc.metric.snapshot"
    _description = "Metric snapshot"
    _order = "date desc, id desc"

    date = fields.Datetime(required=True, index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    metric = fields.Selection(
        [(code, label) for code, label, _unit in METRICS], required=True, index=True, readonly=True
    )
    unit = fields.Char(readonly=True)
    value = fields.Float(readonly=True, aggregator="avg")

    @api.model
    def _take(self, companies=None, window_hours=1):
        """One snapshot of ``SNAPSHOT_METRICS`` per company; returns the records."""
        companies = companies or self.env["res.company"].sudo().search([])
        units = {code: unit for code, _label, unit in METRICS}
        now = fields.Datetime.now()
        Metrics = self.env["hc.metrics"].sudo()
        vals = []
        for company in companies:
            values = Metrics._compute_metrics(company.ids, window_hours)
            vals += [
                {
                    "date": now,
                    "company_id": company.id,
                    "metric": code,
                    "unit": UNIT_LABELS[units[code]],
                    "value": float(values[code] or 0.0),
                }
                for code in SNAPSHOT_METRICS
            ]
        return self.sudo().create(vals)

    @api.model
    def _cron_snapshot(self):
        self._take()
        self.sudo().search(
            [("date", "<", fields.Datetime.now() - timedelta(days=KEEP_DAYS))]
        ).unlink()
