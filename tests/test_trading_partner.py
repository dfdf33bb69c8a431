"""Trading-partner profiles: environment segregation, identifiers, control numbers."""

import threading
from contextlib import closing

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID
from odoo import api
from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import let_threads_open_environments
from .outbound_common import OutboundCase


@tagged("post_install", "-at_install")
class TestTradingPartner(OutboundCase):
    def test_test_profile_refused_on_a_production_endpoint_at_create(self):
        with self.refused(ValidationError, "Environment segregation"):
            self.env["hc.trading.partner"].create(
                {
                    "partner_id": self.vendor.id,
                    "endpoint_id": self.endpoint_prod.id,
                    "environment": "test",
                }
            )

    def test_segregation_refused_at_write_on_either_side(self):
        with self.refused(ValidationError, "Environment segregation"):
            self.profile.write({"endpoint_id": self.endpoint_test.id})
        with self.refused(ValidationError, "Environment segregation"):
            self.profile.write({"environment": "test"})
        with self.refused(ValidationError, "Environment segregation"):
            self.endpoint_prod.write({"environment": "test"})
        # a consistent pair is fine: a test profile beside the production one
        test_profile = self.env["hc.trading.partner"].create(
            {
                "partner_id": self.vendor.id,
                "endpoint_id": self.endpoint_test.id,
                "environment": "test",
            }
        )
        self.assertEqual(test_profile._usage_indicator(), "T")
        self.assertEqual(self.profile._usage_indicator(), "P")
        # the production profile is the one documents go through
        self.assertEqual(
            self.env["hc.trading.partner"]._for_partner(self.vendor, self.company), self.profile
        )

    def test_one_active_profile_per_vendor_company_environment(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.env["hc.trading.partner"].create(
                {"partner_id": self.vendor.id, "endpoint_id": self.endpoint_prod.id}
            )

    def test_x12_needs_the_envelope_ids(self):
        with self.refused(ValidationError, "ISA08"):
            self.profile.write({"order_format": "x12", "isa_receiver_id": False})
        with self.refused(ValidationError, "Vendor GLN"):
            self.profile.write({"gln": "123"})
        with self.refused(ValidationError, "Peppol"):
            self.profile.write({"peppol_participant_id": "5790000435975"})
        self.profile.write(
            {
                "order_format": "x12",
                "gln": "0614141000012",
                "peppol_participant_id": "0088:0614141000012",
            }
        )

    def test_profile_is_for_the_commercial_entity(self):
        contact = self.env["res.partner"].create({"name": "Jane", "parent_id": self.vendor.id})
        with self.refused(ValidationError, "not one of its contacts"):
            self.profile.write({"partner_id": contact.id})

    def test_control_numbers_are_never_reused(self):
        first = self.profile._next_control_number()
        with self.assertRaises(RuntimeError), self.cr.savepoint():
            self.profile._next_control_number()
            raise RuntimeError("the send failed and rolled back")
        third = self.profile._next_control_number()
        self.assertGreater(third, first + 1, "a rolled-back number is not handed out again")
        envelope = self.profile._envelope(third)
        self.assertEqual(
            (envelope.interchange_control_number, envelope.group_control_number), (third, third)
        )
        self.assertEqual(envelope.usage_indicator, "P")
        self.assertEqual(envelope.receiver_id, "MEDLINE01")

    def test_only_integration_admins_edit_profiles(self):
        with self.assertRaises(AccessError):
            self.profile.with_user(self.clerk).write({"ack_hours": 4})
        with self.assertRaises(AccessError):
            self.env["hc.trading.partner"].with_user(self.buyer).search([])


@tagged("post_install", "-at_install")
class TestControlNumberConcurrency(TransactionCase):
    """Control numbers under real concurrency: senders on connections of their own, some
    committing, some rolling back.  The profile is committed on a cursor of its own for
    the test's duration, then removed."""

    SENDERS = 4
    ROUNDS = 10

    def setUp(self):
        super().setUp()
        let_threads_open_environments(self)
        self.dbname = self.env.cr.dbname
        with closing(db_connect(self.dbname).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            vendor = env["res.partner"].create({"name": "Concurrent vendor", "is_company": True})
            connector = env["hc.connector"].create({"name": "Concurrent net", "code": "concnet"})
            endpoint = env["hc.outbox.endpoint"].create(
                {
                    "name": "concurrent",
                    "connector_id": connector.id,
                    "url": "http://127.0.0.1:9/none",
                    "event_type_ids": [(6, 0, env["hc.outbox.event.type"].search([], limit=1).ids)],
                    "secret": "concurrency-secret-0123456789",
                }
            )
            profile = env["hc.trading.partner"].create(
                {"partner_id": vendor.id, "endpoint_id": endpoint.id}
            )
            self.profile_id = profile.id
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._remove, vendor.id, connector.id, endpoint.id)

    def _remove(self, vendor_id, connector_id, endpoint_id):
        with closing(db_connect(self.dbname).cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            profile = env["hc.trading.partner"].browse(self.profile_id)
            sequence = profile.control_sequence_id
            profile.unlink()
            sequence.unlink()
            env["hc.outbox.endpoint"].browse(endpoint_id).unlink()
            env["hc.connector"].browse(connector_id).unlink()
            env["res.partner"].browse(vendor_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def test_no_number_is_handed_out_twice(self):
        numbers, errors = [], []
        lock = threading.Lock()
        start = threading.Barrier(self.SENDERS)

        def sender(index):
            try:
                start.wait()
                for round_ in range(self.ROUNDS):
                    with closing(db_connect(self.dbname).cursor()) as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        number = (
                            env["hc.trading.partner"].browse(self.profile_id)._next_control_number()
                        )
                        with lock:
                            numbers.append(number)
                        # every other send fails and rolls back: its number is not reused
                        if (index + round_) % 2:
                            cr.rollback()
                        else:
                            cr.commit()  # pylint: disable=invalid-commit
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=sender, args=(i,)) for i in range(self.SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertFalse(errors)
        self.assertEqual(len(numbers), self.SENDERS * self.ROUNDS)
        self.assertEqual(len(set(numbers)), len(numbers), "a control number was reused")
