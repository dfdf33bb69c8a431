from odoo import fields
from odoo import models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    hc_critical = fields.Boolean(
        string="Critical supply",
        help="Receipts of critical items are processed on the critical lane and a stock "
        "shortfall raises a replenishment signal.",
    )
