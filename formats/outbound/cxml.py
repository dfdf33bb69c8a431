# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""cXML 1.2 outbound: OrderRequest (new / update / delete) and StatusUpdateRequest.

=================  ======================================================================
kind               document
=================  ======================================================================
order              OrderRequest, ``type="new"``
order_change       OrderRequest, ``type="update"``, ``orderVersion`` = the revision; the
                   whole order as it stands after the change (lines the change deletes
                   are left out, as cXML updates replace the order)
order_cancel       OrderRequest, ``type="delete"``, with the order's lines
invoice_response   StatusUpdateRequest with an InvoiceStatus (UNCL4343 status -> type
                   processing / reconciled / rejected / paid; reasons as Comments; the
                   exact status in an Extrinsic)
=================  ======================================================================

Parties travel as Header credentials (``From`` the hospital, ``To`` the supplier; GLN and
DUNS under their own domain, other ids under their scheme name), unless the envelope (the
trading-partner profile) names the credential the supplier's network knows: then ``From``,
``To`` and ``Sender`` carry that one domain/identity, and ``Sender`` the profile's shared
secret when it has one.  The payloadID is
derived from the document (``PO.<number>.v<revision>@healthcare-p2p``) so that a retry
carries the same id and an update or delete references the order it replaces
(``DocumentReference``).  ``Request/@deploymentMode`` is ``test`` when the envelope's
usage indicator is ``T``.  The cXML version (``cXML/@version`` and the DOCTYPE) is the
envelope's, 1.2.071 (the DTD the tests validate against) when it names none.
"""

import re
from datetime import UTC
from datetime import datetime
from datetime import time

from lxml import etree

from ...canonical.documents import SCHEME_BUYER_ASSIGNED
from ...canonical.documents import SCHEME_DUNS
from ...canonical.documents import SCHEME_GLN
from . import RENDERERS
from . import Rendered
from . import UnsupportedOutbound

CXML_VERSION = "1.2.071"
_VERSION_RE = re.compile(r"^1\.2\.\d{3}$")
USER_AGENT = "healthcare_p2p_integration"
PAYLOAD_HOST = "healthcare-p2p"
_DOMAINS = {SCHEME_GLN: "GLN", SCHEME_DUNS: "DUNS"}
ORDER_TYPES = {"order": "new", "order_change": "update", "order_cancel": "delete"}
# UNCL4343 invoice status -> cXML InvoiceStatus/@type
INVOICE_STATUS = {
    "AB": "processing",
    "IP": "processing",
    "UQ": "processing",
    "CA": "processing",
    "AP": "reconciled",
    "RE": "rejected",
    "PD": "paid",
}
_PAY_IN_DAYS = re.compile(r"^(?:net\s*)?(\d{1,4})(?:\s*days?)?$", re.IGNORECASE)


def _sub(parent, tag, content=None, /, **attrs):
    node = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if content is not None:
        node.text = content
    return node


def _decimal(value):
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _timestamp(envelope, day):
    moment = getattr(envelope, "created_at", None) or datetime.combine(day, time(), UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def _credentials(parent, tag, party, what, configured=None, secret=""):
    """``<tag>`` with the profile's credential (``configured``: domain, identity) or, when
    the profile names none, one credential per identifier of ``party``."""
    domain, identity = configured or ("", "")
    if identity:
        credentials = [(domain or "NetworkID", identity)]
    elif party is None or not party.identifiers:
        raise UnsupportedOutbound(f"{what} has no identifier for a cXML credential")
    else:
        credentials = [(_DOMAINS.get(i.scheme, i.scheme), i.value) for i in party.identifiers]
    node = _sub(parent, tag)
    for index, (cred_domain, cred_identity) in enumerate(credentials):
        credential = _sub(node, "Credential", domain=cred_domain)
        _sub(credential, "Identity", cred_identity)
        if secret and index == 0:
            _sub(credential, "SharedSecret", secret)
    return node


def _version(envelope):
    version = getattr(envelope, "cxml_version", "") or CXML_VERSION
    if not _VERSION_RE.match(version):
        raise UnsupportedOutbound(f"cXML version {version!r} is not 1.2.nnn")
    return version


def _envelope(payload_id, timestamp, sender, receiver, envelope):
    def configured(role):
        return (
            getattr(envelope, f"cxml_{role}_domain", ""),
            getattr(envelope, f"cxml_{role}_identity", ""),
        )

    root = etree.Element(
        "cXML",
        {"payloadID": payload_id, "timestamp": timestamp, "version": _version(envelope)},
    )
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    header = _sub(root, "Header")
    _credentials(header, "From", sender, "the sending party", configured("from"))
    _credentials(header, "To", receiver, "the receiving party", configured("to"))
    sender_node = _credentials(
        header,
        "Sender",
        sender,
        "the sending party",
        configured("sender") if configured("sender")[1] else configured("from"),
        getattr(envelope, "cxml_shared_secret", ""),
    )
    _sub(sender_node, "UserAgent", USER_AGENT)
    test = getattr(envelope, "usage_indicator", "P") == "T"
    request = _sub(root, "Request", deploymentMode="test" if test else "production")
    return root, request


def _bytes(root):
    body = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    doctype = (
        f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{root.get("version")}/cXML.dtd">'
    )
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + doctype.encode() + b"\n" + body


def _address(parent, tag, party, what, warnings):
    if not party.name:
        raise UnsupportedOutbound(f"{what} has no name (cXML Address/Name)")
    ident = next(
        ((s, party.identifier(s)) for s in (SCHEME_GLN, SCHEME_DUNS) if party.identifier(s)),
        None,
    ) or next(((i.scheme, i.value) for i in party.identifiers), None)
    attrs = {}
    if ident:
        scheme, value = ident
        # a buyer-assigned id is the buyer's own address id: no domain
        domain = None if scheme == SCHEME_BUYER_ASSIGNED else _DOMAINS.get(scheme, scheme)
        attrs = {"addressID": value, "addressIDDomain": domain}
    address = _sub(_sub(parent, tag), "Address", **attrs)
    _sub(address, "Name", party.name).set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    postal = party.address
    if postal and not (postal.street or postal.street2) and (postal.city or postal.country_code):
        # the DTD's PostalAddress has Street+: an address without one is not sent
        warnings.append(f"{what}: address without a street not sent (cXML PostalAddress)")
    elif postal and (postal.street or postal.street2):
        if not postal.country_code:
            raise UnsupportedOutbound(f"{what} address has no country (cXML PostalAddress)")
        node = _sub(address, "PostalAddress")
        for street in (postal.street, postal.street2):
            if street:
                _sub(node, "Street", street)
        _sub(node, "City", postal.city or "")
        if postal.state:
            _sub(node, "State", postal.state)
        if postal.zip:
            _sub(node, "PostalCode", postal.zip)
        _sub(node, "Country", postal.country_code, isoCountryCode=postal.country_code)
    if party.email:
        _sub(address, "Email", party.email)
    if len(party.identifiers) > 1:
        warnings.append(f"{what}: only {ident[0]} {ident[1]} sent as the address id")


def _payload_id(order, kind):
    if kind == "order":
        return f"PO.{order.number}.v0@{PAYLOAD_HOST}"
    if kind == "order_cancel":
        return f"PO.{order.number}.delete@{PAYLOAD_HOST}"
    return f"PO.{order.number}.v{order.revision or 1}@{PAYLOAD_HOST}"


def render_order_request(order, kind, envelope):
    if not order.lines:
        raise UnsupportedOutbound(f"purchase order {order.number} has no lines")
    if not order.currency:
        raise UnsupportedOutbound(f"purchase order {order.number} has no currency (cXML Money)")
    if any(line.unit_price is None for line in order.lines):
        raise UnsupportedOutbound(f"purchase order {order.number}: cXML needs every unit price")
    warnings = []
    order_type = ORDER_TYPES[kind]
    lines = order.lines
    if kind == "order_change":
        lines = [ln for ln in lines if ln.change_code != "delete"]
        if not lines:
            raise UnsupportedOutbound(
                f"change of {order.number} deletes every line: send a cancellation"
            )
    if order.buyer is None:
        raise UnsupportedOutbound(f"purchase order {order.number} has no buyer")
    payload_id = _payload_id(order, kind)
    root, request = _envelope(
        payload_id,
        _timestamp(envelope, order.change_date or order.order_date),
        order.buyer,
        order.vendor,
        envelope,
    )
    body = _sub(request, "OrderRequest")
    head = _sub(
        body,
        "OrderRequestHeader",
        orderID=order.number,
        orderDate=order.order_date.isoformat(),
        type=order_type,
        orderVersion=None if kind == "order" else (order.revision or "1"),
        agreementID=order.contract_reference,
    )
    total = sum((ln.quantity * ln.unit_price for ln in lines), 0)
    if order.total_amount is not None and kind != "order_change" and total != order.total_amount:
        raise UnsupportedOutbound(
            f"purchase order {order.number} states a total of {order.total_amount}, its lines "
            f"make {total}"
        )
    _sub(_sub(head, "Total"), "Money", _decimal(total), currency=order.currency)
    if order.ship_to is not None:
        _address(head, "ShipTo", order.ship_to, "ship-to", warnings)
    bill_to = order.bill_to
    if bill_to is None:
        bill_to = order.buyer
        warnings.append("no bill-to: the buyer is the BillTo (cXML requires one)")
    _address(head, "BillTo", bill_to, "bill-to", warnings)
    if order.payment_terms:
        match = _PAY_IN_DAYS.match(order.payment_terms.strip())
        if match:
            _sub(head, "PaymentTerm", payInNumberOfDays=str(int(match.group(1))))
        else:
            warnings.append(f"payment terms {order.payment_terms!r} sent as a comment")
    if order.buyer.phone or order.buyer.email or order.buyer.name:
        contact = _sub(head, "Contact", role="buyer")
        _sub(contact, "Name", order.buyer.name or order.buyer.key()).set(
            "{http://www.w3.org/XML/1998/namespace}lang", "en"
        )
        if order.buyer.email:
            _sub(contact, "Email", order.buyer.email)
        if order.buyer.phone:
            _phone(_sub(_sub(contact, "Phone"), "TelephoneNumber"), order.buyer.phone)
    comments = [order.note] if order.note else []
    if order.payment_terms and not _PAY_IN_DAYS.match(order.payment_terms.strip()):
        comments.append(f"Payment terms: {order.payment_terms}")
    for comment in comments:
        _sub(head, "Comments", comment).set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    if kind != "order":
        previous = (
            f"PO.{order.number}.v{max(int(order.revision or 1) - 1, 0)}@{PAYLOAD_HOST}"
            if kind == "order_change"
            else f"PO.{order.number}.v{order.revision or 0}@{PAYLOAD_HOST}"
        )
        _sub(head, "DocumentReference", payloadID=previous)
    if order.requested_date:
        warnings.append("the header delivery date is sent on each line without one")
    for line in lines:
        _item_out(body, order, line, warnings)
    document_type = {
        "order": "cXML OrderRequest",
        "order_change": "cXML OrderRequest (update)",
        "order_cancel": "cXML OrderRequest (delete)",
    }[kind]
    return _rendered(root, kind, order.number, document_type, payload_id, warnings)


def _phone(phone, number):
    """A TelephoneNumber (CountryCode, AreaOrCityCode, Number) from a free-text number."""
    digits = re.sub(r"[^\d]", "", number)
    country = _sub(phone, "CountryCode", isoCountryCode="US")
    country.text = "1" if number.strip().startswith("+1") or len(digits) <= 10 else ""
    national = digits[1:] if country.text == "1" and len(digits) == 11 else digits
    _sub(phone, "AreaOrCityCode", national[:3])
    _sub(phone, "Number", national[3:])


def _item_out(body, order, line, warnings):
    where = f"line {line.line_number}"
    if not line.line_number.isdigit():
        raise UnsupportedOutbound(f"{where}: cXML line numbers are whole numbers")
    item_out = _sub(
        body,
        "ItemOut",
        quantity=_decimal(line.quantity),
        lineNumber=str(int(line.line_number)),
        requestedDeliveryDate=(line.requested_date or order.requested_date).isoformat()
        if (line.requested_date or order.requested_date)
        else None,
    )
    item = line.item
    item_id = _sub(item_out, "ItemID")
    _sub(item_id, "SupplierPartID", item.vendor_part_number or "")
    if not item.vendor_part_number:
        warnings.append(f"{where}: no supplier part id (SupplierPartID sent empty)")
    if item.buyer_part_number:
        _sub(item_id, "BuyerPartID", item.buyer_part_number)
    for domain, value in (("GTIN", item.gtin), ("NDC", item.ndc), ("HIBC", item.hibc)):
        if value:
            _sub(item_id, "IdReference", identifier=value, domain=domain)
    detail = _sub(item_out, "ItemDetail")
    _sub(_sub(detail, "UnitPrice"), "Money", _decimal(line.unit_price), currency=order.currency)
    description = item.description or item.vendor_part_number or item.gtin or where
    _sub(detail, "Description", description).set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    _sub(detail, "UnitOfMeasure", line.uom)
    _sub(detail, "Classification", "", domain="UNSPSC")
    if item.manufacturer_part_number:
        _sub(detail, "ManufacturerPartID", item.manufacturer_part_number)
    if line.note:
        _sub(item_out, "Comments", line.note)
    contract = line.contract_reference
    if contract:
        _sub(item_out, "MasterAgreementIDInfo", agreementID=contract)


def render_status_update(response, kind, envelope):
    if response.status in ("UQ", "CA", "RE") and not response.reasons:
        raise UnsupportedOutbound(f"invoice response status {response.status} needs a reason")
    payload_id = f"IR.{response.response_id}@{PAYLOAD_HOST}"
    root, request = _envelope(
        payload_id,
        _timestamp(envelope, response.issue_date),
        response.buyer,
        response.seller,
        envelope,
    )
    body = _sub(request, "StatusUpdateRequest")
    _sub(body, "Status", code="200", text="OK")
    status = _sub(body, "InvoiceStatus", type=INVOICE_STATUS[response.status])
    _sub(
        status,
        "InvoiceIDInfo",
        invoiceID=response.invoice_number,
        invoiceDate=response.invoice_date.isoformat() if response.invoice_date else None,
    )
    texts = []
    for reason in response.reasons:
        label = " ".join(filter(None, (reason.reason_code, reason.action_code)))
        text = reason.text or ""
        if reason.line_reference:
            text = f"line {reason.line_reference}: {text}"
        texts.append(f"{label}: {text}".strip(": "))
    if response.note:
        texts.append(response.note)
    for text in texts:
        _sub(status, "Comments", text).set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    _sub(body, "Extrinsic", response.status, name="UNCL4343InvoiceStatus")
    if response.po_number:
        _sub(body, "Extrinsic", response.po_number, name="orderID")
    return _rendered(
        root,
        kind,
        response.response_id,
        f"cXML StatusUpdateRequest (invoice {INVOICE_STATUS[response.status]})",
        payload_id,
        [],
    )


def _rendered(root, kind, number, document_type, payload_id, warnings):
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", number)
    return Rendered(
        body=_bytes(root),
        content_type="application/xml",
        fmt="cxml",
        kind=kind,
        document_type=document_type,
        filename=f"{kind}-{safe}.xml",
        control_numbers={"id": number, "payload_id": payload_id},
        warnings=warnings,
    )


RENDERERS.update(
    {
        ("cxml", "order"): render_order_request,
        ("cxml", "order_change"): render_order_request,
        ("cxml", "order_cancel"): render_order_request,
        ("cxml", "invoice_response"): render_status_update,
    }
)
