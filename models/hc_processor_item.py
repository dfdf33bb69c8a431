from odoo import api
from odoo import fields
from odoo import models
from odoo.fields import Command

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency
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
        product = self._find_product(document)
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

    # -- units ---------------------------------------------------------------------------

    @api.model
    def _uom(self, code, product=None):
        """The Odoo unit a document's unit code designates (for ``product`` when given).

        The code is folded to its canonical spelling (C62, H87, PCE -> EA; CA -> CS...),
        then looked up among the product's own units (its unit and packagings, where a
        pack code such as CS finds *this* item's case), a steward's alias, and the units'
        global codes.  A code nobody mapped parks the message on ``uom:<CODE>`` with one
        ``unknown_uom`` exception per code for the data stewards; a pack code the item
        has no size for parks it on ``uom:<CODE>:<product id>``.  A unit of another family
        than the product's (kilograms for an item counted in units) is refused: Odoo
        would convert it with a meaningless ratio.

        :raise WaitingForDependency: (with ``review``) the code or pack size is unknown
        :raise PermanentError: ``uom_incompatible``
        """
        info = normalize_uom(code)
        key = info.code
        Uom = self.env["uom.uom"].sudo().with_context(active_test=False)
        if product:
            own = (product.uom_id | product.uom_ids).sudo()
            hit = own.filtered(lambda u: key in (u.hc_pack_code, u.hc_code))
            if hit:
                return hit[0]
        uom = self.env["hc.uom.alias"].sudo().search([("code", "=", key)], limit=1).uom_id
        if not uom:
            uom = Uom.search([("hc_code", "=", key)], limit=1)
        if not uom:
            if info.category == CATEGORY_PACK and product:
                raise self._unknown_pack(key, code, product)
            raise self._unknown_uom(key, code)
        if product and product.uom_id and not uom._has_common_reference(product.uom_id):
            raise PermanentError(
                self.env._(
                    "Unit %(code)s (%(unit)s) cannot be converted to %(product)s's unit %(ref)s.",
                    code=code,
                    unit=uom.name,
                    product=product.display_name,
                    ref=product.uom_id.name,
                ),
                code="uom_incompatible",
            )
        return uom

    @api.model
    def _unknown_uom(self, key, code):
        """Park the message on ``uom:<CODE>``, with one exception per code.

        The inbox fills in the message and its company; the steward's mapping
        (:meth:`hc.exception._map_unknown_uom`) releases every message parked on it.
        """
        exc = WaitingForDependency(f"uom:{key}")
        exc.review = {
            "exception_type": "unknown_uom",
            "name": self.env._("Unknown unit of measure %s", key),
            "dedup_key": f"unknown_uom:{key}",
            "severity": "medium",
            "hint": self.env._("Map the code to an Odoo unit (button Map unit)."),
            "description": self.env._(
                "Documents name the unit code %(code)s, which no unit is mapped to (UN/ECE "
                "Rec 20 and X12 codes are mapped out of the box). Pick the Odoo unit it "
                "means: the mapping is kept and every document waiting for it is applied.",
                code=code,
            ),
            "details": {"code": key, "waiting_key": f"uom:{key}"},
        }
        return exc

    @api.model
    def _unknown_pack(self, key, code, product):
        """Park the message until the item's size of pack ``key`` is known."""
        waiting = f"uom:{key}:{product.id}"
        exc = WaitingForDependency(waiting)
        exc.review = {
            "exception_type": "unknown_uom",
            "name": self.env._(
                "No %(code)s pack size for %(product)s", code=key, product=product.display_name
            ),
            "dedup_key": f"unknown_uom:{key}:product:{product.id}",
            "severity": "medium",
            "hint": self.env._(
                "Give the pack size (button Map unit) or send the item master with its pack factor."
            ),
            "description": self.env._(
                "A document counts %(product)s in %(code)s, but the item master does not say "
                "how many %(unit)s one %(code)s holds. State the pack size: it is kept on the "
                "product (Packagings) and the documents waiting for it are applied.",
                product=product.display_name,
                code=code,
                unit=product.uom_id.name,
            ),
            "details": {"code": key, "product_id": product.id, "waiting_key": waiting},
        }
        return exc

    @api.model
    def _pack_unit(self, code, quantity, base):
        """The packaging unit "<pack> of <quantity>" of ``base`` units (found or created).

        Packagings are shared by the items of the same size, like Odoo's own "Pack of 6".
        """
        key = normalize_uom(code).code
        quantity = float(quantity)
        Uom = self.env["uom.uom"].sudo()
        unit = Uom.search(
            [
                ("hc_pack_code", "=", key),
                ("relative_uom_id", "=", base.id),
                ("relative_factor", "=", quantity),
            ],
            limit=1,
        )
        if unit:
            return unit
        label = (normalize_uom(key).label or key).capitalize()
        size = (
            f"{quantity:g}"
            if base == self.env.ref("uom.product_uom_unit")
            else (f"{quantity:g} {base.name}")
        )
        return Uom.create(
            {
                "name": self.env._("%(pack)s of %(size)s", pack=label, size=size),
                "relative_factor": quantity,
                "relative_uom_id": base.id,
                "hc_pack_code": key,
            }
        )

    @api.model
    def _set_packaging(self, product, pack):
        """Make ``pack`` the product's packaging for its pack code (replacing another size).

        :return: the waiting key the documents parked on this pack size wait on
        """
        template = product.product_tmpl_id.sudo()
        stale = template.uom_ids.filtered(
            lambda u: u.hc_pack_code == pack.hc_pack_code and u != pack
        )
        commands = [Command.unlink(u.id) for u in stale]
        if pack not in template.uom_ids:
            commands.append(Command.link(pack.id))
        if commands:
            template.write({"uom_ids": commands})
        return f"uom:{pack.hc_pack_code}:{product.id}"

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
            base = self._uom(document.base_uom or "EA")
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
        uom = self._uom(document.uom)
        return (product.uom_id if product else uom), None
