from odoo import api
from odoo import fields
from odoo import models

from ..canonical import SCRAP_REASONS


class HcProcessorStockAdjustment(models.AbstractModel):
    """Stock adjustment: counts and write-offs posted by a facility's systems.

    Applied line by line with Odoo's own inventory tools, each line tagged with the
    adjustment and its reason so that the stock moves say why stock changed:

    * ``count``: the counted quantity is set on the quant (inventory mode) and applied
      (``stock.quant._apply_inventory``), Odoo books the difference against the
      inventory adjustment location;
    * ``correction``: the same with the quant's quantity plus the signed difference;
    * ``wastage``, ``expired``, ``damaged``: a validated ``stock.scrap`` with that scrap
      reason; more than is on hand is refused.

    A line that cannot be applied (unknown location, item or lot, not enough stock) is
    refused into a ``stock_adjustment`` exception; the other lines are applied.  A
    replayed adjustment changes nothing (lines already applied are recognised by their
    tag, ``<adjustment>/<line> <reason>``).
    """

    _name = "hc.processor.stock_adjustment"
    _inherit = "hc.facility.resolver"
    _description = "Stock adjustment processor"

    @api.model
    def _apply(self, message, document):
        company = message.company_id
        warehouse = self._facility_or_fail(document.facility, "facility", companies=company)
        records = self.env["stock.move"]
        counts = {"applied": 0, "already": 0, "refused": 0}
        for line in document.lines:
            tag = f"{document.adjustment_id}/{line.line_number} {line.reason}"
            done = self._already(company, tag)
            if done:
                counts["already"] += 1
                records |= done
                continue
            problem, moves = self._apply_line(document, warehouse, line, tag)
            if problem:
                counts["refused"] += 1
                self.env["hc.exception"]._raise(
                    "stock_adjustment",
                    self.env._(
                        "Adjustment %(id)s line %(line)s at %(wh)s: %(problem)s",
                        id=document.adjustment_id,
                        line=line.line_number,
                        wh=warehouse.display_name,
                        problem=problem,
                    ),
                    f"stock_adjustment:{document.natural_key()}:{line.line_number}",
                    company_id=company.id,
                    message_id=message.id,
                    res_model="stock.warehouse",
                    res_id=warehouse.id,
                    description=problem,
                    details={"reason": line.reason, "quantity": str(line.quantity)},
                )
                continue
            counts["applied"] += 1
            records |= moves
        summary = self.env._(
            "Adjustment %(id)s at %(wh)s: %(applied)s line(s) applied, %(already)s already "
            "applied, %(refused)s refused into exceptions",
            id=document.adjustment_id,
            wh=warehouse.display_name,
            **counts,
        )
        return {
            "records": records or warehouse,
            "summary": summary,
            "produced_keys": [document.natural_key()],
        }

    @api.model
    def _already(self, company, tag):
        return (
            self.env["stock.move"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "done"),
                    "|",
                    ("inventory_name", "=", tag),
                    ("scrap_id.origin", "=", tag),
                ]
            )
        )

    @api.model
    def _apply_line(self, document, warehouse, line, tag):
        """``(problem, moves)``: why the line was not applied, or the moves it made."""
        company = warehouse.company_id
        location = self._resolve_location(warehouse, line.location)
        if not location:
            return self.env._("no location %s in this facility", line.location), None
        trace = line.trace()
        product, item = self._line_product(line, trace)
        if not product:
            return self.env._("unknown item %s", item.key() or item.description), None
        if not product.is_storable:
            return self.env._("%s is not a stocked item", product.display_name), None
        uom = self._resolve_uom(line.uom, product)
        qty = self._convert_quantity(line.quantity, uom, product.uom_id)
        lot_name = trace.serial or trace.lot if product.tracking == "serial" else trace.lot
        lot = self._find_lot(product, lot_name, company)
        if product.tracking != "none" and not lot_name:
            return self.env._("%s is tracked: the line names no lot", product.display_name), None
        if line.reason in SCRAP_REASONS:
            return self._scrap(line, product, lot, qty, location, tag)
        Quant = self.env["stock.quant"].sudo().with_company(company)
        quant = Quant._gather(product, location, lot_id=lot or None, strict=True)[:1]
        current = quant.quantity if quant else 0.0
        target = qty if line.reason == "count" else current + qty
        if product.uom_id.compare(target, 0) < 0:
            return self.env._(
                "a correction of %(qty)s leaves %(target)s on hand", qty=qty, target=target
            ), None
        if product.tracking != "none" and not lot:
            lot = (
                self.env["stock.lot"]
                .sudo()
                .create(
                    {
                        "name": lot_name,
                        "product_id": product.id,
                        "company_id": company.id if product.company_id else False,
                        "expiration_date": fields.Datetime.to_datetime(trace.expiry)
                        if trace.expiry
                        else False,
                    }
                )
            )
        if not quant:
            quant = Quant.with_context(inventory_mode=True).create(
                {
                    "product_id": product.id,
                    "location_id": location.id,
                    "lot_id": lot.id or False,
                    "inventory_quantity": target,
                }
            )
        else:
            quant.with_context(inventory_mode=True).inventory_quantity = target
        before = self.env["stock.move"].sudo().search([("inventory_name", "=", tag)])
        quant.with_context(inventory_name=tag)._apply_inventory(
            date=fields.Datetime.to_datetime(document.adjustment_date)
        )
        moves = self.env["stock.move"].sudo().search([("inventory_name", "=", tag)]) - before
        return None, moves

    @api.model
    def _scrap(self, line, product, lot, qty, location, tag):
        if product.tracking != "none" and not lot:
            return self.env._("lot %s is not known here", line.lot or line.udi), None
        on_hand = sum(self._lot_quants(product, lot, location).mapped("quantity"))
        if product.uom_id.compare(on_hand, qty) < 0:
            return self.env._(
                "%(qty)s %(uom)s to write off (%(reason)s), %(held)s on hand",
                qty=qty,
                uom=product.uom_id.name,
                reason=line.reason,
                held=on_hand,
            ), None
        reason = self._scrap_reason(line.reason)
        scrap = (
            self.env["stock.scrap"]
            .sudo()
            .with_company(location.company_id)
            .create(
                {
                    "product_id": product.id,
                    "product_uom_id": product.uom_id.id,
                    "scrap_qty": qty,
                    "location_id": location.id,
                    "lot_id": lot.id or False,
                    "company_id": location.company_id.id,
                    "origin": tag,
                    "scrap_reason_tag_ids": [(6, 0, reason.ids)],
                }
            )
        )
        scrap.do_scrap()
        return None, scrap.move_ids

    @api.model
    def _scrap_reason(self, code):
        """Odoo's scrap reason tag of ``code`` (Wastage, Expired, Damaged), made once."""
        name = {
            "wastage": self.env._("Wastage"),
            "expired": self.env._("Expired"),
            "damaged": self.env._("Damaged"),
        }[code]
        Tag = self.env["stock.scrap.reason.tag"].sudo()
        return Tag.search([("name", "=", name)], limit=1) or Tag.create({"name": name})
