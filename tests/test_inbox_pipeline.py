import contextlib
import threading
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import HcCase
from .common import let_threads_open_environments


@tagged("post_install", "-at_install")
class TestInboxPipeline(HcCase):
    def test_accept_stores_raw_and_deduplicates(self):
        doc = self.vendor_doc()
        [(message, status)] = self.accept([doc])
        self.assertEqual(status, "created")
        self.assertEqual(message.state, "received")
        self.assertEqual(message.lane_id, self.lane_bulk, "vendor master goes to the bulk lane")
        self.assertEqual(self.payload(message), doc)
        # the same document again: the original message, not a second one
        [(again, status)] = self.accept([doc])
        self.assertEqual((again, status), (message, "duplicate"))
        self.assertEqual(self.Inbox.search_count([("connector_id", "=", self.connector.id)]), 1)

    def test_idempotency_key_conflict(self):
        [(message, status)] = self.accept([self.vendor_doc()], key="K-1")
        self.assertEqual(status, "created")
        [(same, status)] = self.accept([self.vendor_doc(name="Other name")], key="K-1")
        self.assertEqual(status, "conflict")
        self.assertEqual(same, message)

    def test_vendor_created_then_updated_in_order(self):
        self.accept([self.vendor_doc(), self.vendor_doc(name="Medline Industries LP")])
        self.process()
        messages = self.Inbox.search([("connector_id", "=", self.connector.id)], order="id")
        self.assertEqual(messages.mapped("state"), ["done", "done"])
        partner = self.env["hc.partner.identifier"]._find_partner([("gln", "0614141000012", "")])
        self.assertEqual(partner.name, "Medline Industries LP", "the later update wins")
        self.assertEqual(messages[0].result_ids, partner.ids)
        self.assertEqual(partner.global_location_number, "0614141000012")
        self.assertEqual(messages[0].correlation_key, messages[1].correlation_key)

    def test_replaying_a_vendor_changes_nothing_more(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        self.process()
        partners = self.env["res.partner"].search_count([])
        idents = self.env["hc.partner.identifier"].search_count([])
        message._replay("check idempotency")
        self.assertEqual(message.state, "received")
        self.process()
        self.assertEqual(message.state, "done")
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        self.assertEqual(self.env["hc.partner.identifier"].search_count([]), idents)
        self.assertEqual(message.replay_count, 1)
        log = self.env["hc.audit.log"].search(
            [("action", "=", "replay"), ("res_id", "=", message.id)]
        )
        self.assertEqual(log.reason, "check idempotency")
        self.assertEqual(log.user_id, self.env.user)
        self.assertFalse(self.env["hc.audit.log"]._verify_chain())

    def test_poison_message_dies_alone(self):
        good1 = self.vendor_doc(gln="0614141000029", name="Owens & Minor")
        bad = self.vendor_doc(name="Poison Pill Supplies")
        good2 = self.vendor_doc(gln="0614141000036", name="Cardinal Health")
        messages = [m for m, _s in self.accept([good1, bad, good2])]
        vendor_processor = type(self.env["hc.processor.vendor"])
        original = vendor_processor._partner_vals

        def poisoned(processor, doc):
            if doc.name == "Poison Pill Supplies":
                raise ValueError("poison")
            return original(processor, doc)

        with patch.object(vendor_processor, "_partner_vals", poisoned):
            self.process()
        self.assertEqual([m.state for m in messages], ["done", "dead", "done"])
        self.assertEqual(messages[1].error_code, "invalid_document")
        self.assertIn("poison", messages[1].error_message)

    def test_transient_failure_retries_with_backoff_then_dead(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        from ..api_contract.errors import TransientError

        with patch.object(
            type(self.env["hc.processor.vendor"]),
            "_apply",
            side_effect=TransientError("remote busy"),
        ):
            for attempt in range(1, 4):
                message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
                self.process()
                self.assertEqual(message.attempts, attempt)
                if attempt < 3:
                    self.assertEqual(message.state, "failed")
                    self.assertGreater(message.next_attempt_at, fields.Datetime.now())
        self.assertEqual(message.state, "dead", "max_attempts=3 exhausted")
        self.assertIn("Retries exhausted", message.error_message)

    def test_parse_error_is_dead_with_reason(self):
        [(message, _s)] = self.accept([{"name": "no identifiers"}])
        self.process()
        self.assertEqual(message.state, "dead")
        self.assertTrue(message.error_message)

    def test_out_of_order_item_waits_for_its_vendor(self):
        item = {
            "gtin": "00614141000418",
            "description": "Nitrile exam gloves, medium",
            "uom": "EA",
            "vendor": {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}]},
            "vendor_part_number": "MDS195085",
        }
        [(item_msg, _s)] = self.accept([item], doc_type="item")
        self.process()
        self.assertEqual(item_msg.state, "waiting")
        self.assertEqual(item_msg.waiting_key, "vendor:gln=0614141000012")
        self.accept([self.vendor_doc()])
        self.process()
        self.assertEqual(item_msg.state, "done", "released when the vendor arrived")
        product = self.env["product.product"].search([("barcode", "=", "00614141000418")])
        self.assertEqual(product.seller_ids.partner_id.global_location_number, "0614141000012")
        self.assertEqual(product.seller_ids.product_code, "MDS195085")

    def test_similar_vendor_is_parked_for_a_data_steward(self):
        self.accept([self.vendor_doc()])
        self.process()
        # same company, same city, another identifier: not a silent second vendor
        [(message, _s)] = self.accept(
            [self.vendor_doc(gln="0614141999996", name="MEDLINE INDUSTRIES INC")]
        )
        self.process()
        self.assertEqual(message.state, "waiting")
        exc = self.env["hc.exception"].search([("message_id", "=", message.id)])
        self.assertEqual(exc.exception_type, "duplicate_vendor")
        self.assertEqual(
            self.env["res.partner"].search_count([("name", "=", "MEDLINE INDUSTRIES INC")]), 0
        )
        # the same message processed again never opens a second exception
        message.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.process()
        self.assertEqual(
            self.env["hc.exception"].search_count([("message_id", "=", message.id)]), 1
        )
        exc.action_vendor_merge()
        self.process()
        self.assertEqual(message.state, "done")
        partner = self.env["hc.partner.identifier"]._find_partner([("gln", "0614141999996", "")])
        self.assertEqual(partner, exc.partner_id, "merged into the existing vendor's crosswalk")

    def test_wrong_check_digit_is_a_warning_not_a_failure(self):
        [(message, _s)] = self.accept([self.vendor_doc(gln="0614141000013")])
        self.process()
        self.assertEqual(message.state, "done")
        exc = self.env["hc.exception"].search([("message_id", "=", message.id)])
        self.assertEqual(exc.exception_type, "data_quality")

    def test_replay_requires_admin_and_reason(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        clerk = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "clerk_pipeline",
                "group_ids": [
                    (6, 0, [self.env.ref("healthcare_p2p_integration.group_hc_ap_clerk").id])
                ],
            }
        )
        with self.assertRaises(AccessError):
            message.with_user(clerk)._replay("because")
        with self.assertRaises(UserError):
            message._replay("  ")

    def test_stale_processing_message_is_requeued(self):
        [(message, _s)] = self.accept([self.vendor_doc()])
        message.write(
            {"state": "processing", "started_at": fields.Datetime.now() - timedelta(hours=1)}
        )
        self.process()
        self.assertEqual(message.state, "done", "a dead worker's message is not lost")

    def test_claim_of_a_dead_session_is_requeued_at_once(self):
        """A killed worker's claim names a database session that no longer exists: its
        messages go back to the queue at once, not after the stale delay; a claim of a
        live session (a worker still at it) is left alone until then."""
        Worker = self.env["hc.lane.worker"]
        [(mine, _s), (dead, _s2)] = self.accept(
            [self.vendor_doc(), self.vendor_doc(gln="0614141000029")]
        )
        claimed = Worker._claim(mine.lane_id, 10)
        self.assertEqual(claimed, mine | dead)
        self.env.cr.execute("SELECT pg_backend_pid()")
        pid = self.env.cr.fetchone()[0]
        self.assertTrue(mine.claim_token.startswith(f"{pid}@"), "the claim names our session")
        # the session of a worker killed with -9: same shape, no such backend any more
        dead.write({"claim_token": "2147483647@1700000000.5"})
        requeued, gone = Worker._requeue_stale(mine.lane_id)
        self.assertEqual((requeued, gone), ([dead.id], []))
        self.assertEqual(dead.state, "received")
        self.assertFalse(dead.claim_token)
        self.assertEqual(mine.state, "processing", "a live worker's claim is not taken away")
        # the worker that died had used up the connector's attempts: dead with the reason
        dead2 = self.accept([self.vendor_doc(gln="0614141000036")])[0][0]
        dead2.write(
            {
                "state": "processing",
                "attempts": self.connector.max_attempts,
                "claim_token": "2147483646@1700000000.5",
            }
        )
        self.assertEqual(Worker._requeue_stale(mine.lane_id), ([], [dead2.id]))
        self.assertEqual((dead2.state, dead2.error_code), ("dead", "worker_died"))

    def test_connector_lane_override_applies_at_once(self):
        [(first, _s)] = self.accept([self.vendor_doc()])
        self.assertEqual(first.lane_id, self.lane_bulk)
        vendor_type = self.doc_types.filtered(lambda d: d.code == "vendor")
        self.env["hc.connector.route"].create(
            {
                "connector_id": self.connector.id,
                "doc_type_id": vendor_type.id,
                "lane_id": self.lane_critical.id,
            }
        )
        [(second, _s)] = self.accept([self.vendor_doc(gln="0614141000029")])
        self.assertEqual(second.lane_id, self.lane_critical, "cached scopes are cleared on change")

    def test_accept_wakes_each_worker_once(self):
        lane = self.lane_bulk
        lane.worker_count = 2
        crons = lane.cron_ids.filtered("active")
        triggers = self.env["ir.cron.trigger"]
        domain = [("cron_id", "in", crons.ids)]
        triggers.search(domain).unlink()
        self.accept([self.vendor_doc()])
        self.assertEqual(triggers.search(domain).cron_id, crons, "every worker woken")
        self.assertEqual(triggers.search_count(domain), 2)
        self.accept([self.vendor_doc(gln="0614141000029")])
        self.assertEqual(triggers.search_count(domain), 2, "a due trigger is enough")
        # a trigger for later (a retry's) does not wake anybody now
        triggers.search(domain).write({"call_at": fields.Datetime.now() + timedelta(hours=1)})
        self.accept([self.vendor_doc(gln="0614141000036")])
        self.assertEqual(triggers.search_count(domain), 4)
        # an inactive worker is never triggered
        crons[1].active = False
        triggers.search(domain).unlink()
        self.accept([self.vendor_doc(gln="0614141000043")])
        self.assertEqual(triggers.search(domain).cron_id, crons[0])

    def test_lane_workers_follow_worker_count(self):
        lane = self.lane_bulk
        lane.worker_count = 3
        self.assertEqual(len(lane.cron_ids.filtered("active")), 3)
        self.assertIn(f"_cron_process_lane({lane.id})", lane.cron_ids[0].code)
        self.assertEqual(lane.cron_ids.model_id.model, "hc.lane.worker")
        # a cron of an older version (on the inbox model) is rewritten by the sync
        lane.cron_ids[0].write({"model_id": self.env["ir.model"]._get_id("hc.inbox.message")})
        lane._sync_crons()
        self.assertEqual(lane.cron_ids.model_id.model, "hc.lane.worker")
        lane.worker_count = 1
        self.assertEqual(len(lane.cron_ids.filtered("active")), 1)


@tagged("post_install", "-at_install")
class TestClaimRace(HcCase):
    """Lane workers on separate database connections, on committed rows (cleaned up):
    row locks only exist between real transactions."""

    def setUp(self):
        super().setUp()
        let_threads_open_environments(self)

    @staticmethod
    def _drop_committed(setup_cr, connector_id):
        """Remove what :meth:`_committed_messages` committed, and close its cursor."""
        setup_cr.execute("DELETE FROM hc_inbox_message WHERE connector_id = %s", (connector_id,))
        setup_cr.execute("DELETE FROM hc_connector WHERE id = %s", (connector_id,))
        setup_cr.commit()
        setup_cr.close()

    def _committed_messages(self, code, count):
        """A connector and ``count`` due vendor messages on the bulk lane, committed."""
        from odoo.sql_db import db_connect

        setup_cr = db_connect(self.env.cr.dbname).cursor()
        setup_cr.execute(
            """INSERT INTO hc_connector (name, code, company_id, data_classification, active,
                    max_attempts, backoff_base_seconds, backoff_max_seconds)
               VALUES (%s, %s, %s, 'internal', true, 3, 30, 3600) RETURNING id""",
            (code, f"{code}-test", self.company.id),
        )
        connector_id = setup_cr.fetchone()[0]
        setup_cr.execute(
            """INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id, lane_id,
                    state, attempts, next_attempt_at, received_at, idempotency_key, doc_type)
               SELECT %s, %s, %s, %s, 'received', 0, now() at time zone 'utc' - interval '1 minute',
                      now() at time zone 'utc', %s || g, 'vendor'
                 FROM generate_series(1, %s) g RETURNING id""",
            (
                connector_id,
                self.company.id,
                self.doc_types[0].id,
                self.lane_bulk.id,
                f"{code}-",
                count,
            ),
        )
        ids = [row[0] for row in setup_cr.fetchall()]
        setup_cr.commit()
        return setup_cr, connector_id, ids

    def test_two_workers_claim_disjoint_batches(self):
        # Committed rows and independent connections: row locks only exist between real
        # transactions, so this test steps outside the test transaction (and cleans up).
        from odoo import SUPERUSER_ID
        from odoo import api
        from odoo.sql_db import db_connect

        from ..models import hc_lane_worker as worker_module

        dbname = self.env.cr.dbname
        lane_id = self.lane_bulk.id
        setup_cr, connector_id, created = self._committed_messages("race", 300)
        created = set(created)
        claims = {0: [], 1: []}
        errors = []
        barrier = threading.Barrier(2)

        def worker(index):
            with db_connect(dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                lane = env["hc.lane"].browse(lane_id)
                try:
                    barrier.wait()
                    while batch := env["hc.lane.worker"]._claim(lane, 7):
                        claims[index].extend(batch.ids)
                except Exception as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
        try:
            # the workers take the production path (claims committed in READ COMMITTED)
            with patch.object(worker_module, "auto_commit", lambda: True):
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(120)
            self.assertFalse(errors)
            self.assertFalse(set(claims[0]) & set(claims[1]), "a message was claimed twice")
            self.assertEqual(set(claims[0]) | set(claims[1]), created, "every message claimed once")
            self.assertTrue(claims[0] and claims[1], "both workers got work")
        finally:
            self._drop_committed(setup_cr, connector_id)

    def test_a_started_job_clears_the_trigger_that_woke_it(self):
        """Odoo clears a job's triggers due at its start truncated to the second: a
        trigger due a fraction of a second later outlived the job that processed its
        message, and the next POST then saw a due trigger, inserted none and notified no
        one: its receipt waited for the next poll (seen as 8-30 s critical receipts)."""
        lane = self.lane_critical
        cron_ids = list(lane._cron_ids_cached())
        self.env.cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,))
        lane._trigger()
        self.env.cr.execute(
            "SELECT call_at FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,)
        )
        call_ats = [row[0] for row in self.env.cr.fetchall()]
        self.assertEqual(len(call_ats), len(cron_ids))
        self.assertTrue(all(at.microsecond == 0 for at in call_ats), call_ats)
        for cron_id in cron_ids:  # what ir.cron does when the job starts, same second
            self.env["ir.cron"]._clear_schedule({"id": cron_id})
        self.env.cr.execute(
            "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,)
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "no trigger outlives the job it woke")

    @mute_logger("odoo.sql_db")  # the serialization failure provoked below
    def test_worker_already_running_gets_a_new_trigger(self):
        """A due trigger a running job is consuming (its row locked) is not enough.

        ``ir.cron`` deletes a job's due triggers when the job starts and commits at its end:
        a POST arriving after the job's last claim must still leave a trigger behind.
        """
        from odoo import SUPERUSER_ID
        from odoo import api
        from odoo.sql_db import db_connect

        dbname = self.env.cr.dbname
        lane = self.lane_critical
        cron_ids = list(lane._cron_ids_cached())
        count_sql = "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = ANY(%s)"
        setup_cr = db_connect(dbname).cursor()
        job_cr = db_connect(dbname).cursor()
        post_cr = db_connect(dbname).cursor()
        try:
            setup_cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,))
            setup_cr.execute(
                """INSERT INTO ir_cron_trigger (cron_id, call_at)
                   SELECT unnest(%s::int[]), now() AT TIME ZONE 'UTC' - interval '1 second'""",
                (cron_ids,),
            )
            setup_cr.commit()
            # A request now: every worker has a due trigger nobody started on.
            post_env = api.Environment(post_cr, SUPERUSER_ID, {})
            post_env["hc.lane"].browse(lane.id)._trigger()
            post_cr.execute(count_sql, (cron_ids,))
            self.assertEqual(post_cr.fetchone()[0], len(cron_ids), "no second trigger needed")
            post_cr.rollback()
            # The workers start: ir.cron deletes their due triggers (locked until commit).
            job_cr.execute(
                "DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s) AND call_at <= now() AT TIME ZONE 'UTC'",
                (cron_ids,),
            )
            post_env = api.Environment(post_cr, SUPERUSER_ID, {})
            post_env["hc.lane"].browse(lane.id)._trigger()
            # The request still sees the old rows (not committed away) plus its own.
            post_cr.execute(count_sql, (cron_ids,))
            self.assertEqual(
                post_cr.fetchone()[0], 2 * len(cron_ids), "a running worker gets a new trigger"
            )
            post_cr.rollback()
            job_cr.rollback()
            # A job starts and commits after the request's snapshot (REPEATABLE READ): the
            # trigger the snapshot shows is gone, locking it fails to serialize; the request
            # must neither fail nor skip the trigger.
            post_cr.execute(count_sql, (cron_ids,))  # the request's snapshot
            self.assertEqual(post_cr.fetchone()[0], len(cron_ids))
            job_cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,))
            job_cr.commit()
            post_env = api.Environment(post_cr, SUPERUSER_ID, {})
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                with post_cr.savepoint(flush=False):
                    # the API's path: Odoo serves the request again after this error
                    post_env["hc.lane"].browse(lane.id)._trigger()
            post_env["hc.lane"].browse(lane.id)._trigger_safely()  # lane workers' path
            post_cr.execute(count_sql, (cron_ids,))
            self.assertEqual(post_cr.fetchone()[0], 2 * len(cron_ids), "triggered anew")
        finally:
            post_cr.rollback()
            post_cr.close()
            job_cr.rollback()
            job_cr.close()
            setup_cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,))
            setup_cr.commit()
            setup_cr.close()

    def test_contended_batch_is_retried_at_once_by_the_same_run(self):
        """Contention with another worker is no job failure: the batch is due again at once
        and the worker goes on with it in the same run."""
        from odoo import SUPERUSER_ID
        from odoo import api
        from odoo.sql_db import db_connect

        from ..models import hc_lane_worker as worker_module

        dbname = self.env.cr.dbname
        lane_id = self.lane_bulk.id
        setup_cr, connector_id, ids = self._committed_messages("contention", 3)
        Worker = type(self.env["hc.lane.worker"])
        original = Worker._process_one
        calls = []

        def contended_once(worker, message, group=None):
            calls.append(message.id)
            if len(calls) == 2:
                # what a flush of the batch's writes raises after another worker's commit
                try:
                    raise psycopg2.errors.SerializationFailure("concurrent update")
                except psycopg2.Error as exc:
                    raise psycopg2.errors.InFailedSqlTransaction("aborted") from exc
            return original(worker, message, group=group)

        try:
            with (
                db_connect(dbname).cursor() as cr,
                patch.object(worker_module, "auto_commit", lambda: True),
                patch.object(Worker, "_process_one", autospec=True, side_effect=contended_once),
            ):
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["hc.lane.worker"]._cron_process_lane(lane_id)  # no failure raised
            setup_cr.execute(
                "SELECT state, attempts FROM hc_inbox_message WHERE id = ANY(%s) ORDER BY id",
                (ids,),
            )
            rows = setup_cr.fetchall()
            # (these bare test messages have no payload: processed means dead, with a reason)
            self.assertEqual(
                [r[0] for r in rows], ["dead"] * 3, "all processed in the same run, none requeued"
            )
            self.assertEqual(sorted(set(calls)), sorted(ids))
            self.assertEqual(max(r[1] for r in rows), 2, "the contended attempt is counted")
        finally:
            setup_cr.rollback()
            self._drop_committed(setup_cr, connector_id)

    def test_requeue_after_crash_waits_out_a_concurrent_update(self):
        """Giving back a crashed batch must not fail in turn when another worker holds one of
        its rows (e.g. releasing it): the connection returns to Odoo's pool alive, so claims
        left behind would look owned until the stale delay."""
        from odoo import SUPERUSER_ID
        from odoo import api
        from odoo.sql_db import db_connect

        dbname = self.env.cr.dbname
        setup_cr, connector_id, ids = self._committed_messages("requeue", 3)
        other = db_connect(dbname).cursor()
        errors = []
        try:
            setup_cr.execute(
                "UPDATE hc_inbox_message SET state = 'processing' WHERE id = ANY(%s)", (ids,)
            )
            setup_cr.commit()
            # another worker's transaction holds one row (not committed yet)
            other.execute(
                "UPDATE hc_inbox_message SET error_message = 'touched' WHERE id = %s", (ids[0],)
            )

            def requeue():
                try:
                    with db_connect(dbname).cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        messages = env["hc.inbox.message"].browse(ids)
                        env["hc.lane.worker"]._requeue_after_crash(messages, 0)
                except Exception as exc:
                    errors.append(exc)

            worker = threading.Thread(target=requeue)
            worker.start()
            worker.join(1)  # blocked on the row lock
            other.commit()
            worker.join(60)
            self.assertFalse(errors, "the requeue does not fail on a concurrent update")
            setup_cr.execute(
                "SELECT state, error_message FROM hc_inbox_message WHERE id = ANY(%s) ORDER BY id",
                (ids,),
            )
            rows = setup_cr.fetchall()
            self.assertEqual([r[0] for r in rows], ["received"] * 3)
            self.assertEqual(rows[0][1], "touched", "the other worker's change is kept")
        finally:
            other.rollback()
            other.close()
            setup_cr.rollback()
            setup_cr.execute(
                "DELETE FROM hc_inbox_message WHERE connector_id = %s", (connector_id,)
            )
            setup_cr.execute("DELETE FROM hc_connector WHERE id = %s", (connector_id,))
            setup_cr.commit()
            setup_cr.close()

    def test_run_ends_before_odoo_cpu_limit_and_wakes_the_lane(self):
        """Odoo kills a worker past limit_time_cpu (seen in the month-end spike): a run
        past half of it stops between batches and leaves a trigger for a fresh run."""
        from odoo import SUPERUSER_ID
        from odoo import api
        from odoo.sql_db import db_connect

        from ..models import hc_lane_worker as worker_module

        dbname = self.env.cr.dbname
        lane = self.lane_bulk
        setup_cr, connector_id, ids = self._committed_messages("cpu", 3)
        try:
            with (
                db_connect(dbname).cursor() as cr,
                patch.object(worker_module, "auto_commit", lambda: True),
                patch.object(worker_module, "_cpu_budget", lambda: 1e-9),
            ):
                env = api.Environment(cr, SUPERUSER_ID, {})
                cron_ids = list(env["hc.lane"].browse(lane.id)._cron_ids_cached())
                cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,))
                cr.commit()  # pylint: disable=invalid-commit
                env["hc.lane.worker"]._cron_process_lane(lane.id)
            setup_cr.execute(
                "SELECT count(*) FROM hc_inbox_message WHERE id = ANY(%s) AND state = 'received'",
                (ids,),
            )
            self.assertEqual(setup_cr.fetchone()[0], 3, "nothing claimed past the budget")
            setup_cr.execute(
                "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,)
            )
            self.assertTrue(setup_cr.fetchone()[0], "the lane is woken for a fresh run")
        finally:
            setup_cr.rollback()
            setup_cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (cron_ids,))
            self._drop_committed(setup_cr, connector_id)

    def test_crashed_batch_is_requeued_not_left_processing(self):
        """A lane worker whose batch crashes gives its claims back at once."""
        from odoo import SUPERUSER_ID
        from odoo import api
        from odoo.sql_db import db_connect

        from ..models import hc_lane_worker as worker_module

        dbname = self.env.cr.dbname
        lane_id = self.lane_bulk.id
        setup_cr, connector_id, ids = self._committed_messages("crash", 3)
        Worker = type(self.env["hc.lane.worker"])
        try:
            with (
                db_connect(dbname).cursor() as cr,
                patch.object(worker_module, "auto_commit", lambda: True),
                patch.object(Worker, "_process_one", side_effect=RuntimeError("worker bug")),
            ):
                env = api.Environment(cr, SUPERUSER_ID, {})
                with self.assertRaises(RuntimeError):
                    env["hc.lane.worker"]._cron_process_lane(lane_id)
            setup_cr.execute(
                "SELECT state, attempts, next_attempt_at > now() at time zone 'utc' "
                "FROM hc_inbox_message WHERE id = ANY(%s)",
                (ids,),
            )
            rows = setup_cr.fetchall()
            self.assertEqual(len(rows), 3)
            for state, attempts, later in rows:
                self.assertEqual(state, "received", "never left in processing")
                self.assertEqual(attempts, 1, "the attempt stays counted")
                self.assertTrue(later, "due again shortly, not at once")
        finally:
            setup_cr.rollback()
            self._drop_committed(setup_cr, connector_id)

    @contextlib.contextmanager
    def _worker(self, cr):
        """An environment on ``cr`` as a lane worker's batch has it (production path)."""
        from odoo import SUPERUSER_ID
        from odoo import api

        from ..models import hc_lane_worker as worker_module
        from ..models.hc_queue_mixin import AFTER_COMMIT

        token = AFTER_COMMIT.set({"keys": set(), "parked": {}})  # as _process_batch does
        try:
            with patch.object(worker_module, "auto_commit", lambda: True):
                yield api.Environment(cr, SUPERUSER_ID, {})
        finally:
            AFTER_COMMIT.reset(token)

    def test_release_waits_for_the_commit_and_skips_a_claimed_message(self):
        """A worker releasing the messages parked on what it processed does not write them
        in its own REPEATABLE READ transaction: one claimed by another worker after its
        snapshot (waiting messages are polled) made its commit fail to serialize, its
        message's work rolled back and counted, again and again (a payment dead after 8
        retries in the fault suite's reverse order).  The release runs after the commit,
        skips the message another worker holds, and wakes the others."""
        from odoo.sql_db import db_connect

        dbname = self.env.cr.dbname
        setup_cr, connector_id, ids = self._committed_messages("release", 3)
        claimed, parked, done = ids
        key = "vendor:RELEASE-1"
        releaser = db_connect(dbname).cursor()
        try:
            setup_cr.execute(
                """UPDATE hc_inbox_message SET state = 'waiting', waiting_key = %s,
                          next_attempt_at = now() at time zone 'utc' + interval '1 hour'
                    WHERE id = ANY(%s)""",
                (key, [claimed, parked]),
            )
            setup_cr.execute(
                "UPDATE hc_inbox_message SET state = 'processing' WHERE id = %s", (done,)
            )
            setup_cr.commit()
            with self._worker(releaser) as env:
                message = env["hc.inbox.message"].browse(done)
                self.assertEqual(message.state, "processing")  # the worker's snapshot is taken
                # another worker claims one of the waiting messages, and commits
                setup_cr.execute(
                    "UPDATE hc_inbox_message SET state = 'processing' WHERE id = %s", (claimed,)
                )
                setup_cr.commit()
                message.write({"natural_key": key})
                message._mark_done({"summary": "released"})
                self.assertEqual(
                    env["hc.inbox.message"].browse(parked).state,
                    "waiting",
                    "not written in the releasing transaction",
                )
                env["hc.lane.worker"]._commit_outcome(message)  # no serialization failure
            setup_cr.execute(
                "SELECT id, state, attempts FROM hc_inbox_message WHERE id = ANY(%s)", (ids,)
            )
            rows = {row[0]: row[1:] for row in setup_cr.fetchall()}
            self.assertEqual(rows[done][0], "done", "the releasing message's work is kept")
            self.assertEqual(rows[parked][0], "received", "the parked message is woken")
            self.assertEqual(rows[claimed][0], "processing", "the other worker's claim is kept")
        finally:
            releaser.rollback()
            releaser.close()
            setup_cr.rollback()
            self._drop_committed(setup_cr, connector_id)

    def test_message_parked_on_what_another_worker_just_committed_is_woken(self):
        """A worker parks a message because its snapshot does not show the prerequisite
        another worker has committed meanwhile, and that worker's release, run before the
        parking was committed, did not find it waiting: the parking worker looks again
        after its commit and wakes it (it slept until its next poll, minutes with the
        backoff)."""
        from odoo.sql_db import db_connect

        dbname = self.env.cr.dbname
        setup_cr, connector_id, ids = self._committed_messages("parked", 2)
        waiting, prerequisite = ids
        key = "vendor:PARKED-1"
        parker = db_connect(dbname).cursor()
        try:
            setup_cr.execute(
                "UPDATE hc_inbox_message SET state = 'processing' WHERE id = %s", (waiting,)
            )
            setup_cr.commit()
            with self._worker(parker) as env:
                message = env["hc.inbox.message"].browse(waiting)
                processor = env["hc.processor.vendor"]
                self.assertFalse(processor._dependency_met(message, key))  # the snapshot
                # another worker processes the prerequisite and commits
                setup_cr.execute(
                    """UPDATE hc_inbox_message SET state = 'done', natural_key = %s,
                              finished_at = now() at time zone 'utc' WHERE id = %s""",
                    (key, prerequisite),
                )
                setup_cr.commit()
                self.assertFalse(processor._dependency_met(message, key), "(not seen)")
                message._mark_waiting(key)
                env["hc.lane.worker"]._commit_outcome(message)
            setup_cr.execute(
                "SELECT state, waiting_key FROM hc_inbox_message WHERE id = %s", (waiting,)
            )
            state, _key = setup_cr.fetchone()
            self.assertEqual(state, "received", "woken after the commit, not left waiting")
            setup_cr.execute(
                "UPDATE hc_inbox_message SET state = 'processing' WHERE id = %s", (waiting,)
            )
            setup_cr.commit()
            # without the prerequisite, it stays parked
            with self._worker(parker) as env:
                message = env["hc.inbox.message"].browse(waiting)
                message._mark_waiting("vendor:PARKED-NOT-THERE")
                env["hc.lane.worker"]._commit_outcome(message)
            setup_cr.execute("SELECT state FROM hc_inbox_message WHERE id = %s", (waiting,))
            self.assertEqual(setup_cr.fetchone()[0], "waiting")
        finally:
            parker.rollback()
            parker.close()
            setup_cr.rollback()
            self._drop_committed(setup_cr, connector_id)

    def test_outcome_wakes_the_lane_of_a_later_message_it_held_back(self):
        """A message held back by an earlier one of its business object in another lane
        (a purchase order behind its receipt, claimed only to be parked again) is due but
        not claimable while its lane's worker looks, and that worker ends its run: the
        earlier message's outcome wakes that lane once committed (it slept until the
        cron's next minute: 70 s in the fault suite's reverse order)."""
        from odoo.sql_db import db_connect

        dbname = self.env.cr.dbname
        setup_cr, connector_id, ids = self._committed_messages("held", 2)
        earlier, later = ids
        key = "purchase_order:HELD-1"
        crons = self.lane_critical.cron_ids.filtered("active")
        self.assertTrue(crons)
        worker_cr = db_connect(dbname).cursor()
        try:
            setup_cr.execute(
                """UPDATE hc_inbox_message SET correlation_key = %s,
                          state = CASE WHEN id = %s THEN 'processing' ELSE 'received' END,
                          lane_id = CASE WHEN id = %s THEN lane_id ELSE %s END
                    WHERE id = ANY(%s)""",
                (key, earlier, earlier, self.lane_critical.id, ids),
            )
            setup_cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)", (crons.ids,))
            setup_cr.commit()
            with self._worker(worker_cr) as env:
                message = env["hc.inbox.message"].browse(earlier)
                message._mark_waiting("receipt:HELD-ASN")  # parked: no longer holds it back
                env["hc.lane.worker"]._commit_outcome(message)
            setup_cr.execute(
                """SELECT DISTINCT cron_id FROM ir_cron_trigger
                    WHERE cron_id = ANY(%s) AND call_at <= now() AT TIME ZONE 'UTC'""",
                (crons.ids,),
            )
            self.assertEqual(
                {row[0] for row in setup_cr.fetchall()},
                set(crons.ids),
                "the lane of the later message is woken",
            )
            # the worker's own lane is not: it claims again itself
            setup_cr.execute(
                "DELETE FROM ir_cron_trigger WHERE cron_id = ANY(%s)",
                (self.lane_bulk.cron_ids.ids,),
            )
            setup_cr.execute(
                """UPDATE hc_inbox_message SET state = 'processing', lane_id = %s
                    WHERE id = %s""",
                (self.lane_bulk.id, earlier),
            )
            setup_cr.execute(
                "UPDATE hc_inbox_message SET lane_id = %s WHERE id = %s",
                (self.lane_bulk.id, later),
            )
            setup_cr.commit()
            with self._worker(worker_cr) as env:
                message = env["hc.inbox.message"].browse(earlier)
                message._mark_waiting("receipt:HELD-ASN")
                env["hc.lane.worker"]._commit_outcome(message)
            setup_cr.execute(
                "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = ANY(%s)",
                (self.lane_bulk.cron_ids.ids,),
            )
            self.assertEqual(setup_cr.fetchone()[0], 0)
        finally:
            worker_cr.rollback()
            worker_cr.close()
            setup_cr.rollback()
            self._drop_committed(setup_cr, connector_id)
