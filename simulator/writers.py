"""Supplier invoices in their real formats, from a canonical invoice dict.

The dict is the canonical JSON invoice (``number``, ``issue_date``, ``currency``,
``vendor``, ``buyer``, ``po_numbers``, ``lines`` with ``gtin``/``vendor_part_number``,
``quantity``, ``uom``, ``unit_price``, ``line_total``, line ``allowance_charges`` and
``taxes``; document ``allowance_charges``, ``taxes`` and the totals ``net_total``,
``allowance_total``, ``charge_total``, ``tax_exclusive_total``, ``tax_total``,
``gross_total``, ``payable_amount``), as :mod:`simulator.generator` makes it.  Each writer
returns ``bytes`` stating the same amounts (a test reads them back with the product's
own readers): UBL 2.1 / PEPPOL BIS 3, ASC X12 810 (004010, item-level or summary) and
cXML ``InvoiceDetailRequest``.  Amounts are written as given, so an invoice the generator
made wrong on purpose (a total that does not add up, a wrong tax, a line amount that is
not quantity x price) is wrong the same way in every format.
"""

from decimal import Decimal
from xml.sax.saxutils import escape
from xml.sax.saxutils import quoteattr


def _gln(party):
    return next(i["value"] for i in party["identifiers"] if i["scheme"] == "GLN")


def _money(value):
    return f"{Decimal(value):.2f}"


def _line_total(line):
    """The line amount the supplier states (quantity x price when it states none)."""
    if line.get("line_total") is not None:
        return Decimal(line["line_total"])
    return Decimal(line["quantity"]) * Decimal(line["unit_price"])


def _tax(taxes):
    """The one tax (category, rate) a line or document states, or None."""
    return taxes[0] if taxes else None


def _cents(amount):
    return int((Decimal(amount) * 100).to_integral_value())


# --------------------------------------------------------------------------- UBL


def _ubl_tax_category(tax, tag="cac:TaxCategory"):
    """A UBL tax category (``ClassifiedTaxCategory`` on items); nothing when untaxed."""
    if tax is None:
        return ""
    reason = (
        f"<cbc:TaxExemptionReason>{escape(tax['exemption_reason'])}</cbc:TaxExemptionReason>"
        if tax.get("exemption_reason")
        else ""
    )
    return (
        f"<{tag}><cbc:ID>{tax['category']}</cbc:ID><cbc:Percent>{tax['rate']}</cbc:Percent>"
        f"{reason}<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></{tag}>"
    )


def _ubl_allowance_charges(entries, cur, with_tax):
    out = ""
    for ac in entries or ():
        tax = _ubl_tax_category(_tax(ac.get("taxes"))) if with_tax else ""
        out += f"""
  <cac:AllowanceCharge>
    <cbc:ChargeIndicator>{"true" if ac["is_charge"] else "false"}</cbc:ChargeIndicator>
    <cbc:AllowanceChargeReasonCode>{escape(ac["reason_code"])}</cbc:AllowanceChargeReasonCode>
    <cbc:AllowanceChargeReason>{escape(ac["reason"])}</cbc:AllowanceChargeReason>
    <cbc:Amount currencyID="{cur}">{_money(ac["amount"])}</cbc:Amount>{tax}
  </cac:AllowanceCharge>"""
    return out


def ubl_invoice(inv):
    """UBL 2.1 Invoice, PEPPOL BIS Billing 3.0 identifiers (0088 GLN, 0160 GTIN).

    Line allowances sit on their line (its LineExtensionAmount is net of them), document
    allowances and charges carry their tax category; a document stating no tax has a
    TaxTotal of zero with no category (and no category on its items).
    """
    cur = inv["currency"]
    lines = []
    for line in inv["lines"]:
        item = line["item"]
        ids = ""
        if item.get("vendor_part_number"):
            ids += (
                "<cac:SellersItemIdentification><cbc:ID>"
                f"{escape(item['vendor_part_number'])}</cbc:ID></cac:SellersItemIdentification>"
            )
        if item.get("gtin"):
            ids += (
                '<cac:StandardItemIdentification><cbc:ID schemeID="0160">'
                f"{item['gtin']}</cbc:ID></cac:StandardItemIdentification>"
            )
        ref = (
            f"<cac:OrderLineReference><cbc:LineID>{escape(line['po_line_ref'])}</cbc:LineID>"
            "</cac:OrderLineReference>"
            if line.get("po_line_ref")
            else ""
        )
        tax = _ubl_tax_category(_tax(line.get("taxes")), "cac:ClassifiedTaxCategory")
        allowances = _ubl_allowance_charges(line.get("allowance_charges"), cur, False)
        lines.append(
            f"""
  <cac:InvoiceLine>
    <cbc:ID>{escape(line["line_number"])}</cbc:ID>
    <cbc:InvoicedQuantity unitCode="{line["uom"]}">{line["quantity"]}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="{cur}">{_money(_line_total(line))}</cbc:LineExtensionAmount>{ref}{allowances}
    <cac:Item>
      <cbc:Name>{escape(item.get("description") or "-")}</cbc:Name>{ids}
      {tax}
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="{cur}">{line["unit_price"]}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>"""
        )
    vendor, buyer = inv["vendor"], inv["buyer"]
    subtotals = "".join(
        f"""
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="{cur}">{_money(t["taxable_amount"])}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="{cur}">{_money(t["amount"])}</cbc:TaxAmount>
      {_ubl_tax_category(t)}</cac:TaxSubtotal>"""
        for t in inv.get("taxes") or ()
    )
    optional = "".join(
        f'\n    <cbc:{tag} currencyID="{cur}">{_money(inv[key])}</cbc:{tag}>'
        for tag, key in (
            ("AllowanceTotalAmount", "allowance_total"),
            ("ChargeTotalAmount", "charge_total"),
        )
        if inv.get(key)
    )
    po = "".join(
        f"\n  <cac:OrderReference><cbc:ID>{escape(n)}</cbc:ID></cac:OrderReference>"
        for n in inv["po_numbers"][:1]
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{escape(inv["number"])}</cbc:ID>
  <cbc:IssueDate>{inv["issue_date"]}</cbc:IssueDate>
  <cbc:DueDate>{inv["due_date"]}</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>{cur}</cbc:DocumentCurrencyCode>{po}
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0088">{_gln(vendor)}</cbc:EndpointID>
    <cac:PartyIdentification><cbc:ID schemeID="0088">{_gln(vendor)}</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>{escape(vendor["name"])}</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>US</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>{escape(vendor["name"])}</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0088">{_gln(buyer)}</cbc:EndpointID>
    <cac:PartyName><cbc:Name>{escape(buyer["name"])}</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>US</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>{escape(buyer["name"])}</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>{_ubl_allowance_charges(inv.get("allowance_charges"), cur, True)}
  <cac:TaxTotal><cbc:TaxAmount currencyID="{cur}">{_money(inv.get("tax_total") or 0)}</cbc:TaxAmount>{subtotals}
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="{cur}">{_money(inv["net_total"])}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="{cur}">{_money(inv["tax_exclusive_total"])}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="{cur}">{_money(inv["gross_total"])}</cbc:TaxInclusiveAmount>{optional}
    <cbc:PayableAmount currencyID="{cur}">{_money(inv["payable_amount"])}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>{"".join(lines)}
</Invoice>
""".encode()


# --------------------------------------------------------------------------- X12 810


def _sac(ac):
    """SAC for an allowance (A, C310 discount, off invoice) or a charge (C, D240 freight)."""
    code = "D240" if ac["is_charge"] else "C310"
    elements = ["SAC", "C" if ac["is_charge"] else "A", code, "", "", str(_cents(ac["amount"]))]
    elements += [""] * 6 + ["02" if not ac["is_charge"] else "06", "", "", ac["reason"][:80]]
    return "*".join(elements)


def _txi(inv):
    """TXI for the stated tax: TXI06 1 = exempt, 2 = not exempt; none when no tax stated."""
    tax = _tax(inv.get("taxes"))
    if tax is None:
        return []
    exempt = "1" if tax["category"] != "S" else "2"
    return [f"TXI*ST*{_money(tax['amount'])}*{tax['rate']}***{exempt}"]


def x12_810(inv, control, summary=False):
    """One 810 (004010) in its own interchange; ``control`` numbers ISA/GS/ST.

    Item-level (the default): each IT1 names the item (VP, UK) with a PID description and
    its line allowances in SACs of its loop.  ``summary``: the shape many suppliers send,
    each IT1 naming only the PO and its line (``PO``/``PL`` qualifiers, IT101 = PO line)
    with a PID description; allowances at the header only.  Both state the tax in a header
    TXI (amount, rate, exempt code), document allowances and freight in header SACs, and
    the total in TDS (plus AMT*BAP, the amount due, in the summary shape).
    """
    vendor, buyer = inv["vendor"], inv["buyer"]
    day = inv["issue_date"].replace("-", "")
    po_number = inv["po_numbers"][0] if inv["po_numbers"] else ""
    segments = [
        f"BIG*{day}*{inv['number']}**{po_number}***DI*00",
        f"CUR*SE*{inv['currency']}",
        f"N1*SE*{vendor['name'][:60]}*UL*{_gln(vendor)}",
        f"N1*BT*{buyer['name'][:60]}*UL*{_gln(buyer)}",
    ]
    header_acs = list(inv.get("allowance_charges") or ())
    for line in inv["lines"]:
        item = line["item"]
        ref = line.get("po_line_ref") or line["line_number"]
        if summary and line.get("po_line_ref"):
            ids = f"*PO*{po_number}*PL*{line['po_line_ref']}"
        else:
            ids = ""
            if item.get("vendor_part_number"):
                ids += f"*VP*{item['vendor_part_number']}"
            if item.get("gtin"):
                ids += f"*UK*{item['gtin']}"
        segments.append(f"IT1*{ref}*{line['quantity']}*{line['uom']}*{line['unit_price']}*{ids}")
        if item.get("description"):
            segments.append(f"PID*F****{item['description'][:80]}")
        if line.get("allowance_charges") and summary:
            raise ValueError("a summary 810 states allowances at the header only")
        segments += [_sac(ac) for ac in line.get("allowance_charges") or ()]
    segments.append(f"TDS*{_cents(inv['payable_amount'])}")
    segments += _txi(inv)
    if summary:
        segments.append(f"AMT*BAP*{_money(inv['payable_amount'])}")
    segments += [_sac(ac) for ac in header_acs]
    segments.append(f"CTT*{len(inv['lines'])}")
    return _interchange("IN", "810", segments, control, _gln(vendor), _gln(buyer), day)


def _interchange(func, set_id, body, control, sender, receiver, day):
    isa = "*".join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "14",
            sender.ljust(15),
            "14",
            receiver.ljust(15),
            day[2:],
            "0800",
            "U",
            "00401",
            f"{control:09d}",
            "0",
            "P",
            ">",
        ]
    )
    st = f"{control % 10000:04d}"
    segs = [
        isa,
        f"GS*{func}*{sender}*{receiver}*{day}*0800*{control}*X*004010",
        f"ST*{set_id}*{st}",
        *body,
        f"SE*{len(body) + 2}*{st}",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return ("~\n".join(segs) + "~\n").encode()


# --------------------------------------------------------------------------- cXML


def _cxml_tax(inv, cur):
    """The summary ``Tax``: its TaxDetail (sales tax, rate, exemptDetail) when one is stated."""
    total = _money(inv.get("tax_total") or 0)
    tax = _tax(inv.get("taxes"))
    if tax is None:
        return (
            f'<Tax><Money currency="{cur}">{total}</Money>'
            '<Description xml:lang="en">no tax</Description></Tax>'
        )
    exempt = ' exemptDetail="exempt"' if tax["category"] == "E" else ""
    return f"""<Tax><Money currency="{cur}">{total}</Money><Description xml:lang="en">Sales tax</Description>
          <TaxDetail purpose="tax" category="sales" percentageRate="{tax["rate"]}"{exempt}>
            <TaxableAmount><Money currency="{cur}">{_money(tax["taxable_amount"])}</Money></TaxableAmount>
            <TaxAmount><Money currency="{cur}">{_money(tax["amount"])}</Money></TaxAmount>
          </TaxDetail></Tax>"""


def cxml_invoice(inv, payload_id):
    """cXML 1.2 InvoiceDetailRequest (supplier named by a GLN credential).

    The summary states SubtotalAmount (the items), Tax, ShippingAmount (freight),
    GrossAmount = subtotal + tax + shipping, InvoiceDetailDiscount (document allowances),
    NetAmount = gross - discount and DueAmount; line allowances are not written (cXML
    carries them per item in a shape this writer does not produce).
    """
    cur = inv["currency"]
    vendor, buyer = inv["vendor"], inv["buyer"]
    items = []
    for line in inv["lines"]:
        if line.get("allowance_charges"):
            raise ValueError("the cXML writer states allowances at the summary only")
        item = line["item"]
        gtin = (
            f'\n          <Extrinsic name="GTIN">{item["gtin"]}</Extrinsic>'
            if item.get("gtin")
            else ""
        )
        ref_line = (
            f" lineNumber={quoteattr(line['po_line_ref'])}" if line.get("po_line_ref") else ""
        )
        items.append(
            f"""
        <InvoiceDetailItem invoiceLineNumber={quoteattr(line["line_number"])} quantity="{line["quantity"]}">
          <UnitOfMeasure>{line["uom"]}</UnitOfMeasure>
          <UnitPrice><Money currency="{cur}">{line["unit_price"]}</Money></UnitPrice>
          <InvoiceDetailItemReference{ref_line}>
            <ItemID><SupplierPartID>{escape(item.get("vendor_part_number") or "-")}</SupplierPartID></ItemID>
            <Description xml:lang="en">{escape(item.get("description") or "-")}</Description>{gtin}
          </InvoiceDetailItemReference>
          <SubtotalAmount><Money currency="{cur}">{_money(_line_total(line))}</Money></SubtotalAmount>
        </InvoiceDetailItem>"""
        )
    acs = inv.get("allowance_charges") or ()
    shipping = sum((Decimal(a["amount"]) for a in acs if a["is_charge"]), Decimal(0))
    discount = sum((Decimal(a["amount"]) for a in acs if not a["is_charge"]), Decimal(0))
    due = Decimal(inv["payable_amount"])
    extra_gross = ""
    if shipping:
        extra_gross += f'\n        <ShippingAmount><Money currency="{cur}">{_money(shipping)}</Money></ShippingAmount>'
    # gross before the discount: what is due plus the discount (a wrong stated total
    # stays wrong in every amount that carries it)
    extra_gross += f'\n        <GrossAmount><Money currency="{cur}">{_money(due + discount)}</Money></GrossAmount>'
    if discount:
        extra_gross += (
            "\n        <InvoiceDetailDiscount>"
            f'<Money currency="{cur}">{_money(discount)}</Money></InvoiceDetailDiscount>'
        )
    po = inv["po_numbers"][0] if inv["po_numbers"] else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/InvoiceDetail.dtd">
<cXML payloadID={quoteattr(payload_id)} timestamp="{inv["issue_date"]}T09:00:00-05:00" xml:lang="en-US">
  <Header>
    <From><Credential domain="GLN"><Identity>{_gln(vendor)}</Identity></Credential></From>
    <To><Credential domain="GLN"><Identity>{_gln(buyer)}</Identity></Credential></To>
    <Sender><Credential domain="GLN"><Identity>{_gln(vendor)}</Identity></Credential>
      <UserAgent>Supplier e-invoicing network</UserAgent></Sender>
  </Header>
  <Request deploymentMode="production">
    <InvoiceDetailRequest>
      <InvoiceDetailRequestHeader invoiceID={quoteattr(inv["number"])} purpose="standard" operation="new" invoiceDate="{inv["issue_date"]}T09:00:00-05:00">
        <InvoiceDetailHeaderIndicator/>
        <InvoiceDetailLineIndicator/>
        <InvoicePartner><Contact role="from"><Name xml:lang="en">{escape(vendor["name"])}</Name></Contact></InvoicePartner>
        <InvoicePartner><Contact role="soldTo"><Name xml:lang="en">{escape(buyer["name"])}</Name></Contact></InvoicePartner>
      </InvoiceDetailRequestHeader>
      <InvoiceDetailOrder>
        <InvoiceDetailOrderInfo><OrderReference orderID={quoteattr(po)}><DocumentReference payloadID="{escape(po)}"/></OrderReference></InvoiceDetailOrderInfo>{"".join(items)}
      </InvoiceDetailOrder>
      <InvoiceDetailSummary>
        <SubtotalAmount><Money currency="{cur}">{_money(inv["net_total"])}</Money></SubtotalAmount>
        {_cxml_tax(inv, cur)}{extra_gross}
        <NetAmount><Money currency="{cur}">{_money(due)}</Money></NetAmount>
        <DueAmount><Money currency="{cur}">{_money(due)}</Money></DueAmount>
      </InvoiceDetailSummary>
    </InvoiceDetailRequest>
  </Request>
</cXML>
""".encode()
