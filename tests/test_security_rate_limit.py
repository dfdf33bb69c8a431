from datetime import timedelta

from psycopg2 import IntegrityError

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools import mute_logger

from ..api_contract import rate_limit
from ..models.hc_rate_bucket import TAKE_SQL
from .security_api_common import SecurityCase


@tagged("post_install", "-at_install")
class TestRateLimit(SecurityCase, HttpCase):
    """Per-connector token bucket in PostgreSQL: 429 with Retry-After above the limit."""

    def bucket(self):
        self.env.cr.execute(
            "SELECT tokens, refilled_at, granted FROM hc_rate_bucket WHERE connector_id = %s",
            [self.connector.id],
        )
        return self.env.cr.fetchone()

    def rewind(self, seconds):
        """Pretend the last request was ``seconds`` earlier (the bucket refills)."""
        self.env.cr.execute(
            "UPDATE hc_rate_bucket SET refilled_at = refilled_at - %s WHERE connector_id = %s",
            [timedelta(seconds=seconds), self.connector.id],
        )

    def test_unlimited_connector_has_no_bucket(self):
        self.assertEqual(self.connector.rate_limit_per_second, 0)
        for _i in range(5):
            self.assertIn(self.post("vendors", self.vendor_doc()).status_code, (200, 202))
        self.assertIsNone(self.bucket(), "an unlimited connector costs no SQL at all")

    def test_burst_then_429_with_retry_after(self):
        self.connector.write({"rate_limit_per_second": 0.1, "rate_limit_burst": 3})
        before = self.Inbox.search_count([])
        statuses = [
            self.post("vendors", self.vendor_doc(gln=gln)).status_code
            for gln in ("0614141000012", "0614141000029", "0614141000036")
        ]
        self.assertEqual(statuses, [202, 202, 202])
        refused = self.post("vendors", self.vendor_doc(gln="0614141000043"))
        self.assertEqual(refused.status_code, 429, refused.text)
        error = refused.json()["error"]
        self.assertEqual(error["code"], "rate_limited")
        self.assertEqual(refused.headers["Retry-After"], "10")  # 1 token at 0.1/s
        self.assertEqual(self.Inbox.search_count([]), before + 3, "the refused one is not stored")
        # the status endpoint shares the connector's budget
        self.assertEqual(self.get("messages/1").status_code, 429)

    def test_refill_over_time_and_refusals_take_nothing(self):
        self.connector.write({"rate_limit_per_second": 1, "rate_limit_burst": 2})
        codes = [self.post("vendors", self.vendor_doc()).status_code for _i in range(6)]
        self.assertEqual(codes[:2], [202, 200])
        self.assertEqual(codes[2:], [429] * 4)
        tokens, _at, granted = self.bucket()
        self.assertFalse(granted)
        self.assertGreaterEqual(tokens, 0, "refused requests never drive the bucket negative")
        self.assertLess(tokens, 1)
        self.rewind(2)  # two seconds later: two tokens (capped at the burst)
        codes = [self.post("vendors", self.vendor_doc()).status_code for _i in range(3)]
        self.assertEqual(codes, [200, 200, 429])
        self.rewind(3600)  # an hour idle refills to the burst, no more
        codes = [self.post("vendors", self.vendor_doc()).status_code for _i in range(3)]
        self.assertEqual(codes, [200, 200, 429])

    def test_burst_zero_is_one_seconds_worth(self):
        self.connector.write({"rate_limit_per_second": 2, "rate_limit_burst": 0})
        codes = [self.post("vendors", self.vendor_doc()).status_code for _i in range(3)]
        self.assertEqual(codes, [202, 200, 429])

    def test_limits_are_per_connector(self):
        self.connector.write({"rate_limit_per_second": 0.01, "rate_limit_burst": 1})
        other = self.env["hc.connector"].create(
            {
                "name": "Other",
                "code": "other_rl",
                "allowed_doc_type_ids": [(6, 0, self.doc_types.ids)],
            }
        )
        other_key = other._generate_api_key()
        self.assertEqual(self.post("vendors", self.vendor_doc()).status_code, 202)
        self.assertEqual(self.post("vendors", self.vendor_doc()).status_code, 429)
        self.assertEqual(self.post("vendors", self.vendor_doc(), key=other_key).status_code, 202)

    def test_rate_limit_comes_before_scopes_and_signature(self):
        self.connector.write(
            {"rate_limit_per_second": 0.01, "rate_limit_burst": 1, "require_signature": True}
        )
        self.assertEqual(self.post("vendors", self.vendor_doc()).status_code, 401)
        refused = self.post("vendors", self.vendor_doc())
        self.assertEqual(refused.status_code, 429, "a flood of unsigned requests is limited too")
        # invalid credentials never reach (nor create) a bucket
        self.assertEqual(self.post("vendors", self.vendor_doc(), key="0" * 40).status_code, 401)

    def test_lowering_the_burst_caps_the_bucket(self):
        self.connector.write({"rate_limit_per_second": 1, "rate_limit_burst": 50})
        self.assertEqual(self.post("vendors", self.vendor_doc()).status_code, 202)
        self.connector.write({"rate_limit_burst": 1})
        codes = [self.post("vendors", self.vendor_doc()).status_code for _i in range(2)]
        self.assertEqual(codes, [200, 429])

    def test_sql_statement_matches_the_reference_bucket(self):
        """The one SQL statement computes what api_contract.rate_limit.take() computes."""
        rate, burst = 0.5, 4.0
        params = {"connector": self.connector.id, "rate": rate, "burst": burst}
        self.env.cr.execute(SQL(TAKE_SQL, **params))
        self.assertEqual(self.env.cr.fetchone(), (True, 3.0))
        tokens = 3.0
        for elapsed in (0, 0, 0, 0, 1, 3, 0, 10, 0.2):
            self.env.cr.execute(
                "UPDATE hc_rate_bucket SET refilled_at = (statement_timestamp() AT TIME ZONE"
                " 'UTC') - %s WHERE connector_id = %s",
                [timedelta(seconds=elapsed), self.connector.id],
            )
            self.env.cr.execute(SQL(TAKE_SQL, **params))
            granted, got = self.env.cr.fetchone()
            expected_granted, tokens = rate_limit.take(tokens, elapsed, rate, burst)
            self.assertEqual(granted, expected_granted, elapsed)
            # the statement runs a few microseconds after the rewind: a hair more refill
            self.assertAlmostEqual(got, tokens, delta=0.01)
            tokens = got

    def test_constraints_refuse_negative_limits(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self.connector.write({"rate_limit_per_second": -1})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self.connector.write({"signature_window_seconds": 0})
