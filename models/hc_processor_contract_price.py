from odoo import api
from odoo import models

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency


class HcProcessorContractPrice(models.AbstractModel):
    """Contract price: the vendor's ``product.supplierinfo`` entry for a contract.

    One entry per vendor, product, contract, start date and minimum quantity (price
    tiers are separate entries); a later document for the same entry updates it in
    place.  A price whose vendor or item has not been processed yet waits for it.

    Also hosts the look-ups shared by the purchasing processors (purchase order,
    acknowledgment): vendor by identifier crosswalk, item by GTIN / part numbers,
    currency by ISO code.
    """

    _name = "hc.processor.contract_price"
    _inherit = "hc.processor"
    _description = "Contract price processor"

    # -- look-ups shared with the other purchasing processors -------------------------

    @api.model
    def _find_item(self, item_ref, vendor=None):
        """The product ``item_ref`` designates: GTIN, buyer part number, vendor part number.

        The vendor part number is looked up in ``vendor``'s catalogue (its supplierinfo
        product codes) since it is only unique there.
        """
        product = self.env["hc.processor.item"]._find_product(item_ref)
        if not product and item_ref.vendor_part_number and vendor:
            info = (
                self.env["product.supplierinfo"]
                .sudo()
                .search(
                    [
                        ("partner_id", "in", vendor.commercial_partner_id.ids + vendor.ids),
                        ("product_code", "=", item_ref.vendor_part_number),
                    ],
                    limit=1,
                )
            )
            product = info.product_id or info.product_tmpl_id.product_variant_id
        return product

    @api.model
    def _item_key(self, item_ref, vendor_party=None):
        """Key the item master of ``item_ref`` produces (what to wait for).

        Mirrors ``Item.natural_key``: a vendor part number alone is scoped by vendor.
        """
        key = item_ref.key()
        if item_ref.gtin or item_ref.buyer_part_number or not key:
            return f"item:{key}"
        if key.startswith(("mpn=", "hibc=")):
            return f"item:{key}"
        return f"item:{vendor_party.key() if vendor_party else 'unknown'}:{key}"

    @api.model
    def _currency(self, code):
        """The ``res.currency`` of ISO code ``code`` (inactive ones included)."""
        currency = (
            self.env["res.currency"]
            .sudo()
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        if not currency:
            raise PermanentError(self.env._("Unknown currency %s.", code), code="unknown_currency")
        return currency

    @api.model
    def _write_changed(self, record, vals):
        """Write only the values that differ: applying a document again changes nothing."""
        changed = {}
        for name, value in vals.items():
            field = record._fields[name]
            current = record[name]
            if field.type == "many2one":
                current = current.id
            elif field.type == "float":
                if field.convert_to_cache(value, record) == current:
                    continue
            if current != value:
                changed[name] = value
        if changed:
            record.write(changed)
        return changed

    # -- applying ------------------------------------------------------------------------

    @api.model
    def _apply(self, message, document):
        vendor = self._find_vendor(message, document.vendor)
        if not vendor:
            raise WaitingForDependency(f"vendor:{document.vendor.key()}")
        product = self._find_item(document.item, vendor)
        if not product:
            raise WaitingForDependency(self._item_key(document.item, document.vendor))
        uom = self.env["hc.processor.item"]._uom(document.uom, product)
        currency = self._currency(document.currency)
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

    @api.model
    def _contract_price(self, vendor, product, day, quantity, uom, currency, company, ref=None):
        """The contract price valid for buying ``quantity`` ``uom`` of ``product`` on ``day``.

        Among ``vendor``'s supplierinfo entries that carry a contract reference (``ref``
        only, when given), valid on ``day`` and whose minimum quantity ``quantity``
        reaches, the one of the highest tier; its price converted to ``uom`` and to
        ``currency``.

        :return: ``(supplierinfo, price)``, or ``(empty recordset, None)`` when there is no
            contract price to compare with
        """
        domain = [
            ("partner_id", "in", (vendor | vendor.commercial_partner_id).ids),
            ("product_tmpl_id", "=", product.product_tmpl_id.id),
            ("product_id", "in", (product.id, False)),
            ("hc_contract_ref", "!=", False),
            ("company_id", "in", (company.id, False)),
            "|",
            ("date_start", "=", False),
            ("date_start", "<=", day),
            "|",
            ("date_end", "=", False),
            ("date_end", ">=", day),
        ]
        if ref:
            domain.append(("hc_contract_ref", "=", ref))
        infos = self.env["product.supplierinfo"].sudo().search(domain)
        if not infos and ref:
            # The line names a contract the vendor's price list does not hold: compare
            # with whatever contract price is valid for the vendor.
            return self._contract_price(vendor, product, day, quantity, uom, currency, company)
        applicable = infos.filtered(
            lambda i: (
                uom._compute_quantity(quantity, i.product_uom_id, round=False) >= i.min_qty - 1e-9
            )
        )
        if not applicable:
            return infos.browse(), None
        best = applicable.sorted(lambda i: (i.min_qty, -i.price), reverse=True)[0]
        price = best.product_uom_id._compute_price(best.price, uom)
        if best.currency_id != currency:
            price = best.currency_id._convert(price, currency, company, day, round=False)
        return best, price
