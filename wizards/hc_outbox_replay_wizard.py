from odoo import fields
from odoo import models


class HcOutboxReplayWizard(models.TransientModel):
    """Replay or cancel outbound events, with the reason the audit log keeps."""

    _name = "hc.outbox.replay.wizard"
    _description = "Replay or cancel outbound events"

    event_ids = fields.Many2many("hc.outbox.event", string="Events", required=True)
    mode = fields.Selection(
        [("replay", "Replay"), ("kill", "Mark dead")], required=True, default="replay"
    )
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        if self.mode == "replay":
            self.event_ids._replay(self.reason)
        else:
            self.event_ids._kill(self.reason)
        return {"type": "ir.actions.act_window_close"}
