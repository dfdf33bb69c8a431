import operator

from odoo import api
from odoo import fields
from odoo import models

from .hc_metrics import METRICS

COMPARATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


class HcMetricThreshold(models.Model):
    """An alert: a metric of a company compared with a value, and who is told.

    Evaluated by the ``metric_thresholds`` reconciliation rule (its cron): a breach opens
    one ``threshold_breach`` exception for the owning team (queue) or user, with an
    activity; later runs leave it alone while the breach lasts and resolve it the first
    run the metric is healthy again.
    """

    _name = "hc.metric.threshold"
    _description = "Metric alert threshold"
    _order = "company_id, metric, id"

    active = fields.Boolean(default=True)
    metric = fields.Selection(
        [(code, label) for code, label, _unit in METRICS], required=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, index=True
    )
    comparator = fields.Selection(
        [(">", "above"), (">=", "at or above"), ("<", "below"), ("<=", "at or below")],
        default=">",
        required=True,
    )
    value = fields.Float(required=True)
    window_hours = fields.Integer(
        string="Window (hours)",
        default=24,
        required=True,
        help="Period the flows (accepted, dead, latencies...) are counted over.",
    )
    queue_id = fields.Many2one("hc.exception.queue", string="Owning team")
    user_id = fields.Many2one("res.users", string="Owner", help="Told in person (activity).")
    severity = fields.Selection(
        [("low", "Low"), ("medium", "Medium"), ("high", "High")], default="high", required=True
    )
    state = fields.Selection(
        [("unknown", "Not evaluated"), ("ok", "Healthy"), ("breached", "Breached")],
        default="unknown",
        required=True,
        readonly=True,
    )
    last_value = fields.Float(readonly=True)
    last_checked = fields.Datetime(readonly=True)

    _window_positive = models.Constraint(
        "CHECK(window_hours > 0)", "The window must be at least one hour."
    )

    @api.depends("metric", "comparator", "value", "company_id")
    def _compute_display_name(self):
        labels = dict(self._fields["metric"].selection)
        for threshold in self:
            threshold.display_name = (
                f"{labels.get(threshold.metric, '')} {threshold.comparator} "
                f"{threshold.value:g} ({threshold.company_id.name or ''})"
            )

    def _dedup_key(self):
        return f"recon:metric_thresholds:{self.id}"

    @api.model
    def _evaluate(self, companies):
        """Compare every active threshold of ``companies``; return the breaches as findings."""
        Metrics = self.env["hc.metrics"].sudo()
        cache = {}
        findings = []
        now = fields.Datetime.now()
        for threshold in self.sudo().search([("company_id", "in", companies.ids)]):
            key = (threshold.company_id.id, threshold.window_hours)
            if key not in cache:
                cache[key] = Metrics._compute_metrics([key[0]], key[1])
            value = float(cache[key][threshold.metric])
            breached = COMPARATORS[threshold.comparator](value, threshold.value)
            threshold.write(
                {
                    "state": "breached" if breached else "ok",
                    "last_value": value,
                    "last_checked": now,
                }
            )
            if breached:
                findings.append(
                    {
                        "dedup_key": threshold._dedup_key(),
                        "exception_type": "threshold_breach",
                        "name": self.env._(
                            "Threshold breached: %(name)s (now %(value)s)",
                            name=threshold.display_name,
                            value=round(value, 2),
                        ),
                        "company_id": threshold.company_id.id,
                        "queue_id": threshold.queue_id.id,
                        "owner_id": threshold.user_id.id,
                        "severity": threshold.severity,
                        "res_model": self._name,
                        "res_id": threshold.id,
                        "description": self.env._(
                            "%(metric)s is %(value)s, %(cmp)s the threshold %(limit)s.",
                            metric=dict(self._fields["metric"].selection)[threshold.metric],
                            value=round(value, 2),
                            cmp=dict(self._fields["comparator"].selection)[threshold.comparator],
                            limit=threshold.value,
                        ),
                        "hint": self.env._(
                            "Open the integration dashboard; the exception closes by itself "
                            "once the metric is healthy."
                        ),
                        "details": {"metric": threshold.metric, "value": value},
                    }
                )
        return findings
