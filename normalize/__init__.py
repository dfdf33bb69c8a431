"""ORM-free normalisation helpers for inbound procure-to-pay documents.

Identifiers (GTIN, GLN, DUNS, tax ids), units of measure, invoice references, GS1/HIBC
barcodes and vendor de-duplication.  Nothing here imports Odoo: the parsers in
``formats`` and the models both build on these functions.
"""
