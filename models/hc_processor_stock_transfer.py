from collections import defaultdict

from odoo import Command
from odoo import api
from odoo import models

from ..api_contract.errors import PermanentError
from .hc_processor_receipt import VALIDATE_CONTEXT


class HcProcessorStockTransfer(models.AbstractModel):
    """Inter-facility stock transfer: requested, shipped and received events.

    * ``requested``: the delivery from the shipping warehouse to transit, confirmed
      (Odoo reserves stock for it as for any delivery);
    * ``shipped``: that delivery validated with the lots shipped (created when the
      transfer was not requested first), and the receipt from transit into the receiving
      warehouse prepared with the same lots and quantities; a line that the shipping
      warehouse does not hold (item, lot, quantity) is left out with a
      ``transfer_discrepancy`` exception;
    * ``received``: that receipt validated with what arrived.  Less than shipped leaves
      a backorder (still in transit) and a ``transfer_discrepancy``; a lot that was not
      shipped or more than shipped is refused the same way.

    Between warehouses of one company the goods wait in the company's transit location;
    between companies in Odoo's inter-company transit location, and the receiving company
    gets the lots with their expiry (the same lot when the item is shared, else a lot of
    its own of the same name and expiry).  A replayed event changes nothing.
    """

    _name = "hc.processor.stock_transfer"
    _inherit = "hc.facility.resolver"
    _description = "Inter-facility stock transfer processor"

    @api.model
    def _dependency_met(self, message, key):
        """``stock_transfer:<id>:shipped`` is met once the transfer is shipped, whichever
        of its two facilities' systems reported the shipment."""
        prefix, _sep, rest = key.partition(":")
        if prefix == "stock_transfer" and rest.endswith(":shipped"):
            transfer = self._transfer(rest[: -len(":shipped")])
            return (
                bool(transfer)
                and transfer.state in ("shipped", "received")
                and (message.company_id in transfer.company_id | transfer.dest_company_id)
            )
        return super()._dependency_met(message, key)

    @api.model
    def _transfer(self, transfer_id):
        return self.env["hc.stock.transfer"].sudo().search([("name", "=", transfer_id)], limit=1)

    @api.model
    def _apply(self, message, document):
        source = self._facility_or_fail(document.from_facility, "from_facility")
        dest = self._facility_or_fail(document.to_facility, "to_facility")
        if source == dest:
            raise PermanentError(
                self.env._("Both facilities are warehouse %s.", source.display_name),
                code="same_facility",
            )
        if message.company_id not in source.company_id | dest.company_id:
            # A connector reports the transfers of its own facility (company) only.
            raise PermanentError(
                self.env._(
                    "Neither facility of transfer %s is this company's.", document.transfer_id
                ),
                code="cross_company_reference",
            )
        transfer = self._transfer(document.transfer_id)
        if transfer and (transfer.source_warehouse_id, transfer.dest_warehouse_id) != (
            source,
            dest,
        ):
            raise PermanentError(
                self.env._(
                    "Transfer %(id)s goes from %(src)s to %(dst)s, not as this event says.",
                    id=document.transfer_id,
                    src=transfer.source_warehouse_id.display_name,
                    dst=transfer.dest_warehouse_id.display_name,
                ),
                code="transfer_mismatch",
            )
        if not transfer:
            transfer = self._create_transfer(document, source, dest)
        processor = self.with_context(hc_discrepancies=[])
        handler = {
            "requested": processor._requested,
            "shipped": processor._shipped,
            "received": processor._received,
        }[document.event]
        summary = handler(message, document, transfer)
        return {
            "records": transfer,
            "summary": summary,
            "produced_keys": [document.natural_key(), *document.correlation_keys()],
        }

    # ------------------------------------------------------------------ the transfer

    @api.model
    def _create_transfer(self, document, source, dest):
        inter_company = source.company_id != dest.company_id
        if inter_company:
            transit = self.env.ref("stock.stock_location_inter_company").sudo()
            if not transit.active:
                transit.active = True
        else:
            transit = source.company_id.internal_transit_location_id
        return (
            self.env["hc.stock.transfer"]
            .sudo()
            .create(
                {
                    "name": document.transfer_id,
                    "state": "requested",
                    "company_id": source.company_id.id,
                    "dest_company_id": dest.company_id.id,
                    "source_warehouse_id": source.id,
                    "dest_warehouse_id": dest.id,
                    "transit_location_id": transit.id,
                    "inter_company": inter_company,
                    "reference": document.reference or False,
                }
            )
        )

    @api.model
    def _lines(self, message, document, transfer, company):
        """``[(line, product, qty in product UoM, lot name, expiry)]``; unknown items
        are refused into exceptions."""
        result = []
        for line in document.lines:
            trace = line.trace()
            product, item = self._line_product(line, trace)
            if not product:
                self._discrepancy(
                    message,
                    document,
                    transfer,
                    line,
                    self.env._("unknown item %s", item.key() or item.description),
                    company,
                    exception_type="unknown_item",
                )
                continue
            uom = self._resolve_uom(line.uom, product)
            qty = self._convert_quantity(line.quantity, uom, product.uom_id)
            lot = trace.lot if product.tracking == "lot" else trace.serial or trace.lot
            result.append((line, product, qty, lot, trace.expiry))
        return result

    @api.model
    def _discrepancy(self, message, document, transfer, line, problem, company, **extra):
        exception_type = extra.pop("exception_type", "transfer_discrepancy")
        where = self.env._(
            "Transfer %(id)s (%(event)s) line %(line)s",
            id=document.transfer_id,
            event=document.event,
            line=line.line_number if line else "-",
        )
        vals = dict(
            exception_type=exception_type,
            name=self.env._("%(where)s: %(problem)s", where=where, problem=problem),
            dedup_key=f"{exception_type}:{document.natural_key()}:{line.line_number if line else ''}",
            company_id=company.id,
            message_id=message.id,
            severity="high",
            description=extra.pop("description", problem),
            details=extra.pop("details", {}),
            **extra,
        )
        self.env["hc.exception"]._raise(**vals, res_model="hc.stock.transfer", res_id=transfer.id)
        # kept for a refusal of the whole event, which rolls back what was raised here
        self.env.context.get("hc_discrepancies", []).append(vals)

    @api.model
    def _new_picking(self, transfer, outgoing, products):
        """The delivery to transit (``outgoing``) or the receipt from it, confirmed."""
        source, dest = transfer.source_warehouse_id, transfer.dest_warehouse_id
        if outgoing:
            company, picking_type = source.company_id, source.out_type_id
            src, dst = source.lot_stock_id, transfer.transit_location_id
            partner = dest.partner_id or dest.company_id.partner_id
        else:
            company, picking_type = dest.company_id, dest.in_type_id
            src, dst = transfer.transit_location_id, dest.lot_stock_id
            partner = source.partner_id or source.company_id.partner_id
        picking = (
            self.env["stock.picking"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "picking_type_id": picking_type.id,
                    "company_id": company.id,
                    "location_id": src.id,
                    "location_dest_id": dst.id,
                    "partner_id": partner.id,
                    "origin": self.env._("Transfer %s", transfer.name),
                    "move_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": qty,
                                "product_uom": product.uom_id.id,
                                "location_id": src.id,
                                "location_dest_id": dst.id,
                                "company_id": company.id,
                            }
                        )
                        for product, qty in products.items()
                    ],
                }
            )
        )
        picking.action_confirm()
        return picking

    # ------------------------------------------------------------------ the events

    @api.model
    def _requested(self, message, document, transfer):
        if transfer.out_picking_id:
            return self.env._("Transfer %s was already requested", transfer.name)
        company = transfer.company_id
        wanted = defaultdict(float)
        for _line, product, qty, _lot, _exp in self._lines(message, document, transfer, company):
            wanted[product] += qty
        picking = self._new_picking(transfer, True, wanted)
        picking.action_assign()
        transfer.write({"out_picking_id": picking.id, "requested_date": document.event_date})
        return self.env._(
            "Transfer %(id)s requested: %(picking)s", id=transfer.name, picking=picking.name
        )

    @api.model
    def _shipped(self, message, document, transfer):
        if transfer.state in ("shipped", "received"):
            return self.env._("Transfer %s was already shipped", transfer.name)
        source = transfer.source_warehouse_id
        company = source.company_id
        plan = []  # (product, lot record, qty, source location)
        for line, product, qty, lot_name, _exp in self._lines(message, document, transfer, company):
            lot = self._find_lot(product, lot_name, company)
            if product.tracking != "none" and not lot:
                self._discrepancy(
                    message,
                    document,
                    transfer,
                    line,
                    self.env._(
                        "lot %(lot)s of %(product)s is not known at %(wh)s",
                        lot=lot_name or "-",
                        product=product.display_name,
                        wh=source.display_name,
                    ),
                    company,
                )
                continue
            taken = self._take(product, lot, qty, source.lot_stock_id)
            if product.uom_id.compare(sum(q for _l, q in taken), qty) < 0:
                self._discrepancy(
                    message,
                    document,
                    transfer,
                    line,
                    self.env._(
                        "%(qty)s %(uom)s of %(product)s%(lot)s shipped, %(held)s on hand at "
                        "%(wh)s: the line was not shipped",
                        qty=qty,
                        uom=product.uom_id.name,
                        product=product.display_name,
                        lot=self.env._(" lot %s", lot.name) if lot else "",
                        held=sum(q for _l, q in taken),
                        wh=source.display_name,
                    ),
                    company,
                    details={"shipped": qty, "on_hand": sum(q for _l, q in taken)},
                )
                continue
            plan.extend((product, lot, q, location) for location, q in taken)
        if not plan:
            raise PermanentError(
                self.env._("Nothing of transfer %s could be shipped.", transfer.name),
                code="nothing_shipped",
                exceptions=self.env.context["hc_discrepancies"],
            )
        out = transfer.out_picking_id
        shipped = defaultdict(float)
        for product, _lot, qty, _loc in plan:
            shipped[product] += qty
        if not out:
            out = self._new_picking(transfer, True, shipped)
        else:
            self._cover(out, shipped)
        self._set_lines(out, plan, picked=True)
        out.with_context(**VALIDATE_CONTEXT).button_validate()
        incoming = self._new_picking(transfer, False, shipped)
        self._set_lines(
            incoming,
            [
                (p, self._lot_for(p, lot, transfer.dest_company_id), q, None)
                for p, lot, q, _l in plan
            ],
            picked=False,
        )
        transfer.write(
            {
                "state": "shipped",
                "out_picking_id": out.id,
                "in_picking_id": incoming.id,
                "shipped_date": document.event_date,
                "carrier": document.carrier or False,
                "tracking_number": document.tracking_number or False,
            }
        )
        out.message_post(
            body=self.env._(
                "Shipped to %(wh)s by transfer %(id)s; receipt %(in)s prepared.",
                wh=transfer.dest_warehouse_id.display_name,
                id=transfer.name,
                **{"in": incoming.name},
            )
        )
        return self.env._(
            "Transfer %(id)s shipped: %(out)s validated, %(in)s waiting at %(wh)s",
            id=transfer.name,
            out=out.name,
            wh=transfer.dest_warehouse_id.display_name,
            **{"in": incoming.name},
        )

    @api.model
    def _received(self, message, document, transfer):
        if transfer.state == "received":
            return self.env._("Transfer %s was already received", transfer.name)
        incoming = transfer.in_picking_id
        company = transfer.dest_company_id
        expected = defaultdict(float)  # (product, lot name) -> quantity in transit
        lots = {}
        for ml in incoming.move_line_ids:
            name = ml.lot_id.name or ml.lot_name or False
            expected[ml.product_id, name] += ml.quantity
            lots[ml.product_id, name] = ml
        plan = []
        got = defaultdict(float)
        for line, product, qty, lot_name, _exp in self._lines(message, document, transfer, company):
            keys = [k for k in expected if k[0] == product]
            key = (product, lot_name or False)
            if key not in expected and not lot_name and len(keys) == 1:
                key = keys[0]  # an untracked receipt of a single-lot line
            if key not in expected:
                self._discrepancy(
                    message,
                    document,
                    transfer,
                    line,
                    self.env._(
                        "%(product)s%(lot)s was not shipped on this transfer",
                        product=product.display_name,
                        lot=self.env._(" lot %s", lot_name) if lot_name else "",
                    ),
                    company,
                )
                continue
            if product.uom_id.compare(got[key] + qty, expected[key]) > 0:
                self._discrepancy(
                    message,
                    document,
                    transfer,
                    line,
                    self.env._(
                        "%(qty)s received, %(shipped)s shipped: the line was not received",
                        qty=got[key] + qty,
                        shipped=expected[key],
                    ),
                    company,
                    details={"received": got[key] + qty, "shipped": expected[key]},
                )
                continue
            got[key] += qty
            ml = lots[key]
            plan.append((product, ml.lot_id or (ml.lot_name, ml.expiration_date), qty, None))
        if not plan:
            raise PermanentError(
                self.env._("Nothing of transfer %s was received.", transfer.name),
                code="nothing_received",
                exceptions=self.env.context["hc_discrepancies"],
            )
        missing = {k: q - got[k] for k, q in expected.items() if k[0].uom_id.compare(got[k], q) < 0}
        self._set_lines(incoming, plan, picked=True)
        incoming.move_ids.filtered(lambda m: not m.move_line_ids).picked = False
        incoming.with_context(**VALIDATE_CONTEXT).button_validate()
        backorder = incoming.backorder_ids
        for (product, lot_name), qty in missing.items():
            self._discrepancy(
                message,
                document,
                transfer,
                None,
                self.env._(
                    "%(qty)s %(uom)s of %(product)s%(lot)s shipped and not received",
                    qty=qty,
                    uom=product.uom_id.name,
                    product=product.display_name,
                    lot=self.env._(" lot %s", lot_name) if lot_name else "",
                ),
                company,
                details={"missing": qty, "backorder": backorder.name or False},
                picking_id=backorder[:1].id or incoming.id,
            )
        transfer.write(
            {
                "state": "received",
                "received_date": document.event_date,
                "in_picking_id": incoming.id,
            }
        )
        return self.env._(
            "Transfer %(id)s received at %(wh)s: %(in)s validated%(back)s",
            id=transfer.name,
            wh=transfer.dest_warehouse_id.display_name,
            back=self.env._(", %s still in transit", backorder.name) if backorder else "",
            **{"in": incoming.name},
        )

    # ------------------------------------------------------------------ stock helpers

    @api.model
    def _take(self, product, lot, qty, location):
        """``[(location, qty)]`` of ``product`` (``lot``) to ship, oldest quants first."""
        taken, remaining = [], qty
        for quant in self._lot_quants(product, lot, location):
            if product.uom_id.compare(remaining, 0) <= 0:
                break
            # what the facility shipped physically left: reservations do not hold it back
            take = min(quant.quantity, remaining)
            taken.append((quant.location_id, take))
            remaining -= take
        return taken

    @api.model
    def _cover(self, picking, quantities):
        """Make the requested delivery carry what is shipped (new items added to it)."""
        for product, qty in quantities.items():
            move = picking.move_ids.filtered(lambda m, p=product: m.product_id == p)[:1]
            if move:
                if move.product_uom_qty < qty:
                    move.product_uom_qty = qty
                continue
            move = (
                self.env["stock.move"]
                .sudo()
                .create(
                    {
                        "picking_id": picking.id,
                        "product_id": product.id,
                        "product_uom_qty": qty,
                        "product_uom": product.uom_id.id,
                        "location_id": picking.location_id.id,
                        "location_dest_id": picking.location_dest_id.id,
                        "company_id": picking.company_id.id,
                    }
                )
            )
            move._action_confirm()

    @api.model
    def _lot_for(self, product, lot, company):
        """The receiving company's lot: the same record when it is shared, else the
        name with its expiry, for the receipt to create (``lot_name``)."""
        if not lot or not lot.company_id or lot.company_id == company:
            return lot
        own = self._find_lot(product, lot.name, company)
        return own or lot

    @api.model
    def _set_lines(self, picking, plan, picked):
        """Replace the picking's detailed operations by ``plan``: ``(product, lot record or
        (lot name, expiry), quantity, source location or None)``."""
        moves = picking.move_ids
        moves.move_line_ids.unlink()
        vals = []
        for product, lot, qty, location in plan:
            move = moves.filtered(lambda m, p=product: m.product_id == p)[:1]
            line = {
                "move_id": move.id,
                "picking_id": picking.id,
                "product_id": product.id,
                "product_uom_id": product.uom_id.id,
                "location_id": (location or picking.location_id).id,
                "location_dest_id": picking.location_dest_id.id,
                "quantity": qty,
                "picked": picked,
                "company_id": picking.company_id.id,
            }
            if isinstance(lot, tuple):
                line["lot_name"], expiry = lot
                if expiry:
                    line["expiration_date"] = expiry
            elif lot and lot.company_id and lot.company_id != picking.company_id:
                # another company's lot: the receiving company gets its own of that name
                line["lot_name"] = lot.name
                if lot.expiration_date:
                    line["expiration_date"] = lot.expiration_date
            elif lot:
                line["lot_id"] = lot.id
            vals.append(line)
        self.env["stock.move.line"].sudo().create(vals)
        if picked:
            moves.filtered("move_line_ids").picked = True
        return picking
