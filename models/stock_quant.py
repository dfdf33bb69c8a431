from odoo import api
from odoo import models

FIFO_ORDER = "in_date ASC, id"


class StockQuant(models.Model):
    """Reservation of many moves with the quants read once (see ``stock.move._action_assign``
    under ``hc_bulk_reserve``): ``_gather`` answers from the ``hc_quant_cache`` of the
    context, in the same order as its search would, when the removal strategy is FIFO, and
    ``try_lock_for_update`` answers from the quants locked beforehand in one query."""

    _inherit = "stock.quant"

    @api.model
    def _hc_quant_cache(self, products, locations):
        """``{"quants": {product id: quants in FIFO order}, "roots": {location id: parent
        path}, "tried": set(), "locked": set()}`` for every quant of ``products`` in
        ``locations`` and their sub-locations: one query."""
        Quant = self.sudo()
        quants = Quant.search(
            [("product_id", "in", products.ids), ("location_id", "child_of", locations.ids)],
            order=FIFO_ORDER,
        )
        quants.fetch(
            [
                "product_id",
                "location_id",
                "lot_id",
                "package_id",
                "owner_id",
                "quantity",
                "reserved_quantity",
                "in_date",
            ]
        )
        by_product = {product.id: Quant for product in products}
        grouped = {product.id: [] for product in products}
        for quant in quants:
            grouped[quant.product_id.id].append(quant.id)
        for product_id, ids in grouped.items():
            by_product[product_id] = Quant.browse(ids)
        (quants.location_id | locations).fetch(["parent_path"])
        return {
            "quants": by_product,
            "roots": {location.id: location.parent_path for location in locations},
            "paths": {q.location_id.id: q.location_id.parent_path for q in quants},
            "tried": set(),
            "locked": set(),
        }

    @api.model
    def _hc_lock_cached(self, quants):
        """Lock ``quants`` (one query, skipping those locked by another transaction) for
        ``try_lock_for_update`` to answer without a query."""
        cache = self.env.context.get("hc_quant_cache")
        todo = [qid for qid in quants.ids if qid not in cache["tried"]]
        if not todo:
            return
        locked = self.browse(todo).try_lock_for_update(allow_referencing=True)
        cache["tried"].update(todo)
        cache["locked"].update(locked.ids)

    def _hc_cached_gather(self, product_id, location_id, lot_id, package_id, owner_id, strict):
        """The quants ``_gather`` would find, from the context cache, or None."""
        cache = self.env.context.get("hc_quant_cache")
        if (
            cache is None
            or self.env.context.get("with_expiration")
            or product_id.id not in cache["quants"]
        ):
            return None
        path = location_id.parent_path
        if not path or not any(path.startswith(root) for root in cache["roots"].values()):
            return None
        if (
            self._get_removal_strategy_order(self._get_removal_strategy(product_id, location_id))
            != FIFO_ORDER
        ):
            return None
        quants = cache["quants"][product_id.id]
        paths = cache["paths"]
        if strict:
            lot = lot_id.id if lot_id else False
            package = package_id.id if package_id else False
            owner = owner_id.id if owner_id else False
            found = quants.filtered(
                lambda q: (
                    q.location_id.id == location_id.id
                    and q.lot_id.id in (False, lot)
                    and q.package_id.id == package
                    and q.owner_id.id == owner
                )
            )
        else:
            found = quants.filtered(
                lambda q: (
                    paths.get(q.location_id.id, q.location_id.parent_path).startswith(path)
                    and (not lot_id or q.lot_id.id in (False, lot_id.id))
                    and (not package_id or q.package_id == package_id)
                    and (not owner_id or q.owner_id == owner_id)
                )
            )
        return self.browse(found.ids)

    def _gather(
        self,
        product_id,
        location_id,
        lot_id=None,
        package_id=None,
        owner_id=None,
        strict=False,
        qty=0,
    ):
        found = self._hc_cached_gather(
            product_id, location_id, lot_id, package_id, owner_id, strict
        )
        if found is None:
            return super()._gather(
                product_id,
                location_id,
                lot_id=lot_id,
                package_id=package_id,
                owner_id=owner_id,
                strict=strict,
                qty=qty,
            )
        return found.sorted(lambda q: not q.lot_id)

    def try_lock_for_update(self, *, allow_referencing=False, limit=None):
        cache = self.env.context.get("hc_quant_cache")
        if cache is not None and limit == 1 and all(i in cache["tried"] for i in self._ids):
            # locked (or found locked by another transaction) beforehand, in this order
            return self.browse([i for i in self._ids if i in cache["locked"]][:1])
        return super().try_lock_for_update(allow_referencing=allow_referencing, limit=limit)

    @api.model_create_multi
    def create(self, vals_list):
        quants = super().create(vals_list)
        cache = self.env.context.get("hc_quant_cache")
        if cache is not None:  # a new quant is the last one in FIFO order
            for quant in quants:
                product = quant.product_id.id
                if product in cache["quants"]:
                    cache["quants"][product] |= quant
                    cache["paths"][quant.location_id.id] = quant.location_id.parent_path
        return quants
