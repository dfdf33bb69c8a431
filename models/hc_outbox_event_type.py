from odoo import api
from odoo import fields
from odoo import models


class HcOutboxEventType(models.Model):
    """A kind of outbound event an endpoint can subscribe to (``po.released``...).

    The records come with the module (data/hc_outbox_data.xml); ``data_version`` is the
    version of the ``data`` object of the event's payload, raised on an incompatible change.
    """

    _name = "hc.outbox.event.type"
    _description = "Outbound event type"
    _order = "sequence, code"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, readonly=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    data_version = fields.Integer(default=1, required=True, readonly=True)
    source_model = fields.Char(readonly=True, help="The record an event of this type is about.")

    _code_unique = models.Constraint("UNIQUE(code)", "Event type codes must be unique.")

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()  # endpoint subscriptions are cached
        return records

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res
