from odoo import fields
from odoo import models


class HcDocumentType(models.Model):
    """A kind of inbound document (vendor master, invoice...) and its default lane."""

    _name = "hc.document.type"
    _description = "Integration document type"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Code used in the API path and the payload.")
    sequence = fields.Integer(default=10)
    default_lane_id = fields.Many2one("hc.lane", required=True, ondelete="restrict")
    endpoint = fields.Char(
        help="Path segment of the API endpoint, e.g. 'invoices' for /api/hc/v1/invoices."
    )
    content_types = fields.Char(
        help="Accepted Content-Types besides application/json, comma separated."
    )

    _code_unique = models.Constraint("UNIQUE(code)", "Document type codes must be unique.")
