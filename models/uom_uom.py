from odoo import fields
from odoo import models


class UomUom(models.Model):
    _inherit = "uom.uom"

    hc_code = fields.Char(
        string="EDI unit code",
        index=True,
        help="Canonical unit code used by inbound documents (EA, BX, CS, PK, KG...).",
    )
