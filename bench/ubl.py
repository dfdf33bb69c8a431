"""UBL 2.1 (PEPPOL BIS 3) supplier invoices for the benchmarks, without Odoo."""

GLN = "5790000435951"
GTINS = ["05412345000013", "05412345000020", "05412345000037"]


def ubl_invoice(number, po_name, prices, qty=10):
    lines = "".join(
        f"""
  <cac:InvoiceLine>
    <cbc:ID>{i + 1}</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">{qty}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="USD">{qty * price:.2f}</cbc:LineExtensionAmount>
    <cac:OrderLineReference><cbc:LineID>{i + 1}</cbc:LineID></cac:OrderLineReference>
    <cac:Item>
      <cbc:Name>Item {i + 1}</cbc:Name>
      <cac:StandardItemIdentification><cbc:ID schemeID="0160">{GTINS[i]}</cbc:ID></cac:StandardItemIdentification>
      <cac:ClassifiedTaxCategory><cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="USD">{price:.2f}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>"""
        for i, price in enumerate(prices)
    )
    total = sum(qty * p for p in prices)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-11-20</cbc:IssueDate>
  <cbc:DueDate>2026-12-20</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>
  <cac:OrderReference><cbc:ID>{po_name}</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="0088">{GLN}</cbc:EndpointID>
    <cac:PartyIdentification><cbc:ID schemeID="0088">{GLN}</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>Bench Medical Supply</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cbc:CityName>Springfield</cbc:CityName>
      <cac:Country><cbc:IdentificationCode>US</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>Bench Medical Supply</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0088">5790000435968</cbc:EndpointID>
    <cac:PartyName><cbc:Name>General Hospital</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>US</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>General Hospital</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="USD">0.00</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="USD">{total:.2f}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="USD">0.00</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="USD">{total:.2f}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="USD">{total:.2f}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="USD">{total:.2f}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="USD">{total:.2f}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>{lines}
</Invoice>""".encode()
