from odoo import fields
from odoo import models


class StockWarehouse(models.Model):
    """The network's distribution centre: a warehouse that resupplies the facilities."""

    _inherit = "stock.warehouse"

    hc_distribution_centre = fields.Boolean(
        string="Distribution centre",
        help="Par-level replenishment takes stock from this warehouse's stock location "
        "(an internal transfer) before it buys from a vendor.",
    )
