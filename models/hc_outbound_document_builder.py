import hashlib
import json
import logging
import re
from decimal import Decimal

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError

from ..canonical.base import build as build_canonical
from ..canonical.documents import Address
from ..canonical.documents import Identifier
from ..canonical.documents import ItemRef
from ..canonical.documents import Party
from ..canonical.documents import Payment
from ..canonical.documents import PaymentInvoiceRef
from ..canonical.documents import PurchaseOrder
from ..canonical.documents import PurchaseOrderLine
from ..canonical.outbound import InvoiceResponse
from ..canonical.outbound import ResponseReason
from ..formats.outbound import UnsupportedOutbound
from ..formats.outbound import render

_logger = logging.getLogger(__name__)

GTIN_RE = re.compile(r"^\d{8}$|^\d{12,14}$")
IDENTIFIER_SCHEMES = {"gln": "GLN", "duns": "DUNS", "vat": "VAT"}
# exception type -> OpenPeppol status reason (OPStatusReason) of an invoice response
RESPONSE_REASONS = {
    "price_variance": "PRI",
    "contract_price_mismatch": "PRI",
    "qty_variance": "QTY",
    "missing_receipt": "DEL",
    "receipt_overdue": "DEL",
    "no_po": "REF",
    "unknown_item": "ITM",
    "duplicate_invoice": "REF",
    "total_variance": "FIN",
    "charge_variance": "PRI",
    "tax_variance": "LEG",
    "total_mismatch": "FIN",
    "uom_mismatch": "QTY",
}
# the status an invoice response says for each clerk decision, and the action asked
DECISIONS = {
    "reject": ("RE", "NIN"),  # rejected: issue a new invoice
    "credit_note": ("UQ", "CNA"),  # under query: credit the amount
}
# Odoo payment method code -> canonical Payment.method
ODOO_PAYMENT_METHODS = {
    "manual": "none",
    "check_printing": "check",
    "sepa_ct": "wire",
    "nacha": "ach",
    "ach": "ach",
}
# Peppol participant ICD -> canonical scheme
PEPPOL_ICD_SCHEMES = {"0088": "GLN", "0060": "DUNS"}
# PurchaseOrder purpose -> outbound kind
PURPOSE_KINDS = {"original": "order", "change": "order_change", "cancel": "order_cancel"}


def _money(value, currency):
    digits = currency.decimal_places if currency else 2
    rounded = currency.round(value or 0.0) if currency else round(value or 0.0, 2)
    return Decimal(f"{rounded:.{digits}f}")


def _qty(value):
    return Decimal(f"{value or 0.0:.6f}".rstrip("0").rstrip(".") or "0")


def _address(partner):
    """The partner's postal address (Peppol requires the seller's), None when it has none."""
    values = {
        "street": partner.street or None,
        "street2": partner.street2 or None,
        "city": partner.city or None,
        "state": partner.state_id.code or None,
        "zip": partner.zip or None,
        "country_code": partner.country_id.code or None,
    }
    return Address(**values) if any(values.values()) else None


def _check(document):
    """The canonical rules (types, formats, cross-field checks), as for inbound documents."""
    data = {k: v for k, v in document.to_dict().items() if k not in ("doc_type", "schema_version")}
    errors = []
    build_canonical(type(document), data, "", errors)
    if errors:
        raise ValueError(
            "; ".join(f"{e.get('path') or '-'}: {e.get('message')}" for e in errors[:5])
        )


def _fingerprint(document):
    """What the document says, its purpose aside: a change identical to what the vendor
    was last sent is not sent."""
    data = document.to_dict()
    data.pop("purpose", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


class HcOutboundDocumentBuilder(models.AbstractModel):
    """Canonical documents from Odoo records, and sending them to the vendor's profile.

    The one place where purchase orders (original, change, cancellation), invoice
    responses and remittance advice are built from Odoo records: the same canonical
    dataclasses the inbound readers produce, rendered by :func:`formats.outbound.render`
    in the format the vendor's trading-partner profile names, queued in the outbox in the
    business transaction, and recorded as an ``hc.outbound.document``.
    """

    _name = "hc.outbound.document.builder"
    _description = "Outbound document builder"

    # ------------------------------------------------------------------------------
    # Parties
    # ------------------------------------------------------------------------------

    @api.model
    def _identifiers(self, partner):
        found = []
        for ident in partner.sudo().hc_identifier_ids:
            scheme = IDENTIFIER_SCHEMES.get(ident.scheme)
            if scheme and ident.valid and ident.value:
                found.append(Identifier(scheme=scheme, value=ident.value))
        # Odoo's own GLN of the partner (account_add_gln: a company's, a facility's)
        gln = partner._fields.get("global_location_number") and partner.global_location_number
        if gln and not any(i.scheme == "GLN" for i in found):
            found.append(Identifier(scheme="GLN", value=gln))
        if partner.vat and not any(i.scheme == "VAT" for i in found):
            found.append(Identifier(scheme="VAT", value=partner.vat))
        return found

    @api.model
    def _party(self, partner, overrides=()):
        """A canonical party: the crosswalk's identifiers, ``overrides`` (scheme, value)
        replacing those of the same scheme (the profile's GLN or DUNS)."""
        partner = partner.sudo()
        identifiers = [
            i for i in self._identifiers(partner) if i.scheme not in {s for s, _v in overrides}
        ]
        identifiers = [Identifier(scheme=s, value=v) for s, v in overrides if v] + identifiers
        return Party(identifiers=identifiers, name=partner.name or None, address=_address(partner))

    @api.model
    def _participant(self, participant_id):
        """A Peppol participant id ``icd:value`` as (scheme, value): GLN (0088) and DUNS
        (0060) under their own scheme, any other ICD under its code."""
        icd, _sep, value = (participant_id or "").partition(":")
        return PEPPOL_ICD_SCHEMES.get(icd, icd), value

    @api.model
    def _vendor_party(self, partner, profile):
        overrides = [("GLN", profile.gln), ("DUNS", profile.duns)]
        if profile.peppol_participant_id:
            scheme, value = self._participant(profile.peppol_participant_id)
            if not any(s == scheme for s, v in overrides if v):
                overrides.insert(0, (scheme, value))
        return self._party(partner.commercial_partner_id, [o for o in overrides if o[1]])

    @api.model
    def _company_party(self, company, profile=None):
        """Us: the company's identifiers, the profile's participant id for this vendor's
        network (how Peppol addresses us) first."""
        overrides = []
        if profile and profile.company_participant_id:
            overrides.append(self._participant(profile.company_participant_id))
        return self._party(company.partner_id, overrides)

    # ------------------------------------------------------------------------------
    # Documents
    # ------------------------------------------------------------------------------

    @api.model
    def _uom_code(self, uom):
        code = uom.hc_code or uom.hc_pack_code
        if not code and uom == self.env.ref("uom.product_uom_unit", raise_if_not_found=False):
            code = "EA"
        if not code:
            raise ValueError(
                self.env._(
                    "Unit %s has no EDI unit code (Inventory > Configuration > Units).", uom.name
                )
            )
        return code.upper()

    @api.model
    def _item_ref(self, line):
        product = line.product_id.sudo()
        seller = product.seller_ids.filtered(
            lambda s: (
                s.partner_id.commercial_partner_id == line.order_id.partner_id.commercial_partner_id
            )
        )[:1]
        return ItemRef(
            gtin=product.barcode if product.barcode and GTIN_RE.match(product.barcode) else None,
            buyer_part_number=product.default_code or None,
            vendor_part_number=seller.product_code or None,
            description=(line.name or product.name or "")[:1024] or None,
        )

    @api.model
    def _purchase_order(self, order, purpose, profile):
        order = order.sudo()
        currency = order.currency_id
        lines = []
        for line in order.order_line.filtered(lambda li: not li.display_type):
            if purpose != "cancel" and line.product_qty <= 0:
                continue  # a line cancelled by a change (quantity 0) is not ordered
            lines.append(
                PurchaseOrderLine(
                    line_number=line.hc_line_ref or str(line.id),
                    item=self._item_ref(line),
                    quantity=_qty(line.product_qty),
                    uom=self._uom_code(line.product_uom_id),
                    unit_price=_money(line.price_unit, currency),
                    requested_date=line.date_planned.date() if line.date_planned else None,
                )
            )
        warehouse = order.picking_type_id.warehouse_id
        return PurchaseOrder(
            number=order.name,
            order_date=(order.date_approve or order.date_order).date(),
            purpose=purpose,
            currency=currency.name,
            vendor=self._vendor_party(order.partner_id, profile),
            buyer=self._company_party(order.company_id, profile),
            ship_to=self._party(warehouse.partner_id) if warehouse.partner_id else None,
            payment_terms=order.payment_term_id.name or None,
            requested_date=order.date_planned.date() if order.date_planned else None,
            # the canonical total is the lines' (quantity x price), taxes apart: every
            # format states it so, and UBL / cXML refuse an order whose total disagrees
            total_amount=_money(order.amount_untaxed, currency),
            lines=lines,
        )

    @api.model
    def _response_count(self, bill):
        return (
            self.env["hc.outbound.document"]
            .sudo()
            .search_count(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", bill.id),
                    ("kind", "=", "invoice_response"),
                ]
            )
        )

    @api.model
    def _invoice_response(self, bill, profile, decision, reason, exception_types=()):
        """The buyer's answer on ``bill``: rejected, or under query for a credit note."""
        bill = bill.sudo()
        status, action = DECISIONS[decision]
        codes = sorted({RESPONSE_REASONS.get(t, "OTH") for t in exception_types} or {"OTH"})
        reasons = [ResponseReason(reason_code=code, text=(reason or "")[:1024]) for code in codes]
        reasons.append(ResponseReason(action_code=action))
        orders = bill.invoice_line_ids.purchase_line_id.order_id
        return InvoiceResponse(
            response_id=f"IR-{bill.id}-{self._response_count(bill) + 1}",
            issue_date=fields.Date.context_today(self),
            status=status,
            invoice_number=bill.ref or bill.name,
            invoice_date=bill.invoice_date or None,
            credit_note=bill.move_type == "in_refund",
            po_number=orders[:1].name or None,
            buyer=self._company_party(bill.company_id, profile),
            seller=self._vendor_party(bill.partner_id, profile),
            currency=bill.currency_id.name,
            invoice_total=str(_money(bill.amount_total, bill.currency_id)),
            reasons=reasons,
            note=(reason or "")[:1024] or None,
        )

    @api.model
    def _remittance(self, payment, profile):
        """Remittance advice of a posted vendor payment: what it pays, bill by bill."""
        payment = payment.sudo()
        currency = payment.currency_id
        paid = {}
        lines = payment.move_id.line_ids
        for partial in lines.matched_debit_ids | lines.matched_credit_ids:
            if partial.debit_move_id in lines:
                counterpart, amount = partial.credit_move_id, partial.credit_amount_currency
            else:
                counterpart, amount = partial.debit_move_id, partial.debit_amount_currency
            bill = counterpart.move_id
            if bill.is_purchase_document(include_receipts=True):
                paid[bill] = paid.get(bill, 0.0) + amount
        if not paid:
            # not reconciled yet: the bills it was registered for, each for its residual
            for bill in payment.invoice_ids:
                paid[bill] = bill.amount_residual or bill.amount_total
        invoices = [
            PaymentInvoiceRef(
                invoice_number=bill.ref or bill.name,
                amount_paid=_money(amount, bill.currency_id),
                amount_invoiced=_money(bill.amount_total, bill.currency_id),
                po_number=bill.invoice_line_ids.purchase_line_id.order_id[:1].name or None,
                invoice_date=bill.invoice_date or None,
            )
            for bill, amount in sorted(paid.items(), key=lambda item: item[0].id)
        ]
        return Payment(
            payment_id=payment.name,
            status="paid",
            vendor=self._vendor_party(payment.partner_id, profile),
            payer=self._company_party(payment.company_id, profile),
            amount=_money(payment.amount, currency),
            currency=currency.name,
            payment_date=payment.date,
            method=self._payment_method(payment),
            invoices=invoices,
        )

    @api.model
    def _payment_method(self, payment):
        """The canonical method (check, ach, wire, none) of an Odoo payment method code:
        a manual payment is made outside the remittance ("none": X12 BPR04 NON, the 820
        then carries remittance information only)."""
        code = payment.payment_method_line_id.code or payment.payment_method_code
        return ODOO_PAYMENT_METHODS.get(code, code) or None

    # ------------------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------------------

    @api.model
    def _build(self, kind, record, profile, args):
        if kind in ("order", "order_change", "order_cancel"):
            return self._purchase_order(record, args["purpose"], profile)
        if kind == "invoice_response":
            return self._invoice_response(
                record, profile, args["decision"], args.get("reason"), args.get("types") or ()
            )
        if kind == "remittance":
            return self._remittance(record, profile)
        raise UnsupportedOutbound(f"no outbound kind {kind}")

    @api.model
    def _send(self, kind, record, profile, args):
        """Build, render and queue one document for ``profile``; record it either way.

        A document that cannot be built or rendered (format not supported yet, missing
        identifiers, a unit without an EDI code...) is recorded ``failed`` with its reason
        and an exception for a person; the business change goes on.
        """
        Document = self.env["hc.outbound.document"].sudo()
        profile = profile.sudo()
        fmt = profile._format_for(kind)
        vals = {
            "name": f"{dict(Document._fields['kind'].selection)[kind]} {record.display_name}",
            "company_id": profile.company_id.id,
            "profile_id": profile.id,
            "kind": kind,
            "fmt": fmt,
            "res_model": record._name,
            "res_id": record.id,
            "res_ref": record.display_name,
            "build_args": args,
        }
        # Everything that may fail comes before the one write (the outbox event): a
        # failure leaves nothing half-done to roll back.
        try:
            document = self._build(kind, record, profile, args)
            _check(document)
            vals["fingerprint"] = _fingerprint(document)
            if kind == "order_change" and vals["fingerprint"] == self._last_fingerprint(
                record, profile
            ):
                return Document  # the vendor has this version of the order already
            envelope = profile._envelope(profile._next_control_number() if fmt == "x12" else 0)
            rendered = render(document, fmt, envelope=envelope)
            event = self.env["hc.outbox.event"]._emit_document(
                profile, record, f"document.{kind}", rendered.body, rendered.content_type
            )
        except (UnsupportedOutbound, ValueError, ValidationError, UserError) as exc:
            _logger.info("Outbound %s for %s not sent: %s", kind, record.display_name, exc)
            return self._failed(Document.create(dict(vals, state="failed")), str(exc))
        vals.update(
            state="queued",
            event_id=event.id,
            name=f"{rendered.document_type} {record.display_name}",
            document_type=rendered.document_type,
            filename=rendered.filename,
            content_type=rendered.content_type,
            warnings="\n".join(rendered.warnings) or False,
            **Document._expect_ack(profile, rendered),
        )
        return Document.create(vals)

    @api.model
    def _last_fingerprint(self, order, profile):
        last = (
            self.env["hc.outbound.document"]
            .sudo()
            .search(
                [
                    ("res_model", "=", order._name),
                    ("res_id", "=", order.id),
                    ("profile_id", "=", profile.id),
                    ("kind", "in", ("order", "order_change")),
                    ("state", "=", "queued"),
                ],
                order="id desc",
                limit=1,
            )
        )
        return last.fingerprint

    @api.model
    def _failed(self, document, reason):
        exception = self.env["hc.exception"]._raise(
            "outbound_failed",
            self.env._("%s not sent to the vendor", document.name)[:200],
            f"outbound:{document.id}",
            company_id=document.company_id.id,
            partner_id=document.partner_id.id,
            res_model=document.res_model,
            res_id=document.res_id,
            severity="high",
            description=reason,
            hint=self.env._(
                "Fix the trading-partner profile (format, identifiers, channel), then use "
                "Send again on the outbound document."
            ),
        )
        document.write({"error_message": reason, "exception_id": exception.id})
        return document

    @api.model
    def _resend(self, document, record):
        """*Send again*: build the failed document anew; the failed record says where it went."""
        sent = self._send(document.kind, record, document.profile_id, document.build_args or {})
        if sent.state == "queued":
            if document.exception_id.state not in ("resolved", "cancelled"):
                document.exception_id._resolve(
                    "auto", self.env._("Sent again as %s.", sent.display_name)
                )
            document.write({"error_message": self.env._("Sent again: %s", sent.display_name)})
        return sent

    # ------------------------------------------------------------------------------
    # Entry points (called by the business flows)
    # ------------------------------------------------------------------------------

    @api.model
    def _sent_orders(self, orders):
        """Orders whose original was sent (or attempted) through a profile."""
        sent = (
            self.env["hc.outbound.document"]
            .sudo()
            ._read_group(
                [
                    ("res_model", "=", "purchase.order"),
                    ("res_id", "in", orders.ids),
                    ("kind", "=", "order"),
                ],
                ["res_id"],
            )
        )
        ids = {res_id for (res_id,) in sent}
        return orders.filtered(lambda o: o.id in ids)

    @api.model
    def _send_orders(self, orders, purpose):
        """Send ``orders`` to their vendors (original, change or cancel).

        A change or a cancellation is only sent for an order whose original was sent.
        """
        kind = PURPOSE_KINDS[purpose]
        if purpose != "original":
            orders = self._sent_orders(orders)
        documents = self.env["hc.outbound.document"]
        for order in orders.sudo():
            profile = self.env["hc.trading.partner"]._for_partner(
                order.partner_id, order.company_id
            )
            if profile:
                documents |= self._send(kind, order, profile, {"purpose": purpose})
        return documents

    @api.model
    def _send_invoice_responses(self, exceptions, decision, reason):
        """Tell each vendor what a clerk decided on its bill (rejected, credit note asked)."""
        documents = self.env["hc.outbound.document"]
        for bill in exceptions.sudo().move_id:
            profile = self.env["hc.trading.partner"]._for_partner(bill.partner_id, bill.company_id)
            if profile:
                types = sorted(
                    set(
                        exceptions.filtered(lambda e, b=bill: e.move_id == b).mapped(
                            "exception_type"
                        )
                    )
                )
                documents |= self._send(
                    "invoice_response",
                    bill,
                    profile,
                    {"decision": decision, "reason": reason, "types": types},
                )
        return documents

    @api.model
    def _send_remittances(self, payments):
        Document = self.env["hc.outbound.document"].sudo()
        documents = Document.browse()
        for payment in payments.sudo():
            if payment.payment_type != "outbound" or payment.state in ("draft", "canceled"):
                continue
            if Document.search_count(
                [
                    ("res_model", "=", payment._name),
                    ("res_id", "=", payment.id),
                    ("kind", "=", "remittance"),
                    ("state", "=", "queued"),
                ]
            ):
                continue  # advised once
            profile = self.env["hc.trading.partner"]._for_partner(
                payment.partner_id, payment.company_id
            )
            if profile:
                documents |= self._send("remittance", payment, profile, {})
        return documents
