# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""UBL / Peppol BIS 3 outbound: Order, OrderChange, OrderCancellation, Invoice Response and
RemittanceAdvice.

=================  ====================================  ==========================
kind               document                              CustomizationID (trns)
=================  ====================================  ==========================
order              UBL 2.1 Order (T01)                   ``order:3``
order_change       UBL 2.3 OrderChange (T114)            ``order_change:3``
order_cancel       UBL 2.3 OrderCancellation (T115)      ``order_cancellation:3``
invoice_response   UBL 2.1 ApplicationResponse (T111)    ``invoice_response:3``
remittance         UBL 2.1 RemittanceAdvice              none (no Peppol transaction)
=================  ====================================  ==========================

Peppol names every party by an electronic address (``EndpointID`` with an EAS code): a
party goes out with its GLN (``0088``), else its DUNS (``0060``), else a Peppol participant
id of another scheme (an identifier whose scheme is the four-digit EAS code, as the
trading-partner profile gives it); a buyer or seller with none cannot be addressed and is
refused (:class:`UnsupportedOutbound`).  Amounts are
written with the currency's decimals (``currencyID`` on each), line amounts are quantity x
price rounded half-up, and the order total is the sum of the line amounts (an order whose
stated total disagrees is refused rather than sent with two totals).  The Order's
ProfileID is Peppol Ordering unless the envelope asks for Advanced Ordering (the profile
the changes and cancellations belong to).
"""

import re
from decimal import ROUND_HALF_UP
from decimal import Decimal

from lxml import etree

from ...canonical.documents import SCHEME_BUYER_ASSIGNED
from ...canonical.documents import SCHEME_DUNS
from ...canonical.documents import SCHEME_GLN
from ...canonical.documents import SCHEME_SELLER_ASSIGNED
from ...canonical.documents import currency_decimals
from . import RENDERERS
from . import Rendered
from . import UnsupportedOutbound

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_ROOT_NS = "urn:oasis:names:specification:ubl:schema:xsd:{}-2"
PEPPOL = "urn:fdc:peppol.eu:poacc:"
PROFILES = {
    "ordering": PEPPOL + "bis:ordering:3",
    "advanced_ordering": PEPPOL + "bis:advanced_ordering:3",
}
# canonical scheme -> Peppol EAS (electronic address scheme) / ICD code
EAS = ((SCHEME_GLN, "0088"), (SCHEME_DUNS, "0060"))
_EAS_CODE = re.compile(r"^\d{4}$")
# UNCL1229 action codes of an OrderChange line (Peppol T114)
LINE_STATUS = {"add": "1", "delete": "2", "change": "3", "unchanged": "4"}
# Canonical packaging units -> UN/ECE Rec 21 codes prefixed X (Rec 20 has no box, case...)
REC21_UNITS = {
    code: f"X{code}" for code in ("BX", "CS", "PK", "CT", "BG", "BO", "RO", "TU", "VI", "AM", "PF")
}


class _Doc:
    def __init__(self, root_name, currency=None):
        self.root = etree.Element(
            f"{{{_ROOT_NS.format(root_name)}}}{root_name}",
            nsmap={None: _ROOT_NS.format(root_name), "cac": CAC, "cbc": CBC},
        )
        self.currency = currency
        self.warnings = []

    def bytes(self):
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def cbc(parent, name, value, **attrs):
    if value is None or value == "":
        return None
    node = etree.SubElement(parent, f"{{{CBC}}}{name}", {k: v for k, v in attrs.items() if v})
    node.text = value if isinstance(value, str) else str(value)
    return node


def cac(parent, name):
    return etree.SubElement(parent, f"{{{CAC}}}{name}")


def decimal_text(value):
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def money(value, currency):
    """An amount with the currency's decimals (ROUND_HALF_UP)."""
    places = currency_decimals(currency)
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def unit_code(uom):
    """The UN/ECE Rec 20 code of a canonical unit (packaging units as Rec 21 ``X..``)."""
    return REC21_UNITS.get(uom, uom)


def _amount(parent, name, value, currency):
    return cbc(parent, name, money(value, currency), currencyID=currency)


def _eas(scheme):
    """The EAS code of a canonical scheme: GLN, DUNS, or a Peppol participant id's own
    four-digit scheme (``0192``, ``9930``...)."""
    return dict(EAS).get(scheme) or (scheme if _EAS_CODE.match(scheme or "") else None)


def _endpoint(party, what, required=True):
    for scheme, eas in EAS:
        value = party.identifier(scheme) if party else None
        if value:
            return eas, value
    for ident in party.identifiers if party else ():
        if _EAS_CODE.match(ident.scheme):
            return ident.scheme, ident.value
    if required:
        raise UnsupportedOutbound(
            f"{what} has no GLN, DUNS or Peppol participant id: Peppol cannot address it "
            "(EndpointID)"
        )
    return None, None


def _address(parent, tag, address):
    if not address:
        return
    node = cac(parent, tag)
    cbc(node, "StreetName", address.street)
    cbc(node, "AdditionalStreetName", address.street2)
    cbc(node, "CityName", address.city)
    cbc(node, "PostalZone", address.zip)
    cbc(node, "CountrySubentity", address.state)
    if address.country_code:
        cbc(cac(node, "Country"), "IdentificationCode", address.country_code)


def _party(doc, parent, role, party, what, *, endpoint=True):
    """``<role><cac:Party>`` with EndpointID, PartyIdentification, name, address, legal
    entity (the name: Peppol requires its registration name) and contact."""
    if not party.name:
        raise UnsupportedOutbound(f"{what} has no name (Peppol needs its registration name)")
    node = cac(cac(parent, role), "Party")
    eas, value = _endpoint(party, what, required=endpoint)
    if eas:
        cbc(node, "EndpointID", value, schemeID=eas)
    for ident in party.identifiers:
        scheme = _eas(ident.scheme)
        if scheme is None and ident.scheme not in (SCHEME_BUYER_ASSIGNED, SCHEME_SELLER_ASSIGNED):
            doc.warnings.append(f"{what}: identifier {ident.scheme} {ident.value} not sent")
            continue
        if scheme is None:
            doc.warnings.append(
                f"{what}: {ident.scheme} {ident.value} sent without a scheme (read back as "
                "a source id)"
            )
        cbc(cac(node, "PartyIdentification"), "ID", ident.value, schemeID=scheme)
    if party.name:
        cbc(cac(node, "PartyName"), "Name", party.name)
    _address(node, "PostalAddress", party.address)
    cbc(cac(node, "PartyLegalEntity"), "RegistrationName", party.name)
    if party.phone or party.email:
        contact = cac(node, "Contact")
        cbc(contact, "Telephone", party.phone)
        cbc(contact, "ElectronicMail", party.email)
    return node


def _check_order(order):
    if not order.lines:
        raise UnsupportedOutbound(f"purchase order {order.number} has no lines")
    if not order.currency:
        raise UnsupportedOutbound(f"purchase order {order.number} has no currency (UBL needs one)")


def _delivery(parent, ship_to, requested_date):
    if ship_to is None and requested_date is None:
        return
    delivery = cac(parent, "Delivery")
    if ship_to is not None and ship_to.address:
        # Peppol: a DeliveryLocation has its Address (PEPPOL-T01-B14901)
        location = cac(delivery, "DeliveryLocation")
        eas, value = _endpoint(ship_to, "ship-to", required=False)
        if eas:
            cbc(location, "ID", value, schemeID=eas)
        _address(location, "Address", ship_to.address)
    if requested_date is not None:
        cbc(cac(delivery, "RequestedDeliveryPeriod"), "StartDate", requested_date.isoformat())
    if ship_to is not None and ship_to.name:
        cbc(cac(cac(delivery, "DeliveryParty"), "PartyName"), "Name", ship_to.name)


def _line_amount(line, currency):
    if line.unit_price is None:
        return None
    places = currency_decimals(currency)
    return (line.quantity * line.unit_price).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )


def _item(doc, parent, item, where):
    node = cac(parent, "Item")
    name = item.description or item.vendor_part_number or item.buyer_part_number
    name = name or item.manufacturer_part_number or item.gtin or item.ndc or item.hibc
    cbc(node, "Name", name)
    if not item.description:
        doc.warnings.append(f"{where}: no description, the item is named {name!r}")
    if item.buyer_part_number:
        cbc(cac(node, "BuyersItemIdentification"), "ID", item.buyer_part_number)
    if item.vendor_part_number:
        cbc(cac(node, "SellersItemIdentification"), "ID", item.vendor_part_number)
    if item.gtin:
        cbc(cac(node, "StandardItemIdentification"), "ID", item.gtin, schemeID="0160")
    for attr, label in (
        ("manufacturer_part_number", "manufacturer part number"),
        ("ndc", "NDC"),
        ("hibc", "HIBC"),
    ):
        value = getattr(item, attr)
        if value:
            doc.warnings.append(f"{where}: {label} {value} not sent (not in the Peppol model)")


def _order_lines(doc, order, *, change=False):
    currency = order.currency
    total = Decimal(0)
    for line in order.lines:
        where = f"line {line.line_number}"
        item = cac(cac(doc.root, "OrderLine"), "LineItem")
        cbc(item, "ID", line.line_number)
        cbc(item, "Note", line.note)
        if change:
            code = line.change_code or ("delete" if order.purpose == "cancel" else "change")
            cbc(item, "LineStatusCode", LINE_STATUS[code])
        cbc(item, "Quantity", decimal_text(line.quantity), unitCode=unit_code(line.uom))
        amount = _line_amount(line, currency)
        if amount is not None:
            total += amount
            _amount(item, "LineExtensionAmount", amount, currency)
        if line.requested_date:
            period = cac(cac(item, "Delivery"), "RequestedDeliveryPeriod")
            cbc(period, "StartDate", line.requested_date.isoformat())
        if line.unit_price is not None:
            price = cac(item, "Price")
            cbc(price, "PriceAmount", decimal_text(line.unit_price), currencyID=currency)
        _item(doc, item, line.item, where)
        if line.contract_reference and line.contract_reference != order.contract_reference:
            doc.warnings.append(f"{where}: line contract {line.contract_reference} not sent")
    return total


def _order_header(doc, order, customization, profile):
    cbc(doc.root, "CustomizationID", PEPPOL + f"trns:{customization}:3")
    cbc(doc.root, "ProfileID", PROFILES[profile])
    cbc(doc.root, "ID", order.number if customization == "order" else _change_id(order))


def _change_id(order):
    return f"{order.number}-{order.purpose}-{order.revision or 1}"


def _monetary_total(doc, order, lines_total):
    if order.total_amount is not None and money(order.total_amount, order.currency) != money(
        lines_total, order.currency
    ):
        raise UnsupportedOutbound(
            f"purchase order {order.number} states a total of {order.total_amount}, its lines "
            f"make {lines_total}"
        )
    totals = cac(doc.root, "AnticipatedMonetaryTotal")
    _amount(totals, "LineExtensionAmount", lines_total, order.currency)
    _amount(totals, "PayableAmount", lines_total, order.currency)


def _moved_before(doc, tag, before):
    """Move the ``cac:AnticipatedMonetaryTotal`` in front of the first ``before`` child."""
    node = doc.root.find(f"{{{CAC}}}{tag}")
    first = doc.root.find(f"{{{CAC}}}{before}")
    if node is not None and first is not None:
        first.addprevious(node)


def _unpriced(order, what):
    if any(line.unit_price is None for line in order.lines):
        raise UnsupportedOutbound(
            f"purchase order {order.number}: every line needs a unit price in a Peppol {what}"
        )


def render_order(order, kind, envelope):
    _check_order(order)
    _unpriced(order, "Order")
    profile = getattr(envelope, "peppol_profile", None) or "ordering"
    if profile not in PROFILES:
        raise UnsupportedOutbound(f"Peppol profile {profile!r} is not one of {sorted(PROFILES)}")
    doc = _Doc("Order", order.currency)
    _order_header(doc, order, "order", profile)
    cbc(doc.root, "IssueDate", order.order_date.isoformat())
    cbc(doc.root, "Note", order.note)
    cbc(doc.root, "DocumentCurrencyCode", order.currency)
    if order.contract_reference:
        cbc(cac(doc.root, "Contract"), "ID", order.contract_reference)
    _common_parties(doc, order)
    if order.payment_terms:
        cbc(cac(doc.root, "PaymentTerms"), "Note", order.payment_terms)
    lines_total = _order_lines(doc, order)
    _monetary_total(doc, order, lines_total)
    _moved_before(doc, "AnticipatedMonetaryTotal", "OrderLine")
    return _rendered(doc, kind, order.number, "Peppol Order (T01)")


def _common_parties(doc, order):
    _party(doc, doc.root, "BuyerCustomerParty", order.buyer or _missing(order, "buyer"), "buyer")
    if not order.vendor.address:
        raise UnsupportedOutbound(
            f"vendor {order.vendor.name or ''} has no postal address: a Peppol order needs "
            "the seller's (PEPPOL-T01-B07202)"
        )
    _party(doc, doc.root, "SellerSupplierParty", order.vendor, "vendor")
    if order.bill_to is not None and order.bill_to.address and order.bill_to.name:
        _party(doc, doc.root, "AccountingCustomerParty", order.bill_to, "bill-to", endpoint=False)
    elif order.bill_to is not None:
        doc.warnings.append("bill-to without a name and address (Peppol needs both): not sent")
    _delivery(doc.root, order.ship_to, order.requested_date)


def _missing(order, what):
    raise UnsupportedOutbound(f"purchase order {order.number} has no {what}")


def render_order_change(order, kind, envelope):
    _check_order(order)
    _unpriced(order, "OrderChange")
    doc = _Doc("OrderChange", order.currency)
    _order_header(doc, order, "order_change", "advanced_ordering")
    cbc(doc.root, "IssueDate", (order.change_date or order.order_date).isoformat())
    cbc(doc.root, "SequenceNumberID", order.revision or "1")
    cbc(doc.root, "Note", order.note)
    cbc(doc.root, "DocumentCurrencyCode", order.currency)
    cbc(cac(doc.root, "OrderReference"), "ID", order.number)
    if order.contract_reference:
        cbc(cac(doc.root, "Contract"), "ID", order.contract_reference)
    _common_parties(doc, order)
    if order.payment_terms:
        cbc(cac(doc.root, "PaymentTerms"), "Note", order.payment_terms)
    lines_total = _order_lines(doc, order, change=True)
    order_total = sum(
        (_line_amount(ln, order.currency) for ln in order.lines if ln.change_code != "delete"),
        Decimal(0),
    )
    totals = cac(doc.root, "AnticipatedMonetaryTotal")
    _amount(totals, "LineExtensionAmount", lines_total, order.currency)
    _amount(totals, "PayableAmount", order_total, order.currency)
    _moved_before(doc, "AnticipatedMonetaryTotal", "OrderLine")
    return _rendered(doc, kind, _change_id(order), "Peppol Order Change (T114)")


def render_order_cancel(order, kind, envelope):
    doc = _Doc("OrderCancellation")
    _order_header(doc, order, "order_cancellation", "advanced_ordering")
    cbc(doc.root, "IssueDate", (order.change_date or order.order_date).isoformat())
    cbc(doc.root, "CancellationNote", order.note or "Order cancelled")
    if not order.note:
        doc.warnings.append("no cancellation note: 'Order cancelled' sent")
    cbc(cac(doc.root, "OrderReference"), "ID", order.number)
    _party(doc, doc.root, "BuyerCustomerParty", order.buyer or _missing(order, "buyer"), "buyer")
    _party(doc, doc.root, "SellerSupplierParty", order.vendor, "vendor")
    return _rendered(doc, kind, _change_id(order), "Peppol Order Cancellation (T115)")


def render_invoice_response(response, kind, envelope):
    if response.status in ("UQ", "CA", "RE") and not response.reasons:
        raise UnsupportedOutbound(f"invoice response status {response.status} needs a reason")
    doc = _Doc("ApplicationResponse")
    cbc(doc.root, "CustomizationID", PEPPOL + "trns:invoice_response:3")
    cbc(doc.root, "ProfileID", PEPPOL + "bis:invoice_response:3")
    cbc(doc.root, "ID", response.response_id)
    cbc(doc.root, "IssueDate", response.issue_date.isoformat())
    cbc(doc.root, "Note", response.note)
    for role, party, what in (
        ("SenderParty", response.buyer, "buyer"),
        ("ReceiverParty", response.seller, "seller"),
    ):
        node = cac(doc.root, role)
        eas, value = _endpoint(party, what)
        cbc(node, "EndpointID", value, schemeID=eas)
        for ident in party.identifiers:
            code = _eas(ident.scheme)
            if code:
                cbc(cac(node, "PartyIdentification"), "ID", ident.value, schemeID=code)
        if party.name:
            cbc(cac(node, "PartyLegalEntity"), "RegistrationName", party.name)
    document_response = cac(doc.root, "DocumentResponse")
    answer = cac(document_response, "Response")
    cbc(answer, "ResponseCode", response.status, listID="UNCL4343OpSubset")
    for reason in response.reasons:
        status = cac(answer, "Status")
        if reason.reason_code:
            cbc(status, "StatusReasonCode", reason.reason_code, listID="OPStatusReason")
        elif reason.action_code:
            cbc(status, "StatusReasonCode", reason.action_code, listID="OPStatusAction")
        text = reason.text
        if reason.line_reference:
            text = f"line {reason.line_reference}: {text or ''}".strip()
        cbc(status, "StatusReason", text)
        if reason.reason_code and reason.action_code:
            action = cac(answer, "Status")
            cbc(action, "StatusReasonCode", reason.action_code, listID="OPStatusAction")
    reference = cac(document_response, "DocumentReference")
    cbc(reference, "ID", response.invoice_number)
    cbc(
        reference, "IssueDate", response.invoice_date.isoformat() if response.invoice_date else None
    )
    cbc(reference, "DocumentTypeCode", "381" if response.credit_note else "380", listID="UNCL1001")
    return _rendered(doc, kind, response.response_id, "Peppol Invoice Response (T111)")


def render_remittance(payment, kind, envelope):
    """UBL 2.1 RemittanceAdvice: one RemittanceAdviceLine per invoice, the amount paid as
    its ``DebitLineAmount``, the invoice in ``BillingReference``."""
    if payment.status not in ("paid", "scheduled"):
        raise UnsupportedOutbound(f"a {payment.status} payment is not remitted")
    if payment.payer is None or payment.vendor is None:
        raise UnsupportedOutbound(f"remittance {payment.payment_id} needs a payer and a payee")
    currency = payment.currency
    doc = _Doc("RemittanceAdvice", currency)
    cbc(doc.root, "UBLVersionID", "2.1")
    cbc(doc.root, "ID", payment.payment_id)
    cbc(doc.root, "IssueDate", payment.payment_date.isoformat())
    cbc(doc.root, "DocumentCurrencyCode", currency)
    if payment.status == "scheduled":
        cbc(doc.root, "Note", f"Payment scheduled for {payment.payment_date.isoformat()}")
    _amount(doc.root, "TotalPaymentAmount", payment.amount, currency)
    _party(doc, doc.root, "AccountingCustomerParty", payment.payer, "payer", endpoint=False)
    _party(doc, doc.root, "AccountingSupplierParty", payment.vendor, "payee", endpoint=False)
    means = cac(doc.root, "PaymentMeans")
    # UNCL4461: 20 cheque, 30 credit transfer, 1 not defined
    code = {"check": "20", "ach": "30", "wire": "30"}.get((payment.method or "").lower(), "1")
    cbc(means, "PaymentMeansCode", code)
    cbc(means, "PaymentDueDate", payment.payment_date.isoformat())
    for index, ref in enumerate(payment.invoices, start=1):
        line = cac(doc.root, "RemittanceAdviceLine")
        cbc(line, "ID", str(index))
        notes = []
        if ref.amount_invoiced is not None:
            notes.append(f"invoiced {money(ref.amount_invoiced, currency)}")
        if ref.discount_amount is not None:
            notes.append(f"discount {money(ref.discount_amount, currency)}")
        if ref.po_number:
            notes.append(f"PO {ref.po_number}")
        cbc(line, "Note", ", ".join(notes))
        if ref.amount_paid is not None:
            _amount(line, "DebitLineAmount", ref.amount_paid, currency)
        billing = cac(cac(line, "BillingReference"), "InvoiceDocumentReference")
        cbc(billing, "ID", ref.invoice_number)
        cbc(billing, "IssueDate", ref.invoice_date.isoformat() if ref.invoice_date else None)
    return _rendered(doc, kind, payment.payment_id, "UBL 2.1 Remittance Advice")


def _rendered(doc, kind, number, document_type):
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in number)
    return Rendered(
        body=doc.bytes(),
        content_type="application/xml",
        fmt="ubl",
        kind=kind,
        document_type=document_type,
        filename=f"{kind}-{safe}.xml",
        control_numbers={"id": number},
        warnings=doc.warnings,
    )


RENDERERS.update(
    {
        ("ubl", "order"): render_order,
        ("ubl", "order_change"): render_order_change,
        ("ubl", "order_cancel"): render_order_cancel,
        ("ubl", "invoice_response"): render_invoice_response,
        ("ubl", "remittance"): render_remittance,
    }
)
