"""The queue skeleton the inbox and the outbox share: one vocabulary, one replay.

Both queues are tables of items that a cron worker claims, runs and records, like OCA
``queue_job``'s ``queue.job`` records.  What they share is declared here once:

========================  ==========================  ==========================
vocabulary                inbox (``hc.inbox.message``) outbox (``hc.outbox.event``)
========================  ==========================  ==========================
queued (claimable)        ``received``                 ``pending``
running (claimed)         ``processing``               ``sending``
retry later               ``failed``                   ``failed``
parked on a prerequisite  ``waiting``                  (none)
finished well             ``done``                     ``delivered``
given up                  ``dead``                     ``dead``
========================  ==========================  ==========================

The state *values* stay each queue's own (they are part of the inbox's public API and of
the outbox's metrics); the roles above are class attributes, so the shared code speaks
in roles.  Every other field has one name in both: ``attempts``, ``next_attempt_at``,
``started_at`` (when the running attempt was claimed), ``error_code``/``error_message``
(the last failure, cleared on success and on replay) and ``replay_count``.

The transaction helpers every cron-driven writer uses live here too: whether this is
Odoo's test transaction (never commit there) and whether a database error is contention
with a concurrent transaction (retry) rather than a fault.  How the inbox's lane worker
uses them is told in :mod:`.hc_lane_worker`.
"""

import contextvars

import psycopg2

from odoo import fields
from odoo import models
from odoo import modules
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

ADMIN_GROUP = "healthcare_p2p_integration.group_hc_integration_admin"

# Database errors worth retrying: another transaction held the row or the snapshot.
TRANSIENT_PGCODES = {
    psycopg2.errorcodes.SERIALIZATION_FAILURE,
    psycopg2.errorcodes.DEADLOCK_DETECTED,
    psycopg2.errorcodes.LOCK_NOT_AVAILABLE,
}
# The same errors as classes (psycopg2 raises these for TRANSIENT_PGCODES).
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


# Set by a lane worker (its thread) for the duration of a batch: the keys its messages
# released and the messages it parked, handled after each commit
# (``hc.lane.worker._release_committed``; see ``hc.inbox.message._release_waiting``).  Not
# in ``cr.cache``: Odoo empties that at every commit, before the worker reads it.
AFTER_COMMIT = contextvars.ContextVar("hc_after_commit", default=None)


def auto_commit():
    """Commit progress (per item, per batch) in production; never inside Odoo's test
    transaction, which the whole test shares and rolls back at its end.

    A test is recognised the way Odoo core does it (``mail.mail``, ``crm.team``...):
    ``odoo.modules.module.current_test``, which Odoo's own runner (``odoo-bin
    --test-enable``) and pytest-odoo both set while a test runs.
    """
    return not modules.module.current_test


def is_contention(exc):
    """Whether ``exc`` comes from a concurrent transaction (directly or as the follow-up
    "transaction is aborted" error of one)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TRANSIENT_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class HcQueueMixin(models.AbstractModel):
    """A queued item: claimed by a worker, retried with backoff, replayed or marked dead
    by an integration administrator (with a reason the audit log keeps).

    A model using it declares its ``state`` selection, the roles of its states
    (``_queue_state_*``), its wizard (``_replay_wizard``, ``_replay_wizard_field``), the
    audit actions of a replay and a kill, and how to wake its worker (:meth:`_queue_wake`).
    """

    _name = "hc.queue.mixin"
    _description = "Queued integration item"

    # The roles of the model's states (see the module docstring).
    _queue_state_queued = None
    _queue_state_running = None
    _queue_states_final = ()
    # States an administrator may mark dead from.
    _queue_states_killable = ()
    # Audit log actions of a replay and of a kill.
    _queue_audit_replay = "replay"
    _queue_audit_kill = "mark_dead"
    _replay_wizard = None
    _replay_wizard_field = None

    attempts = fields.Integer(readonly=True, default=0)
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    started_at = fields.Datetime(
        readonly=True, help="When a worker last claimed it (the attempt under way, if running)."
    )
    error_code = fields.Char(readonly=True, help="Stable code of the last failure.")
    error_message = fields.Text(readonly=True, help="The last failure, for people.")
    replay_count = fields.Integer(readonly=True, default=0)

    # ------------------------------------------------------------------------------
    # Outcome transitions shared by both queues
    # ------------------------------------------------------------------------------

    def _exhausted_reason(self, attempts, reason):
        """The error message of an item whose last allowed attempt failed."""
        return self.env._(
            "Retries exhausted after %(n)s attempts: %(reason)s", n=attempts, reason=reason
        )

    def _dead_vals(self, code, reason):
        return {"state": "dead", "error_code": code, "error_message": reason}

    def _mark_dead(self, code, reason):
        """Give up: no further attempt until an administrator replays it."""
        self.write(self._dead_vals(code, reason))

    # ------------------------------------------------------------------------------
    # Replay and mark dead (integration administrators)
    # ------------------------------------------------------------------------------

    def action_replay(self):
        return self._open_wizard("replay")

    def action_mark_dead(self):
        return self._open_wizard("kill")

    def _open_wizard(self, mode):
        self._check_admin()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Replay") if mode == "replay" else self.env._("Mark as dead"),
            "res_model": self._replay_wizard,
            "view_mode": "form",
            "target": "new",
            "context": {f"default_{self._replay_wizard_field}": self.ids, "default_mode": mode},
        }

    def _check_admin(self):
        """Integration administrators only, and only items of the companies they work for
        (the record rules)."""
        if not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(
                self.env._(
                    "Only an integration administrator may replay %s or mark them dead.",
                    self._description,
                )
            )
        self.check_access("write")

    def _check_replayable(self):
        """Refuse a replay of items a worker is running (hook: more refusals)."""
        busy = self.filtered(lambda r: r.state == self._queue_state_running)
        if busy:
            raise UserError(
                self.env._(
                    "Items being processed cannot be replayed: %s", busy.mapped("display_name")
                )
            )

    def _replay_audit_data(self):
        return {"previous_state": self.state, "error": self.error_code}

    def _replay_vals(self):
        """What a replay writes: queued again, due now, a fresh count of attempts."""
        return {
            "state": self._queue_state_queued,
            "attempts": 0,
            "next_attempt_at": fields.Datetime.now(),
            "error_code": False,
            "error_message": False,
            "replay_count": self.replay_count + 1,
        }

    def _queue_wake(self):
        """Wake the workers of these items (after a replay)."""
        raise NotImplementedError

    def _replay(self, reason):
        """Run items again from the start, keeping who asked and why in the audit log."""
        self._check_admin()
        if not (reason or "").strip():
            raise UserError(self.env._("A replay needs a reason."))
        self._check_replayable()
        audit = self.env["hc.audit.log"]
        for item in self.sudo():
            audit._log(
                self._queue_audit_replay, item, reason=reason, data=item._replay_audit_data()
            )
            item.write(item._replay_vals())
        self._queue_wake()

    def _kill(self, reason):
        """Stop retrying items (marked dead by an administrator, with the reason)."""
        self._check_admin()
        if not (reason or "").strip():
            raise UserError(self.env._("Marking dead needs a reason."))
        audit = self.env["hc.audit.log"]
        for item in self.sudo().filtered(lambda r: r.state in self._queue_states_killable):
            audit._log(self._queue_audit_kill, item, reason=reason, data=item._kill_audit_data())
            item._mark_dead("killed_by_admin", reason)

    def _kill_audit_data(self):
        return {"previous_state": self.state}
