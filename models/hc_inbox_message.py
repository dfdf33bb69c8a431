import base64
import contextlib
import contextvars
import hashlib
import json
import logging
import time
from datetime import timedelta

import psycopg2

from odoo import api
from odoo import fields
from odoo import models
from odoo import modules
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools import config

from ..api_contract.errors import PermanentError
from ..api_contract.errors import TransientError
from ..api_contract.errors import WaitingForDependency
from ..canonical.render import document_sections
from ..delivery.backoff import retry_delay
from ..formats.pretty import pretty_text
from ..trust import crypto
from .hc_processor import DeferredCreate

_logger = logging.getLogger(__name__)

ACTIVE_STATES = ("received", "processing", "failed", "waiting")
FINAL_STATES = ("done", "dead")
# A message claimed by a worker that died stays "processing" until the worker's database
# session is seen gone, or at the latest this long after its claim; then it is requeued.
STALE_PROCESSING_MINUTES = 15
# A database session (row ``a`` of pg_stat_activity): its pid alone could be reused.
SESSION_OF = SQL("a.pid || '@' || extract(epoch FROM a.backend_start)")
# The claiming worker's own session.
SESSION_TOKEN = SQL(
    "(SELECT %s FROM pg_stat_activity a WHERE a.pid = pg_backend_pid())", SESSION_OF
)
# Database errors worth retrying: another transaction held the row or the snapshot.
TRANSIENT_PGCODES = {
    psycopg2.errorcodes.SERIALIZATION_FAILURE,
    psycopg2.errorcodes.DEADLOCK_DETECTED,
    psycopg2.errorcodes.LOCK_NOT_AVAILABLE,
}


# What says what was received, and from whom: set once when the message is accepted (a
# multi-row INSERT), and afterwards only by the encryption of a payload at rest, a key
# rotation and the retention purge.  ``write()`` refuses them to everyone else, superuser
# or not, so a replay always re-processes the bytes that arrived (security review F10).
RECEIVED_FIELDS = frozenset(
    {
        "payload",
        "payload_encrypted",
        "payload_size",
        "content_hash",
        "content_type",
        "connector_id",
        "company_id",
        "doc_type_id",
        "doc_type",
        "idempotency_key",
        "batch_ref",
        "batch_index",
        "received_at",
    }
)
# Set (in-process, never from a request) by the code paths that may rewrite the stored
# payload: a context key would be client-settable over RPC, a context variable is not.
_RECEIVED_WRITE = contextvars.ContextVar("hc_inbox_received_write", default=False)


@contextlib.contextmanager
def rewriting_received_payload():
    """Let this thread's code rewrite the stored payload (encryption, key rotation)."""
    token = _RECEIVED_WRITE.set(True)
    try:
        yield
    finally:
        _RECEIVED_WRITE.reset(token)


# Contention retries a lane worker makes in one run before it leaves the rest to the next.
MAX_CONTENTIONS_PER_RUN = 5


def _cpu_budget():
    """CPU seconds a lane run may use: half of Odoo's per-request CPU limit (0: none)."""
    limit = config.get("limit_time_cpu") or 0
    return limit / 2 if limit > 0 else 0


# The same errors as classes (psycopg2 raises these for TRANSIENT_PGCODES).
TRANSIENT_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


def _is_contention(exc):
    """Whether ``exc`` comes from a concurrent transaction (directly or as the follow-up
    "transaction is aborted" error of one)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TRANSIENT_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class CreateBatch:
    """Documents of one claimed batch waiting to have their records created together.

    Each joined with the keys of what it touches (an invoice: its reference, amount and
    purchase orders); a document sharing a key with one waiting flushes the batch first,
    so no document is ever applied without seeing the records of those before it.  If the
    combined ``create`` fails, or finishing one of them does, those messages are applied
    again one at a time, with the ordinary outcomes (dead, retry, waiting).
    """

    def __init__(self, env):
        self.env = env
        self.items = []
        self.keys = set()

    def conflicts(self, keys):
        return bool(self.keys & keys)

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
                        if message._finish_deferred(deferred, record):
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
            message._process_one()


# Byte strings whose presence in a vendor document means it may carry bank details.
BANK_MARKERS = (b"bank", b"iban", b"account_number", b"acc_number", b"routing", b"aba")


def _auto_commit():
    """Commit per message in production; never inside Odoo's test transaction.

    A test is recognised the way Odoo core does it (``mail.mail``, ``crm.team``...):
    ``odoo.modules.module.current_test``, which Odoo's own runner (``odoo-bin
    --test-enable``) and pytest-odoo both set while a test runs.
    """
    return not modules.module.current_test


class HcInboxMessage(models.Model):
    """The durable inbox: every accepted document, raw, with its processing state.

    A POST only stores the raw payload here and answers 202; lane workers (ir.cron) claim
    messages with ``FOR UPDATE SKIP LOCKED``, parse them into the canonical model, apply
    them to Odoo records and record the outcome.  Nothing accepted is ever deleted by the
    pipeline: a message ends ``done`` or ``dead`` (with the reason), and can be replayed.
    """

    _name = "hc.inbox.message"
    _inherit = ["hc.replayable"]
    _replay_wizard = "hc.inbox.replay.wizard"
    _replay_wizard_field = "message_ids"
    _description = "Integration inbox message"
    _order = "id desc"
    _rec_name = "display_ref"

    display_ref = fields.Char(compute="_compute_display_ref", string="Reference")
    connector_id = fields.Many2one(
        "hc.connector", required=True, index=True, ondelete="restrict", readonly=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    doc_type_id = fields.Many2one(
        "hc.document.type", string="Document type", required=True, readonly=True
    )
    doc_type = fields.Char(related="doc_type_id.code", store=True, index=True)
    lane_id = fields.Many2one("hc.lane", required=True, index=True, readonly=True)
    content_type = fields.Char(readonly=True)
    payload = fields.Binary(
        attachment=False,
        readonly=True,
        groups="healthcare_p2p_integration.group_hc_integration_admin",
        hc_encrypted="payload_encrypted",
        help="The raw document as received (integration administrators only).",
    )
    payload_size = fields.Integer(readonly=True)
    content_hash = fields.Char(index=True, readonly=True, help="SHA-256 of the raw payload.")
    payload_encrypted = fields.Boolean(
        readonly=True,
        help="The payload carries secrets (supplier bank details) and is stored as a Fernet "
        "token; processing and replays decrypt it with the server's key.",
    )
    idempotency_key = fields.Char(readonly=True, index=True)
    batch_ref = fields.Char(
        readonly=True, help="Request the message arrived in, shared by a batch's documents."
    )
    batch_index = fields.Integer(readonly=True)
    natural_key = fields.Char(index=True, readonly=True, help="Business key of the document.")
    correlation_key = fields.Char(
        index=True,
        readonly=True,
        help="Messages sharing this key are applied strictly in arrival order.",
    )
    waiting_key = fields.Char(
        index=True, readonly=True, help="The prerequisite this message is parked on."
    )
    state = fields.Selection(
        [
            ("received", "Received"),
            ("processing", "Processing"),
            ("waiting", "Waiting"),
            ("failed", "Failed (will retry)"),
            ("done", "Done"),
            ("dead", "Dead"),
        ],
        default="received",
        required=True,
        index=True,
        readonly=True,
    )
    attempts = fields.Integer(readonly=True, default=0)
    next_attempt_at = fields.Datetime(index=True, readonly=True, default=fields.Datetime.now)
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    api_latency_ms = fields.Float(
        string="API latency (ms)",
        readonly=True,
        aggregator="avg",
        help="Time the API spent on the request before storing it.",
    )
    payload_purged_at = fields.Datetime(
        readonly=True,
        index="btree_not_null",
        help="When retention cleared the payload and the canonical document (metadata and "
        "content hash are kept, so a resubmission is still recognised).",
    )
    error_code = fields.Char(readonly=True)
    error_message = fields.Text(readonly=True)
    document = fields.Json(readonly=True, help="The document in the canonical model.")
    document_html = fields.Html(
        string="Document as read",
        compute="_compute_document_html",
        sanitize=False,
        help="The received document as parsed (canonical model): header, parties, lines "
        "and totals, for people to read.",
    )
    payload_pretty = fields.Text(
        string="Raw document",
        compute="_compute_payload_pretty",
        groups="healthcare_p2p_integration.group_hc_integration_admin",
        help="The raw payload as received, indented (integration administrators only).",
    )
    issues = fields.Json(readonly=True, help="Data-quality warnings found while parsing.")
    source_format = fields.Char(readonly=True)
    result_model = fields.Char(readonly=True)
    result_ids = fields.Json(readonly=True)
    result_summary = fields.Char(readonly=True)
    replay_count = fields.Integer(readonly=True, default=0)
    claim_token = fields.Char(
        readonly=True,
        copy=False,
        help="PostgreSQL session (backend pid and start time) of the worker that claimed the "
        "message. Once that session is gone the worker died (killed, its server or the "
        "database restarted), nothing it did not commit survived, and the message is "
        "requeued at once.",
    )

    _idempotency_unique = models.UniqueIndex(
        "(connector_id, idempotency_key)",
        "An idempotency key identifies one message per connector.",
    )
    _claim_idx = models.Index(
        "(lane_id, next_attempt_at, id) WHERE state IN ('received', 'failed', 'waiting')"
    )

    @api.depends("doc_type")
    def _compute_display_ref(self):
        for message in self:
            message.display_ref = f"{message.doc_type or 'message'} #{message.id or '-'}"

    def write(self, vals):
        """What was received (payload, its hash and type, connector, company, document
        type) is never edited, whoever asks: a replay must re-process what arrived."""
        touched = RECEIVED_FIELDS & set(vals)
        if touched and not _RECEIVED_WRITE.get():
            raise AccessError(
                self.env._(
                    "A received message cannot be changed (%s): it is the evidence of what "
                    "the sending system sent. Ask the sender to send a corrected document.",
                    ", ".join(sorted(touched)),
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------------------
    # Accepting (called by the HTTP controller)
    # ------------------------------------------------------------------------------

    @api.model
    def _accept(
        self,
        connector,
        doc_type,
        company,
        content_type,
        documents,
        idempotency_key=None,
        api_latency_ms=None,
    ):
        """Store each raw document as its own message; de-duplicate by idempotency key.

        One multi-row ``INSERT ... ON CONFLICT DO NOTHING`` stores a whole batch: the
        unique index on (connector, idempotency key) decides races between concurrent
        requests without an error, and a month-end batch costs a handful of queries.

        :param documents: list of raw payloads (bytes), one per document of the request
        :param idempotency_key: the client's key; each document of a batch gets
            ``<key>#<index>``; without one, the SHA-256 of the document is the key, so an
            exact resubmission returns the original message
        :param api_latency_ms: time the API spent before storing (for latency metrics)
        :return: list of ``(message, status)`` with status ``created``, ``duplicate`` or
            ``conflict`` (same key, different body: the caller answers 409); a created
            message's fields are already in the cache, so answering costs no query
        """
        if not documents:
            return []
        lane = connector._lane_for(doc_type)
        doc_type_code = doc_type._cached_code()
        digests = [hashlib.sha256(raw).hexdigest() for raw in documents]
        stored, encrypted = self._payloads_at_rest(doc_type_code, documents)
        if idempotency_key:
            keys = (
                [idempotency_key]
                if len(documents) == 1
                else [f"{idempotency_key}#{index}" for index in range(len(documents))]
            )
        else:
            keys = [f"sha256:{digest}" for digest in digests]
        batch_ref = digests[0][:16] if len(documents) > 1 else None
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = [
            (
                connector.id,
                company.id,
                doc_type.id,
                doc_type_code,
                lane.id,
                content_type,
                psycopg2.Binary(base64.b64encode(stored_raw)),
                len(raw),
                digest,
                key,
                batch_ref,
                index,
                "received",
                0,
                0,
                now,
                now,
                api_latency_ms,
                is_encrypted,
                uid,
                now,
                uid,
                now,
            )
            for index, (raw, stored_raw, is_encrypted, digest, key) in enumerate(
                zip(documents, stored, encrypted, digests, keys, strict=True)
            )
        ]
        # Insert first, look up only what the unique index refused: the common case (a new
        # document) costs one statement, a resubmission two.
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id,
                       doc_type, lane_id, content_type, payload, payload_size, content_hash,
                       idempotency_key, batch_ref, batch_index, state, attempts, replay_count,
                       next_attempt_at, received_at, api_latency_ms, payload_encrypted, create_uid, create_date,
                       write_uid, write_date)
                   VALUES %s
                   ON CONFLICT (connector_id, idempotency_key) DO NOTHING
                   RETURNING idempotency_key, id""",
                SQL(", ").join(
                    SQL("(%s)", SQL(", ").join(SQL("%s", v) for v in row)) for row in rows
                ),
            )
        )
        created_ids = dict(self.env.cr.fetchall())
        existing = {}
        if len(created_ids) < len(rows):
            existing = self._find_by_keys(connector, [k for k in keys if k not in created_ids])
        results = []
        for digest, key in zip(digests, keys, strict=True):
            if key in created_ids:
                message = self.browse(created_ids[key])
                message._update_cache(
                    {
                        "doc_type": doc_type_code,
                        "state": "received",
                        "idempotency_key": key,
                        "content_hash": digest,
                        "attempts": 0,
                        "received_at": now,
                        "finished_at": False,
                        "next_attempt_at": now,
                        "waiting_key": False,
                        "error_code": False,
                        "error_message": False,
                        "issues": False,
                        "result_model": False,
                        "result_ids": False,
                        "result_summary": False,
                    },
                    validate=False,
                )
                results.append((message, "created"))
            else:
                message = existing[key]
                results.append(
                    (message, "duplicate" if message.content_hash == digest else "conflict")
                )
        if created_ids:
            lane._trigger()
        return results

    @api.model
    def _payloads_at_rest(self, doc_type_code, documents):
        """``(payloads to store, encrypted flags)``: supplier bank details never in clear.

        A vendor document that may carry bank details (a cheap byte search, erring on
        the safe side) is stored as a Fernet token from the moment it is accepted;
        everything else as received.  Without a configured key it is stored as received
        and applying it refuses (bank details are never stored in clear by Odoo's side).
        """
        flags = [
            doc_type_code == "vendor" and any(m in raw.lower() for m in BANK_MARKERS)
            for raw in documents
        ]
        vault = self.env["hc.vault"]
        if not (any(flags) and vault._keys()):
            return documents, [False] * len(documents)
        stored = [
            vault._encrypt(self, "payload", raw.decode("utf-8", errors="replace")).encode()
            if flag
            else raw
            for raw, flag in zip(documents, flags, strict=True)
        ]
        return stored, flags

    @api.model
    def _find_by_keys(self, connector, keys):
        messages = self.sudo().search(
            [("connector_id", "=", connector.id), ("idempotency_key", "in", keys)]
        )
        return {message.idempotency_key: message for message in messages}

    @api.model
    def _find_by_key(self, connector, key):
        return self.sudo().search(
            [("connector_id", "=", connector.id), ("idempotency_key", "=", key)], limit=1
        )

    def _api_status(self):
        """The message as the API shows it (no payload, no internals)."""
        self.ensure_one()
        return {
            "id": self.id,
            "document_type": self.doc_type,
            "state": self.state,
            "idempotency_key": self.idempotency_key,
            "attempts": self.attempts,
            "received_at": self.received_at and self.received_at.isoformat() + "Z",
            "finished_at": self.finished_at and self.finished_at.isoformat() + "Z",
            "next_attempt_at": (
                self.state in ("failed", "waiting")
                and self.next_attempt_at
                and self.next_attempt_at.isoformat() + "Z"
            )
            or None,
            "waiting_for": self.waiting_key or None,
            "error": {"code": self.error_code, "message": self.error_message}
            if self.error_code
            else None,
            "issues": self.issues or [],
            "result": {
                "model": self.result_model,
                "ids": self.result_ids or [],
                "summary": self.result_summary,
            }
            if self.result_model
            else None,
        }

    # ------------------------------------------------------------------------------
    # Processing (lane workers)
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
        batches = contentions = 0
        cpu_start, cpu_budget = time.process_time(), _cpu_budget()
        while max_batches is None or batches < max_batches:
            if cpu_budget and time.process_time() - cpu_start > cpu_budget and _auto_commit():
                # Odoo kills a worker past its CPU limit (limit_time_cpu), and re-runs a
                # job that reports work left in the same worker, under the same limit: end
                # this run and wake the lane, so the next run starts with a fresh limit.
                lane._trigger_safely()
                self.env["ir.cron"]._commit_progress(0)
                return
            messages = self._claim(lane, lane.batch_size)
            if not messages:
                break
            batches += 1
            try:
                if not self._process_batch(messages):
                    return  # out of time: the cron is rescheduled at once
            except Exception as exc:
                if not _auto_commit():
                    raise
                # Its claims must not sit in "processing" until the stale requeue: back in
                # the queue.  Contention with another worker (a row both touched, e.g. a
                # waiting message one releases while the other claims it) is normal under
                # REPEATABLE READ: the batch is due again at once and the worker goes on,
                # a few times per run.  Anything else fails the job (Odoo logs it and
                # counts the failure) and the batch waits a minute.
                self.env.cr.rollback()
                self.env.invalidate_all()
                contention = _is_contention(exc)
                messages._requeue_after_crash(delay_seconds=0 if contention else 60)
                if not contention:
                    raise
                contentions += 1
                _logger.info("Lane %s: contention, batch requeued: %s", lane.code, exc)
                if contentions >= MAX_CONTENTIONS_PER_RUN:
                    return

    def _process_batch(self, messages):
        """Process claimed ``messages``; return False when the cron ran out of time."""
        group = CreateBatch(self.env)
        uncommitted = self.browse()
        audit = self.env["hc.audit.log"]
        for index, message in enumerate(messages):
            # audit entries are chained when the worker commits, not at a savepoint's flush
            with audit._hold():
                message._process_one(group=group)
            uncommitted |= message
            if group.items or not _auto_commit():
                continue  # committed with the documents created together
            if not uncommitted._commit_outcome():
                # Out of time: give back what this batch claimed and did not process
                # (else it would sit in "processing" until the stale requeue), and
                # report work left so that Odoo runs the cron again at once.
                rest = messages[index + 1 :]
                rest._unclaim()
                self.env["ir.cron"]._commit_progress(remaining=max(len(rest), 1))
                return False
            uncommitted = self.browse()
        with audit._hold():
            group.flush()
        if _auto_commit():
            if uncommitted and not uncommitted._commit_outcome():
                self.env["ir.cron"]._commit_progress(remaining=1)
                return False
        else:
            audit._flush_pending()  # at commit, in production
            self.env.flush_all()
        return True

    def _requeue_after_crash(self, delay_seconds=60):
        """Claimed messages a crashed batch left in ``processing``: due again after
        ``delay_seconds``; committed.

        Their attempt stays counted, so a message that keeps crashing its worker reaches
        its connector's maximum and goes dead through the stale-claim rule.  This must not
        fail in turn: the worker's database connection goes back to Odoo's pool alive, so
        claims left behind would look owned until the stale delay.  It runs in a fresh
        READ COMMITTED transaction (rows another worker changed meanwhile are re-read, not
        a serialization failure) and is retried on a deadlock.
        """
        if not self:
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
                        tuple(self.ids),
                    )
                )
                self.env["ir.cron"]._commit_progress(0)
                return
            except psycopg2.OperationalError as exc:
                if not _is_contention(exc) or attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    @api.model
    def _claim(self, lane, limit):
        """Lock and mark ``processing`` up to ``limit`` due messages of ``lane``.

        ``FOR UPDATE SKIP LOCKED`` lets any number of workers on any number of Odoo
        servers claim disjoint batches; the ``processing`` state is committed at once so
        the claim survives the row locks being released by later commits.  A message
        whose earlier sibling (same correlation key) is still pending is not claimable:
        that is what keeps updates to one business object in arrival order.
        """
        self.env.flush_all()
        if _auto_commit():
            # A fresh READ COMMITTED transaction: under Odoo's default REPEATABLE READ a
            # row claimed and committed by another worker after our snapshot would raise
            # a serialization failure instead of being skipped or re-checked.
            self.env.cr.commit()  # pylint: disable=invalid-commit
            self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        # Before every batch: what a worker killed meanwhile had claimed (a sibling, or
        # this cron's previous run) is handed over now rather than at a cron's next run.
        self._requeue_stale(lane)
        self.env.cr.execute(
            SQL(
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
                          AND p.state IN ('received', 'processing', 'failed', 'waiting')
                          -- a predecessor parked on this very message waits for it;
                          -- one parked on the object itself (a receipt waiting for its
                          -- PO) does not hold back other documents of that object, which
                          -- would otherwise hold back the object when it comes
                          AND NOT (p.state = 'waiting'
                                   AND (p.waiting_key IS NOT DISTINCT FROM m.natural_key
                                        OR p.waiting_key = p.correlation_key)))
                 ORDER BY m.id
                 LIMIT %(limit)s
                 FOR UPDATE OF m SKIP LOCKED
                """,
                lane=lane.id,
                limit=limit,
                now=fields.Datetime.now(),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        if not ids:
            return self.browse()
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
        messages = self.browse(ids)
        messages.invalidate_recordset(
            ["state", "attempts", "started_at", "finished_at", "claim_token"]
        )
        if _auto_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return messages

    def _commit_outcome(self):
        """Commit these processed messages; return the cron's time left.

        Writes made after the apply's savepoint (the message's state, releasing the
        messages that waited for it) are flushed by the commit, where another worker's
        concurrent update of one of those rows raises a serialization failure.  The
        message's work is then rolled back and the message retried like any transient
        failure, instead of failing the whole cron run and leaving its batch claimed.
        """
        try:
            self.env["hc.audit.log"]._flush_pending()  # the chain's lock until the commit
            return self.env["ir.cron"]._commit_progress(len(self))
        except psycopg2.OperationalError as exc:
            if exc.pgcode not in TRANSIENT_PGCODES:
                raise
            self.env.cr.rollback()
            self.env.invalidate_all()
            _logger.info("Inbox messages %s: contention at commit, retried: %s", self.ids, exc)
            for message in self:
                message._mark_failed("database_contention", str(exc))
            return self.env["ir.cron"]._commit_progress(len(self))

    def _unclaim(self):
        """Put claimed messages that were not processed back in the queue, uncounted."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE hc_inbox_message
                      SET state = 'received', attempts = GREATEST(COALESCE(attempts, 1) - 1, 0),
                          started_at = NULL, claim_token = NULL
                    WHERE id IN %s AND state = 'processing'""",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["state", "attempts", "started_at", "claim_token"])

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
            self.browse(dead).invalidate_recordset()
            self.browse(dead).filtered(lambda m: m.doc_type == "invoice")._raise_invoice_refused()
        if rows:
            _logger.warning(
                "Stale processing messages%s: %d requeued, %d dead",
                f" of lane {lane.code}" if lane else "",
                len(requeue),
                len(dead),
            )
            self.invalidate_model(
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

    def _process_one(self, group=None):
        """Parse and apply one claimed message in its own savepoint; record the outcome.

        Transient failures are retried with backoff, a missing prerequisite parks the
        message, anything else is final: the message goes ``dead`` with the reason.

        :param group: a :class:`CreateBatch` the worker creates records with: a document
            whose processor defers its creation joins it instead of being done here
        """
        self.ensure_one()
        message = self.sudo()
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
            if group is not None and group.conflicts({f"corr:{message.correlation_key}"}):
                group.flush()  # an earlier message of the same business object waits there
            if message.correlation_key and message._has_pending_predecessor():
                message._defer()
                return
            keys = group is not None and processor._batch_keys(message, parsed.document)
            if keys and group.conflicts(keys):
                group.flush()  # what it creates must be visible to this document
            with self.env.cr.savepoint():
                result = message._apply_step(processor, parsed, prepare=bool(keys))
            if isinstance(result, DeferredCreate):
                group.add(message, keys, result)
                return
        except WaitingForDependency as exc:
            self.env.invalidate_all()
            audit._forget_pending(mark)  # what the rolled-back apply queued
            review = getattr(exc, "review", None)
            if review:
                # Parked for a person: the review exception outlives the rolled-back apply.
                review = dict(review)
                review.setdefault("message_id", message.id)
                review.setdefault("company_id", message.company_id.id)
                self.env["hc.exception"]._raise(
                    review.pop("exception_type"),
                    review.pop("name"),
                    review.pop("dedup_key"),
                    **review,
                )
            message._mark_waiting(exc.key)
        except TransientError as exc:
            self.env.invalidate_all()
            audit._forget_pending(mark)  # what the rolled-back apply queued
            message._mark_failed(exc.code, exc.message)
        except psycopg2.OperationalError as exc:
            self.env.invalidate_all()
            audit._forget_pending(mark)  # what the rolled-back apply queued
            if exc.pgcode in TRANSIENT_PGCODES:
                message._mark_failed("database_contention", str(exc))
            else:
                raise
        except PermanentError as exc:
            self.env.invalidate_all()
            audit._forget_pending(mark)  # what the rolled-back apply queued
            for vals in getattr(exc, "exceptions", None) or ():
                # Raised after the rollback of the apply, so that they outlive it.
                vals = dict(vals)
                self.env["hc.exception"]._raise(
                    vals.pop("exception_type"),
                    vals.pop("name"),
                    vals.pop("dedup_key"),
                    **vals,
                )
            message._mark_dead(exc.code, exc.message)
        except (UserError, ValidationError, AccessError, ValueError, KeyError, TypeError) as exc:
            self.env.invalidate_all()
            audit._forget_pending(mark)  # what the rolled-back apply queued
            message._mark_dead("invalid_document", str(exc))
        except Exception as exc:
            _logger.exception("Unexpected error processing inbox message %s", self.id)
            self.env.invalidate_all()
            audit._forget_pending(mark)  # what the rolled-back apply queued
            message._mark_failed("unexpected_error", repr(exc))
        else:
            message._mark_done(result)

    def _finish_deferred(self, deferred, record):
        """Finish a document whose record a :class:`CreateBatch` created.

        :return: whether it is done; if not, the record is gone again (the savepoint)
            and the caller applies the message the ordinary way
        """
        self.ensure_one()
        audit = self.env["hc.audit.log"]
        mark = audit._pending_mark()
        try:
            with self.env.cr.savepoint():
                result = deferred.finish(record)
                self.sudo()._mark_done(result)
        except Exception:
            audit._forget_pending(mark)
            self.env.invalidate_all()
            return False
        return True

    def _check_connector_scope(self):
        """Check the connector's scopes again before anything is parsed (fail closed).

        The API refuses what a connector may not post; this second check catches what
        reached the inbox another way or before the scopes were narrowed (a replay, an
        import, a connector whose document types or companies changed since).  A refusal
        is final: the message is dead with a stable code and the integration team gets an
        exception.
        """
        connector = self.connector_id
        if not connector._is_doc_type_allowed(self.doc_type):
            code = "document_type_not_allowed"
            text = self.env._(
                "Connector %(connector)s may not post %(type)s documents.",
                connector=connector.code,
                type=self.doc_type,
            )
        elif self.company_id not in connector._allowed_companies():
            code = "company_not_allowed"
            text = self.env._(
                "Connector %(connector)s may not post documents for %(company)s.",
                connector=connector.code,
                company=self.company_id.name,
            )
        else:
            return
        raise PermanentError(
            text,
            code=code,
            exceptions=[
                {
                    "exception_type": "scope_violation",
                    "name": self.env._(
                        "%(ref)s refused: %(code)s", ref=self.display_ref, code=code
                    ),
                    "dedup_key": f"scope_violation:{self.id}",
                    "severity": "high",
                    "company_id": self.company_id.id,
                    "message_id": self.id,
                    "res_model": self._name,
                    "res_id": self.id,
                    "description": self.env._(
                        "%s Nothing was applied. Fix the connector's scopes (or the sending "
                        "system), then replay the message.",
                        text,
                    ),
                    "details": {"code": code, "connector": connector.code},
                }
            ],
        )

    def _parse_step(self):
        """Parse the raw payload into the canonical model and store what it says."""
        self._check_connector_scope()
        processor = self.env[f"hc.processor.{self.doc_type}"]
        parsed = processor._parse(self)
        if processor._payload_has_secrets(parsed.document):
            self._encrypt_payload()
        keys = parsed.document.correlation_keys()
        self.write(
            {
                "document": processor._stored_document(parsed.document),
                "issues": [
                    {"code": i.code, "message": i.message, "path": i.path} for i in parsed.issues
                ],
                "source_format": parsed.source_format,
                "natural_key": parsed.document.natural_key(),
                "correlation_key": keys[0] if keys else False,
            }
        )
        return processor, parsed

    def _apply_step(self, processor, parsed, prepare=False):
        """Apply the parsed document once every prerequisite it names is there.

        With ``prepare``, the processor may stop short of creating its main record and
        return a :class:`DeferredCreate` instead.
        """
        for key in parsed.document.dependencies():
            if not processor._dependency_met(self, key):
                raise WaitingForDependency(key)
        if prepare:
            return processor._prepare_apply(self, parsed.document)
        return processor._apply(self, parsed.document)

    def _defer(self):
        """An earlier message of the same business object is still pending: step back.

        This is ordering, not failure: the attempt is not counted.
        """
        self.write(
            {
                "state": "received",
                "attempts": max(self.attempts - 1, 0),
                "next_attempt_at": fields.Datetime.now() + timedelta(seconds=1),
            }
        )

    def _has_pending_predecessor(self):
        """Whether an earlier message of the same business object is still pending.

        A predecessor parked on this very message (an acknowledgment or a receipt that
        arrived before its purchase order) does not count: it waits for this one.  Nor
        does one parked on the business object itself: a receipt waiting for purchase
        order X must not hold back the invoice of X (which then waits for X as well),
        else the invoice, arrived before X, would hold back X: a deadlock.
        """
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT 1 FROM hc_inbox_message WHERE correlation_key = %s AND id < %s
                   AND state IN %s
                   AND NOT (state = 'waiting' AND (waiting_key IS NOT DISTINCT FROM %s
                                                   OR waiting_key = correlation_key))
                   LIMIT 1""",
                self.correlation_key,
                self.id,
                ACTIVE_STATES,
                self.natural_key,
            )
        )
        return bool(self.env.cr.fetchone())

    def _mark_done(self, result):
        result = result or {}
        records = result.get("records")
        self.write(
            {
                "state": "done",
                "finished_at": fields.Datetime.now(),
                "error_code": False,
                "error_message": False,
                "waiting_key": False,
                "result_model": records._name if records else False,
                "result_ids": records.ids if records else False,
                "result_summary": result.get("summary", False),
            }
        )
        self._audit_transformation(records)
        if self.replay_count and self.doc_type == "invoice":
            self._resolve_invoice_refused()  # only a replayed message can have one
        released = set(result.get("produced_keys", [])) | {self.natural_key} - {False, None}
        self._release_waiting(released)

    def _audit_transformation(self, records):
        """One compact chained entry per applied message: what came in, what it became.

        ``in`` is the SHA-256 of the raw payload (``content_hash``), ``out`` the SHA-256 of
        the canonical document as stored (keys sorted), so an auditor can prove which input
        produced which records and that neither was altered afterwards.  Written in the
        message's own transaction: three small queries, no payload re-read.
        """
        document = json.dumps(self.document or {}, sort_keys=True, default=str)
        self.env["hc.audit.log"]._log_at_commit(
            "message_processed",
            self,
            data={
                "in": self.content_hash,
                "out": hashlib.sha256(document.encode()).hexdigest(),
                "doc_type": self.doc_type,
                "result_model": records._name if records else None,
                "result_ids": records.ids[:50] if records else [],
            },
        )

    def _mark_waiting(self, key):
        delay = retry_delay(
            max(self.attempts, 1),
            self.connector_id.backoff_base_seconds,
            self.connector_id.backoff_max_seconds,
        )
        self.write(
            {
                "state": "waiting",
                "waiting_key": key,
                "error_code": "waiting_for_dependency",
                "error_message": self.env._("Waiting for %s to arrive.", key),
                # Released at once when the prerequisite is processed; polled meanwhile in
                # case it came by another way (created by hand in Odoo).
                "next_attempt_at": fields.Datetime.now() + timedelta(seconds=delay),
                "attempts": max(self.attempts - 1, 0),
            }
        )

    def _mark_failed(self, code, reason):
        if self.attempts >= self.connector_id.max_attempts:
            self._mark_dead(
                code,
                self.env._(
                    "Retries exhausted after %(n)s attempts: %(reason)s",
                    n=self.attempts,
                    reason=reason,
                ),
            )
            return
        delay = retry_delay(
            max(self.attempts, 1),
            self.connector_id.backoff_base_seconds,
            self.connector_id.backoff_max_seconds,
        )
        self.write(
            {
                "state": "failed",
                "error_code": code,
                "error_message": reason,
                "next_attempt_at": fields.Datetime.now() + timedelta(seconds=delay),
            }
        )

    def _mark_dead(self, code, reason):
        self.write(
            {
                "state": "dead",
                "error_code": code,
                "error_message": reason,
                "finished_at": fields.Datetime.now(),
            }
        )
        self.filtered(lambda m: m.doc_type == "invoice")._raise_invoice_refused()

    def _refused_hint(self, code, readable):
        """What AP does about a supplier invoice refused for ``code``."""
        hints = {
            "inactive_currency": self.env._(
                "Activate the currency (Accounting > Configuration > Currencies), then ask "
                "an integration administrator to replay the message."
            ),
            "cross_company_reference": self.env._(
                "Check the sending system's company mapping, then replay or discard the message."
            ),
            "document_type_not_allowed": self.env._(
                "Fix the connector's scopes, then replay the message."
            ),
            "company_not_allowed": self.env._(
                "Fix the connector's scopes, then replay the message."
            ),
            "killed_by_admin": self.env._(
                "Marked dead by an administrator: check why before the supplier is paid by "
                "other means; replay it if it should be billed."
            ),
            "worker_died": self.env._(
                "It stopped the worker every time: ask the integration team, then replay it."
            ),
        }
        if code in hints:
            return hints[code]
        if not readable:
            return self.env._(
                "The document could not be read: ask the supplier to send the invoice again "
                "(corrected), or key the bill in by hand."
            )
        return self.env._(
            "Fix the cause above (vendor, product, unit or tax data), then ask an "
            "integration administrator to replay the message; else ask the supplier to "
            "resend the invoice."
        )

    def _raise_invoice_refused(self):
        """One ``invoice_refused`` exception per dead supplier invoice, in the AP queue.

        Written in the transaction that records the death, after the failed apply was
        rolled back, so it outlives it; a replay that applies the invoice resolves it
        (:meth:`_resolve_invoice_refused`).  Dying again after a replay updates it.
        """
        Exception_ = self.env["hc.exception"].sudo()
        for message in self:
            document = message.document or {}
            number = document.get("number") or ""
            vendor = document.get("vendor") or {}
            vendor_name = vendor.get("name") or ", ".join(
                f"{i.get('scheme')} {i.get('value')}" for i in vendor.get("identifiers") or []
            )
            sender = message.connector_id.name
            code = message.error_code or "dead"
            hint = message._refused_hint(code, bool(document))
            description = self.env._(
                "Supplier invoice %(number)s from %(vendor)s (received through %(sender)s, "
                "%(ref)s) was refused: no bill was made.\nReason (%(code)s): %(reason)s",
                number=number or self.env._("(number unreadable)"),
                vendor=vendor_name or self.env._("an unidentified vendor"),
                sender=sender,
                ref=message.display_ref,
                code=code,
                reason=message.error_message or "-",
            )
            vals = {
                "severity": "high",
                "company_id": message.company_id.id,
                "message_id": message.id,
                "res_model": message._name,
                "res_id": message.id,
                "partner_id": message._invoice_vendor(vendor).id or False,
                "hint": hint,
                "description": description,
                "details": {
                    "code": code,
                    "invoice_number": number or None,
                    "vendor": vendor_name or None,
                    "connector": message.connector_id.code,
                },
            }
            exc = Exception_._raise(
                "invoice_refused",
                self.env._(
                    "Invoice %(number)s refused: %(code)s",
                    number=number or message.display_ref,
                    code=code,
                ),
                f"invoice_refused:{message.id}",
                **vals,
            )
            if exc.description != description:  # dead again after a replay: the new reason
                exc.write({k: vals[k] for k in ("hint", "description", "details")})

    def _invoice_vendor(self, vendor):
        """The partner a stored invoice's vendor names (identifiers), or empty."""
        return self.env["hc.reference.resolver"]._lookup_stored_vendor(self, vendor)

    def _resolve_invoice_refused(self):
        """A replayed invoice was applied: its refusal is over."""
        open_ = (
            self.env["hc.exception"]
            .sudo()
            .search(
                [
                    ("dedup_key", "in", [f"invoice_refused:{m.id}" for m in self]),
                    ("state", "not in", ("resolved", "cancelled")),
                ]
            )
        )
        open_._resolve("fixed", self.env._("The replayed invoice was applied."))

    def _release_waiting(self, keys):
        """Wake the messages parked on ``keys`` now that their prerequisite is here."""
        if not keys:
            return
        waiting = self.sudo().search([("state", "=", "waiting"), ("waiting_key", "in", list(keys))])
        if waiting:
            waiting.write({"state": "received", "next_attempt_at": fields.Datetime.now()})
            waiting.lane_id._trigger_safely()

    # ------------------------------------------------------------------------------
    # Replay and manual actions (integration admins)
    # ------------------------------------------------------------------------------

    def _check_admin(self):
        if not self.env.user.has_group("healthcare_p2p_integration.group_hc_integration_admin"):
            raise AccessError(
                self.env._("Only an integration administrator may replay or kill messages.")
            )
        # and only messages of the companies the administrator works for (record rules)
        self.check_access("write")

    def _replay(self, reason):
        """Re-run messages from scratch, keeping who asked and why in the audit log."""
        self._check_admin()
        if not (reason or "").strip():
            raise UserError(self.env._("A replay needs a reason."))
        purged = self.filtered("payload_purged_at")
        if purged:
            raise UserError(
                self.env._(
                    "The payload of %s was purged by the retention policy: ask the source "
                    "system to send the document again.",
                    purged.mapped("display_ref"),
                )
            )
        busy = self.filtered(lambda m: m.state == "processing")
        if busy:
            raise UserError(
                self.env._(
                    "Messages being processed cannot be replayed: %s", busy.mapped("display_ref")
                )
            )
        audit = self.env["hc.audit.log"]
        for message in self.sudo():
            audit._log(
                "replay",
                message,
                reason=reason,
                data={"previous_state": message.state, "error": message.error_code},
            )
            message.write(
                {
                    "state": "received",
                    "attempts": 0,
                    "next_attempt_at": fields.Datetime.now(),
                    "error_code": False,
                    "error_message": False,
                    "waiting_key": False,
                    "finished_at": False,
                    "replay_count": message.replay_count + 1,
                }
            )
        self.lane_id._trigger_safely()

    def _kill(self, reason):
        self._check_admin()
        if not (reason or "").strip():
            raise UserError(self.env._("Marking a message dead needs a reason."))
        audit = self.env["hc.audit.log"]
        for message in self.sudo().filtered(lambda m: m.state not in FINAL_STATES):
            audit._log("mark_dead", message, reason=reason, data={"previous_state": message.state})
            message._mark_dead("killed_by_admin", reason)

    def action_open_result(self):
        self.ensure_one()
        if not self.result_model:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.result_model,
            "view_mode": "list,form",
            "domain": [("id", "in", self.result_ids or [])],
            "name": self.result_summary or self.env._("Result"),
        }

    @api.depends("document", "doc_type", "source_format")
    def _compute_document_html(self):
        QWeb = self.env["ir.qweb"]
        for message in self:
            if not message.document:
                message.document_html = False
                continue
            sections = document_sections(message.document)
            message.document_html = QWeb._render(
                "healthcare_p2p_integration.hc_document_view",
                {"sections": sections, "message": message},
            )

    @api.depends("payload")
    def _compute_payload_pretty(self):
        for message in self:
            # the bytes, not the size the web client asks binary fields for (bin_size)
            raw = message.with_context(bin_size=False)
            if message.payload_purged_at or not raw.sudo().payload:
                message.payload_pretty = False
                continue
            message.payload_pretty = pretty_text(raw._payload_text())

    def _requeue_after_decision(self, reason):
        """Apply a message again because a person decided on what stopped it (a copy
        declared a different invoice): audited like a replay, whoever decided."""
        audit = self.env["hc.audit.log"]
        for message in self.sudo():
            audit._log(
                "replay",
                message,
                reason=reason,
                data={"previous_state": message.state, "decision": True},
            )
            message.write(
                {
                    "state": "received",
                    "attempts": 0,
                    "next_attempt_at": fields.Datetime.now(),
                    "error_code": False,
                    "error_message": False,
                    "waiting_key": False,
                    "finished_at": False,
                    "replay_count": message.replay_count + 1,
                }
            )
        self.sudo().lane_id._trigger_safely()

    def _payload_text(self):
        """The raw payload decoded for display (documents are text formats)."""
        self.ensure_one()
        message = self.sudo()  # private: callers check the integration admin group
        if message.payload_encrypted:
            return self.env._("(encrypted: the document carries supplier bank details)")
        raw = base64.b64decode(message.payload or b"")
        return raw.decode("utf-8", errors="replace")

    def _raw_payload(self):
        """The payload as received (decrypted when stored encrypted), checked against the
        SHA-256 taken when it was accepted: bytes that are not those received (changed
        in the database behind the ORM) are never processed."""
        self.ensure_one()
        message = self.sudo()
        raw = base64.b64decode(message.payload or b"")
        if message.payload_encrypted:
            try:
                raw = self.env["hc.vault"]._decrypt(message, "payload", raw.decode()).encode()
            except (crypto.KeyMissingError, crypto.DecryptionError) as exc:
                raise UserError(self.env._("Payload cannot be decrypted: %s", str(exc))) from exc
        if message.content_hash and hashlib.sha256(raw).hexdigest() != message.content_hash:
            raise PermanentError(
                self.env._(
                    "The stored payload is not the one received (its SHA-256 differs from "
                    "the one taken at acceptance): it is not processed."
                ),
                code="payload_altered",
            )
        return raw

    def _encrypt_payload(self):
        """Store the payload as a Fernet token (documents carrying bank details).

        Without a key the payload stays as received: applying such a document refuses
        anyway, and the message says why.
        """
        vault = self.env["hc.vault"]
        for message in self.filtered(lambda m: m.payload and not m.payload_encrypted):
            if not vault._keys():
                continue
            token = vault._encrypt(message, "payload", base64.b64decode(message.payload).decode())
            with rewriting_received_payload():
                message.write(
                    {"payload": base64.b64encode(token.encode()), "payload_encrypted": True}
                )

    @api.model
    def _json_dumps(self, value):
        return json.dumps(value, default=str)
