from odoo import fields
from odoo import models


class HcReplayWizardMixin(models.AbstractModel):
    """Replay or mark dead the records of ``_records_field``, with the reason kept."""

    _name = "hc.replay.wizard.mixin"
    _description = "Replay or mark dead, with a reason"

    _records_field = None

    mode = fields.Selection(
        [("replay", "Replay"), ("kill", "Mark dead")], required=True, default="replay"
    )
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        records = self[self._records_field]
        if self.mode == "replay":
            records._replay(self.reason)
        else:
            records._kill(self.reason)
        return {"type": "ir.actions.act_window_close"}
