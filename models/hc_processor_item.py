from odoo import api
from odoo import fields
from odoo import models

from ..normalize.uom import normalize_uom
from ..pipeline.errors import PermanentError
from ..pipeline.errors import WaitingForDependency


class HcProcessorItem(models.AbstractModel):
    """Item master: a storable product, its GTIN, tracking and the vendor's catalogue entry.

    An item naming a vendor that has not been processed yet waits for that vendor
    (out-of-order arrival), then is applied when the vendor master arrives.
    """

    _name = "hc.processor.item"
    _inherit = "hc.processor"
    _description = "Item master processor"

    @api.model
    def _find_product(self, document):
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        if document.gtin:
            product = Product.search([("barcode", "=", document.gtin)], limit=1)
            if product:
                return product
        if document.buyer_part_number:
            return Product.search([("default_code", "=", document.buyer_part_number)], limit=1)
        return Product

    @api.model
    def _apply(self, message, document):
        vendor = self.env["res.partner"]
        if document.vendor:
            vendor = self._find_vendor(message, document.vendor)
            if not vendor:
                raise WaitingForDependency(f"vendor:{document.vendor.key()}")
        uom = self._uom(document.uom)
        product = self._find_product(document)
        vals = {
            "name": document.description[:256],
            "active": document.active,
            "hc_critical": document.critical,
        }
        if document.gtin:
            vals["barcode"] = document.gtin
        if document.buyer_part_number:
            vals["default_code"] = document.buyer_part_number
        if document.lot_tracked or document.serial_tracked:
            vals["tracking"] = "serial" if document.serial_tracked else "lot"
            vals["use_expiration_date"] = document.lot_tracked
        if product:
            product.write(vals)
            summary = self.env._("Item %s updated", product.display_name)
        else:
            product = (
                self.env["product.product"]
                .sudo()
                .create(dict(vals, type="consu", is_storable=True, uom_id=uom.id, purchase_ok=True))
            )
            summary = self.env._("Item %s created", product.display_name)
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
            "produced_keys": [*document.correlation_keys(), document.natural_key()],
        }

    @api.model
    def _uom(self, code):
        """The Odoo unit for a document's UoM code (EA, BX, CS...)."""
        canonical = normalize_uom(code).code
        uom = self.env["uom.uom"].sudo().search([("hc_code", "=", canonical)], limit=1)
        if not uom and canonical in ("EA", "C62"):
            uom = self.env.ref("uom.product_uom_unit")
        if not uom:
            raise PermanentError(
                self.env._(
                    "Unknown unit of measure %s: map it on a unit (Inventory > Configuration).",
                    code,
                ),
                code="unknown_uom",
            )
        return uom
