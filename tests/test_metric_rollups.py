"""The inbox figures (``hc.inbox.stat``) against a recount of the inbox and its archive.

The figures are kept by triggers as messages change state and folded by a cron; whatever
happened (accepted, processed, failed, dead, replayed, edited in SQL, archived, restored,
deleted by retention, concurrently on several connections), rollup plus unfolded deltas
must be exactly what a count of the rows says.
"""

import random
import threading
from contextlib import closing
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo import api
from odoo import fields
from odoo.sql_db import db_connect
from odoo.tests import tagged

from ..models import hc_inbox_stat_delta as stat_delta
from .common import HcCase
from .common import let_threads_open_environments

RECOUNT = """
    SELECT x.kind, x.company_id, c.code, l.code, x.doc_type, x.state, x.hour,
           count(*), sum(retries), round(sum(seconds), 3)
      FROM (SELECT 's' AS kind, company_id, connector_id, lane_id, doc_type, state,
                   NULL::timestamp AS hour, greatest(attempts - 1, 0) AS retries,
                   0::numeric AS seconds
              FROM rows
            UNION ALL
            SELECT 'r', company_id, connector_id, lane_id, doc_type, NULL,
                   date_trunc('hour', received_at), greatest(attempts - 1, 0), 0
              FROM rows
            UNION ALL
            SELECT 'f', company_id, connector_id, lane_id, doc_type, state,
                   date_trunc('hour', finished_at), 0,
                   extract(epoch FROM finished_at - received_at)
              FROM rows WHERE state IN ('done', 'dead') AND finished_at IS NOT NULL) x
      JOIN hc_connector c ON c.id = x.connector_id
      JOIN hc_lane l ON l.id = x.lane_id
     WHERE %s
  GROUP BY 1, 2, 3, 4, 5, 6, 7"""


def recount(cr, connector_ids=None):
    """``{key: (n, retries, seconds)}`` counted from the rows themselves."""
    where = "x.connector_id IN %s" if connector_ids else "TRUE"
    cr.execute(
        "WITH rows AS (SELECT company_id, connector_id, lane_id, doc_type, state, attempts, "
        "received_at, finished_at FROM hc_inbox_message UNION ALL SELECT company_id, "
        "connector_id, lane_id, doc_type, state, attempts, received_at, finished_at FROM "
        "hc_inbox_message_archive)" + RECOUNT % where,
        [tuple(connector_ids)] if connector_ids else [],
    )
    return {tuple(row[:7]): (row[7], int(row[8]), round(float(row[9]), 3)) for row in cr.fetchall()}


def figures(env, connector_codes=None):
    """The same, from the kept figures (rollup plus unfolded deltas)."""
    env.flush_all()
    return {
        (f["kind"], f["company_id"], f["connector"], f["lane"], f["doc_type"], f["state"],
         f["hour"]): (f["n"], f["retries"], round(f["seconds"], 3))
        for f in env["hc.inbox.stat"]._figures(["s", "r", "f"])
        if connector_codes is None or f["connector"] in connector_codes
    }  # fmt: skip


@tagged("post_install", "-at_install")
class TestMetricRollups(HcCase):
    def assertExact(self, step):
        self.env.flush_all()
        self.assertEqual(figures(self.env), recount(self.env.cr), step)

    def age(self, message, state, days, attempts=1):
        when = fields.Datetime.now() - timedelta(days=days)
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE hc_inbox_message SET state = %s, attempts = %s, received_at = %s,
                      finished_at = %s WHERE id = %s""",
            [state, attempts, when - timedelta(seconds=7), when, message.id],
        )
        message.invalidate_recordset()

    def test_figures_equal_a_recount_through_a_life_of_messages(self):
        Stat = self.env["hc.inbox.stat"]
        Stat._fold()
        self.assertExact("before")
        docs = [self.vendor_doc(gln=f"0614141{i:06d}", name=f"Vendor {i}") for i in range(8)]
        messages = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        self.accept(docs[:2])  # duplicates: nothing new
        self.assertExact("accepted, unfolded")
        self.assertTrue(self.env["hc.inbox.stat.delta"].search_count([]))
        self.process()
        self.assertExact("processed by the lane worker")
        self.assertEqual(set(messages.mapped("state")), {"done"})
        Stat._fold()
        self.assertFalse(self.env["hc.inbox.stat.delta"].search_count([]), "all folded")
        self.assertExact("folded")
        # outcomes, ORM and SQL
        messages[0]._mark_failed("boom", "failed once")
        messages[1].write({"state": "processing", "attempts": 3})
        messages[1]._mark_dead("boom", "dead")
        # history: messages finished long ago (no exception keeps them in the inbox)
        old_docs = [self.vendor_doc(name=f"Old vendor {i}") for i in range(3)]
        olds = self.Inbox.browse([m.id for m, _s in self.accept(old_docs)])
        self.age(olds[0], "done", 100, attempts=4)
        self.age(olds[1], "done", 100)
        self.age(olds[2], "done", 400)
        self.assertExact("failed, dead, aged")
        messages[5].write(messages[5]._replay_vals())  # what a replay writes
        self.assertExact("replayed")
        Stat._fold()
        self.assertExact("folded again")
        # archive (no change), restore (no change), retention on both tables
        moved = self.env["hc.inbox.message.archive"]._archive_done(days=90)
        self.assertEqual(moved, 3)
        self.assertExact("archived")
        restored = self.env["hc.inbox.message.archive"].browse(olds[1].id)._restore("test")
        self.assertEqual(restored.state, "done")
        self.assertExact("restored")
        policy = self.env.ref("healthcare_p2p_integration.retention_internal")
        policy.write({"payload_days": 0, "log_days": 200})
        self.connector.data_classification = "internal"
        policy._purge()
        self.assertFalse(
            self.env["hc.inbox.message.archive"].search([("id", "=", olds[2].id)]),
            "the month of 400 days ago is gone",
        )
        self.assertExact("retention deleted a month of the archive")
        self.env.cr.execute("DELETE FROM hc_inbox_message WHERE id = %s", [messages[6].id])
        self.assertExact("deleted from the inbox")
        Stat._fold()
        self.assertExact("final fold")
        # the metrics read them: processed in the window = done rows finished in it
        values = self.env["hc.metrics"]._compute_metrics(self.company.ids, 24)
        self.env.cr.execute(
            """SELECT count(*) FROM hc_inbox_message WHERE state = 'done'
                AND company_id = %s AND finished_at >= %s""",
            [self.company.id, self.env["hc.metrics"]._window_start(24)],
        )
        self.assertEqual(values["processed"], self.env.cr.fetchone()[0])
        self.assertEqual(values["failed"], 1)

    def test_a_window_reads_exactly_its_hours(self):
        """``_figures`` with ``since`` (what the metrics read): the all-time figures and
        the hourly ones from the window's first hour on, rollup and deltas, exactly."""
        Stat = self.env["hc.inbox.stat"]
        docs = [self.vendor_doc(name=f"Windowed vendor {i}") for i in range(5)]
        messages = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        self.age(messages[0], "done", 200)
        self.age(messages[1], "dead", 3, attempts=2)
        self.age(messages[2], "done", 0.5)
        Stat._fold()  # some in the rollup ...
        self.age(messages[3], "done", 40)  # ... some still deltas
        messages[4]._mark_failed("boom", "failed once")
        since = self.env["hc.metrics"]._window_start(24 * 7)
        start = since.replace(minute=0, second=0, microsecond=0)
        self.env.flush_all()
        expected = {
            key: value
            for key, value in recount(self.env.cr).items()
            if key[0] == "s" or (key[6] is not None and key[6] >= start)
        }
        for kinds in (["s", "r", "f"], ["r"], ["s", "f"]):
            got = {
                (f["kind"], f["company_id"], f["connector"], f["lane"], f["doc_type"],
                 f["state"], f["hour"]): (f["n"], f["retries"], round(f["seconds"], 3))
                for f in Stat._figures(kinds, None, since)
            }  # fmt: skip
            self.assertEqual(got, {k: v for k, v in expected.items() if k[0] in kinds}, kinds)
        self.assertTrue(any(key[0] == "f" and key[5] == "dead" for key in expected))
        self.assertTrue(
            any(key[6] and key[6] < start for key in recount(self.env.cr)),
            "there are older hours to leave out",
        )
        mine = Stat._figures(["s"], self.company.ids, since)
        self.assertTrue(mine)
        self.assertEqual({f["company_id"] for f in mine}, {self.company.id})

    def test_the_accept_counts_its_messages_once_and_the_trigger_the_others(self):
        """The accept's statement counts what it stores (a batch across two lanes); the
        insert trigger counts a message stored any other way, and only those."""
        Stat, Delta = self.env["hc.inbox.stat"], self.env["hc.inbox.stat.delta"]
        Stat._fold()
        self.assertExact("before")
        docs = [self.consumption_doc("ROLL-1"), self.consumption_doc("ROLL-2", critical=True)]
        accepted = self.Inbox.browse([m.id for m, _s in self.accept(docs, "consumption")])
        self.assertEqual(len(accepted.lane_id), 2, "a critical item takes the critical lane")
        self.assertEqual(set(accepted.mapped("stat_counted")), {True})
        self.assertEqual(
            Delta.search_count([]), 4, "per lane: one 'received' state and one hour, grouped"
        )
        self.assertExact("accepted: counted by the statement, once")
        self.env.cr.execute(
            """INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id, doc_type,
                   lane_id, idempotency_key, state, attempts, replay_count, received_at,
                   finished_at, next_attempt_at)
               VALUES (%s, %s, %s, 'vendor', %s, 'roll-sql', 'done', 2, 0,
                       now() at time zone 'UTC' - interval '1 minute',
                       now() at time zone 'UTC', now() at time zone 'UTC')""",
            [self.connector.id, self.company.id, self.doc_types[:1].id, accepted[0].lane_id.id],
        )
        self.assertExact("stored in SQL: counted by the trigger")
        Stat._fold()
        self.assertExact("folded")

    def test_a_bulk_load_counting_itself_is_counted_once(self):
        """A statement storing many messages counts them itself (``counted_insert``, as the
        history bench's bulk load does): done ones included, none counted twice."""
        self.env["hc.inbox.stat"]._fold()
        self.env.cr.execute(
            """WITH hc_created AS (
                   INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id,
                          doc_type, lane_id, idempotency_key, state, attempts, replay_count,
                          received_at, finished_at, next_attempt_at, stat_counted)
                   SELECT %s, %s, %s, 'vendor', %s, 'bulk-' || g,
                          CASE WHEN g %% 3 = 0 THEN 'dead' ELSE 'done' END, 1 + g %% 2, 0,
                          now() at time zone 'UTC' - g * interval '1 hour',
                          now() at time zone 'UTC' - g * interval '1 hour' + interval '5 s',
                          now() at time zone 'UTC', TRUE
                     FROM generate_series(1, 30) g
                   RETURNING """
            + stat_delta.COUNTED_COLUMNS
            + ")"
            + stat_delta.counted_insert("hc_created"),
            [self.connector.id, self.company.id, self.doc_types[:1].id, self.lane_critical.id],
        )
        self.assertTrue(self.env.cr.rowcount, "the figures of the load were inserted")
        self.assertExact("bulk load counted by its statement")

    def test_an_upgrade_replaces_the_statement_insert_trigger_without_a_recount(self):
        """The insert trigger of earlier versions (per statement) is replaced by the
        per-row one under the table's lock: figures stay exact, nothing is recounted."""
        Stat = self.env["hc.inbox.stat"]
        self.accept([self.vendor_doc(name="Before the upgrade")])
        self.env.cr.execute(
            """DROP TRIGGER hc_inbox_stat_ins_row ON hc_inbox_message;
               CREATE TRIGGER hc_inbox_stat_ins AFTER INSERT ON hc_inbox_message
                   REFERENCING NEW TABLE AS new_rows
                   FOR EACH STATEMENT EXECUTE FUNCTION hc_inbox_stat_inserted()"""
        )
        rebuilt = []
        with patch.object(type(Stat), "_rebuild", lambda self: rebuilt.append(1)):
            Stat.init()
        self.assertEqual(rebuilt, [], "a replaced trigger needs no recount")
        triggers = Stat._triggers("hc_inbox_message")
        self.assertIn("hc_inbox_stat_ins_row", triggers)
        self.assertNotIn("hc_inbox_stat_ins", triggers)
        self.accept([self.vendor_doc(name="After the upgrade")])
        self.env.cr.execute(
            """INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id, doc_type,
                   lane_id, idempotency_key, state, attempts, replay_count, received_at,
                   next_attempt_at)
               SELECT connector_id, company_id, doc_type_id, doc_type, lane_id,
                      'upgrade-sql', 'received', 0, 0, received_at, next_attempt_at
                 FROM hc_inbox_message ORDER BY id DESC LIMIT 1"""
        )
        self.assertExact("after the upgrade")

    def test_rebuild_recounts_everything(self):
        self.accept([self.vendor_doc(name="Rebuilt")])
        self.env["hc.inbox.stat"]._fold()
        self.env.cr.execute("DELETE FROM hc_inbox_stat")  # lost figures
        self.assertNotEqual(figures(self.env), recount(self.env.cr))
        self.env["hc.inbox.stat"]._rebuild()
        self.assertExact("rebuilt")


@tagged("post_install", "-at_install")
class TestMetricRollupsConcurrency(HcCase):
    """Writers and folds on connections of their own, committed: the deltas are inserted
    by each writer's own transaction and never lock a shared row, and a fold running
    meanwhile moves only committed deltas, each once."""

    WRITERS = 4
    ROUNDS = 15

    def setUp(self):
        super().setUp()
        let_threads_open_environments(self)
        self.dbname = self.env.cr.dbname
        with closing(db_connect(self.dbname).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["hc.connector"].search([("code", "=", "rollconc")]).unlink()  # a crashed run's
            connector = env["hc.connector"].create(
                {"name": "Rollup concurrency", "code": "rollconc",
                 "allowed_doc_type_ids": [(6, 0, env["hc.document.type"].search([]).ids)]}
            )  # fmt: skip
            self.ids = {
                "connector": connector.id,
                "company": env.company.id,
                "doc_type_id": env["hc.document.type"].search([("code", "=", "vendor")]).id,
                "lane": env.ref("healthcare_p2p_integration.lane_bulk").id,
            }
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self.cleanup)

    def cleanup(self):
        with closing(db_connect(self.dbname).cursor()) as cr:
            cr.execute("DELETE FROM hc_inbox_message WHERE connector_id = %s",
                       [self.ids["connector"]])  # fmt: skip
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["hc.inbox.stat"]._fold()
            env["hc.connector"].browse(self.ids["connector"]).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def writer(self, seed, errors):
        rnd = random.Random(seed)
        try:
            with closing(db_connect(self.dbname).cursor()) as cr:
                for round_ in range(self.ROUNDS):
                    # as the lane workers run their transactions
                    cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    cr.execute(
                        """INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id,
                               doc_type, lane_id, idempotency_key, state, attempts,
                               replay_count, received_at, next_attempt_at)
                           SELECT %(connector)s, %(company)s, %(doc_type_id)s, 'vendor',
                                  %(lane)s, %(key)s || g, 'received', 0, 0,
                                  now() at time zone 'UTC', now() at time zone 'UTC'
                             FROM generate_series(1, 5) g""",
                        {**self.ids, "key": f"c{seed}-{round_}-"},
                    )
                    cr.execute(
                        "SELECT id FROM hc_inbox_message WHERE connector_id = %s "
                        "ORDER BY random() LIMIT 6 FOR UPDATE SKIP LOCKED",
                        [self.ids["connector"]],
                    )
                    for (id_,) in cr.fetchall():
                        state = rnd.choice(["processing", "done", "failed", "dead", "received"])
                        cr.execute(
                            """UPDATE hc_inbox_message SET state = %s, attempts = attempts + 1,
                                      finished_at = CASE WHEN %s IN ('done', 'dead')
                                                    THEN now() at time zone 'UTC' END
                                WHERE id = %s""",
                            [state, state, id_],
                        )
                    if rnd.random() < 0.3:
                        cr.execute(
                            "DELETE FROM hc_inbox_message WHERE id IN (SELECT id FROM "
                            "hc_inbox_message WHERE connector_id = %s AND state = 'done' "
                            "LIMIT 2 FOR UPDATE SKIP LOCKED)",
                            [self.ids["connector"]],
                        )
                    cr.commit()  # pylint: disable=invalid-commit
        except Exception as exc:  # reported by the test
            errors.append(exc)

    def folder(self, stop, errors):
        try:
            with closing(db_connect(self.dbname).cursor()) as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                while not stop.is_set():
                    env["hc.inbox.stat"]._cron_fold()
                    cr.commit()  # pylint: disable=invalid-commit
        except Exception as exc:  # reported by the test
            errors.append(exc)

    def test_concurrent_writers_and_folds_stay_exact(self):
        errors, stop = [], threading.Event()
        folders = [threading.Thread(target=self.folder, args=(stop, errors)) for _i in range(2)]
        writers = [
            threading.Thread(target=self.writer, args=(seed, errors))
            for seed in range(self.WRITERS)
        ]
        for thread in folders + writers:
            thread.start()
        for thread in writers:
            thread.join(120)
        stop.set()
        for thread in folders:
            thread.join(60)
        self.assertEqual(errors, [])
        with closing(db_connect(self.dbname).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            counted = recount(cr, [self.ids["connector"]])
            self.assertTrue(counted)
            self.assertEqual(figures(env, {"rollconc"}), counted)
            env["hc.inbox.stat"]._fold()
            self.assertEqual(figures(env, {"rollconc"}), counted, "after a last fold")
            cr.rollback()
