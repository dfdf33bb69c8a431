import logging
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError

from ..formats.x12.mappers import parse_x12
from .hc_outbox_event import source_action

_logger = logging.getLogger(__name__)

KINDS = [
    ("order", "Purchase order"),
    ("order_change", "Order change"),
    ("order_cancel", "Order cancellation"),
    ("invoice_response", "Invoice response"),
    ("remittance", "Remittance advice"),
]
# AK901/IK901 (functional group status) -> our acknowledgment state
AK9_STATES = {"A": "accepted", "E": "accepted_errors", "P": "partial", "R": "rejected"}
ACK_STATES = [
    ("not_expected", "Not expected"),
    ("pending", "Awaiting acknowledgment"),
    ("accepted", "Accepted"),
    ("accepted_errors", "Accepted with errors"),
    ("partial", "Partially accepted"),
    ("rejected", "Rejected"),
]


class HcOutboundDocument(models.Model):
    """One business document sent (or that could not be sent) to one trading partner.

    Created in the transaction of the business change (a PO confirmed, changed or
    cancelled, a bill rejected, a payment posted), with the outbox event that carries the
    document's exact bytes.  When the document cannot be built or rendered (a format not
    supported yet, a profile without identifiers) the record stays, state ``failed``, with
    the reason and an exception for a person: the business event is never lost, and
    *Send again* builds it anew once the profile is fixed.

    An X12 document is one interchange: its ISA13/GS06 control number (one sequence per
    profile, never reused), sets and ST control numbers are kept so that the vendor's
    997/999 is matched to it; an acknowledgment overdue past the profile's hours is a
    reconciliation finding.
    """

    _name = "hc.outbound.document"
    _description = "Outbound document"
    _order = "id desc"

    name = fields.Char(required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    profile_id = fields.Many2one(
        "hc.trading.partner", required=True, index=True, readonly=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(related="profile_id.partner_id", store=True, string="Vendor")
    environment = fields.Selection(related="profile_id.environment", store=True)
    kind = fields.Selection(KINDS, required=True, readonly=True, index=True)
    fmt = fields.Char(string="Format", readonly=True)
    document_type = fields.Char(readonly=True)
    res_model = fields.Char(string="Source model", readonly=True, index=True)
    res_id = fields.Many2oneReference(model_field="res_model", string="Source", readonly=True)
    res_ref = fields.Char(string="Source reference", readonly=True)
    event_id = fields.Many2one("hc.outbox.event", readonly=True, index="btree_not_null")
    state = fields.Selection(
        [("queued", "Queued"), ("failed", "Not sent")], required=True, readonly=True
    )
    delivery_state = fields.Selection(related="event_id.state", string="Delivery")
    error_message = fields.Text(readonly=True)
    exception_id = fields.Many2one("hc.exception", readonly=True)
    fingerprint = fields.Char(readonly=True, help="Hash of what the document said.")
    build_args = fields.Json(readonly=True, help="What the document was built from (resend).")
    warnings = fields.Text(
        readonly=True,
        help="What the format could not carry as given (a name cut to its length, an "
        "identifier the format has no qualifier for...): the document was sent without it.",
    )
    filename = fields.Char(readonly=True)
    content_type = fields.Char(readonly=True)
    # -- X12 interchange -------------------------------------------------------------
    interchange_control_number = fields.Integer(string="ISA13", readonly=True)
    group_control_number = fields.Integer(string="GS06", readonly=True)
    set_ids = fields.Char(string="Transaction sets", readonly=True)
    set_control_numbers = fields.Char(string="ST02", readonly=True)
    sender_id = fields.Char(string="ISA06", readonly=True)
    receiver_id = fields.Char(string="ISA08", readonly=True)
    usage_indicator = fields.Char(string="ISA15", readonly=True)
    ack_state = fields.Selection(
        ACK_STATES, default="not_expected", required=True, readonly=True, index=True
    )
    ack_due_at = fields.Datetime(readonly=True)
    ack_received_at = fields.Datetime(readonly=True)
    ack_codes = fields.Char(
        readonly=True, help="What the 997/999 said: AK9/IK5 codes per set (AK502/IK502...)."
    )
    ack_message_id = fields.Many2one("hc.inbox.message", readonly=True, index="btree_not_null")

    _interchange_unique = models.UniqueIndex(
        "(profile_id, interchange_control_number) WHERE interchange_control_number IS NOT NULL"
        " AND interchange_control_number != 0",
        "An X12 control number is used once per trading partner.",
    )
    _ack_due_idx = models.Index("(ack_due_at) WHERE ack_state = 'pending'")

    def _expect_ack(self, profile, rendered):
        """The fields of an X12 interchange that expects a functional acknowledgment."""
        numbers = rendered.control_numbers or {}
        vals = {
            "interchange_control_number": int(numbers.get("isa") or 0) or False,
            "group_control_number": int(numbers.get("gs") or 0) or False,
            "set_ids": ",".join(numbers.get("sets") or ()) or False,
            "set_control_numbers": ",".join(numbers.get("st") or ()) or False,
        }
        if rendered.fmt == "x12":
            vals.update(
                sender_id=profile.isa_sender_id,
                receiver_id=profile.isa_receiver_id,
                usage_indicator=profile._usage_indicator(),
            )
        if rendered.expects_ack and profile.ack_expected != "none":
            vals.update(
                ack_state="pending",
                ack_due_at=fields.Datetime.now() + timedelta(hours=profile.ack_hours),
            )
        return vals

    def action_open_source(self):
        self.ensure_one()
        return source_action(self, self.res_ref or self.env._("Source"))

    def action_send_again(self):
        """Build and queue a failed document anew (after the profile was fixed)."""
        if not self.env.user.has_group("healthcare_p2p_integration.group_hc_integration_admin"):
            raise AccessError(
                self.env._("Only an integration administrator sends documents again.")
            )
        builder = self.env["hc.outbound.document.builder"]
        for document in self.filtered(lambda d: d.state == "failed"):
            record = self.env[document.res_model].browse(document.res_id).exists()
            if record:
                sent = builder.sudo()._resend(document, record)
                self.env["hc.audit.log"]._log(
                    "outbound_send_again",
                    document,
                    data={"sent": sent.id, "state": sent.state, "error": sent.error_message},
                )
        return True

    # ------------------------------------------------------------------------------
    # Inbound 997/999: matched to the interchange they acknowledge
    # ------------------------------------------------------------------------------

    @api.model
    def _apply_functional_ack(self, payload, message=None):
        """Read a 997/999 interchange and record each of its sets (see below).

        :raises ParseError: not a readable 997/999 interchange
        """
        updated = self.browse()
        for ack, _issues in parse_x12(payload, "functional_ack"):
            updated |= self._record_functional_ack(ack, message)
        return updated

    @api.model
    def _match_functional_ack(self, ack):
        """The interchange a ``FunctionalAck`` answers: the partner's ISA06 is our ISA08,
        its ISA08 our ISA06, and AK102 our GS06."""
        return self.sudo().search(
            [
                ("receiver_id", "=", ack.sender_id),
                ("sender_id", "=", ack.receiver_id),
                ("group_control_number", "=", ack.group_control_number),
            ],
            order="id desc",
            limit=1,
        )

    @api.model
    def _record_functional_ack(self, ack, message=None):
        """Record a vendor's 997/999 (``canonical.FunctionalAck``) on the interchange it
        acknowledges: AK9 (group) says accepted, accepted with errors, partially accepted
        or rejected; AK5/IK5 per set with their error codes are kept.  A rejection opens
        an exception for a person.

        :return: the document updated (empty when none matches)
        """
        document = self._match_functional_ack(ack)
        if not document:
            _logger.warning(
                "%s from %s for group %s matches no interchange we sent",
                ack.ack_set,
                ack.sender_id,
                ack.group_control_number,
            )
            return document
        document._record_ack(
            {
                "group_status": ack.group_status,
                "sets": [
                    {"control_number": s.control_number, "status": s.status or "", "codes": s.codes}
                    for s in ack.sets
                ],
            },
            ack.ack_set,
            message,
        )
        return document

    def _record_ack(self, ack, set_id, message=None):
        self.ensure_one()
        state = AK9_STATES.get(ack["group_status"], "rejected")
        codes = "; ".join(
            f"{s['control_number']} {s['status']}"
            + (f" ({','.join(s['codes'])})" if s["codes"] else "")
            for s in ack["sets"]
        )
        self.write(
            {
                "ack_state": state,
                "ack_received_at": fields.Datetime.now(),
                "ack_codes": f"{set_id} AK9 {ack['group_status']}: {codes}"[:255],
                "ack_message_id": message.id if message else False,
            }
        )
        if state in ("rejected", "partial"):
            self.env["hc.exception"]._raise(
                "edi_ack_rejected",
                self.env._(
                    "%(document)s rejected by the vendor's %(set)s", document=self.name, set=set_id
                )[:200],
                f"edi_ack:{self.id}",
                company_id=self.company_id.id,
                partner_id=self.partner_id.id,
                res_model=self.res_model,
                res_id=self.res_id,
                severity="high",
                description=self.env._(
                    "The vendor's %(set)s says %(codes)s: the document did not go through "
                    "its translator.",
                    set=set_id,
                    codes=codes,
                ),
                hint=self.env._(
                    "Check the trading-partner profile (ids, version) with the vendor, then "
                    "send the document again (replay the outbound event)."
                ),
            )
