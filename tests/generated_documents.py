"""Documents built for the tests, where no public sample has what a test needs.  Plain
Python: the pure and the Odoo tests share it.

* a UN/CEFACT CII invoice (XRechnung CII profile): one line of nitrile gloves priced per
  5 boxes, a freight charge and a discount at document level, a GLN-identified seller and
  buyer, VAT 19 %; and a PDF embedding files (Factur-X);
* a PEPPOL BIS Ordering 3 Order Response and a UBL 2.1 OrderResponseSimple.
"""

import io

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def cii_invoice(
    type_code="380",
    header_charges="",
    totals="",
    extra_settlement="",
    line_charges="",
    line_total="100.00",
):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="{RSM}" xmlns:ram="{RAM}"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
  <ram:ID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</ram:ID>
 </ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
 <rsm:ExchangedDocument><ram:ID>HC-CII-1</ram:ID><ram:TypeCode>{type_code}</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20261201</udt:DateTimeString></ram:IssueDateTime>
 </rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
   <ram:SpecifiedTradeProduct><ram:GlobalID schemeID="0160">00614141000029</ram:GlobalID>
    <ram:SellerAssignedID>GL-100</ram:SellerAssignedID><ram:Name>Nitrile gloves M</ram:Name>
   </ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement>
    <ram:BuyerOrderReferencedDocument><ram:LineID>10</ram:LineID></ram:BuyerOrderReferencedDocument>
    <ram:NetPriceProductTradePrice><ram:ChargeAmount>25.00</ram:ChargeAmount>
     <ram:BasisQuantity unitCode="BX">5</ram:BasisQuantity></ram:NetPriceProductTradePrice>
   </ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="BX">20</ram:BilledQuantity>
   </ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement>
    <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
     <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
    {line_charges}
    <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{line_total}</ram:LineTotalAmount>
    </ram:SpecifiedTradeSettlementLineMonetarySummation>
   </ram:SpecifiedLineTradeSettlement>
  </ram:IncludedSupplyChainTradeLineItem>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:SellerTradeParty><ram:GlobalID schemeID="0088">0614141000005</ram:GlobalID>
    <ram:Name>Acme Medical GmbH</ram:Name>
    <ram:PostalTradeAddress><ram:PostcodeCode>10115</ram:PostcodeCode><ram:LineOne>Hauptstr. 1</ram:LineOne>
     <ram:CityName>Berlin</ram:CityName><ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>
    <ram:URIUniversalCommunication><ram:URIID schemeID="EM">ar@acme.example</ram:URIID></ram:URIUniversalCommunication>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">201/113/40209</ram:ID></ram:SpecifiedTaxRegistration>
   </ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:GlobalID schemeID="0088">0614141000012</ram:GlobalID><ram:Name>General Hospital</ram:Name></ram:BuyerTradeParty>
   <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-7781</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeDelivery>
   <ram:ShipToTradeParty><ram:ID schemeID="0088">0614141000012</ram:ID><ram:Name>Main Campus Dock</ram:Name></ram:ShipToTradeParty>
  </ram:ApplicableHeaderTradeDelivery>
  <ram:ApplicableHeaderTradeSettlement>
   <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:PayeeTradeParty><ram:Name>Acme Factoring</ram:Name></ram:PayeeTradeParty>
   {extra_settlement}
   <ram:ApplicableTradeTax><ram:CalculatedAmount>19.95</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
    <ram:BasisAmount>105.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>
    <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
   {header_charges}
   <ram:SpecifiedTradePaymentTerms><ram:Description>Net 30</ram:Description>
    <ram:DueDateDateTime><udt:DateTimeString format="102">20261231</udt:DateTimeString></ram:DueDateDateTime>
   </ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    {totals}
   </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
  </ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>""".encode()


HEADER_CHARGES = """
   <ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>true</udt:Indicator></ram:ChargeIndicator>
    <ram:ActualAmount>10.00</ram:ActualAmount><ram:ReasonCode>FC</ram:ReasonCode><ram:Reason>Freight</ram:Reason>
    <ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
     <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge>
   <ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>
    <ram:ActualAmount>5.00</ram:ActualAmount><ram:ReasonCode>95</ram:ReasonCode><ram:Reason>Discount</ram:Reason>
    <ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
     <ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge>
"""
TOTALS = """
    <ram:LineTotalAmount>100.00</ram:LineTotalAmount><ram:ChargeTotalAmount>10.00</ram:ChargeTotalAmount>
    <ram:AllowanceTotalAmount>5.00</ram:AllowanceTotalAmount><ram:TaxBasisTotalAmount>105.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">19.95</ram:TaxTotalAmount>
    <ram:TaxTotalAmount currencyID="USD">21.40</ram:TaxTotalAmount>
    <ram:GrandTotalAmount>124.95</ram:GrandTotalAmount><ram:TotalPrepaidAmount>20.00</ram:TotalPrepaidAmount>
    <ram:RoundingAmount>0.05</ram:RoundingAmount><ram:DuePayableAmount>105.00</ram:DuePayableAmount>
"""


# The same invoice without prepaid amount and rounding: GrandTotal = DuePayable = 124.95.
TOTALS_DUE_IN_FULL = """
    <ram:LineTotalAmount>100.00</ram:LineTotalAmount><ram:ChargeTotalAmount>10.00</ram:ChargeTotalAmount>
    <ram:AllowanceTotalAmount>5.00</ram:AllowanceTotalAmount><ram:TaxBasisTotalAmount>105.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">19.95</ram:TaxTotalAmount>
    <ram:GrandTotalAmount>124.95</ram:GrandTotalAmount><ram:DuePayableAmount>124.95</ram:DuePayableAmount>
"""


def pdf_with_attachments(attachments=()):
    """A one-page PDF embedding ``attachments`` (``[(file name, bytes)]``), written with the
    PDF library Odoo depends on (pypdf, or PyPDF2 before Python 3.13)."""
    try:
        import pypdf as pdflib
    except ImportError:
        import PyPDF2 as pdflib

    writer = pdflib.PdfWriter()
    writer.add_blank_page(595, 842)
    for name, data in attachments:
        writer.add_attachment(name, data)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# PEPPOL BIS Ordering 3 Order Response and UBL OrderResponseSimple (built after the BIS
# specification's rules PEPPOL-T76: code AP/RE/AB without lines, CA with lines)
# ---------------------------------------------------------------------------------------

ORDER_RESPONSE_NS = "urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2"
UBL_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
UBL_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def order_response_line(
    line_id, status, quantity=None, price=None, promised=None, gtin=None, note=None, base=None
):
    """One ``cac:OrderLine`` of an Order Response (``status``: UNCL1229 code)."""
    parts = [f"<cbc:ID>{line_id}</cbc:ID>"]
    if note:
        parts.append(f"<cbc:Note>{note}</cbc:Note>")
    parts.append(f"<cbc:LineStatusCode>{status}</cbc:LineStatusCode>")
    if quantity is not None:
        parts.append(f'<cbc:Quantity unitCode="EA">{quantity}</cbc:Quantity>')
    if promised:
        parts.append(
            "<cac:Delivery><cac:PromisedDeliveryPeriod>"
            f"<cbc:StartDate>{promised}</cbc:StartDate>"
            "</cac:PromisedDeliveryPeriod></cac:Delivery>"
        )
    if price is not None:
        base_quantity = f'<cbc:BaseQuantity unitCode="EA">{base}</cbc:BaseQuantity>' if base else ""
        parts.append(
            f'<cac:Price><cbc:PriceAmount currencyID="USD">{price}</cbc:PriceAmount>'
            f"{base_quantity}</cac:Price>"
        )
    item = (
        f'<cac:StandardItemIdentification><cbc:ID schemeID="0160">{gtin}</cbc:ID>'
        "</cac:StandardItemIdentification>"
        if gtin
        else ""
    )
    parts.append(f"<cac:Item>{item}</cac:Item>")
    return (
        f"<cac:OrderLine><cac:LineItem>{''.join(parts)}</cac:LineItem>"
        f"<cac:OrderLineReference><cbc:LineID>{line_id}</cbc:LineID></cac:OrderLineReference>"
        "</cac:OrderLine>"
    )


def order_response(po_number, code, lines=(), response_id="OR-1", note=None, seller_gln=None):
    """A PEPPOL BIS Ordering 3 Order Response answering order ``po_number``."""
    seller_gln = seller_gln or "0614141000012"
    note_xml = f"<cbc:Note>{note}</cbc:Note>" if note else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OrderResponse xmlns="{ORDER_RESPONSE_NS}" xmlns:cac="{UBL_CAC}" xmlns:cbc="{UBL_CBC}">
 <cbc:CustomizationID>urn:fdc:peppol.eu:poacc:trns:order_response:3</cbc:CustomizationID>
 <cbc:ProfileID>urn:fdc:peppol.eu:poacc:bis:ordering:3</cbc:ProfileID>
 <cbc:ID>{response_id}</cbc:ID>
 <cbc:IssueDate>2026-03-03</cbc:IssueDate>
 <cbc:OrderResponseCode>{code}</cbc:OrderResponseCode>
 {note_xml}
 <cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>
 <cac:OrderReference><cbc:ID>{po_number}</cbc:ID></cac:OrderReference>
 <cac:SellerSupplierParty><cac:Party>
  <cbc:EndpointID schemeID="0088">{seller_gln}</cbc:EndpointID>
  <cac:PartyLegalEntity><cbc:RegistrationName>Acme Medical</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:SellerSupplierParty>
 <cac:BuyerCustomerParty><cac:Party>
  <cbc:EndpointID schemeID="0088">0614141000005</cbc:EndpointID>
  <cac:PartyLegalEntity><cbc:RegistrationName>General Hospital</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:BuyerCustomerParty>
 {"".join(lines)}
</OrderResponse>""".encode()


def order_response_simple(po_number, accepted, note=None):
    """A UBL 2.1 OrderResponseSimple answering order ``po_number``."""
    note_xml = f"<cbc:RejectionNote>{note}</cbc:RejectionNote>" if note else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OrderResponseSimple xmlns="urn:oasis:names:specification:ubl:schema:xsd:OrderResponseSimple-2"
 xmlns:cac="{UBL_CAC}" xmlns:cbc="{UBL_CBC}">
 <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
 <cbc:ID>ORS-1</cbc:ID>
 <cbc:IssueDate>2026-03-04</cbc:IssueDate>
 <cbc:AcceptedIndicator>{"true" if accepted else "false"}</cbc:AcceptedIndicator>
 {note_xml}
 <cac:OrderReference><cbc:ID>{po_number}</cbc:ID></cac:OrderReference>
 <cac:SellerSupplierParty><cac:Party>
  <cbc:EndpointID schemeID="0088">0614141000012</cbc:EndpointID>
 </cac:Party></cac:SellerSupplierParty>
 <cac:BuyerCustomerParty><cac:Party>
  <cbc:EndpointID schemeID="0088">0614141000005</cbc:EndpointID>
 </cac:Party></cac:BuyerCustomerParty>
</OrderResponseSimple>""".encode()
