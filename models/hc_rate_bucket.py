from psycopg2.extensions import ISOLATION_LEVEL_AUTOCOMMIT
from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ

from odoo import api
from odoo import fields
from odoo import models
from odoo import sql_db
from odoo.tools import SQL

from ..api_contract import rate_limit

# Tokens available now: the stored ones plus the refill since the last request, capped at
# the burst.  The same expression as api_contract.rate_limit.take(), on the locked row.
_AVAILABLE = """LEAST(%(burst)s::float8, b.tokens + %(rate)s::float8 * GREATEST(0.0,
    EXTRACT(EPOCH FROM (statement_timestamp() AT TIME ZONE 'UTC') - b.refilled_at)::float8))"""
TAKE_SQL = f"""
INSERT INTO hc_rate_bucket AS b (connector_id, tokens, refilled_at, granted)
VALUES (%(connector)s, %(burst)s::float8 - 1, statement_timestamp() AT TIME ZONE 'UTC', true)
ON CONFLICT (connector_id) DO UPDATE SET
    tokens = {_AVAILABLE} - CASE WHEN {_AVAILABLE} >= 1 THEN 1 ELSE 0 END,
    granted = {_AVAILABLE} >= 1,
    refilled_at = GREATEST(b.refilled_at, statement_timestamp() AT TIME ZONE 'UTC')
RETURNING b.granted, b.tokens
"""


class HcRateBucket(models.Model):
    """The token bucket of a rate-limited connector, shared by every worker and server.

    A request costs one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` run on its own
    autocommitted connection: the bucket row is locked for that statement only, never for
    the request's transaction, so a connector's requests are not serialized behind each
    other (and a rolled-back request still counts).  READ COMMITTED semantics (autocommit)
    make concurrent takes queue on the row and each see the previous one's result.
    """

    _name = "hc.rate.bucket"
    _description = "Connector rate limit bucket"
    _log_access = False

    connector_id = fields.Many2one("hc.connector", required=True, ondelete="cascade")
    tokens = fields.Float(help="Tokens left after the last request.")
    refilled_at = fields.Datetime(help="When the tokens were last computed (UTC).")
    granted = fields.Boolean(help="Whether the last request was let through.")

    _connector_unique = models.UniqueIndex("(connector_id)", "One bucket per connector.")

    @api.model
    def _take(self, connector_id, rate, burst):
        """Take one token for a request: ``(granted, retry_after_seconds)``.

        :param rate: tokens per second (> 0; unlimited connectors never get here)
        :param burst: bucket size (>= 1)
        """
        params = {"connector": connector_id, "rate": float(rate), "burst": float(burst)}
        with self.env.registry.cursor() as cr:
            real = isinstance(cr, sql_db.Cursor)  # in tests: a savepoint on the test cursor
            if real:
                cr.connection.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
            try:
                cr.execute(SQL(TAKE_SQL, **params))
                granted, tokens = cr.fetchone()
            finally:
                if real:
                    cr.connection.set_isolation_level(ISOLATION_LEVEL_REPEATABLE_READ)
        if granted:
            return True, 0
        return False, rate_limit.retry_after(tokens, rate)
