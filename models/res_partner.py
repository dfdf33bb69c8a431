from odoo import fields
from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    hc_identifier_ids = fields.One2many(
        "hc.partner.identifier", "partner_id", string="External identifiers"
    )
