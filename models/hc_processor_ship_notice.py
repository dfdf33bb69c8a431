from odoo import api
from odoo import fields
from odoo import models

from ..api_contract.errors import PermanentError
from .hc_processor import CONFIRMED_PO_STATES


class HcProcessorShipNotice(models.AbstractModel):
    """Advance ship notice: what the supplier says is on the truck, recorded on the receipt.

    Each ASN line becomes an ``hc.asn.line`` on the purchase order's open receipt (expected
    quantity, lot, expiry, serials) and the carrier and tracking number go on the receipt.
    Nothing is received here: the goods receipt decides.  Lots expired or expiring within
    the company's minimum shelf life raise a ``lot_expiry`` exception, a quantity below
    what is still open on the order a low-severity ``short_shipment`` exception.
    """

    _name = "hc.processor.ship_notice"
    _inherit = "hc.processor"
    _description = "Advance ship notice processor"
    # A confirmed purchase order keyed in by hand is there for its ship notices.
    _hc_order_dependency_states = CONFIRMED_PO_STATES

    # ------------------------------------------------------------------------------
    # Applying a ship notice
    # ------------------------------------------------------------------------------

    @api.model
    def _apply(self, message, document):
        pickings = self.env["stock.picking"]
        asn_lines = self.env["hc.asn.line"]
        for po_number in document.po_numbers():
            order = self._resolve_order(message.company_id, po_number, CONFIRMED_PO_STATES)
            if not order:
                # _dependency_met saw it: it was cancelled or moved company meanwhile.
                raise PermanentError(
                    self.env._(
                        "Purchase order %s is not a confirmed order of this company.", po_number
                    ),
                    code="unknown_purchase_order",
                )
            lines = [
                ln for ln in document.lines if (ln.po_number or document.po_number) == po_number
            ]
            picking = self._open_receipts(order)[:1]
            if picking:
                picking.write(self._picking_vals(document))
                pickings |= picking
            for line in lines:
                asn_lines |= self._record_line(message, document, order, line)
            self._check_short_shipment(message, document, order, asn_lines)
        summary = self.env._(
            "ASN %(asn)s: %(n)s line(s) recorded on %(pickings)s",
            asn=document.asn_number,
            n=len(asn_lines),
            pickings=", ".join(pickings.mapped("name")) or self.env._("no open receipt"),
        )
        return {
            "records": pickings or asn_lines,
            "summary": summary,
            "produced_keys": [document.natural_key()],
        }

    @api.model
    def _picking_vals(self, document):
        vals = {"hc_asn_number": document.asn_number}
        if document.carrier:
            vals["hc_carrier"] = document.carrier
        if document.tracking_number:
            vals["hc_tracking_number"] = document.tracking_number
        if document.expected_delivery_date:
            vals["scheduled_date"] = fields.Datetime.to_datetime(document.expected_delivery_date)
        return vals

    @api.model
    def _record_line(self, message, document, order, line):
        """Create or refresh the ``hc.asn.line`` of one ASN line; flag unusable lots."""
        product = self._resolve_product(line.item, orders=order)
        if not product:
            self.env["hc.exception"]._raise(
                "unknown_item",
                self.env._(
                    "ASN %(asn)s line %(line)s: unknown item",
                    asn=document.asn_number,
                    line=line.line_number,
                ),
                f"unknown_item:asn:{document.natural_key()}:{line.line_number}",
                description=self.env._(
                    "No product matches %(item)s (GTIN, buyer or vendor part number).",
                    item=line.item.key() or line.item.description,
                ),
                **self._order_exception_vals(message, order),
            )
            return self.env["hc.asn.line"]
        uom = self._resolve_uom(line.uom, product)
        move = self._open_moves(order, product)[:1]
        vals = {
            "asn_number": document.asn_number,
            "line_number": line.line_number,
            "po_number": order.name,
            "purchase_id": order.id,
            "picking_id": move.picking_id.id or self._open_receipts(order)[:1].id,
            "move_id": move.id,
            "company_id": message.company_id.id,
            "product_id": product.id,
            "product_uom_id": uom.id,
            "qty_expected": float(line.quantity),
            "lot_name": line.lot or False,
            "expiration_date": line.expiry_date or False,
            "serials": list(line.serials) or False,
            "ship_date": document.ship_date,
            "message_id": message.id,
        }
        AsnLine = self.env["hc.asn.line"].sudo()
        asn_line = AsnLine.search(
            [
                ("company_id", "=", message.company_id.id),
                ("po_number", "=", order.name),
                ("asn_number", "=", document.asn_number),
                ("line_number", "=", line.line_number),
            ],
            limit=1,
        )
        if asn_line:
            asn_line.write(vals)
        else:
            asn_line = AsnLine.create(vals)
        if line.expiry_date and line.expiry_date <= self._min_expiry_date(message.company_id):
            expired = line.expiry_date <= fields.Date.context_today(self)
            self.env["hc.exception"]._raise(
                "lot_expiry",
                self.env._(
                    "%(state)s lot %(lot)s of %(product)s on ASN %(asn)s",
                    state=self.env._("Expired") if expired else self.env._("Short-dated"),
                    lot=line.lot or "-",
                    product=product.display_name,
                    asn=document.asn_number,
                ),
                f"lot_expiry:asn:{order.name}:{product.id}:{line.lot or line.line_number}",
                severity="high" if expired else "medium",
                description=self.env._(
                    "Expiry date %(expiry)s; the minimum shelf life on arrival is %(days)s day(s).",
                    expiry=line.expiry_date,
                    days=message.company_id.hc_expiry_warning_days,
                ),
                details={
                    "asn_number": document.asn_number,
                    "line_number": line.line_number,
                    "lot": line.lot,
                    "expiry_date": line.expiry_date.isoformat(),
                },
                **self._order_exception_vals(message, order, asn_line.picking_id),
            )
        return asn_line

    @api.model
    def _check_short_shipment(self, message, document, order, asn_lines):
        """Flag products this PO's ship notices announce in smaller quantity than is open."""
        for product in asn_lines.filtered(lambda a: a.purchase_id == order).product_id:
            moves = self._open_moves(order, product)
            if not moves:
                continue
            move_uom = moves[0].product_uom
            open_qty = sum(moves.mapped("product_uom_qty"))
            # Every ASN of the order counts: a shipment split over two ASNs is not short.
            announced = self.env["hc.asn.line"].search(
                [("move_id", "in", moves.ids), ("product_id", "=", product.id)]
            )
            expected = sum(
                self._convert_quantity(a.qty_expected, a.product_uom_id, move_uom)
                for a in announced
            )
            dedup_key = f"short_shipment:{order.company_id.id}:{order.name}:{product.id}"
            if move_uom.compare(expected, open_qty) < 0:
                self.env["hc.exception"]._raise(
                    "short_shipment",
                    self.env._(
                        "Short shipment of %(product)s on %(po)s",
                        product=product.display_name,
                        po=order.name,
                    ),
                    dedup_key,
                    severity="low",
                    description=self.env._(
                        "Ship notices announce %(expected)s %(uom)s, %(open)s %(uom)s are open "
                        "on the order. The goods receipt decides what was delivered.",
                        expected=expected,
                        open=open_qty,
                        uom=move_uom.name,
                    ),
                    details={
                        "asn_number": document.asn_number,
                        "expected": expected,
                        "open": open_qty,
                    },
                    **self._order_exception_vals(message, order, moves[0].picking_id),
                )
            else:
                self._close_exceptions(dedup_key, self.env._("Later ship notices cover the order."))
