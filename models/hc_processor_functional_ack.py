from odoo import api
from odoo import models

from ..api_contract.errors import PermanentError


class HcProcessorFunctionalAck(models.AbstractModel):
    """A trading partner's 997/999 -> the outbound interchange it acknowledges.

    Posted to ``/api/hc/v1/edi-acks`` (stored in the inbox like every document: exact
    bytes, idempotency, replay), matched by the envelope ids and the group control number
    to an ``hc.outbound.document``, which records accepted / rejected with the AK5/IK5
    codes; a rejection opens an exception.  An acknowledgment of nothing we sent is dead
    with a clear reason (a partner's misconfigured ids, or another system's traffic).
    """

    _name = "hc.processor.functional_ack"
    _inherit = "hc.processor"
    _description = "EDI functional acknowledgment processor"

    @api.model
    def _apply(self, message, document):
        found = self.env["hc.outbound.document"]._record_functional_ack(document, message)
        if not found:
            raise PermanentError(
                self.env._(
                    "%(set)s from %(sender)s acknowledges group %(group)s, which matches no "
                    "interchange sent to that trading partner.",
                    set=document.ack_set,
                    sender=document.sender_id,
                    group=document.group_control_number,
                ),
                code="ack_unmatched",
            )
        return {
            "records": found,
            "summary": self.env._(
                "%(set)s %(status)s for %(document)s",
                set=document.ack_set,
                status=found.ack_state,
                document=found.display_name,
            ),
            "produced_keys": [document.natural_key()],
        }
