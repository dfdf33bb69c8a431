# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""UN/CEFACT Cross Industry Invoice (CII D16B) reader: Factur-X, ZUGFeRD 2.x, XRechnung CII.

One ``rsm:CrossIndustryInvoice`` becomes one canonical ``invoice``, mapped as
:mod:`.ubl` maps a UBL Invoice (the EN 16931 business terms are the same, only the syntax
differs):

=====================================================  ==================================
CII                                                    canonical
=====================================================  ==================================
ExchangedDocument/ID, TypeCode, IssueDateTime          number, move_type, issue_date
(381, 396, 81, 83, 532 -> credit note)
SellerTradeParty / BuyerTradeParty                     vendor / buyer (GlobalID 0088 GLN,
                                                       0060 DUNS; VA tax registration
                                                       VAT; FC TAX_ID; ID source id)
ShipToTradeParty / PayeeTradeParty                     ship_to / remit_to
BuyerOrderReferencedDocument                           po_numbers (line: po_line_ref)
InvoiceReferencedDocument                              original_invoice_number (credits)
IncludedSupplyChainTradeLineItem                       lines: BilledQuantity, net price
                                                       (NetPriceProductTradePrice and its
                                                       BasisQuantity), line allowances and
                                                       charges, ApplicableTradeTax,
                                                       LineTotalAmount
SpecifiedTradeAllowanceCharge (header)                 allowance_charges (with their
                                                       CategoryTradeTax)
ApplicableTradeTax (header)                            taxes (BasisAmount, CalculatedAmount)
SpecifiedTradeSettlementHeaderMonetarySummation        net_total, allowance_total,
                                                       charge_total, tax_exclusive_total,
                                                       tax_total, gross_total, prepaid,
                                                       rounding, payable
=====================================================  ==================================

The amounts follow the canonical conventions of the UBL reader (shared helpers): a
document whose total is negative is read as the other direction with positive amounts,
a negative allowance is a charge, a negative unit price is a negative quantity; each such
reading is a data-quality issue on the message.  XML is parsed by :mod:`.safe_xml` only.
"""

from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal

from ..canonical import SCHEME_SOURCE
from ..canonical import SCHEME_TAX_ID
from ..canonical import SCHEME_VAT
from ..canonical import Address
from ..canonical import AllowanceCharge
from ..canonical import Invoice
from ..canonical import InvoiceLine
from ..canonical import ItemRef
from ..canonical import Party
from ..canonical import TaxLine
from ..normalize.countries import normalize_country
from ..normalize.identifiers import normalize_gtin
from . import xml_values
from .errors import ParseError
from .parsed import ParsedDocument
from .safe_xml import DEFAULT_MAX_BYTES
from .safe_xml import local_name
from .safe_xml import parse_xml
from .ubl import _CREDIT_NOTE_TYPE_CODES
from .ubl import _TAX_CATEGORY_ALIASES
from .ubl import _UNCL5305
from .ubl import _Context
from .ubl import _identifier
from .ubl import _neg
from .ubl import _negate_charge
from .ubl import _negate_tax
from .ubl import _normalise_line
from .ubl import _same
from .ubl import _scheme
from .ubl import _split_totals
from .ubl import _unsigned
from .ubl import _uom

FORMAT = "cii"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS = {"rsm": RSM, "ram": RAM, "udt": UDT}
ROOT = "CrossIndustryInvoice"
_GTIN_SCHEMES = ("0160", "GTIN", "EAN")
# SpecifiedTaxRegistration/ID schemeID: VA = VAT number, FC = fiscal (tax) number.
_TAX_REGISTRATION_SCHEMES = {"VA": SCHEME_VAT, "FC": SCHEME_TAX_ID}


# --------------------------------------------------------------------------- values


def _find(element, path):
    return xml_values.find(element, path, NS)


def _text(element, path=None):
    return xml_values.text(element, path, ns=NS)


def _decimal(element, path, where, required=False):
    return xml_values.decimal(element, path, where, required, ns=NS, prefix="cii")


def _amount_in(element, path, currency, where):
    """An amount that may be stated once per currency (TaxTotalAmount): the one in
    ``currency``, else the one without a currencyID, else the first."""
    nodes = element.findall(path, NS) if element is not None else []
    chosen = next((n for n in nodes if n.get("currencyID") == currency), None)
    if chosen is None:
        chosen = next((n for n in nodes if not n.get("currencyID")), None)
    if chosen is None and nodes:
        chosen = nodes[0]
    return None if chosen is None else _decimal(chosen, None, where)


def _date(element, path, where, required=False):
    """A ``udt:DateTimeString`` (format 102 ``YYYYMMDD``; ISO dates tolerated)."""
    node = _find(element, f"{path}/udt:DateTimeString")
    raw = _text(node)
    if raw is None:
        if required:
            raise ParseError("cii_required", f"{path} is missing", where)
        return None
    fmt = node.get("format") or "102"
    try:
        if fmt == "102" and len(raw) == 8 and raw.isdigit():
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise ParseError(
            "cii_value", f"{path} {raw!r} is not a date (format {fmt}: YYYYMMDD)", where
        ) from None


def _required_text(element, path, where):
    value = _text(element, path)
    if not value:
        raise ParseError("cii_required", f"{path} is missing", where)
    return value


def _indicator(element, path):
    return (_text(element, f"{path}/udt:Indicator") or "").lower() == "true"


# --------------------------------------------------------------------------- parties


def _address(ctx, element, where):
    if element is None:
        return None
    country = normalize_country(_text(element, "ram:CountryID"))
    if country.message:
        ctx.issue("country_code", country.message, where)
    street2 = " ".join(
        part for part in (_text(element, "ram:LineTwo"), _text(element, "ram:LineThree")) if part
    )
    values = {
        "street": _text(element, "ram:LineOne"),
        "street2": street2 or None,
        "city": _text(element, "ram:CityName"),
        "state": _text(element, "ram:CountrySubDivisionName"),
        "zip": _text(element, "ram:PostcodeCode"),
        "country_code": country.code,
    }
    return Address(**values) if any(values.values()) else None


def _party(ctx, party, where):
    """Canonical Party from a ``*TradeParty`` element (None when absent or empty)."""
    if party is None:
        return None
    identifiers = []

    def add(scheme, value, path):
        value = (value or "").strip()
        if value and not any(i.scheme == scheme and i.value == value for i in identifiers):
            identifiers.append(_identifier(ctx, scheme, value, path))

    for node in party.findall("ram:GlobalID", NS):
        add(_scheme(node.get("schemeID"), SCHEME_SOURCE), _text(node), f"{where}/GlobalID")
    for node in party.findall("ram:ID", NS):
        add(_scheme(node.get("schemeID"), SCHEME_SOURCE), _text(node), f"{where}/ID")
    email = None
    for node in party.findall("ram:URIUniversalCommunication/ram:URIID", NS):
        scheme = (node.get("schemeID") or "").upper()
        if scheme in ("EM", "SMTP"):
            email = email or _text(node)
        elif _text(node):
            add(_scheme(scheme, SCHEME_SOURCE), _text(node), f"{where}/URIID")
    for node in party.findall("ram:SpecifiedTaxRegistration/ram:ID", NS):
        scheme = _TAX_REGISTRATION_SCHEMES.get((node.get("schemeID") or "VA").upper())
        if scheme and _text(node):
            add(scheme, _text(node).replace(" ", ""), f"{where}/SpecifiedTaxRegistration")
    legal = _find(party, "ram:SpecifiedLegalOrganization/ram:ID")
    if legal is not None and _text(legal) and legal.get("schemeID"):
        add(
            _scheme(legal.get("schemeID"), SCHEME_SOURCE),
            _text(legal),
            f"{where}/SpecifiedLegalOrganization",
        )
    name = _text(party, "ram:Name") or _text(
        party, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"
    )
    contact = _find(party, "ram:DefinedTradeContact")
    email = email or _text(contact, "ram:EmailURIUniversalCommunication/ram:URIID")
    if not identifiers and not name:
        ctx.issue("party_unnamed", "party without identifier or name", where)
        return None
    return Party(
        identifiers=identifiers,
        name=name,
        address=_address(ctx, _find(party, "ram:PostalTradeAddress"), where),
        email=email,
        phone=_text(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
    )


# --------------------------------------------------------------------------- taxes, charges


def _tax(ctx, node, where, taxable_amount=None, amount=None):
    """TaxLine from an ``ApplicableTradeTax`` / ``CategoryTradeTax`` (None when absent)."""
    if node is None:
        return None
    raw = _text(node, "ram:CategoryCode")
    code = raw.upper() if raw else None
    if code and code not in _UNCL5305:
        mapped = _TAX_CATEGORY_ALIASES.get(code.replace(" ", "").replace("_", ""))
        if mapped:
            ctx.issue("tax_category_mapped", f"tax category {raw!r} read as {mapped}", where)
            code = mapped
        else:
            ctx.issue("tax_category_unknown", f"tax category {raw!r} is not UNCL5305", where)
            code = raw[:32]
    reason = _text(node, "ram:ExemptionReason") or _text(node, "ram:ExemptionReasonCode")
    return TaxLine(
        tax_type=(_text(node, "ram:TypeCode") or "VAT").upper()[:32],
        category=code,
        rate=_decimal(node, "ram:RateApplicablePercent", where),
        taxable_amount=taxable_amount,
        amount=amount,
        exemption_reason=reason[:256] if reason else None,
    )


def _allowance_charges(ctx, element, where):
    """``SpecifiedTradeAllowanceCharge`` elements as signed AllowanceCharges."""
    result = []
    for index, node in enumerate(element.findall("ram:SpecifiedTradeAllowanceCharge", NS)):
        path = f"{where}/SpecifiedTradeAllowanceCharge[{index}]"
        taxes = [_tax(ctx, tax, path) for tax in node.findall("ram:CategoryTradeTax", NS)]
        result.append(
            AllowanceCharge(
                is_charge=_indicator(node, "ram:ChargeIndicator"),
                amount=_decimal(node, "ram:ActualAmount", path, required=True),
                reason_code=(_text(node, "ram:ReasonCode") or "")[:16] or None,
                reason=(_text(node, "ram:Reason") or "")[:256] or None,
                taxes=taxes,
            )
        )
    return result


# --------------------------------------------------------------------------- lines


def _item(ctx, product, where):
    gtin = None
    for node in product.findall("ram:GlobalID", NS) if product is not None else []:
        value = _text(node)
        scheme = (node.get("schemeID") or "").upper()
        if not value or scheme not in _GTIN_SCHEMES:
            continue
        result = normalize_gtin(value)
        if result.value.isdigit() and len(value) in (8, 12, 13, 14):
            gtin = result.value
            if not result.valid:
                ctx.issue("gtin_check_digit", result.message, where)
        else:
            ctx.issue("gtin_invalid", result.message, where)
        break
    name = _text(product, "ram:Name")
    description = name or _text(product, "ram:Description")
    ref = ItemRef(
        gtin=gtin,
        vendor_part_number=_text(product, "ram:SellerAssignedID"),
        buyer_part_number=_text(product, "ram:BuyerAssignedID"),
        manufacturer_part_number=_text(product, "ram:IndustryAssignedID"),
        description=description[:1024] if description else None,
    )
    if (
        not any(
            (ref.gtin, ref.vendor_part_number, ref.buyer_part_number, ref.manufacturer_part_number)
        )
        and not ref.description
    ):
        raise ParseError("cii_required", "line item has neither identifier nor name", where)
    return ref


def _unit_price(ctx, agreement, line_total, quantity, where):
    """``(unit price, base quantity)``: the net price (BT-146) and its BasisQuantity.

    Without a net price, the gross price less its price discounts (BT-148, BT-147) is it;
    without either, the price is derived from the line total (an issue)."""
    net = _find(agreement, "ram:NetPriceProductTradePrice")
    gross = _find(agreement, "ram:GrossPriceProductTradePrice")
    price_node = net if net is not None else gross
    base = (
        _decimal(price_node, "ram:BasisQuantity", where)
        or _decimal(gross, "ram:BasisQuantity", where)
        or Decimal(1)
    )
    price = _decimal(net, "ram:ChargeAmount", where)
    if price is None and gross is not None:
        price = _decimal(gross, "ram:ChargeAmount", where)
        for node in gross.findall("ram:AppliedTradeAllowanceCharge", NS):
            amount = _decimal(node, "ram:ActualAmount", where) or Decimal(0)
            price += amount if _indicator(node, "ram:ChargeIndicator") else -amount
    if price is None:
        if line_total is None:
            raise ParseError("cii_required", "NetPriceProductTradePrice is missing", where)
        price = line_total / quantity * base if quantity else line_total
        price = price.quantize(Decimal("1E-6"), rounding=ROUND_HALF_UP).normalize()
        ctx.issue(
            "price_missing", f"no net price: unit price {price} derived from LineTotalAmount", where
        )
    return price, base


def _line(ctx, node, index):
    where = f"IncludedSupplyChainTradeLineItem[{index}]"
    agreement = _find(node, "ram:SpecifiedLineTradeAgreement")
    delivery = _find(node, "ram:SpecifiedLineTradeDelivery")
    settlement = _find(node, "ram:SpecifiedLineTradeSettlement")
    quantity_node = _find(delivery, "ram:BilledQuantity")
    quantity = _decimal(delivery, "ram:BilledQuantity", where, required=True)
    line_total = _decimal(
        settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", where
    )
    unit_price, base = _unit_price(ctx, agreement, line_total, quantity, where)
    taxes = [
        _tax(ctx, tax, where, line_total)
        for tax in (
            settlement.findall("ram:ApplicableTradeTax", NS) if settlement is not None else []
        )
    ]
    line = InvoiceLine(
        line_number=_required_text(node, "ram:AssociatedDocumentLineDocument/ram:LineID", where),
        po_number=_text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        po_line_ref=_text(agreement, "ram:BuyerOrderReferencedDocument/ram:LineID"),
        item=_item(ctx, _find(node, "ram:SpecifiedTradeProduct"), where),
        quantity=quantity,
        uom=_uom(ctx, quantity_node, where),
        unit_price=unit_price,
        price_base_quantity=base,
        allowance_charges=_allowance_charges(ctx, settlement, where)
        if settlement is not None
        else [],
        line_total=line_total,
        taxes=taxes,
    )
    if line.line_total is not None and not _same(line.computed_total(), line.line_total):
        # Some writers state a net price that already holds the line allowances.
        without = replace(line, allowance_charges=[])
        if line.allowance_charges and _same(without.computed_total(), line.line_total):
            ctx.issue(
                "line_allowance_in_price",
                "the net price already holds the line's allowances and charges, which are "
                "not deducted again",
                where,
            )
            line = without
    return line


# --------------------------------------------------------------------------- document


def _header_taxes(ctx, settlement):
    result = []
    for index, node in enumerate(settlement.findall("ram:ApplicableTradeTax", NS)):
        where = f"ApplicableHeaderTradeSettlement/ApplicableTradeTax[{index}]"
        amount = _decimal(node, "ram:CalculatedAmount", where, required=True)
        result.append(_tax(ctx, node, where, _decimal(node, "ram:BasisAmount", where), amount))
    return result


def _invoice(ctx, root):
    document = _find(root, "rsm:ExchangedDocument")
    transaction = _find(root, "rsm:SupplyChainTradeTransaction")
    if document is None or transaction is None:
        raise ParseError(
            "cii_required", "ExchangedDocument or SupplyChainTradeTransaction is missing", ROOT
        )
    number = _required_text(document, "ram:ID", "ExchangedDocument")
    type_code = _text(document, "ram:TypeCode")
    credit = type_code in _CREDIT_NOTE_TYPE_CODES
    agreement = _find(transaction, "ram:ApplicableHeaderTradeAgreement")
    delivery = _find(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = _find(transaction, "ram:ApplicableHeaderTradeSettlement")
    if settlement is None:
        raise ParseError("cii_required", "ApplicableHeaderTradeSettlement is missing", ROOT)
    w = "SpecifiedTradeSettlementHeaderMonetarySummation"
    currency = _required_text(settlement, "ram:InvoiceCurrencyCode", w).upper()
    lines = [
        _line(ctx, node, index)
        for index, node in enumerate(
            transaction.findall("ram:IncludedSupplyChainTradeLineItem", NS)
        )
    ]
    if not lines:
        raise ParseError(
            "cii_required", "the invoice has no IncludedSupplyChainTradeLineItem", ROOT
        )
    totals = _find(settlement, f"ram:{w}")
    if totals is None:
        raise ParseError("cii_required", f"{w} is missing", ROOT)
    gross = _decimal(totals, "ram:GrandTotalAmount", w)
    payable = _decimal(totals, "ram:DuePayableAmount", w)
    if gross is None and payable is None:
        raise ParseError("cii_required", f"{w} has no GrandTotalAmount/DuePayableAmount", ROOT)
    amounts = {
        "net_total": _decimal(totals, "ram:LineTotalAmount", w),
        "tax_exclusive_total": _decimal(totals, "ram:TaxBasisTotalAmount", w),
        "tax_total": _amount_in(totals, "ram:TaxTotalAmount", currency, w),
        "gross_total": gross if gross is not None else payable,
        "prepaid_amount": _decimal(totals, "ram:TotalPrepaidAmount", w),
        "rounding_amount": _decimal(totals, "ram:RoundingAmount", w),
        "payable_amount": payable,
    }
    allowance_total = _decimal(totals, "ram:AllowanceTotalAmount", w)
    charge_total = _decimal(totals, "ram:ChargeTotalAmount", w)
    charges = _allowance_charges(ctx, settlement, "ApplicableHeaderTradeSettlement")
    taxes = _header_taxes(ctx, settlement)
    total = payable if payable is not None else gross
    negate = total < 0
    if negate:
        flipped = "invoice" if credit else "credit note"
        ctx.issue(
            "negative_total",
            f"{'credit note' if credit else 'invoice'} with a negative total {total}: "
            f"read as a {flipped} with positive amounts",
            w,
        )
        credit = not credit
        amounts = {key: _neg(value) for key, value in amounts.items()}
        allowance_total, charge_total = _neg(allowance_total), _neg(charge_total)
        charges = [_negate_charge(ac) for ac in charges]
        taxes = [_negate_tax(t) for t in taxes]
    lines = [_normalise_line(ctx, ln, i, negate) for i, ln in enumerate(lines)]
    allowance_total, charge_total = _split_totals(allowance_total, charge_total)
    po_numbers = [
        n for n in [_text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID")] if n
    ]
    original = _text(settlement, "ram:InvoiceReferencedDocument/ram:IssuerAssignedID")
    if original and not credit:
        ctx.issue(
            "billing_reference",
            f"invoice refers to invoice {original}: a corrective invoice",
            "InvoiceReferencedDocument",
        )
        original = None
    vendor = _party(ctx, _find(agreement, "ram:SellerTradeParty"), "SellerTradeParty")
    if vendor is None:
        raise ParseError("cii_required", "SellerTradeParty is missing", ROOT)
    terms = _find(settlement, "ram:SpecifiedTradePaymentTerms")
    return Invoice(
        number=number,
        move_type="credit_note" if credit else "invoice",
        issue_date=_date(document, "ram:IssueDateTime", "ExchangedDocument", required=True),
        due_date=_date(terms, "ram:DueDateDateTime", "SpecifiedTradePaymentTerms"),
        currency=currency,
        vendor=vendor,
        buyer=_party(ctx, _find(agreement, "ram:BuyerTradeParty"), "BuyerTradeParty"),
        ship_to=_party(ctx, _find(delivery, "ram:ShipToTradeParty"), "ShipToTradeParty"),
        remit_to=_party(ctx, _find(settlement, "ram:PayeeTradeParty"), "PayeeTradeParty"),
        po_numbers=po_numbers,
        original_invoice_number=original,
        payment_terms=(_text(terms, "ram:Description") or "")[:128] or None,
        lines=lines,
        allowance_charges=_unsigned(ctx, charges, "ApplicableHeaderTradeSettlement"),
        taxes=taxes,
        allowance_total=allowance_total,
        charge_total=charge_total,
        **amounts,
    )


def is_cii(namespace, local):
    """Whether a root element (namespace, local name) is a CII invoice."""
    return local == ROOT and namespace == RSM


def parse(payload, max_bytes=DEFAULT_MAX_BYTES):
    """Parse one CII invoice (bytes) into ``[ParsedDocument]``.

    :raises ParseError: ``xml_*`` from :func:`~.safe_xml.parse_xml`; ``cii_unsupported``
        for another root element; ``cii_required``/``cii_value`` when a field the
        canonical model needs is missing or unreadable.
    """
    root = parse_xml(payload, max_bytes=max_bytes)
    namespace = root.nsmap.get(root.prefix)
    if not is_cii(namespace, local_name(root)):
        raise ParseError(
            "cii_unsupported",
            f"root element {{{namespace}}}{local_name(root)} is not a CII CrossIndustryInvoice",
        )
    ctx = _Context()
    document = _invoice(ctx, root)
    return [ParsedDocument(document=document, issues=list(ctx.issues), source_format=FORMAT)]
