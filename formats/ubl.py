# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""UBL 2.x / PEPPOL BIS 3 reader: Invoice, CreditNote, Order, OrderResponse(Simple),
DespatchAdvice, ReceiptAdvice.

Each UBL document becomes one canonical document:

===================  ==================  ======================================
UBL root             canonical doc_type  notes
===================  ==================  ======================================
Invoice              ``invoice``         InvoiceTypeCode 381 -> credit note
CreditNote           ``invoice``         ``move_type="credit_note"``
Order                ``purchase_order``
OrderResponse        ``po_ack``          PEPPOL Order Response: code AP/AB/CA/RE;
                                         lines 5/42 accept, 3/1 change, 7 reject
OrderResponseSimple  ``po_ack``          AcceptedIndicator: accepted / rejected
DespatchAdvice       ``ship_notice``     lot / expiry / serial per line
ReceiptAdvice        ``receipt``
===================  ==================  ======================================

Both the PEPPOL identifier style (``schemeID="0088"``, ISO 6523 ICD codes) and the older
OASIS style (``schemeID="GLN"``) are understood.  Identifiers with a wrong check digit,
unknown unit codes and totals that do not add up are reported as
:class:`~.errors.DataQualityIssue`, never as parse failures: the document still flows and
the data steward sees the finding.  A document lacking what the canonical model cannot do
without (its number, the PO of a ship notice) raises :class:`~.errors.ParseError`.
"""

import re
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal

from ..canonical import SCHEME_BUYER_ASSIGNED
from ..canonical import SCHEME_DUNS
from ..canonical import SCHEME_GLN
from ..canonical import SCHEME_SELLER_ASSIGNED
from ..canonical import SCHEME_SOURCE
from ..canonical import SCHEME_VAT
from ..canonical import Address
from ..canonical import AllowanceCharge
from ..canonical import Identifier
from ..canonical import Invoice
from ..canonical import InvoiceLine
from ..canonical import ItemRef
from ..canonical import Party
from ..canonical import PoAck
from ..canonical import PoAckLine
from ..canonical import PurchaseOrder
from ..canonical import PurchaseOrderLine
from ..canonical import Receipt
from ..canonical import ReceiptLine
from ..canonical import ShipNotice
from ..canonical import ShipNoticeLine
from ..canonical import TaxLine
from ..normalize.countries import normalize_country
from ..normalize.gs1 import BarcodeError
from ..normalize.gs1 import parse_barcode
from ..normalize.identifiers import normalize_gln
from ..normalize.identifiers import normalize_gtin
from ..normalize.uom import normalize_uom
from . import xml_values
from .errors import DataQualityIssue
from .errors import ParseError
from .parsed import ParsedDocument
from .safe_xml import DEFAULT_MAX_BYTES
from .safe_xml import local_name
from .safe_xml import parse_xml

FORMAT = "ubl"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS = {"cbc": CBC, "cac": CAC}
_ROOT_NS = "urn:oasis:names:specification:ubl:schema:xsd:{}-2"

# ISO 6523 ICD codes used as PEPPOL schemeID, and legacy OASIS spellings.
_PARTY_SCHEMES = {
    "0088": SCHEME_GLN,
    "GLN": SCHEME_GLN,
    "0060": SCHEME_DUNS,
    "DUNS": SCHEME_DUNS,
}
_GTIN_SCHEMES = ("0160", "GTIN", "EAN", "UPC")
_UOM_RE = re.compile(r"^[A-Z0-9]{1,3}$")
_SCHEME_CLEAN = re.compile(r"[^A-Z0-9_.-]")
_CREDIT_NOTE_TYPE_CODES = ("381", "396", "81", "83", "532")
# UNCL5305 duty/tax/fee category codes (the PEPPOL BIS 3 subset first, then the rest).
_UNCL5305 = frozenset("S Z E AE K G O L M B A AA AB AC AD C D F H I J".split())
# Tax category ids of national UBL dialects -> UNCL5305.  OIOUBL (Denmark,
# urn:oioubl:id:taxcategoryid) names its categories; Odoo's own l10n_dk_oioubl writes
# S -> StandardRated, Z/E/G/O/L/M -> ZeroRated, AE/K -> ReverseCharge.  PINT SG
# (Singapore GST) uses SR (standard-rated) and ZR (zero-rated).
_TAX_CATEGORY_ALIASES = {
    "STANDARDRATED": "S",
    "ZERORATED": "Z",
    "REVERSECHARGE": "AE",
    "SR": "S",
    "ZR": "Z",
}
# TaxScheme ids that name VAT in a national code list (OIOUBL taxschemeid 63 = "Moms").
_TAX_SCHEME_ALIASES = {"63": "VAT", "MOMS": "VAT"}


class _Context:
    """Collects data-quality issues while one document is read."""

    def __init__(self):
        self.issues = []

    def issue(self, code, message, path=None):
        self.issues.append(DataQualityIssue(code=code, message=message, path=path))


# --------------------------------------------------------------------------- readers


def _find(element, path):
    return xml_values.find(element, path, NS)


def _text(element, path=None):
    return xml_values.text(element, path, ns=NS)


def _decimal(element, path, where, required=False):
    return xml_values.decimal(element, path, where, required, ns=NS, prefix="ubl")


def _date(element, path, where, required=False):
    raw = _text(element, path)
    if raw is None:
        if required:
            raise ParseError("ubl_required", f"{path} is missing", where)
        return None
    try:
        # xsd:date may carry a time-zone suffix ("2017-11-13Z", "2017-11-13+01:00").
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise ParseError("ubl_value", f"{path} {raw!r} is not a date (YYYY-MM-DD)", where) from None


def _required_text(element, path, where):
    value = _text(element, path)
    if not value:
        raise ParseError("ubl_required", f"{path} is missing", where)
    return value


def _uom(ctx, element, where, default="EA"):
    """Canonical unit code of a quantity element's ``unitCode``."""
    code = element.get("unitCode") if element is not None else None
    if not code:
        ctx.issue("uom_missing", f"no unitCode, {default} assumed", where)
        return default
    info = normalize_uom(code)
    if info.known:
        return info.code
    raw = code.strip().upper()
    ctx.issue("uom_unknown", f"unit code {code!r} is not mapped", where)
    return raw if _UOM_RE.match(raw) else default


# --------------------------------------------------------------------------- parties


def _scheme(scheme_id, default):
    if not scheme_id:
        return default
    key = scheme_id.strip().upper()
    if key in _PARTY_SCHEMES:
        return _PARTY_SCHEMES[key]
    if key in ("ZZZ",):
        return default
    if key.endswith("VAT") or key.startswith("99"):
        # Legacy "DKVAT"/"BEVAT", and ICD 99xx codes, which are national VAT registers.
        return SCHEME_VAT
    return _SCHEME_CLEAN.sub("_", key)[:40]


def _identifier(ctx, scheme, value, where):
    value = value.strip()
    if scheme == SCHEME_GLN:
        result = normalize_gln(value)
        if not result.valid:
            ctx.issue("gln_invalid", result.message, where)
        elif result.value != value:
            value = result.value
    return Identifier(scheme=scheme, value=value[:128])


def _country(ctx, element, where):
    raw = _text(element, "cac:Country/cbc:IdentificationCode")
    result = normalize_country(raw)
    if result.message:
        ctx.issue("country_code", result.message, where)
    return result.code


def _address(ctx, element, where):
    if element is None:
        return None
    street = _text(element, "cbc:StreetName")
    street2 = _text(element, "cbc:AdditionalStreetName") or _text(
        element, "cac:AddressLine/cbc:Line"
    )
    values = {
        "street": street,
        "street2": street2,
        "city": _text(element, "cbc:CityName"),
        "state": _text(element, "cbc:CountrySubentity"),
        "zip": _text(element, "cbc:PostalZone"),
        "country_code": _country(ctx, element, where),
    }
    if not any(values.values()):
        return None
    return Address(**values)


def _party(ctx, role, where):
    """Canonical Party from a UBL role element (``AccountingSupplierParty``...)."""
    if role is None:
        return None
    # Account ids on the role: CustomerAssigned = given by the buyer, SupplierAssigned =
    # given by the seller.
    accounts = [
        (SCHEME_BUYER_ASSIGNED, _text(role, "cbc:CustomerAssignedAccountID")),
        (SCHEME_SELLER_ASSIGNED, _text(role, "cbc:SupplierAssignedAccountID")),
    ]
    return _party_element(ctx, _find(role, "cac:Party"), where, accounts)


def _party_element(ctx, party, where, accounts=()):
    """Canonical Party from a ``cac:Party`` (or PayeeParty) element."""
    identifiers = []
    source_scheme = SCHEME_SOURCE

    def add(scheme, value, path):
        if value and not any(i.scheme == scheme and i.value == value for i in identifiers):
            identifiers.append(_identifier(ctx, scheme, value, path))

    for scheme, value in accounts:
        add(scheme, value, where)
    if party is None:
        return Party(identifiers=identifiers) if identifiers else None
    endpoint = _find(party, "cbc:EndpointID")
    if endpoint is not None and _text(endpoint):
        add(
            _scheme(endpoint.get("schemeID"), source_scheme), _text(endpoint), f"{where}/EndpointID"
        )
    for node in party.findall("cac:PartyIdentification/cbc:ID", NS):
        if _text(node):
            add(
                _scheme(node.get("schemeID"), source_scheme),
                _text(node),
                f"{where}/PartyIdentification",
            )
    for tax in party.findall("cac:PartyTaxScheme", NS):
        company = _find(tax, "cbc:CompanyID")
        scheme_name = (_text(tax, "cac:TaxScheme/cbc:ID") or "").upper()
        if company is not None and _text(company) and "VAT" in scheme_name:
            add(SCHEME_VAT, _text(company).replace(" ", ""), f"{where}/PartyTaxScheme")
    legal = _find(party, "cac:PartyLegalEntity/cbc:CompanyID")
    if legal is not None and _text(legal) and legal.get("schemeID"):
        add(
            _scheme(legal.get("schemeID"), source_scheme), _text(legal), f"{where}/PartyLegalEntity"
        )
    name = _text(party, "cac:PartyName/cbc:Name") or _text(
        party, "cac:PartyLegalEntity/cbc:RegistrationName"
    )
    result = Party(
        identifiers=identifiers,
        name=name,
        address=_address(ctx, _find(party, "cac:PostalAddress"), where),
        email=_text(party, "cac:Contact/cbc:ElectronicMail"),
        phone=_text(party, "cac:Contact/cbc:Telephone"),
    )
    if not identifiers and not name:
        ctx.issue("party_unnamed", "party without identifier or name", where)
        return None
    return result


def _delivery_party(ctx, delivery, where):
    """Ship-to party from ``cac:Delivery`` (location id + address + delivery party name)."""
    if delivery is None:
        return None
    location = _find(delivery, "cac:DeliveryLocation")
    identifiers = []
    loc_id = _find(location, "cbc:ID")
    if loc_id is not None and _text(loc_id):
        identifiers.append(
            _identifier(
                ctx,
                _scheme(loc_id.get("schemeID"), SCHEME_SOURCE),
                _text(loc_id),
                f"{where}/DeliveryLocation",
            )
        )
    name = _text(delivery, "cac:DeliveryParty/cac:PartyName/cbc:Name")
    address = _address(ctx, _find(location, "cac:Address"), where)
    if not identifiers and not name:
        return None
    return Party(identifiers=identifiers, name=name, address=address)


# --------------------------------------------------------------------------- items


def _item(ctx, item, where):
    """ItemRef from ``cac:Item``; GTIN check digits are verified."""
    gtin = None
    for node in (
        item.findall("cac:StandardItemIdentification/cbc:ID", NS) if item is not None else []
    ):
        value = _text(node)
        if not value:
            continue
        scheme = (node.get("schemeID") or "").upper()
        result = normalize_gtin(value)
        if scheme and scheme not in _GTIN_SCHEMES:
            if not result.value.isdigit() or len(value) not in (8, 12, 13, 14):
                continue
            # Seen in the wild (even in PEPPOL's own example): a GTIN tagged 0088 (GLN).
            ctx.issue(
                "gtin_scheme", f"item id {value} has schemeID {scheme}, read as a GTIN", where
            )
        if result.value.isdigit() and len(value.strip()) in (8, 12, 13, 14):
            gtin = result.value
            if not result.valid:
                ctx.issue("gtin_check_digit", result.message, where)
        else:
            ctx.issue("gtin_invalid", result.message, where)
        break
    name = _text(item, "cbc:Name")
    description = _text(item, "cbc:Description")
    ref = ItemRef(
        gtin=gtin,
        vendor_part_number=_text(item, "cac:SellersItemIdentification/cbc:ID"),
        buyer_part_number=_text(item, "cac:BuyersItemIdentification/cbc:ID"),
        manufacturer_part_number=_text(item, "cac:ManufacturersItemIdentification/cbc:ID"),
        description=(name or description or None) and (name or description)[:1024],
    )
    if not any(
        (ref.gtin, ref.vendor_part_number, ref.buyer_part_number, ref.manufacturer_part_number)
    ):
        if not ref.description:
            raise ParseError("ubl_required", "line item has neither identifier nor name", where)
    return ref


def _traceability(ctx, item, where):
    """(lot, expiry, serials) from ``cac:ItemInstance`` elements, GS1 UDI strings included."""
    lots, expiries, serials = [], [], []
    for instance in item.findall("cac:ItemInstance", NS) if item is not None else []:
        serial = _text(instance, "cbc:SerialID")
        lot = _text(instance, "cac:LotIdentification/cbc:LotNumberID")
        expiry = _date(instance, "cac:LotIdentification/cbc:ExpiryDate", where)
        trace = _text(instance, "cbc:ProductTraceID")
        if trace:
            try:
                udi = parse_barcode(trace)
            except BarcodeError as exc:
                ctx.issue("udi_unreadable", f"ProductTraceID {trace!r}: {exc}", where)
            else:
                for message in udi.issues:
                    ctx.issue("udi_quality", f"ProductTraceID: {message}", where)
                lot = lot or udi.lot
                expiry = expiry or udi.expiry
                serial = serial or udi.serial
        if serial and serial not in serials:
            serials.append(serial)
        if lot and lot not in lots:
            lots.append(lot)
        if expiry and expiry not in expiries:
            expiries.append(expiry)
    if len(lots) > 1:
        ctx.issue(
            "lot_multiple", f"several lots on one line ({', '.join(lots)}); first kept", where
        )
    if any(len(lot) > 20 for lot in lots):
        ctx.issue(
            "lot_too_long", "lot number longer than 20 characters (GS1 AI 10) truncated", where
        )
    return (lots[0][:20] if lots else None), (min(expiries) if expiries else None), serials


def _tax_category(ctx, category, where, taxable_amount=None, amount=None):
    """TaxLine from a ``TaxCategory``/``ClassifiedTaxCategory`` (``None`` when absent).

    UNCL5305 codes are kept; national names (OIOUBL ``StandardRated``...) are mapped to
    them and unknown codes kept as stated, each with a data-quality issue.
    """
    if category is None:
        return None
    raw = _text(category, "cbc:ID")
    code = raw.upper() if raw else None
    if code and code not in _UNCL5305:
        mapped = _TAX_CATEGORY_ALIASES.get(code.replace(" ", "").replace("_", ""))
        if mapped:
            ctx.issue("tax_category_mapped", f"tax category {raw!r} read as {mapped}", where)
            code = mapped
        else:
            ctx.issue("tax_category_unknown", f"tax category {raw!r} is not UNCL5305", where)
            code = raw[:32]
    scheme = _text(category, "cac:TaxScheme/cbc:ID")
    tax_type = (scheme or "VAT").upper()
    if tax_type in _TAX_SCHEME_ALIASES:
        tax_type = _TAX_SCHEME_ALIASES[tax_type]
    reason = _text(category, "cbc:TaxExemptionReason") or _text(
        category, "cbc:TaxExemptionReasonCode"
    )
    return TaxLine(
        tax_type=tax_type[:32],
        category=code,
        rate=_decimal(category, "cbc:Percent", where),
        taxable_amount=taxable_amount,
        amount=amount,
        exemption_reason=reason[:256] if reason else None,
    )


def _allowance_charges(ctx, element, where):
    """AllowanceCharges of ``element`` with their signed amounts (see :func:`_unsigned`)."""
    result = []
    for index, node in enumerate(element.findall("cac:AllowanceCharge", NS)):
        path = f"{where}/AllowanceCharge[{index}]"
        indicator = (_text(node, "cbc:ChargeIndicator") or "").lower()
        amount = _decimal(node, "cbc:Amount", path, required=True)
        taxes = [
            _tax_category(ctx, category, path) for category in node.findall("cac:TaxCategory", NS)
        ]
        result.append(
            AllowanceCharge(
                is_charge=indicator == "true",
                amount=amount,
                reason_code=(_text(node, "cbc:AllowanceChargeReasonCode") or "")[:16] or None,
                reason=(_text(node, "cbc:AllowanceChargeReason") or "")[:256] or None,
                taxes=taxes,
            )
        )
    return result


def _unsigned(ctx, charges, where):
    """Allowances/charges with positive amounts: a negative allowance is a charge.

    ``-10`` allowed is ``+10`` charged (the total moves the same way), so the canonical
    positive amount never changes what the document adds up to.
    """
    result = []
    for ac in charges:
        if ac.amount < 0:
            kind = "charge" if ac.is_charge else "allowance"
            ctx.issue(
                "allowance_charge_negative",
                f"negative {kind} {ac.amount} read as a positive "
                f"{'allowance' if ac.is_charge else 'charge'}",
                where,
            )
            ac = replace(ac, is_charge=not ac.is_charge, amount=-ac.amount)
        result.append(ac)
    return result


def _tax_lines(ctx, total_element):
    result = []
    for index, sub in enumerate(total_element.findall("cac:TaxSubtotal", NS)):
        where = f"TaxSubtotal[{index}]"
        taxable = _decimal(sub, "cbc:TaxableAmount", where)
        amount = _decimal(sub, "cbc:TaxAmount", where, required=True)
        tax = _tax_category(ctx, _find(sub, "cac:TaxCategory"), where, taxable, amount)
        result.append(tax or TaxLine(taxable_amount=taxable, amount=amount))
    return result


def _document_tax_total(root, currency):
    """The TaxTotal in the document currency (a second one may be in accounting currency)."""
    totals = root.findall("cac:TaxTotal", NS)
    for total in totals:
        amount = _find(total, "cbc:TaxAmount")
        if amount is not None and (not currency or amount.get("currencyID") in (None, currency)):
            return total
    return totals[0] if totals else None


# --------------------------------------------------------------------------- documents


def _neg(value):
    return -value if value is not None else None


def _negate_tax(tax):
    return replace(tax, taxable_amount=_neg(tax.taxable_amount), amount=_neg(tax.amount))


def _negate_charge(ac):
    return replace(ac, amount=-ac.amount, taxes=[_negate_tax(t) for t in ac.taxes])


def _split_totals(allowance_total, charge_total):
    """Stated allowance and charge totals as two non-negative amounts.

    A negative allowance total is a charge and vice versa; the net effect on the
    document (``charge_total - allowance_total``) is unchanged.
    """
    if allowance_total is None and charge_total is None:
        return None, None
    allowances = charges = Decimal(0)
    for value, is_charge in ((allowance_total, False), (charge_total, True)):
        if value is None:
            continue
        if (value >= 0) != is_charge:
            allowances += abs(value)
        else:
            charges += abs(value)
    if allowance_total is None and not allowances:
        allowances = None
    if charge_total is None and not charges:
        charges = None
    return allowances, charges


def _same(computed, stated):
    """Whether ``computed`` rounds (half-up) to ``stated`` at the stated precision."""
    exponent = min(stated.as_tuple().exponent, 0)
    return computed.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP) == stated


def _reconcile_line(ctx, line, price, where):
    """Read the line's allowances the way its stated LineExtensionAmount adds up.

    UBL says LineExtensionAmount = quantity x PriceAmount / BaseQuantity + line charges -
    line allowances, PriceAmount being the net price (``cac:Price/cac:AllowanceCharge``
    only explains how it was derived from a gross price).  Two real dialects differ, and
    are recognised only when their reading is the one that adds up:

    * Jordan's JoFotara puts the line's whole discount in ``cac:Price/cac:AllowanceCharge``
      with a gross PriceAmount: the discount becomes a line allowance;
    * Odoo's OIOUBL export states a net PriceAmount *and* the discount as a line
      AllowanceCharge: the allowance is already in the price and is not deducted again.
    """
    stated = line.line_total
    if stated is None or _same(line.computed_total(), stated):
        return line
    gross = line.quantity * line.unit_price / line.price_base_quantity
    price_allowances = []
    for node in price.findall("cac:AllowanceCharge", NS) if price is not None else []:
        amount = _decimal(node, "cbc:Amount", where)
        if amount and (_text(node, "cbc:ChargeIndicator") or "").lower() != "true":
            reason = _text(node, "cbc:AllowanceChargeReason")
            price_allowances.append(
                AllowanceCharge(
                    is_charge=False,
                    amount=amount,
                    reason_code=(_text(node, "cbc:AllowanceChargeReasonCode") or "")[:16] or None,
                    reason=(reason or "price discount")[:256],
                )
            )
    if price_allowances:
        candidate = replace(line, allowance_charges=[*line.allowance_charges, *price_allowances])
        if _same(candidate.computed_total(), stated):
            ctx.issue(
                "price_allowance_on_line",
                "the price discount (cac:Price/cac:AllowanceCharge) is the line's total "
                "discount, read as a line allowance",
                where,
            )
            return candidate
    if line.allowance_charges and _same(gross, stated):
        ctx.issue(
            "line_allowance_in_price",
            "PriceAmount is already net of the line's AllowanceCharge, which is not deducted "
            "again: "
            + ", ".join(
                f"{'charge' if ac.is_charge else 'allowance'} {ac.amount}"
                for ac in line.allowance_charges
            ),
            where,
        )
        return replace(line, allowance_charges=[])
    return line


def _invoice_line(ctx, node, index, line_tag, qty_tag):
    where = f"{line_tag[4:]}[{index}]"
    qty_node = _find(node, qty_tag)
    quantity = _decimal(node, qty_tag, where, required=True)
    price = _find(node, "cac:Price")
    base = _decimal(price, "cbc:BaseQuantity", where) or Decimal(1)
    line_total = _decimal(node, "cbc:LineExtensionAmount", where)
    charges = _allowance_charges(ctx, node, where)
    unit_price = _decimal(price, "cbc:PriceAmount", where)
    if unit_price is None:
        if line_total is None:
            raise ParseError("ubl_required", "cbc:PriceAmount is missing", where)
        # Seen in Odoo's own exports of lines without a price: the amount is the truth.
        adjust = sum((-ac.amount if ac.is_charge else ac.amount for ac in charges), Decimal(0))
        gross = line_total + adjust
        unit_price = gross / quantity * base if quantity else gross
        if quantity:
            unit_price = unit_price.quantize(Decimal("1E-6"), rounding=ROUND_HALF_UP).normalize()
        ctx.issue(
            "price_missing",
            f"no PriceAmount: unit price {unit_price} derived from LineExtensionAmount",
            where,
        )
        if not quantity:
            quantity = Decimal(1)
    line_tax = _find(node, "cac:TaxTotal")
    tax_amount = (
        _decimal(line_tax, "cbc:TaxAmount", where, required=True) if line_tax is not None else None
    )
    taxes = [
        _tax_category(ctx, category, where, line_total)
        for category in node.findall("cac:Item/cac:ClassifiedTaxCategory", NS)
    ]
    if not taxes and line_tax is not None and line_tax.findall("cac:TaxSubtotal", NS):
        # OIOUBL lines state their tax as a TaxTotal with subtotals, not on the item.
        taxes = _tax_lines(ctx, line_tax)
    elif tax_amount is not None:
        if len(taxes) == 1:
            taxes[0] = replace(taxes[0], amount=tax_amount)
        elif not taxes:
            taxes = [TaxLine(taxable_amount=line_total, amount=tax_amount)]
        else:
            ctx.issue(
                "line_tax_ambiguous",
                f"line TaxTotal {tax_amount} over {len(taxes)} tax categories: not split",
                where,
            )
    line = InvoiceLine(
        line_number=_required_text(node, "cbc:ID", where),
        po_number=_text(node, "cac:OrderLineReference/cac:OrderReference/cbc:ID"),
        po_line_ref=_text(node, "cac:OrderLineReference/cbc:LineID"),
        item=_item(ctx, _find(node, "cac:Item"), where),
        quantity=quantity,
        uom=_uom(ctx, qty_node, where),
        unit_price=unit_price,
        price_base_quantity=base,
        allowance_charges=charges,
        line_total=line_total,
        taxes=taxes,
    )
    return _reconcile_line(ctx, line, price, where)


def _normalise_line(ctx, line, index, negate):
    """Canonical signs: a negated document's amounts flip; unit price and allowances >= 0."""
    where = f"line {line.line_number}"
    quantity, unit_price, line_total = line.quantity, line.unit_price, line.line_total
    charges, taxes = line.allowance_charges, line.taxes
    if negate:
        quantity, line_total = -quantity, _neg(line_total)
        charges = [_negate_charge(ac) for ac in charges]
        taxes = [_negate_tax(t) for t in taxes]
    if unit_price < 0:
        # The amount is quantity x price: a negative price is a negative quantity.
        ctx.issue(
            "unit_price_negative",
            f"negative unit price {unit_price}: read as {-unit_price} for {-quantity}",
            where,
        )
        quantity, unit_price = -quantity, -unit_price
    return replace(
        line,
        quantity=quantity,
        unit_price=unit_price,
        line_total=line_total,
        allowance_charges=_unsigned(ctx, charges, where),
        taxes=taxes,
    )


def _invoice(ctx, root, kind):
    is_credit_root = kind == "CreditNote"
    number = _required_text(root, "cbc:ID", kind)
    type_code = _text(root, "cbc:CreditNoteTypeCode" if is_credit_root else "cbc:InvoiceTypeCode")
    credit = is_credit_root or type_code in _CREDIT_NOTE_TYPE_CODES
    currency = _required_text(root, "cbc:DocumentCurrencyCode", kind).upper()
    line_tag = "cac:CreditNoteLine" if is_credit_root else "cac:InvoiceLine"
    qty_tag = "cbc:CreditedQuantity" if is_credit_root else "cbc:InvoicedQuantity"
    lines = [
        _invoice_line(ctx, node, index, line_tag, qty_tag)
        for index, node in enumerate(root.findall(line_tag, NS))
    ]
    if not lines:
        raise ParseError("ubl_required", f"{kind} has no {line_tag[4:]}", kind)
    w = "LegalMonetaryTotal"
    totals = _find(root, "cac:LegalMonetaryTotal")
    tax_total = _document_tax_total(root, currency)
    gross = _decimal(totals, "cbc:TaxInclusiveAmount", w)
    payable = _decimal(totals, "cbc:PayableAmount", w)
    if gross is None and payable is None:
        raise ParseError(
            "ubl_required", "LegalMonetaryTotal has no TaxInclusiveAmount/PayableAmount", kind
        )
    net = _decimal(totals, "cbc:LineExtensionAmount", w)
    if net is not None:
        computed = sum((ln.line_total for ln in lines if ln.line_total is not None), Decimal(0))
        if computed != net:
            ctx.issue(
                "total_mismatch", f"lines add up to {computed}, LineExtensionAmount says {net}", w
            )
    tax_exclusive = _decimal(totals, "cbc:TaxExclusiveAmount", w)
    if tax_exclusive is not None and (_text(root, "cbc:CustomizationID") or "").upper().startswith(
        "OIOUBL"
    ):
        # OIOUBL (Denmark) states the total VAT in TaxExclusiveAmount, not the total
        # without VAT (Odoo's l10n_dk_oioubl writes and reads it so).
        ctx.issue(
            "oioubl_tax_exclusive",
            f"OIOUBL TaxExclusiveAmount {tax_exclusive} is the VAT total, not read as the "
            "total without tax",
            w,
        )
        tax_exclusive = None
    amounts = {
        "net_total": net,
        "tax_exclusive_total": tax_exclusive,
        "tax_total": _decimal(tax_total, "cbc:TaxAmount", "TaxTotal")
        if tax_total is not None
        else None,
        "gross_total": gross if gross is not None else payable,
        "prepaid_amount": _decimal(totals, "cbc:PrepaidAmount", w),
        "rounding_amount": _decimal(totals, "cbc:PayableRoundingAmount", w),
        "payable_amount": payable,
    }
    allowance_total = _decimal(totals, "cbc:AllowanceTotalAmount", w)
    charge_total = _decimal(totals, "cbc:ChargeTotalAmount", w)
    charges = _allowance_charges(ctx, root, kind)
    taxes = _tax_lines(ctx, tax_total) if tax_total is not None else []
    # A credit expressed with negative amounts (InvoiceTypeCode 380, PayableAmount < 0),
    # or a negative credit note: the direction goes to move_type, amounts become positive.
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
    line_allowances = sum(
        (ac.amount for ln in lines for ac in ln.allowance_charges if not ac.is_charge),
        Decimal(0),
    )
    if (
        allowance_total
        and amounts["net_total"] is None
        and amounts["tax_exclusive_total"] is not None
        and sum((ac.amount for ac in charges if not ac.is_charge), Decimal(0))
        in (0, allowance_total)
        and line_allowances == allowance_total
        and amounts["tax_exclusive_total"] - allowance_total
        == sum((ln.line_total or 0 for ln in lines), Decimal(0))
    ):
        # Jordan's JoFotara: TaxExclusiveAmount before the line discounts, whose sum is
        # AllowanceTotalAmount (and a document AllowanceCharge repeating it); the
        # canonical figures are those after the line discounts, counted once.
        ctx.issue(
            "allowance_total_of_lines",
            f"AllowanceTotalAmount {allowance_total} sums the line discounts and "
            "TaxExclusiveAmount is before them: read as line allowances only",
            w,
        )
        amounts["tax_exclusive_total"] -= allowance_total
        allowance_total = None
        charges = [ac for ac in charges if ac.is_charge]
    po_numbers = [n for n in [_text(root, "cac:OrderReference/cbc:ID")] if n]
    original = _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
    if original and not credit:
        ctx.issue(
            "billing_reference", f"invoice refers to invoice {original}: a corrective invoice", kind
        )
        original = None
    vendor = _party(ctx, _find(root, "cac:AccountingSupplierParty"), "AccountingSupplierParty")
    if vendor is None:
        raise ParseError("ubl_required", "AccountingSupplierParty is missing", kind)
    due = _date(root, "cbc:DueDate", kind) or _date(
        root, "cac:PaymentMeans/cbc:PaymentDueDate", kind
    )
    payee = _find(root, "cac:PayeeParty")
    document = Invoice(
        number=number,
        move_type="credit_note" if credit else "invoice",
        issue_date=_date(root, "cbc:IssueDate", kind, required=True),
        due_date=due,
        currency=currency,
        vendor=vendor,
        buyer=_party(ctx, _find(root, "cac:AccountingCustomerParty"), "AccountingCustomerParty"),
        ship_to=_delivery_party(ctx, _find(root, "cac:Delivery"), "Delivery"),
        remit_to=_party_element(ctx, payee, "PayeeParty") if payee is not None else None,
        po_numbers=po_numbers,
        original_invoice_number=original,
        payment_terms=(_text(root, "cac:PaymentTerms/cbc:Note") or "")[:128] or None,
        lines=lines,
        allowance_charges=_unsigned(ctx, charges, kind),
        taxes=taxes,
        allowance_total=allowance_total,
        charge_total=charge_total,
        **amounts,
    )
    return document


def _order(ctx, root, kind):
    number = _required_text(root, "cbc:ID", kind)
    vendor = _party(ctx, _find(root, "cac:SellerSupplierParty"), "SellerSupplierParty")
    if vendor is None:
        raise ParseError("ubl_required", "SellerSupplierParty is missing", kind)
    lines = []
    # Lines whose stated amount is not quantity x price (line allowances or charges,
    # which the canonical order does not carry): the order total cannot be checked.
    uncomparable = []
    for index, node in enumerate(root.findall("cac:OrderLine/cac:LineItem", NS)):
        where = f"OrderLine[{index}]"
        qty_node = _find(node, "cbc:Quantity")
        price = _find(node, "cac:Price")
        unit_price = _decimal(price, "cbc:PriceAmount", where)
        base = _decimal(price, "cbc:BaseQuantity", where)
        if unit_price is not None and base not in (None, Decimal(0), Decimal(1)):
            # The PO line has no price base: express the price per single unit.
            unit_price = unit_price / base
        stated = _decimal(node, "cbc:LineExtensionAmount", where)
        quantity = _decimal(node, "cbc:Quantity", where)
        if node.find("cac:AllowanceCharge", NS) is not None or (
            stated is not None
            and unit_price is not None
            and quantity is not None
            and (quantity * unit_price).quantize(stated) != stated
        ):
            uncomparable.append(_text(node, "cbc:ID") or str(index + 1))
        delivery = _find(node, "cac:Delivery/cac:RequestedDeliveryPeriod")
        lines.append(
            PurchaseOrderLine(
                line_number=_required_text(node, "cbc:ID", where),
                item=_item(ctx, _find(node, "cac:Item"), where),
                quantity=_decimal(node, "cbc:Quantity", where, required=True),
                uom=_uom(ctx, qty_node, where),
                unit_price=unit_price,
                requested_date=_date(delivery, "cbc:StartDate", where)
                or _date(delivery, "cbc:EndDate", where),
            )
        )
    if not lines:
        raise ParseError("ubl_required", "Order has no OrderLine", kind)
    delivery = _find(root, "cac:Delivery")
    period = _find(delivery, "cac:RequestedDeliveryPeriod")
    totals = _find(root, "cac:AnticipatedMonetaryTotal")
    # The lines' sum (LineExtensionAmount) is what the canonical order's lines can be
    # checked against; PayableAmount also holds taxes, charges and prepayments.
    total = _decimal(totals, "cbc:LineExtensionAmount", "AnticipatedMonetaryTotal")
    if total is not None and uncomparable:
        ctx.issue(
            "order_total_not_checked",
            f"lines {', '.join(uncomparable)} carry allowances or charges: the order total "
            f"{total} is not checked against quantity x price",
            "AnticipatedMonetaryTotal",
        )
        total = None
    return PurchaseOrder(
        number=number,
        order_date=_date(root, "cbc:IssueDate", kind, required=True),
        currency=(_text(root, "cbc:DocumentCurrencyCode") or "").upper() or None,
        vendor=vendor,
        buyer=_party(ctx, _find(root, "cac:BuyerCustomerParty"), "BuyerCustomerParty"),
        ship_to=_delivery_party(ctx, delivery, "Delivery"),
        bill_to=_party(ctx, _find(root, "cac:AccountingCustomerParty"), "AccountingCustomerParty"),
        contract_reference=_text(root, "cac:Contract/cbc:ID"),
        payment_terms=(_text(root, "cac:PaymentTerms/cbc:Note") or "")[:128] or None,
        requested_date=_date(period, "cbc:StartDate", kind) or _date(period, "cbc:EndDate", kind),
        total_amount=total,
        lines=lines,
    )


def _despatch(ctx, root, kind):
    asn = _required_text(root, "cbc:ID", kind)
    header_po = _text(root, "cac:OrderReference/cbc:ID")
    lines = []
    for index, node in enumerate(root.findall("cac:DespatchLine", NS)):
        where = f"DespatchLine[{index}]"
        qty_node = _find(node, "cbc:DeliveredQuantity")
        item = _find(node, "cac:Item")
        lot, expiry, serials = _traceability(ctx, item, where)
        line_po = _text(node, "cac:OrderLineReference/cac:OrderReference/cbc:ID")
        lines.append(
            ShipNoticeLine(
                line_number=_required_text(node, "cbc:ID", where),
                po_number=line_po,
                po_line_ref=_text(node, "cac:OrderLineReference/cbc:LineID"),
                item=_item(ctx, item, where),
                quantity=_decimal(node, "cbc:DeliveredQuantity", where, required=True),
                uom=_uom(ctx, qty_node, where),
                lot=lot,
                expiry_date=expiry,
                serials=serials,
            )
        )
    if not lines:
        raise ParseError("ubl_required", "DespatchAdvice has no DespatchLine", kind)
    po_number = header_po or next((ln.po_number for ln in lines if ln.po_number), None)
    if not po_number:
        raise ParseError(
            "ubl_required", "no OrderReference: the shipment cannot be tied to a PO", kind
        )
    shipment = _find(root, "cac:Shipment")
    delivery = _find(shipment, "cac:Delivery")
    consignment = _find(shipment, "cac:Consignment")
    ship_date = _date(delivery, "cac:Despatch/cbc:ActualDespatchDate", kind) or _date(
        root, "cbc:IssueDate", kind, required=True
    )
    expected = _date(delivery, "cac:EstimatedDeliveryPeriod/cbc:StartDate", kind) or _date(
        delivery, "cac:PromisedDeliveryPeriod/cbc:StartDate", kind
    )
    tracking = _text(consignment, "cbc:CarrierAssignedID") or _text(delivery, "cbc:TrackingID")
    return ShipNotice(
        asn_number=asn,
        po_number=po_number,
        ship_date=ship_date,
        expected_delivery_date=expected,
        vendor=_party(ctx, _find(root, "cac:DespatchSupplierParty"), "DespatchSupplierParty"),
        ship_to=_party(ctx, _find(root, "cac:DeliveryCustomerParty"), "DeliveryCustomerParty"),
        carrier=_text(consignment, "cac:CarrierParty/cac:PartyName/cbc:Name"),
        tracking_number=tracking or _text(consignment, "cbc:ID"),
        lines=lines,
    )


def _receipt(ctx, root, kind):
    receipt_id = _required_text(root, "cbc:ID", kind)
    po_number = _text(root, "cac:OrderReference/cbc:ID")
    lines = []
    for index, node in enumerate(root.findall("cac:ReceiptLine", NS)):
        where = f"ReceiptLine[{index}]"
        qty_node = _find(node, "cbc:ReceivedQuantity")
        item = _find(node, "cac:Item")
        lot, expiry, serials = _traceability(ctx, item, where)
        short = _decimal(node, "cbc:ShortQuantity", where)
        if short:
            # The canonical receipt has no "short" figure: received vs ordered shows it.
            ctx.issue("short_quantity", f"receiving reports {short} short", where)
        po_number = po_number or _text(node, "cac:OrderLineReference/cac:OrderReference/cbc:ID")
        lines.append(
            ReceiptLine(
                line_number=_required_text(node, "cbc:ID", where),
                po_line_ref=_text(node, "cac:OrderLineReference/cbc:LineID"),
                item=_item(ctx, item, where),
                quantity_received=_decimal(node, "cbc:ReceivedQuantity", where, required=True),
                quantity_rejected=_decimal(node, "cbc:RejectedQuantity", where),
                uom=_uom(ctx, qty_node, where),
                lot=lot,
                expiry_date=expiry,
                serials=serials,
                reject_reason=(_text(node, "cbc:RejectReason") or "")[:256] or None,
            )
        )
    if not lines:
        raise ParseError("ubl_required", "ReceiptAdvice has no ReceiptLine", kind)
    if not po_number:
        raise ParseError(
            "ubl_required", "no OrderReference: the receipt cannot be tied to a PO", kind
        )
    facility = _party(ctx, _find(root, "cac:DeliveryCustomerParty"), "DeliveryCustomerParty")
    if facility is None:
        raise ParseError(
            "ubl_required", "DeliveryCustomerParty (receiving facility) is missing", kind
        )
    delivery = _find(root, "cac:Shipment/cac:Delivery")
    received = _date(delivery, "cbc:ActualDeliveryDate", kind) or _date(
        root, "cbc:IssueDate", kind, required=True
    )
    return Receipt(
        receipt_id=receipt_id,
        po_number=po_number,
        asn_number=_text(root, "cac:DespatchDocumentReference/cbc:ID"),
        facility=facility,
        received_date=received,
        lines=lines,
    )


# PEPPOL BIS Ordering 3 OrderResponseCode (UNCL4343 subset) -> canonical status.
_ORDER_RESPONSE_CODES = {
    "AP": "accepted",
    "AB": "accepted",  # acknowledged: received, no decision on the content (an issue says so)
    "CA": "accepted_with_changes",
    "RE": "rejected",
}
# LineStatusCode (UNCL1229 subset of PEPPOL) -> canonical line status.
_LINE_STATUS_CODES = {
    "5": "accept",  # accepted without amendment
    "42": "accept",  # already delivered
    "3": "change",  # changed
    "1": "change",  # added by the seller: recorded, never applied to a line that is not there
    "7": "reject",  # not accepted
}


def _response_item(ctx, item, where):
    """The line's item when it names one (PEPPOL requires ``cac:Item``, which may be empty)."""
    if item is None or not any(
        _text(node) for node in item.iter() if node is not item and len(node) == 0
    ):
        return None
    return _item(ctx, item, where)


def _order_response_line(ctx, node, index):
    where = f"OrderLine[{index}]"
    item_node = _find(node, "cac:LineItem")
    if item_node is None:
        raise ParseError("ubl_required", "cac:LineItem is missing", where)
    code = _text(item_node, "cbc:LineStatusCode")
    status = _LINE_STATUS_CODES.get(code or "")
    if status is None:
        raise ParseError(
            "ubl_value",
            f"LineStatusCode {code!r} is not one of {', '.join(sorted(_LINE_STATUS_CODES))}",
            where,
        )
    reference = _text(node, "cac:OrderLineReference/cbc:LineID")
    line_number = reference if reference and reference.upper() != "NA" else None
    line_number = line_number or _required_text(item_node, "cbc:ID", where)
    notes = [_text(item_node, "cbc:Note")]
    if code == "1":
        ctx.issue("order_line_added", f"the seller added line {line_number}", where)
        notes.append("line added by the seller")
    elif code == "42":
        notes.append("already delivered")
    substitute = _find(node, "cac:SellerSubstitutedLineItem/cac:Item")
    if substitute is not None:
        ref = _response_item(ctx, substitute, f"{where}/SellerSubstitutedLineItem")
        label = ref and (ref.vendor_part_number or ref.gtin or ref.description)
        ctx.issue("order_line_substituted", f"line {line_number} substituted by {label}", where)
        notes.append(f"substituted by {label}")
        status = "change" if status == "accept" else status
    price = _find(item_node, "cac:Price")
    unit_price = _decimal(price, "cbc:PriceAmount", where)
    base = _decimal(price, "cbc:BaseQuantity", where)
    if unit_price is not None and base not in (None, Decimal(0), Decimal(1)):
        unit_price = unit_price / base  # the canonical price is per single unit
    quantity_node = _find(item_node, "cbc:Quantity")
    period = _find(item_node, "cac:Delivery/cac:PromisedDeliveryPeriod")
    reason = "; ".join(note for note in notes if note)
    return PoAckLine(
        line_number=line_number,
        status=status,
        item=_response_item(ctx, _find(item_node, "cac:Item"), where),
        quantity=_decimal(item_node, "cbc:Quantity", where),
        uom=_uom(ctx, quantity_node, where) if quantity_node is not None else None,
        unit_price=unit_price,
        scheduled_date=_date(period, "cbc:StartDate", where) or _date(period, "cbc:EndDate", where),
        reason=reason[:256] or None,
    )


def _ack_status(status, lines):
    """The acknowledgment's status as its lines tell it (as for an X12 855)."""
    if lines and all(line.status == "reject" for line in lines):
        return "rejected"
    if status == "accepted" and any(line.status != "accept" for line in lines):
        return "accepted_with_changes"
    return status


def _order_response(ctx, root, kind):
    """PEPPOL BIS Ordering 3 / UBL 2.1 OrderResponse -> :class:`PoAck`."""
    code = _required_text(root, "cbc:OrderResponseCode", kind)
    status = _ORDER_RESPONSE_CODES.get(code.upper())
    if status is None:
        raise ParseError(
            "ubl_value",
            f"OrderResponseCode {code!r} is not one of {', '.join(sorted(_ORDER_RESPONSE_CODES))}",
            kind,
        )
    if code.upper() == "AB":
        ctx.issue(
            "order_response_acknowledged",
            "the seller acknowledged receiving the order (AB) without deciding on its content",
            kind,
        )
    note = _text(root, "cbc:Note")
    if note:
        ctx.issue("order_response_note", note[:512], kind)
    lines = [
        _order_response_line(ctx, node, index)
        for index, node in enumerate(root.findall("cac:OrderLine", NS))
    ]
    return PoAck(
        po_number=_required_text(root, "cac:OrderReference/cbc:ID", kind),
        ack_number=_text(root, "cbc:ID"),
        ack_date=_date(root, "cbc:IssueDate", kind, required=True),
        status=_ack_status(status, lines),
        vendor=_party(ctx, _find(root, "cac:SellerSupplierParty"), "SellerSupplierParty"),
        buyer=_party(ctx, _find(root, "cac:BuyerCustomerParty"), "BuyerCustomerParty"),
        currency=(_text(root, "cbc:DocumentCurrencyCode") or "").upper() or None,
        lines=lines,
    )


def _order_response_simple(ctx, root, kind):
    """UBL 2.1 OrderResponseSimple (accepted or rejected, no lines) -> :class:`PoAck`."""
    indicator = (_required_text(root, "cbc:AcceptedIndicator", kind)).lower()
    if indicator not in ("true", "false"):
        raise ParseError(
            "ubl_value", f"AcceptedIndicator {indicator!r} is neither true nor false", kind
        )
    note = _text(root, "cbc:RejectionNote") or _text(root, "cbc:Note")
    if note:
        ctx.issue("order_response_note", note[:512], kind)
    return PoAck(
        po_number=_required_text(root, "cac:OrderReference/cbc:ID", kind),
        ack_number=_text(root, "cbc:ID"),
        ack_date=_date(root, "cbc:IssueDate", kind, required=True),
        status="accepted" if indicator == "true" else "rejected",
        vendor=_party(ctx, _find(root, "cac:SellerSupplierParty"), "SellerSupplierParty"),
        buyer=_party(ctx, _find(root, "cac:BuyerCustomerParty"), "BuyerCustomerParty"),
        lines=[],
    )


_READERS = {
    "Invoice": _invoice,
    "CreditNote": _invoice,
    "Order": _order,
    "DespatchAdvice": _despatch,
    "ReceiptAdvice": _receipt,
    "OrderResponse": _order_response,
    "OrderResponseSimple": _order_response_simple,
}
# The canonical document type of each supported root element.
ROOT_DOC_TYPES = {
    "Invoice": "invoice",
    "CreditNote": "invoice",
    "Order": "purchase_order",
    "DespatchAdvice": "ship_notice",
    "ReceiptAdvice": "receipt",
    "OrderResponse": "po_ack",
    "OrderResponseSimple": "po_ack",
}


def parse(payload, max_bytes=DEFAULT_MAX_BYTES):
    """Parse one UBL document (bytes) into ``[ParsedDocument]``.

    :raises ParseError: ``xml_*`` from :func:`~.safe_xml.parse_xml`; ``ubl_unsupported``
        for another root element; ``ubl_required``/``ubl_value`` when a field the
        canonical model needs is missing or unreadable.
    """
    root = parse_xml(payload, max_bytes=max_bytes)
    kind = local_name(root)
    reader = _READERS.get(kind)
    namespace = root.nsmap.get(root.prefix)
    if reader is None or namespace != _ROOT_NS.format(kind):
        raise ParseError(
            "ubl_unsupported",
            f"root element {{{namespace}}}{kind} is not a supported UBL 2 document",
        )
    ctx = _Context()
    document = reader(ctx, root, kind)
    return [ParsedDocument(document=document, issues=list(ctx.issues), source_format=FORMAT)]
