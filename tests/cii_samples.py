"""A UN/CEFACT CII invoice (XRechnung CII profile) built for the tests: one line of
nitrile gloves priced per 5 boxes, a freight charge and a discount at document level, a
GLN-identified seller and buyer, VAT 19 %.  Plain Python (the pure and the Odoo tests
share it)."""

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
