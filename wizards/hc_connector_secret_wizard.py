from odoo import fields
from odoo import models
from odoo.exceptions import UserError


class HcConnectorSecretWizard(models.TransientModel):
    """Issue a connector signing secret; it is shown once, only its ciphertext is kept."""

    _name = "hc.connector.secret.wizard"
    _description = "Issue a connector signing secret"

    connector_id = fields.Many2one("hc.connector", required=True, ondelete="cascade")
    overlap_hours = fields.Integer(
        default=24,
        help="How long the previous secrets keep working, so the sender can switch. "
        "0 revokes them at once (a leaked secret).",
    )

    def action_generate(self):
        self.ensure_one()
        if self.overlap_hours < 0:
            raise UserError(self.env._("Durations cannot be negative."))
        if not self.env.user.has_group("healthcare_p2p_integration.group_hc_integration_admin"):
            raise UserError(
                self.env._("Only an integration administrator may issue signing secrets.")
            )
        secret = self.connector_id._generate_signing_secret(self.overlap_hours)
        # Shown through a model without a table: the clear secret reaches no table.
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.connector.secret.show",
            "name": self.env._("Signing secret: copy it now, it will not be shown again"),
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_secret": secret},
        }


class HcConnectorSecretShow(models.AbstractModel):
    """Displays a new signing secret once (no table: nothing is stored)."""

    _name = "hc.connector.secret.show"
    _description = "Show a new signing secret"

    # the field 'id' is needed for the onchange that returns the value of 'secret'
    id = fields.Id()
    secret = fields.Char(readonly=True)
