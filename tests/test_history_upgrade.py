"""A year of history: module updates and the upkeep of the inbox table.

Every update writes the document types of ``data/hc_lane_data.xml`` again (an updatable
block), code included.  ``doc_type`` of ``hc.inbox.message`` (and of its archive, which
inherits it) is stored, related to the type's code: without care, an unchanged code marks
every message for recomputation, which on millions of rows exhausts the worker's memory
and fails the update (seen at 5,000,000 rows, issue 19).  The inbox table is vacuumed
and analyzed by a number of changed rows, whatever its size.
"""

from odoo.tests import tagged

from ..models.hc_inbox_message import INBOX_STORAGE
from .common import HcCase


@tagged("post_install", "-at_install")
class TestHistoryUpgrade(HcCase):
    def pending(self, model):
        field = self.env[model]._fields["doc_type"]
        return self.env.records_to_compute(field)

    def test_rewriting_a_type_unchanged_leaves_the_messages_alone(self):
        message, _status = self.accept([self.vendor_doc(name="Upgrade vendor")])[0]
        self.env.flush_all()
        vendor = self.env.ref("healthcare_p2p_integration.doc_type_vendor")
        # what the module update writes: every field of the record, the code unchanged
        vendor.write({"name": vendor.name, "code": vendor.code, "sequence": vendor.sequence})
        self.assertFalse(self.pending("hc.inbox.message"))
        self.assertFalse(self.pending("hc.inbox.message.archive"))
        self.assertEqual(message.doc_type, "vendor")

    def test_a_changed_code_still_reaches_the_messages(self):
        doc_type = self.env["hc.document.type"].create(
            {
                "name": "Upgrade test type",
                "code": "upgrade_test",
                "default_lane_id": self.env.ref("healthcare_p2p_integration.lane_bulk").id,
            }
        )
        self.connector.allowed_doc_type_ids = [(4, doc_type.id)]
        message, _status = self.Inbox._accept(
            self.connector,
            doc_type,
            self.company,
            "application/json",
            [self.raw(self.vendor_doc(name="Typed"))],
        )[0]
        self.assertEqual(message.doc_type, "upgrade_test")
        doc_type.write({"code": "upgrade_renamed"})
        self.assertIn(message, self.pending("hc.inbox.message"))
        self.env.flush_all()
        self.env.cr.execute("SELECT doc_type FROM hc_inbox_message WHERE id = %s", [message.id])
        self.assertEqual(self.env.cr.fetchone()[0], "upgrade_renamed")

    def options(self):
        self.env.cr.execute(
            "SELECT reloptions FROM pg_class WHERE oid = 'hc_inbox_message'::regclass"
        )
        return dict(option.split("=", 1) for option in self.env.cr.fetchone()[0] or [])

    def test_the_inbox_is_vacuumed_by_changed_rows_not_by_share(self):
        self.assertEqual(self.options(), INBOX_STORAGE)
        # an administrator's own setting survives the next module update
        self.env.cr.execute(
            "ALTER TABLE hc_inbox_message SET (autovacuum_vacuum_threshold = 20000)"
        )
        self.env.cr.execute("ALTER TABLE hc_inbox_message RESET (vacuum_index_cleanup)")
        self.env["hc.inbox.message"].init()
        self.assertEqual(self.options(), {**INBOX_STORAGE, "autovacuum_vacuum_threshold": "20000"})
