from odoo import fields
from odoo import models


class HcOutboxReplayWizard(models.TransientModel):
    """Replay or cancel outbound events, with the reason the audit log keeps."""

    _name = "hc.outbox.replay.wizard"
    _inherit = "hc.replay.wizard.mixin"
    _description = "Replay or cancel outbound events"
    _records_field = "event_ids"

    event_ids = fields.Many2many("hc.outbox.event", string="Events", required=True)
