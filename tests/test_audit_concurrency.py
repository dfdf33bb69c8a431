"""The audit chain under real concurrency: writers on connections of their own, committed.

Row locks and snapshots only exist between real transactions, so these tests step outside
the test transaction: they commit entries on cursors of their own.  The entries stay (the
log is append-only, and its guard refuses even the database owner a way around that): they
are valid links at the chain's tail, of no record, so the chain stays intact for the tests
that follow.  The test transaction itself never touches the audit table.
"""

import itertools
import threading
from contextlib import closing
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo import api
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase
from odoo.tests import tagged

from ..models import hc_audit_log
from .common import let_threads_open_environments

WRITERS = 4
ROUNDS = 6


@tagged("post_install", "-at_install")
class TestAuditChainConcurrency(TransactionCase):
    def setUp(self):
        super().setUp()
        let_threads_open_environments(self)
        self.dbname = self.env.cr.dbname
        self.env.cr.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        self.assertFalse(self.env.cr.fetchone(), "the test transaction must not hold the chain")
        with closing(db_connect(self.dbname).cursor()) as cr:
            cr.execute("SELECT COALESCE(max(id), 0) FROM hc_audit_log")
            self.first_id = cr.fetchone()[0] + 1

    def _report(self):
        with closing(db_connect(self.dbname).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            report = env["hc.audit.log"]._verify_report()
            cr.execute(
                "SELECT action, prev_hash, entry_hash FROM hc_audit_log WHERE id >= %s ORDER BY id",
                [self.first_id],
            )
            rows = cr.fetchall()
            cr.rollback()
        return report, rows

    def test_an_old_snapshot_chains_to_the_newest_entry(self):
        """F7: a transaction whose snapshot predates another's committed entry (REPEATABLE
        READ) read a stale head under the lock and forked the chain."""
        with (
            closing(db_connect(self.dbname).cursor()) as old,
            closing(db_connect(self.dbname).cursor()) as new,
        ):
            old_env = api.Environment(old, SUPERUSER_ID, {})
            old.execute("SELECT count(*) FROM hc_audit_log")  # its snapshot, now
            api.Environment(new, SUPERUSER_ID, {})["hc.audit.log"]._log("concurrency_first")
            new.commit()
            old_env["hc.audit.log"]._log("concurrency_second")
            old_env["hc.audit.log"]._log("concurrency_third")  # after its own entry
            old.commit()
        report, rows = self._report()
        self.assertEqual(
            [r[0] for r in rows], ["concurrency_first", "concurrency_second", "concurrency_third"]
        )
        self.assertEqual(rows[1][1], rows[0][2], "chained to the entry committed meanwhile")
        self.assertEqual(rows[2][1], rows[1][2])
        self.assertTrue(report["ok"], report)

    def test_concurrent_writers_keep_one_chain(self):
        """Writers on their own connections, each with a snapshot taken before any of them
        writes, append at once (round after round) through every way of writing an entry:
        at once, at commit, inside a lane worker's hold (committed without an explicit
        flush), and detached (a refusal's own cursor).  One chain, nothing lost."""
        barrier = threading.Barrier(WRITERS)
        errors = []

        def write(index, env):
            Audit = env["hc.audit.log"]
            data = {"writer": index}
            if index == 0:
                Audit._log("concurrency_now", data=data)
            elif index == 1:
                Audit._log_at_commit("concurrency_at_commit", None, data=data)
            elif index == 2:
                with Audit._hold():
                    Audit._log("concurrency_held", data=data)
                    Audit._log_at_commit("concurrency_held_at_commit", None, data=data)
                    with env.cr.savepoint():  # a flush in the middle of the batch
                        env["res.partner"].search([], limit=1)
            else:
                # the production path (a cursor of its own), not the test transaction's
                with patch.object(hc_audit_log, "_in_test_transaction", lambda: False):
                    Audit._log_detached("concurrency_detached", data=data)

        def writer(index):
            try:
                with closing(db_connect(self.dbname).cursor()) as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    for _round in range(ROUNDS):
                        cr.execute("SELECT count(*) FROM hc_audit_log")  # the snapshot
                        barrier.wait(60)
                        write(index, env)
                        cr.commit()  # pylint: disable=invalid-commit
            except Exception as exc:  # reported by the test, not lost in the thread
                errors.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        self.assertFalse(errors)
        report, rows = self._report()
        self.assertTrue(report["ok"], report)
        expected = ROUNDS * (WRITERS + 1)  # the held writer writes two a round
        self.assertEqual(len(rows), expected, "every entry committed, none lost")
        self.assertEqual(len({r[1] for r in rows}), expected, "no two entries share a parent")
        for before, after in itertools.pairwise(rows):
            self.assertEqual(after[1], before[2])
