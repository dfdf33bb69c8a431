from odoo import fields
from odoo import models
from odoo.exceptions import UserError


class HcBankChangeDecisionWizard(models.TransientModel):
    """Approve or reject bank change requests with the reason kept in the audit trail."""

    _name = "hc.bank.change.decision.wizard"
    _description = "Decide on a bank change request"

    request_ids = fields.Many2many("hc.bank.change.request", required=True)
    decision = fields.Selection([("approve", "Approve"), ("reject", "Reject")], required=True)
    reason = fields.Text(
        required=True,
        help="Approve: how the change was verified (a call-back to a known contact of the "
        "vendor). Reject: why.",
    )

    def action_confirm(self):
        self.ensure_one()
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give a reason: it is kept in the audit trail."))
        if self.decision == "approve":
            self.request_ids.action_approve(reason=self.reason)
        else:
            self.request_ids.action_reject(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
