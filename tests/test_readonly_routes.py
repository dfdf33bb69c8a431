"""Read replica: the API's GET routes and the dashboard's reads are declared read-only and
write nothing (Odoo 19 serves them on ``db_replica_host`` when one is configured).

Odoo's test cursors play the replica: a readonly route gets a cursor whose transaction is
``READ ONLY``, so a write there fails as it would on a streaming replica, and Odoo logs
"retrying with a read/write cursor" and serves the request again on the primary.  These
tests read the routing map, spy on which cursor served each request, and fail on that
warning; a deliberately writing route is the positive control of the whole chain.
"""

import functools
import inspect
import logging
import threading
from contextlib import contextmanager
from unittest.mock import patch

import psycopg2

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..controllers.api import PREFIX
from ..controllers.api import HcApiController
from .security_common import CallKwMixin
from .security_common import TwoCompanyCase

RETRY_WARNING = "retrying with a read/write cursor"
# The API's routes by path and the read/write mode each must have.
EXPECTED_MODES = {
    f"{PREFIX}/<string:endpoint>": False,
    f"{PREFIX}/messages/<int:message_id>/replay": False,
    f"{PREFIX}/messages/<int:message_id>": "per request",
    f"{PREFIX}/messages": "per request",
    f"{PREFIX}/openapi.json": True,
    f"{PREFIX}/health": True,
    f"{PREFIX}/metrics": True,
    f"{PREFIX}/<path:unknown>": True,
}
# Model methods the web client calls over RPC that a replica may serve.
READONLY_RPC = {("hc.metrics", "get_dashboard"), ("hc.audit.log", "action_verify_chain")}


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@tagged("post_install", "-at_install")
class TestReadonlyDeclarations(TwoCompanyCase):
    """What the routing map and the models declare."""

    def api_rules(self):
        # (the routing map is built for the current thread's database, as in a request)
        with patch.object(threading.current_thread(), "dbname", self.env.cr.dbname, create=True):
            routing_map = self.env["ir.http"].routing_map()
        return {
            rule.rule: rule for rule in routing_map.iter_rules() if rule.rule.startswith(PREFIX)
        }

    def test_get_routes_are_readonly_and_posts_are_not(self):
        rules = self.api_rules()
        self.assertEqual(set(rules), set(EXPECTED_MODES), "the API's routes changed: classify them")
        for path, rule in rules.items():
            readonly = rule.endpoint.routing["readonly"]
            methods = set(rule.endpoint.routing["methods"])
            with self.subTest(path=path):
                expected = EXPECTED_MODES[path]
                if expected == "per request":
                    self.assertIs(readonly, HcApiController._status_on_replica)
                else:
                    self.assertIs(readonly, expected)
                if methods <= {"GET", "HEAD"}:
                    self.assertTrue(readonly, f"GET {path} must be served by a replica")
                if "POST" in methods and path != f"{PREFIX}/<path:unknown>":
                    self.assertFalse(readonly, f"POST {path} writes: the primary serves it")

    def test_dashboard_reads_are_readonly_rpc(self):
        for model, method in READONLY_RPC:
            with self.subTest(method=f"{model}.{method}"):
                self.assertIs(getattr(type(self.env[model]), method)._readonly, True)
        # the control: a method that writes is not declared readonly
        for model, method in (("hc.inbox.message", "action_replay"), ("hc.metrics", "_health")):
            self.assertFalse(getattr(getattr(type(self.env[model]), method), "_readonly", False))

    @contextmanager
    def read_only(self):
        """A read-only transaction, as on a streaming replica: a write raises
        ``ReadOnlySqlTransaction``; rolled back whatever happens."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SAVEPOINT hc_read_only")
        cr.execute("SET TRANSACTION READ ONLY")
        try:
            yield
            self.env.flush_all()
        finally:
            cr.execute("ROLLBACK TO SAVEPOINT hc_read_only")
            self.env.invalidate_all()

    def test_read_only_transaction_refuses_writes(self):
        """The positive control of the tests below: the helper does refuse a write."""
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.ReadOnlySqlTransaction),
            self.read_only(),
        ):
            self.lane_bulk.batch_size += 1

    def test_dashboard_and_metrics_write_nothing(self):
        for doc_type, company in (("vendor", self.company_a), ("vendor", self.company_b)):
            self.accept_for(self.vendor_doc(), doc_type, company)
        auditor = self.make_user("ro_auditor", "auditor", self.company_a)
        metrics = self.env["hc.metrics"]
        with self.read_only():
            board = metrics.with_user(auditor).get_dashboard([self.company_a.id])
            healthy, details = metrics.sudo()._health(company_ids=self.company_a.ids)
            text = metrics.sudo()._prometheus(self.company_a.ids)
            verified = self.env["hc.audit.log"].with_user(auditor).action_verify_chain()
        self.assertEqual(board["company_ids"], [self.company_a.id])
        self.assertEqual(details["database"], "ok")
        self.assertIsInstance(healthy, bool)
        self.assertIn(b"hc_inbox_messages", text)
        self.assertEqual(verified["params"]["type"], "success")


@tagged("post_install", "-at_install")
class TestReadonlyRequests(CallKwMixin, TwoCompanyCase, HttpCase):
    """Which cursor serves each request, and that no readonly request wrote."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.auditor = cls.make_user("ro_http_auditor", "auditor", cls.company_a)
        cls.auditor.password = "ro-http-auditor-2026!"
        cls.staff_key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.auditor)
            .sudo()
            ._generate("hc_p2p", "replica test", None)
        )

    @contextmanager
    def no_readonly_retry(self, quiet=False):
        """Fails when a readonly request wrote (Odoo's retry warning); ``quiet``: the
        warnings are recorded only, not printed (the positive control)."""
        handler = _Records()
        logger = logging.getLogger("odoo.http")
        saved = logger.handlers, logger.propagate
        if quiet:
            logger.handlers, logger.propagate = [handler], False
        else:
            logger.addHandler(handler)
        try:
            yield
        finally:
            logger.handlers, logger.propagate = saved
        retried = [r.getMessage() for r in handler.records if RETRY_WARNING in r.getMessage()]
        self.assertFalse(retried, "a readonly route wrote, Odoo served it again on the primary")

    @contextmanager
    def cursor_modes(self, owner, name, write=False):
        """Spy ``owner.name``: the list of ``cr.readonly`` of each call (``write``: make
        it write first, the positive control)."""
        original = getattr(owner, name)
        seen = []

        @functools.wraps(original)
        def spy(*args, **kwargs):
            from odoo.http import request

            seen.append(bool(request.env.cr.readonly))
            if write:
                request.env["hc.lane"].sudo().search([], limit=1).batch_size += 1
                request.env.flush_all()
            return original(*args, **kwargs)

        static = isinstance(inspect.getattr_static(owner, name), staticmethod)
        with patch.object(owner, name, staticmethod(spy) if static else spy):
            yield seen

    def get(self, path, key=None, headers=None):
        hdrs = {"Authorization": f"Bearer {key or self.api_key}", **(headers or {})}
        return self.url_open(f"{PREFIX}/{path}", headers=hdrs)

    def test_status_reads_run_on_the_replica_cursor(self):
        message = self.accept_for(self.vendor_doc(), "vendor", self.company_a)
        self.assertTrue(message.idempotency_key)
        with self.no_readonly_retry():
            with self.cursor_modes(HcApiController, "_find_message") as seen:
                response = self.get(f"messages/{message.id}")
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(response.json()["id"], message.id)
            self.assertEqual(seen, [True, True], "found on the replica, answered from it")

            with self.cursor_modes(HcApiController, "_find_message") as seen:
                response = self.get(f"messages?idempotency_key={message.idempotency_key}")
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(seen, [True, True])

            # not on the replica (perhaps not replicated yet): the primary answers
            with self.cursor_modes(HcApiController, "_find_message") as seen:
                response = self.get("messages/99999999")
            self.assertEqual(response.status_code, 404, response.text)
            self.assertEqual(seen, [True, False])

            # refused before any read: on the replica, writing nothing
            with self.cursor_modes(HcApiController, "_find_message") as seen:
                response = self.get(f"messages/{message.id}", key="not-a-key")
            self.assertEqual(response.status_code, 401, response.text)
            self.assertEqual(seen, [])

    def test_connectors_whose_requests_write_are_served_by_the_primary(self):
        message = self.accept_for(self.vendor_doc(), "vendor", self.company_a)
        self.connector.write({"rate_limit_per_second": 50, "rate_limit_burst": 5})
        with self.no_readonly_retry():
            with self.cursor_modes(HcApiController, "_find_message") as seen:
                response = self.get(f"messages/{message.id}")
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(seen, [False], "a rate-limited read takes a token: primary")
        self.env.cr.execute(
            "SELECT count(*) FROM hc_rate_bucket WHERE connector_id = %s", [self.connector.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 1, "the token was taken")

    def test_health_metrics_openapi_and_unknown_paths_on_the_replica_cursor(self):
        metrics = type(self.env["hc.metrics"])
        auth = {"Authorization": f"Bearer {self.staff_key}"}
        with self.no_readonly_retry():
            with self.cursor_modes(metrics, "_health") as seen:
                self.assertIn(self.url_open(f"{PREFIX}/health").status_code, (200, 503))
                self.assertIn(
                    self.url_open(f"{PREFIX}/health", headers=auth).status_code, (200, 503)
                )
            self.assertEqual(seen, [True, True])
            with self.cursor_modes(metrics, "_prometheus") as seen:
                response = self.url_open(f"{PREFIX}/metrics", headers=auth)
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(seen, [True])
            self.assertEqual(self.url_open(f"{PREFIX}/openapi.json").status_code, 200)
            self.assertEqual(self.url_open(f"{PREFIX}/no/such/thing").status_code, 404)

    def test_dashboard_rpc_on_the_replica_cursor(self):
        self.authenticate(self.auditor.login, "ro-http-auditor-2026!")
        metrics = type(self.env["hc.metrics"])
        audit = type(self.env["hc.audit.log"])
        with self.no_readonly_retry():
            with self.cursor_modes(metrics, "_compute_metrics") as seen:
                board, error = self.call_kw("hc.metrics", "get_dashboard", [], {})
            self.assertFalse(error, error)
            self.assertEqual(board["company_ids"], [self.company_a.id])
            self.assertEqual(seen, [True])
            with self.cursor_modes(audit, "_verify_report") as seen:
                action, error = self.call_kw("hc.audit.log", "action_verify_chain", [[]], {})
            self.assertFalse(error, error)
            self.assertEqual(action["params"]["type"], "success")
            self.assertEqual(seen, [True])

    def test_a_readonly_route_that_writes_is_caught(self):
        """The positive control: a write in a readonly route fails on the replica cursor,
        Odoo serves the request again on the primary and the retry detector sees it."""
        metrics = type(self.env["hc.metrics"])
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(AssertionError, "a readonly route wrote"),
            self.no_readonly_retry(quiet=True),
            self.cursor_modes(metrics, "_health", write=True) as seen,
        ):
            self.assertIn(self.url_open(f"{PREFIX}/health").status_code, (200, 503))
        self.assertEqual(seen, [True, False])
