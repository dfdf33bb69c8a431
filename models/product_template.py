from odoo import fields
from odoo import models


class ProductTemplate(models.Model):
    """Item master fields: the identifiers documents name an item by, besides the GTIN
    (``barcode``) and the buyer's part number (``default_code``).

    The resolver (``hc.reference.resolver._resolve_product``) finds a product by any of
    them, so an item known only by its HIBC, manufacturer part number or NDC is found
    again on the next document instead of being created once per document.
    """

    _inherit = "product.template"

    hc_critical = fields.Boolean(
        string="Critical supply",
        help="Receipts of critical items are processed on the critical lane and a stock "
        "shortfall raises a replenishment signal.",
    )
    hc_manufacturer = fields.Char(string="Manufacturer", help="As the item master states it.")
    hc_manufacturer_part_number = fields.Char(
        string="Manufacturer part number", index="btree_not_null"
    )
    hc_hibc = fields.Char(
        string="HIBC product code",
        index="btree_not_null",
        help="Health Industry Bar Code (LIC) product code, without the '+' flag.",
    )
    hc_ndc = fields.Char(
        string="NDC",
        index="btree_not_null",
        help="US National Drug Code, digits only (11-digit 5-4-2 form when known).",
    )
    hc_unspsc = fields.Char(
        string="UNSPSC", size=8, help="United Nations Standard Products and Services Code."
    )
