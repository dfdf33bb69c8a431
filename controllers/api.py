"""Versioned HTTP API: ``/api/hc/v1/``.

A POST authenticates the connector, checks its scopes, stores the raw document(s) in the
inbox and answers 202 with the message id: parsing and applying happen in lane workers.
Every refusal is JSON ``{"error": {"code", "message", "fields"}}`` with a stable code.

Not ``auth="bearer"``: Odoo's bearer routes answer werkzeug errors, not the stable JSON
error codes external systems are written against, and cannot tell a connector's key from
a person's; the API authenticates connector keys itself (``_connector``, ``_staff``).

Read replica: the GET routes are ``readonly`` (Odoo 19 opens their cursor on
``db_replica_host`` when one is configured, on the primary otherwise) and write nothing;
the POST routes are read/write.  ``GET /messages`` decides per request
(:meth:`HcApiController._status_on_replica`).  A readonly route that writes anyway is
not broken, only slow: PostgreSQL refuses the write, Odoo logs a warning and serves the
request again on the primary (``tests/test_readonly_routes.py`` asserts none does).
"""

import logging
import re
import time

import psycopg2

from odoo import SUPERUSER_ID
from odoo import http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..api_contract.intake import IntakeError
from ..api_contract.intake import negotiate_quietly
from ..api_contract.intake import split_request
from ..api_contract.openapi import build as build_openapi
from ..formats.registry import STORED_CONTENT_TYPES
from ..formats.registry import acknowledges
from ..formats.registry import acknowledgment
from . import guard

_logger = logging.getLogger(__name__)

PREFIX = "/api/hc/v1"
HARD_MAX_BYTES = 64 * 1024 * 1024
BEARER_RE = re.compile(r"^bearer\s+(\S+)$", re.IGNORECASE)


# Largest record id PostgreSQL's integer columns hold: a larger one in a URL is not found.
MAX_ID = 2**31 - 1


def _valid_key(key):
    """An idempotency key: 1 to 200 characters, none of them a control character (a NUL
    cannot even be stored)."""
    return 0 < len(key) <= 200 and key.isprintable()


def _error(status, code, message, fields=None, headers=None, **extra):
    body = {"error": {"code": code, "message": message, "fields": fields or []}, **extra}
    return request.make_json_response(body, status=status, headers=headers)


def _request_body():
    """The request's body, read from the socket once and kept on the request.

    A handler that raises a serialization failure is served again by Odoo's
    ``service.model.retrying`` with the same ``httprequest``, whose input stream was
    consumed by the first attempt: ``get_data(cache=True)`` keeps the bytes (werkzeug's
    ``_cached_data``) so the retried attempt, and its signature check, see exactly the
    bytes that arrived instead of ``b""``.
    """
    return request.httprequest.get_data(cache=True)


def _functional_ack(fmt, body, accepted, doc_type):
    """The acknowledgments of a format that answers an interchange, else ``{}``: for X12
    ``{"functional_ack": 997/999, "interchange_ack": TA1}`` (each None when not due, or
    when not even the ISA reads); the 997/999 rejects the sets ``doc_type``'s endpoint
    does not process."""
    if not (fmt and acknowledges(fmt)):
        return {}
    return acknowledgment(fmt, body, accepted, doc_type)


class HcApiController(http.Controller):
    # ------------------------------------------------------------------ helpers

    def _connector(self):
        """Authenticate the bearer token; return ``(connector, error_response)``."""
        header = request.httprequest.headers.get("Authorization", "")
        match = BEARER_RE.match(header.strip())
        if not match:
            return None, _error(
                401,
                "unauthenticated",
                "Send the connector's API key as 'Authorization: Bearer <key>'.",
                headers=[("WWW-Authenticate", "Bearer")],
            )
        connector = request.env["hc.connector"].sudo()._authenticate(match.group(1))
        if not connector:
            return None, _error(
                401,
                "invalid_credentials",
                "The API key is unknown, expired or its connector is archived.",
                headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')],
            )
        request.update_env(user=connector._api_profile()[0])
        return connector, None

    def _staff(self, groups, denied):
        """Authenticate a person's API key and require one of ``groups``: error or None."""
        match = BEARER_RE.match(request.httprequest.headers.get("Authorization", "").strip())
        uid = match and request.env["res.users.apikeys"].sudo()._check_credentials(
            scope="hc_p2p", key=match.group(1)
        )
        if not uid:
            return _error(
                401,
                "unauthenticated",
                "An API key of an authorized person is required.",
                headers=[("WWW-Authenticate", "Bearer")],
            )
        request.update_env(user=uid)
        if not any(request.env.user.has_group(f"healthcare_p2p_integration.{g}") for g in groups):
            return _error(403, "forbidden", denied)
        return None

    def _company(self, connector):
        """The company the request is for: ``X-Company-Id`` header or the connector's."""
        header = request.httprequest.headers.get("X-Company-Id")
        if not header:
            return request.env["res.company"].browse(connector._api_profile()[1]), None
        # ASCII digits only: str.isdigit() also takes '²' or Arabic-Indic digits, which
        # int() then refuses or reads (security review F17: a 500 HTML page).
        if not (header.isascii() and header.isdigit()):
            return None, _error(400, "invalid_header", "X-Company-Id must be a company id.")
        company = connector._allowed_companies().filtered(lambda c: c.id == int(header))
        if not company:
            return None, _error(
                403, "company_not_allowed", "This connector may not post for that company."
            )
        return company, None

    # ------------------------------------------------------------------ routes

    # auth="none": the connector's key is the authentication (``_connector``, which then
    # runs the request as the connector's technical user), and Odoo's "public" would cost
    # a query per POST (``env.ref("base.public_user")`` checks the user still exists)
    # for a user this route never acts as.  Nothing runs as the public user before.
    @http.route(
        f"{PREFIX}/<string:endpoint>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def post_documents(self, endpoint, **_kwargs):
        """Accept one document or a batch for the document type behind ``endpoint``."""
        try:
            return self._post_documents(endpoint)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # Odoo rolls back and serves the request again
        except psycopg2.OperationalError:
            _logger.exception("Database unavailable while accepting a document")
            return _error(
                503,
                "unavailable",
                "The database is unavailable; retry later.",
                headers=[("Retry-After", "30")],
            )

    def _post_documents(self, endpoint):
        started = time.perf_counter()
        env = request.env
        doc_type = (
            env["hc.document.type"].sudo().browse(env["hc.document.type"]._id_by_endpoint(endpoint))
        )
        if not doc_type:
            return _error(404, "unknown_endpoint", f"No document endpoint {PREFIX}/{endpoint}.")
        doc_type_code = doc_type._cached_code()
        connector, err = self._connector()
        if err:
            return err
        refusal = guard.rate_limit(connector)
        if refusal:
            return _error(*refusal)
        if not connector._is_doc_type_allowed(doc_type_code):
            return _error(
                403,
                "document_type_not_allowed",
                f"Connector {connector.code} may not post {doc_type_code} documents.",
            )
        company, err = self._company(connector)
        if err:
            return err
        _user, _company, max_payload_bytes, max_batch_documents = connector._api_profile()
        length = request.httprequest.content_length
        limit = min(max_payload_bytes, HARD_MAX_BYTES)
        if length is not None and length > limit:
            return _error(413, "payload_too_large", f"The body exceeds {limit} bytes.")
        if length is None and request.httprequest.headers.get("Transfer-Encoding"):
            # A chunked body would be read whole before its size is known: refused.
            return _error(411, "length_required", "Send the body with a Content-Length.")
        body = _request_body()
        if len(body) > limit:
            return _error(413, "payload_too_large", f"The body exceeds {limit} bytes.")
        refusal = guard.verify_signature(connector, body)
        if refusal:
            return _error(*refusal)
        try:
            fmt, batch, items = split_request(
                doc_type_code,
                request.httprequest.headers.get("Content-Type"),
                body,
                max_batch_documents,
            )
        except IntakeError as exc:
            extra = {}
            if exc.status == 400:
                # EDI partners expect a functional acknowledgment rejecting the interchange
                fmt = negotiate_quietly(
                    doc_type_code, request.httprequest.headers.get("Content-Type")
                )
                extra = _functional_ack(fmt, body, False, doc_type_code)
            return _error(exc.status, exc.code, exc.message, exc.fields, **extra)

        key = request.httprequest.headers.get("Idempotency-Key")
        if key is not None and not _valid_key(key):
            return _error(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 200 printable characters.",
            )
        valid = [(i, raw) for i, (raw, errors) in enumerate(items) if not errors]
        content_type = STORED_CONTENT_TYPES[fmt]
        answers = {}
        accepted = (
            env["hc.inbox.message"]
            .sudo()
            ._accept(
                connector,
                doc_type,
                company,
                content_type,
                [raw for _i, raw in valid],
                idempotency_key=key,
                api_latency_ms=(time.perf_counter() - started) * 1000.0,
                answers=answers,
                commit=True,
            )
        )
        outcome = {index: result for (index, _raw), result in zip(valid, accepted, strict=True)}
        results = []
        for index, (_raw, errors) in enumerate(items):
            if errors:
                results.append(
                    {
                        "index": index,
                        "status": "rejected",
                        "error": {
                            "code": "invalid_document",
                            "message": "The document is invalid.",
                            "fields": errors,
                        },
                    }
                )
                continue
            message, status = outcome[index]
            entry = {
                "index": index,
                "status": status,
                "id": message.id,
                "state": "received" if status == "created" else message.state,
            }
            if status == "conflict":
                entry["error"] = {
                    "code": "idempotency_conflict",
                    "message": "This Idempotency-Key was used for a different document.",
                    "fields": [],
                }
            results.append(entry)

        extra = _functional_ack(fmt, body, True, doc_type_code)
        if not batch:
            entry = results[0]
            if entry["status"] == "rejected":
                return _error(
                    422,
                    "invalid_document",
                    "The document is invalid.",
                    entry["error"]["fields"],
                    **extra,
                )
            if entry["status"] == "conflict":
                return _error(
                    409,
                    "idempotency_conflict",
                    "This Idempotency-Key was used for a different document.",
                )
            message = outcome[0][0]
            created = entry["status"] == "created"
            return request.make_json_response(
                dict(
                    answers[message.id] if created else message._api_status(),
                    duplicate=not created,
                    **extra,
                ),
                status=202 if created else 200,
                headers=[("Location", f"{PREFIX}/messages/{message.id}")],
            )
        counts = {
            s: sum(1 for r in results if r["status"] == s)
            for s in ("created", "duplicate", "rejected", "conflict")
        }
        status = 202 if counts["created"] or counts["duplicate"] else 422
        return request.make_json_response(
            {"documents": len(results), "counts": counts, "results": results, **extra},
            status=status,
        )

    @staticmethod
    def _find_message(connector, message_id, idempotency_key):
        """The connector's message by id or idempotency key (empty when there is none);
        None when neither is usable (no id, no valid key)."""
        messages = request.env["hc.inbox.message"].sudo()
        if message_id:
            if message_id > MAX_ID:
                return messages  # no such row can exist (ids are 32-bit)
            return messages.search([("id", "=", message_id), ("connector_id", "=", connector.id)])
        if idempotency_key and _valid_key(idempotency_key):
            return messages._find_by_key(connector, idempotency_key)
        return None

    def _status_on_replica(self, rule, args):
        """``readonly`` of ``GET /messages``, called by Odoo 19 before the route runs, on
        the request's readonly cursor (the replica's when there is one): True serves the
        request there, False on the primary.

        A status read writes nothing, except for a connector that requires signatures (the
        request's nonce is recorded: single use, in the request's transaction) or is
        rate-limited (a token is taken from its bucket): those are read/write.  And the
        replica may lag the primary by its replay delay: a message accepted a moment ago
        may not be there yet, and the ``Location`` its 202 named must not answer 404, so
        a message the replica does not hold is looked up on the primary.
        """
        try:
            match = BEARER_RE.match(request.httprequest.headers.get("Authorization", "").strip())
            env = request.env(user=SUPERUSER_ID)
            connector = match and env["hc.connector"]._authenticate(match.group(1))
            if not connector:
                return True  # refused (401) without a write
            if connector._request_writes():
                return False
            key = request.httprequest.args.get("idempotency_key")
            return bool(self._find_message(connector, args.get("message_id"), key))
        except psycopg2.Error:
            return False  # (the replica went away mid-check) the primary answers

    @http.route(
        [f"{PREFIX}/messages/<int:message_id>", f"{PREFIX}/messages"],
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=_status_on_replica,
    )
    def get_message(self, message_id=None, idempotency_key=None, **_kwargs):
        """A message's state and result, by id or by idempotency key."""
        connector, err = self._connector()
        if err:
            return err
        refusal = guard.rate_limit(connector) or guard.verify_signature(connector, b"")
        if refusal:
            return _error(*refusal)
        message = self._find_message(connector, message_id, idempotency_key)
        if message is None and idempotency_key:
            return _error(
                400,
                "invalid_idempotency_key",
                "idempotency_key must be 1 to 200 printable characters.",
                [{"path": "idempotency_key"}],
            )
        if message is None:
            return _error(400, "missing_parameter", "Give a message id or ?idempotency_key=.")
        if not message:
            # Another connector's message is "not found" too: ids leak nothing.
            return _error(404, "not_found", "No such message for this connector.")
        return request.make_json_response(message._api_status())

    @http.route(
        f"{PREFIX}/messages/<int:message_id>/replay",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def replay_message(self, message_id, **_kwargs):
        """Replay a message (integration administrators' API keys only)."""
        err = self._staff(
            ("group_hc_integration_admin",), "Only integration administrators may replay messages."
        )
        if err:
            return err
        # Searched with the administrator's rights: another company's message is not found.
        message = request.env["hc.inbox.message"].search([("id", "=", min(message_id, MAX_ID + 1))])
        if not message:
            return _error(404, "not_found", "No such message.")
        try:
            payload = request.get_json_data() if request.httprequest.data else {}
        except ValueError:
            return _error(400, "malformed_json", 'The body must be JSON: {"reason": "..."}.')
        reason = (payload or {}).get("reason") if isinstance(payload, dict) else None
        if not reason or not isinstance(reason, str) or not reason.strip():
            return _error(422, "reason_required", "A replay needs a reason.", [{"path": "reason"}])
        if "\x00" in reason or len(reason) > 2000:
            return _error(
                422,
                "invalid_reason",
                "The reason must be text of at most 2,000 characters, without NUL.",
                [{"path": "reason"}],
            )
        if message.state == "processing":
            return _error(409, "busy", "The message is being processed; replay it afterwards.")
        message._replay(reason)
        return request.make_json_response(message._api_status(), status=202)

    @http.route(
        f"{PREFIX}/openapi.json",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def openapi(self, **_kwargs):
        """The published API contract (OpenAPI 3.1), generated from the canonical model."""
        return request.make_json_response(build_openapi(request.httprequest.host_url))

    @http.route(
        f"{PREFIX}/health",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def health(self, **_kwargs):
        """Liveness for load balancers and monitors: ``{"status": "ok"}`` (200) or
        ``{"status": "unavailable"}`` (503) and nothing else without a key; the details
        (lanes, queue depth, oldest message, stalled workers) need the API key of an
        integration administrator or an auditor (security review F19)."""
        if request.httprequest.method == "OPTIONS":
            # (the routing adds OPTIONS to every route; a probe is told what is served)
            return request.make_response("", status=204, headers=[("Allow", "GET, HEAD")])
        detailed = bool(request.httprequest.headers.get("Authorization"))
        if detailed:
            err = self._staff(
                ("group_hc_integration_admin", "group_hc_auditor"),
                "Only integration administrators and auditors read the health details.",
            )
            if err:
                return err
        try:
            healthy, details = (
                request.env["hc.metrics"]
                .sudo()
                ._health(company_ids=request.env.user.company_ids.ids if detailed else None)
            )
        except psycopg2.errors.ReadOnlySqlTransaction:
            raise  # a write on the replica: Odoo serves the request again on the primary
        except psycopg2.Error:
            return _error(
                503, "unavailable", "The database is unavailable.", headers=[("Retry-After", "30")]
            )
        if not detailed:
            details = {"status": "ok" if healthy else "unavailable"}
        return request.make_json_response(details, status=200 if healthy else 503)

    @http.route(
        f"{PREFIX}/metrics",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def metrics(self, **_kwargs):
        """Prometheus text format; needs an API key of an integration admin or an auditor."""
        err = self._staff(
            ("group_hc_integration_admin", "group_hc_auditor"),
            "Only integration administrators and auditors read metrics.",
        )
        if err:
            return err
        # the reader's companies only (security review F11)
        body = request.env["hc.metrics"].sudo()._prometheus(request.env.user.company_ids.ids)
        return request.make_response(
            body, headers=[("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]
        )

    @http.route(
        [f"{PREFIX}/<path:unknown>"],
        type="http",
        auth="none",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def unknown_route(self, unknown, **_kwargs):
        """Anything under the API that no route takes (a message id that is not a number,
        a path that does not exist) answers the API's JSON error, never Odoo's HTML page."""
        return _error(404, "unknown_endpoint", f"No such resource: {PREFIX}/{unknown}.")
