from collections import defaultdict
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency
from .hc_processor import CONFIRMED_PO_STATES

ASN_WAIT_PARAM = "healthcare_p2p_integration.receipt_asn_wait_minutes"
ASN_WAIT_MINUTES = 60

# Validate without the wizards a person would see: partial receipts leave a backorder
# (the Odoo way: backorders are created unless the picking is listed as not to backorder)
# and expiry is checked by this processor, which refuses expired lots itself.
VALIDATE_CONTEXT = {
    "skip_backorder": True,
    "picking_ids_not_to_backorder": [],
    "cancel_backorder": False,
    "skip_expired": True,
    "skip_sms": True,
}


class HcProcessorReceipt(models.AbstractModel):
    """Goods receipt: the PO's incoming transfer validated with what the dock received.

    Each line is checked before anything moves; a line that cannot be received is refused
    into an exception and the others are applied:

    * lot- and serial-tracked items need their lot (or serials) and, when the product
      tracks expiry, an expiry date; missing, or already past the company's minimum shelf
      life, is a ``lot_expiry`` exception.  Lots the ASN announced fill in for a receiving
      system that does not capture them;
    * receiving more than is open on the order by more than the company's over-receipt
      tolerance (% of the ordered quantity) is an ``over_receipt`` exception.

    Received quantities are validated on the open receipt; what is still open stays on a
    backorder that the next goods receipt of the order receives.  Rejected (damaged)
    quantities are recorded on the move and stay open.  ``hc_receipt_ref`` on the
    validated transfer makes a replayed receipt a no-op.  A critical item left below its
    reorder rule minimum raises an ``hc.replenishment.signal``.
    """

    _name = "hc.processor.receipt"
    _inherit = "hc.processor"
    _description = "Goods receipt processor"
    # A confirmed purchase order keyed in by hand is there for its goods receipts.
    _hc_order_dependency_states = CONFIRMED_PO_STATES

    @api.model
    def _apply(self, message, document):
        order = self._resolve_order(message.company_id, document.po_number, CONFIRMED_PO_STATES)
        if not order:
            raise PermanentError(
                self.env._(
                    "Purchase order %s is not a confirmed order of this company.",
                    document.po_number,
                ),
                code="unknown_purchase_order",
            )
        already = order.picking_ids.filtered(lambda p: p.hc_receipt_ref == document.receipt_id)
        if already:
            return {
                "records": already,
                "summary": self.env._(
                    "Receipt %(receipt)s was already applied to %(pickings)s",
                    receipt=document.receipt_id,
                    pickings=", ".join(already.mapped("name")),
                ),
                "produced_keys": [document.natural_key()],
            }
        planned = defaultdict(float)  # move -> quantity planned by earlier lines
        plan = []
        refused = 0
        for line in document.lines:
            entry = self._plan_line(message, document, order, line, planned)
            if entry is None:
                refused += 1
                continue
            plan.append(entry)
        done = self._receive(message, document, plan)
        backorders = done.backorder_ids
        self._after_receipt(message, document, order, plan, done)
        received = sum(1 for entry in plan if entry["quantity"])
        summary = self.env._(
            "Receipt %(receipt)s on %(po)s: %(received)s line(s) received, %(refused)s "
            "refused into exceptions%(backorder)s",
            receipt=document.receipt_id,
            po=order.name,
            received=received,
            refused=refused,
            backorder=self.env._(", backorder %s", ", ".join(backorders.mapped("name")))
            if backorders
            else "",
        )
        return {
            "records": done | backorders or order,
            "summary": summary,
            "produced_keys": [document.natural_key()],
        }

    # ------------------------------------------------------------------------------
    # Checking a line
    # ------------------------------------------------------------------------------

    @api.model
    def _plan_line(self, message, document, order, line, planned):
        """What to receive for ``line``: a dict, or ``None`` when the line is refused."""
        refuse = self.env["hc.exception"]._raise
        where = self.env._(
            "Receipt %(receipt)s line %(line)s", receipt=document.receipt_id, line=line.line_number
        )
        key = f"{document.natural_key()}:{line.line_number}"
        product = self._resolve_product(line.item, orders=order)
        if not product:
            refuse(
                "unknown_item",
                self.env._("%s: unknown item", where),
                f"unknown_item:{key}",
                description=self.env._(
                    "No product matches %s (GTIN, buyer or vendor part number).",
                    line.item.key() or line.item.description,
                ),
                **self._order_exception_vals(message, order),
            )
            return None
        uom = self._resolve_uom(line.uom, product)
        moves = self._open_moves(order, product)
        if not moves:
            if float(line.quantity_received or 0) > 0:
                refuse(
                    "over_receipt",
                    self.env._(
                        "%(where)s: %(product)s is not open on %(po)s",
                        where=where,
                        product=product.display_name,
                        po=order.name,
                    ),
                    f"over_receipt:{key}",
                    description=self.env._(
                        "Nothing of this item remains to be received on the order."
                    ),
                    details={"received": float(line.quantity_received)},
                    **self._order_exception_vals(message, order),
                )
                return None
            return {"line": line, "product": product, "move": moves, "quantity": 0.0, "lots": []}
        move = next((m for m in moves if planned[m] < m.product_uom_qty), moves[-1])
        move_uom = move.product_uom
        quantity = self._convert_quantity(line.quantity_received, uom, move_uom)
        rejected = self._convert_quantity(line.quantity_rejected, uom, move_uom)
        open_qty = sum(moves.mapped("product_uom_qty")) - sum(planned[m] for m in moves)
        ordered = sum(
            pol.product_uom_id._compute_quantity(pol.product_qty, move_uom, round=False)
            for pol in moves.purchase_line_id
        )
        tolerance = message.company_id.hc_over_receipt_tolerance_pct
        allowed = open_qty + ordered * tolerance / 100.0
        if move_uom.compare(quantity, allowed) > 0:
            refuse(
                "over_receipt",
                self.env._(
                    "%(where)s: over-receipt of %(product)s",
                    where=where,
                    product=product.display_name,
                ),
                f"over_receipt:{key}",
                severity="high",
                description=self.env._(
                    "Received %(qty)s %(uom)s, %(open)s %(uom)s open on %(po)s; the tolerance "
                    "of %(pct)s%% allows %(allowed)s %(uom)s. The line was not received.",
                    qty=quantity,
                    open=open_qty,
                    po=order.name,
                    pct=tolerance,
                    allowed=allowed,
                    uom=move_uom.name,
                ),
                details={
                    "received": quantity,
                    "open": open_qty,
                    "ordered": ordered,
                    "tolerance_pct": tolerance,
                    "allowed": allowed,
                },
                **self._order_exception_vals(message, order, move.picking_id),
            )
            return None
        lots = []
        if product.tracking != "none" and move_uom.compare(quantity, 0) > 0:
            lots = self._line_lots(message, document, order, line, product, move, quantity)
            if not lots:
                self._wait_for_asn(message, document)
            problem = self._lot_problem(message, product, lots, quantity, move_uom)
            if problem:
                refuse(
                    "lot_expiry",
                    self.env._("%(where)s: %(problem)s", where=where, problem=problem),
                    f"lot_expiry:{key}",
                    severity="high",
                    description=self.env._(
                        "%(product)s is tracked by %(tracking)s: the line was not received. "
                        "Receive it once the lot and expiry are known and valid.",
                        product=product.display_name,
                        tracking=product.tracking,
                    ),
                    details={
                        "lots": [
                            {"lot": lot, "expiry_date": exp and exp.isoformat(), "qty": qty}
                            for lot, exp, qty in lots
                        ]
                    },
                    **self._order_exception_vals(message, order, move.picking_id),
                )
                return None
        planned[move] += quantity
        return {
            "line": line,
            "product": product,
            "move": move,
            "quantity": quantity,
            "rejected": rejected,
            "lots": lots,
        }

    @api.model
    def _line_lots(self, message, document, order, line, product, move, quantity):
        """``[(lot_name, expiry_date, qty)]`` of a tracked line: its own, else the ASN's."""
        if product.tracking == "serial":
            serials = list(line.serials) or ([line.lot] if line.lot and quantity == 1 else [])
            if serials:
                return [(s, line.expiry_date, 1.0) for s in serials]
        elif line.lot:
            return [(line.lot, line.expiry_date, quantity)]
        return self._asn_lots(message, document, order, product, move, quantity)

    @api.model
    def _wait_for_asn(self, message, document):
        """Wait for the ship notice a receipt names when it alone knows the lots.

        Receiving systems that do not capture lots rely on the ASN's, and a receipt on
        the fast lane may overtake its ASN on the standard lane.  A receipt younger than
        ``healthcare_p2p_integration.receipt_asn_wait_minutes`` (default 60) naming an
        ASN not processed yet waits for it (released the moment it is processed); after
        that, a tracked line without lots is refused as usual.
        """
        if not document.asn_number:
            return
        key = f"ship_notice:{document.po_number}:{document.asn_number}"
        if self._message_done(message, key):
            return
        minutes = int(
            self.env["ir.config_parameter"].sudo().get_param(ASN_WAIT_PARAM, ASN_WAIT_MINUTES)
        )
        received = message.received_at or fields.Datetime.now()
        if fields.Datetime.now() - received < timedelta(minutes=minutes):
            raise WaitingForDependency(
                key,
                self.env._(
                    "Receipt %(receipt)s waits for ship notice %(asn)s and its lots.",
                    receipt=document.receipt_id,
                    asn=document.asn_number,
                ),
            )

    @api.model
    def _asn_lots(self, message, document, order, product, move, quantity):
        """Lots (or serials) the ship notices announced and not received yet."""
        domain = [
            ("company_id", "=", message.company_id.id),
            ("po_number", "=", order.name),
            ("product_id", "=", product.id),
        ]
        if document.asn_number:
            domain.append(("asn_number", "=", document.asn_number))
        announced = self.env["hc.asn.line"].search(domain)
        received = order.picking_ids.move_line_ids.filtered(
            lambda ml: ml.state == "done" and ml.product_id == product
        )
        received_qty = defaultdict(float)
        for ml in received:
            received_qty[ml.lot_id.name] += ml.quantity
        move_uom = move.product_uom
        lots = []
        if product.tracking == "serial":
            for asn_line in announced:
                for serial in asn_line.serials or []:
                    if serial not in received_qty and len(lots) < quantity:
                        lots.append((serial, asn_line.expiration_date, 1.0))
            return lots
        remaining = quantity
        for asn_line in announced.filtered("lot_name"):
            expected = self._convert_quantity(
                asn_line.qty_expected, asn_line.product_uom_id, move_uom
            )
            available = expected - received_qty[asn_line.lot_name]
            take = min(available, remaining)
            if move_uom.compare(take, 0) > 0:
                lots.append((asn_line.lot_name, asn_line.expiration_date, take))
                remaining -= take
        if lots and move_uom.compare(remaining, 0) > 0:
            # More than announced: the rest is taken to be of the last announced lot.
            lot, expiry, qty = lots[-1]
            lots[-1] = (lot, expiry, qty + remaining)
        return lots

    @api.model
    def _lot_problem(self, message, product, lots, quantity, uom):
        """Why the lots of a tracked line cannot be received, or ``None``."""
        if not lots:
            return self.env._("no lot for %s", product.display_name)
        if product.tracking == "serial" and (
            len(lots) != quantity or len({lot for lot, _e, _q in lots}) != len(lots)
        ):
            return self.env._(
                "%(n)s distinct serial number(s) for %(qty)s unit(s) of %(product)s",
                n=len({lot for lot, _e, _q in lots}),
                qty=quantity,
                product=product.display_name,
            )
        if uom.compare(sum(q for _lot, _e, q in lots), quantity) != 0:
            return self.env._("lot quantities do not add up to the received quantity")
        if product.use_expiration_date and any(not expiry for _lot, expiry, _q in lots):
            return self.env._("no expiry date for lot(s) of %s", product.display_name)
        limit = self._min_expiry_date(message.company_id)
        short = [lot for lot, expiry, _q in lots if expiry and expiry <= limit]
        if short:
            return self.env._("lot(s) %s expired or too short-dated", ", ".join(short))
        return None

    # ------------------------------------------------------------------------------
    # Receiving
    # ------------------------------------------------------------------------------

    @api.model
    def _receive(self, message, document, plan):
        """Set the planned quantities on the moves and validate their transfers."""
        by_move = defaultdict(list)
        for entry in plan:
            if entry["move"]:
                by_move[entry["move"]].append(entry)
        pickings = self.env["stock.picking"]
        for move, entries in by_move.items():
            rejected = sum(e.get("rejected") or 0.0 for e in entries)
            reasons = {e["line"].reject_reason for e in entries if e["line"].reject_reason}
            if rejected:
                move.write(
                    {
                        "hc_qty_rejected": move.hc_qty_rejected + rejected,
                        "hc_reject_reason": "; ".join(sorted(reasons)) or False,
                    }
                )
            if not any(move.product_uom.compare(e["quantity"], 0) > 0 for e in entries):
                continue
            move.move_line_ids.unlink()
            line_vals = []
            for entry in entries:
                base = {
                    "move_id": move.id,
                    "picking_id": move.picking_id.id,
                    "product_id": move.product_id.id,
                    "product_uom_id": move.product_uom.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                }
                if entry["lots"]:
                    for lot, expiry, qty in entry["lots"]:
                        vals = dict(base, quantity=qty, lot_name=lot)
                        if expiry:
                            vals["expiration_date"] = fields.Datetime.to_datetime(expiry)
                        line_vals.append(vals)
                elif move.product_uom.compare(entry["quantity"], 0) > 0:
                    line_vals.append(dict(base, quantity=entry["quantity"]))
            self.env["stock.move.line"].sudo().create(line_vals)
            move.picked = True
            pickings |= move.picking_id
        for picking in pickings:
            # Moves of this transfer the receipt did not mention wait on the backorder.
            picking.move_ids.filtered(lambda m, moves=by_move: m not in moves).picked = False
            picking.with_context(**VALIDATE_CONTEXT).button_validate()
            picking.write(
                {
                    "hc_receipt_ref": document.receipt_id,
                    "hc_received_by": document.received_by or False,
                }
            )
            picking.message_post(
                body=self.env._(
                    "Validated by goods receipt %(receipt)s received %(date)s%(by)s.",
                    receipt=document.receipt_id,
                    date=document.received_date,
                    by=self.env._(" by %s", document.received_by) if document.received_by else "",
                )
            )
        return pickings

    @api.model
    def _after_receipt(self, message, document, order, plan, done):
        """Close short-shipment exceptions received in full; signal critical shortfalls."""
        for product in {entry["product"] for entry in plan}:
            if not self._open_moves(order, product):
                self._close_exceptions(
                    f"short_shipment:{order.company_id.id}:{order.name}:{product.id}",
                    self.env._("Received in full by goods receipt %s.", document.receipt_id),
                )
        signals = self.env["hc.replenishment.signal"]
        for entry in plan:
            product = entry["product"]
            if not (product.hc_critical or entry["line"].critical):
                continue
            pickings = done or entry["move"].picking_id
            warehouse = pickings.picking_type_id.warehouse_id[:1]
            if warehouse:
                signals |= signals._signal(product, warehouse, pickings[:1], message)
        return signals
