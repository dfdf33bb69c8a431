from odoo import api
from odoo import models

from ..delivery.outbound import SPEC_VERSION

# Version of each event type's ``data`` object: raised on an incompatible change (a field
# removed or its meaning changed); adding a field is compatible and keeps the version.
DATA_VERSIONS = {
    "po.released": 1,
    "po.ack_requested": 1,
    "invoice.exception": 1,
    "payment.hold": 1,
    "stock.replenishment": 1,
}
# exception types an AP team (or its AP automation platform) is alerted about
INVOICE_EXCEPTION_TYPES = frozenset(
    {
        "price_variance",
        "qty_variance",
        "missing_receipt",
        "no_po",
        "uom_mismatch",
        "duplicate_invoice",
        "contract_price_mismatch",
        "total_variance",
        "payment_rejected",
    }
)


def _iso(value):
    """ISO 8601 in UTC (``Z``) for datetimes, ``YYYY-MM-DD`` for dates, None when empty."""
    if not value:
        return None
    if hasattr(value, "hour"):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def _amount(value, currency):
    """Money as a decimal string rounded to the currency (no binary float on the wire)."""
    digits = currency.decimal_places if currency else 2
    return f"{currency.round(value) if currency else round(value or 0.0, 2):.{digits}f}"


def _qty(value):
    return f"{value or 0.0:.6f}".rstrip("0").rstrip(".") or "0"


class HcOutboxPayload(models.AbstractModel):
    """The payload (JSON body) of each outbound event type, version ``SPEC_VERSION``.

    Every event has the same envelope (documented in the README, "Outbound events")::

        {"specversion": "1.0", "id": "<event uuid>", "type": "po.released",
         "data_version": 1, "occurred_at": "2026-11-23T22:10:05Z",
         "company": {...}, "subject": {"model", "id", "ref"}, "data": {...}}

    Money is a decimal string in the document's currency, quantities decimal strings,
    dates ISO 8601 (UTC datetimes end in ``Z``).  The body is built once, in the business
    transaction: it is what was true when the event happened.
    """

    _name = "hc.outbox.payload"
    _description = "Outbound event payloads"

    @api.model
    def _data_version(self, event_type):
        return DATA_VERSIONS.get(event_type, 1)

    @api.model
    def _invoice_exception_types(self):
        return INVOICE_EXCEPTION_TYPES

    @api.model
    def _envelope(self, event_type, event_id, version, occurred_at, company, record, data):
        return {
            "specversion": SPEC_VERSION,
            "id": event_id,
            "type": event_type,
            "data_version": version,
            "occurred_at": _iso(occurred_at),
            "company": self._company(company),
            "subject": {"model": record._name, "id": record.id, "ref": record.display_name},
            "data": data,
        }

    # -- shared parts ---------------------------------------------------------------

    @api.model
    def _company(self, company):
        return {"id": company.id, "name": company.name, "vat": company.vat or None}

    @api.model
    def _partner(self, partner):
        partner = partner.commercial_partner_id.sudo()
        if not partner:
            return None
        return {
            "id": partner.id,
            "name": partner.name,
            "ref": partner.ref or None,
            "vat": partner.vat or None,
            "identifiers": [
                {
                    "scheme": ident.scheme,
                    "value": ident.value,
                    "source_system": ident.source_system or None,
                }
                for ident in partner.hc_identifier_ids
                if ident.valid
            ],
        }

    @api.model
    def _product(self, product):
        return {
            "id": product.id,
            "default_code": product.default_code or None,
            "gtin": product.barcode or None,
            "name": product.name,
            "critical": bool(product.hc_critical),
        }

    @api.model
    def _order_header(self, order):
        currency = order.currency_id
        return {
            "number": order.name,
            "source_ref": order.hc_source_ref or None,
            "partner_ref": order.partner_ref or None,
            "state": order.state,
            "date_order": _iso(order.date_order),
            "date_approve": _iso(order.date_approve),
            "date_planned": _iso(order.date_planned),
            "currency": currency.name,
            "amount_untaxed": _amount(order.amount_untaxed, currency),
            "amount_tax": _amount(order.amount_tax, currency),
            "amount_total": _amount(order.amount_total, currency),
            "vendor": self._partner(order.partner_id),
            "ship_to": {
                "warehouse": order.picking_type_id.warehouse_id.code or None,
                "name": order.picking_type_id.warehouse_id.name or None,
            },
            "buyer": order.user_id.name or None,
        }

    # -- event types -------------------------------------------------------------------

    @api.model
    def _po_released(self, order):
        """``po.released``: a confirmed purchase order, for the supplier's system."""
        order = order.sudo()
        currency = order.currency_id
        data = self._order_header(order)
        data["lines"] = [
            {
                "line_ref": line.hc_line_ref or str(line.id),
                "product": self._product(line.product_id),
                "description": line.name,
                "quantity": _qty(line.product_qty),
                "uom": line.product_uom_id.name,
                "unit_price": _amount(line.price_unit, currency),
                "subtotal": _amount(line.price_subtotal, currency),
                "date_planned": _iso(line.date_planned),
            }
            for line in order.order_line
            if not line.display_type
        ]
        return {"order": data}

    @api.model
    def _po_ack_requested(self, order):
        """``po.ack_requested``: the supplier is asked to acknowledge (X12 855 or JSON)."""
        order = order.sudo()
        return {
            "order": self._order_header(order),
            "acknowledgment": {
                "state": order.hc_ack_state,
                "respond_to": "/api/hc/v1/po-acks",
            },
        }

    @api.model
    def _exception(self, exc):
        return {
            "id": exc.id,
            "type": exc.exception_type,
            "name": exc.name,
            "severity": exc.severity,
            "state": exc.state,
            "amount": _amount(exc.amount, exc.currency_id) if exc.amount else None,
            "currency": exc.currency_id.name or None,
            "description": exc.description or None,
            "hint": exc.hint or None,
            "queue": exc.queue_id.name or None,
            "owner": exc.owner_id.name or None,
            "due": _iso(exc.date_deadline),
        }

    @api.model
    def _bill(self, bill):
        currency = bill.currency_id
        return {
            "id": bill.id,
            "number": bill.name if bill.name and bill.name != "/" else None,
            "vendor_ref": bill.ref or None,
            "move_type": bill.move_type,
            "invoice_date": _iso(bill.invoice_date),
            "due_date": _iso(bill.invoice_date_due),
            "currency": currency.name,
            "amount_total": _amount(bill.amount_total, currency),
            "amount_residual": _amount(bill.amount_residual, currency),
            "vendor": self._partner(bill.partner_id),
            "purchase_orders": sorted(
                set(bill.invoice_line_ids.purchase_line_id.order_id.mapped("name"))
            ),
            "match_state": bill.hc_match_state or None,
        }

    @api.model
    def _invoice_exception(self, exc):
        """``invoice.exception``: a bill (or invoice) needs a person's decision."""
        exc = exc.sudo()
        return {
            "exception": self._exception(exc),
            "bill": self._bill(exc.move_id) if exc.move_id else None,
            "purchase_order": exc.purchase_id.name or None,
            "vendor": self._partner(exc.partner_id) if exc.partner_id else None,
        }

    @api.model
    def _payment_hold(self, bill):
        """``payment.hold``: the three-way match blocked this bill from payment."""
        bill = bill.sudo()
        exceptions = (
            self.env["hc.exception"]
            .sudo()
            .search(
                [
                    ("move_id", "=", bill.id),
                    ("state", "not in", ("resolved", "cancelled")),
                ]
            )
        )
        return {
            "bill": self._bill(bill),
            "hold": {
                "reason": "three_way_match",
                "explanation": bill.hc_match_explanation or None,
                "open_exceptions": [self._exception(exc) for exc in exceptions],
            },
        }

    @api.model
    def _stock_replenishment(self, signal):
        """``stock.replenishment``: a critical item is below its reorder minimum."""
        signal = signal.sudo()
        return {
            "signal": {"id": signal.id, "state": signal.state},
            "product": self._product(signal.product_id),
            "warehouse": {"code": signal.warehouse_id.code, "name": signal.warehouse_id.name},
            "uom": signal.product_id.uom_id.name,
            "qty_on_hand": _qty(signal.qty_on_hand),
            "qty_free": _qty(signal.qty_free),
            "qty_minimum": _qty(signal.qty_minimum),
            "qty_maximum": _qty(signal.orderpoint_id.product_max_qty)
            if signal.orderpoint_id
            else None,
            "receipt": signal.picking_id.name or None,
        }
