from odoo import fields
from odoo import models
from odoo import tools
from odoo.tools import SQL


class HcBillReleaseReport(models.Model):
    """Bills released for payment over time and how many with no human action: the
    touchless rate per day is the average of ``touchless_rate`` (100 or 0 per bill)."""

    _name = "hc.bill.release.report"
    _description = "Bills released for payment"
    _auto = False
    _order = "release_date desc"

    move_id = fields.Many2one("account.move", string="Bill", readonly=True)
    release_date = fields.Datetime(string="Released on", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Vendor", readonly=True)
    touchless = fields.Boolean(readonly=True)
    bill_count = fields.Integer(string="Bills released", readonly=True)
    touchless_count = fields.Integer(string="Touchless bills", readonly=True)
    touchless_rate = fields.Float(string="Touchless rate (%)", readonly=True, aggregator="avg")
    amount = fields.Monetary(string="Amount released", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %s AS (
                SELECT m.id, m.id AS move_id, m.hc_release_date AS release_date, m.company_id,
                       c.currency_id, m.partner_id, coalesce(m.hc_touchless, false) AS touchless,
                       1 AS bill_count,
                       CASE WHEN m.hc_touchless THEN 1 ELSE 0 END AS touchless_count,
                       CASE WHEN m.hc_touchless THEN 100.0 ELSE 0.0 END AS touchless_rate,
                       abs(m.amount_total_signed) AS amount
                  FROM account_move m
                  JOIN res_company c ON c.id = m.company_id
                 WHERE m.hc_released AND m.state != 'cancel' AND m.hc_release_date IS NOT NULL
            )""",
                SQL.identifier(self._table),
            )
        )
