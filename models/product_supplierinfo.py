from odoo import fields
from odoo import models


class ProductSupplierinfo(models.Model):
    _inherit = "product.supplierinfo"

    hc_contract_ref = fields.Char(
        string="Contract reference", index=True, help="GPO or local contract the price comes from."
    )
