import logging
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .hc_queue_mixin import auto_commit

_logger = logging.getLogger(__name__)

BATCH = 1000
CLASSIFICATIONS = [
    ("public", "Public"),
    ("internal", "Internal"),
    ("confidential", "Confidential (financial)"),
    ("restricted", "Restricted (bank details, PHI)"),
]
# A message is still needed while an open exception points at it, or while a bill it
# created or named is unpaid or not matched: its payload is the evidence for the clerk.
STILL_NEEDED = SQL(
    """(EXISTS (SELECT 1 FROM hc_exception e
                 WHERE e.message_id = m.id AND e.state NOT IN ('resolved', 'cancelled'))
        OR EXISTS (SELECT 1 FROM account_move am
                    WHERE am.state != 'cancel'
                      AND (am.payment_state NOT IN ('paid', 'in_payment', 'reversed')
                           OR am.hc_match_state IN ('blocked', 'pending'))
                      AND (am.hc_message_id = m.id
                           OR (m.result_model = 'account.move' AND am.id IN (
                               SELECT r.value::int FROM jsonb_array_elements_text(
                                   CASE WHEN jsonb_typeof(m.result_ids) = 'array'
                                        THEN m.result_ids ELSE '[]'::jsonb END) r)))))"""
)


class HcRetentionPolicy(models.Model):
    """How long inbox payloads and processed messages are kept, per data classification.

    The retention cron (daily) applies it to every connector of the classification:
    - after ``payload_days`` a finished (done or dead) message loses its raw payload and
      its canonical document; its metadata, content hash and idempotency key stay (a
      resubmission is still recognised) and it is marked purged;
    - after ``log_days`` the finished message itself is deleted.
    In the archive (``hc.inbox.message.archive``) both apply by whole months: a month of
    archived messages is purged, then deleted, once all of it is past the age.
    Never purged: unfinished messages, messages an open exception points at, messages
    whose bill is unpaid or not matched.  The audit log is never purged (append-only).
    0 days keeps forever.
    """

    _name = "hc.retention.policy"
    _description = "Payload and log retention"
    _order = "data_classification"

    data_classification = fields.Selection(CLASSIFICATIONS, required=True)
    payload_days = fields.Integer(
        string="Keep payloads (days)", default=0, help="0: keep payloads forever."
    )
    log_days = fields.Integer(
        string="Keep processed messages (days)",
        default=0,
        help="Finished messages older than this are deleted. 0: keep forever.",
    )
    last_run = fields.Datetime(readonly=True)
    last_purged_payloads = fields.Integer(readonly=True)
    last_deleted_messages = fields.Integer(readonly=True)

    _classification_unique = models.Constraint(
        "UNIQUE(data_classification)", "One retention policy per data classification."
    )
    _days_positive = models.Constraint(
        "CHECK(payload_days >= 0 AND log_days >= 0)", "Retention days cannot be negative."
    )

    @api.constrains("payload_days", "log_days")
    def _check_days(self):
        for policy in self:
            if policy.log_days and policy.payload_days and policy.log_days < policy.payload_days:
                raise ValidationError(
                    self.env._("Messages cannot be deleted before their payload is purged.")
                )

    def _commit(self, processed):
        if auto_commit() and self.env.context.get("ir_cron_progress_id"):
            return self.env["ir.cron"]._commit_progress(processed)
        return float("inf")

    @api.model
    def _cron_purge(self):
        for policy in self.sudo().search([]):
            policy._purge()

    def action_purge_now(self):
        self.env["hc.inbox.message"]._check_admin()
        for policy in self.sudo():
            policy._purge()
        return True

    def _candidates(self, days, extra):
        cutoff = fields.Datetime.now() - timedelta(days=days)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT m.id FROM hc_inbox_message m
                     JOIN hc_connector c ON c.id = m.connector_id
                    WHERE c.data_classification = %s
                      AND m.state IN ('done', 'dead')
                      AND COALESCE(m.finished_at, m.received_at) < %s
                      AND %s
                      AND NOT %s
                    ORDER BY m.id
                    LIMIT %s
                      FOR UPDATE OF m SKIP LOCKED""",
                self.data_classification,
                cutoff,
                extra,
                STILL_NEEDED,
                BATCH,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _purge(self):
        """Apply this policy now; return ``(payloads purged, messages deleted)``."""
        self.ensure_one()
        purged = deleted = 0
        # deletions first: a message about to be deleted needs no purge
        if self.log_days:
            while ids := self._candidates(self.log_days, SQL("TRUE")):
                self.env.cr.execute(SQL("DELETE FROM hc_inbox_message WHERE id IN %s", tuple(ids)))
                deleted += len(ids)
                if not self._commit(len(ids)):
                    break
        if self.payload_days:
            while ids := self._candidates(self.payload_days, SQL("m.payload_purged_at IS NULL")):
                self.env.cr.execute(
                    SQL(
                        """UPDATE hc_inbox_message
                              SET payload = NULL, document = NULL, payload_purged_at = %s
                            WHERE id IN %s""",
                        fields.Datetime.now(),
                        tuple(ids),
                    )
                )
                purged += len(ids)
                if not self._commit(len(ids)):
                    break
        # the archive (done messages past the archive age): by whole months
        archive_purged, archive_deleted = self.env["hc.inbox.message.archive"]._purge_months(
            self.data_classification, self.payload_days, self.log_days
        )
        purged += archive_purged
        deleted += archive_deleted
        # the database cleared links to deleted messages (ON DELETE SET NULL)
        self.env.invalidate_all()
        if purged or deleted:
            self.env["hc.audit.log"]._log(
                "retention_purge",
                self,
                data={
                    "classification": self.data_classification,
                    "payloads_purged": purged,
                    "messages_deleted": deleted,
                    "payload_days": self.payload_days,
                    "log_days": self.log_days,
                },
            )
            _logger.info(
                "Retention %s: %d payloads purged, %d messages deleted",
                self.data_classification,
                purged,
                deleted,
            )
        self.write(
            {
                "last_run": fields.Datetime.now(),
                "last_purged_payloads": purged,
                "last_deleted_messages": deleted,
            }
        )
        self._commit(0)
        return purged, deleted
