from unittest.mock import patch

import psycopg2.errors

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..api_contract.errors import PermanentError
from ..api_contract.errors import TransientError
from ..api_contract.errors import WaitingForDependency
from ..models import hc_lane_worker
from .common import HcCase

# The worker logs an unexpected error with its traceback: expected here, not a failure.
WORKER_LOG = "odoo.addons.healthcare_p2p_integration.models.hc_lane_worker"


class Contention(psycopg2.errors.SerializationFailure):
    pgcode = "40001"  # set by psycopg2 on a raised error, not on one built by hand


class Canceled(psycopg2.errors.QueryCanceled):
    pgcode = "57014"


@tagged("post_install", "-at_install")
class TestLaneWorkerOutcomes(HcCase):
    """The lane worker sorts every failure with one method, ``_failure_outcome``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Worker = cls.env["hc.lane.worker"]

    def setUp(self):
        super().setUp()
        [(self.message, _s)] = self.accept([self.vendor_doc()])

    def outcome(self, exc):
        return self.Worker._failure_outcome(self.message, exc)

    @mute_logger(WORKER_LOG)
    def test_each_kind_of_error_has_its_outcome(self):
        W = hc_lane_worker
        cases = [
            (TransientError("supplier portal down", code="portal_down"), W.RETRY, "portal_down"),
            (PermanentError("no such unit", code="unknown_uom"), W.DEAD, "unknown_uom"),
            (UserError("refused"), W.DEAD, "invalid_document"),
            (ValidationError("bad"), W.DEAD, "invalid_document"),
            (AccessError("no"), W.DEAD, "invalid_document"),
            (ValueError("x"), W.DEAD, "invalid_document"),
            (KeyError("lines"), W.DEAD, "invalid_document"),
            (TypeError("y"), W.DEAD, "invalid_document"),
            (RuntimeError("a bug"), W.RETRY, "unexpected_error"),
            (Contention("could not serialize access"), W.RETRY, "database_contention"),
        ]
        for exc, kind, code in cases:
            with self.subTest(exc=repr(exc)):
                outcome = self.outcome(exc)
                self.assertEqual((outcome.kind, outcome.code), (kind, code))
        self.assertEqual(self.outcome(PermanentError("no such unit")).message, "no such unit")
        self.assertEqual(self.outcome(RuntimeError("a bug")).message, "RuntimeError('a bug')")

    @mute_logger(WORKER_LOG)
    def test_a_database_fault_is_not_the_message_s_failure(self):
        """Only contention is the message's to retry; any other database error is the
        batch's (``None``: the worker re-raises it and requeues the batch)."""
        self.assertIsNone(self.outcome(Canceled("canceling statement due to timeout")))
        # a programming error is a bug: retried (and logged) like any unexpected error
        outcome = self.outcome(psycopg2.errors.UndefinedTable("no such table"))
        self.assertEqual(outcome.code, "unexpected_error")

    def test_waiting_carries_its_key_and_the_review_for_a_person(self):
        plain = self.outcome(WaitingForDependency("vendor:gln=0614141000012"))
        self.assertEqual(
            (plain.kind, plain.key, plain.exceptions),
            (hc_lane_worker.WAIT, "vendor:gln=0614141000012", ()),
        )
        review = {
            "exception_type": "data_quality",
            "name": "Unknown vendor",
            "dedup_key": "unknown_vendor:1",
        }
        outcome = self.outcome(WaitingForDependency("vendor:gln=1", review=review))
        [vals] = outcome.exceptions
        self.assertEqual(vals["message_id"], self.message.id)
        self.assertEqual(vals["company_id"], self.message.company_id.id)
        self.assertNotIn("message_id", review, "the processor's dict is not changed")

    def test_permanent_error_carries_its_exceptions(self):
        vals = {"exception_type": "data_quality", "name": "n", "dedup_key": "k"}
        outcome = self.outcome(PermanentError("bad", exceptions=[vals]))
        self.assertEqual(outcome.exceptions, (vals,))

    def test_outcomes_are_recorded_on_the_message(self):
        """Through the worker's run: the outcome of a failing apply lands on the message,
        and the review exception of a parked message outlives the rolled-back apply."""
        review = {
            "exception_type": "data_quality",
            "name": "Vendor to review",
            "dedup_key": f"review:{self.message.id}",
        }
        Processor = type(self.env["hc.processor.vendor"])
        with patch.object(
            Processor,
            "_apply",
            side_effect=WaitingForDependency("vendor:gln=1", review=review),
        ):
            self.process()
        self.assertEqual(
            (self.message.state, self.message.waiting_key, self.message.attempts),
            ("waiting", "vendor:gln=1", 0),
        )
        exc = self.env["hc.exception"].search([("dedup_key", "=", review["dedup_key"])])
        self.assertEqual(exc.message_id, self.message)
        self.message.write({"next_attempt_at": self.message.received_at})
        with patch.object(Processor, "_apply", side_effect=TransientError("later", code="busy")):
            self.process()
        self.assertEqual((self.message.state, self.message.error_code), ("failed", "busy"))

    @mute_logger(WORKER_LOG)
    def test_the_classification_is_overridable(self):
        """A deployment that knows an error to be final sorts it in one place."""

        class SupplierToolRefused(Exception):
            pass

        original = type(self.Worker)._failure_outcome

        def failure_outcome(worker, message, exc):
            if isinstance(exc, SupplierToolRefused):
                return hc_lane_worker.Outcome(hc_lane_worker.DEAD, "tool_refused", str(exc))
            return original(worker, message, exc)

        Processor = type(self.env["hc.processor.vendor"])
        with (
            patch.object(Processor, "_apply", side_effect=SupplierToolRefused("refused")),
            patch.object(type(self.Worker), "_failure_outcome", failure_outcome),
        ):
            self.process()
        self.assertEqual(
            (self.message.state, self.message.error_code, self.message.error_message),
            ("dead", "tool_refused", "refused"),
        )
        # without the override the same error is an unexpected one: retried
        [(other, _s)] = self.accept([self.vendor_doc(gln="0614141000029")])
        with patch.object(Processor, "_apply", side_effect=SupplierToolRefused("refused")):
            self.process()
        self.assertEqual((other.state, other.error_code), ("failed", "unexpected_error"))


@tagged("post_install", "-at_install")
class TestQueueVocabulary(HcCase):
    """Inbox and outbox are two queues of one skeleton (``hc.queue.mixin``)."""

    def test_both_queues_have_the_same_queue_fields(self):
        shared = ("attempts", "next_attempt_at", "started_at", "error_code", "error_message")
        for model in ("hc.inbox.message", "hc.outbox.event"):
            fields_ = self.env[model]._fields
            for name in (*shared, "replay_count"):
                with self.subTest(model=model, field=name):
                    self.assertIn(name, fields_)
                    self.assertTrue(fields_[name].store)
        for old in ("last_error_code", "last_error", "sending_since"):
            self.assertNotIn(old, self.env["hc.outbox.event"]._fields)

    def test_inbox_mark_dead_from_any_open_state_with_the_reason(self):
        results = self.accept(
            [self.vendor_doc(gln=g) for g in ("0614141000012", "0614141000029", "0614141000036")]
        )
        queued, processing, done = (m for m, _s in results)
        processing.write({"state": "processing"})
        done.write({"state": "done"})
        (queued | processing | done)._kill("Sent by mistake")
        self.assertEqual((queued | processing | done).mapped("state"), ["dead", "dead", "done"])
        self.assertEqual(
            (queued.error_code, queued.error_message), ("killed_by_admin", "Sent by mistake")
        )
        self.assertTrue(queued.finished_at)
        log = self.env["hc.audit.log"].search(
            [("action", "=", "mark_dead"), ("res_id", "in", (queued | processing | done).ids)]
        )
        self.assertEqual(sorted(log.mapped("res_id")), sorted((queued | processing).ids))

    def test_exhausted_retries_read_the_same_in_both_queues(self):
        for model in ("hc.inbox.message", "hc.outbox.event"):
            self.assertEqual(
                self.env[model]._exhausted_reason(3, "HTTP 500"),
                "Retries exhausted after 3 attempts: HTTP 500",
            )
