from odoo import fields
from odoo import models


class StockMove(models.Model):
    """Quantities the receiving dock refused (damaged, wrong item...) stay on the move."""

    _inherit = "stock.move"

    hc_qty_rejected = fields.Float(
        string="Rejected quantity",
        digits="Product Unit",
        copy=False,
        readonly=True,
        help="Quantity delivered but refused at the dock; it remains open on the order.",
    )
    hc_reject_reason = fields.Char(string="Rejection reason", copy=False, readonly=True)
    # Point-of-use consumption (hc.processor.consumption): patient-free case reference only
    hc_consumption_ref = fields.Char(
        string="Consumption", index="btree_not_null", copy=False, readonly=True
    )
    hc_case_reference = fields.Char(string="Case reference", copy=False, readonly=True)

    # -- reserving many moves at once (the par-level planner) ---------------------------

    def _action_assign(self, force_qty=False):
        """Under ``hc_bulk_reserve`` in the context, Odoo's own reservation with the quants
        read and locked once and the move lines created in one ``create``: the moves are
        reserved in rounds holding at most one move per product (in their order), each
        round by Odoo's ``_action_assign`` with its move lines collected (moves of
        different products never share a quant), then created together, which reserves
        the quants as Odoo does.  The queries do not grow with the number of moves, only
        with the number of moves of one product (rounds)."""
        if (
            not self.env.context.get("hc_bulk_reserve")
            or force_qty
            or "hc_move_line_vals" in self.env.context
        ):
            return super()._action_assign(force_qty=force_qty)
        Quant = self.env["stock.quant"]
        cache = Quant._hc_quant_cache(self.product_id, self.location_id)
        rounds = []
        seen = {}
        for move in self:
            n = seen[move.product_id.id] = seen.get(move.product_id.id, -1) + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(move.id)
        for ids in rounds:
            vals_list = []
            moves = self.browse(ids).with_context(hc_quant_cache=cache)
            super(StockMove, moves.with_context(hc_move_line_vals=vals_list))._action_assign()
            if not vals_list:
                continue
            Quant.with_context(hc_quant_cache=cache)._hc_lock_cached(
                Quant.browse(
                    q.id
                    for vals in vals_list
                    for q in cache["quants"][vals["product_id"]]
                    if q.location_id.id == vals["location_id"]
                    and q.lot_id.id in (False, vals.get("lot_id") or False)
                    and q.package_id.id == (vals.get("package_id") or False)
                    and q.owner_id.id == (vals.get("owner_id") or False)
                )
            )
            lines = self.env["stock.move.line"].with_context(hc_quant_cache=cache).create(vals_list)
            if not self.env.context.get("bypass_entire_pack"):
                lines.picking_id._check_entire_pack()
            lines.move_id.move_line_ids._apply_putaway_strategy()
        return None

    def _update_reserved_quantity(
        self, need, location_id, lot_id=None, package_id=None, owner_id=None, strict=True
    ):
        vals_list = self.env.context.get("hc_move_line_vals")
        if vals_list is None:
            return super()._update_reserved_quantity(
                need, location_id, lot_id, package_id, owner_id, strict
            )
        # as Odoo's, the move lines collected instead of created (see _action_assign)
        self.ensure_one()
        if self.product_id.use_expiration_date:  # product_expiry's override
            self = self.with_context(with_expiration=self.date)
        move_line_vals, taken_quantity = self._update_reserved_quantity_vals(
            need, location_id, lot_id, package_id, owner_id, strict
        )
        vals_list.extend(move_line_vals)
        return taken_quantity
