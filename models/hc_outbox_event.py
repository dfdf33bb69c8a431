import logging
import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import requests

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from ..delivery import outbound
from ..trust import crypto
from .hc_queue_mixin import auto_commit

_logger = logging.getLogger(__name__)

CLAIMABLE_STATES = ("pending", "failed")
# An event left "sending" by a worker that died mid-request goes back to the queue after
# this (longer than any endpoint timeout, which is at most 120 s).
STALE_SENDING_MINUTES = 10
# A half-open probe whose worker died is given up after this.
PROBE_TIMEOUT_SECONDS = STALE_SENDING_MINUTES * 60
# A worker gives back the rest of its batch after this long, so that no event it claimed
# stays "sending" long enough (this + one timeout <= 120 s) to be taken for a lost one.
BATCH_SECONDS = STALE_SENDING_MINUTES * 60 / 2
RESPONSE_EXCERPT_BYTES = 2048
CRON_XMLID = "healthcare_p2p_integration.ir_cron_hc_outbox_deliver"


def source_action(record, name):
    """The form of the record ``record`` points at (``res_model``/``res_id``), or False."""
    if not (record.res_model and record.res_id):
        return False
    return {
        "type": "ir.actions.act_window",
        "res_model": record.res_model,
        "res_id": record.res_id,
        "view_mode": "form",
        "name": name,
    }


def _ts(value):
    """A naive UTC datetime (Odoo's) as unix seconds."""
    return value.timestamp() if value else None


def _from_ts(value):
    if not value:
        return False
    return datetime.fromtimestamp(value, UTC).replace(tzinfo=None, microsecond=0)


class HcOutboxEvent(models.Model):
    """The transactional outbox: one outbound event for one endpoint.

    Emitters create events in the same transaction as the business change (a PO released,
    an exception raised, a bill blocked), so a rolled-back change emits nothing and a
    committed one is never lost.  A delivery cron claims due events with
    ``FOR UPDATE SKIP LOCKED``, commits the claim, POSTs each event (signed, with a
    timeout) outside any lock, and records the outcome: delivered, failed (retried with
    backoff) or dead.  Delivery is at least once: a receiver de-duplicates on the event id
    (``X-HC-Event-Id``, also ``id`` in the body), which never changes, not even on replay.
    The queue fields and the replay are the ones the inbox has too (``hc.queue.mixin``).
    """

    _name = "hc.outbox.event"
    _inherit = ["hc.queue.mixin"]
    _queue_state_queued = "pending"
    _queue_state_running = "sending"
    _queue_states_final = ("delivered", "dead")
    _queue_states_killable = CLAIMABLE_STATES
    _queue_audit_replay = "outbox_replay"
    _queue_audit_kill = "outbox_mark_dead"
    _replay_wizard = "hc.outbox.replay.wizard"
    _replay_wizard_field = "event_ids"
    _description = "Outbound event"
    _order = "id desc"
    _rec_name = "event_uuid"

    event_uuid = fields.Char(
        string="Event id", required=True, readonly=True, index=True, copy=False
    )
    event_type = fields.Char(required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    endpoint_id = fields.Many2one(
        "hc.outbox.endpoint", required=True, index=True, readonly=True, ondelete="restrict"
    )
    connector_id = fields.Many2one(
        "hc.connector", required=True, index=True, readonly=True, ondelete="restrict"
    )
    payload = fields.Text(
        readonly=True, help="The exact request body (canonical JSON), the same on every attempt."
    )
    data_version = fields.Integer(readonly=True)
    content_type = fields.Char(
        readonly=True,
        help="A document's own content type (X12, UBL, cXML, JSON document): the payload "
        "is then that document's exact text, addressed to one trading partner, not the "
        "JSON event envelope.",
    )
    profile_id = fields.Many2one(
        "hc.trading.partner",
        string="Trading partner",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
    )
    res_model = fields.Char(string="Source model", readonly=True, index=True)
    res_id = fields.Many2oneReference(model_field="res_model", string="Source", readonly=True)
    res_ref = fields.Char(string="Source reference", readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("sending", "Sending"),
            ("delivered", "Delivered"),
            ("failed", "Failed (will retry)"),
            ("dead", "Dead"),
        ],
        default="pending",
        required=True,
        index=True,
        readonly=True,
    )
    occurred_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    first_attempt_at = fields.Datetime(readonly=True)
    last_attempt_at = fields.Datetime(readonly=True)
    delivered_at = fields.Datetime(readonly=True)
    last_duration_ms = fields.Integer(string="Last duration (ms)", readonly=True)
    last_http_status = fields.Integer(string="Last HTTP status", readonly=True)
    last_response = fields.Text(readonly=True, help="Start of the receiver's last answer.")

    _uuid_endpoint_unique = models.UniqueIndex(
        "(event_uuid, endpoint_id)", "An event is queued once per endpoint."
    )
    _claim_idx = models.Index("(next_attempt_at, id) WHERE state IN ('pending', 'failed')")

    # ------------------------------------------------------------------------------
    # Emitting (called in the business transaction)
    # ------------------------------------------------------------------------------

    @api.model
    def _subscribers(self, event_type):
        """Endpoints subscribed to ``event_type``: a cached look-up, no query when warm."""
        return self.env["hc.outbox.endpoint"]._subscriptions().get(event_type, ())

    @api.model
    def _emit(self, event_type, records, build, exclude_connector=None):
        """Queue ``event_type`` for each of ``records`` to every subscribed endpoint.

        Runs in the caller's transaction (the transactional outbox): the events commit or
        roll back with the business change.  Costs nothing when no endpoint subscribes.

        :param build: ``build(record) -> dict``, the event's ``data`` object
        :param exclude_connector: ``f(record) -> connector id`` not to notify (the system
            the change came from, which knows already)
        :return: the created events
        """
        targets = self._subscribers(event_type)
        if not targets or not records:
            return self.browse()
        Payload = self.env["hc.outbox.payload"]
        version = Payload._data_version(event_type)
        now = fields.Datetime.now()
        vals_list = []
        for record in records:
            company = record.company_id
            excluded = exclude_connector(record) if exclude_connector else None
            endpoints = [
                (endpoint_id, connector_id)
                for endpoint_id, connector_id, companies in targets
                if company.id in companies and connector_id != excluded
            ]
            if not endpoints:
                continue
            event_id = str(uuid.uuid4())
            body = outbound.canonical_json(
                Payload._envelope(
                    event_type, event_id, version, now, company, record, build(record)
                )
            )
            for endpoint_id, connector_id in endpoints:
                vals_list.append(
                    {
                        "event_uuid": event_id,
                        "event_type": event_type,
                        "company_id": company.id,
                        "endpoint_id": endpoint_id,
                        "connector_id": connector_id,
                        "payload": body,
                        "data_version": version,
                        "res_model": record._name,
                        "res_id": record.id,
                        "res_ref": record.display_name,
                        "occurred_at": now,
                        "next_attempt_at": now,
                    }
                )
        if not vals_list:
            return self.browse()
        events = self.sudo().create(vals_list)
        self._trigger_delivery()
        return events

    @api.model
    def _emit_document(self, profile, record, event_type, body, content_type):
        """Queue one document for one trading partner's endpoint (its profile's channel).

        Runs in the caller's transaction like :meth:`_emit`; ``body`` (bytes) is sent as
        is, with ``content_type``, signed like every event.  The body must be UTF-8 text
        (X12, XML and JSON documents are): it is stored as text and sent as its UTF-8
        bytes, so what is sent is exactly what was rendered.

        :raises ValueError: a body that is not UTF-8 text
        """
        text = body.decode("utf-8")  # raises UnicodeDecodeError (a ValueError)
        endpoint = profile.endpoint_id
        profile._refuse_environment_mismatch(endpoint)
        now = fields.Datetime.now()
        event = self.sudo().create(
            {
                "event_uuid": str(uuid.uuid4()),
                "event_type": event_type,
                "company_id": profile.company_id.id,
                "endpoint_id": endpoint.id,
                "connector_id": endpoint.connector_id.id,
                "payload": text,
                "content_type": content_type,
                "profile_id": profile.id,
                "data_version": 1,
                "res_model": record._name,
                "res_id": record.id,
                "res_ref": record.display_name,
                "occurred_at": now,
                "next_attempt_at": now,
            }
        )
        self._trigger_delivery()
        return event

    @api.model
    def _trigger_delivery(self):
        """Wake the delivery cron once this transaction commits (a rollback cancels it)."""
        cron = self.env.ref(CRON_XMLID, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    # ------------------------------------------------------------------------------
    # Delivering (cron)
    # ------------------------------------------------------------------------------

    @api.model
    def _cron_deliver(self, batch_size=50, max_batches=None):
        """Entry point of the delivery cron."""
        return self._deliver(batch_size=batch_size, max_batches=max_batches, commit=auto_commit())

    @api.model
    def _deliver(self, batch_size=50, max_batches=None, commit=True):
        """Claim, send and record due events batch by batch.

        :param commit: commit the claim and each result (production). Tests pass False:
            everything then happens in the test's transaction, HTTP included.
        :return: number of attempts made
        """
        self._requeue_stale()
        sent = 0
        batches = 0
        with requests.Session() as session:
            while max_batches is None or batches < max_batches:
                jobs = self._claim(batch_size, commit)
                if not jobs:
                    break
                batches += 1
                opened = set()
                claimed_at = time.monotonic()
                for index, job in enumerate(jobs):
                    if time.monotonic() - claimed_at > BATCH_SECONDS:
                        # slow receivers: give the rest back untried, claim afresh
                        self._release(jobs[index:])
                        if commit:
                            self.env.cr.commit()  # pylint: disable=invalid-commit
                        break
                    if job["endpoint_id"] in opened:
                        # the circuit opened during this batch: not attempted, not counted
                        self._release([job])
                        if commit:
                            self.env.cr.commit()  # pylint: disable=invalid-commit
                        continue
                    result = self._send(session, job)
                    sent += 1
                    if commit:
                        # the breaker row may have been changed by another worker since:
                        # lock and re-read it instead of failing on a stale snapshot
                        self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    breaker = self._record(job, result)
                    if breaker.state != outbound.CLOSED:
                        opened.add(job["endpoint_id"])
                    if commit:
                        remaining = self.env["ir.cron"]._commit_progress(1)
                        if not remaining:
                            # out of time: give back what this batch did not try
                            self._release(jobs[index + 1 :])
                            self.env.cr.commit()  # pylint: disable=invalid-commit
                            return sent
                self.env.flush_all()
        return sent

    @api.model
    def _requeue_stale(self):
        """Give back events whose worker died mid-request (at least once: resend them)."""
        self.env.flush_all()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE hc_outbox_event
                      SET state = 'failed', next_attempt_at = %(now)s, started_at = NULL,
                          error_code = 'worker_lost',
                          error_message = 'The delivery worker stopped during the attempt.'
                    WHERE id IN (SELECT id FROM hc_outbox_event
                                  WHERE state = 'sending' AND started_at < %(stale)s
                                  FOR UPDATE SKIP LOCKED)""",
                now=now,
                stale=now - timedelta(minutes=STALE_SENDING_MINUTES),
            )
        )
        if self.env.cr.rowcount:
            _logger.warning("Requeued %d stale outbound events", self.env.cr.rowcount)
            self.invalidate_model()

    @api.model
    def _claim(self, limit, commit=True):
        """Lock and mark ``sending`` up to ``limit`` due events; return their send jobs.

        ``FOR UPDATE SKIP LOCKED`` in READ COMMITTED (like the inbox's claim) lets any
        number of workers claim disjoint events.  Events of an endpoint whose circuit is
        open are not claimed; an open circuit past its cool-down lets exactly one event
        through as a probe (the endpoint row is marked half-open with the probe's start).
        Everything the HTTP request needs is read here, so no transaction stays open
        while waiting on a receiver.
        """
        self.env.flush_all()
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
            self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        now = fields.Datetime.now()
        cr = self.env.cr
        probes = {}
        cr.execute(
            """SELECT id, circuit_state, consecutive_failures, circuit_open_until,
                      probe_started_at
                 FROM hc_outbox_endpoint
                WHERE active AND circuit_state != 'closed'
                ORDER BY id
                  FOR UPDATE SKIP LOCKED"""
        )
        for endpoint_id, state, failures, open_until, probe_since in cr.fetchall():
            breaker = outbound.Breaker(state, failures or 0, _ts(open_until), _ts(probe_since))
            if outbound.admission(breaker, now.timestamp(), PROBE_TIMEOUT_SECONDS) != "probe":
                continue
            cr.execute(
                SQL(
                    """SELECT id FROM hc_outbox_event
                        WHERE endpoint_id = %s AND state IN %s AND next_attempt_at <= %s
                        ORDER BY next_attempt_at, id LIMIT 1
                          FOR UPDATE SKIP LOCKED""",
                    endpoint_id,
                    CLAIMABLE_STATES,
                    now,
                )
            )
            row = cr.fetchone()
            if row:
                cr.execute(
                    SQL(
                        """UPDATE hc_outbox_endpoint SET circuit_state = 'half_open',
                                  probe_started_at = %s WHERE id = %s""",
                        now,
                        endpoint_id,
                    )
                )
                probes[row[0]] = endpoint_id
        cr.execute(
            SQL(
                """SELECT e.id FROM hc_outbox_event e
                     JOIN hc_outbox_endpoint p ON p.id = e.endpoint_id
                    WHERE e.state IN %(states)s AND e.next_attempt_at <= %(now)s
                      AND p.active AND p.circuit_state = 'closed'
                    ORDER BY e.next_attempt_at, e.id
                    LIMIT %(limit)s
                      FOR UPDATE OF e SKIP LOCKED""",
                states=CLAIMABLE_STATES,
                now=now,
                limit=limit,
            )
        )
        ids = list(probes) + [row[0] for row in cr.fetchall()]
        if not ids:
            if commit:
                cr.commit()  # pylint: disable=invalid-commit
            return []
        cr.execute(
            SQL(
                """UPDATE hc_outbox_event
                      SET state = 'sending', attempts = attempts + 1, started_at = %(now)s,
                          last_attempt_at = %(now)s,
                          first_attempt_at = COALESCE(first_attempt_at, %(now)s)
                    WHERE id IN %(ids)s
                RETURNING id, state""",
                now=now,
                ids=tuple(ids),
            )
        )
        self.invalidate_model()
        self.env["hc.outbox.endpoint"].invalidate_model()
        events = self.sudo().browse(ids)
        jobs = []
        for event in events:
            endpoint = event.endpoint_id.sudo()
            try:
                secrets = endpoint._signing_secrets()
            except (crypto.KeyMissingError, crypto.DecryptionError) as exc:
                secrets = exc
            refusal = None
            profile = event.profile_id.sudo()
            if profile and profile.environment != endpoint.environment:
                # environment segregation, checked again at send: whatever changed since
                refusal = self.env._(
                    "Environment segregation: the %(env)s profile %(profile)s may not send "
                    "to the %(endpoint_env)s endpoint %(endpoint)s.",
                    env=profile.environment,
                    profile=profile.display_name,
                    endpoint_env=endpoint.environment,
                    endpoint=endpoint.display_name,
                )
            jobs.append(
                {
                    "id": event.id,
                    "event_uuid": event.event_uuid,
                    "event_type": event.event_type,
                    "body": (event.payload or "").encode(),
                    "attempts": event.attempts,
                    "endpoint_id": endpoint.id,
                    "url": endpoint.url,
                    "timeout": endpoint.timeout_seconds,
                    "secrets": secrets,
                    "max_attempts": endpoint.max_attempts,
                    "backoff_base": endpoint.backoff_base_seconds,
                    "backoff_max": endpoint.backoff_max_seconds,
                    "breaker_threshold": endpoint.breaker_threshold,
                    "breaker_cooldown": endpoint.breaker_cooldown_seconds,
                    "probe": event.id in probes,
                    "content_type": event.content_type or None,
                    "refusal": refusal,
                }
            )
        if commit:
            cr.commit()  # pylint: disable=invalid-commit
        return jobs

    @api.model
    def _send(self, session, job):
        """POST one event: no database access here, only HTTP.

        :return: dict with ``outcome`` (:class:`outbound.Outcome`), ``status``,
            ``error``, ``response`` excerpt and ``duration_ms``
        """
        result = {"status": None, "error": None, "response": None}
        started = time.monotonic()
        if job.get("refusal"):
            result["outcome"] = outbound.Outcome(outbound.DEAD, "environment_mismatch")
            result["error"] = job["refusal"]
            result["duration_ms"] = 0
            return result
        if isinstance(job["secrets"], Exception) or not job["secrets"]:
            result["outcome"] = outbound.Outcome(outbound.RETRY, "signing_unavailable")
            result["error"] = str(job["secrets"]) or "no signing secret"
            result["duration_ms"] = 0
            return result
        headers = outbound.delivery_headers(
            job["event_uuid"],
            job["event_type"],
            job["secrets"],
            job["body"],
            time.time(),
            attempt=job["attempts"],
            content_type=job.get("content_type"),
        )
        try:
            response = session.post(
                job["url"],
                data=job["body"],
                headers=headers,
                timeout=job["timeout"],
                allow_redirects=False,
                stream=True,
            )
            try:
                excerpt = response.raw.read(RESPONSE_EXCERPT_BYTES, decode_content=True)
            finally:
                response.close()
            result["status"] = response.status_code
            result["response"] = excerpt.decode("utf-8", errors="replace") if excerpt else None
            result["outcome"] = outbound.classify(
                response.status_code, retry_after=response.headers.get("Retry-After")
            )
        except requests.Timeout as exc:
            result["outcome"] = outbound.classify(error="timeout")
            result["error"] = str(exc)
        except requests.ConnectionError as exc:
            result["outcome"] = outbound.classify(error="connection_error")
            result["error"] = str(exc)
        except requests.RequestException as exc:
            result["outcome"] = outbound.classify(error="request_error")
            result["error"] = str(exc)
        except Exception as exc:  # a receiver must never kill the worker
            _logger.exception("Unexpected error delivering outbound event %s", job["id"])
            result["outcome"] = outbound.classify(error="unexpected_error")
            result["error"] = repr(exc)
        result["duration_ms"] = int((time.monotonic() - started) * 1000)
        return result

    @api.model
    def _record(self, job, result):
        """Write an attempt's outcome on the event and its endpoint's circuit breaker.

        :return: the endpoint's breaker after this attempt
        """
        self.env.flush_all()
        now = fields.Datetime.now()
        outcome = result["outcome"]
        cr = self.env.cr
        # the endpoint row lock serialises breaker updates of concurrent workers
        cr.execute(
            SQL(
                """SELECT circuit_state, consecutive_failures, circuit_open_until,
                          probe_started_at
                     FROM hc_outbox_endpoint WHERE id = %s FOR UPDATE""",
                job["endpoint_id"],
            )
        )
        state, failures, open_until, probe_since = cr.fetchone()
        breaker = outbound.Breaker(state, failures or 0, _ts(open_until), _ts(probe_since))
        answered = result["status"] is not None
        if outcome.breaker_failure:
            after = outbound.on_failure(
                breaker, job["breaker_threshold"], job["breaker_cooldown"], now.timestamp()
            )
        elif answered:
            after = outbound.on_success(breaker)  # any HTTP answer proves the endpoint is up
        elif job["probe"]:
            after = outbound.Breaker(breaker.state, breaker.failures, breaker.open_until, None)
        else:
            after = breaker
        endpoint_vals = {}
        if after != breaker:
            endpoint_vals.update(
                circuit_state=after.state,
                consecutive_failures=after.failures,
                circuit_open_until=_from_ts(after.open_until),
                probe_started_at=_from_ts(after.probe_since),
            )
            if after.state == outbound.OPEN and breaker.state != outbound.OPEN:
                endpoint_vals["circuit_opened_at"] = now
                _logger.warning(
                    "Outbound endpoint %s: circuit opened after %d failures",
                    job["endpoint_id"],
                    after.failures,
                )
        if answered and not outcome.breaker_failure:
            endpoint_vals["last_success_at"] = now
        if outcome.kind != outbound.DELIVERED:
            endpoint_vals.update(last_failure_at=now, last_error=outcome.code)
        if endpoint_vals:
            self.env["hc.outbox.endpoint"].sudo().browse(job["endpoint_id"]).write(endpoint_vals)

        next_state, delay = outbound.next_step(
            outcome, job["attempts"], job["max_attempts"], job["backoff_base"], job["backoff_max"]
        )
        vals = {
            "state": next_state,
            "started_at": False,
            "last_http_status": result["status"] or 0,
            "last_duration_ms": result["duration_ms"],
            "last_response": result["response"] or False,
        }
        if next_state == outbound.DELIVERED:
            vals.update(delivered_at=now, error_code=False, error_message=False)
        else:
            reason = result["error"] or self.env._("HTTP %s", result["status"])
            if next_state == outbound.DEAD and outcome.kind != outbound.DEAD:
                reason = self._exhausted_reason(job["attempts"], reason)
            vals.update(error_code=outcome.code, error_message=reason)
            if delay is not None:
                vals["next_attempt_at"] = now + timedelta(seconds=delay)
        self.sudo().browse(job["id"]).write(vals)
        return after

    @api.model
    def _release(self, jobs):
        """Give claimed events back untried: the attempt is not counted."""
        if not jobs:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE hc_outbox_event
                      SET state = CASE WHEN attempts > 1 THEN 'failed' ELSE 'pending' END,
                          attempts = GREATEST(attempts - 1, 0), started_at = NULL
                    WHERE id IN %s AND state = 'sending'""",
                tuple(job["id"] for job in jobs),
            )
        )
        self.invalidate_model()

    @api.model
    def _cron_purge(self, keep_days=90, batch_size=5000):
        """Delete delivered events older than ``keep_days`` (dead letters are kept).

        Payloads hold financial data: they are kept as long as operations need them to
        answer "was the supplier told?", then go.  Batched, committing between batches.
        """
        self.env.flush_all()
        commit = auto_commit()
        cutoff = fields.Datetime.now() - timedelta(days=keep_days)
        purged = 0
        while True:
            self.env.cr.execute(
                SQL(
                    """DELETE FROM hc_outbox_event WHERE id IN (
                           SELECT id FROM hc_outbox_event
                            WHERE state = 'delivered' AND delivered_at < %s
                            LIMIT %s FOR UPDATE SKIP LOCKED)""",
                    cutoff,
                    batch_size,
                )
            )
            count = self.env.cr.rowcount
            purged += count
            if commit:
                self.env["ir.cron"]._commit_progress(count)
            if count < batch_size:
                break
        if purged:
            _logger.info(
                "Purged %d delivered outbound events older than %d days", purged, keep_days
            )
            self.invalidate_model()
        return purged

    # ------------------------------------------------------------------------------
    # Dead letters: replay and manual actions (integration admins)
    # ------------------------------------------------------------------------------

    def _replay_audit_data(self):
        return {
            "event_id": self.event_uuid,
            "type": self.event_type,
            "previous_state": self.state,
            "error": self.error_code,
            "attempts": self.attempts,
        }

    def _kill_audit_data(self):
        return {"event_id": self.event_uuid, "previous_state": self.state}

    def _queue_wake(self):
        self._trigger_delivery()

    def action_open_source(self):
        self.ensure_one()
        return source_action(self, self.res_ref or self.env._("Source"))
