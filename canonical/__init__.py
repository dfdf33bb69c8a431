# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Canonical model: one set of plain dataclasses that every inbound format normalises to.

Public API::

    DOC_TYPES                       # ("vendor", "item", ..., "payment")
    from_dict(doc_type, data)       # validated construction, raises CanonicalValidationError
    validate(document)              # list of error dicts for an instance built in code
    json_schema(doc_type)           # JSON Schema draft 2020-12 derived from the dataclasses
    document.to_dict() / natural_key() / correlation_keys() / dependencies()
"""

from .base import SCHEMA_VERSION, CanonicalValidationError, build, error, object_schema
from .documents import (
    ACK_LINE_STATUSES,
    AMOUNT_FINDING_CODES,
    CONSUMPTION_SOURCES,
    CURRENCY_DECIMALS,
    ACK_STATUSES,
    DOC_TYPES,
    DOCUMENT_CLASSES,
    KEY_SCHEME_PRIORITY,
    MOVE_TYPES,
    PAYMENT_STATUSES,
    PO_APPROVAL_STATUSES,
    PO_PURPOSES,
    SCHEME_BUYER_ASSIGNED,
    SCHEME_DUNS,
    SCHEME_GLN,
    SCHEME_HIN,
    SCHEME_SAN,
    SCHEME_SELLER_ASSIGNED,
    SCHEME_SOURCE,
    SCHEME_TAX_ID,
    SCHEME_VAT,
    Address,
    AllowanceCharge,
    AmountFinding,
    BankAccount,
    CanonicalDocument,
    Consumption,
    ContractPrice,
    Identifier,
    Invoice,
    InvoiceLine,
    Item,
    ItemRef,
    Party,
    Payment,
    PaymentInvoiceRef,
    PoAck,
    PoAckLine,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ShipNotice,
    ShipNoticeLine,
    TaxLine,
    Vendor,
    currency_decimals,
)
from .documents import CREDENTIAL_TYPES, VendorCredential
from .documents import (
    ADJUSTMENT_REASONS,
    RECALL_CLASSIFICATIONS,
    SCRAP_REASONS,
    TRANSFER_EVENTS,
    LotTrace,
    Recall,
    StockAdjustment,
    StockAdjustmentLine,
    StockTransfer,
    StockTransferLine,
    read_udi,
    serial_in_range,
)

__all__ = [
    "ACK_LINE_STATUSES",
    "ACK_STATUSES",
    # hospital supply chain (issue 18)
    "ADJUSTMENT_REASONS",
    "AMOUNT_FINDING_CODES",
    "CONSUMPTION_SOURCES",
    "CREDENTIAL_TYPES",
    "CURRENCY_DECIMALS",
    "DOCUMENT_CLASSES",
    "DOC_TYPES",
    "KEY_SCHEME_PRIORITY",
    "MOVE_TYPES",
    "PAYMENT_STATUSES",
    "PO_APPROVAL_STATUSES",
    "PO_PURPOSES",
    "RECALL_CLASSIFICATIONS",
    "SCHEMA_VERSION",
    "SCHEME_BUYER_ASSIGNED",
    "SCHEME_DUNS",
    "SCHEME_GLN",
    "SCHEME_HIN",
    "SCHEME_SAN",
    "SCHEME_SELLER_ASSIGNED",
    "SCHEME_SOURCE",
    "SCHEME_TAX_ID",
    "SCHEME_VAT",
    "SCRAP_REASONS",
    "TRANSFER_EVENTS",
    "Address",
    "AllowanceCharge",
    "AmountFinding",
    "BankAccount",
    "CanonicalDocument",
    "CanonicalValidationError",
    "Consumption",
    "ContractPrice",
    "Identifier",
    "Invoice",
    "InvoiceLine",
    "Item",
    "ItemRef",
    "LotTrace",
    "Party",
    "Payment",
    "PaymentInvoiceRef",
    "PoAck",
    "PoAckLine",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Recall",
    "Receipt",
    "ReceiptLine",
    "ShipNotice",
    "ShipNoticeLine",
    "StockAdjustment",
    "StockAdjustmentLine",
    "StockTransfer",
    "StockTransferLine",
    "TaxLine",
    "Vendor",
    "VendorCredential",
    "currency_decimals",
    "document_class",
    "from_dict",
    "json_schema",
    "read_udi",
    "serial_in_range",
    "validate",
]


def document_class(doc_type):
    """The dataclass of ``doc_type``; raises ``CanonicalValidationError`` if unknown."""
    try:
        return DOCUMENT_CLASSES[doc_type]
    except (KeyError, TypeError):
        raise CanonicalValidationError(
            [error("doc_type", "enum", f"unknown doc_type {doc_type!r}")]
        ) from None


def from_dict(doc_type, data):
    """Validate JSON-like ``data`` and build the canonical document of ``doc_type``.

    ``data`` may carry the envelope keys ``doc_type`` (must equal ``doc_type``) and
    ``schema_version`` (major version must be ours: a 1.x reader accepts 1.y documents
    because minor versions only add optional fields).  All problems are collected and
    raised together as :class:`CanonicalValidationError`.
    """
    cls = document_class(doc_type)
    errors = []
    if isinstance(data, dict):
        if data.get("doc_type") not in (None, doc_type):
            errors.append(error("doc_type", "enum", f"expected {doc_type!r}"))
        version = data.get("schema_version")
        if version is not None and (
            not isinstance(version, str) or version.split(".")[0] != SCHEMA_VERSION.split(".")[0]
        ):
            errors.append(error("schema_version", "enum", f"unsupported version {version!r}"))
    document = build(cls, data, "", errors)
    if errors:
        raise CanonicalValidationError(errors)
    return document


def validate(document):
    """Errors of a document built in code (parsers): the same rules as :func:`from_dict`.

    Round-trips through ``to_dict`` so that types, formats, ranges and cross-field rules
    are checked exactly as for JSON input.
    """
    try:
        from_dict(document.doc_type, document.to_dict())
    except CanonicalValidationError as exc:
        return exc.errors
    return []


def json_schema(doc_type):
    """JSON Schema (draft 2020-12, usable in OpenAPI 3.1) of ``doc_type``.

    Generated from the dataclass declarations, so it cannot drift from the validator.
    """
    cls = document_class(doc_type)
    defs = {}
    schema = object_schema(cls, defs)
    schema["properties"] = {
        "doc_type": {"const": doc_type},
        "schema_version": {"type": "string", "pattern": r"^1\.\d+$"},
        **schema["properties"],
    }
    result = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:healthcare-p2p:canonical:{doc_type}:{SCHEMA_VERSION}",
        "title": cls.__name__,
        **schema,
    }
    if defs:
        result["$defs"] = dict(sorted(defs.items()))
    return result
