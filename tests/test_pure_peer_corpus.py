"""Peer corpus: Odoo's own e-invoicing test files, read in place.

Every XML under ``$ODOO_SRC/addons/*/tests/test_files`` is offered to the invoice reader:

* a UBL 2 Invoice or CreditNote parses, and the canonical invoice has the line count,
  PayableAmount and TaxInclusiveAmount that the XML itself states (read here
  independently with ElementTree; credit notes and negative invoices compare in absolute
  value, the canonical amounts being positive);
* a UN/CEFACT CII invoice (Factur-X / ZUGFeRD) parses too: its totals are checked in
  ``test_pure_cii.py``;
* anything else is refused with a :class:`ParseError` whose code names why (Greek myDATA,
  Romanian eTransport, UBL AttachedDocument wrappers, despatch advices...).

Odoo's *export* expectations are templates: they carry ``___ignore___`` where a value
changes between runs (UUIDs, dates, line ids).  They are real documents when the
placeholder is in a field we do not read, and must then pass like any other; where the
placeholder sits in a field the canonical model needs (a due date, duplicate line ids,
a missing currency) the refusal is expected and checked to name that field.

The amount findings of every document that parses are pinned below: each is a document
that really is inconsistent (see ``GENUINE_FINDINGS``), so a new finding means a parser
regression.
"""

import os
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from ..formats.errors import ParseError
from ..formats.registry import parse

ODOO_SRC = Path(os.environ.get("ODOO_SRC", "/opt/odoo19"))
UBL_ROOT = "urn:oasis:names:specification:ubl:schema:xsd:{}-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
PLACEHOLDER = b"___ignore___"

# Refusal codes for what is not a UBL invoice, by root element.
NOT_UBL_INVOICE = {
    "InvoicesDoc": "xml_unsupported",  # Greek myDATA
    "ExpensesClassificationsDoc": "xml_unsupported",  # Greek myDATA
    "eTransport": "xml_unsupported",  # Romanian e-Transport declaration
    "AttachedDocument": "ubl_unsupported",  # UBL wrapper (Colombia/ANZ style) around an invoice
}

# Documents (not templates) whose own amounts disagree, and why that is the document's
# doing, not the reader's.
GENUINE_FINDINGS = {
    # Odoo's test of quantity 0 / price 0 lines: every line states 1000.00 regardless.
    "l10n_account_edi_ubl_cii_tests/tests/test_files/from_odoo/"
    "bis3_out_invoice_quantity_and_or_unit_price_zero.xml": {"line_amount"},
    # Hand-made vendor bills: two lines of 30 + 10 but LineExtensionAmount 48.80.
    "purchase_edi_ubl_bis3/tests/test_files/ubl_bis3_PO.xml": {"lines_total"},
    "purchase_edi_ubl_bis3/tests/test_files/ubl_bis3_PO_description.xml": {"lines_total"},
    # JoFotara: a special tax (TaxScheme OTH, 10.000) stated on the line only, while the
    # document TaxTotal (11.000) and TaxInclusiveAmount (121.000) disagree by that tax.
    "l10n_jo_edi/tests/test_files/type_5.xml": {"gross_total"},
    "l10n_jo_edi/tests/test_files/type_6.xml": {"gross_total"},
}


def _corpus():
    addons = ODOO_SRC / "addons"
    if not addons.is_dir():
        return []
    return sorted(addons.glob("*/tests/test_files/**/*.xml"))


CORPUS = _corpus()


def _id(path):
    return str(path.relative_to(ODOO_SRC / "addons"))


def _root_of(path):
    root = ET.parse(path).getroot()
    namespace, _, local = (
        root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    )
    return root, namespace, local


def _amount(root, path):
    node = root.find(path, {"cbc": CBC, "cac": CAC})
    return Decimal(node.text.strip()) if node is not None and node.text else None


def test_corpus_present():
    if not CORPUS:
        pytest.skip(f"Odoo sources not found under {ODOO_SRC} (set ODOO_SRC)")
    # Odoo 19 ships more than a hundred such files; a handful would mean a broken glob.
    assert len(CORPUS) > 50


@pytest.mark.parametrize("path", CORPUS, ids=_id)
def test_peer_document(path):
    root, namespace, local = _root_of(path)
    payload = path.read_bytes()
    template = PLACEHOLDER in payload
    is_ubl_invoice = local in ("Invoice", "CreditNote") and namespace == UBL_ROOT.format(local)
    if local == "CrossIndustryInvoice":
        # Factur-X / ZUGFeRD (UN/CEFACT CII): read (its stated totals: test_pure_cii.py)
        (parsed,) = parse("invoice", "application/xml", payload)
        assert parsed.source_format == "cii"
        return
    if not is_ubl_invoice:
        with pytest.raises(ParseError) as info:
            parse("invoice", "application/xml", payload)
        expected = NOT_UBL_INVOICE.get(local)
        if expected:
            assert info.value.code == expected, info.value
        else:
            # Other UBL documents (despatch advices...) are not invoices.
            assert info.value.code in ("unexpected_doc_type", "ubl_required", "ubl_unsupported")
        return
    try:
        (parsed,) = parse("invoice", "application/xml", payload)
    except ParseError as exc:
        if not template:
            raise
        # Only a placeholder in a field the model needs, or a schema-less skeleton.
        text = exc.message + str(exc.details)
        assert "___ignore___" in text or "DocumentCurrencyCode" in text, exc
        return
    invoice = parsed.document
    line_tag = f"{{{CAC}}}{local}Line"
    assert len(invoice.lines) == len(root.findall(line_tag))
    payable = _amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount")
    inclusive = _amount(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount")
    assert invoice.payable_amount == abs(payable)
    assert invoice.gross_total == abs(inclusive if inclusive is not None else payable)
    if payable < 0:
        # A credit (or debit) expressed with negative amounts changes direction.
        assert "negative_total" in {i.code for i in parsed.issues}
    codes = {f.code for f in invoice.amount_findings()}
    assert codes == GENUINE_FINDINGS.get(_id(path), set()), invoice.amount_findings()
