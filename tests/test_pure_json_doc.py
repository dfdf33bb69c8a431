"""Canonical JSON reader: objects, arrays, NDJSON, limits and hostile input (no Odoo)."""

import json
from decimal import Decimal

import pytest

from ..canonical import CanonicalValidationError
from ..formats.errors import ParseError
from ..formats.json_doc import JsonLimits
from ..formats.json_doc import load_values
from ..formats.json_doc import parse_json
from ..formats.json_doc import split_json
from ..formats.registry import parse
from ..formats.registry import split


def _receipt(receipt_id="GR-1", qty="5"):
    return {
        "doc_type": "receipt",
        "receipt_id": receipt_id,
        "po_number": "PO-1",
        "facility": {"identifiers": [{"scheme": "GLN", "value": "0614141000005"}]},
        "received_date": "2025-03-05",
        "lines": [
            {
                "line_number": "1",
                "item": {"gtin": "00614141000029"},
                "quantity_received": qty,
                "uom": "BX",
                "lot": "L1",
                "expiry_date": "2027-01-31",
            }
        ],
    }


def test_single_object_with_decimal_precision():
    raw = json.dumps(_receipt(qty=None)).replace("null", "0.1").encode()
    [doc] = parse_json(raw, "receipt")
    assert doc.lines[0].quantity_received == Decimal("0.1")  # not 0.1000000000000000055
    assert doc.natural_key() == "receipt:PO-1:GR-1"


def test_array_and_ndjson_batches():
    docs = [_receipt(f"GR-{i}", str(i)) for i in range(1, 4)]
    from_array = parse_json(json.dumps(docs).encode(), "receipt")
    ndjson = "\n".join(json.dumps(d) for d in docs) + "\n\n"
    from_ndjson = parse_json(ndjson.encode(), "receipt", ndjson=True)
    assert [d.receipt_id for d in from_array] == ["GR-1", "GR-2", "GR-3"]
    assert from_array == from_ndjson
    assert sum(d.lines[0].quantity_received for d in from_array) == Decimal(6)


def test_doc_type_from_the_document_when_endpoint_gives_none():
    [doc] = parse_json(json.dumps(_receipt()).encode())
    assert doc.doc_type == "receipt"
    data = _receipt()
    del data["doc_type"]
    with pytest.raises(ParseError) as info:
        parse_json(json.dumps(data).encode())
    assert info.value.code == "json_doc_type"


def test_validation_errors_of_all_documents_with_index_paths():
    bad = _receipt("GR-2")
    bad["lines"][0]["uom"] = "box"
    worse = _receipt("GR-3")
    del worse["received_date"]
    with pytest.raises(CanonicalValidationError) as info:
        parse_json(json.dumps([_receipt(), bad, worse]).encode(), "receipt")
    assert [(e["path"], e["code"]) for e in info.value.errors] == [
        ("[1].lines[0].uom", "format"),
        ("[2].received_date", "required"),
    ]


def test_doc_type_mismatch_between_endpoint_and_document():
    with pytest.raises(CanonicalValidationError) as info:
        parse_json(json.dumps(_receipt()).encode(), "invoice")
    assert info.value.errors[0] == {
        "path": "doc_type",
        "code": "enum",
        "message": "expected 'invoice'",
    }


@pytest.mark.parametrize(
    "payload,code",
    [
        (b"", "json_empty"),
        (b"   ", "json_empty"),
        (b"[]", "json_empty"),
        (b"{", "json_syntax"),
        (b'{"a": 1} {"b": 2}', "json_syntax"),
        (b'{"a": NaN}', "json_syntax"),
        (b'{"a": Infinity}', "json_syntax"),
        (b'{"a": 1, "a": 2}', "json_duplicate_key"),
        (b'{"lines": [{"q": 1, "q": 2}]}', "json_duplicate_key"),
        (b"\xff\xfe{}", "json_encoding"),
        (b'{"name": "caf\xc3"}', "json_encoding"),
        (b"[1, 2]", "json_not_object"),
        (b'"just a string"', "json_not_object"),
        (b'{"a": ' + b"9" * 5000 + b"}", "json_syntax"),
    ],
)
def test_malformed_and_hostile_payloads(payload, code):
    with pytest.raises(ParseError) as info:
        parse_json(payload, "receipt")
    assert info.value.code == code


def test_deep_nesting_is_refused_before_decoding():
    payload = b"[" * 100_000 + b"]" * 100_000  # would raise RecursionError in json
    with pytest.raises(ParseError) as info:
        parse_json(payload, "receipt")
    assert info.value.code == "json_depth"
    # Brackets inside strings do not count.
    assert load_values(b'{"note": "' + b"[" * 100 + b'"}') == [{"note": "[" * 100}]


def test_size_and_count_limits():
    limits = JsonLimits(max_bytes=1000, max_depth=32, max_documents=2)
    with pytest.raises(ParseError) as info:
        parse_json(b" " * 1001, "receipt", limits=limits)
    assert info.value.code == "json_too_large"
    three = json.dumps([{"a": 1}] * 3).encode()
    with pytest.raises(ParseError) as info:
        load_values(three, limits=limits)
    assert info.value.code == "json_too_many_documents"
    with pytest.raises(ParseError) as info:
        split_json(three, limits=limits)
    assert info.value.code == "json_too_many_documents"


def test_bom_is_ignored():
    [doc] = parse_json(b"\xef\xbb\xbf" + json.dumps(_receipt()).encode(), "receipt")
    assert doc.receipt_id == "GR-1"


def test_split_keeps_original_text_of_each_element():
    text = '[ {"b": 1,  "a": [1, 2]} ,\n{"c": "x, ]"} ]'
    assert split_json(text.encode()) == [b'{"b": 1,  "a": [1, 2]}', b'{"c": "x, ]"}']
    assert split_json(b'  {"a": 1}\n') == [b'{"a": 1}']
    assert split_json(b'{"a": 1}\n\n{"b": 2}\n', ndjson=True) == [b'{"a": 1}', b'{"b": 2}']
    with pytest.raises(ParseError) as info:
        split_json(b'[{"a": 1} {"b": 2}]')
    assert info.value.code == "json_syntax"
    with pytest.raises(ParseError) as info:
        split_json(b'{"a": 1}\n{"a": 1, "a": 2}\n', ndjson=True)
    assert info.value.code == "json_duplicate_key" and info.value.path == "line 2"


def test_registry_json_and_ndjson():
    docs = [_receipt("GR-1"), _receipt("GR-2")]
    parts = split("receipt", "application/json", json.dumps(docs).encode())
    assert len(parts) == 2
    parsed = [parse("receipt", "application/json; charset=utf-8", p)[0] for p in parts]
    assert [p.document.receipt_id for p in parsed] == ["GR-1", "GR-2"]
    assert parsed[0].source_format == "json" and parsed[0].issues == []
    nd = "\n".join(json.dumps(d) for d in docs).encode()
    assert len(parse("receipt", "application/x-ndjson", nd)) == 2
    with pytest.raises(ParseError) as info:
        parse("receipt", "application/json", json.dumps({**docs[0], "po_number": ""}).encode())
    assert info.value.code == "canonical_validation"
    assert info.value.details[0]["path"] == "po_number"
    with pytest.raises(ParseError) as info:
        parse("receipt", "application/msword", b"\xd0\xcf\x11\xe0")
    assert info.value.code == "unsupported_content_type"
