"""Trading-partner profiles: environment segregation, identifiers, control numbers."""

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

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
