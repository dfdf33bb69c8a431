from datetime import UTC
from datetime import datetime
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from .hc_queue_mixin import auto_commit

PURGE_BATCH = 50_000


class HcRequestNonce(models.Model):
    """Nonces of signed requests seen within their timestamp window (replay protection).

    One row per (connector, nonce), written by the request that used it, in its own
    transaction: the unique index refuses a concurrent twin, and a nonce that was used
    and committed is refused until its window has passed.  Rows are purged after that.
    """

    _name = "hc.request.nonce"
    _description = "Signed request nonce (replay protection)"
    _log_access = False

    connector_id = fields.Many2one("hc.connector", required=True, ondelete="cascade")
    nonce = fields.Char(required=True)
    expires_at = fields.Datetime(
        required=True, index=True, help="After this the request's timestamp is out of window."
    )

    _connector_nonce_unique = models.UniqueIndex(
        "(connector_id, nonce)", "A nonce is used once per connector within its window."
    )

    @api.model
    def _remember(self, connector_id, nonce, timestamp, window_seconds):
        """Record a signed request's nonce; False when it was already used in its window.

        One statement: a new nonce is inserted; a nonce whose previous use has expired (not
        yet purged) is taken over; an unexpired one leaves the row alone and returns nothing.
        """
        expires_at = datetime.fromtimestamp(timestamp + window_seconds, UTC).replace(tzinfo=None)
        self.env.cr.execute(
            SQL(
                """INSERT INTO hc_request_nonce AS n (connector_id, nonce, expires_at)
                   VALUES (%s, %s, %s)
                   ON CONFLICT (connector_id, nonce) DO UPDATE
                       SET expires_at = EXCLUDED.expires_at
                       WHERE n.expires_at < (statement_timestamp() AT TIME ZONE 'UTC')
                   RETURNING id""",
                connector_id,
                nonce,
                expires_at,
            )
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _extend_window(self, connector_id, extra_seconds):
        """A connector's window grew: its nonces must be remembered that much longer."""
        if extra_seconds > 0:
            self.env.cr.execute(
                SQL(
                    "UPDATE hc_request_nonce SET expires_at = expires_at + %s "
                    "WHERE connector_id = %s",
                    timedelta(seconds=extra_seconds),
                    connector_id,
                )
            )

    @api.model
    def _cron_purge(self):
        """Delete expired nonces in batches (a busy connector writes one per request)."""
        total = 0
        while True:
            self.env.cr.execute(
                SQL(
                    """DELETE FROM hc_request_nonce WHERE id IN (
                           SELECT id FROM hc_request_nonce
                            WHERE expires_at < (now() AT TIME ZONE 'UTC') LIMIT %s)""",
                    PURGE_BATCH,
                )
            )
            deleted = self.env.cr.rowcount
            total += deleted
            if not auto_commit():
                return total
            time_left = self.env["ir.cron"]._commit_progress(
                deleted, remaining=1 if deleted == PURGE_BATCH else 0
            )
            if deleted < PURGE_BATCH or time_left <= 0:
                return total
