# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""cXML reader: OrderRequest, ShipNoticeRequest and InvoiceDetailRequest.

================================  ====================
cXML request                      canonical doc_type
================================  ====================
OrderRequest                      ``purchase_order``
ShipNoticeRequest                 ``ship_notice``
InvoiceDetailRequest              ``invoice``
================================  ====================

cXML names parties by ``Credential`` (``domain`` + ``Identity``) in the envelope header:
the sender of an invoice or ship notice (``From``) is the supplier, the recipient of an
order (``To``) is the supplier.  ``DUNS``/``GLN`` domains become those schemes; network
and platform ids (``NetworkId``, ``AribaNetworkUserId``, a procurement suite's own
domain) become ``SOURCE`` ids, which the crosswalk scopes by connector.

Invoices may be backed by several purchase orders (one ``InvoiceDetailOrder`` per PO) and
carry taxes per line; credit memos carry negative amounts in cXML and are turned into
positive amounts with ``move_type="credit_note"``, the canonical convention.  Every cXML
document starts with an external DOCTYPE, tolerated by :func:`~.safe_xml.parse_xml`
for the ``cXML`` root only and never loaded.
"""

import re
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal
from decimal import InvalidOperation

from ..canonical import SCHEME_BUYER_ASSIGNED
from ..canonical import SCHEME_DUNS
from ..canonical import SCHEME_GLN
from ..canonical import SCHEME_SOURCE
from ..canonical import SCHEME_VAT
from ..canonical import Address
from ..canonical import AllowanceCharge
from ..canonical import Identifier
from ..canonical import Invoice
from ..canonical import InvoiceLine
from ..canonical import ItemRef
from ..canonical import Party
from ..canonical import PurchaseOrder
from ..canonical import PurchaseOrderLine
from ..canonical import ShipNotice
from ..canonical import ShipNoticeLine
from ..canonical import TaxLine
from ..normalize.identifiers import normalize_duns
from ..normalize.identifiers import normalize_gln
from ..normalize.identifiers import normalize_gtin
from ..normalize.uom import normalize_uom
from .errors import DataQualityIssue
from .errors import ParseError
from .parsed import ParsedDocument
from .safe_xml import DEFAULT_MAX_BYTES
from .safe_xml import parse_xml

FORMAT = "cxml"
_DOMAIN_SCHEMES = {"DUNS": SCHEME_DUNS, "GLN": SCHEME_GLN, "VAT": SCHEME_VAT, "VATID": SCHEME_VAT}
_ORDER_PURPOSES = {"new": "original", "update": "change", "delete": "cancel"}
_CREDIT_PURPOSES = ("creditMemo", "lineLevelCreditMemo")
_UOM_RE = re.compile(r"^[A-Z0-9]{1,3}$")
_GTIN_NAMES = ("GTIN", "EAN", "EANID", "UPC", "EAN-13", "EAN13")


class _Context:
    """Collects data-quality issues while one document is read."""

    def __init__(self):
        self.issues = []
        self.currency = None

    def issue(self, code, message, path=None):
        self.issues.append(DataQualityIssue(code=code, message=message, path=path))


# --------------------------------------------------------------------------- readers


def _text(element, path=None):
    node = element if path is None or element is None else element.find(path)
    if node is None:
        return None
    value = " ".join("".join(node.itertext()).split())
    return value or None


def _attr(element, name):
    if element is None:
        return None
    value = (element.get(name) or "").strip()
    return value or None


def _number(raw, what, where):
    if raw is None or not str(raw).strip():
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise ParseError("cxml_value", f"{what} {raw!r} is not a number", where) from None
    if not value.is_finite():
        raise ParseError("cxml_value", f"{what} {raw!r} is not a finite number", where)
    return value


def _money(ctx, element, path, where):
    """Amount of ``<path>/Money``; None when absent or empty (``<Money currency="USD"/>``)."""
    node = element.find(f"{path}/Money" if path else "Money") if element is not None else None
    if node is None:
        return None
    amount = _number(_text(node), f"{path or 'Money'}", where)
    currency = _attr(node, "currency")
    if amount is not None and currency:
        if ctx.currency is None:
            ctx.currency = currency.upper()
        elif currency.upper() != ctx.currency:
            ctx.issue("currency_mixed", f"{path} in {currency}, document in {ctx.currency}", where)
    return amount


def _date(raw, what, where, required=False):
    if not raw:
        if required:
            raise ParseError("cxml_required", f"{what} is missing", where)
        return None
    try:
        # cXML dates are ISO 8601 date-times with an offset; the sender's local calendar
        # date is the business date (an invoice dated 23:30 -08:00 is not dated tomorrow).
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise ParseError("cxml_value", f"{what} {raw!r} is not an ISO 8601 date", where) from None


def _uom(ctx, element, where):
    code = _text(element, "UnitOfMeasure")
    if not code:
        ctx.issue("uom_missing", "no UnitOfMeasure, EA assumed", where)
        return "EA"
    info = normalize_uom(code)
    if info.known:
        return info.code
    ctx.issue("uom_unknown", f"unit code {code!r} is not mapped", where)
    return code.upper() if _UOM_RE.match(code.upper()) else "EA"


# --------------------------------------------------------------------------- parties


def _identifier(ctx, domain, value, where):
    scheme = _DOMAIN_SCHEMES.get((domain or "").strip().upper(), SCHEME_SOURCE)
    value = value.strip()
    if scheme == SCHEME_GLN:
        result = normalize_gln(value)
        if not result.valid:
            ctx.issue("gln_invalid", result.message, where)
    elif scheme == SCHEME_DUNS:
        result = normalize_duns(value)
        if not result.valid:
            # Test systems put placeholders in DUNS credentials: keep it, as a source id.
            ctx.issue("duns_invalid", f"{result.message}; kept as a source id", where)
            scheme = SCHEME_SOURCE
        else:
            value = result.value
    return Identifier(scheme=scheme, value=value[:128])


def _credential_party(ctx, header, role):
    """Party named by the ``Header/<role>/Credential`` elements (From, To)."""
    identifiers = []
    for index, credential in enumerate(
        header.findall(f"{role}/Credential") if header is not None else []
    ):
        identity = _text(credential, "Identity")
        if identity:
            ident = _identifier(
                ctx, _attr(credential, "domain"), identity, f"Header/{role}/Credential[{index}]"
            )
            if ident not in identifiers:
                identifiers.append(ident)
    return identifiers


def _address_party(ctx, address, where, extra_identifiers=()):
    """Party from a cXML ``Address`` (ShipTo/BillTo/Contact)."""
    if address is None:
        return None
    identifiers = list(extra_identifiers)
    address_id = _attr(address, "addressID")
    if address_id:
        domain = _attr(address, "addressIDDomain")
        scheme_ident = _identifier(ctx, domain, address_id, where) if domain else None
        identifiers.append(
            scheme_ident or Identifier(scheme=SCHEME_BUYER_ASSIGNED, value=address_id[:128])
        )
    postal = address.find("PostalAddress")
    street_lines = [_text(s) for s in postal.findall("Street")] if postal is not None else []
    street_lines = [s for s in street_lines if s]
    country = postal.find("Country") if postal is not None else None
    postal_values = {
        "street": street_lines[0] if street_lines else None,
        "street2": ", ".join(street_lines[1:]) or None,
        "city": _text(postal, "City") if postal is not None else None,
        "state": _text(postal, "State") if postal is not None else None,
        "zip": _text(postal, "PostalCode") if postal is not None else None,
        "country_code": (_attr(country, "isoCountryCode") or "").upper() or None,
    }
    name = _text(address, "Name")
    email = _text(address, "Email")
    if not identifiers and not name:
        return None
    return Party(
        identifiers=identifiers,
        name=name,
        address=Address(**postal_values) if any(postal_values.values()) else None,
        email=email,
    )


def _contact_party(ctx, contact, where):
    if contact is None:
        return None
    identifiers = []
    for ref in contact.findall("IdReference"):
        if _attr(ref, "identifier"):
            identifiers.append(
                _identifier(ctx, _attr(ref, "domain"), _attr(ref, "identifier"), where)
            )
    # Contact has the same shape as Address (Name, PostalAddress, Email).
    party = _address_party(ctx, contact, where, identifiers)
    if party is not None and _attr(contact, "addressID") is None:
        return party
    return party


def _merge(base_identifiers, party):
    """Party carrying the credentials plus what a contact block adds (name, address)."""
    identifiers = list(base_identifiers)
    if party is not None:
        identifiers += [i for i in party.identifiers if i not in identifiers]
        return Party(
            identifiers=identifiers, name=party.name, address=party.address, email=party.email
        )
    return Party(identifiers=identifiers) if identifiers else None


# --------------------------------------------------------------------------- items


def _item(ctx, item_id, detail, where, description=None):
    """ItemRef from ``ItemID`` and an item detail block."""
    gtin = None
    candidates = []
    if detail is not None:
        candidates += [_text(detail, "ItemDetailIndustry/ItemDetailRetail/EANID")]
        candidates += [
            _text(e)
            for e in detail.findall("Extrinsic")
            if (_attr(e, "name") or "").upper() in _GTIN_NAMES
        ]
    if item_id is not None:
        candidates += [
            _attr(ref, "identifier")
            for ref in item_id.findall("IdReference")
            if (_attr(ref, "domain") or "").upper() in _GTIN_NAMES
        ]
    for value in filter(None, candidates):
        result = normalize_gtin(value)
        if result.value.isdigit() and len(value.strip()) in (8, 12, 13, 14):
            gtin = result.value
            if not result.valid:
                ctx.issue("gtin_check_digit", result.message, where)
        else:
            ctx.issue("gtin_invalid", result.message, where)
        break
    desc = description or (_text(detail, "Description") if detail is not None else None)
    other_ids = {}
    for ref in item_id.findall("IdReference") if item_id is not None else []:
        domain = (_attr(ref, "domain") or "").upper()
        if domain in ("NDC", "HIBC") and _attr(ref, "identifier"):
            other_ids.setdefault(domain.lower(), _attr(ref, "identifier"))
    ref = ItemRef(
        **other_ids,
        gtin=gtin,
        vendor_part_number=_text(item_id, "SupplierPartID") if item_id is not None else None,
        buyer_part_number=_text(item_id, "BuyerPartID") if item_id is not None else None,
        manufacturer_part_number=_text(detail, "ManufacturerPartID")
        if detail is not None
        else None,
        description=desc[:1024] if desc else None,
    )
    if not (
        ref.gtin
        or ref.vendor_part_number
        or ref.buyer_part_number
        or ref.manufacturer_part_number
        or ref.description
    ):
        raise ParseError("cxml_required", "item has neither identifier nor description", where)
    return ref


_EXEMPT_DETAILS = {"zerorated": "Z", "exempt": "E"}


def _taxes(ctx, tax, where):
    """TaxLines from a cXML ``Tax`` block: one per TaxDetail, or the bare total.

    A TaxDetail may state only its rate (``percentageRate``) without an amount; the
    ``exemptDetail`` attribute (``zeroRated``/``exempt``) gives the UNCL5305 category.
    """
    if tax is None:
        return []
    total = _money(ctx, tax, "", where)
    details = tax.findall("TaxDetail")
    lines = []
    for detail in details:
        amount = _money(ctx, detail, "TaxAmount", where)
        if amount is None and len(details) == 1:
            amount = total
        rate = _number(_attr(detail, "percentageRate"), "percentageRate", where)
        if amount is None and rate is None:
            continue
        kind = _attr(detail, "category") or "tax"
        exempt = _EXEMPT_DETAILS.get((_attr(detail, "exemptDetail") or "").lower())
        description = _text(detail, "Description")
        lines.append(
            TaxLine(
                # cXML "category" is the kind of tax (sales, vat, gst...), not a UNCL5305 code.
                tax_type=kind.upper()[:32],
                category=exempt,
                rate=abs(rate) if rate is not None else None,
                taxable_amount=_money(ctx, detail, "TaxableAmount", where),
                amount=amount,
                exemption_reason=description[:256] if exempt and description else None,
            )
        )
    if not lines and total is not None:
        lines.append(TaxLine(tax_type="TAX", amount=total))
    return lines


def _discount(ctx, element, base, where):
    """Allowance from an ``InvoiceDetailDiscount`` (Money, or percentageRate of ``base``)."""
    node = element.find("InvoiceDetailDiscount") if element is not None else None
    if node is None:
        return None
    amount = _money(ctx, node, "", where)
    rate = _number(_attr(node, "percentageRate"), "percentageRate", where)
    if amount is None and rate is not None and base is not None:
        amount = (abs(base) * abs(rate) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        ctx.issue("discount_from_rate", f"discount {rate}% of {abs(base)} = {amount}", where)
    if not amount:
        return None
    reason = f"discount {abs(rate).normalize():f}%" if rate is not None else "discount"
    return AllowanceCharge(is_charge=False, amount=abs(amount), reason=reason)


def _charges(ctx, element, where):
    """Shipping and special handling amounts of an item or the summary, as charges."""
    charges = []
    for amount_tag, reason in (
        ("ShippingAmount", "shipping"),
        ("SpecialHandlingAmount", "special handling"),
    ):
        amount = _money(ctx, element, amount_tag, where)
        if amount:
            charges.append(AllowanceCharge(is_charge=True, amount=abs(amount), reason=reason))
    return charges


# --------------------------------------------------------------------------- documents


def _order_request(ctx, request, header):
    head = request.find("OrderRequestHeader")
    if head is None:
        raise ParseError("cxml_required", "OrderRequestHeader is missing", "OrderRequest")
    number = _attr(head, "orderID")
    if not number:
        raise ParseError("cxml_required", "orderID is missing", "OrderRequestHeader")
    order_type = _attr(head, "type") or "new"
    lines = []
    for index, item in enumerate(request.findall("ItemOut")):
        where = f"ItemOut[{index}]"
        detail = item.find("ItemDetail")
        lines.append(
            PurchaseOrderLine(
                line_number=_attr(item, "lineNumber") or str(index + 1),
                item=_item(ctx, item.find("ItemID"), detail, where),
                quantity=_number(_attr(item, "quantity"), "quantity", where)
                or _missing("quantity", where),
                uom=_uom(ctx, detail, where),
                unit_price=_money(ctx, detail, "UnitPrice", where) if detail is not None else None,
                requested_date=_date(
                    _attr(item, "requestedDeliveryDate"), "requestedDeliveryDate", where
                ),
                contract_reference=_attr(item.find("MasterAgreementIDInfo"), "agreementID"),
            )
        )
    if not lines:
        raise ParseError("cxml_required", "OrderRequest has no ItemOut", "OrderRequest")
    total = _money(ctx, head, "Total", "OrderRequestHeader")
    vendor = _merge(_credential_party(ctx, header, "To"), None)
    if vendor is None:
        raise ParseError("cxml_required", "Header/To names no supplier", "Header")
    terms = head.find("PaymentTerm")
    return PurchaseOrder(
        number=number,
        order_date=_date(
            _attr(head, "orderDate"), "orderDate", "OrderRequestHeader", required=True
        ),
        purpose=_ORDER_PURPOSES.get(order_type, "original"),
        currency=ctx.currency,
        vendor=vendor,
        buyer=_merge(_credential_party(ctx, header, "From"), None),
        ship_to=_address_party(ctx, head.find("ShipTo/Address"), "ShipTo"),
        bill_to=_address_party(ctx, head.find("BillTo/Address"), "BillTo"),
        contract_reference=_attr(head.find("MasterAgreementIDInfo"), "agreementID")
        or _attr(head, "agreementID"),
        payment_terms=_terms(terms),
        total_amount=total,
        lines=lines,
        revision=_revision(head, order_type),
        note=_text(head, "Comments"),
    )


def _revision(head, order_type):
    """``orderVersion`` of an update or delete, when it is a whole number (else None)."""
    version = _attr(head, "orderVersion")
    if order_type == "new" or not version or not re.fullmatch(r"\d{1,8}", version):
        return None
    return version


def _missing(what, where):
    raise ParseError("cxml_required", f"{what} is missing", where)


def _terms(term):
    days = _attr(term, "payInNumberOfDays")
    return f"{days} days" if days else None


def _ship_notice_request(ctx, request, header):
    head = request.find("ShipNoticeHeader")
    if head is None:
        raise ParseError("cxml_required", "ShipNoticeHeader is missing", "ShipNoticeRequest")
    asn = _attr(head, "shipmentID")
    if not asn:
        raise ParseError("cxml_required", "shipmentID is missing", "ShipNoticeHeader")
    ship_date = _date(_attr(head, "shipmentDate"), "shipmentDate", "ShipNoticeHeader") or _date(
        _attr(head, "noticeDate"), "noticeDate", "ShipNoticeHeader", required=True
    )
    po_numbers = []
    lines = []
    for p_index, portion in enumerate(request.findall("ShipNoticePortion")):
        reference = portion.find("OrderReference")
        po = _attr(reference, "orderID") or _attr(portion.find("OrderIDInfo"), "orderID")
        if po and po not in po_numbers:
            po_numbers.append(po)
        for index, item in enumerate(portion.findall("ShipNoticeItem")):
            where = f"ShipNoticePortion[{p_index}]/ShipNoticeItem[{index}]"
            detail = item.find("ShipNoticeItemDetail")
            batch = item.find("Batch")
            lot = (
                _text(batch, "SupplierBatchID")
                or _text(batch, "BuyerBatchID")
                or _text(item, "SupplierBatchID")
            )
            expiry = _date(_attr(batch, "expirationDate"), "expirationDate", where)
            serials = [
                _text(s)
                for s in item.findall("SerialNumberInfo/SerialNumber")
                + item.findall("SerialNumber")
            ]
            serials += [_attr(a, "serialNumber") for a in item.findall("AssetInfo")]
            serials = list(dict.fromkeys(s for s in serials if s))
            if lot and len(lot) > 20:
                ctx.issue("lot_too_long", "lot number longer than 20 characters truncated", where)
            lines.append(
                ShipNoticeLine(
                    line_number=_attr(item, "shipNoticeLineNumber") or str(len(lines) + 1),
                    po_number=po,
                    po_line_ref=_attr(item, "lineNumber"),
                    item=_item(ctx, item.find("ItemID"), detail, where),
                    quantity=_number(_attr(item, "quantity"), "quantity", where) or Decimal(0),
                    uom=_uom(ctx, item, where),
                    lot=lot[:20] if lot else None,
                    expiry_date=expiry,
                    serials=serials,
                )
            )
    if not po_numbers:
        raise ParseError(
            "cxml_required",
            "no OrderReference orderID: the shipment cannot be tied to a PO",
            "ShipNoticeRequest",
        )
    if not lines:
        # cXML allows a notice without items ("everything shipped"); the canonical ship
        # notice needs lines, so the processor must resolve it against the PO.
        ctx.issue(
            "asn_without_items",
            "ship notice lists no items (whole order shipped?)",
            "ShipNoticeRequest",
        )
    control = request.find("ShipControl")
    carriers = (
        {(_attr(c, "domain") or "").lower(): _text(c) for c in control.findall("CarrierIdentifier")}
        if control is not None
        else {}
    )
    contacts = {(_attr(c, "role") or ""): c for c in head.findall("Contact")}
    return ShipNotice(
        asn_number=asn,
        po_number=po_numbers[0],
        ship_date=ship_date,
        expected_delivery_date=_date(
            _attr(head, "deliveryDate"), "deliveryDate", "ShipNoticeHeader"
        ),
        vendor=_merge(_credential_party(ctx, header, "From"), None),
        ship_from=_contact_party(ctx, contacts.get("shipFrom"), "ShipNoticeHeader/Contact"),
        ship_to=_contact_party(ctx, contacts.get("shipTo"), "ShipNoticeHeader/Contact"),
        carrier=carriers.get("companyname")
        or carriers.get("scac")
        or next(iter(carriers.values()), None),
        tracking_number=_text(control, "ShipmentIdentifier") if control is not None else None,
        lines=lines,
    )


def _invoice_items(ctx, container, po_number, sign, where_prefix):
    lines = []
    for tag, ref_tag in (("InvoiceDetailItem", "InvoiceDetailItemReference"),
                         ("InvoiceDetailServiceItem", "InvoiceDetailServiceItemReference")):  # fmt: skip
        for index, item in enumerate(container.findall(tag)):
            where = f"{where_prefix}/{tag}[{index}]"
            reference = item.find(ref_tag)
            quantity = _number(_attr(item, "quantity"), "quantity", where)
            if quantity is None:
                # Service lines may be billed by amount only.
                quantity = Decimal(1)
            unit_price = _money(ctx, item, "UnitPrice", where)
            subtotal = _money(ctx, item, "SubtotalAmount", where)
            if unit_price is None:
                if subtotal is None:
                    raise ParseError(
                        "cxml_required", "UnitPrice and SubtotalAmount are missing", where
                    )
                unit_price = subtotal / quantity if quantity else subtotal
            charges = _charges(ctx, item, where)
            # A line discount is on the line's gross amount (quantity x unit price).
            discount = _discount(ctx, item, quantity * unit_price, where)
            if discount:
                charges.append(discount)
            description = _text(reference, "Description") if reference is not None else None
            lines.append(
                InvoiceLine(
                    line_number=_attr(item, "invoiceLineNumber") or str(index + 1),
                    po_number=po_number,
                    po_line_ref=_attr(reference, "lineNumber"),
                    item=_item(
                        ctx,
                        reference.find("ItemID") if reference is not None else None,
                        reference,
                        where,
                        description,
                    ),
                    quantity=abs(quantity) if sign < 0 else quantity,
                    uom=_uom(ctx, item, where),
                    unit_price=abs(unit_price),
                    allowance_charges=charges,
                    # The item's SubtotalAmount is quantity x price; the canonical line
                    # amount also carries the line's shipping, handling and discount.
                    line_total=(abs(subtotal) if sign < 0 else subtotal) + _net(charges)
                    if subtotal is not None
                    else None,
                    taxes=[_abs_tax(t, sign) for t in _taxes(ctx, item.find("Tax"), where)],
                )
            )
    return lines


def _net(charges):
    """Charges minus allowances."""
    return sum((ac.amount if ac.is_charge else -ac.amount for ac in charges), Decimal(0))


def _without_line_summary(ctx, header_charges, lines, where):
    """Drop (or reduce) summary amounts that total the same amounts stated on the lines.

    With line-level shipping, handling or discounts, cXML's InvoiceDetailSummary repeats
    their total (``isShippingInLine``...): adding both would count them twice.
    """
    kept = []
    for ac in header_charges:
        on_lines = sum(
            (
                c.amount
                for ln in lines
                for c in ln.allowance_charges
                if c.is_charge == ac.is_charge and c.reason.split()[0] == ac.reason.split()[0]
            ),
            Decimal(0),
        )
        if not on_lines:
            kept.append(ac)
            continue
        rest = ac.amount - on_lines
        ctx.issue(
            "summary_of_lines",
            f"summary {ac.reason} {ac.amount} includes the lines' {on_lines}: "
            + (f"{rest} kept at document level" if rest > 0 else "not added again"),
            where,
        )
        if rest > 0:
            kept.append(AllowanceCharge(is_charge=ac.is_charge, amount=rest, reason=ac.reason))
    return kept


def _abs_tax(tax, sign):
    if sign > 0:
        return tax
    return TaxLine(
        tax_type=tax.tax_type,
        category=tax.category,
        rate=tax.rate,
        taxable_amount=abs(tax.taxable_amount) if tax.taxable_amount is not None else None,
        amount=abs(tax.amount) if tax.amount is not None else None,
        exemption_reason=tax.exemption_reason,
    )


def _order_number(ctx, order, where):
    info = order.find("InvoiceDetailOrderInfo")
    for path in (
        "OrderReference",
        "OrderIDInfo",
        "MasterAgreementReference",
        "MasterAgreementIDInfo",
    ):
        node = info.find(path) if info is not None else None
        number = _attr(node, "orderID") or _attr(node, "agreementID")
        if number:
            return number
    # Coupa-style invoices only name the order by the payloadID of its OrderRequest.
    reference = info.find("OrderReference/DocumentReference") if info is not None else None
    payload_id = _attr(reference, "payloadID")
    if payload_id:
        ctx.issue("po_from_payload_id", f"order named only by payloadID {payload_id}", where)
        return payload_id[:64]
    ctx.issue("po_missing", "invoiced order has no order number", where)
    return None


def _invoice_request(ctx, request, header):
    head = request.find("InvoiceDetailRequestHeader")
    if head is None:
        raise ParseError(
            "cxml_required", "InvoiceDetailRequestHeader is missing", "InvoiceDetailRequest"
        )
    number = _attr(head, "invoiceID")
    if not number:
        raise ParseError("cxml_required", "invoiceID is missing", "InvoiceDetailRequestHeader")
    if (_attr(head, "operation") or "new") == "delete":
        raise ParseError(
            "cxml_unsupported",
            f"invoice {number}: operation='delete' (cancellation) is not supported",
        )
    purpose = _attr(head, "purpose") or "standard"
    credit = purpose in _CREDIT_PURPOSES
    sign = -1 if credit else 1
    lines, po_numbers = [], []
    for index, order in enumerate(request.findall("InvoiceDetailOrder")):
        where = f"InvoiceDetailOrder[{index}]"
        po = _order_number(ctx, order, where)
        if po and po not in po_numbers:
            po_numbers.append(po)
        lines += _invoice_items(ctx, order, po, sign, where)
    if not lines:
        raise ParseError(
            "cxml_required", "invoice has no InvoiceDetailItem", "InvoiceDetailRequest"
        )
    summary = request.find("InvoiceDetailSummary")
    if summary is None:
        raise ParseError("cxml_required", "InvoiceDetailSummary is missing", "InvoiceDetailRequest")
    w = "InvoiceDetailSummary"
    subtotal = _money(ctx, summary, "SubtotalAmount", w)
    tax = summary.find("Tax")
    tax_total = _money(ctx, tax, "", w) if tax is not None else None
    header_charges = _charges(ctx, summary, w)
    line_adjustments = sum((_net(ln.allowance_charges) for ln in lines), Decimal(0))
    discount = _discount(ctx, summary, subtotal, w)
    if discount:
        header_charges.append(discount)
    gross = _money(ctx, summary, "GrossAmount", w)
    net_amount = _money(ctx, summary, "NetAmount", w)
    due = _money(ctx, summary, "DueAmount", w)
    deposit = _money(ctx, summary, "DepositAmount", w)
    if ctx.currency is None:
        raise ParseError("cxml_required", "no currency on any Money element", w)
    charge_total = sum((c.amount for c in header_charges if c.is_charge), Decimal(0))
    allowance_total = sum((c.amount for c in header_charges if not c.is_charge), Decimal(0))
    computed_gross = abs(subtotal or 0) + abs(tax_total or 0) + charge_total
    if gross is None:
        # GrossAmount is optional in cXML: subtotal + tax + shipping + special handling.
        gross = computed_gross
    elif abs(gross) != computed_gross:
        ctx.issue("total_mismatch", f"GrossAmount {gross}, parts add up to {computed_gross}", w)
    if net_amount is not None and abs(net_amount) != abs(gross) - allowance_total:
        ctx.issue(
            "total_mismatch", f"NetAmount {net_amount}, expected {abs(gross) - allowance_total}", w
        )
    line_sum = (
        sum((ln.line_total for ln in lines if ln.line_total is not None), Decimal(0))
        - line_adjustments
    )
    if subtotal is not None and line_sum != abs(subtotal):
        ctx.issue(
            "total_mismatch", f"items add up to {line_sum}, SubtotalAmount says {subtotal}", w
        )
    # cXML GrossAmount is before the invoice discount, NetAmount after it: the canonical
    # total including tax is the net amount, and DueAmount what remains after deposits.
    # A NetAmount that contradicts the parts (reported above; often an empty placeholder)
    # does not replace them.
    total_with_tax = abs(gross) - allowance_total
    header_charges = _without_line_summary(ctx, header_charges, lines, w)
    charge_total = sum((c.amount for c in header_charges if c.is_charge), Decimal(0))
    allowance_total = sum((c.amount for c in header_charges if not c.is_charge), Decimal(0))
    partners = {}
    for partner in head.findall("InvoicePartner"):
        contact = partner.find("Contact")
        role = _attr(contact, "role")
        if role:
            partners[role] = _contact_party(ctx, contact, f"InvoicePartner[{role}]")
    vendor_contact = (
        partners.get("from") or partners.get("supplierCorporate") or partners.get("issuerOfInvoice")
    )
    vendor = _merge(_credential_party(ctx, header, "From"), vendor_contact)
    if vendor is None:
        raise ParseError("cxml_required", "Header/From names no supplier", "Header")
    original = None
    if credit:
        original = _attr(
            head.find("InvoiceDetailOrderInfo/InvoiceReference"), "invoiceID"
        ) or _attr(head.find("InvoiceIDInfo"), "invoiceID")
    return Invoice(
        number=number,
        move_type="credit_note" if credit else "invoice",
        issue_date=_date(
            _attr(head, "invoiceDate"), "invoiceDate", "InvoiceDetailRequestHeader", required=True
        ),
        currency=ctx.currency,
        vendor=vendor,
        buyer=_merge(
            _credential_party(ctx, header, "To"), partners.get("soldTo") or partners.get("billTo")
        ),
        ship_to=partners.get("shipTo"),
        remit_to=partners.get("remitTo"),
        po_numbers=po_numbers,
        original_invoice_number=original,
        payment_terms=_terms(head.find("PaymentTerm")),
        lines=lines,
        allowance_charges=header_charges,
        taxes=[_abs_tax(t, sign) for t in _taxes(ctx, tax, w)],
        net_total=abs(subtotal) + line_adjustments if subtotal is not None else None,
        allowance_total=allowance_total or None,
        charge_total=charge_total or None,
        tax_total=abs(tax_total) if tax_total is not None else None,
        gross_total=total_with_tax,
        prepaid_amount=abs(deposit) if deposit else None,
        payable_amount=abs(due) if due is not None else None,
    )


_READERS = {
    "OrderRequest": _order_request,
    "ShipNoticeRequest": _ship_notice_request,
    "InvoiceDetailRequest": _invoice_request,
}

# The canonical document type each supported request becomes.
REQUEST_DOC_TYPES = {
    "OrderRequest": "purchase_order",
    "ShipNoticeRequest": "ship_notice",
    "InvoiceDetailRequest": "invoice",
}


def _status(root):
    """``"with Status <code> <text>"`` of a cXML Response, for messages."""
    status = root.find("Response/Status")
    if status is None:
        return "without a Status"
    code = _attr(status, "code") or "?"
    text = _attr(status, "text") or ""
    return f"with Status {code} {text}".rstrip()


def screen(payload, doc_type, max_bytes=DEFAULT_MAX_BYTES):
    """Refuse a cXML envelope an endpoint for ``doc_type`` will never process, before it
    is stored: the sender hears it at once instead of the document dying in a worker.

    :raises ParseError: ``xml_*`` (unsafe or malformed XML); ``cxml_response`` for a
        Response (it answers a request of ours and asks for nothing); ``cxml_message``
        for a one-way Message (PunchOutOrderMessage...); ``cxml_request_not_supported``
        for a request this endpoint does not process (another endpoint's request, or a
        request no endpoint takes, like ConfirmationRequest); ``cxml_unsupported`` for
        an envelope holding none of these.
    """
    root = parse_xml(payload, max_bytes=max_bytes, allowed_doctypes=("cXML",))
    if root.tag != "cXML":
        raise ParseError("cxml_unsupported", f"root element {root.tag!r} is not cXML")
    request = root.find("Request")
    if request is None:
        if root.find("Response") is not None:
            raise ParseError(
                "cxml_response",
                f"this is a cXML Response ({_status(root)}), the answer to a request; it "
                "asks for nothing and is not processed: nothing was stored",
                "Response",
            )
        message = root.find("Message")
        if message is not None:
            kind = message[0].tag if len(message) else "Message"
            raise ParseError(
                "cxml_message", f"cXML one-way message {kind} is not processed here", "Message"
            )
        raise ParseError("cxml_unsupported", "the cXML envelope holds no Request", "cXML")
    body = next(iter(request), None)
    kind = body.tag if body is not None else "nothing"
    if REQUEST_DOC_TYPES.get(kind) != doc_type:
        expected = sorted(name for name, dt in REQUEST_DOC_TYPES.items() if dt == doc_type)
        raise ParseError(
            "cxml_request_not_supported",
            f"cXML {kind} is not processed by this endpoint; it takes "
            f"{', '.join(expected) or 'no cXML request'}",
            f"Request/{kind}",
        )


def parse(payload, max_bytes=DEFAULT_MAX_BYTES):
    """Parse one cXML envelope (bytes) into ``[ParsedDocument]``.

    :raises ParseError: ``xml_*`` from :func:`~.safe_xml.parse_xml`; ``cxml_unsupported``
        for other roots or requests (Message, Response, ConfirmationRequest...);
        ``cxml_required``/``cxml_value`` for missing or unreadable mandatory data.
    """
    root = parse_xml(payload, max_bytes=max_bytes, allowed_doctypes=("cXML",))
    if root.tag != "cXML":
        raise ParseError("cxml_unsupported", f"root element {root.tag!r} is not cXML")
    request = root.find("Request")
    body = next(iter(request), None) if request is not None else None
    reader = _READERS.get(body.tag) if body is not None else None
    if reader is None:
        found = body.tag if body is not None else (root[1].tag if len(root) > 1 else "nothing")
        raise ParseError("cxml_unsupported", f"cXML {found} is not a supported request")
    ctx = _Context()
    document = reader(ctx, body, root.find("Header"))
    return [ParsedDocument(document=document, issues=list(ctx.issues), source_format=FORMAT)]
