"""The API's accept on the process's own connection (``models/accept_connection.py``).

On real connections and committed rows (cleaned up): the test transaction is never
committed, and the accept connection is a connection of its own, so these tests step
outside it.  The HTTP tests cover the rest of the route on the test cursor.
"""

import contextlib
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID
from odoo import api
from odoo.exceptions import ConcurrencyError
from odoo.sql_db import db_connect

from ..models import accept_connection as accept_module
from .common import HcCase
from .common import let_threads_open_environments


class TestAcceptConnection(HcCase):
    def setUp(self):
        super().setUp()
        let_threads_open_environments(self)
        self.dbname = self.env.cr.dbname
        self.vendor_type = self.doc_types.filtered(lambda t: t.code == "vendor")
        self.addCleanup(accept_module.close_idle, self.dbname)

    @contextlib.contextmanager
    def committed_connector(self, code):
        """A connector committed (not in the test transaction): its id; afterwards its
        messages and their figures are removed with it."""
        setup_cr = db_connect(self.dbname).cursor()
        setup_cr.execute(
            """INSERT INTO hc_connector (name, code, company_id, data_classification, active,
                    max_attempts, backoff_base_seconds, backoff_max_seconds)
               VALUES (%s, %s, %s, 'internal', true, 3, 30, 3600) RETURNING id""",
            (code, f"{code}-test", self.company.id),
        )
        connector_id = setup_cr.fetchone()[0]
        setup_cr.commit()
        try:
            yield connector_id
        finally:
            setup_cr.execute("DELETE FROM hc_inbox_message WHERE connector_id = %s", [connector_id])
            setup_cr.execute(
                "DELETE FROM hc_inbox_stat_delta WHERE connector_id = %s", [connector_id]
            )
            setup_cr.execute("DELETE FROM hc_connector WHERE id = %s", [connector_id])
            setup_cr.commit()
            setup_cr.close()

    @contextlib.contextmanager
    def request_env(self):
        """An environment on a real cursor, as a request's outside tests (its transaction
        is rolled back at the end: what the accept stored must not depend on it)."""
        self.startPatcher(patch.object(accept_module, "usable", lambda cr: cr is not self.env.cr))
        cr = db_connect(self.dbname).cursor()
        try:
            yield api.Environment(cr, SUPERUSER_ID, {})
        finally:
            cr.rollback()
            cr.close()

    def accept(self, env, connector_id, raw, key=None):
        return env["hc.inbox.message"]._accept(
            env["hc.connector"].browse(connector_id),
            env["hc.document.type"].browse(self.vendor_type.id),
            env["res.company"].browse(self.company.id),
            "application/json",
            [raw],
            idempotency_key=key,
            commit=True,
        )

    def stored(self, message_ids):
        """``{id: (state, stat_counted)}`` as another connection reads them now."""
        with contextlib.closing(db_connect(self.dbname).cursor()) as cr:
            cr.execute(
                "SELECT id, state, stat_counted FROM hc_inbox_message WHERE id = ANY(%s)",
                [list(message_ids)],
            )
            return {id_: (state, counted) for id_, state, counted in cr.fetchall()}

    def test_stored_and_committed_before_the_callers_transaction(self):
        with self.committed_connector("acc1") as connector_id:
            with self.request_env() as env:
                [(first, status)] = self.accept(env, connector_id, b'{"name": "A"}')
                self.assertEqual(status, "created")
                [(second, status)] = self.accept(env, connector_id, b'{"name": "B"}')
                self.assertEqual(status, "created")
                ids = (first.id, second.id)
                # committed although the caller's transaction is not
                self.assertEqual(self.stored(ids), dict.fromkeys(ids, ("received", True)))
            # the caller's transaction rolled back: the documents stay
            self.assertEqual(self.stored(ids), dict.fromkeys(ids, ("received", True)))
            # the statement was prepared once and executed twice on the same connection
            with accept_module.borrowed(self.dbname) as connection:
                with connection.cnx.cursor() as cur:
                    cur.execute(
                        "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements"
                    )
                    self.assertEqual(cur.fetchall(), [("hc_accept_1", 2)])
            # and counted in the inbox figures by the statement itself
            with contextlib.closing(db_connect(self.dbname).cursor()) as cr:
                cr.execute(
                    """SELECT kind, sum(n) FROM hc_inbox_stat_delta
                        WHERE connector_id = %s GROUP BY kind ORDER BY kind""",
                    [connector_id],
                )
                self.assertEqual(cr.fetchall(), [("r", 2), ("s", 2)])

    def test_a_broken_connection_is_replaced(self):
        with self.committed_connector("acc2") as connector_id:
            with self.request_env() as env:
                [(first, _status)] = self.accept(env, connector_id, b'{"name": "A"}')
            with accept_module.borrowed(self.dbname) as connection:
                pid = connection.cnx.get_backend_pid()
            with contextlib.closing(db_connect(self.dbname).cursor()) as cr:
                cr.execute("SELECT pg_terminate_backend(%s)", [pid])
                cr.commit()  # pylint: disable=invalid-commit
            with self.request_env() as env:
                [(second, status)] = self.accept(env, connector_id, b'{"name": "B"}')
            self.assertEqual(status, "created")
            self.assertNotEqual(connection.cnx.get_backend_pid(), pid)
            self.assertEqual(
                self.stored([first.id, second.id]),
                {first.id: ("received", True), second.id: ("received", True)},
            )

    def test_a_failed_statement_stores_nothing_and_the_next_one_works(self):
        with self.committed_connector("acc3") as connector_id:
            with self.request_env() as env:
                with self.assertRaises(psycopg2.errors.ForeignKeyViolation):
                    env["hc.inbox.message"]._accept(
                        env["hc.connector"].browse(connector_id),
                        env["hc.document.type"].browse(self.vendor_type.id),
                        env["res.company"].browse(2**31 - 1),  # no such company
                        "application/json",
                        [b'{"name": "A"}'],
                        commit=True,
                    )
                [(message, status)] = self.accept(env, connector_id, b'{"name": "A"}')
            self.assertEqual(status, "created")
            self.assertEqual(self.stored([message.id]), {message.id: ("received", True)})
            with contextlib.closing(db_connect(self.dbname).cursor()) as cr:
                cr.execute(
                    "SELECT count(*) FROM hc_inbox_message WHERE connector_id = %s",
                    [connector_id],
                )
                self.assertEqual(cr.fetchone()[0], 1)

    def test_a_duplicate_stored_after_the_callers_snapshot_serves_the_request_again(self):
        with self.committed_connector("acc4") as connector_id:
            with self.request_env() as env:
                env.cr.execute("SELECT 1")  # the caller's snapshot, as a request's
                with self.request_env() as other:
                    [(original, status)] = self.accept(other, connector_id, b'{"n": 1}', "k1")
                self.assertEqual(status, "created")
                # stored by the other request after this one's snapshot: this one cannot
                # read it, and Odoo's retrying serves the request again
                with self.assertRaises(ConcurrencyError):
                    self.accept(env, connector_id, b'{"n": 1}', "k1")
            with self.request_env() as env:  # the request served again
                [(message, status)] = self.accept(env, connector_id, b'{"n": 1}', "k1")
                self.assertEqual((message.id, status), (original.id, "duplicate"))
                [(message, status)] = self.accept(env, connector_id, b'{"n": 2}', "k1")
                self.assertEqual((message.id, status), (original.id, "conflict"))

    def test_tests_keep_the_callers_transaction(self):
        # (what every test of the API relies on: the test transaction sees the message,
        # and nothing is committed)
        [(message, status)] = self.Inbox._accept(
            self.connector,
            self.vendor_type,
            self.company,
            "application/json",
            [b'{"name": "A"}'],
            commit=True,
        )
        self.assertEqual(status, "created")
        self.assertEqual(message.state, "received")
        self.assertEqual(self.stored([message.id]), {})

    def test_one_connection_per_concurrent_request_reused_by_the_next(self):
        # A threaded server serves each request in a thread of its own: the connection
        # outlives the thread, and two requests at once get one each.
        import threading

        with self.committed_connector("acc5") as connector_id:

            def request(raw):
                with self.request_env() as env:
                    self.accept(env, connector_id, raw)

            pids = []
            for raw in (b'{"n": 1}', b'{"n": 2}'):
                thread = threading.Thread(target=request, args=(raw,))
                thread.start()
                thread.join()
                with accept_module.borrowed(self.dbname) as connection:
                    pids.append(connection.cnx.get_backend_pid())
            self.assertEqual(pids[0], pids[1])
            with accept_module.borrowed(self.dbname) as first:
                with accept_module.borrowed(self.dbname) as second:
                    self.assertIsNot(first, second)
            with accept_module.borrowed(self.dbname) as connection:
                self.assertEqual(connection.cnx.get_backend_pid(), pids[0])
