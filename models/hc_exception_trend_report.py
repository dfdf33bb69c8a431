from odoo import fields
from odoo import models
from odoo import tools
from odoo.tools import SQL

from .hc_exception import EXCEPTION_TYPES


class HcExceptionTrendReport(models.Model):
    """Exceptions opened and closed over time (graph per day): one row per event, the
    opening of every exception and the closing (resolved or cancelled) of closed ones."""

    _name = "hc.exception.trend.report"
    _description = "Exceptions opened and closed"
    _auto = False
    _order = "date desc"

    date = fields.Datetime(readonly=True)
    event = fields.Selection([("opened", "Opened"), ("closed", "Closed")], readonly=True)
    exception_id = fields.Many2one("hc.exception", string="Exception", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    queue_id = fields.Many2one("hc.exception.queue", string="Queue", readonly=True)
    owner_id = fields.Many2one("res.users", string="Owner", readonly=True)
    exception_type = fields.Selection(EXCEPTION_TYPES, string="Type", readonly=True)
    event_count = fields.Integer(string="Exceptions", readonly=True)
    amount = fields.Monetary(string="Amount at stake", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %s AS (
                SELECT e.id * 2 AS id, e.create_date AS date, 'opened' AS event,
                       e.id AS exception_id, e.company_id, e.currency_id, e.queue_id,
                       e.owner_id, e.exception_type, 1 AS event_count, e.amount
                  FROM hc_exception e
             UNION ALL
                SELECT e.id * 2 + 1, coalesce(e.resolved_date, e.write_date), 'closed',
                       e.id, e.company_id, e.currency_id, e.queue_id, e.owner_id,
                       e.exception_type, 1, e.amount
                  FROM hc_exception e
                 WHERE e.state IN ('resolved', 'cancelled')
            )""",
                SQL.identifier(self._table),
            )
        )
