"""Every outbound format end to end through Odoo: a purchase user confirms, changes and
cancels an order, an AP clerk rejects a bill and pays one; each document is built by the
real renderer of the vendor's format (X12 004010 and 005010, UBL / Peppol, cXML, JSON),
queued in the outbox, delivered to the loopback receiver with its exact bytes and content
type, and then checked as the vendor would read it: the XML against the official schemas
and Peppol rules of ../shared/validation, the X12 by the project's own reader with the
control numbers recorded on the outbound document.  A 997/999 built from the delivered
850 marks it acknowledged.  A format with no renderer for a kind (cXML remittance) is
"Not sent" with an exception, and the payment stands.
"""

import copy
import json

from lxml import etree

from odoo import Command
from odoo.tests import tagged

from ..formats import registry
from ..formats.x12.ack import functional_ack
from ..formats.x12.envelope import read_interchange
from .outbound_common import OutboundCase
from .outbound_validation import VALIDATION_DIR
from .outbound_validation import validate_out_of_process

CONTENT_TYPES = {
    "json": "application/json",
    "x12": "application/edi-x12",
    "ubl": "application/xml",
    "cxml": "application/xml",
}
# kind -> (X12 set, GS01) and the UBL / cXML rule set or DTD the validator must name
X12_SETS = {
    "order": ("850", "PO"),
    "order_change": ("860", "PC"),
    "order_cancel": ("860", "PC"),
    "invoice_response": ("824", "AG"),
    "remittance": ("820", "RA"),
}
UBL_RULES = {
    "order": ["(T01)", "UBL-Order-2.1.xsd"],
    "order_change": ["(T114)", "UBL-OrderChange-2.3.xsd"],
    "order_cancel": ["(T115)", "UBL-OrderCancellation-2.3.xsd"],
    "invoice_response": ["(T111)", "UBL-ApplicationResponse-2.1.xsd"],
}
# X12 sets the project's own reader turns back into a canonical document
X12_READ_BACK = {"850": "purchase_order", "860": "purchase_order", "820": "payment"}
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"


class _FormatFlow:
    """The flows of one format; the subclasses below name the format (and version)."""

    fmt = None
    x12_version = "004010"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor.write(
            {
                "street": "Three Lakes Drive 1",
                "city": "Northfield",
                "zip": "60093",
                "country_id": cls.env.ref("base.us").id,
                "state_id": cls.env.ref("base.state_us_14").id,
            }
        )
        cls.profile.write(
            {
                "company_participant_id": "0088:0614141000036",
                "order_format": cls.fmt,
                "response_format": cls.fmt,
                "remittance_format": cls.fmt,
                "x12_version": cls.x12_version,
                "ubl_version": "peppol_advanced",
                "cxml_to_domain": "DUNS",
                "cxml_to_identity": "123456789",
                "ack_expected": "999" if cls.x12_version == "005010" else "997",
            }
        )

    def setUp(self):
        super().setUp()
        self.skipped_validation = None

    # -- checks ---------------------------------------------------------------------------

    def delivered(self, document):
        """The request the vendor received for ``document`` (delivered now)."""
        self.assertEqual(document.state, "queued", document.error_message)
        self.deliver()
        self.assertEqual(document.event_id.state, "delivered", document.event_id.last_response)
        [request] = [
            r for r in self.receiver.requests if r["event_id"] == document.event_id.event_uuid
        ]
        self.assertEqual(request["body"], document.event_id.payload.encode(), "exact bytes")
        self.assertEqual(request["content_type"], CONTENT_TYPES[document.fmt])
        self.assertEqual(request["content_type"], document.content_type)
        self.assertEqual(request["event_type"], f"document.{document.kind}")
        self.assertEqual(request["path"], "/prod")
        self.assertTrue(request["signature_ok"])
        return request["body"]

    def check(self, document, body):
        """Read ``body`` as the vendor would, by format."""
        self.assertEqual(document.fmt, self.fmt)
        return getattr(self, f"check_{document.fmt}")(document, body)

    def check_json(self, document, body):
        data = json.loads(body)
        expected = "payment" if document.kind == "remittance" else None
        if expected:
            self.assertEqual(data["doc_type"], expected)
        self.assertEqual(document.document_type, f"JSON {data['doc_type']}")

    def check_x12(self, document, body):
        set_id, functional_id = X12_SETS[document.kind]
        interchange = read_interchange(body)  # strict: envelope, counts, control numbers
        self.assertEqual(interchange.control_number, f"{document.interchange_control_number:09d}")
        self.assertEqual(interchange.isa[6].strip(), document.sender_id)
        self.assertEqual(interchange.isa[8].strip(), document.receiver_id)
        self.assertEqual(interchange.isa[14], "1")
        self.assertEqual(interchange.isa[15], document.usage_indicator)
        [group] = interchange.groups
        self.assertEqual(group.functional_id, functional_id)
        self.assertEqual(group.control_number, str(document.group_control_number))
        self.assertEqual(group.version, self.x12_version)
        self.assertEqual([tx.set_id for tx in group.transactions], document.set_ids.split(","))
        self.assertEqual(
            [tx.control_number for tx in group.transactions],
            document.set_control_numbers.split(","),
        )
        self.assertEqual(document.set_ids, set_id)
        self.assertEqual(document.ack_state, "pending")
        doc_type = X12_READ_BACK.get(set_id)
        if doc_type:
            [parsed] = registry.parse(doc_type, document.content_type, body)
            self.assertEqual([i.code for i in parsed.issues if i.severity == "error"], [])
            return parsed.document
        return None

    def validate(self, body, rules):
        report, skipped = validate_out_of_process(body)
        if skipped:
            self.skipped_validation = skipped
            return None
        self.assertTrue(report["ok"], report["text"])
        self.assertFalse(report["fatal"], report["text"])
        for expected in rules:
            self.assertIn(expected, report["text"])
        return report

    def check_ubl(self, document, body):
        if document.kind == "remittance":
            return self.check_ubl_remittance(body)
        self.validate(body, UBL_RULES[document.kind])
        if document.kind == "order":
            [parsed] = registry.parse("purchase_order", "application/xml", body)
            return parsed.document
        return None

    def check_ubl_remittance(self, body):
        """No RemittanceAdvice XSD nor Peppol rule set exists in the validation folder:
        each element under the root is validated against the UBL 2.1 common schemas."""
        common = VALIDATION_DIR / "ubl-2.1" / "xsd" / "common"
        if not common.is_dir():
            self.skipped_validation = f"no UBL 2.1 common schemas at {common}"
            return None
        schemas = {
            CAC: etree.XMLSchema(
                etree.parse(str(common / "UBL-CommonAggregateComponents-2.1.xsd"))
            ),
            CBC: etree.XMLSchema(etree.parse(str(common / "UBL-CommonBasicComponents-2.1.xsd"))),
        }
        root = etree.fromstring(body)
        self.assertEqual(etree.QName(root).localname, "RemittanceAdvice")
        for child in root:
            schema = schemas[etree.QName(child).namespace]
            self.assertTrue(
                schema.validate(etree.ElementTree(copy.deepcopy(child))),
                (etree.QName(child).localname, str(schema.error_log)),
            )
        return root

    def check_cxml(self, document, body):
        self.validate(body, ["cXML.dtd"])
        root = etree.fromstring(body.split(b"\n", 2)[2])
        self.assertEqual(root.get("version"), "1.2.071")
        to = root.find("Header/To/Credential")
        self.assertEqual((to.get("domain"), to.findtext("Identity")), ("DUNS", "123456789"))
        self.assertIsNone(root.find("Header/Sender/Credential/SharedSecret"))
        if document.kind != "invoice_response":
            [parsed] = registry.parse("purchase_order", "application/xml", body)
            return parsed.document
        return None

    def finish(self):
        if self.skipped_validation:
            self.skipTest(f"delivered and read back; not validated: {self.skipped_validation}")

    # -- flows ----------------------------------------------------------------------------

    def test_order_change_and_cancellation(self):
        po = self.confirm_po(qty=10, price=10.25)
        self.commit_hooks()
        [order] = self.documents(po)
        self.assertEqual((order.kind, order.fmt), ("order", self.fmt))
        body = self.delivered(order)
        read = self.check(order, body)
        if read is not None:
            self.assertEqual(read.number, po.name)
            [line] = read.lines
            self.assertEqual((str(line.quantity), str(line.unit_price)), ("10", "10.25"))
        if self.fmt == "cxml":
            # what the format could not carry is on the document, for a person
            self.assertIn("no supplier part id (SupplierPartID sent empty)", order.warnings)
        elif self.fmt != "json":
            self.assertFalse(order.warnings)
        if self.fmt == "x12":
            self.acknowledge(order, body)
        po.with_user(self.buyer).write(
            {"order_line": [Command.update(po.order_line.id, {"product_qty": 12})]}
        )
        self.commit_hooks()
        [change] = self.documents(po, "order_change")
        read = self.check(change, self.delivered(change))
        if read is not None:
            self.assertEqual(read.purpose, "change")
            self.assertEqual(str(read.lines[0].quantity), "12")
        po.with_user(self.buyer).button_cancel()
        self.assertEqual(po.state, "cancel")
        [cancel] = self.documents(po, "order_cancel")
        read = self.check(cancel, self.delivered(cancel))
        if read is not None:
            self.assertEqual(read.purpose, "cancel")
        if self.fmt == "x12":
            numbers = [d.interchange_control_number for d in (order, change, cancel)]
            self.assertEqual(numbers, sorted(set(numbers)), "one control number each")
        self.finish()

    def acknowledge(self, document, body):
        """The vendor's translator answers the delivered 850 (997 for 004010, 999 for
        005010, the project's own writer); the interchange is marked acknowledged."""
        ack = functional_ack(
            body, True, supported=registry.x12_sets_for("purchase_order"), control_number=77
        )
        self.assertIn(b"ST*999" if self.x12_version == "005010" else b"ST*997", ack)
        updated = self.env["hc.outbound.document"]._apply_functional_ack(ack)
        self.assertEqual(updated, document)
        self.assertEqual(document.ack_state, "accepted")
        self.assertIn("AK9 A", document.ack_codes)

    def test_clerk_rejects_a_bill_and_the_vendor_reads_the_invoice_response(self):
        bill = self.make_bill(self.make_po(), price=30.0)
        self.match(bill)
        exceptions = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.assertTrue(exceptions)
        self.env["hc.exception.resolve.wizard"].with_user(self.clerk).create(
            {"exception_ids": exceptions.ids, "action": "reject", "reason": "not our price"}
        ).action_confirm()
        [document] = self.documents(bill, "invoice_response")
        body = self.delivered(document)
        self.check(document, body)
        self.assertIn(bill.ref.encode(), body)
        self.assertIn(b"not our price", body)
        self.finish()

    def test_clerk_pays_and_the_vendor_reads_the_remittance(self):
        po = self.make_po(price=10.25)
        bill = self.make_bill(po, price=10.25)
        self.assertTrue(self.match(bill).matched)
        payment = self.pay(bill)
        [document] = self.documents(payment, "remittance")
        body = self.delivered(document)
        read = self.check(document, body)
        self.assertIn(bill.ref.encode(), body)
        self.assertIn(b"102.5", body)
        if self.fmt == "x12":
            self.assertEqual(read.amount, read.invoices[0].amount_paid)
            self.assertEqual(str(read.amount), "102.5")
            self.assertEqual(read.invoices[0].po_number, po.name)
        self.finish()

    def pay(self, bill):
        payment = (
            self.env["account.payment.register"]
            .with_user(self.clerk)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({})
            ._create_payments()
        )
        self.commit_hooks()
        return payment


@tagged("post_install", "-at_install")
class TestOutboundX12v4010(_FormatFlow, OutboundCase):
    fmt = "x12"
    x12_version = "004010"


@tagged("post_install", "-at_install")
class TestOutboundX12v5010(_FormatFlow, OutboundCase):
    fmt = "x12"
    x12_version = "005010"


@tagged("post_install", "-at_install")
class TestOutboundUbl(_FormatFlow, OutboundCase):
    fmt = "ubl"

    def test_company_gln_addresses_us_without_a_participant_id(self):
        """A company whose GLN is Odoo's own field (no crosswalk identifier, no
        participant id on the profile) is still addressable: Peppol reads that GLN."""
        self.profile.company_participant_id = False
        self.env.company.partner_id.global_location_number = "0614141000043"
        po = self.confirm_po()
        self.commit_hooks()
        [order] = self.documents(po)
        body = self.delivered(order)
        self.validate(body, UBL_RULES["order"])
        self.assertIn(b'<cbc:EndpointID schemeID="0088">0614141000043</cbc:EndpointID>', body)
        self.finish()


@tagged("post_install", "-at_install")
class TestOutboundCxml(_FormatFlow, OutboundCase):
    fmt = "cxml"

    def test_clerk_pays_and_the_vendor_reads_the_remittance(self):
        """cXML has no remittance document: the advice is recorded "Not sent" with an
        exception for a person, the payment is posted and nothing reaches the vendor."""
        bill = self.make_bill(self.make_po())
        self.assertTrue(self.match(bill).matched)
        seen = len(self.receiver.requests)
        payment = self.pay(bill)
        self.assertIn(payment.state, ("in_process", "paid"))
        [document] = self.documents(payment, "remittance")
        self.assertEqual((document.state, document.fmt), ("failed", "cxml"))
        self.assertFalse(document.event_id)
        self.assertIn("remittance cannot be sent as cxml", document.error_message)
        exception = document.exception_id
        self.assertEqual((exception.exception_type, exception.state), ("outbound_failed", "new"))
        self.assertFalse(
            self.env["hc.outbox.event"].search(
                [("res_model", "=", payment._name), ("res_id", "=", payment.id)]
            )
        )
        self.deliver()
        sent = [r["event_type"] for r in self.receiver.requests[seen:]]
        self.assertNotIn("document.remittance", sent, "nothing reached the vendor")
        self.assertEqual(self.documents(payment, "remittance"), document, "recorded once")


@tagged("post_install", "-at_install")
class TestOutboundJson(_FormatFlow, OutboundCase):
    fmt = "json"
