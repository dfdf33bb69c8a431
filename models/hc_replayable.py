from odoo import models


class HcReplayable(models.AbstractModel):
    """Queued records an integration administrator replays or marks dead with a reason.

    The inbox's messages and the outbox's events share the buttons and the wizard that
    asks for the reason; each model provides ``_replay(reason)``, ``_kill(reason)`` and
    ``_check_admin()``, and names its wizard and the wizard's field for the records.
    """

    _name = "hc.replayable"
    _description = "Replayable integration record"

    _replay_wizard = None
    _replay_wizard_field = None

    def action_replay(self):
        return self._open_wizard("replay")

    def action_mark_dead(self):
        return self._open_wizard("kill")

    def _open_wizard(self, mode):
        self._check_admin()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Replay") if mode == "replay" else self.env._("Mark as dead"),
            "res_model": self._replay_wizard,
            "view_mode": "form",
            "target": "new",
            "context": {f"default_{self._replay_wizard_field}": self.ids, "default_mode": mode},
        }
