from odoo import fields
from odoo import models
from odoo import tools
from odoo.tools import SQL

from .hc_exception import EXCEPTION_TYPES


class HcApWorkloadReport(models.Model):
    """The AP supervisor's view of open exceptions: per queue and per clerk, how many,
    how many overdue, the value they block and how old they are (pivot and graph).

    One row per open exception.  ``value_blocked`` is the blocked bill's amount shared
    among its open exceptions, so a bill held by two exceptions counts once in a total.
    """

    _name = "hc.ap.workload.report"
    _description = "AP workload"
    _auto = False
    _order = "date_raised"

    exception_id = fields.Many2one("hc.exception", string="Exception", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    queue_id = fields.Many2one("hc.exception.queue", string="Queue", readonly=True)
    owner_id = fields.Many2one("res.users", string="Clerk", readonly=True)
    exception_type = fields.Selection(EXCEPTION_TYPES, string="Type", readonly=True)
    state = fields.Selection(
        [("new", "New"), ("in_progress", "In progress"), ("waiting", "Waiting")], readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Vendor", readonly=True)
    move_id = fields.Many2one("account.move", string="Bill", readonly=True)
    date_raised = fields.Datetime(readonly=True)
    date_deadline = fields.Datetime(string="Due", readonly=True)
    open_count = fields.Integer(string="Open items", readonly=True)
    overdue_count = fields.Integer(string="Overdue items", readonly=True)
    amount = fields.Monetary(string="Amount at stake", readonly=True)
    value_blocked = fields.Monetary(
        readonly=True,
        help="The blocked bill's amount (company currency), shared among its open "
        "exceptions: a bill counts once.",
    )
    age_days = fields.Float(string="Age (days)", readonly=True, aggregator="avg")
    age_bucket = fields.Selection(
        [
            ("0_1", "Under a day"),
            ("1_3", "1 to 3 days"),
            ("3_7", "3 to 7 days"),
            ("7", "A week or more"),
        ],
        string="Ageing",
        readonly=True,
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %s AS (
                SELECT e.id, e.id AS exception_id, e.company_id, c.currency_id,
                       e.queue_id, e.owner_id, e.exception_type, e.state, e.partner_id,
                       e.move_id, e.create_date AS date_raised, e.date_deadline,
                       1 AS open_count,
                       CASE WHEN e.date_deadline < (now() AT TIME ZONE 'UTC') THEN 1 ELSE 0 END
                           AS overdue_count,
                       e.amount,
                       CASE WHEN m.hc_match_state = 'blocked'
                            THEN abs(m.amount_total_signed)
                                 / count(*) OVER (PARTITION BY e.move_id)
                            ELSE 0 END AS value_blocked,
                       extract(epoch FROM (now() AT TIME ZONE 'UTC') - e.create_date) / 86400.0
                           AS age_days,
                       CASE WHEN e.create_date > (now() AT TIME ZONE 'UTC') - interval '1 day' THEN '0_1'
                            WHEN e.create_date > (now() AT TIME ZONE 'UTC') - interval '3 days' THEN '1_3'
                            WHEN e.create_date > (now() AT TIME ZONE 'UTC') - interval '7 days' THEN '3_7'
                            ELSE '7' END AS age_bucket
                  FROM hc_exception e
                  JOIN res_company c ON c.id = e.company_id
             LEFT JOIN account_move m ON m.id = e.move_id
                 WHERE e.state NOT IN ('resolved', 'cancelled')
            )""",
                SQL.identifier(self._table),
            )
        )
