from odoo import fields
from odoo import models


class HcInboxReplayWizard(models.TransientModel):
    """Replay or kill inbox messages, with the reason the audit log keeps."""

    _name = "hc.inbox.replay.wizard"
    _inherit = "hc.replay.wizard.mixin"
    _description = "Replay or kill inbox messages"
    _records_field = "message_ids"

    message_ids = fields.Many2many("hc.inbox.message", string="Messages", required=True)
