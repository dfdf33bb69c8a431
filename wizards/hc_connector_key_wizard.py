from odoo import fields
from odoo import models
from odoo.exceptions import UserError


class HcConnectorKeyWizard(models.TransientModel):
    """Issue a connector API key; the key is shown once and only its hash is kept."""

    _name = "hc.connector.key.wizard"
    _description = "Rotate a connector API key"

    connector_id = fields.Many2one("hc.connector", required=True, ondelete="cascade")
    expiration_days = fields.Integer(default=365, help="0 for a key that never expires.")
    overlap_hours = fields.Integer(
        default=24, help="How long the previous keys keep working, so the sender can switch."
    )

    def action_generate(self):
        self.ensure_one()
        if self.expiration_days < 0 or self.overlap_hours < 0:
            raise UserError(self.env._("Durations cannot be negative."))
        key = self.connector_id._generate_api_key(self.expiration_days, self.overlap_hours)
        self.env["hc.audit.log"]._log(
            # no overlap: the previous keys stop at once (a leaked key is revoked)
            "credential_rotated" if self.overlap_hours else "credential_revoked",
            self.connector_id,
            data={"expiration_days": self.expiration_days, "overlap_hours": self.overlap_hours},
        )
        # Shown through Odoo's own never-saved dialog: the clear key reaches no table.
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.users.apikeys.show",
            "name": self.env._("Connector API key: copy it now, it will not be shown again"),
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_key": key},
        }
