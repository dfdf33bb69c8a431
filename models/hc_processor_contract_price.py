from odoo import api
from odoo import models

from ..api_contract.errors import WaitingForDependency


class HcProcessorContractPrice(models.AbstractModel):
    """Contract price: the vendor's ``product.supplierinfo`` entry for a contract.

    One entry per vendor, product, contract, start date and minimum quantity (price
    tiers are separate entries); a later document for the same entry updates it in
    place.  A price whose vendor or item has not been processed yet waits for it.
    """

    _name = "hc.processor.contract_price"
    _inherit = "hc.processor"
    _description = "Contract price processor"

    # -- applying ------------------------------------------------------------------------

    @api.model
    def _apply(self, message, document):
        vendor = self._resolve_vendor(message, document.vendor)
        if not vendor:
            raise WaitingForDependency(f"vendor:{document.vendor.key()}")
        product = self._resolve_product(document.item, vendor)
        if not product:
            raise WaitingForDependency(self._item_wait_key(document.item, document.vendor))
        uom = self._resolve_uom(document.uom, product)
        currency = self._resolve_currency(document.currency)
        Supplierinfo = self.env["product.supplierinfo"].sudo()
        min_qty = float(document.min_quantity or 0)
        info = Supplierinfo.search(
            [
                ("partner_id", "=", vendor.id),
                ("product_tmpl_id", "=", product.product_tmpl_id.id),
                ("hc_contract_ref", "=", document.contract_reference),
                ("date_start", "=", document.date_start),
                ("company_id", "in", (message.company_id.id, False)),
            ]
        ).filtered(lambda i: i.min_qty == min_qty)[:1]
        vals = {
            "price": float(document.price),
            "currency_id": currency.id,
            "product_uom_id": uom.id,
            "min_qty": min_qty,
            "date_start": document.date_start,
            "date_end": document.date_end or False,
        }
        if document.item.vendor_part_number:
            vals["product_code"] = document.item.vendor_part_number
        if info:
            changed = self._write_changed(info, vals)
            summary = (
                self.env._("Contract price %(ref)s of %(product)s updated", **self._labels(info))
                if changed
                else self.env._(
                    "Contract price %(ref)s of %(product)s unchanged", **self._labels(info)
                )
            )
        else:
            info = Supplierinfo.create(
                dict(
                    vals,
                    partner_id=vendor.id,
                    product_tmpl_id=product.product_tmpl_id.id,
                    product_id=product.id
                    if product.product_tmpl_id.product_variant_count > 1
                    else False,
                    hc_contract_ref=document.contract_reference,
                    company_id=message.company_id.id,
                )
            )
            summary = self.env._(
                "Contract price %(ref)s of %(product)s created", **self._labels(info)
            )
        return {
            "records": info,
            "summary": summary,
            "produced_keys": [*document.correlation_keys(), document.natural_key()],
        }

    @api.model
    def _labels(self, info):
        return {"ref": info.hc_contract_ref, "product": info.product_tmpl_id.display_name}
