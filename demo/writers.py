"""Supplier invoices in their real formats, from a canonical invoice dict.

The dict is the canonical JSON invoice (``number``, ``issue_date``, ``currency``,
``vendor``, ``buyer``, ``po_numbers``, ``lines`` with ``gtin``/``vendor_part_number``,
``quantity``, ``uom``, ``unit_price``, ``gross_total``...), as :mod:`demo.generator` makes
it.  Each writer returns ``bytes`` the product's readers turn back into the same canonical
invoice (a test checks the round trip): UBL 2.1 / PEPPOL BIS 3, ASC X12 810 (004010) and
cXML ``InvoiceDetailRequest``.
"""

from decimal import Decimal
from xml.sax.saxutils import escape
from xml.sax.saxutils import quoteattr


def _gln(party):
    return next(i["value"] for i in party["identifiers"] if i["scheme"] == "GLN")


def _money(value):
    return f"{Decimal(value):.2f}"


def _line_total(line):
    return Decimal(line["quantity"]) * Decimal(line["unit_price"])


# --------------------------------------------------------------------------- UBL


def ubl_invoice(inv):
    """UBL 2.1 Invoice, PEPPOL BIS Billing 3.0 identifiers (0088 GLN, 0160 GTIN)."""
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
        lines.append(
            f"""
  <cac:InvoiceLine>
    <cbc:ID>{escape(line["line_number"])}</cbc:ID>
    <cbc:InvoicedQuantity unitCode="{line["uom"]}">{line["quantity"]}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="{cur}">{_money(_line_total(line))}</cbc:LineExtensionAmount>{ref}
    <cac:Item>
      <cbc:Name>{escape(item.get("description") or "-")}</cbc:Name>{ids}
      <cac:ClassifiedTaxCategory><cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="{cur}">{line["unit_price"]}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>"""
        )
    vendor, buyer = inv["vendor"], inv["buyer"]
    total = _money(inv["gross_total"])
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
  </cac:Party></cac:AccountingCustomerParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="{cur}">0.00</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="{cur}">{total}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="{cur}">0.00</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="{cur}">{total}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="{cur}">{total}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="{cur}">{total}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="{cur}">{total}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>{"".join(lines)}
</Invoice>
""".encode()


# --------------------------------------------------------------------------- X12 810


def x12_810(inv, control):
    """One 810 (004010) in its own interchange; ``control`` numbers ISA/GS/ST."""
    vendor, buyer = inv["vendor"], inv["buyer"]
    day = inv["issue_date"].replace("-", "")
    segments = [
        f"BIG*{day}*{inv['number']}**{inv['po_numbers'][0] if inv['po_numbers'] else ''}***DI*00",
        f"CUR*SE*{inv['currency']}",
        f"N1*SE*{vendor['name'][:60]}*UL*{_gln(vendor)}",
        f"N1*BT*{buyer['name'][:60]}*UL*{_gln(buyer)}",
    ]
    for line in inv["lines"]:
        item = line["item"]
        ids = ""
        if item.get("vendor_part_number"):
            ids += f"*VP*{item['vendor_part_number']}"
        if item.get("gtin"):
            ids += f"*UK*{item['gtin']}"
        segments.append(
            f"IT1*{line.get('po_line_ref') or line['line_number']}*{line['quantity']}*"
            f"{line['uom']}*{line['unit_price']}*{ids}"
        )
        if item.get("description"):
            segments.append(f"PID*F****{item['description'][:80]}")
    cents = int((Decimal(inv["gross_total"]) * 100).to_integral_value())
    segments += [f"TDS*{cents}", f"CTT*{len(inv['lines'])}"]
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


def cxml_invoice(inv, payload_id):
    """cXML 1.2 InvoiceDetailRequest (supplier named by a GLN credential)."""
    cur = inv["currency"]
    vendor, buyer = inv["vendor"], inv["buyer"]
    items = []
    for line in inv["lines"]:
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
    total = _money(inv["gross_total"])
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
        <SubtotalAmount><Money currency="{cur}">{total}</Money></SubtotalAmount>
        <Tax><Money currency="{cur}">0.00</Money><Description xml:lang="en">exempt</Description></Tax>
        <GrossAmount><Money currency="{cur}">{total}</Money></GrossAmount>
        <NetAmount><Money currency="{cur}">{total}</Money></NetAmount>
        <DueAmount><Money currency="{cur}">{total}</Money></DueAmount>
      </InvoiceDetailSummary>
    </InvoiceDetailRequest>
  </Request>
</cXML>
""".encode()
