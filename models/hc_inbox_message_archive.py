import logging
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .hc_queue_mixin import auto_commit
from .hc_retention_policy import STILL_NEEDED

_logger = logging.getLogger(__name__)

# Done messages older than this many days leave the inbox for its archive (system
# parameter; 0: never).  Never fewer than ARCHIVE_MIN_DAYS: the dashboard's longest
# window (31 days) reads its latencies from the inbox itself.
ARCHIVE_DAYS_PARAM = "healthcare_p2p_integration.archive_after_days"
ARCHIVE_DAYS_DEFAULT = 90
ARCHIVE_MIN_DAYS = 32
ARCHIVE_BATCH = 5000
# Columns of the archive only (the rest are the inbox's, moved as they are).
ARCHIVE_ONLY = ("archived_at", "archive_month")


def moving(cr, on):
    """Tell the figures' triggers that rows move between inbox and archive (no change
    of any figure), for the rest of this transaction or until switched off."""
    cr.execute("SELECT set_config('hc.inbox_moving', %s, true)", ["on" if on else "off"])


class HcInboxMessageArchive(models.Model):
    """Done inbox messages past the archive age: the history, off the hot table.

    The same fields as ``hc.inbox.message`` (it is built from that model) and the same
    id: the audit log, the bills' ``result_ids`` and the figures keep pointing at them.
    Searchable like the inbox (same company rule, read-only); an integration
    administrator brings one back to replay it while its payload is retained.  The
    retention policy purges and deletes it by whole months (``archive_month``).
    """

    _name = "hc.inbox.message.archive"
    _inherit = "hc.inbox.message"
    _description = "Archived inbox message"
    _order = "id desc"

    archived_at = fields.Datetime(readonly=True)
    archive_month = fields.Date(
        readonly=True, index=True, help="Month the message was finished in (retention unit)."
    )

    @api.model
    def _columns_moved(self):
        """The columns both tables have (the inbox's stored fields), in one order."""
        self.env.cr.execute(
            """SELECT a.column_name FROM information_schema.columns a
                 JOIN information_schema.columns m
                   ON m.table_name = 'hc_inbox_message' AND m.column_name = a.column_name
                  AND m.table_schema = a.table_schema
                WHERE a.table_name = 'hc_inbox_message_archive'
                  AND a.table_schema = current_schema()
             ORDER BY a.ordinal_position"""
        )
        return [row[0] for row in self.env.cr.fetchall() if row[0] not in ARCHIVE_ONLY]

    @api.model
    def _archive_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(ARCHIVE_DAYS_PARAM)
        days = int(value) if value not in (None, False, "") else ARCHIVE_DAYS_DEFAULT
        return max(days, ARCHIVE_MIN_DAYS) if days > 0 else 0

    @api.model
    def _archive_done(self, days=None, limit=None):
        """Move done messages finished more than ``days`` ago (and no longer needed by an
        open exception or an unpaid or unmatched bill) to the archive, in batches that
        each commit in production.  Returns how many moved."""
        days = self._archive_days() if days is None else days
        if not days:
            return 0
        cutoff = fields.Datetime.now() - timedelta(days=days)
        columns = SQL(", ").join(SQL.identifier(c) for c in self._columns_moved())
        moved = 0
        self.env.flush_all()
        cr = self.env.cr
        while limit is None or moved < limit:
            batch = ARCHIVE_BATCH if limit is None else min(ARCHIVE_BATCH, limit - moved)
            moving(cr, True)
            try:
                cr.execute(
                    SQL(
                        """WITH gone AS (
                               DELETE FROM hc_inbox_message WHERE id IN (
                                   SELECT m.id FROM hc_inbox_message m
                                    WHERE m.state = 'done' AND m.finished_at < %(cutoff)s
                                      AND NOT %(needed)s
                                    ORDER BY m.finished_at
                                    LIMIT %(batch)s
                                      FOR UPDATE OF m SKIP LOCKED)
                               RETURNING *)
                           INSERT INTO hc_inbox_message_archive (%(columns)s, archived_at,
                                                                 archive_month)
                           SELECT %(columns)s, %(now)s, date_trunc('month', finished_at)::date
                             FROM gone""",
                        cutoff=cutoff,
                        needed=STILL_NEEDED,
                        batch=batch,
                        columns=columns,
                        now=fields.Datetime.now(),
                    )
                )
                count = cr.rowcount
            finally:
                moving(cr, False)
            moved += count
            if auto_commit():
                cr.commit()  # pylint: disable=invalid-commit
            if count < batch:
                break
        self.env.invalidate_all()
        if moved:
            _logger.info("Inbox archive: %d done messages moved", moved)
        return moved

    @api.model
    def _cron_archive(self):
        self._archive_done()

    def _restore(self, reason):
        """Bring these messages back into the inbox (same id, same state), audited;
        returns the inbox messages.  Refused once retention purged their payload."""
        self.env["hc.inbox.message"]._check_admin()
        self.check_access("read")
        self._check_replayable()  # the inbox's rule: refused once the payload is purged
        if not self:
            return self.env["hc.inbox.message"]
        audit = self.env["hc.audit.log"]
        for message in self.sudo():
            audit._log(
                "restore_from_archive",
                message,
                reason=reason,
                data={"archived_at": fields.Datetime.to_string(message.archived_at)},
            )
        columns = SQL(", ").join(SQL.identifier(c) for c in self._columns_moved())
        ids = tuple(self.ids)
        self.env.flush_all()
        cr = self.env.cr
        moving(cr, True)
        try:
            cr.execute(
                SQL(
                    """WITH back AS (DELETE FROM hc_inbox_message_archive WHERE id IN %(ids)s
                                     RETURNING *)
                       INSERT INTO hc_inbox_message (%(columns)s)
                       SELECT %(columns)s FROM back""",
                    ids=ids,
                    columns=columns,
                )
            )
        finally:
            moving(cr, False)
        self.env.invalidate_all()
        return self.env["hc.inbox.message"].browse(ids)

    def action_replay(self):
        """Restore the messages into the inbox, then ask for the replay's reason there."""
        restored = self._restore(self.env._("Restored from the archive to be replayed."))
        action = restored._open_wizard("replay")
        return action

    def action_mark_dead(self):
        raise UserError(self.env._("An archived message is done: there is nothing to stop."))

    def _replay(self, reason):
        self._restore(reason)._replay(reason)

    def _kill(self, reason):
        raise UserError(self.env._("An archived message is done: there is nothing to stop."))

    def write(self, vals):  # pylint: disable=method-required-super
        """The archive is history: only retention (SQL) changes it."""
        raise UserError(self.env._("Archived messages cannot be changed."))

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise UserError(self.env._("Messages reach the archive only from the inbox."))

    @api.model
    def _purge_months(self, classification, payload_days, log_days):
        """Retention on the archive, by whole months of ``archive_month``: delete the
        months entirely older than ``log_days``, purge the payloads of the months entirely
        older than ``payload_days``.  Returns ``(payloads purged, messages deleted)``."""
        cr = self.env.cr
        now = fields.Datetime.now()
        purged = deleted = 0
        self.env.flush_all()
        for days, delete in ((log_days, True), (payload_days, False)):
            if not days:
                continue
            cr.execute(
                """SELECT DISTINCT archive_month FROM hc_inbox_message_archive
                    WHERE archive_month < date_trunc('month', %s::timestamp)::date
                 ORDER BY 1""",
                [now - timedelta(days=days)],
            )
            for (month,) in cr.fetchall():
                if delete:
                    cr.execute(
                        """DELETE FROM hc_inbox_message_archive a USING hc_connector c
                            WHERE a.archive_month = %s AND c.id = a.connector_id
                              AND c.data_classification = %s""",
                        [month, classification],
                    )
                    deleted += cr.rowcount
                else:
                    cr.execute(
                        """UPDATE hc_inbox_message_archive a
                              SET payload = NULL, document = NULL, payload_purged_at = %s
                             FROM hc_connector c
                            WHERE a.archive_month = %s AND c.id = a.connector_id
                              AND c.data_classification = %s
                              AND a.payload_purged_at IS NULL""",
                        [now, month, classification],
                    )
                    purged += cr.rowcount
                if auto_commit():
                    cr.commit()  # pylint: disable=invalid-commit
        self.env.invalidate_all()
        return purged, deleted
