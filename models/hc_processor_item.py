from odoo import api
from odoo import fields
from odoo import models

from ..api_contract.errors import WaitingForDependency
from ..normalize.product_ids import normalize_hibc
from ..normalize.product_ids import normalize_ndc
from ..normalize.uom import CATEGORY_PACK
from ..normalize.uom import normalize_uom


class HcProcessorItem(models.AbstractModel):
    """Item master: a storable product, its GTIN, tracking and the vendor's catalogue entry.

    An item naming a vendor that has not been processed yet waits for that vendor
    (out-of-order arrival), then is applied when the vendor master arrives.
    """

    _name = "hc.processor.item"
    _inherit = "hc.processor"
    _description = "Item master processor"

    @api.model
    def _apply(self, message, document):
        vendor = self.env["res.partner"]
        if document.vendor:
            vendor = self._resolve_vendor(message, document.vendor)
            if not vendor:
                raise WaitingForDependency(f"vendor:{document.vendor.key()}")
        product = self._resolve_product(document.item_ref, vendor)
        uom, pack = self._item_units(document, product)
        vals = {
            "name": document.description[:256],
            "active": document.active,
            "hc_critical": document.critical,
        }
        if document.gtin:
            vals["barcode"] = document.gtin
        if document.buyer_part_number:
            vals["default_code"] = document.buyer_part_number
        vals.update(self._master_vals(document))
        if document.lot_tracked or document.serial_tracked:
            vals["tracking"] = "serial" if document.serial_tracked else "lot"
            vals["use_expiration_date"] = document.lot_tracked
        if product:
            self._write_changed(product, vals)
            summary = self.env._("Item %s updated", product.display_name)
        else:
            product = (
                self.env["product.product"]
                .sudo()
                .create(dict(vals, type="consu", is_storable=True, uom_id=uom.id, purchase_ok=True))
            )
            summary = self.env._("Item %s created", product.display_name)
        released = []
        if pack:
            released.append(self._set_packaging(product, pack))
        if vendor:
            info = (
                self.env["product.supplierinfo"]
                .sudo()
                .search(
                    [
                        ("partner_id", "=", vendor.id),
                        ("product_tmpl_id", "=", product.product_tmpl_id.id),
                        ("hc_contract_ref", "=", False),
                    ],
                    limit=1,
                )
            )
            info_vals = {"product_code": document.vendor_part_number or False}
            if pack:
                info_vals["product_uom_id"] = pack.id
            if info:
                info.write(info_vals)
            else:
                self.env["product.supplierinfo"].sudo().create(
                    dict(
                        info_vals,
                        partner_id=vendor.id,
                        product_tmpl_id=product.product_tmpl_id.id,
                        date_start=fields.Date.today(),
                    )
                )
        return {
            "records": product,
            "summary": summary,
            "produced_keys": [*document.correlation_keys(), document.natural_key(), *released],
        }

    @api.model
    def _master_vals(self, document):
        """The item's other identifiers and classification, as the product keeps them."""
        vals = {}
        for field, value in (
            ("hc_manufacturer_part_number", document.manufacturer_part_number),
            ("hc_hibc", normalize_hibc(document.hibc)),
            ("hc_ndc", normalize_ndc(document.ndc)),
            ("hc_unspsc", document.unspsc),
            ("hc_manufacturer", document.manufacturer),
        ):
            if value:
                vals[field] = value
        if document.category:
            vals["categ_id"] = self._resolve_category("product.category", document.category).id
        return vals

    # -- units ---------------------------------------------------------------------------

    @api.model
    def _item_units(self, document, product):
        """``(unit, pack)``: the product's unit and the item's packaging (or None).

        ``uom`` is the unit the item is bought in, ``pack_factor`` how many ``base_uom``
        (each by default) one of it holds.  A pack code with a factor becomes a packaging
        of the base unit; without one (a factor of 1, no base unit) the item is counted in
        that pack itself.
        """
        info = normalize_uom(document.uom)
        sized = document.base_uom or document.pack_factor != 1
        if info.category == CATEGORY_PACK and sized:
            base = self._resolve_uom(document.base_uom or "EA")
            return base, self._pack_unit(info.code, document.pack_factor, base)
        if info.category == CATEGORY_PACK and product:
            return product.uom_id, None  # nothing new about the item's size
        if info.category == CATEGORY_PACK:
            Uom = self.env["uom.uom"].sudo()
            unit = self.env["hc.uom.alias"].sudo().search([("code", "=", info.code)]).uom_id
            unit = unit or Uom.search([("hc_code", "=", info.code)], limit=1)
            unit = unit or Uom.search(
                [("hc_pack_code", "=", info.code), ("relative_uom_id", "=", False)], limit=1
            )
            if not unit:
                # A reference unit of its own: counted in boxes, never converted to each.
                unit = Uom.create(
                    {"name": (info.label or info.code).capitalize(), "hc_pack_code": info.code}
                )
            return unit, None
        uom = self._resolve_uom(document.uom)
        return (product.uom_id if product else uom), None
