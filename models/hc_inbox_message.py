import base64
import contextlib
import contextvars
import hashlib
import json
from datetime import timedelta
from typing import NamedTuple

import psycopg2

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import ConcurrencyError
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency
from ..canonical.render import document_sections
from ..delivery.backoff import retry_delay
from ..formats.pretty import pretty_text
from ..trust import crypto
from . import accept_connection
from .hc_inbox_stat_delta import COUNTED_COLUMNS
from .hc_inbox_stat_delta import received_insert
from .hc_queue_mixin import AFTER_COMMIT

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
        "stat_counted",
    }
)
# One statement, one round trip: store the documents the unique index and the archive do
# not hold yet, count them in the inbox figures, and wake their lanes' workers if any was
# stored.  The archive is read in the statement's snapshot (the caller's REPEATABLE READ
# one, or the statement's own on the API's accept connection), as the separate look-up
# before it was: a message the archive cron moves while this statement waits on its row
# (done over 32 days ago, resubmitted at that very moment) is not seen there, and the
# resubmission is stored as a new message.  What differs between the
# documents of a request goes in the VALUES rows (one placeholder each, typed: a
# multi-row VALUES is not typed by the target table); what they share is given once.
ACCEPT_SQL = """WITH hc_incoming (lane_id, payload, payload_size, content_hash,
                                  idempotency_key, batch_index, payload_encrypted)
                     AS (VALUES %(incoming)s),
                hc_created AS (
                    INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id,
                           doc_type, lane_id, content_type, payload, payload_size,
                           content_hash, idempotency_key, batch_ref, batch_index, state,
                           attempts, replay_count, next_attempt_at, received_at,
                           api_latency_ms, payload_encrypted, stat_counted, create_uid,
                           create_date, write_uid, write_date)
                    SELECT %(connector)s, %(company)s, %(doc_type_id)s, %(doc_type)s,
                           i.lane_id, %(content_type)s, i.payload, i.payload_size,
                           i.content_hash, i.idempotency_key, %(batch_ref)s::varchar,
                           i.batch_index, 'received', 0, 0, %(now)s, %(now)s,
                           %(latency)s::float8, i.payload_encrypted, TRUE, %(uid)s,
                           %(now)s, %(uid)s, %(now)s
                      FROM hc_incoming i
                     WHERE NOT EXISTS (
                           SELECT 1 FROM hc_inbox_message_archive a
                            WHERE a.connector_id = %(connector)s
                              AND a.idempotency_key = i.idempotency_key)
                    ON CONFLICT (connector_id, idempotency_key) DO NOTHING
                    RETURNING idempotency_key, id, %(counted_columns)s),
                hc_counted AS (%(counted)s),
                %(trigger)s
                SELECT idempotency_key, id, (SELECT count(*) FROM hc_triggered)
                  FROM hc_created"""
# What the accept's statement takes besides the documents' rows.
ACCEPT_VALUES = (
    "connector",
    "company",
    "doc_type_id",
    "doc_type",
    "content_type",
    "batch_ref",
    "now",
    "latency",
    "uid",
)
# Statements composed (``_accept_statement``) and kept for requests of up to this many
# documents (a larger batch's is composed for it alone: its rows cost far more).
ACCEPT_STATEMENTS_KEPT = 16
_ACCEPT_STATEMENTS = {}


class _Slot(NamedTuple):
    """A placeholder of the accept's statement: ``values[name]``, or its ``index``-th
    item (a document's row) when ``index`` is given."""

    name: object
    index: object = None


# What a message just accepted shows the API, besides its id, type, key and reception
# (``_accept``'s answers).
RECEIVED_STATUS = {
    "state": "received",
    "attempts": 0,
    "finished_at": False,
    "next_attempt_at": False,
    "waiting_key": False,
    "error_code": False,
    "error_message": False,
    "issues": False,
    "result_model": False,
    "result_ids": False,
    "result_summary": False,
}
# The accept's statement counts the messages it stores in the inbox figures itself (see
# ``hc_inbox_stat_delta.received_insert``): built once.
ACCEPT_RETURNING = SQL(COUNTED_COLUMNS)
ACCEPT_COUNTED = SQL(received_insert("hc_created"))
# A message whose work failed to serialize with another worker's is due again this soon
# (within the lane worker's nap: hc_lane_worker.NAP_SECONDS).
CONTENTION_RETRY_SECONDS = 1
# What the API's answer about a message reads (``_api_status``) and what tells a
# resubmission from a conflict (``content_hash``).
API_STATUS_FIELDS = [
    "doc_type",
    "state",
    "idempotency_key",
    "content_hash",
    "attempts",
    "received_at",
    "finished_at",
    "next_attempt_at",
    "waiting_key",
    "error_code",
    "error_message",
    "issues",
    "result_model",
    "result_ids",
    "result_summary",
]
# Autovacuum of the inbox by a number of changed rows, not a share of the table: at the
# default 20 % a year of history (millions of rows) is vacuumed and analyzed only every
# million changes, and its recent end (what the lane workers and the metrics' windows
# read) fills with dead row versions and stale statistics; each message is updated a few
# times, every index gets a new entry each time.  Index cleanup always: PostgreSQL would
# skip it while few pages of a large table hold dead rows (all of them at the recent end).
# An option the database already has (set by its administrator) is kept.
INBOX_STORAGE = {
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": "5000",
    "autovacuum_analyze_scale_factor": "0",
    "autovacuum_analyze_threshold": "5000",
    "vacuum_index_cleanup": "on",
}
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


# Byte strings whose presence in a vendor document means it may carry bank details.
BANK_MARKERS = (b"bank", b"iban", b"account_number", b"acc_number", b"routing", b"aba")


class HcInboxMessage(models.Model):
    """The durable inbox: every accepted document, raw, with its processing state.

    A POST only stores the raw payload here and answers 202; the lane workers
    (``hc.lane.worker``, see its module for the transactions) claim messages, run their
    parse and apply steps and record the outcome through the transitions below
    (``_mark_done``, ``_mark_waiting``, ``_mark_failed``, ``_mark_dead``, ``_defer``).
    Nothing accepted is ever deleted by the pipeline: a message ends ``done`` or
    ``dead`` (with the reason), and can be replayed.  The queue fields and the replay
    are the ones the outbox has too (``hc.queue.mixin``).
    """

    _name = "hc.inbox.message"
    _inherit = ["hc.queue.mixin"]
    _queue_state_queued = "received"
    _queue_state_running = "processing"
    _queue_states_final = ("done", "dead")
    _queue_states_killable = ("received", "processing", "failed", "waiting")
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
    next_attempt_at = fields.Datetime(index=True)
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    finished_at = fields.Datetime(readonly=True)
    api_latency_ms = fields.Float(
        string="API latency (ms)",
        readonly=True,
        aggregator="avg",
        help="Time the API spent on the request before storing it.",
    )
    stat_counted = fields.Boolean(
        readonly=True,
        copy=False,
        help="Counted in the inbox figures by the statement that stored the message (the "
        "API's accept counts its own messages); the insert trigger counts the others.",
    )
    payload_purged_at = fields.Datetime(
        readonly=True,
        index="btree_not_null",
        help="When retention cleared the payload and the canonical document (metadata and "
        "content hash are kept, so a resubmission is still recognised).",
    )
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
    # The metrics' windows (latency percentiles of the last hours) read only their rows.
    _received_idx = models.Index("(received_at)")
    _finished_done_idx = models.Index("(finished_at) WHERE state = 'done'")

    def init(self):
        super().init()
        if self._table != "hc_inbox_message":  # the archive inherits this model
            return
        self.env.cr.execute(
            "SELECT reloptions FROM pg_class WHERE oid = 'hc_inbox_message'::regclass"
        )
        have = {option.split("=", 1)[0] for option in self.env.cr.fetchone()[0] or []}
        missing = [SQL("%s = %s", SQL(name), SQL(value))
                   for name, value in INBOX_STORAGE.items() if name not in have]  # fmt: skip
        if missing:
            self.env.cr.execute(
                SQL("ALTER TABLE hc_inbox_message SET (%s)", SQL(", ").join(missing))
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
        answers=None,
        commit=False,
    ):
        """Store each raw document as its own message; de-duplicate by idempotency key.

        One statement stores a whole batch and wakes the lanes' workers (a multi-row
        ``INSERT ... ON CONFLICT DO NOTHING`` in one round trip with the archive look-up
        and the cron trigger): the unique index on (connector, idempotency key) decides
        races between concurrent requests without an error, a key the archive holds is
        not stored again, and a month-end batch costs a handful of queries.  A new
        document costs that one statement; a resubmission one more (its message).

        :param documents: list of raw payloads (bytes), one per document of the request
        :param idempotency_key: the client's key; each document of a batch gets
            ``<key>#<index>``; without one, the SHA-256 of the document is the key, so an
            exact resubmission returns the original message
        :param api_latency_ms: time the API spent before storing (for latency metrics)
        :param answers: a dict that receives, for each created message, its
            :meth:`_api_status` by id, built from what was stored: answering costs no
            query and no work of the ORM's cache
        :param commit: store and commit at once, in a transaction of its own on this
            process's accept connection (:mod:`.accept_connection`: the API, whose 202
            promises the documents are stored), not in the caller's transaction; in
            tests (whose transaction is never committed), in the caller's.
        :return: list of ``(message, status)`` with status ``created``, ``duplicate`` or
            ``conflict`` (same key, different body: the caller answers 409)
        """
        if not documents:
            return []
        lane = connector._lane_for(doc_type)
        doc_type_code = doc_type._cached_code()
        lanes = self._document_lanes(doc_type_code, documents, lane)
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
        # (the statement's placeholders: see ACCEPT_SQL)
        values = {
            "connector": connector.id,
            "company": company.id,
            "doc_type_id": doc_type.id,
            "doc_type": doc_type_code,
            "content_type": content_type,
            "batch_ref": batch_ref,
            "now": now,
            "latency": api_latency_ms,
            "uid": self.env.uid,
            "cron_ids": self.env["hc.lane"]
            .browse(dict.fromkeys(doc_lane.id for doc_lane in lanes))
            ._trigger_cron_ids(),
        }
        for index, (raw, stored_raw, is_encrypted, digest, key, doc_lane) in enumerate(
            zip(documents, stored, encrypted, digests, keys, lanes, strict=True)
        ):
            values[index] = (
                doc_lane.id,
                psycopg2.Binary(base64.b64encode(stored_raw)),
                len(raw),
                digest,
                key,
                index,
                is_encrypted,
            )
        code, slots = self._accept_statement(len(documents))
        params = [
            values[slot.name][slot.index] if slot.index is not None else values[slot.name]
            for slot in slots
        ]
        own_transaction = commit and accept_connection.usable(self.env.cr)
        if own_transaction:
            with accept_connection.borrowed(self.env.cr.dbname) as connection:
                fetched = connection.execute_and_commit(len(documents), code, params)
        else:
            self.env.flush_all()
            self.env.cr.execute(code, params)
            fetched = self.env.cr.fetchall()
        created_ids = {key: id_ for key, id_, _triggered in fetched}
        # (the cron workers are notified when the caller's transaction commits)
        self.env["hc.lane"]._notify_if(fetched and fetched[0][2])
        existing = {}
        if len(created_ids) < len(documents):
            existing = self._find_by_keys(connector, [k for k in keys if k not in created_ids])
            if own_transaction and any(
                key not in created_ids and key not in existing for key in keys
            ):
                # Stored by a concurrent request after this transaction's snapshot: this
                # one cannot read it yet.  Odoo serves the request again, which finds it.
                raise ConcurrencyError("A concurrent request stored the same document.")
        results = []
        for digest, key in zip(digests, keys, strict=True):
            if key in created_ids:
                message = self.browse(created_ids[key])
                if answers is not None:
                    answers[message.id] = self._status_of(
                        dict(
                            RECEIVED_STATUS,
                            id=message.id,
                            doc_type=doc_type_code,
                            idempotency_key=key,
                            received_at=now,
                        )
                    )
                results.append((message, "created"))
            else:
                message = existing[key]
                results.append(
                    (message, "duplicate" if message.content_hash == digest else "conflict")
                )
        return results

    @api.model
    def _accept_statement(self, count):
        """``(code, slots)`` of :meth:`_accept`'s statement for ``count`` documents: its
        text, composed once per size (for the usual sizes), and the value each of its
        placeholders takes (a :class:`_Slot`).  Odoo's ``SQL`` would compose it anew on
        every request, a tenth of a millisecond of the accept's Python."""
        cached = _ACCEPT_STATEMENTS.get(count)
        if cached:
            return cached
        row = "(%s::int4, %s::bytea, %s::int4, %s::varchar, %s::varchar, %s::int4, %s::bool)"
        statement = SQL(
            ACCEPT_SQL,
            incoming=SQL(
                ", ".join([row] * count),
                *(_Slot(index, column) for index in range(count) for column in range(7)),
            ),
            **{name: _Slot(name) for name in ACCEPT_VALUES},
            counted_columns=ACCEPT_RETURNING,
            counted=ACCEPT_COUNTED,
            trigger=self.env["hc.lane"]._trigger_ctes(
                _Slot("cron_ids"), only_if=SQL("EXISTS (SELECT 1 FROM hc_created)")
            ),
        )
        cached = (statement.code, tuple(statement.params))
        if count <= ACCEPT_STATEMENTS_KEPT:
            _ACCEPT_STATEMENTS[count] = cached
        return cached

    @api.model
    def _document_lanes(self, doc_type_code, documents, lane):
        """The lane of each document: the connector's lane for its type, except that a
        consumption of a critical item (flagged by the sender, or an item marked critical
        in the item master) takes the critical lane, end to end."""
        if doc_type_code != "consumption":
            return [lane] * len(documents)
        # (the cached xmlid look-up, not env.ref: no query per request)
        critical_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "healthcare_p2p_integration.lane_critical", raise_if_not_found=False
        )
        if not critical_id:
            return [lane] * len(documents)
        critical = self.env["hc.lane"].browse(critical_id)
        Template = self.env["product.template"]
        return [
            critical if Template._hc_is_critical_consumption(raw) else lane for raw in documents
        ]

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
        domain = [("connector_id", "=", connector.id), ("idempotency_key", "in", keys)]
        # fetched with what the answer shows (_api_status): one statement
        messages = self.sudo().search_fetch(domain, API_STATUS_FIELDS)
        found = {message.idempotency_key: message for message in messages}
        if len(found) < len(keys):  # archived (history): still the same document
            archived = (
                self.env["hc.inbox.message.archive"].sudo().search_fetch(domain, API_STATUS_FIELDS)
            )
            found.update({m.idempotency_key: m for m in archived if m.idempotency_key not in found})
        return found

    @api.model
    def _find_by_key(self, connector, key):
        return self.sudo().search(
            [("connector_id", "=", connector.id), ("idempotency_key", "=", key)], limit=1
        )

    def _api_status(self):
        """The message as the API shows it (no payload, no internals)."""
        self.ensure_one()
        return self._status_of(self)

    @api.model
    def _status_of(self, m):
        """:meth:`_api_status` of ``m``: a message, or a dict of its fields' values."""
        return {
            "id": m["id"],
            "document_type": m["doc_type"],
            "state": m["state"],
            "idempotency_key": m["idempotency_key"],
            "attempts": m["attempts"],
            "received_at": m["received_at"] and m["received_at"].isoformat() + "Z",
            "finished_at": m["finished_at"] and m["finished_at"].isoformat() + "Z",
            "next_attempt_at": (
                m["state"] in ("failed", "waiting")
                and m["next_attempt_at"]
                and m["next_attempt_at"].isoformat() + "Z"
            )
            or None,
            "waiting_for": m["waiting_key"] or None,
            "error": {"code": m["error_code"], "message": m["error_message"]}
            if m["error_code"]
            else None,
            "issues": m["issues"] or [],
            "result": {
                "model": m["result_model"],
                "ids": m["result_ids"] or [],
                "summary": m["result_summary"],
            }
            if m["result_model"]
            else None,
        }

    # ------------------------------------------------------------------------------
    # Running (called by the lane worker, hc.lane.worker, in its savepoints)
    # ------------------------------------------------------------------------------

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

    # ------------------------------------------------------------------------------
    # Outcome transitions (what the lane worker records)
    # ------------------------------------------------------------------------------

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
        after_commit = AFTER_COMMIT.get()
        if after_commit is not None:
            # its prerequisite may have been committed by another worker after this
            # transaction's snapshot, released before this parking was committed: looked
            # at again after the commit (hc.lane.worker._release_committed)
            after_commit["parked"][self.id] = key

    def _mark_failed(self, code, reason):
        """Retry later with the connector's backoff; a serialization failure (another
        worker's transaction touched the same rows, not a fault of the message) a second
        later, which the lane worker still running waits for (its nap) instead of the
        backoff holding back every later message of the same order.  Both count against
        the connector's maximum of attempts."""
        if self.attempts >= self.connector_id.max_attempts:
            self._mark_dead(code, self._exhausted_reason(self.attempts, reason))
            return
        if code == "database_contention":
            delay = CONTENTION_RETRY_SECONDS
        else:
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

    def _dead_vals(self, code, reason):
        return {**super()._dead_vals(code, reason), "finished_at": fields.Datetime.now()}

    def _mark_dead(self, code, reason):
        res = super()._mark_dead(code, reason)
        self.filtered(lambda m: m.doc_type == "invoice")._raise_invoice_refused()
        return res

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
        """Wake the messages parked on ``keys`` now that their prerequisite is here.

        In a lane worker, after the worker's commit (``hc.lane.worker._release_committed``,
        in a fresh READ COMMITTED transaction) rather than in its transaction: a waiting
        message is claimed now and then while it waits (it is polled), and its release,
        written in the releasing worker's REPEATABLE READ transaction while another worker
        claimed or parked it again, failed to serialize, rolling back the releasing
        message's work and counting an attempt, again and again (the fault suite's reverse
        order: a payment dead after eight).  Elsewhere (a person resolving an exception, a
        partner's identifier added) at once, in the transaction.
        """
        keys = set(keys or ()) - {False, None}
        if not keys:
            return
        after_commit = AFTER_COMMIT.get()
        if after_commit is not None:
            after_commit["keys"].update(keys)
            return
        waiting = self.sudo().search([("state", "=", "waiting"), ("waiting_key", "in", list(keys))])
        if waiting:
            waiting.write({"state": "received", "next_attempt_at": fields.Datetime.now()})
            waiting.lane_id._trigger_safely()

    # ------------------------------------------------------------------------------
    # Replay and manual actions (integration admins)
    # ------------------------------------------------------------------------------

    def _check_replayable(self):
        purged = self.filtered("payload_purged_at")
        if purged:
            raise UserError(
                self.env._(
                    "The payload of %s was purged by the retention policy: ask the source "
                    "system to send the document again.",
                    purged.mapped("display_ref"),
                )
            )
        return super()._check_replayable()

    def _replay_vals(self):
        return {
            **super()._replay_vals(),
            "waiting_key": False,
            "finished_at": False,
        }

    def _queue_wake(self):
        self.lane_id._trigger_safely()

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
