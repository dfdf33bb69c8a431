from types import SimpleNamespace
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools.misc import Callbacks

from ..models import hc_lane_worker
from .common import HcCase


@tagged("post_install", "-at_install")
class TestLaneTimeBudget(HcCase):
    """A lane worker that runs out of its cron time gives back what it claimed.

    Found by the demo day: Odoo gives a cron run about 10 seconds; the worker returned
    with the rest of its claimed batch left in ``processing``, where it sat until the
    15-minute stale requeue, holding back every later message of the same purchase order.
    """

    def test_out_of_time_unclaims_the_rest_and_asks_to_run_again(self):
        docs = [
            self.vendor_doc(gln=gln, name=name, city=city)
            for gln, name, city in (
                ("0614141000012", "Medline Industries, Inc.", "Northfield"),
                ("0614141000029", "Cardinal Health", "Dublin"),
                ("0614141000036", "Owens & Minor", "Mechanicsville"),
            )
        ]
        messages = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        claim = type(self.env["hc.lane.worker"])._claim
        calls = []

        def claim_in_test(model, lane, limit):
            # the claim's own commits stay off inside the test transaction
            with patch.object(hc_lane_worker, "auto_commit", return_value=False):
                return claim(model, lane, limit)

        def out_of_time(model, processed=0, **kwargs):
            calls.append((processed, kwargs))
            return 0.0  # no time left after the first message

        with (
            patch.object(hc_lane_worker, "auto_commit", return_value=True),
            patch.object(type(self.env["hc.lane.worker"]), "_claim", claim_in_test),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", out_of_time),
            patch.object(self.env.cr, "postcommit", Callbacks()),
        ):
            self.env["hc.lane.worker"]._cron_process_lane(self.lane_bulk.id)
            notified = self._cron_notifications()
        self.assertEqual(messages.mapped("state"), ["done", "received", "received"])
        self.assertEqual(messages.mapped("attempts"), [1, 0, 0], "giving back is not an attempt")
        self.assertEqual(calls, [(1, {}), (0, {"remaining": 2})], "Odoo reruns the cron at once")
        # Odoo's "as soon as possible" after ten such runs is the cron workers' next look:
        # a notification, or the minute (350 bills of the month-end spike waited 60 s)
        self.assertEqual(notified, 1, "the cron workers are notified at that commit, once")
        # the next run picks them up
        self.process(self.lane_bulk)
        self.assertEqual(messages.mapped("state"), ["done", "done", "done"])

    def _cron_notifications(self):
        return sum(
            getattr(func, "__name__", "") == "_notifydb" for func in self.env.cr.postcommit._funcs
        )

    def test_past_the_cpu_deadline_the_run_ends_and_wakes_the_lane(self):
        """A run past its CPU deadline ends before claiming, with its lane triggered and
        the cron workers notified even though a due trigger exists (the POST's): that
        trigger's notification was consumed while the run was going on."""
        docs = [self.vendor_doc(gln="0614141000012", name="Medline Industries, Inc.")]
        messages = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        Trigger = self.env["ir.cron.trigger"].sudo()
        crons = self.lane_bulk.cron_ids.filtered("active")
        due = [("cron_id", "in", crons.ids), ("call_at", "<=", fields.Datetime.now())]
        self.assertTrue(Trigger.search_count(due), "the POST triggered the lane")
        calls = []

        def commit_progress(model, processed=0, **kwargs):
            calls.append((processed, kwargs))
            return 60.0

        with (
            patch.object(hc_lane_worker, "auto_commit", return_value=True),
            patch.object(hc_lane_worker, "_cpu_deadline", lambda _start: -1.0),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress),
            patch.object(self.env.cr, "postcommit", Callbacks()),
        ):
            self.env["hc.lane.worker"]._cron_process_lane(self.lane_bulk.id)
            notified = self._cron_notifications()
        self.assertEqual(messages.state, "received", "nothing claimed past the deadline")
        self.assertEqual(calls, [(0, {})], "progress committed, with the trigger")
        self.assertTrue(Trigger.search_count(due), "the lane stays due")
        self.assertEqual(notified, 1, "and the cron workers are told")

    def test_contention_at_commit_retries_the_message_not_the_batch(self):
        """A serialization failure raised by the commit after a message (found by the
        demo day) failed the whole cron run and left its batch claimed."""
        import psycopg2.errors

        class Contention(psycopg2.errors.SerializationFailure):
            pgcode = "40001"

        docs = [
            self.vendor_doc(gln=gln, name=name, city=city)
            for gln, name, city in (
                ("0614141000012", "Medline Industries, Inc.", "Northfield"),
                ("0614141000029", "Cardinal Health", "Dublin"),
            )
        ]
        messages = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        claim = type(self.env["hc.lane.worker"])._claim
        calls = []

        def claim_in_test(model, lane, limit):
            with patch.object(hc_lane_worker, "auto_commit", return_value=False):
                return claim(model, lane, limit)

        def commit_progress(model, processed=0, **kwargs):
            calls.append((processed, kwargs))
            if len(calls) == 1:
                raise Contention("could not serialize access due to concurrent update")
            return 60.0

        with (
            patch.object(hc_lane_worker, "auto_commit", return_value=True),
            patch.object(type(self.env["hc.lane.worker"]), "_claim", claim_in_test),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress),
            patch.object(self.env.cr, "rollback", lambda: None),
            # the retry is due within a nap, which commits: not in a test's transaction
            patch.object(
                type(self.env["hc.lane.worker"]), "_nap_until_due", lambda _w, _lane: False
            ),
        ):
            self.env["hc.lane.worker"]._cron_process_lane(self.lane_bulk.id)
        self.assertEqual(messages[0].state, "failed", "retried")
        self.assertEqual(messages[0].error_code, "database_contention")
        # a second later, within the worker's nap, not after the connector's backoff
        # (which held back every later bill of the order in the month-end spike)
        due_in = (messages[0].next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertLessEqual(due_in, hc_lane_worker.NAP_SECONDS)
        self.assertEqual(messages[1].state, "done", "the rest of the batch goes on")

    def test_a_run_ends_half_a_budget_before_the_worker_cpu_limit(self):
        """Odoo renews a cron worker's CPU limit (RLIMIT_CPU) once per unit of work, and a
        unit runs every lane job ready on the database: the second of them must not get a
        whole budget of its own, or Odoo's SIGXCPU handler raises in its middle (seen in
        the month-end spike at 1,000 invoices: the batch waited a minute)."""
        usage = SimpleNamespace(ru_utime=65.0, ru_stime=5.0)
        with (
            patch.object(hc_lane_worker, "_cpu_budget", lambda: 30.0),
            patch.object(hc_lane_worker.resource, "getrusage", lambda _who: usage),
        ):
            # the limit at 100 s of this process's CPU, 70 s used by a first run: 30 s
            # left, of which the run takes all but half a budget
            with patch.object(hc_lane_worker.resource, "getrlimit", lambda _r: (100, 200)):
                self.assertEqual(hc_lane_worker._cpu_deadline(500.0), 500.0 + 30 - 15)
            # a first run of the unit: its own budget comes first
            with patch.object(hc_lane_worker.resource, "getrlimit", lambda _r: (160, 200)):
                self.assertEqual(hc_lane_worker._cpu_deadline(500.0), 500.0 + 30)
            # no limit on the process (threaded server): the budget alone
            infinity = (hc_lane_worker.resource.RLIM_INFINITY,) * 2
            with patch.object(hc_lane_worker.resource, "getrlimit", lambda _r: infinity):
                self.assertEqual(hc_lane_worker._cpu_deadline(500.0), 530.0)
        with patch.object(hc_lane_worker, "_cpu_budget", lambda: 0):
            self.assertIsNone(hc_lane_worker._cpu_deadline(500.0))
