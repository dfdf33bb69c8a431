from odoo import api
from odoo import models
from odoo.tools import float_compare

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency

CANCEL_STATUSES = ("cancelled", "rejected")


class HcProcessorPurchaseOrder(models.AbstractModel):
    """Purchase order from a sourcing system: a ``purchase.order`` named by its number.

    The order keeps the source number as its ``name`` (receipts, ship notices and
    invoices refer to it) and in ``hc_source_ref``; each line keeps its source line
    number in ``hc_line_ref``, so a change order updates the lines it names and adds
    the new ones, never duplicating.  The source's approval status is honoured
    (approved orders are confirmed, pending ones stay RFQs, cancelled ones are
    cancelled).  An order naming an unknown item is refused as a whole, with an
    ``unknown_item`` exception; a line priced above the vendor's contract price on the
    order date is applied and flagged with a ``contract_price_mismatch`` exception.
    """

    _name = "hc.processor.purchase_order"
    _inherit = "hc.processor"
    _description = "Purchase order processor"

    @api.model
    def _apply(self, message, document):
        vendor = self._resolve_vendor(message, document.vendor)
        if not vendor:
            raise WaitingForDependency(f"vendor:{document.vendor.key()}")
        company = message.company_id
        order = self._resolve_order(company, document.number)
        produced = [*document.correlation_keys(), document.natural_key()]
        if document.purpose == "cancel" or (
            document.approval_status in CANCEL_STATUSES and document.purpose == "change"
        ):
            if not order:
                raise PermanentError(
                    self.env._(
                        "Cannot cancel purchase order %s: it was never received.", document.number
                    ),
                    code="unknown_purchase_order",
                )
            summary = self._cancel(order)
            return {"records": order, "summary": summary, "produced_keys": produced}
        if order and order.partner_id.commercial_partner_id != vendor.commercial_partner_id:
            raise PermanentError(
                self.env._(
                    "Purchase order %(number)s exists for vendor %(old)s, not %(new)s.",
                    number=document.number,
                    old=order.partner_id.display_name,
                    new=vendor.display_name,
                ),
                code="vendor_mismatch",
            )
        if order.state == "cancel":
            if document.purpose == "change":
                raise PermanentError(
                    self.env._(
                        "Purchase order %s is cancelled: a change cannot apply.", document.number
                    ),
                    code="purchase_order_cancelled",
                )
            # The original order replayed after its cancellation: nothing to do.
            return {
                "records": order,
                "summary": self.env._("Purchase order %s is cancelled; unchanged", order.name),
                "produced_keys": produced,
            }
        if document.purpose == "change" and not order:
            raise WaitingForDependency(
                document.natural_key(),
                self.env._(
                    "A change of purchase order %s arrived before the order.", document.number
                ),
            )
        lines = self._resolve_lines(message, document, vendor)
        currency = (
            self._resolve_currency(document.currency) if document.currency else company.currency_id
        )
        header = {
            "partner_id": vendor.id,
            "currency_id": currency.id,
            "date_order": self._datetime(document.order_date),
            "hc_source_ref": document.number,
            "hc_connector_id": message.connector_id.id,
        }
        if not order:
            picking_type = self._receiving_type(message, company, document)
            if picking_type:
                header["picking_type_id"] = picking_type.id
            order = (
                self.env["purchase.order"]
                .sudo()
                .with_company(company)
                .create(dict(header, name=document.number, company_id=company.id))
            )
            created = True
        else:
            created = False
            if order.state in ("draft", "sent"):
                self._write_changed(order, header)
        changed = self._apply_lines(order, lines, document)
        if document.approval_status == "approved" and order.state in ("draft", "sent"):
            holds = order.partner_id._hc_vendor_holds()
            if holds:
                self._hold_order(message, order, holds)
            else:
                order.button_confirm()
            changed = True
        elif document.approval_status in CANCEL_STATUSES:
            self._cancel(order)
            changed = True
        self._check_contract_prices(message, order, document, vendor)
        self._check_stated_total(message, order, document, vendor)
        if created:
            summary = self.env._("Purchase order %s created", order.name)
            if order.state in ("draft", "sent") and document.approval_status == "approved":
                summary = self.env._("Purchase order %s created, held (vendor on hold)", order.name)
        elif changed:
            summary = self.env._("Purchase order %s updated", order.name)
        else:
            summary = self.env._("Purchase order %s unchanged", order.name)
        return {"records": order, "summary": summary, "produced_keys": produced}

    @api.model
    def _receiving_type(self, message, company, document):
        """The receipt operation of the warehouse the order ships to, or empty (default).

        The ship-to party names the receiving facility, by GLN most of the time: the
        warehouse whose address partner carries that identifier (in the crosswalk or as
        the partner's GLN) receives the goods.  A ship-to naming no warehouse of the
        company leaves Odoo's default and is shown to supply chain (an exception), and
        one naming another company's warehouse refuses the order.
        """
        party = document.ship_to
        if not party or not party.identifiers:
            return self.env["stock.picking.type"]
        values = [i.value for i in party.identifiers if i.value]
        partner = self._resolve_vendor(message, party)
        Warehouse = self.env["stock.warehouse"].sudo().with_context(active_test=False)
        domain = [("partner_id.global_location_number", "in", values)]
        if partner:
            domain = ["|", ("partner_id", "child_of", partner.commercial_partner_id.id), *domain]
        warehouses = Warehouse.search(domain)
        mine = warehouses.filtered(lambda w: w.company_id == company and w.active)
        if mine:
            return mine[0].in_type_id
        if warehouses:
            raise PermanentError(
                self.env._(
                    "Purchase order %(number)s ships to %(where)s, a warehouse of another "
                    "company than %(company)s.",
                    number=document.number,
                    where=warehouses[0].display_name,
                    company=company.display_name,
                ),
                code="ship_to_other_company",
            )
        self.env["hc.exception"]._raise(
            "data_quality",
            self.env._(
                "Purchase order %(number)s: unknown ship-to %(party)s",
                number=document.number,
                party=party.name or party.key(),
            ),
            f"unknown_ship_to:{document.natural_key()}",
            severity="low",
            company_id=company.id,
            message_id=message.id,
            description=self.env._(
                "No warehouse of %(company)s has the ship-to identifier %(ids)s: the order "
                "is received at the default warehouse. Set the GLN on the warehouse's "
                "address to route such orders.",
                company=company.display_name,
                ids=", ".join(values),
            ),
        )
        return self.env["stock.picking.type"]

    @api.model
    def _resolve_lines(self, message, document, vendor):
        """``[(doc_line, product, uom)]``; no order is half-applied for unknown items.

        An unknown item named by an identifier may still come from the item master (feeds
        are not delivered in order): the order waits for it, released the moment it is
        processed, and the reconciliation escalates a wait that lasts.  An item named by
        nothing but a description can never arrive: the order is refused with an
        ``unknown_item`` exception per line.
        """
        resolved, unknown = [], []
        for line in document.lines:
            product = self._resolve_product(line.item, vendor)
            if not product:
                unknown.append(line)
                continue
            resolved.append((line, product, self._resolve_uom(line.uom, product)))
        awaited = [ln for ln in unknown if ln.item.key()]
        if awaited and len(awaited) == len(unknown):
            raise WaitingForDependency(
                self._item_wait_key(awaited[0].item, document.vendor),
                self.env._(
                    "Purchase order %(number)s waits for unknown items: %(items)s.",
                    number=document.number,
                    items=", ".join(f"{ln.line_number} ({ln.item.key()})" for ln in awaited),
                ),
            )
        if unknown:
            raise PermanentError(
                self.env._(
                    "Purchase order %(number)s names unknown items: %(items)s.",
                    number=document.number,
                    items=", ".join(
                        f"{ln.line_number} ({ln.item.key() or ln.item.description})"
                        for ln in unknown
                    ),
                ),
                code="unknown_item",
                exceptions=[
                    {
                        "exception_type": "unknown_item",
                        "name": self.env._(
                            "PO %(number)s line %(line)s: unknown item %(item)s",
                            number=document.number,
                            line=ln.line_number,
                            item=ln.item.key() or ln.item.description,
                        ),
                        "dedup_key": f"unknown_item:purchase_order:{document.number}:"
                        f"{ln.line_number}:{ln.item.key()}",
                        "message_id": message.id,
                        "company_id": message.company_id.id,
                        "partner_id": vendor.id,
                        "description": self.env._(
                            "Create the item (item master) or correct the order in the "
                            "sourcing system, then replay the message."
                        ),
                        "details": {"po_number": document.number, **ln.item.__dict__},
                    }
                    for ln in unknown
                ],
            )
        return resolved

    @api.model
    def _apply_lines(self, order, lines, document):
        """Create or update the order lines by source line number; return whether changed."""
        by_ref = {ln.hc_line_ref: ln for ln in order.order_line if ln.hc_line_ref}
        changed = False
        create_vals = []
        for doc_line, product, uom in lines:
            if doc_line.change_code == "delete":
                changed |= self._delete_line(order, by_ref.get(doc_line.line_number))
                continue
            vals = {
                "product_id": product.id,
                "product_qty": float(doc_line.quantity),
                "product_uom_id": uom.id,
                "date_planned": self._datetime(
                    doc_line.requested_date or document.requested_date or document.order_date
                ),
            }
            if doc_line.unit_price is not None:
                vals["price_unit"] = float(doc_line.unit_price)
            existing = by_ref.get(doc_line.line_number)
            if existing:
                changed |= bool(self._write_changed(existing, vals))
            else:
                create_vals.append(
                    dict(
                        vals,
                        order_id=order.id,
                        hc_line_ref=doc_line.line_number,
                        name=doc_line.item.description or product.display_name,
                    )
                )
        if create_vals:
            self.env["purchase.order.line"].sudo().create(create_vals)
            changed = True
        return changed

    @api.model
    def _delete_line(self, order, line):
        """A change order deletes ``line`` (X12 860 POC02 ``DI``, OrderChange): a line
        nothing was received or billed for goes (a draft order's is removed, a confirmed
        order's drops to quantity 0, which cancels its pending receipt); what was received
        or billed stays ordered.  A line already gone (a replay) changes nothing."""
        if not line:
            return False
        if order.state in ("draft", "sent"):
            line.unlink()
            return True
        keep = max(line.qty_received, line.qty_invoiced)
        if line.product_uom_id.compare(line.product_qty, keep) == 0:
            return False
        # The receipt still expected for the line is cancelled first: Odoo only adjusts
        # the moves of a decreased line with a negative move, which a partly received
        # (backordered) line does not absorb.
        line.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))._action_cancel()
        line.write({"product_qty": keep})
        return True

    @api.model
    def _hold_order(self, message, order, holds):
        """An approved order of a held vendor (expired credential, exclusion match) stays
        an RFQ, as its confirmation in Odoo would be refused: the order is kept (nothing
        accepted is lost), the refusal audited and a ``vendor_hold`` exception opened for
        the vendor compliance team; once the hold is lifted the order is confirmed by a
        buyer."""
        partner, reasons = next(iter(holds.items()))
        self.env["hc.audit.log"]._log(
            "vendor_hold_refused",
            order,
            reason="purchase_order",
            data={
                "action": "purchase_order",
                "partner": partner.id,
                "reasons": reasons,
                "user": self.env.user.login,
            },
        )
        self.env["hc.exception"]._raise(
            "vendor_hold",
            self.env._(
                "Purchase order %(order)s held: %(vendor)s is on hold",
                order=order.name,
                vendor=partner.display_name,
            ),
            f"vendor_hold:purchase.order:{order.id}",
            severity="high",
            company_id=order.company_id.id,
            message_id=message.id,
            partner_id=partner.id,
            purchase_id=order.id,
            res_model="purchase.order",
            res_id=order.id,
            amount=order.amount_total,
            currency_id=order.currency_id.id,
            description=self.env._(
                "The sourcing system approved purchase order %(order)s, but %(vendor)s is on "
                "hold: %(reasons)s. The order was kept as a request for quotation, not "
                "confirmed.",
                order=order.name,
                vendor=partner.display_name,
                reasons="; ".join(reasons),
            ),
            hint=self.env._(
                "A vendor compliance officer renews the credential or decides the exclusion "
                "match; then a buyer confirms the order (or cancels it)."
            ),
            details={"order": order.name, "reasons": reasons},
        )

    @api.model
    def _cancel(self, order):
        """Cancel ``order`` (unlocking a confirmed one first); return a summary."""
        if order.state == "cancel":
            return self.env._("Purchase order %s already cancelled", order.name)
        if order.locked:
            order.button_unlock()
        order.button_cancel()
        return self.env._("Purchase order %s cancelled", order.name)

    @api.model
    def _check_contract_prices(self, message, order, document, vendor):
        """Flag lines priced above the vendor's contract price valid on the order date.

        Opens one ``contract_price_mismatch`` exception per line; resolves the open one
        of a line whose price a change order brought back within the contract.
        """
        Exception_ = self.env["hc.exception"].sudo()
        for line in order.order_line.filtered(lambda ln: ln.hc_line_ref and ln.product_id):
            doc_line = next(
                (dl for dl in document.lines if dl.line_number == line.hc_line_ref), None
            )
            dedup_key = f"contract_price_mismatch:purchase_order:{order.name}:{line.hc_line_ref}"
            info, contract_price = self._resolve_contract_price(
                vendor,
                line.product_id,
                document.order_date,
                line.product_qty,
                line.product_uom_id,
                order.currency_id,
                order.company_id,
                ref=(doc_line and doc_line.contract_reference) or document.contract_reference,
                facilities=order._hc_facility_partners(),
            )
            above = (
                contract_price is not None
                and float_compare(
                    line.price_unit,
                    contract_price,
                    precision_rounding=order.currency_id.rounding,
                )
                > 0
            )
            if not above:
                Exception_.search(
                    [("dedup_key", "=", dedup_key), ("state", "not in", ("resolved", "cancelled"))]
                ).write(
                    {
                        "state": "resolved",
                        "resolution": self.env._("Price within the contract after a change order."),
                    }
                )
                continue
            Exception_._raise(
                "contract_price_mismatch",
                self.env._(
                    "PO %(po)s line %(line)s: %(price)s above contract %(ref)s price %(contract)s",
                    po=order.name,
                    line=line.hc_line_ref,
                    price=line.price_unit,
                    ref=info.hc_contract_ref,
                    contract=round(contract_price, 6),
                ),
                dedup_key,
                message_id=message.id,
                company_id=order.company_id.id,
                partner_id=vendor.id,
                res_model="purchase.order",
                res_id=order.id,
                details={
                    "po_number": order.name,
                    "line": line.hc_line_ref,
                    "product": line.product_id.display_name,
                    "price_unit": line.price_unit,
                    "uom": line.product_uom_id.name,
                    "contract_reference": info.hc_contract_ref,
                    "contract_price": contract_price,
                    "contract_uom": info.product_uom_id.name,
                    "contract_min_qty": info.min_qty,
                    "order_date": document.order_date.isoformat(),
                },
            )

    @api.model
    def _check_stated_total(self, message, order, document, vendor):
        """A sender's stated order total that its own lines contradict is flagged.

        The order is applied as its lines say (they are what is received and billed);
        the buyer is told that the sending system's total disagrees, whatever the format.
        """
        findings = document.amount_findings()
        if not findings:
            return
        self.env["hc.exception"]._raise(
            "document_inconsistent",
            self.env._("PO %s: stated total differs from its lines", order.name),
            f"document_inconsistent:purchase_order:{order.name}:{message.content_hash}",
            severity="medium",
            message_id=message.id,
            company_id=order.company_id.id,
            partner_id=vendor.id,
            res_model="purchase.order",
            res_id=order.id,
            description="; ".join(finding.message for finding in findings),
            hint=self.env._("Check the order with the sourcing system before it is billed."),
            details={
                "findings": [
                    {"code": f.code, "stated": str(f.stated), "computed": str(f.computed)}
                    for f in findings
                ]
            },
        )
