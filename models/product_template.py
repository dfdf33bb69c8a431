import json

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools

# The identifiers a critical item is recognised by at intake, per ItemRef field
_CRITICAL_KEYS = (
    ("gtin", "barcode"),
    ("buyer_part_number", "default_code"),
    ("manufacturer_part_number", "hc_manufacturer_part_number"),
    ("hibc", "hc_hibc"),
    ("ndc", "hc_ndc"),
)


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
        help="Receipts and consumptions of critical items are processed on the critical "
        "lane, their par levels are planned first, and a stock shortfall raises a "
        "replenishment signal.",
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

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("hc_critical") for vals in vals_list):
            self.env.registry.clear_cache()  # _hc_critical_item_keys
        return super().create(vals_list)

    def write(self, vals):
        if "hc_critical" in vals or (
            {f for _k, f in _CRITICAL_KEYS} & set(vals) and any(self.mapped("hc_critical"))
        ):
            self.env.registry.clear_cache()  # _hc_critical_item_keys
        return super().write(vals)

    @api.model
    @tools.ormcache()
    def _hc_critical_item_keys(self):
        """``frozenset((ItemRef field, value))`` naming the critical items (cached per
        worker: read at intake, on every consumption POST)."""
        variants = (
            self.env["product.product"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch(
                [("product_tmpl_id.hc_critical", "=", True)],
                [field for _key, field in _CRITICAL_KEYS],
            )
        )
        return frozenset(
            (key, variant[field])
            for variant in variants
            for key, field in _CRITICAL_KEYS
            if variant[field]
        )

    @api.model
    def _hc_is_critical_consumption(self, raw):
        """Whether a consumption's raw JSON is about a critical item (its ``critical``
        flag, or an item identifier of a critical item); validated JSON at intake."""
        try:
            doc = json.loads(raw)
        except ValueError:
            return False
        if not isinstance(doc, dict):
            return False
        if doc.get("critical") is True:
            return True
        item = doc.get("item")
        if not isinstance(item, dict):
            return False
        keys = self._hc_critical_item_keys()
        return any((key, item.get(key)) in keys for key, _field in _CRITICAL_KEYS)
