"""The lane worker: claims inbox messages, runs them, commits their outcomes.

``hc.inbox.message`` is the record (what arrived, its state, its outcome transitions);
this is the runner, the way OCA ``queue_job`` separates ``queue.job`` from its job
runner.  Each lane (``hc.lane``) has ``worker_count`` ``ir.cron`` jobs calling
:meth:`HcLaneWorker._cron_process_lane`; any number of them, on any number of Odoo
servers sharing the database, drain a lane together.

The transaction story
---------------------

Odoo runs a cron job in one transaction at REPEATABLE READ.  A lane run is a loop of
batches; for each batch:

1. **Claim** (:meth:`~HcLaneWorker._claim`).  Commit whatever came before and start a
   fresh transaction at READ COMMITTED: under REPEATABLE READ a message claimed and
   committed by another worker after our snapshot would raise a serialization failure
   instead of being skipped.  Requeue what dead workers left (:meth:`_requeue_stale`),
   then ``SELECT ... FOR UPDATE SKIP LOCKED`` up to ``batch_size`` due messages whose
   earlier siblings (same correlation key) are not pending, set them ``processing`` with
   ``attempts + 1``, ``started_at`` and ``claim_token`` (the worker's database session:
   backend pid and start time) and **commit** (commit point 1).  The claim is durable:
   the row locks go with this commit, the ``processing`` state keeps other workers off.

2. **Run** each message (:meth:`_process_one`), in the transaction that follows the
   claim (READ COMMITTED for its first statement, Odoo's REPEATABLE READ after each
   commit).  Parsing and applying run in two savepoints: what parsing learnt (the
   canonical document, the correlation key) survives a failed apply.  A failure rolls
   the apply's savepoint back, then :meth:`_failure_outcome` sorts the exception into
   an :class:`Outcome` (wait, retry later, dead, or "not ours": re-raised), and the
   outcome is written on the message in the same transaction: a failure never leaves a
   half-applied document and is never lost.  Audit entries are held (``_hold``) and
   chained just before the commit, so the chain's lock is held only by a committing
   worker.  Once parsed, a message's business object (its correlation key: an
   invoice's purchase order) is held by the worker until it commits
   (:meth:`_lock_object`, a tried advisory lock): a worker finding it held steps the
   message back instead of waiting on the other's rows.  The documents of one object in
   a claimed batch (the partial bills of an order at month end) are applied by that one
   worker, in order, and created together when their processor allows it.

3. **Commit the outcome** (:meth:`_commit_outcome`, commit point 2) after every message
   through ``ir.cron._commit_progress``, which also reports progress and the time left.
   A serialization failure at this commit (another worker updated a row this message
   touched after its apply: a waiting message it released, say) rolls this message's
   work back and records a retry instead of failing the run.  Documents whose records
   are created together (:class:`CreateBatch`: a month-end invoice run) are the
   exception: they commit together at the end of the batch, after the combined create.
   Out of time, the rest of the batch is unclaimed (``processing`` back to ``received``,
   the attempt uncounted) and committed, and the cron asks to run again at once.

4. Anything that escapes a batch (a bug, a lost connection) **rolls the transaction
   back** and requeues the batch's claims in a fresh READ COMMITTED transaction, retried
   on deadlock (:meth:`_requeue_after_crash`, commit point 3): at once when it was
   contention with another worker (a few times per run), after a minute otherwise, and
   then the run fails so Odoo logs it.

What survives a crash (the worker killed, its server or PostgreSQL restarted): every
committed outcome, and every committed claim.  Nothing uncommitted survives, so no
message is ever half applied.  A claim whose session is gone from ``pg_stat_activity``
is requeued by the next claim of any worker of the lane, or by the reconciliation cron
for a lane whose workers are all gone; a claim older than
:data:`STALE_PROCESSING_MINUTES` is requeued even if its session seems alive (a pooler
may hide sessions).  A message that was claimed its connector's maximum number of times
and never finished goes ``dead`` (``worker_died``) instead of killing workers forever.

Inside Odoo's test transaction (:func:`~.hc_queue_mixin.auto_commit` false) nothing is
committed and nothing is rolled back: the same code runs in the test's transaction.
"""

import logging
import time
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta

import psycopg2
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

try:
    import resource
except ImportError:  # not a POSIX system: no per-process CPU limit either
    resource = None

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools import config

from ..api_contract.errors import PermanentError
from ..api_contract.errors import TransientError
from ..api_contract.errors import WaitingForDependency
from .hc_processor import DeferredCreate
from .hc_queue_mixin import AFTER_COMMIT
from .hc_queue_mixin import TRANSIENT_PGCODES
from .hc_queue_mixin import auto_commit
from .hc_queue_mixin import is_contention
from .hc_reference_resolver import BATCH_MEMO

_logger = logging.getLogger(__name__)

# A message claimed by a worker that died stays "processing" until the worker's database
# session is seen gone, or at the latest this long after its claim; then it is requeued.
STALE_PROCESSING_MINUTES = 15
# A run finding nothing to claim waits (at most this long, this many times) for messages
# due within that time (stepped back behind another worker's) instead of ending.
NAP_SECONDS = 2
MAX_NAPS_PER_RUN = 10
# Contention retries a lane worker makes in one run before it leaves the rest to the next.
MAX_CONTENTIONS_PER_RUN = 5
# A database session (row ``a`` of pg_stat_activity): its pid alone could be reused.
SESSION_OF = SQL("a.pid || '@' || extract(epoch FROM a.backend_start)")
# The claiming worker's own session.
SESSION_TOKEN = SQL(
    "(SELECT %s FROM pg_stat_activity a WHERE a.pid = pg_backend_pid())", SESSION_OF
)
# Namespace of the advisory locks a lane worker holds on the business objects it applies.
OBJECT_LOCK_NAMESPACE = 7319
# Inbox states that hold back the later messages of their business object.
PENDING_STATES = ("received", "processing", "failed", "waiting")

# Errors that say the document itself is wrong: final.
INVALID_DOCUMENT_ERRORS = (UserError, ValidationError, AccessError, ValueError, KeyError, TypeError)

# Outcome kinds of a failed message.
WAIT = "wait"  # parked until its prerequisite ``key`` is processed
RETRY = "retry"  # due again after the connector's backoff (dead once attempts run out)
DEAD = "dead"  # final until an administrator replays it


@dataclass(frozen=True)
class Outcome:
    """What becomes of a message whose processing raised.

    ``exceptions`` are ``hc.exception._raise`` keyword dicts (``exception_type``,
    ``name``, ``dedup_key`` and field values) raised after the failed apply was rolled
    back, so they survive it.
    """

    kind: str
    code: str
    message: str
    key: str = None
    exceptions: tuple = field(default=())


def _cpu_budget():
    """CPU seconds a lane run may use: half of Odoo's per-request CPU limit (0: none)."""
    limit = config.get("limit_time_cpu") or 0
    return limit / 2 if limit > 0 else 0


def _cpu_deadline(start):
    """The process CPU time (``time.process_time()``) past which a lane run starting at
    ``start`` ends, or None (no limit).

    Its budget (:func:`_cpu_budget`) from its start, and never nearer than half a budget
    to the CPU limit Odoo set on this worker process (``RLIMIT_CPU``, renewed once per
    unit of work in a prefork server).  A cron worker's unit of work runs every job ready
    on the database: the second lane job of one unit, given a budget of its own, ran past
    the limit, and Odoo's ``SIGXCPU`` handler raised in the middle of a batch, which then
    waited a minute (found by the month-end spike at 1,000 invoices).
    """
    budget = _cpu_budget()
    if not budget:
        return None
    deadline = start + budget
    if resource is not None:
        soft, _hard = resource.getrlimit(resource.RLIMIT_CPU)
        if soft != resource.RLIM_INFINITY:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            left = soft - (usage.ru_utime + usage.ru_stime)
            deadline = min(deadline, start + left - budget / 2)
    return deadline


class CreateBatch:
    """Documents of one claimed batch waiting to have their records created together.

    Each joined with the keys of what it touches (an invoice: its reference, amount and
    purchase orders); a document sharing a key with one waiting flushes the batch first,
    so no document is ever applied without seeing the records of those before it.  If the
    combined ``create`` fails, or finishing one of them does, those messages are applied
    again one at a time, with the ordinary outcomes (dead, retry, waiting).
    """

    def __init__(self, worker):
        self.worker = worker
        self.env = worker.env
        self.items = []
        self.keys = set()

    def conflicts(self, keys):
        return bool(self.keys & keys)

    def message_ids(self):
        """The messages waiting here: earlier ones of the batch, created before the next."""
        return tuple(message.id for message, _deferred in self.items)

    def add(self, message, keys, deferred):
        self.items.append((message, deferred))
        self.keys |= keys
        if message.correlation_key:
            self.keys.add(f"corr:{message.correlation_key}")

    def flush(self):
        items, self.items, self.keys = self.items, [], set()
        if not items:
            return
        by_model = {}
        for message, deferred in items:
            # one create per model and company (recordsets hash without their env)
            key = (deferred.model._name, deferred.model.env.company.id)
            by_model.setdefault(key, []).append((message, deferred))
        retry = self.env["hc.inbox.message"]
        for group in by_model.values():
            model = group[0][1].model
            messages = self.env["hc.inbox.message"].union(*(m for m, _d in group))
            mark = self.env["hc.audit.log"]._pending_mark()
            try:
                with self.env.cr.savepoint():
                    records = model.create([deferred.vals for _m, deferred in group])
                    finished = model.browse()
                    for (message, deferred), record in zip(group, records, strict=True):
                        if self.worker._finish_deferred(message, deferred, record):
                            finished |= record
                        else:
                            # not finished: gone again, applied alone below
                            record.unlink()
                            retry |= message
                    after = group[0][1].after  # one processor per model
                    if after and finished:
                        after(finished)
            except Exception:
                _logger.info("Batch create of %s failed; applying one by one", model._name)
                self.env["hc.audit.log"]._forget_pending(mark)
                self.env.invalidate_all()
                retry |= messages
        for message in retry:
            self.worker._process_one(message)


class HcLaneWorker(models.AbstractModel):
    """Runs a lane's inbox messages: claim, run, commit, requeue (see the module
    docstring for the transaction story).  Methods take the messages as arguments."""

    _name = "hc.lane.worker"
    _description = "Integration lane worker"

    # ------------------------------------------------------------------------------
    # The run loop
    # ------------------------------------------------------------------------------

    @api.model
    def _cron_process_lane(self, lane_id, max_batches=None):
        """Entry point of a lane's cron workers: drain the lane batch by batch.

        Progress is committed after every message, except while documents wait in memory
        for their records to be created together (:class:`CreateBatch`): then at the end
        of the batch, when they are all done.
        """
        lane = self.env["hc.lane"].browse(lane_id).exists()
        if not lane or not lane.active:
            return
        batches = contentions = naps = 0
        cpu_deadline = _cpu_deadline(time.process_time())
        while max_batches is None or batches < max_batches:
            if cpu_deadline is not None and time.process_time() > cpu_deadline and auto_commit():
                # Odoo stops a worker past its CPU limit (limit_time_cpu), and re-runs a
                # job that reports work left in the same worker, under the same limit: end
                # this run and wake the lane, so the next run starts with a fresh limit.
                self._end_run_with_work_left(lane)
                return
            messages = self._claim(lane, lane.batch_size)
            if not messages:
                if naps < MAX_NAPS_PER_RUN and self._nap_until_due(lane):
                    naps += 1
                    continue
                break
            batches += 1
            try:
                if not self._process_batch(messages):
                    return  # out of time: the cron is rescheduled at once
            except Exception as exc:
                if not auto_commit():
                    raise
                # Its claims must not sit in "processing" until the stale requeue: back in
                # the queue.  Contention with another worker (a row both touched, e.g. a
                # waiting message one releases while the other claims it) is normal under
                # REPEATABLE READ: the batch is due again at once and the worker goes on,
                # a few times per run.  Anything else fails the job (Odoo logs it and
                # counts the failure) and the batch waits a minute.
                self.env.cr.rollback()
                self.env.invalidate_all()
                contention = is_contention(exc)
                self._requeue_after_crash(messages, delay_seconds=0 if contention else 60)
                if not contention:
                    raise
                contentions += 1
                _logger.info("Lane %s: contention, batch requeued: %s", lane.code, exc)
                if contentions >= MAX_CONTENTIONS_PER_RUN:
                    self._end_run_with_work_left(lane)
                    return

    def _end_run_with_work_left(self, lane):
        """End a lane run that leaves due messages: trigger the lane and notify the cron
        workers at this commit, even when a due trigger made a new one needless.

        Odoo's cron workers look at the due jobs only when notified or once a minute, and
        the notification of a trigger already due was consumed while the job ran (this
        process's own included): without a new one the lane waits for the minute (seen in
        the month-end spike: 350 bills waited 60 s once the POSTs, whose notifications had
        kept the workers looking, stopped)."""
        lane._trigger_safely()
        self.env["hc.lane"]._notify_if(True)
        self.env["ir.cron"]._commit_progress(0)

    def _nap_until_due(self, lane):
        """Nothing to claim, but a message of ``lane`` is due within a second or two (one
        that stepped back behind another worker's): wait for it rather than end the run
        (no POST would wake the lane for it: it would wait for the cron's next minute).
        Only in production (a committing worker); return whether it waited."""
        if not auto_commit():
            return False
        self.env.cr.execute(
            SQL(
                """SELECT EXTRACT(EPOCH FROM min(next_attempt_at) - %(now)s)
                     FROM hc_inbox_message
                    WHERE lane_id = %(lane)s AND state IN ('received', 'failed', 'waiting')
                      AND next_attempt_at <= %(soon)s""",
                now=fields.Datetime.now(),
                soon=fields.Datetime.now() + timedelta(seconds=NAP_SECONDS),
                lane=lane.id,
            )
        )
        wait = self.env.cr.fetchone()[0]
        if wait is None:
            return False
        self.env.cr.commit()  # pylint: disable=invalid-commit
        time.sleep(min(max(float(wait), 0.0), NAP_SECONDS) + 0.05)
        return True

    def _process_batch(self, messages):
        """Process claimed ``messages``; return False when the cron ran out of time."""
        # what the batch's documents look up again and again (hc.reference.resolver's
        # _hc_memo), forgotten at the batch's end and at any commit or rollback
        memo = BATCH_MEMO.set({"cr": self.env.cr})
        # releases and parkings of the batch's messages, handled after each commit
        after_commit = AFTER_COMMIT.set({"keys": set(), "parked": {}} if auto_commit() else None)
        try:
            return self._process_claimed(messages)
        finally:
            BATCH_MEMO.reset(memo)
            AFTER_COMMIT.reset(after_commit)  # what a rolled-back batch released: nothing

    def _process_claimed(self, messages):
        group = CreateBatch(self)
        uncommitted = messages.browse()
        audit = self.env["hc.audit.log"]
        for index, message in enumerate(messages):
            # audit entries are chained when the worker commits, not at a savepoint's flush
            with audit._hold():
                self._process_one(message, group=group)
            uncommitted |= message
            if group.items or not auto_commit():
                continue  # committed with the documents created together
            if not self._commit_outcome(uncommitted):
                # Out of time: give back what this batch claimed and did not process
                # (else it would sit in "processing" until the stale requeue), and
                # report work left so that Odoo runs the cron again at once.
                rest = messages[index + 1 :]
                self._unclaim(rest)
                self._report_work_left(max(len(rest), 1))
                return False
            uncommitted = messages.browse()
        with audit._hold():
            group.flush()
        if auto_commit():
            if uncommitted and not self._commit_outcome(uncommitted):
                self._report_work_left(1)
                return False
        else:
            audit._flush_pending()  # at commit, in production
            self.env.flush_all()
        return True

    def _report_work_left(self, remaining):
        """Out of the cron's time with ``remaining`` messages left: Odoo runs the job again
        at once in this worker (or, after ten runs, reschedules it "as soon as possible":
        at the cron workers' next look, which only a notification brings before the
        minute), so the cron workers are notified at this commit too (as in
        :meth:`_end_run_with_work_left`)."""
        self.env["hc.lane"]._notify_if(True)
        self.env["ir.cron"]._commit_progress(remaining=remaining)

    # ------------------------------------------------------------------------------
    # One message: run it, sort its failure, record the outcome
    # ------------------------------------------------------------------------------

    def _process_one(self, message, group=None):
        """Parse and apply one claimed message in its own savepoints; record the outcome.

        :param group: a :class:`CreateBatch` the worker creates records with: a document
            whose processor defers its creation joins it instead of being done here
        """
        message.ensure_one()
        message = message.sudo()
        # What earlier messages of the batch left pending is written now, outside this
        # message's handling: a conflict there is the batch's (contention), not this
        # message's failure, and leaves a transaction only the batch can roll back.
        self.env.cr.flush()
        audit = self.env["hc.audit.log"]
        mark = audit._pending_mark()
        try:
            # Two steps, two savepoints: what parsing learnt (the canonical document, its
            # correlation key) is kept even when applying it fails or has to wait.
            with self.env.cr.savepoint():
                processor, parsed = message._parse_step()
            if message.correlation_key and not self._lock_object(message.correlation_key):
                # another worker is applying this business object right now (its batch is
                # not committed): step back rather than wait on its rows
                message._defer()
                return
            keys = group is not None and processor._batch_keys(message, parsed.document)
            in_group = group.message_ids() if keys else ()
            if (
                not keys
                and group is not None
                and group.conflicts({f"corr:{message.correlation_key}"})
            ):
                group.flush()  # an earlier message of the same business object waits there
            if message.correlation_key and self._has_pending_predecessor(message, in_group):
                message._defer()
                return
            if keys and group.conflicts(keys):
                group.flush()  # what it creates must be visible to this document
            with self.env.cr.savepoint():
                result = message._apply_step(processor, parsed, prepare=bool(keys))
            if isinstance(result, DeferredCreate):
                group.add(message, keys, result)
                return
        except Exception as exc:
            self.env.invalidate_all()
            audit._forget_pending(mark)  # what the rolled-back apply queued
            outcome = self._failure_outcome(message, exc)
            if outcome is None:
                raise
            self._record_failure(message, outcome)
        else:
            message._mark_done(result)

    def _failure_outcome(self, message, exc):
        """Sort an exception raised while processing ``message`` into an :class:`Outcome`.

        Transient problems (a :class:`TransientError`, database contention, anything
        unexpected) are retried with backoff; a missing prerequisite parks the message;
        invalid content is final.  ``None``: not a message's failure (a database error
        other than contention): the worker's batch handles it.  Override to sort a new
        kind of error (the ``edi_oca`` idiom of ``_swallable_exceptions``).
        """
        if isinstance(exc, WaitingForDependency):
            review = ()
            if exc.review:
                # parked for a person: the review exception outlives the rolled-back apply
                review = dict(exc.review)
                review.setdefault("message_id", message.id)
                review.setdefault("company_id", message.company_id.id)
                review = (review,)
            return Outcome(
                WAIT,
                "waiting_for_dependency",
                self.env._("Waiting for %s to arrive.", exc.key),
                key=exc.key,
                exceptions=review,
            )
        if isinstance(exc, TransientError):
            return Outcome(RETRY, exc.code, exc.message)
        if isinstance(exc, psycopg2.OperationalError):
            if exc.pgcode in TRANSIENT_PGCODES:
                return Outcome(RETRY, "database_contention", str(exc))
            return None
        if isinstance(exc, PermanentError):
            return Outcome(DEAD, exc.code, exc.message, exceptions=tuple(exc.exceptions))
        if isinstance(exc, INVALID_DOCUMENT_ERRORS):
            return Outcome(DEAD, "invalid_document", str(exc))
        _logger.error("Unexpected error processing inbox message %s", message.id, exc_info=exc)
        return Outcome(RETRY, "unexpected_error", repr(exc))

    def _record_failure(self, message, outcome):
        """Write ``outcome`` on ``message`` (after the rollback of its failed apply)."""
        for vals in outcome.exceptions:
            vals = dict(vals)
            self.env["hc.exception"]._raise(
                vals.pop("exception_type"), vals.pop("name"), vals.pop("dedup_key"), **vals
            )
        if outcome.kind == WAIT:
            message._mark_waiting(outcome.key)
        elif outcome.kind == RETRY:
            message._mark_failed(outcome.code, outcome.message)
        else:
            message._mark_dead(outcome.code, outcome.message)

    def _finish_deferred(self, message, deferred, record):
        """Finish a document whose record a :class:`CreateBatch` created.

        :return: whether it is done; if not, the record is gone again (the savepoint)
            and the caller applies the message the ordinary way
        """
        message.ensure_one()
        audit = self.env["hc.audit.log"]
        mark = audit._pending_mark()
        try:
            with self.env.cr.savepoint():
                result = deferred.finish(record)
                message.sudo()._mark_done(result)
        except Exception:
            audit._forget_pending(mark)
            self.env.invalidate_all()
            return False
        return True

    def _lock_object(self, key):
        """Hold the business object ``key`` (a purchase order, a vendor) until this
        worker commits; False when another worker holds it.

        A transaction-level advisory lock, tried, never waited on: two workers that
        claimed messages of one object before either had parsed them (the correlation key
        is only known once parsed) would otherwise both update its rows (the order lines'
        invoiced quantities), the second blocked until the first commits its batch, then
        failing to serialize and losing its whole batch.  The one that finds the object
        held defers that message (uncounted, due again a second later, kept behind its
        predecessors by the claim).  Within one transaction the lock is re-entrant.
        """
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [OBJECT_LOCK_NAMESPACE, key]
        )
        return self.env.cr.fetchone()[0]

    def _has_pending_predecessor(self, message, ignore_ids=()):
        """Whether an earlier message of the same business object is still pending.

        The same rule as the claim's ``NOT EXISTS`` (:meth:`_claim`), for one message:
        a predecessor parked on this very message (an acknowledgment or a receipt that
        arrived before its purchase order) does not count: it waits for this one.  Nor
        does one parked on the business object itself: a receipt waiting for purchase
        order X must not hold back the invoice of X (which then waits for X as well),
        else the invoice, arrived before X, would hold back X: a deadlock.

        ``ignore_ids``: earlier messages of this worker's batch waiting to be created
        together with this one (a :class:`CreateBatch`), in order: not pending for it.
        """
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT 1 FROM hc_inbox_message WHERE correlation_key = %s AND id < %s
                   AND state IN %s
                   AND NOT (state = 'waiting' AND (waiting_key IS NOT DISTINCT FROM %s
                                                   OR waiting_key = correlation_key))
                   AND NOT id = ANY(%s)
                   LIMIT 1""",
                message.correlation_key,
                message.id,
                PENDING_STATES,
                message.natural_key,
                list(ignore_ids),
            )
        )
        return bool(self.env.cr.fetchone())

    # ------------------------------------------------------------------------------
    # Claims and their commit points
    # ------------------------------------------------------------------------------

    @api.model
    def _claim(self, lane, limit):
        """Lock and mark ``processing`` up to ``limit`` due messages of ``lane``.

        ``FOR UPDATE SKIP LOCKED`` lets any number of workers on any number of Odoo
        servers claim disjoint batches; the ``processing`` state is committed at once so
        the claim survives the row locks being released by later commits.  A message
        whose earlier sibling (same correlation key) is still pending is not claimable:
        that is what keeps updates to one business object in arrival order.  An earlier
        sibling due on the same lane does not hold a message back: it is due in the same
        claim, and the batch is applied in id order; should it not be claimed (the batch
        full before it, another worker locking it at that instant),
        :meth:`_has_pending_predecessor` defers the later one before it is applied.
        """
        Inbox = self.env["hc.inbox.message"]
        self.env.flush_all()
        if auto_commit():
            # A fresh READ COMMITTED transaction: under Odoo's default REPEATABLE READ a
            # row claimed and committed by another worker after our snapshot would raise
            # a serialization failure instead of being skipped or re-checked.
            self.env.cr.commit()  # pylint: disable=invalid-commit
            self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        # Before every batch: what a worker killed meanwhile had claimed (a sibling, or
        # this cron's previous run) is handed over now rather than at a cron's next run.
        self._requeue_stale(lane)
        self.env.cr.execute(self._claim_query(lane, limit))
        # applied in arrival order (siblings of one object in this batch: the earlier first)
        ids = sorted(row[0] for row in self.env.cr.fetchall())
        if not ids:
            return Inbox.browse()
        self.env.cr.execute(
            SQL(
                """UPDATE hc_inbox_message
                      SET state = 'processing', attempts = COALESCE(attempts, 0) + 1,
                          started_at = %s, finished_at = NULL, claim_token = %s
                    WHERE id IN %s""",
                fields.Datetime.now(),
                SESSION_TOKEN,
                tuple(ids),
            )
        )
        messages = Inbox.browse(ids)
        messages.invalidate_recordset(
            ["state", "attempts", "started_at", "finished_at", "claim_token"]
        )
        if auto_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return messages

    @api.model
    def _claim_query(self, lane, limit):
        """The claim's ``SELECT ... FOR UPDATE SKIP LOCKED`` (:meth:`_claim`).

        Due messages in the order they fell due (``next_attempt_at``, then id): the order
        of the lane's claim index, so the claim reads the batch it takes and stops, however
        many messages are due, done or parked.  Ordered by id alone, PostgreSQL walked the
        primary key past every done message before the first due one (44 ms a claim in the
        month-end spike at 10,000 invoices, growing with the inbox).  A new message falls
        due when it arrives, so this is arrival order but for retries; the batch is then
        applied in id order, and a message whose earlier sibling this claim did not take is
        deferred before it is applied (:meth:`_has_pending_predecessor`).
        """
        return SQL(
            """
            SELECT m.id FROM hc_inbox_message m
             WHERE m.lane_id = %(lane)s
               AND m.state IN ('received', 'failed', 'waiting')
               AND m.next_attempt_at <= %(now)s
               AND NOT EXISTS (
                   SELECT 1 FROM hc_inbox_message p
                    WHERE m.correlation_key IS NOT NULL
                      AND p.correlation_key = m.correlation_key
                      AND p.id < m.id
                      AND p.state IN %(pending)s
                      -- a predecessor parked on this very message waits for it;
                      -- one parked on the object itself (a receipt waiting for its
                      -- PO) does not hold back other documents of that object, which
                      -- would otherwise hold back the object when it comes
                      AND NOT (p.state = 'waiting'
                               AND (p.waiting_key IS NOT DISTINCT FROM m.natural_key
                                    OR p.waiting_key = p.correlation_key))
                      -- a predecessor due on this lane is due in this very claim:
                      -- the batch applies both, in id order (the partial bills of one
                      -- order, once parsed, are not let through one per batch); should
                      -- it not be claimed (the batch full, another worker's lock), the
                      -- worker's own check before applying defers this one
                      AND NOT (p.lane_id = m.lane_id
                               AND p.state IN ('received', 'failed', 'waiting')
                               AND p.next_attempt_at <= %(now)s))
             ORDER BY m.next_attempt_at, m.id
             LIMIT %(limit)s
             FOR UPDATE OF m SKIP LOCKED
            """,
            lane=lane.id,
            limit=limit,
            now=fields.Datetime.now(),
            pending=PENDING_STATES,
        )

    def _commit_outcome(self, messages):
        """Commit these processed messages; return the cron's time left.

        Writes made after the apply's savepoint (the message's state, releasing the
        messages that waited for it) are flushed by the commit, where another worker's
        concurrent update of one of those rows raises a serialization failure.  The
        message's work is then rolled back and the message retried like any transient
        failure, instead of failing the whole cron run and leaving its batch claimed.
        """
        # The business objects these messages may have held back in other lanes, and the
        # lane, read now: after the commit a read would start a transaction before
        # _release_committed chooses its isolation level.
        objects = {m.correlation_key for m in messages if m.correlation_key}
        lane = messages.lane_id[:1]
        try:
            self.env["hc.audit.log"]._flush_pending()  # the chain's lock until the commit
            left = self.env["ir.cron"]._commit_progress(len(messages))
        except psycopg2.OperationalError as exc:
            if exc.pgcode not in TRANSIENT_PGCODES:
                raise
            self.env.cr.rollback()
            self.env.invalidate_all()
            self._forget_after_commit()  # what the rolled-back work released or parked
            _logger.info("Inbox messages %s: contention at commit, retried: %s", messages.ids, exc)
            for message in messages:
                message._mark_failed("database_contention", str(exc))
            return self.env["ir.cron"]._commit_progress(len(messages))
        self._release_committed(objects, lane)
        return left

    def _forget_after_commit(self):
        after_commit = AFTER_COMMIT.get()
        if after_commit:
            after_commit["keys"].clear()
            after_commit["parked"].clear()

    def _release_committed(self, objects, lane):
        """Right after a commit of outcomes: wake the messages waiting for what it
        processed, in a fresh READ COMMITTED transaction, and commit.

        Two workers meet here without either waiting or failing to serialize:

        - a message this commit processed releases the messages parked on its keys
          (``hc.inbox.message._release_waiting``); a waiting message another worker
          holds right now (claimed, or released by a third) is skipped: whoever holds it
          reads the prerequisite in a snapshot taken after this commit;
        - a message this commit parked is looked at again: its prerequisite may have been
          committed by another worker after this transaction's snapshot, whose release,
          run before this parking was committed, did not find it waiting.  One of the two
          looks sees the other's commit (each reads after its own commit), so no message
          sleeps through its prerequisite until its next poll.

        And the lanes other than this worker's ``lane`` that hold due messages of the
        business objects committed (``objects``, correlation keys) are woken: a message
        held back by an earlier one of its object in another lane (a purchase order
        behind its receipt, claimed to be parked again) was due but not claimable when its
        lane's worker last looked, and that worker ended its run; nothing else would wake
        it before the cron's next minute (the fault suite's reverse order: 70 s).
        """
        after_commit = AFTER_COMMIT.get()
        if not after_commit or not (after_commit["keys"] or after_commit["parked"] or objects):
            return
        keys, parked = list(after_commit["keys"]), dict(after_commit["parked"])
        self._forget_after_commit()
        cr = self.env.cr
        cnx = getattr(cr, "_cnx", None)
        # Right after the commit no statement has run yet; should one have (a hook after
        # the commit; a test's transaction, never committed) this one goes with its work.
        fresh = cnx is not None and cnx.info.transaction_status == TRANSACTION_STATUS_IDLE
        if fresh:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        self.env.invalidate_all()
        Inbox = self.env["hc.inbox.message"].sudo()
        met = []
        for message in Inbox.browse(list(parked)):
            key = parked[message.id]
            if message.state != "waiting" or message.waiting_key != key:
                continue
            try:
                processor = self.env[f"hc.processor.{message.doc_type}"]
                if processor._dependency_met(message, key):
                    met.append(message.id)
            except Exception:  # its poll looks again; never the batch's failure
                _logger.exception(
                    "Inbox message %s: its prerequisite could not be read", message.id
                )
        cr.cache.pop("hc_invoice_orders", None)  # (the invoice's check keeps what it found)
        cr.execute(
            SQL(
                """SELECT id FROM hc_inbox_message
                    WHERE state = 'waiting' AND (waiting_key = ANY(%s::varchar[]) OR id = ANY(%s::int4[]))
                      FOR UPDATE SKIP LOCKED""",
                keys,
                met,
            )
        )
        released = Inbox.browse(sorted(row[0] for row in cr.fetchall()))
        lanes = released.lane_id
        if objects:
            cr.execute(
                SQL(
                    """SELECT DISTINCT lane_id FROM hc_inbox_message
                        WHERE correlation_key = ANY(%s::varchar[]) AND lane_id <> %s
                          AND state IN ('received', 'failed', 'waiting')
                          AND next_attempt_at <= %s""",
                    list(objects),
                    lane.id if lane else 0,
                    fields.Datetime.now(),
                )
            )
            lanes |= self.env["hc.lane"].browse(row[0] for row in cr.fetchall())
        if released:
            released.write({"state": "received", "next_attempt_at": fields.Datetime.now()})
        if lanes:
            lanes._trigger_safely()
        if fresh:
            cr.commit()  # pylint: disable=invalid-commit

    def _unclaim(self, messages):
        """Put claimed messages that were not processed back in the queue, uncounted."""
        if not messages:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE hc_inbox_message
                      SET state = 'received', attempts = GREATEST(COALESCE(attempts, 1) - 1, 0),
                          started_at = NULL, claim_token = NULL
                    WHERE id IN %s AND state = 'processing'""",
                tuple(messages.ids),
            )
        )
        messages.invalidate_recordset(["state", "attempts", "started_at", "claim_token"])

    def _requeue_after_crash(self, messages, delay_seconds=60):
        """Claimed messages a crashed batch left in ``processing``: due again after
        ``delay_seconds``; committed.

        Their attempt stays counted, so a message that keeps crashing its worker reaches
        its connector's maximum and goes dead through the stale-claim rule.  This must not
        fail in turn: the worker's database connection goes back to Odoo's pool alive, so
        claims left behind would look owned until the stale delay.  It runs in a fresh
        READ COMMITTED transaction (rows another worker changed meanwhile are re-read, not
        a serialization failure) and is retried on a deadlock.
        """
        if not messages:
            return
        for attempt in range(5):
            self.env.cr.rollback()
            try:
                self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                self.env.cr.execute(
                    SQL(
                        """UPDATE hc_inbox_message
                              SET state = 'received', started_at = NULL, claim_token = NULL,
                                  next_attempt_at = date_trunc('second', now() AT TIME ZONE 'UTC')
                                                    + make_interval(secs => %s)
                            WHERE id IN %s AND state = 'processing'""",
                        delay_seconds,
                        tuple(messages.ids),
                    )
                )
                self.env["ir.cron"]._commit_progress(0)
                return
            except psycopg2.OperationalError as exc:
                if not is_contention(exc) or attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    @api.model
    def _requeue_stale(self, lane=None, minutes=STALE_PROCESSING_MINUTES):
        """Give back messages whose worker died mid-batch (they are never lost).

        A claim records the claiming worker's database session: once that session is gone
        (the worker was killed, its server or PostgreSQL restarted) whatever it had not
        committed was rolled back, and its messages are requeued at once.  Any claim older
        than ``minutes`` is requeued too (a worker outlives Odoo's time limits only when
        something is badly wrong; a connection pooler may also hide sessions).

        ``lane``: only that lane (a lane worker tidies its own lane before claiming);
        without it every lane (the reconciliation, which also covers a lane whose workers
        are dead).  A message that was claimed its connector's maximum number of times and
        never finished probably kills the worker (memory, timeout): it goes ``dead`` with
        that reason instead of looping, and can be replayed once understood.
        :return: ``(requeued ids, dead ids)``
        """
        Inbox = self.env["hc.inbox.message"]
        now = fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT m.id, m.attempts >= c.max_attempts
                     FROM hc_inbox_message m JOIN hc_connector c ON c.id = m.connector_id
                    WHERE m.state = 'processing' %s
                      AND (m.started_at < %s
                           OR (m.claim_token IS NOT NULL AND NOT EXISTS (
                               SELECT 1 FROM pg_stat_activity a WHERE %s = m.claim_token)))
                      FOR UPDATE OF m SKIP LOCKED""",
                SQL("AND m.lane_id = %s", lane.id) if lane else SQL(""),
                now - timedelta(minutes=minutes),
                SESSION_OF,
            )
        )
        rows = self.env.cr.fetchall()
        requeue = [mid for mid, exhausted in rows if not exhausted]
        dead = [mid for mid, exhausted in rows if exhausted]
        if requeue:
            self.env.cr.execute(
                SQL(
                    """UPDATE hc_inbox_message
                          SET state = 'received', next_attempt_at = %s, claim_token = NULL
                        WHERE id IN %s""",
                    now,
                    tuple(requeue),
                )
            )
        if dead:
            self.env.cr.execute(
                SQL(
                    """UPDATE hc_inbox_message
                          SET state = 'dead', finished_at = %s, error_code = 'worker_died',
                              error_message = %s
                        WHERE id IN %s""",
                    now,
                    self.env._(
                        "The worker processing this message stopped before finishing, as "
                        "many times as the connector allows attempts: it may crash workers. "
                        "Investigate, then replay."
                    ),
                    tuple(dead),
                )
            )
        if dead:
            Inbox.browse(dead).invalidate_recordset()
            Inbox.browse(dead).filtered(lambda m: m.doc_type == "invoice")._raise_invoice_refused()
        if rows:
            _logger.warning(
                "Stale processing messages%s: %d requeued, %d dead",
                f" of lane {lane.code}" if lane else "",
                len(requeue),
                len(dead),
            )
            Inbox.invalidate_model(
                [
                    "state",
                    "next_attempt_at",
                    "finished_at",
                    "error_code",
                    "error_message",
                    "claim_token",
                ]
            )
        return requeue, dead
