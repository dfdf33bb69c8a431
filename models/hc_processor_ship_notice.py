from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from ..api_contract.errors import PermanentError

PO_KEY_PREFIX = "purchase_order:"


class HcProcessorShipNotice(models.AbstractModel):
    """Advance ship notice: what the supplier says is on the truck, recorded on the receipt.

    Each ASN line becomes an ``hc.asn.line`` on the purchase order's open receipt (expected
    quantity, lot, expiry, serials) and the carrier and tracking number go on the receipt.
    Nothing is received here: the goods receipt decides.  Lots expired or expiring within
    the company's minimum shelf life raise a ``lot_expiry`` exception, a quantity below
    what is still open on the order a low-severity ``short_shipment`` exception.

    The lookup helpers (purchase order, product, open moves) are shared with the goods
    receipt processor.
    """

    _name = "hc.processor.ship_notice"
    _inherit = "hc.processor"
    _description = "Advance ship notice processor"

    # ------------------------------------------------------------------------------
    # Helpers shared with hc.processor.receipt
    # ------------------------------------------------------------------------------

    @api.model
    def _find_purchase_order(self, company, po_number):
        """The confirmed purchase order named ``po_number`` in ``company``."""
        return (
            self.env["purchase.order"]
            .sudo()
            .search(
                [
                    ("name", "=", po_number),
                    ("company_id", "=", company.id),
                    ("state", "in", ("purchase", "done")),
                ],
                limit=1,
            )
        )

    @api.model
    def _dependency_met(self, message, key):
        """A PO also counts when it exists in Odoo (created by hand, not by a message)."""
        if super()._dependency_met(message, key):
            return True
        if key.startswith(PO_KEY_PREFIX):
            po_number = key[len(PO_KEY_PREFIX) :]
            # Another company's order is not there, as if it did not exist (F16).
            return bool(self._find_purchase_order(message.company_id, po_number))
        return False

    @api.model
    def _find_line_product(self, item, order):
        """The product a document line designates: GTIN, buyer part, then vendor part."""
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        if item.gtin:
            product = Product.search([("barcode", "=", item.gtin)], limit=1)
            if product:
                return product
        if item.buyer_part_number:
            product = Product.search([("default_code", "=", item.buyer_part_number)], limit=1)
            if product:
                return product
        if item.vendor_part_number:
            infos = (
                self.env["product.supplierinfo"]
                .sudo()
                .search(
                    [
                        ("product_code", "=", item.vendor_part_number),
                        ("partner_id", "in", order.partner_id.commercial_partner_id.ids),
                    ]
                )
            )
            candidates = (
                infos.product_id
                | infos.filtered(lambda i: not i.product_id).product_tmpl_id.product_variant_ids
            )
            # Prefer the product actually ordered on this PO.
            ordered = candidates & order.order_line.product_id
            if ordered or candidates:
                return (ordered or candidates)[:1]
            product = Product.search([("default_code", "=", item.vendor_part_number)], limit=1)
            if product:
                return product
        return Product

    @api.model
    def _open_receipts(self, order):
        """The order's incoming transfers still to receive (the original or its backorder)."""
        return order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state not in ("done", "cancel")
        ).sorted("id")

    @api.model
    def _open_moves(self, order, product):
        """Open incoming moves of ``product`` on ``order``, oldest first."""
        return (
            self._open_receipts(order)
            .move_ids.filtered(
                lambda m: m.product_id == product and m.state not in ("done", "cancel")
            )
            .sorted("id")
        )

    @api.model
    def _to_uom(self, quantity, from_uom, to_uom):
        """``quantity`` (a Decimal from the document) in ``to_uom``."""
        quantity = float(quantity or 0)
        if not from_uom or not to_uom or from_uom == to_uom:
            return quantity
        return from_uom._compute_quantity(quantity, to_uom, round=False)

    @api.model
    def _exception_vals(self, message, order, record=None):
        """Common values of the exceptions raised about ``order``."""
        record = record or order
        return {
            "company_id": message.company_id.id,
            "partner_id": order.partner_id.commercial_partner_id.id,
            "message_id": message.id,
            "res_model": record._name,
            "res_id": record.id,
        }

    @api.model
    def _min_expiry_date(self, company):
        """Lots expiring on or before this date are flagged (expired or too short-dated)."""
        return fields.Date.context_today(self) + timedelta(days=company.hc_expiry_warning_days)

    # ------------------------------------------------------------------------------
    # Applying a ship notice
    # ------------------------------------------------------------------------------

    @api.model
    def _apply(self, message, document):
        pickings = self.env["stock.picking"]
        asn_lines = self.env["hc.asn.line"]
        for po_number in document.po_numbers():
            order = self._find_purchase_order(message.company_id, po_number)
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
        product = self._find_line_product(line.item, order)
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
                **self._exception_vals(message, order),
            )
            return self.env["hc.asn.line"]
        uom = self.env["hc.processor.item"]._uom(line.uom, product)
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
                **self._exception_vals(message, order, asn_line.picking_id),
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
                self._to_uom(a.qty_expected, a.product_uom_id, move_uom) for a in announced
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
                    **self._exception_vals(message, order, moves[0].picking_id),
                )
            else:
                self._close_short_shipment(
                    dedup_key, self.env._("Later ship notices cover the order.")
                )

    @api.model
    def _close_short_shipment(self, dedup_key, resolution):
        """Resolve the open short-shipment exception ``dedup_key`` once it no longer holds."""
        open_exc = (
            self.env["hc.exception"]
            .sudo()
            .search([("dedup_key", "=", dedup_key), ("state", "not in", ("resolved", "cancelled"))])
        )
        if open_exc:
            open_exc.write({"state": "resolved", "resolution": resolution})
