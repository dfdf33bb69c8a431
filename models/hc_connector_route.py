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
