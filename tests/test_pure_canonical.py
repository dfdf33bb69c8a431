"""Canonical model: validation, keys, serialisation and JSON Schema (no Odoo)."""

import json
from datetime import date
from decimal import Decimal

import pytest

from ..canonical import DOC_TYPES
from ..canonical import SCHEMA_VERSION
from ..canonical import CanonicalValidationError
from ..canonical import Identifier
from ..canonical import Invoice
from ..canonical import InvoiceLine
from ..canonical import ItemRef
from ..canonical import Party
from ..canonical import from_dict
from ..canonical import json_schema
from ..canonical import validate


def _invoice(**overrides):
    data = {
        "number": "INV-100",
        "issue_date": "2025-03-01",
        "due_date": "2025-03-31",
        "currency": "USD",
        "vendor": {
            "identifiers": [
                {"scheme": "SOURCE", "value": "V-17"},
                {"scheme": "GLN", "value": "0614141000005"},
            ],
            "name": "Acme Medical",
        },
        "po_numbers": ["PO-1"],
        "lines": [
            {
                "line_number": "1",
                "po_line_ref": "10",
                "item": {"gtin": "00614141000012", "vendor_part_number": "GL-100"},
                "quantity": "10",
                "uom": "BX",
                "unit_price": "12.50",
                "line_total": "125.00",
                "taxes": [{"category": "S", "rate": "8", "amount": "10.00"}],
            },
            {
                "line_number": "2",
                "po_number": "PO-2",
                "item": {"description": "Freight"},
                "quantity": 1,
                "uom": "EA",
                "unit_price": "5",
            },
        ],
        "net_total": "130.00",
        "tax_total": "10.00",
        "gross_total": "140.00",
    }
    data.update(overrides)
    return data


def test_doc_types_are_the_agreed_codes():
    assert DOC_TYPES == (
        "vendor",
        "item",
        "contract_price",
        "purchase_order",
        "po_ack",
        "ship_notice",
        "receipt",
        "invoice",
        "payment",
        "stock_transfer",
        "stock_adjustment",
        "recall",
        "functional_ack",
        "consumption",
    )
    assert SCHEMA_VERSION == "1.0"


def test_invoice_from_dict_types_and_keys():
    inv = from_dict("invoice", _invoice())
    assert isinstance(inv, Invoice)
    assert inv.issue_date == date(2025, 3, 1)
    assert inv.lines[0].unit_price == Decimal("12.50")
    assert inv.lines[1].quantity == Decimal(1)
    assert inv.gross_total == Decimal("140.00")
    assert not inv.is_credit_note
    # GLN wins over the sender's own id for the business key.
    assert inv.natural_key() == "invoice:gln=0614141000005:INV-100"
    assert inv.correlation_keys() == [
        "purchase_order:PO-1",
        "purchase_order:PO-2",
        "vendor:gln=0614141000005",
    ]
    assert inv.dependencies() == ["purchase_order:PO-1", "purchase_order:PO-2"]


def test_to_dict_is_json_safe_and_round_trips():
    inv = from_dict("invoice", _invoice())
    data = inv.to_dict()
    text = json.dumps(data)  # no Decimal/date left
    assert data["doc_type"] == "invoice"
    assert data["schema_version"] == "1.0"
    assert data["lines"][0]["unit_price"] == "12.50"
    assert data["issue_date"] == "2025-03-01"
    assert from_dict("invoice", json.loads(text)) == inv


def test_decimal_never_serialised_with_exponent():
    data = _invoice(gross_total="1E+2")
    assert from_dict("invoice", data).to_dict()["gross_total"] == "100"


def test_all_errors_are_reported_with_paths():
    data = _invoice(currency="usd", issue_date="2025-02-30", bogus=1)
    data["lines"][0]["quantity"] = "ten"
    data["lines"][1]["uom"] = None
    data["lines"][1]["unit_price"] = "-1"
    del data["number"]
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("invoice", data)
    found = {(e["path"], e["code"]) for e in info.value.errors}
    assert found == {
        ("bogus", "format"),
        ("number", "required"),
        ("issue_date", "format"),
        ("currency", "format"),
        ("lines[0].quantity", "format"),
        ("lines[1].uom", "required"),
        ("lines[1].unit_price", "range"),
    }
    assert all(set(e) == {"path", "code", "message"} for e in info.value.errors)


def test_type_and_enum_errors():
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("invoice", _invoice(move_type="refund", lines="x", vendor=[]))
    codes = {e["path"]: e["code"] for e in info.value.errors}
    assert codes == {"move_type": "enum", "lines": "type", "vendor": "type"}


@pytest.mark.parametrize(
    "value,code",
    [
        ("NaN", "format"),
        ("Infinity", "format"),
        ("1e999999", "range"),
        ("0.00000000001", "range"),
        (True, "type"),
        ([], "type"),
    ],
)
def test_hostile_decimals_are_refused(value, code):
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("invoice", _invoice(gross_total=value))
    assert info.value.errors == [
        {"path": "gross_total", "code": code, "message": info.value.errors[0]["message"]}
    ]


@pytest.mark.parametrize("value", ["1e999999999", "-9e999999", 10**400, 1e308])
def test_hostile_exponents_refused_whatever_the_decimal_context(value):
    """Found by API fuzzing: abs() rounds in the thread's decimal context, whose limits a
    server may have narrowed, and raised Overflow (a 500) instead of a range error."""
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec, ctx.Emax, ctx.Emin = 16, 99, -99
        with pytest.raises(CanonicalValidationError) as info:
            from_dict("invoice", _invoice(gross_total=value))
    [err] = info.value.errors
    assert (err["path"], err["code"]) in {("gross_total", "range"), ("gross_total", "format")}


def test_cross_field_rules():
    data = _invoice(due_date="2025-02-01", original_invoice_number="INV-9")
    data["lines"][1]["line_number"] = "1"
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("invoice", data)
    # A due date before the issue date is a data-quality issue (formats.parse), not an error.
    assert {(e["path"], e["code"]) for e in info.value.errors} == {
        ("lines[1].line_number", "format"),
        ("original_invoice_number", "format"),
    }


def test_due_date_before_issue_date_is_accepted():
    invoice = from_dict("invoice", _invoice(due_date="2025-02-01"))
    assert invoice.due_date < invoice.issue_date


def test_credit_note_keys_differ_from_invoice():
    credit = from_dict(
        "invoice", _invoice(move_type="credit_note", original_invoice_number="INV-90")
    )
    assert credit.is_credit_note
    assert credit.natural_key() == "invoice:gln=0614141000005:credit_note:INV-100"
    assert "invoice:gln=0614141000005:INV-90" in credit.correlation_keys()
    # The original invoice is correlated, never awaited.
    assert "invoice:gln=0614141000005:INV-90" not in credit.dependencies()


def test_doc_type_and_version_envelope():
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("invoice", _invoice(doc_type="payment", schema_version="2.0"))
    assert {e["path"] for e in info.value.errors} == {"doc_type", "schema_version"}
    assert from_dict("invoice", _invoice(schema_version="1.3")).number == "INV-100"
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("nonsense", {})
    assert info.value.errors[0]["code"] == "enum"
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("invoice", ["not", "an", "object"])
    assert info.value.errors == [{"path": "", "code": "type", "message": "expected an object"}]


def test_purchase_order_receipt_and_ship_notice_keys():
    po = from_dict(
        "purchase_order",
        {
            "number": "4500012345",
            "order_date": "2025-01-10",
            "currency": "EUR",
            "vendor": {"identifiers": [{"scheme": "DUNS", "value": "123456789"}]},
            "ship_to": {"identifiers": [{"scheme": "GLN", "value": "0614141000005"}]},
            "approval_status": "approved",
            "contract_reference": "GPO-7",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": "00614141000012"},
                    "quantity": "2",
                    "uom": "CS",
                    "unit_price": "100.10",
                    "requested_date": "2025-01-20",
                },
                {
                    "line_number": "2",
                    "item": {"buyer_part_number": "B-2"},
                    "quantity": "3",
                    "uom": "EA",
                    "unit_price": "1.05",
                },
            ],
        },
    )
    assert po.natural_key() == "purchase_order:4500012345"
    assert po.dependencies() == []
    assert po.lines_total() == Decimal("203.35")
    assert "contract:GPO-7" in po.correlation_keys()

    receipt = from_dict(
        "receipt",
        {
            "receipt_id": "GR-1",
            "po_number": "4500012345",
            "asn_number": "ASN-9",
            "facility": {"identifiers": [{"scheme": "GLN", "value": "0614141000005"}]},
            "received_date": "2025-01-21",
            "lines": [
                {
                    "line_number": "1",
                    "po_line_ref": "1",
                    "item": {"gtin": "00614141000012"},
                    "quantity_received": "1",
                    "uom": "CS",
                    "lot": "L1",
                    "expiry_date": "2027-01-31",
                    "critical": True,
                },
            ],
        },
    )
    assert receipt.is_critical
    assert receipt.natural_key() == "receipt:4500012345:GR-1"
    assert receipt.dependencies() == ["purchase_order:4500012345"]
    assert receipt.correlation_keys() == [
        "purchase_order:4500012345",
        "ship_notice:4500012345:ASN-9",
    ]

    asn = from_dict(
        "ship_notice",
        {
            "asn_number": "ASN-9",
            "po_number": "4500012345",
            "ship_date": "2025-01-19",
            "carrier": "UPSN",
            "tracking_number": "1Z999",
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": "00614141000012"},
                    "quantity": "2",
                    "uom": "CS",
                    "lot": "L1",
                    "expiry_date": "2027-01-31",
                    "serials": ["S1", "S2"],
                },
                {
                    "line_number": "2",
                    "po_number": "4500099999",
                    "item": {"vendor_part_number": "X"},
                    "quantity": "1",
                    "uom": "EA",
                },
            ],
        },
    )
    assert asn.natural_key() == "ship_notice:4500012345:ASN-9"
    assert asn.dependencies() == ["purchase_order:4500012345", "purchase_order:4500099999"]
    assert asn.total_quantity() == Decimal(3)


def test_ship_notice_duplicate_serials_and_item_without_ids():
    with pytest.raises(CanonicalValidationError) as info:
        from_dict(
            "ship_notice",
            {
                "asn_number": "A",
                "po_number": "P",
                "ship_date": "2025-01-01",
                "lines": [
                    {
                        "line_number": "1",
                        "item": {},
                        "quantity": "1",
                        "uom": "EA",
                        "serials": ["S1", "S1"],
                    }
                ],
            },
        )
    assert [e["path"] for e in info.value.errors] == ["lines[0].item"]


def test_po_ack_change_needs_new_values_and_payment_rules():
    ack = {
        "po_number": "P1",
        "ack_date": "2025-01-02",
        "status": "accepted_with_changes",
        "lines": [{"line_number": "1", "status": "change"}],
    }
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("po_ack", ack)
    assert info.value.errors[0]["path"] == "lines[0]"
    ack["lines"][0]["quantity"] = "4"
    parsed = from_dict("po_ack", ack)
    assert parsed.natural_key() == "po_ack:P1:2025-01-02"
    assert parsed.dependencies() == ["purchase_order:P1"]

    payment = {
        "payment_id": "PAY-1",
        "status": "hold",
        "amount": "10",
        "currency": "USD",
        "payment_date": "2025-02-01",
    }
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("payment", payment)
    assert info.value.errors[0]["path"] == "reason"
    payment.update(
        reason="bank details changed", invoices=[{"invoice_number": "I1", "amount_paid": "10"}]
    )
    held = from_dict("payment", payment)
    assert held.natural_key() == "payment:PAY-1:hold"
    assert held.remitted_total() == Decimal(10)
    assert "invoice_number:I1" in held.correlation_keys()


def test_vendor_item_contract_price():
    vendor = from_dict(
        "vendor",
        {
            "identifiers": [
                {"scheme": "DUNS", "value": "123456789"},
                {"scheme": "SOURCE", "value": "V1"},
            ],
            "name": "Acme",
            "bank_accounts": [{"iban": "DE89370400440532013000"}],
        },
    )
    assert vendor.natural_key() == "vendor:duns=123456789"
    assert vendor.correlation_keys() == ["vendor:duns=123456789", "vendor:source=V1"]
    with pytest.raises(CanonicalValidationError) as info:
        from_dict(
            "vendor", {"identifiers": [], "name": "X", "bank_accounts": [{"bic": "DEUTDEFF"}]}
        )
    assert {e["path"] for e in info.value.errors} == {"identifiers", "bank_accounts[0]"}

    item = from_dict(
        "item",
        {
            "vendor_part_number": "GL-100",
            "description": "Nitrile gloves",
            "uom": "BX",
            "pack_factor": "100",
            "base_uom": "EA",
            "critical": True,
            "lot_tracked": True,
            "vendor": {"identifiers": [{"scheme": "DUNS", "value": "123456789"}]},
        },
    )
    assert item.natural_key() == "item:duns=123456789:vpn=GL-100"
    assert item.pack_factor == Decimal(100) and item.critical and item.lot_tracked
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("item", {"description": "x", "uom": "BX", "pack_factor": "0"})
    assert {(e["path"], e["code"]) for e in info.value.errors} == {("pack_factor", "range")}

    price = from_dict(
        "contract_price",
        {
            "contract_reference": "GPO-7",
            "vendor": {"name": "Acme"},
            "item": {"gtin": "00614141000012"},
            "price": "9.99",
            "currency": "USD",
            "uom": "BX",
            "date_start": "2025-01-01",
            "date_end": "2025-12-31",
        },
    )
    assert price.is_valid_on(date(2025, 6, 1)) and not price.is_valid_on(date(2026, 1, 1))
    assert price.natural_key() == "contract_price:name=acme:GPO-7:gtin=00614141000012:BX:2025-01-01"
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("contract_price", {**price.to_dict(), "date_end": "2024-01-01"})
    assert info.value.errors[0]["path"] == "date_end"


def test_validate_document_built_in_code():
    inv = Invoice(
        number="X",
        issue_date=date(2025, 1, 1),
        currency="US",
        vendor=Party(identifiers=[Identifier(scheme="GLN", value="1")]),
        lines=[
            InvoiceLine(
                line_number="1",
                item=ItemRef(gtin="123"),
                quantity=Decimal(1),
                uom="EA",
                unit_price=Decimal(1),
            )
        ],
        gross_total=Decimal(1),
    )
    assert {(e["path"], e["code"]) for e in validate(inv)} == {
        ("currency", "format"),
        ("lines[0].item.gtin", "format"),
    }


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_json_schema_generated_from_dataclasses(doc_type):
    schema = json_schema(doc_type)
    json.dumps(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["doc_type"] == {"const": doc_type}
    assert schema["additionalProperties"] is False
    refs = {ref.split("/")[-1] for ref in _walk_refs(schema)}
    assert refs <= set(schema.get("$defs", {}))


def _walk_refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _walk_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_refs(value)


def test_json_schema_mirrors_validator_for_invoice():
    schema = json_schema("invoice")
    assert set(schema["required"]) == {
        "number",
        "issue_date",
        "currency",
        "vendor",
        "lines",
        "gross_total",
    }
    line = schema["$defs"]["InvoiceLine"]
    assert line["properties"]["quantity"]["type"] == ["string", "number"]
    assert schema["properties"]["move_type"]["anyOf"][0]["enum"] == ["invoice", "credit_note"]
    assert schema["properties"]["issue_date"] == {"type": "string", "format": "date"}
    assert schema["properties"]["lines"]["minItems"] == 1


def test_party_scheme_aliases_name_one_party():
    """UBL's ICD 0088 is a GLN: the same vendor, the same business key (issue 15)."""
    by_icd = Party(identifiers=[Identifier(scheme="0088", value="0614141000012")])
    by_name = Party(identifiers=[Identifier(scheme="GLN", value="0614141000012")])
    assert by_icd.key() == by_name.key() == "gln=0614141000012"
    assert by_icd.identifier("GLN") == "0614141000012"
    duns = Party(identifiers=[Identifier(scheme="0060", value="123456789")])
    assert duns.key() == "duns=123456789"
    # positive control: a system's own scheme keeps its name, and stays below a GLN
    own = Party(identifiers=[Identifier(scheme="SRC", value="V-1")])
    assert own.key() == "src=V-1"
    both = Party(identifiers=[own.identifiers[0], by_icd.identifiers[0]])
    assert both.key() == "gln=0614141000012"
