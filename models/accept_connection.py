"""The API's accept statement on a database connection of its own, kept across requests.

Odoo lends each request a connection of its pool after resetting it (psycopg2's
``reset()`` sends ``DISCARD ALL``), and PostgreSQL then forgets every plan it had cached:
each accepted POST planned its statement anew, with the foreign-key checks and the
figures' insert that run inside it (``RESULTS.md``: about 0.7 ms of PostgreSQL's time
per POST).  Here each Odoo process keeps a connection per database for accepting
documents (one per concurrent request, :func:`borrowed`): the statement is ``PREPARE``d once per
connection and request size, then only ``EXECUTE``d, in autocommit (one statement, its
own READ COMMITTED transaction, committed when it returns, in one round trip; the unique
index decides races between requests without an error).

What the API promises is unchanged: it answers 202 only after this commit, so an
accepted document is stored durably before the sender hears of it.  The request's own
transaction commits after it; what else it writes (a signed request's nonce) needs no
atomicity with the document: a nonce lost with a request that failed after the document
was stored only lets the sender's resend be answered ``duplicate``.

Not in tests (:func:`usable`): a test's transaction is never committed, and this
connection could not see what the test created (``hc.inbox.message._accept`` then
stores through the caller's cursor).  A connection found broken (PostgreSQL restarted,
the backend terminated, the database dropped) is replaced, and the statement runs once
more on the new one.  One more connection per Odoo worker: count it in PostgreSQL's
``max_connections``.
"""

import contextlib
import logging
import os
import threading

import psycopg2
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import modules
from odoo import sql_db

_logger = logging.getLogger(__name__)

# Requests of up to this many documents get a prepared statement (the usual sizes); a
# larger batch's statement is sent as text.
PREPARED_SIZES = 16

# Idle accept connections, by (process id, database name).  Keyed by process: a forked
# child never uses a connection its parent opened, nor drops it (closing it would end the
# parent's session on their shared socket).
_idle = {}
_lock = threading.Lock()


def _positional(code):
    """``code`` (psycopg2's ``%s`` placeholders, ``%%`` for a literal ``%``) with
    PostgreSQL's ``$1, $2, ...`` instead, for ``PREPARE``."""
    parts = code.split("%s")
    text = parts[0] + "".join(f"${number}{part}" for number, part in enumerate(parts[1:], 1))
    return text.replace("%%", "%")


class AcceptConnection:
    """A connection to one database for accepting documents, kept across requests."""

    def __init__(self, dbname):
        self.dbname = dbname
        self.cnx = None
        self.prepared = set()

    def _connection(self):
        if self.cnx is None or self.cnx.closed:
            _dbname, info = sql_db.connection_info_for(self.dbname)
            self.cnx = psycopg2.connect(**info)
            # Autocommit: the accept's one statement is its own transaction, committed
            # when it returns, in one round trip (no BEGIN, no COMMIT of their own).
            self.cnx.set_session(isolation_level=ISOLATION_LEVEL_READ_COMMITTED, autocommit=True)
            self.prepared = set()
        return self.cnx

    def close(self):
        if self.cnx is not None and not self.cnx.closed:
            try:
                self.cnx.close()
            except psycopg2.Error as exc:
                _logger.debug("Accept connection to %s: closing it failed: %s", self.dbname, exc)
        self.cnx = None
        self.prepared = set()

    def _run(self, cnx, size, code, params):
        with cnx.cursor() as cur:
            if size > PREPARED_SIZES:
                cur.execute(code, params)
            else:
                name = f"hc_accept_{size}"
                if name not in self.prepared:
                    cur.execute(f"PREPARE {name} AS {_positional(code)}")
                    self.prepared.add(name)
                cur.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
            return cur.fetchall()

    def execute_and_commit(self, size, code, params):
        """Run the accept's statement for ``size`` documents, committed when it returns:
        its rows."""
        for attempt in (1, 2):
            cnx = self._connection()
            try:
                return self._run(cnx, size, code, params)
            except psycopg2.Error:
                broken = bool(cnx.closed)
                # (nothing of a failed statement is worth keeping: its prepared plan may be
                # what failed, after a change of the table)
                self.close()
                if not (broken and attempt == 1):
                    raise
                # The connection was found broken (PostgreSQL restarted, the backend
                # terminated): the statement runs once more on a new one.  Had it been
                # committed before the break, this run finds its documents stored: the
                # request is served again and answers them as duplicates, never twice.
                _logger.info("Accept connection to %s lost; reconnecting", self.dbname)
        raise AssertionError("unreachable")


def usable(cr):
    """Whether an accept on behalf of ``cr``'s transaction may commit on its own: a real
    cursor, and no test running."""
    return isinstance(cr, sql_db.Cursor) and not modules.module.current_test


@contextlib.contextmanager
def borrowed(dbname):
    """An idle accept connection of this process to ``dbname`` (a new one when there is
    none), given back after use: one per worker process, one per concurrent request of a
    threaded server, whose threads last one request each."""
    key = (os.getpid(), dbname)
    with _lock:
        idle = _idle.setdefault(key, [])
        connection = idle.pop() if idle else None
    if connection is None:
        connection = AcceptConnection(dbname)
    try:
        yield connection
    finally:
        with _lock:
            _idle[key].append(connection)  # (a closed one reconnects when next used)


def close_idle(dbname):
    """Close this process's idle accept connections to ``dbname``."""
    with _lock:
        idle = _idle.get((os.getpid(), dbname), [])
        connections, idle[:] = list(idle), []
    for connection in connections:
        connection.close()


def _after_fork_in_child():
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
