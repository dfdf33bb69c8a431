"""X12 interchanges sent expect a 997/999: matched by envelope ids and control numbers,
a rejection is an exception, an overdue one a reconciliation finding.

The 850s are the real renderer's (``formats.outbound.x12``); the vendor's answers are
written here (``_ack``: a 997 with the group status and set codes a test needs).
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase
from odoo.tests import tagged

from ..formats.x12.envelope import read_interchange
from .outbound_common import OutboundCase


def _isa(sender, receiver, number, usage="P"):
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*261206*0410*U*00401*"
        f"{number:09d}*1*{usage}*>~"
    )


def _ack(sender, receiver, group_number, status="A", set_status="A", codes=()):
    ak5 = "*".join(["AK5", set_status, *codes])
    segments = [
        f"AK1*PO*{group_number}",
        "AK2*850*0001",
        ak5,
        f"AK9*{status}*1*1*{1 if status == 'A' else 0}",
    ]
    body = "".join(s + "~" for s in segments)
    count = len(segments) + 2
    return (
        _isa(sender, receiver, 41)
        + f"GS*FA*{sender}*{receiver}*20261206*0500*41*X*004010~"
        + "ST*997*0001~"
        + body
        + f"SE*{count}*0001~GE*1*41~IEA*1*000000041~"
    ).encode()


@tagged("post_install", "-at_install")
class TestOutboundAcks(OutboundCase):
    def setUp(self):
        super().setUp()
        self.profile.write({"order_format": "x12", "ack_expected": "997", "ack_hours": 4})

    def test_interchange_recorded_with_its_control_numbers(self):
        po = self.confirm_po()
        [document] = self.documents(po)
        self.assertEqual(document.fmt, "x12")
        self.assertEqual(document.document_type, "X12 850 Purchase Order")
        self.assertEqual(document.ack_state, "pending")
        self.assertTrue(document.ack_due_at > fields.Datetime.now() + timedelta(hours=3))
        interchange = read_interchange(document.event_id.payload.encode())
        self.assertEqual(int(interchange.isa[13]), document.interchange_control_number)
        [group] = interchange.groups
        self.assertEqual(int(group.control_number), document.group_control_number)
        self.assertEqual([tx.set_id for tx in group.transactions], ["850"])
        self.assertEqual(interchange.isa[15], "P")
        self.assertEqual((document.sender_id, document.receiver_id), ("HOSPITAL01", "MEDLINE01"))
        self.assertEqual(document.event_id.content_type, "application/edi-x12")
        second = self.documents(self.confirm_po())
        self.assertGreater(second.interchange_control_number, document.interchange_control_number)
        self.deliver()
        [request] = [
            r for r in self.receiver.requests if r["event_id"] == document.event_id.event_uuid
        ]
        self.assertEqual(request["content_type"], "application/edi-x12")
        self.assertEqual(request["body"], document.event_id.payload.encode())
        self.assertTrue(request["signature_ok"])

    def test_997_accepts_the_interchange_it_names(self):
        po = self.confirm_po()
        [document] = self.documents(po)
        other = self.documents(self.confirm_po())
        Document = self.env["hc.outbound.document"]
        # a 997 from someone else, or for another group, matches nothing
        self.assertFalse(
            Document._apply_functional_ack(
                _ack("OTHER01", "HOSPITAL01", document.group_control_number)
            )
        )
        updated = Document._apply_functional_ack(
            _ack("MEDLINE01", "HOSPITAL01", document.group_control_number)
        )
        self.assertEqual(updated, document)
        self.assertEqual(document.ack_state, "accepted")
        self.assertEqual(other.ack_state, "pending")

    def test_rejecting_997_opens_an_exception(self):
        po = self.confirm_po()
        [document] = self.documents(po)
        self.env["hc.outbound.document"]._apply_functional_ack(
            _ack("MEDLINE01", "HOSPITAL01", document.group_control_number, "R", "R", ["5"])
        )
        self.assertEqual(document.ack_state, "rejected")
        self.assertIn("0001 R (5)", document.ack_codes)
        exc = self.env["hc.exception"].search([("dedup_key", "=", f"edi_ack:{document.id}")])
        self.assertEqual(exc.exception_type, "edi_ack_rejected")
        self.assertEqual(exc.purchase_id, po)

    def test_overdue_acknowledgment_is_a_reconciliation_finding(self):
        po = self.confirm_po()
        [document] = self.documents(po)
        rule = self.env.ref("healthcare_p2p_integration.recon_edi_ack_overdue")
        self.assertEqual(rule._run()["found"], 0, "not due yet")
        document.sudo().ack_due_at = fields.Datetime.now() - timedelta(minutes=1)
        self.assertEqual(rule._run()["opened"], 1)
        finding = self.env["hc.exception"].search(
            [("dedup_key", "=", f"recon:edi_ack_overdue:{document.id}")]
        )
        self.assertEqual(finding.exception_type, "edi_ack_overdue")
        self.assertEqual(finding.state, "new")
        # the 997 arrives late: the next run clears the finding
        self.env["hc.outbound.document"]._apply_functional_ack(
            _ack("MEDLINE01", "HOSPITAL01", document.group_control_number)
        )
        self.assertEqual(rule._run()["resolved"], 1)
        self.assertEqual(finding.state, "resolved")


@tagged("post_install", "-at_install")
class TestOutboundAcksApi(OutboundCase, HttpCase):
    """A 997 posted to /api/hc/v1/edi-acks goes through the inbox like every document."""

    def setUp(self):
        super().setUp()
        self.profile.write({"order_format": "x12"})

    def post_ack(self, body):
        return self.url_open(
            "/api/hc/v1/edi-acks",
            data=body,
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/edi-x12",
            },
            method="POST",
        )

    def test_posted_997_is_stored_processed_and_matched(self):
        [document] = self.documents(self.confirm_po())
        body = _ack("MEDLINE01", "HOSPITAL01", document.group_control_number, "R", "R", ["5"])
        response = self.post_ack(body)
        self.assertEqual(response.status_code, 202, response.text)
        answer = response.json()
        self.assertIsNone(answer.get("functional_ack"), "an acknowledgment is not acknowledged")
        message = self.Inbox.browse(answer["id"])
        self.assertEqual(message.doc_type, "functional_ack")
        self.process()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertEqual(document.ack_state, "rejected")
        self.assertEqual(document.ack_message_id, message)
        # the same 997 again is a duplicate, not a second record
        again = self.post_ack(body)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertTrue(again.json()["duplicate"])
        self.assertEqual(again.json()["id"], message.id)

    def test_997_for_nothing_we_sent_is_dead_with_a_reason(self):
        response = self.post_ack(_ack("MEDLINE01", "HOSPITAL01", 424242))
        self.assertEqual(response.status_code, 202, response.text)
        message = self.Inbox.browse(response.json()["id"])
        self.process()
        self.assertEqual(message.state, "dead")
        self.assertEqual(message.error_code, "ack_unmatched")

    def test_an_850_posted_as_an_acknowledgment_is_refused(self):
        po = self.confirm_po()
        [document] = self.documents(po)
        response = self.post_ack(document.event_id.payload.encode())
        self.assertEqual(response.status_code, 422, response.text)
