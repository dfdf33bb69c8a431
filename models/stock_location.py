from odoo import fields
from odoo import models


class StockLocation(models.Model):
    """A point-of-use location (supply cabinet, OR, department store) named by its GLN."""

    _inherit = "stock.location"

    hc_gln = fields.Char(
        string="GLN",
        index="btree_not_null",
        copy=False,
        help="GS1 Global Location Number the facility's point-of-use systems name this "
        "location by (consumption documents).",
    )
