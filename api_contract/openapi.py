"""The OpenAPI 3.1 document of the module's HTTP API, generated, never hand-kept.

Document schemas come from the canonical dataclasses (``canonical.json_schema``) so the
published contract and the validator cannot drift apart; a test checks that every HTTP
route of the module is described here.
"""

from ..canonical import DOC_TYPES
from ..canonical import SCHEMA_VERSION
from ..canonical import json_schema
from ..formats.registry import STORED_CONTENT_TYPES
from .intake import FORMATS_BY_DOC_TYPE

PREFIX = "/api/hc/v1"
ENDPOINTS = {
    "vendor": "vendors",
    "item": "items",
    "contract_price": "contract-prices",
    "purchase_order": "purchase-orders",
    "po_ack": "po-acks",
    "ship_notice": "ship-notices",
    "receipt": "receipts",
    "invoice": "invoices",
    "payment": "payments",
    "stock_transfer": "stock-transfers",
    "stock_adjustment": "stock-adjustments",
    "recall": "recalls",
    "functional_ack": "edi-acks",
    "consumption": "consumption",
}
# What each endpoint reads besides canonical JSON/NDJSON (the README's formats table).
DOC_FORMATS = {
    "vendor": "CSV",
    "item": "CSV",
    "contract_price": "X12 832 price/sales catalog; X12 845 price authorization",
    "purchase_order": "X12 850; UBL 2.1 / PEPPOL Order; cXML OrderRequest",
    "po_ack": "X12 855; PEPPOL Order Response / UBL 2.1 OrderResponse and OrderResponseSimple",
    "ship_notice": "X12 856; UBL / PEPPOL DespatchAdvice; cXML ShipNoticeRequest",
    "receipt": "UBL ReceiptAdvice",
    "invoice": "X12 810; UBL 2.1 / PEPPOL BIS 3 Invoice and CreditNote; "
    "cXML InvoiceDetailRequest; UN/CEFACT CII (Factur-X, ZUGFeRD, XRechnung CII); a PDF/A-3 "
    "invoice (application/pdf) embedding its XML as factur-x.xml, zugferd-invoice.xml or "
    "xrechnung.xml",
    "payment": "X12 820",
    "stock_transfer": "",
    "stock_adjustment": "",
    "recall": "",
    "functional_ack": "X12 997 / 999 answering the interchanges sent to trading partners",
    "consumption": "",
}
_ACK_SCHEMAS = {
    "functional_ack": {
        "type": ["string", "null"],
        "description": "X12 only: the 997 (004010) or 999 (005010) answering the "
        "interchange; a transaction set this endpoint does not process is rejected with "
        "AK5/IK5 R*1 (transaction set not supported), a set with envelope errors with its "
        "AK502/IK502 code, a group-level error is named in AK905. Null when the interchange "
        "envelope itself was rejected (see interchange_ack) or its ISA cannot be read.",
    },
    "interchange_ack": {
        "type": ["string", "null"],
        "description": "X12 only: the TA1 answering the interchange envelope: R with its "
        "TA105 note code (001 control numbers differ, 014 date, 018 control number, 019/020 "
        "ISA14/ISA15, 021 group count, 022 structure, 023 truncated, 024 content) when the "
        "ISA/IEA is wrong, A*000 when ISA14 asked for one; null otherwise.",
    },
}
ERROR_CODES = {
    "400": "Malformed request (malformed_json, invalid_encoding, invalid_character, too_deep, "
    "empty_body, invalid_header, invalid_idempotency_key, x12_*, xml_* such as xml_forbidden "
    "for entity declarations and DOCTYPEs...). A document this endpoint never processes is "
    "refused here, not stored: cxml_request_not_supported (a cXML request of another "
    "endpoint or of none), cxml_response (a cXML Response answers a request and is not "
    "processed), cxml_message (one-way cXML Message), unexpected_doc_type (an XML document "
    "of another type), ubl_unsupported (a UBL document no endpoint reads), "
    "pdf_no_invoice_xml / pdf_unreadable (a PDF invoice without a readable embedded invoice "
    "XML). An X12 "
    "interchange with envelope errors answers its TA1 in interchange_ack",
    "401": "Missing, unknown or expired API key (unauthenticated, invalid_credentials); for "
    "connectors that require signed requests: signature_missing, signature_malformed, "
    "signature_invalid, timestamp_out_of_window, nonce_reused",
    "403": "Document type or company not allowed for this connector",
    "404": "Unknown endpoint or message (unknown_endpoint, not_found)",
    "409": "Idempotency-Key reused with a different body (idempotency_conflict)",
    "411": "A body sent without Content-Length (chunked) is refused (length_required)",
    "413": "Body or batch too large (payload_too_large, too_many_documents)",
    "415": "Content-Type not accepted for this document type (unsupported_media_type)",
    "422": "Valid syntax, invalid content (invalid_document, with field paths); an X12 "
    "transaction set this endpoint does not process is rejected with the field code "
    "x12_set_not_supported and AK5/IK5 R*1 in functional_ack, and is not stored",
    "429": "Rate limit exceeded (rate_limited, with Retry-After)",
    "503": "Database unavailable (unavailable, with Retry-After)",
}


SIGNATURE_HEADERS = [
    {
        "name": "X-HC-Timestamp",
        "in": "header",
        "description": "Signed requests: Unix time in seconds; refused beyond the connector's "
        "window (default 300 s) either way.",
        "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
    },
    {
        "name": "X-HC-Nonce",
        "in": "header",
        "description": "Signed requests: single-use value, unique per connector within the window.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,128}$"},
    },
    {
        "name": "X-HC-Signature",
        "in": "header",
        "description": "Signed requests: v1=<hex HMAC-SHA256 with the connector's signing "
        "secret over METHOD\\nTARGET\\nTIMESTAMP\\nNONCE\\nhex SHA-256 of the body>. Required "
        "with the two headers above when the connector requires signatures.",
        "schema": {"type": "string", "pattern": "^v1=[0-9a-f]{64}$"},
    },
]
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _error_responses(codes):
    responses = {
        code: {
            "description": ERROR_CODES[code],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for code in codes
    }
    for code in {"429", "503"} & set(responses):
        responses[code]["headers"] = RETRY_AFTER
    return responses


def build(server_url="/"):
    """Return the OpenAPI document as a dict."""
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "fields"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "path": {"type": ["string", "null"]},
                                    "code": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "functional_ack": _ACK_SCHEMAS["functional_ack"],
                "interchange_ack": _ACK_SCHEMAS["interchange_ack"],
            },
        },
        "MessageStatus": {
            "type": "object",
            "required": ["id", "document_type", "state"],
            "properties": {
                "id": {"type": "integer"},
                "document_type": {"type": "string", "enum": list(DOC_TYPES)},
                "state": {
                    "type": "string",
                    "enum": ["received", "processing", "waiting", "failed", "done", "dead"],
                },
                "idempotency_key": {"type": ["string", "null"]},
                "attempts": {"type": "integer"},
                "received_at": {"type": ["string", "null"], "format": "date-time"},
                "finished_at": {"type": ["string", "null", "boolean"]},
                "next_attempt_at": {"type": ["string", "null", "boolean"]},
                "waiting_for": {"type": ["string", "null"]},
                "duplicate": {"type": "boolean"},
                "error": {"type": ["object", "null"]},
                "issues": {"type": "array"},
                "result": {"type": ["object", "null"]},
                "functional_ack": _ACK_SCHEMAS["functional_ack"],
                "interchange_ack": _ACK_SCHEMAS["interchange_ack"],
            },
        },
        "BatchResult": {
            "type": "object",
            "required": ["documents", "counts", "results"],
            "properties": {
                "documents": {"type": "integer"},
                "counts": {"type": "object"},
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["index", "status"],
                        "properties": {
                            "index": {"type": "integer"},
                            "status": {
                                "type": "string",
                                "enum": ["created", "duplicate", "rejected", "conflict"],
                            },
                            "id": {"type": "integer"},
                            "state": {"type": "string"},
                            "error": {"type": "object"},
                        },
                    },
                },
                "functional_ack": _ACK_SCHEMAS["functional_ack"],
                "interchange_ack": _ACK_SCHEMAS["interchange_ack"],
            },
        },
    }
    paths = {}
    for doc_type in DOC_TYPES:
        schema = json_schema(doc_type)
        defs = schema.pop("$defs", {})
        schema.pop("$schema", None)
        for name, definition in defs.items():
            schemas.setdefault(name, _rewrite_refs(definition))  # nested "#/$defs/X" refs too
        name = schema["title"]
        schemas[name] = _rewrite_refs(schema)
        content = {
            "application/json": {
                "schema": {"oneOf": [_ref(name), {"type": "array", "items": _ref(name)}]}
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        }
        for fmt in FORMATS_BY_DOC_TYPE[doc_type]:
            if fmt in ("x12", "xml", "csv", "pdf"):
                body_schema = {"type": "string"}
                if fmt == "pdf":
                    body_schema["format"] = "binary"
                content[STORED_CONTENT_TYPES[fmt]] = {"schema": body_schema}
        paths[f"{PREFIX}/{ENDPOINTS[doc_type]}"] = {
            "post": {
                "operationId": f"post_{doc_type}",
                "summary": f"Submit {doc_type.replace('_', ' ')} document(s)",
                "description": "Stores the document(s) and answers at once; processing is "
                "asynchronous. A JSON array, NDJSON, an X12 interchange or a CSV file is a "
                "batch: each document becomes its own message. Formats besides JSON: "
                + (DOC_FORMATS[doc_type] or "none")
                + ". A document of another type is refused before it is stored.",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {"type": "string", "maxLength": 200},
                    },
                    {"name": "X-Company-Id", "in": "header", "schema": {"type": "integer"}},
                    *SIGNATURE_HEADERS,
                ],
                "requestBody": {"required": True, "content": content},
                "responses": {
                    "202": {
                        "description": "Accepted (single document: its status; batch: per document)",
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [_ref("MessageStatus"), _ref("BatchResult")]}
                            }
                        },
                    },
                    "200": {
                        "description": "Duplicate: the original message",
                        "content": {"application/json": {"schema": _ref("MessageStatus")}},
                    },
                    **_error_responses(
                        [
                            "400",
                            "401",
                            "403",
                            "404",
                            "409",
                            "411",
                            "413",
                            "415",
                            "422",
                            "429",
                            "503",
                        ]
                    ),
                    "422": {
                        "description": ERROR_CODES["422"]
                        + "; a batch none of whose documents was accepted answers its "
                        "per-document results",
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [_ref("Error"), _ref("BatchResult")]}
                            }
                        },
                    },
                },
            }
        }
    paths[f"{PREFIX}/messages/{{message_id}}"] = {
        "get": {
            "operationId": "get_message",
            "summary": "Status and result of a message",
            "parameters": [
                {
                    "name": "message_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
                *SIGNATURE_HEADERS,
            ],
            "responses": {
                "200": {
                    "description": "The message",
                    "content": {"application/json": {"schema": _ref("MessageStatus")}},
                },
                **_error_responses(["401", "404", "429"]),
            },
        }
    }
    paths[f"{PREFIX}/messages"] = {
        "get": {
            "operationId": "find_message",
            "summary": "Find a message by idempotency key",
            "parameters": [
                {
                    "name": "idempotency_key",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                },
                *SIGNATURE_HEADERS,
            ],
            "responses": {
                "200": {
                    "description": "The message",
                    "content": {"application/json": {"schema": _ref("MessageStatus")}},
                },
                **_error_responses(["400", "401", "404", "429"]),
            },
        }
    }
    paths[f"{PREFIX}/messages/{{message_id}}/replay"] = {
        "post": {
            "operationId": "replay_message",
            "summary": "Replay a message (integration administrators)",
            "parameters": [
                {
                    "name": "message_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["reason"],
                            "properties": {"reason": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {
                "202": {
                    "description": "Queued again",
                    "content": {"application/json": {"schema": _ref("MessageStatus")}},
                },
                **_error_responses(["400", "401", "403", "404", "409", "422"]),
            },
        }
    }
    paths[f"{PREFIX}/health"] = {
        "get": {
            "operationId": "health",
            "summary": "Liveness: {status: ok | unavailable} without a key; the details (lane "
            "workers, queue depth and oldest message of the key owner's companies) with the "
            "API key of an integration administrator or auditor",
            "security": [],
            "responses": {
                "200": {
                    "description": "Healthy",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "503": {
                    "description": "Degraded (a lane worker stalled, messages waiting too long: "
                    "what a backlog on a loaded server looks like) or the database is unavailable",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_error_responses(["401", "403"]),
            },
        }
    }
    paths[f"{PREFIX}/metrics"] = {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics (integration administrators and auditors)",
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **_error_responses(["401"]),
                "403": {"description": "Not an integration administrator or auditor"},
            },
        }
    }
    paths[f"{PREFIX}/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1 document"}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Healthcare procure-to-pay integration API",
            "version": f"1 (canonical model {SCHEMA_VERSION})",
            "description": "Inbound documents for Odoo: vendors, items, contract prices, "
            "purchase orders, acknowledgments, ship notices, receipts, invoices, payments. "
            "Connectors configured for it must sign every request (X-HC-Timestamp, X-HC-Nonce, "
            "X-HC-Signature: HMAC-SHA256, see the README) and may be rate limited per "
            "connector (429 with Retry-After).",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }


def _rewrite_refs(value):
    """Point JSON Schema ``#/$defs/X`` references at OpenAPI components."""
    if isinstance(value, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _rewrite_refs(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value
