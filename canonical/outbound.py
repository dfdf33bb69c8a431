# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Documents the hospital sends its suppliers that have no inbound canonical type.

Purchase orders, changes and cancellations go out as :class:`~.documents.PurchaseOrder`
(``purpose`` original / change / cancel) and remittance advice as
:class:`~.documents.Payment`: the same dataclasses the inbound readers produce, so that a
generated document read back by the project's own reader gives the document it was made
from.  What is only ever sent is declared here, with the same :func:`~.base.fld`
machinery (validation, ``to_dict`` and JSON Schema derived from the declarations).
No Odoo here.
"""

# `fld()` declares a field with its constraints (see .base), as in documents.py.
# ruff: noqa: RUF009

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from .base import SCHEMA_VERSION
from .base import dump
from .base import error
from .base import fld
from .documents import Party

# UNCL 4343 (Peppol BIS Invoice Response, T111): the buyer's status of an invoice.
INVOICE_RESPONSE_STATUSES = {
    "AB": "Message acknowledgement",
    "IP": "In process",
    "UQ": "Under query",
    "CA": "Conditionally accepted",
    "RE": "Rejected",
    "AP": "Accepted",
    "PD": "Fully paid",
}
# Statuses that need at least one reason (Peppol rule: UQ, CA and RE).
STATUSES_NEEDING_REASON = ("UQ", "CA", "RE")
# OpenPeppol status clarification reasons (OPStatusReason) and actions (OPStatusAction).
INVOICE_RESPONSE_REASONS = (
    "NON", "REF", "LEG", "REC", "QUA", "DEL", "PRI", "QTY", "ITM", "PAY", "UNR", "FIN",
    "PPD", "OTH",
)  # fmt: skip
INVOICE_RESPONSE_ACTIONS = ("NOA", "PIN", "NIN", "CNF", "CNP", "CNA", "OTH")


@dataclass(kw_only=True)
class ResponseReason:
    """Why an invoice has the status it has: a reason or an action code, and a text."""

    reason_code: str = fld(enum=INVOICE_RESPONSE_REASONS)
    action_code: str = fld(enum=INVOICE_RESPONSE_ACTIONS)
    text: str = fld(max_length=1024)
    line_reference: str = fld(max_length=32, description="Invoice line concerned, if one")


@dataclass(kw_only=True)
class InvoiceResponse:
    """The buyer's answer on a supplier invoice: under query, rejected, accepted, paid.

    Sent when a clerk rejects a bill or asks the supplier for a credit note (Peppol
    Invoice Response / UBL ApplicationResponse, X12 824, cXML StatusUpdateRequest).
    """

    doc_type: ClassVar[str] = "invoice_response"

    response_id: str = fld(required=True, max_length=64)
    issue_date: date = fld(required=True)
    status: str = fld(required=True, enum=tuple(INVOICE_RESPONSE_STATUSES))
    invoice_number: str = fld(required=True, max_length=64)
    invoice_date: date = fld()
    credit_note: bool = fld(False, description="The answered document is a credit note")
    po_number: str = fld(max_length=64)
    buyer: Party = fld(required=True)
    seller: Party = fld(required=True)
    currency: str = fld(max_length=3)
    invoice_total: str = fld(max_length=32, description="The total as the supplier stated it")
    reasons: list[ResponseReason] = fld(list)
    note: str = fld(max_length=1024)

    def to_dict(self):
        return {"doc_type": self.doc_type, "schema_version": SCHEMA_VERSION, **dump(self)}

    def _check(self, path):
        if self.status in STATUSES_NEEDING_REASON and not self.reasons:
            return [error("reasons", "required", f"status {self.status} needs a reason")]
        return []
