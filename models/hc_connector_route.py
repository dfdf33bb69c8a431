from odoo import api
from odoo import fields
from odoo import models


class HcConnectorRoute(models.Model):
    """Per-connector override of the lane a document type is processed on."""

    _name = "hc.connector.route"
    _description = "Connector lane routing"

    connector_id = fields.Many2one("hc.connector", required=True, ondelete="cascade")
    doc_type_id = fields.Many2one(
        "hc.document.type", string="Document type", required=True, ondelete="cascade"
    )
    lane_id = fields.Many2one("hc.lane", required=True, ondelete="restrict")

    _route_unique = models.Constraint(
        "UNIQUE(connector_id, doc_type_id)",
        "A connector routes each document type to one lane only.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # connectors' cached scopes (hc.connector._scope)
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
