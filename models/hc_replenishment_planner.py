import re
from collections import defaultdict
from datetime import timedelta

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

OPEN_MOVE_STATES = ("waiting", "confirmed", "partially_available", "assigned")
RFQ_STATES = ("draft", "sent", "to approve")


class HcReplenishmentPlanner(models.AbstractModel):
    """Par-level replenishment: what each par location below its minimum gets, and from where.

    For every par level (``stock.warehouse.orderpoint`` with ``hc_par_level``) whose
    forecast (on hand in the par location and its sub-locations, plus open transfers into
    it, minus open transfers out of it, plus quantities on requests for quotation of the
    rule) is below the minimum, the quantity up to the maximum (rounded up to whole packs
    of the rule's replenishment unit) is sourced, critical items first:

    1. from company-owned free stock of the rule's *resupply from* location, else the
       warehouse's stock location, then the company's distribution centres: one internal
       transfer per source and par location (starred when it carries a critical item);
    2. what stock does not cover, from the item's contract vendor (``product.supplierinfo``
       with a contract reference, valid today) at the contract price: one draft purchase
       order per vendor (a separate, starred one for critical items), reused while it is
       a draft.  Odoo's approval rules apply when a person confirms it.

    A critical item short of its minimum opens (or refreshes) its
    ``hc.replenishment.signal``, linked to what was planned for it.

    The decision (``_decide``) reads everything with a fixed number of grouped queries,
    whatever the number of rules, and so does the creation of the documents: one
    ``create`` per model, the order lines with every value computed beforehand (no
    onchange, no per-line compute), the transfers confirmed and reserved in one call
    (``stock.move._action_assign`` under ``hc_bulk_reserve``: quants read and locked
    once).  What grows with the rules is Odoo's own recompute of the stored fields of
    the reorder rules whose items got a move or a line (one search of the stock rules
    per rule, in ``stock.warehouse.orderpoint._compute_rules``) and the ORM's batches.
    """

    _name = "hc.replenishment.planner"
    _description = "Par-level replenishment planner"

    @api.model
    def _cron_plan(self):
        """Plan every par level of every company."""
        orderpoints = (
            self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search([("hc_par_level", "=", True), ("trigger", "=", "manual")])
        )
        return self._plan(orderpoints)

    @api.model
    def _plan_for(self, product, location):
        """Plan the par levels of ``product`` whose location holds ``location`` (after a
        consumption there)."""
        orderpoints = (
            self.env["stock.warehouse.orderpoint"]
            .sudo()
            .search(
                [
                    ("hc_par_level", "=", True),
                    ("product_id", "=", product.id),
                    ("location_id", "parent_of", location.id),
                    ("company_id", "=", location.company_id.id),
                ]
            )
        )
        return self._plan(orderpoints)

    # ------------------------------------------------------------------------------

    @api.model
    def _decide(self, orderpoints):
        """What to plan, with a fixed number of grouped reads whatever the number of rules:
        ``(needs, transfers, purchases, quants, location paths)``."""
        orderpoints.fetch(
            [
                "product_id",
                "location_id",
                "warehouse_id",
                "company_id",
                "product_min_qty",
                "product_max_qty",
                "replenishment_uom_id",
                "hc_source_location_id",
            ]
        )
        products = orderpoints.product_id
        products.fetch(["uom_id", "product_tmpl_id"])
        products.product_tmpl_id.fetch(["hc_critical", "name"])
        warehouses = orderpoints.warehouse_id
        warehouses.fetch(["lot_stock_id", "int_type_id", "in_type_id", "company_id"])
        companies = orderpoints.company_id
        centres = (
            self.env["stock.warehouse"]
            .sudo()
            .search([("hc_distribution_centre", "=", True), ("company_id", "in", companies.ids)])
        )
        centre_stock = defaultdict(list)
        for centre in centres:
            centre_stock[centre.company_id.id].append(centre.lot_stock_id)
        quants, moves, rfq = self._quantities(orderpoints, products, companies)
        locations = self.env["stock.location"].browse(
            {loc for rows in quants.values() for loc, *_rest in rows}
            | {loc for rows in moves.values() for _src, loc, _q in rows}
            | {src for rows in moves.values() for src, _dest, _q in rows}
            | set(orderpoints.location_id.ids)
            | set(orderpoints.hc_source_location_id.ids)
            | set(warehouses.lot_stock_id.ids)
            | set(centres.lot_stock_id.ids)
        )
        locations.fetch(["parent_path"])
        path = {loc.id: loc.parent_path for loc in locations}

        def within(location_id, root_id):
            return path[location_id].startswith(path[root_id])

        needs = []
        for op in orderpoints:
            product = op.product_id
            uom = product.uom_id
            root = op.location_id.id
            on_hand = sum(qty for loc, qty, _r, _owned in quants[product.id] if within(loc, root))
            incoming = sum(
                qty
                for src, dest, qty in moves[product.id]
                if within(dest, root) and not within(src, root)
            )
            outgoing = sum(
                qty
                for src, dest, qty in moves[product.id]
                if within(src, root) and not within(dest, root)
            )
            forecast = on_hand + incoming - outgoing + rfq[op.id]
            if uom.compare(forecast, op.product_min_qty) >= 0:
                continue
            need = op.product_max_qty - forecast
            pack = op.replenishment_uom_id
            multiple = pack._compute_quantity(1, uom, round=False) if pack else 0
            if multiple > 0:  # whole packs of the replenishment unit
                need = -(-need // multiple) * multiple
            need = uom.round(need)
            if uom.compare(need, 0) <= 0:
                continue
            critical = product.product_tmpl_id.hc_critical
            needs.append((not critical, forecast - op.product_min_qty, op.id, op, need, forecast))
        needs.sort(key=lambda n: n[:3])  # critical first, then the largest shortfall

        # what each source can still give: company-owned free stock outside the par location
        allocated = defaultdict(float)
        transfers = defaultdict(list)  # (source, dest, picking type, critical) -> moves
        purchases = []  # (op, qty)
        for _not_critical, _gap, _id, op, need, _forecast in needs:
            product = op.product_id
            uom = product.uom_id
            root = op.location_id.id
            sources = [op.hc_source_location_id, op.warehouse_id.lot_stock_id]
            sources += centre_stock[op.company_id.id]
            seen = set()
            for source in sources:
                if not source or source.id in seen or within(source.id, root):
                    continue
                seen.add(source.id)
                free = sum(
                    qty - reserved
                    for loc, qty, reserved, owned in quants[product.id]
                    if owned and within(loc, source.id) and not within(loc, root)
                )
                free -= allocated[source.id, product.id]
                take = min(need, free)
                if uom.compare(take, 0) <= 0:
                    continue
                allocated[source.id, product.id] += take
                need -= take
                critical = product.product_tmpl_id.hc_critical
                picking_type = op.warehouse_id.int_type_id
                transfers[source.id, root, picking_type.id, critical].append((op, take))
                if uom.compare(need, 0) <= 0:
                    break
            if uom.compare(need, 0) > 0:
                purchases.append((op, need))

        return needs, transfers, purchases, quants, path

    @api.model
    def _plan(self, orderpoints):
        """Plan ``orderpoints``; ``{"summary", "pickings", "orders", "signals", "unsourced"}``."""
        if "hc_rule_search_memo" not in self.env.context:
            # Odoo's recompute of the reorder rules after the plan's documents searches
            # the same stock rules once per rule: once per plan (``stock.rule``), in the
            # flush at the end, under the plan's context
            memo = {"hc_rule_search_memo": {}}
            result = self.with_context(**memo)._plan(orderpoints.with_context(**memo))
            self.with_context(**memo).env.flush_all()
            return {  # the records without the plan's memo
                key: value.with_context(hc_rule_search_memo=None)
                if isinstance(value, models.BaseModel)
                else value
                for key, value in result.items()
            }
        orderpoints = orderpoints.sudo().filtered("active")
        result = {
            "pickings": self.env["stock.picking"],
            "orders": self.env["purchase.order"],
            "signals": self.env["hc.replenishment.signal"],
            "unsourced": self.env["stock.warehouse.orderpoint"],
        }
        if not orderpoints:
            result["summary"] = self.env._("No par level to plan.")
            return result
        self._claim(orderpoints)
        needs, transfers, purchases, quants, path = self._decide(orderpoints)
        # the moves and order lines created make Odoo recompute the stored replenishment
        # fields of these products' reorder rules (deadline, quantity to order), which
        # choose a vendor price per rule: their eligible facilities read once for all
        orderpoints.product_id.seller_ids.fetch(["hc_facility_partner_ids"])
        planned = defaultdict(dict)  # orderpoint id -> {"picking": .., "order": ..}
        result["pickings"] = self._create_transfers(transfers, planned)
        result["orders"], result["unsourced"] = self._create_purchases(purchases, planned)
        result["signals"] = self._signal(
            [
                (op, forecast)
                for not_critical, _gap, _id, op, _need, forecast in needs
                if not not_critical
            ],
            quants,
            path,
            planned,
        )
        if result["unsourced"]:
            result["unsourced"].write(
                {"hc_plan_note": self.env._("No stock to transfer and no contract vendor.")}
            )
        sourced = orderpoints - result["unsourced"]
        if sourced.filtered("hc_plan_note"):
            sourced.filtered("hc_plan_note").write({"hc_plan_note": False})
        result["summary"] = self.env._(
            "%(n)s par level(s) below minimum: %(t)s internal transfer(s), %(p)s draft "
            "purchase order(s), %(u)s without a source.",
            n=len(needs),
            t=len(result["pickings"]),
            p=len(result["orders"]),
            u=len(result["unsourced"]),
        )
        return result

    @api.model
    def _claim(self, orderpoints):
        """Stamp ``orderpoints`` as planned now, before anything is read: one ``UPDATE``.

        Two plans of one par level at once (two consumptions of an item at one location on
        two lane workers, a consumption and the cron) would each see the shortage without
        the other's transfer or order and both fill it.  The stamp's row lock makes the
        second wait for the first, then fail to serialize (REPEATABLE READ): the lane worker
        requeues its message at once, Odoo's RPC layer serves the request again, and the
        plan runs again on data that holds the first one's documents.
        """
        self.env.cr.execute(
            SQL(
                "UPDATE stock_warehouse_orderpoint SET hc_planned_at = %s WHERE id = ANY(%s)",
                fields.Datetime.now(),
                orderpoints.ids,
            )
        )
        orderpoints.invalidate_recordset(["hc_planned_at"])

    @api.model
    def _quantities(self, orderpoints, products, companies):
        """Grouped reads: ``(quants, moves, rfq)``.

        ``quants[product id]``: ``[(location id, quantity, reserved, company-owned)]`` of
        internal locations; ``moves[product id]``: ``[(source, destination, quantity)]``
        of open transfers; ``rfq[orderpoint id]``: quantity on its requests for quotation.
        """
        quants = defaultdict(list)
        for product, location, owner, qty, reserved in (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("product_id", "in", products.ids),
                    ("location_id.usage", "=", "internal"),
                    ("company_id", "in", companies.ids),
                ],
                ["product_id", "location_id", "owner_id"],
                ["quantity:sum", "reserved_quantity:sum"],
            )
        ):
            quants[product.id].append((location.id, qty, reserved, not owner))
        moves = defaultdict(list)
        for product, source, dest, qty in (
            self.env["stock.move"]
            .sudo()
            ._read_group(
                [
                    ("product_id", "in", products.ids),
                    ("state", "in", OPEN_MOVE_STATES),
                    ("company_id", "in", companies.ids),
                    "|",
                    ("location_id.usage", "=", "internal"),
                    ("location_dest_id.usage", "=", "internal"),
                ],
                ["product_id", "location_id", "location_dest_id"],
                ["product_qty:sum"],
            )
        ):
            moves[product.id].append((source.id, dest.id, qty))
        rfq = defaultdict(float)
        for orderpoint, qty in (
            self.env["purchase.order.line"]
            .sudo()
            ._read_group(
                [("orderpoint_id", "in", orderpoints.ids), ("state", "in", RFQ_STATES)],
                ["orderpoint_id"],
                ["product_uom_qty:sum"],
            )
        ):
            rfq[orderpoint.id] += qty
        return quants, moves, rfq

    @api.model
    def _create_transfers(self, transfers, planned):
        """One confirmed internal transfer per source, par location and lane."""
        if not transfers:
            return self.env["stock.picking"]
        vals_list = []
        keys = []
        for (source, dest, picking_type, critical), entries in transfers.items():
            first = entries[0][0]
            vals_list.append(
                {
                    "picking_type_id": picking_type,
                    "location_id": source,
                    "location_dest_id": dest,
                    "company_id": first.company_id.id,
                    "origin": self.env._("Par-level replenishment"),
                    "priority": "1" if critical else "0",
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": op.product_id.id,
                                "product_uom": op.product_id.uom_id.id,
                                "product_uom_qty": qty,
                                "location_id": source,
                                "location_dest_id": dest,
                                "orderpoint_id": op.id,
                                "company_id": op.company_id.id,
                                "priority": "1" if critical else "0",
                            }
                        )
                        for op, qty in entries
                    ],
                }
            )
            keys.append(entries)
        pickings = self.env["stock.picking"].sudo().create(vals_list)
        # confirmed and reserved in one call, the quants read once (stock.move._action_assign)
        pickings.with_context(hc_bulk_reserve=True).action_confirm()
        for picking, entries in zip(pickings, keys, strict=True):
            for op, _qty in entries:
                planned[op.id].setdefault("picking", picking)
        return pickings

    @api.model
    def _contract_sellers(self, products, companies):
        """``{product id: supplierinfo}``: the contract price each product is bought at."""
        today = fields.Date.context_today(self)
        infos = (
            self.env["product.supplierinfo"]
            .sudo()
            .search(
                [
                    ("product_tmpl_id", "in", products.product_tmpl_id.ids),
                    ("hc_contract_ref", "!=", False),
                    ("company_id", "in", [*companies.ids, False]),
                    "|",
                    ("date_start", "=", False),
                    ("date_start", "<=", today),
                    "|",
                    ("date_end", "=", False),
                    ("date_end", ">=", today),
                ],
                order="sequence, min_qty, price, id",
            )
        )
        infos.fetch(["product_id", "product_tmpl_id", "partner_id", "price", "product_uom_id"])
        by_template = defaultdict(list)
        for info in infos:  # in order of preference
            by_template[info.product_tmpl_id.id].append(info)
        sellers = {}
        for product in products:
            for info in by_template[product.product_tmpl_id.id]:
                if info.product_id in (product, info.product_id.browse()):
                    sellers[product.id] = info
                    break
        return sellers

    @api.model
    def _create_purchases(self, purchases, planned):
        """Draft purchase orders per vendor and lane; ``(orders, unsourced orderpoints)``."""
        Orderpoint = self.env["stock.warehouse.orderpoint"]
        if not purchases:
            return self.env["purchase.order"], Orderpoint
        ops = Orderpoint.union(*(op for op, _qty in purchases))
        sellers = self._contract_sellers(ops.product_id, ops.company_id)
        groups = defaultdict(list)
        unsourced = Orderpoint
        for op, qty in purchases:
            info = sellers.get(op.product_id.id)
            if not info:
                unsourced |= op
                continue
            critical = op.product_id.product_tmpl_id.hc_critical
            key = (
                info.partner_id.id,
                op.company_id.id,
                op.warehouse_id.in_type_id.id,
                critical,
            )
            groups[key].append((op, qty, info))
        if not groups:
            return self.env["purchase.order"], unsourced
        Order = self.env["purchase.order"].sudo()
        existing = Order.search(
            [
                ("hc_par_replenishment", "=", True),
                ("state", "=", "draft"),
                ("partner_id", "in", list({k[0] for k in groups})),
                ("company_id", "in", list({k[1] for k in groups})),
            ]
        )
        by_key = {
            (o.partner_id.id, o.company_id.id, o.picking_type_id.id, o.priority == "1"): o
            for o in existing
        }
        missing = [key for key in groups if key not in by_key]
        created = Order.create(
            [
                {
                    "partner_id": partner,
                    "company_id": company,
                    "picking_type_id": picking_type,
                    "priority": "1" if critical else "0",
                    "origin": self.env._("Par-level replenishment"),
                    "hc_par_replenishment": True,
                }
                for partner, company, picking_type, critical in missing
            ]
        )
        by_key.update(zip(missing, created, strict=True))
        now = fields.Datetime.now()
        # every value of the lines computed here from batched reads, so that Odoo's
        # create runs no onchange and no per-line compute of what is given
        products = ops.product_id
        products.fetch(["display_name", "supplier_taxes_id", "categ_id", "uom_id"])
        taxes = self._line_taxes(by_key, groups)
        analytic = self._line_analytic_distributions(by_key, groups)
        line_vals = []
        for key, entries in groups.items():
            order = by_key[key]
            for op, qty, info in entries:
                product = op.product_id
                uom = info.product_uom_id or product.uom_id
                # the contract's unit: the quantity to order in it, the price per it
                qty_uom = product.uom_id._compute_quantity(qty, uom, rounding_method="UP")
                line_vals.append(
                    {
                        "order_id": order.id,
                        "product_id": product.id,
                        "name": product.display_name,
                        "product_qty": qty_uom,
                        "product_uom_id": uom.id,
                        "price_unit": info.price,
                        "discount": info.discount,
                        "tax_ids": [Command.set(taxes[order.id, product.id].ids)],
                        "analytic_distribution": analytic[order.id, product.id] or False,
                        "date_planned": now + timedelta(days=info.delay or 0),
                        "orderpoint_id": op.id,
                    }
                )
                planned[op.id].setdefault("order", order)
        self.env["purchase.order.line"].sudo().create(line_vals)
        return Order.browse([by_key[key].id for key in groups]), unsourced

    @api.model
    def _line_taxes(self, orders, groups):
        """``{(order id, product id): taxes}`` as Odoo's ``_compute_tax_id`` of a purchase
        order line gives them (the product's vendor taxes of the order's company, mapped
        by the order's fiscal position), the fiscal position found once per order."""
        result = {}
        mapped = {}
        for key, entries in groups.items():
            order = orders[key].with_company(orders[key].company_id)
            fpos = order.fiscal_position_id or order.fiscal_position_id._get_fiscal_position(
                order.partner_id
            )
            for op, _qty, _info in entries:
                product = op.product_id.with_company(order.company_id)
                taxes = product.supplier_taxes_id._filter_taxes_by_company(order.company_id)
                memo = (fpos.id, order.company_id.id, tuple(taxes.ids))
                if memo not in mapped:
                    mapped[memo] = fpos.map_tax(taxes)
                result[order.id, product.id] = mapped[memo]
        return result

    @api.model
    def _line_analytic_distributions(self, orders, groups):
        """``{(order id, product id): distribution}`` as Odoo's
        ``_compute_analytic_distribution`` of a purchase order line gives it
        (``account.analytic.distribution.model._get_distribution``), with the models that
        may apply read in one search and matched here field by field as its domain does
        (each field of the model empty or equal to the line's)."""
        Model = self.env["account.analytic.distribution.model"].sudo()
        partners = self.env["res.partner"].union(*(orders[key].partner_id for key in groups))
        companies = self.env["res.company"].union(*(orders[key].company_id for key in groups))
        candidates = Model.search(
            [
                ("company_id", "in", [*companies.ids, False]),
                ("partner_id", "in", [*partners.ids, False]),
            ]
        )
        result = {}
        for key, entries in groups.items():
            order = orders[key]
            categories = [*order.partner_id.category_id.ids, False]
            for op, _qty, _info in entries:
                product = op.product_id
                applicable = candidates.filtered(
                    lambda m, p=product, o=order, c=categories: (
                        m.company_id.id in (o.company_id.id, False)
                        and m.partner_id.id in (o.partner_id.id, False)
                        and m.partner_category_id.id in c
                        and m.product_id.id in (p.id, False)
                        and m.product_categ_id.id in (p.categ_id.id, False)
                        # account's filter of models with account prefixes (no account here)
                        and (
                            not m.account_prefix
                            or any(not x for x in re.split(r"[;,]\s*", m.account_prefix))
                        )
                    )
                )
                distribution = {}
                plans = self.env["account.analytic.plan"]
                for model in applicable:  # account.analytic.distribution.model._get_distribution
                    if not plans & model.distribution_analytic_account_ids.root_plan_id:
                        distribution |= model.analytic_distribution or {}
                        plans += model.distribution_analytic_account_ids.root_plan_id
                result[order.id, product.id] = distribution
        return result

    @api.model
    def _signal(self, shortages, quants, path, planned):
        """Open or refresh the signals of critical par levels below their minimum."""
        Signal = self.env["hc.replenishment.signal"].sudo()
        shortages = [(op, forecast) for op, forecast in shortages if op.warehouse_id]
        if not shortages:
            return Signal
        ops = self.env["stock.warehouse.orderpoint"].union(*(op for op, _f in shortages))
        open_signals = {
            (s.product_id.id, s.warehouse_id.id): s
            for s in Signal.search(
                [
                    ("product_id", "in", ops.product_id.ids),
                    ("warehouse_id", "in", ops.warehouse_id.ids),
                    ("state", "in", ("new", "sent")),
                ]
            )
        }
        new_vals = []
        signals = Signal
        handled = set()  # two par locations of one warehouse: one signal, the most short
        for op, forecast in shortages:
            if (op.product_id.id, op.warehouse_id.id) in handled:
                continue
            handled.add((op.product_id.id, op.warehouse_id.id))
            root = op.location_id.id
            on_hand = sum(
                qty
                for loc, qty, _r, _o in quants[op.product_id.id]
                if path[loc].startswith(path[root])
            )
            vals = {
                "orderpoint_id": op.id,
                "location_id": root,
                "qty_on_hand": on_hand,
                "qty_free": forecast,
                "qty_minimum": op.product_min_qty,
                "planned_picking_id": planned[op.id].get("picking", Signal.picking_id).id,
                "purchase_order_id": planned[op.id].get("order", Signal.purchase_order_id).id,
            }
            signal = open_signals.get((op.product_id.id, op.warehouse_id.id))
            if signal:
                signal.write(vals)
                signals |= signal
            else:
                new_vals.append(
                    dict(
                        vals,
                        product_id=op.product_id.id,
                        warehouse_id=op.warehouse_id.id,
                        state="new",
                    )
                )
        return signals | (Signal.create(new_vals) if new_vals else Signal)
