from odoo import fields
from odoo import models


class HcInboxReplayWizard(models.TransientModel):
    """Replay or kill inbox messages, with the reason the audit log keeps."""

    _name = "hc.inbox.replay.wizard"
    _description = "Replay or kill inbox messages"

    message_ids = fields.Many2many("hc.inbox.message", string="Messages", required=True)
    mode = fields.Selection(
        [("replay", "Replay"), ("kill", "Mark dead")], required=True, default="replay"
    )
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        if self.mode == "replay":
            self.message_ids._replay(self.reason)
        else:
            self.message_ids._kill(self.reason)
        return {"type": "ir.actions.act_window_close"}
