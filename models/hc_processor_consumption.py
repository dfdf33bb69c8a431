from dataclasses import replace

from odoo import Command
from odoo import api
from odoo import models

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency
from ..normalize.gs1 import BarcodeError
from ..normalize.gs1 import parse_barcode

CONSUMPTION_LOCATION = "healthcare_p2p_integration.stock_location_consumption"


class HcProcessorConsumption(models.AbstractModel):
    """Point-of-use consumption: the item leaves its facility location, with its lot.

    A supply cabinet, an OR / cath-lab case system or a department posts what was used
    where.  Applying it:

    * finds the location (GLN, barcode, then complete name, in the message's company) and
      the item (any identifier, or the GTIN of the UDI scan), and reads lot, serial and
      expiry from the UDI (GS1 AI 01/10/17/21 or HIBC) when the document does not state
      them; a tracked item needs its lot or serial;
    * moves the quantity out of the location to *Patient consumption* as a done stock
      move, taken from the quants of that lot there (company-owned stock first).  The
      event happened: stock that the system does not show is consumed all the same (the
      quant goes negative, visible to the stock team) rather than lost;
    * consigned stock (a quant owned by the vendor) makes the consumption a bill-only
      case: a purchase order to the owner at the contract price, confirmed, whose receipt
      *is* this move, so that the vendor's invoice is matched like any other;
    * plans the par levels of the item that hold the location (``hc.replenishment.planner``).

    Nothing but the case reference links the move to the case.  ``hc_consumption_ref``
    (the natural key) on the move makes a replayed document a no-op.
    """

    _name = "hc.processor.consumption"
    _inherit = "hc.processor"
    _description = "Point-of-use consumption processor"

    @api.model
    def _apply(self, message, document):
        company = message.company_id
        key = document.natural_key()
        Move = self.env["stock.move"].sudo()
        already = Move.search([("hc_consumption_ref", "=", key), ("company_id", "=", company.id)])
        if already:
            return {
                "records": already,
                "summary": self.env._(
                    "Consumption %(ref)s was already applied (%(moves)s stock move(s)).",
                    ref=document.consumption_id,
                    moves=len(already),
                ),
                "produced_keys": [key],
            }
        document = self._with_udi(document)
        location = self._resolve_location(company, document)
        product = self._resolve_product(document.item)
        if not product:
            raise WaitingForDependency(
                self._item_wait_key(document.item),
                self.env._(
                    "Consumption %(ref)s waits for the item master of %(item)s.",
                    ref=document.consumption_id,
                    item=document.item.key() or document.item.description,
                ),
            )
        uom = self._resolve_uom(document.uom, product)
        quantity = self._convert_quantity(document.quantity, uom, product.uom_id)
        lot = self._lot(company, document, product)
        lines = self._take(company, location, product, lot, quantity)
        move = self._consume(message, document, location, product, lot, lines)
        records = move
        summary = self.env._(
            "%(qty)s %(uom)s of %(product)s%(lot)s consumed at %(location)s (%(system)s%(case)s)",
            qty=quantity,
            uom=product.uom_id.name,
            product=product.display_name,
            lot=self.env._(", lot %s", lot.name) if lot else "",
            location=location.complete_name,
            system=document.source_name or document.source_system,
            case=self.env._(", case %s", document.case_reference)
            if document.case_reference
            else "",
        )
        for owned in move.filtered(lambda m: m.move_line_ids.owner_id):
            owner = owned.move_line_ids.owner_id
            order = self._bill_only_order(message, document, owned, owner, lot)
            summary += self.env._(
                "; bill-only %(order)s to %(vendor)s", order=order.name, vendor=owner.display_name
            )
        plan = self.env["hc.replenishment.planner"]._plan_for(product, location)
        if plan["pickings"] or plan["orders"]:
            summary += "; " + plan["summary"]
        return {"records": records, "summary": summary, "produced_keys": [key]}

    # ------------------------------------------------------------------------------

    @api.model
    def _with_udi(self, document):
        """The document with the GTIN, lot and serial its UDI scan carries filled in."""
        if not document.udi:
            return document
        try:
            scan = parse_barcode(document.udi)
        except BarcodeError as exc:
            raise PermanentError(
                self.env._(
                    "The UDI %(udi)s cannot be read: %(error)s", udi=document.udi, error=exc
                ),
                code="invalid_udi",
                path="udi",
            ) from exc
        item = document.item
        if scan.gtin and item.gtin and scan.gtin.lstrip("0") != item.gtin.lstrip("0"):
            raise PermanentError(
                self.env._(
                    "The UDI names GTIN %(udi)s, the item %(item)s.", udi=scan.gtin, item=item.gtin
                ),
                code="udi_mismatch",
                path="udi",
            )
        if scan.gtin and not item.gtin:
            item = replace(item, gtin=scan.gtin)
        return replace(
            document,
            item=item,
            lot=document.lot or scan.lot,
            serial=document.serial or scan.serial,
        )

    @api.model
    def _resolve_location(self, company, document):
        """The internal location a consumption names, in the message's company."""
        Location = self.env["stock.location"].sudo()
        base = [("usage", "=", "internal"), ("company_id", "=", company.id)]
        searches = []
        if document.location_gln:
            searches.append([("hc_gln", "=", document.location_gln)])
        if document.location:
            searches += [
                [("barcode", "=", document.location)],
                [("complete_name", "=", document.location)],
                [("name", "=", document.location)],
            ]
        for domain in searches:
            found = Location.search(base + domain, limit=2)
            if len(found) == 1:
                return found
            if found:
                raise PermanentError(
                    self.env._(
                        "Location %s names several stock locations: send its barcode or GLN.",
                        document.location or document.location_gln,
                    ),
                    code="ambiguous_location",
                    path="location",
                )
        raise PermanentError(
            self.env._(
                "No stock location of %(company)s is %(location)s.",
                company=company.name,
                location=document.location or document.location_gln,
            ),
            code="unknown_location",
            path="location" if document.location else "location_gln",
        )

    @api.model
    def _lot(self, company, document, product):
        """The lot (or serial) consumed; a tracked item needs one (created when unknown:
        what was used in a case is traceable even if its receipt did not record it)."""
        if product.tracking == "none":
            return self.env["stock.lot"]
        name = document.serial or document.lot
        if not name:
            raise PermanentError(
                self.env._(
                    "%(product)s is tracked by %(tracking)s: the consumption needs its lot, "
                    "serial or UDI.",
                    product=product.display_name,
                    tracking=product.tracking,
                ),
                code="lot_required",
                path="lot",
            )
        Lot = self.env["stock.lot"].sudo()
        lot = Lot.search(
            [
                ("product_id", "=", product.id),
                ("name", "=", name),
                ("company_id", "in", (company.id, False)),
            ],
            limit=1,
        )
        return lot or Lot.create({"product_id": product.id, "name": name, "company_id": company.id})

    @api.model
    def _take(self, company, location, product, lot, quantity):
        """``[{"location", "owner", "qty"}]``: where the consumed quantity comes from.

        Quants of the lot in the location and its sub-locations, company-owned first
        then consigned; what they do not cover comes from the location itself (a
        negative quant the stock team sees).
        """
        quants = (
            self.env["stock.quant"]
            .sudo()
            .search(
                [
                    ("product_id", "=", product.id),
                    ("location_id", "child_of", location.id),
                    ("lot_id", "=", lot.id or False),
                    ("quantity", ">", 0),
                ]
            )
        )
        own = company.partner_id
        quants = quants.sorted(lambda q: (bool(q.owner_id) and q.owner_id != own, q.id))
        lines = []
        remaining = quantity
        uom = product.uom_id
        for quant in quants:
            if uom.compare(remaining, 0) <= 0:
                break
            take = min(remaining, quant.quantity)
            owner = quant.owner_id if quant.owner_id != own else quant.owner_id.browse()
            lines.append({"location": quant.location_id, "owner": owner, "qty": take})
            remaining -= take
        if uom.compare(remaining, 0) > 0:
            lines.append({"location": location, "owner": self.env["res.partner"], "qty": remaining})
        return lines

    @api.model
    def _consume(self, message, document, location, product, lot, lines):
        """The done moves from ``location`` to *Patient consumption*: one per owner (the
        company's stock, each vendor's consigned stock)."""
        destination = self.env.ref(CONSUMPTION_LOCATION)
        origin = self.env._(
            "Consumption %(ref)s (%(system)s)",
            ref=document.consumption_id,
            system=document.source_name or document.source_system,
        )
        by_owner = {}
        for line in lines:
            by_owner.setdefault(line["owner"], []).append(line)
        moves = (
            self.env["stock.move"]
            .sudo()
            .create(
                [
                    {
                        "origin": origin,
                        "company_id": message.company_id.id,
                        "product_id": product.id,
                        "product_uom": product.uom_id.id,
                        "product_uom_qty": sum(line["qty"] for line in owned),
                        "location_id": location.id,
                        "location_dest_id": destination.id,
                        "hc_consumption_ref": document.natural_key(),
                        "hc_case_reference": document.case_reference or False,
                        "picked": True,
                        "move_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "product_uom_id": product.uom_id.id,
                                    "quantity": line["qty"],
                                    "location_id": line["location"].id,
                                    "location_dest_id": destination.id,
                                    "lot_id": lot.id or False,
                                    "owner_id": line["owner"].id or False,
                                }
                            )
                            for line in owned
                        ],
                    }
                    for owned in by_owner.values()
                ]
            )
        )
        moves._action_done()
        consumed_at = document.consumed_datetime()
        moves.write({"date": consumed_at})
        moves.move_line_ids.write({"date": consumed_at})
        return moves

    @api.model
    def _bill_only_order(self, message, document, move, owner, lot):
        """The confirmed bill-only purchase order for consigned stock used in a case.

        Its line is received by the consumption move itself (``purchase_line_id``), so
        the vendor's invoice meets a PO line received in full: the three-way match.
        """
        company = message.company_id
        vendor = owner.commercial_partner_id
        product = move.product_id
        quantity = sum(move.move_line_ids.mapped("quantity"))
        day = document.consumed_datetime().date()
        currency = vendor.property_purchase_currency_id or company.currency_id
        info, price = self._resolve_contract_price(
            vendor, product, day, quantity, product.uom_id, currency, company
        )
        warehouse = move.location_id.warehouse_id
        description = self.env._(
            "%(product)s%(lot)s, used in case %(case)s",
            product=product.display_name,
            lot=self.env._(" lot %s", lot.name) if lot else "",
            case=document.case_reference or "-",
        )
        line = {
            "product_id": product.id,
            "name": description,
            "product_qty": quantity,
            "product_uom_id": product.uom_id.id,
            "date_planned": document.consumed_datetime(),
        }
        if price is not None:
            line["price_unit"] = price
        order = (
            self.env["purchase.order"]
            .sudo()
            .create(
                {
                    "partner_id": vendor.id,
                    "company_id": company.id,
                    "currency_id": currency.id,
                    "origin": self.env._(
                        "Bill-only %(case)s (consumption %(ref)s)",
                        case=document.case_reference or "-",
                        ref=document.consumption_id,
                    ),
                    "partner_ref": document.case_reference or False,
                    "hc_bill_only": True,
                    "hc_case_reference": document.case_reference or False,
                    "picking_type_id": warehouse.in_type_id.id
                    if warehouse
                    else self.env["purchase.order"]
                    .with_company(company)
                    ._get_picking_type(company.id)
                    .id,
                    "order_line": [Command.create(line)],
                }
            )
        )
        order.button_confirm()
        move.purchase_line_id = order.order_line[:1]
        if price is None:
            order.message_post(
                body=self.env._(
                    "No contract price of %(vendor)s for %(product)s on %(day)s: the order "
                    "carries the vendor's list price; check it before the invoice arrives.",
                    vendor=vendor.display_name,
                    product=product.display_name,
                    day=day,
                )
            )
        elif info:
            order.message_post(
                body=self.env._(
                    "Priced at contract %(ref)s.",
                    ref=info.hc_contract_ref,
                )
            )
        return order
