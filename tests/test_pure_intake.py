"""Intake (api_contract.intake + the format registry): what is stored is the exact bytes of each
document, numbers are never rounded on the way in, a BOM is tolerated by every format, and
refusals keep the API's stable codes (no Odoo)."""

import json
from decimal import Decimal

import pytest

from ..api_contract.intake import FORMATS_BY_DOC_TYPE
from ..api_contract.intake import IntakeError
from ..api_contract.intake import negotiate
from ..api_contract.intake import split_request
from ..formats.registry import CONTENT_TYPES
from ..formats.registry import STORED_CONTENT_TYPES
from ..formats.registry import format_of
from ..formats.registry import parse
from ..formats.registry import split

BOM = b"\xef\xbb\xbf"
LONG = "12345678.1234567891"  # 18 significant digits: a float keeps 12345678.12345679


def _po(number, unit_price="25.50"):
    """A purchase order as JSON text, the unit price written as a bare JSON number."""
    doc = {
        "number": number,
        "order_date": "2026-03-02",
        "vendor": {"identifiers": [{"scheme": "GLN", "value": "0614141000012"}]},
        "currency": "USD",
        "lines": [
            {
                "line_number": "1",
                "item": {"gtin": "00614141000418", "description": "Gloves – nitrile"},
                "quantity": "1",
                "uom": "EA",
                "unit_price": "PRICE",
            }
        ],
    }
    return json.dumps(doc, ensure_ascii=False).replace('"PRICE"', unit_price)


def _stored(doc_type, content_type, body, max_documents=100):
    fmt, batch, items = split_request(doc_type, content_type, body, max_documents)
    assert all(not errors for _raw, errors in items), items
    return fmt, batch, [raw for raw, _errors in items]


# -- exact bytes -------------------------------------------------------------------------


def test_json_batch_is_stored_as_slices_of_the_body():
    first, second = _po("PO-1", LONG), _po("PO-2", "1e2")
    # odd spacing, a non-ASCII character, an escaped quote, a bracket inside a string
    second = second.replace('"PO-2"', '"PO-2 \\"B\\" ]"')
    body = f"[\n  {first} ,\t{second}\n]\n".encode()
    fmt, batch, stored = _stored("purchase_order", "application/json; charset=utf-8", body)
    assert (fmt, batch) == ("json", True)
    assert stored == [first.encode(), second.encode()]
    for raw in stored:
        assert raw in body  # byte for byte what the client sent for that document
    assert LONG.encode() in stored[0] and b"1e2" in stored[1]


def test_ndjson_lines_are_stored_as_sent():
    # U+2028 is a line separator for str.splitlines(), but ordinary text inside JSON
    first, second = _po("PO-1\u2028x", LONG), _po("PO-2")
    body = f"{first}\r\n\r\n{second}".encode()
    fmt, batch, stored = _stored("purchase_order", "application/x-ndjson", body)
    assert (fmt, batch) == ("ndjson", True)
    assert stored == [first.encode(), second.encode()]


def test_single_object_is_stored_as_sent():
    body = f"  {_po('PO-1', LONG)}\n".encode()
    fmt, batch, stored = _stored("purchase_order", "application/json", body)
    assert (fmt, batch) == ("json", False)
    assert stored == [body.strip()]


def test_long_number_survives_to_the_canonical_document_and_is_flagged():
    _fmt, _batch, [raw] = _stored("purchase_order", "application/json", _po("PO-1", LONG).encode())
    [parsed] = parse("purchase_order", STORED_CONTENT_TYPES["json"], raw)
    assert parsed.document.lines[0].unit_price == Decimal(LONG)
    assert parsed.document.to_dict()["lines"][0]["unit_price"] == LONG
    # Odoo's Float fields are doubles: the rounding that applying makes is said, not silent
    [issue] = [i for i in parsed.issues if i.code == "float_precision"]
    assert issue.path == "lines[0].unit_price"
    assert "12345678.12345679" in issue.message
    # positive control: a price a double holds exactly raises no such issue
    [plain] = parse("purchase_order", "application/json", _po("PO-2", "25.50").encode())
    assert plain.document.lines[0].unit_price == Decimal("25.50")
    assert not [i for i in plain.issues if i.code == "float_precision"]


def test_csv_rows_are_stored_as_header_line_and_row_text():
    header = "Name,GLN,City,Country Code\r\n"
    rows = [
        '"Acme, Medical",0614141000036,Springfield,US\r\n',
        '"Beta\nSurgical",0614141000029,Boston,US',
    ]
    body = (header + rows[0] + "\r\n" + rows[1]).encode()
    fmt, batch, stored = _stored("vendor", "text/csv", body)
    assert (fmt, batch) == ("csv", True)
    assert stored == [(header + rows[0]).encode(), (header + rows[1]).encode()]
    names = [parse("vendor", "text/csv", raw)[0].document.name for raw in stored]
    assert names == ["Acme, Medical", "Beta\nSurgical"]


def _interchange(sets, name="Caf\xe9 Medical"):
    isa = (
        "ISA*00*          *00*          *ZZ*HOSPITAL       *ZZ*VENDOR         "
        "*250301*1200*U*00401*000000101*0*P*>"
    )
    segs = [isa, "GS*PO*HOSPITAL*VENDOR*20250301*1200*77*X*004010"]
    for control in sets:
        body = [
            f"BEG*00*SA*PO-{control}**20250301",
            f"N1*SE*{name}*UL*0614141000012",
            "PO1*1*10*BX*25.50**VP*GL-100",
            "CTT*1",
        ]
        segs += [f"ST*850*{control}", *body, f"SE*{len(body) + 2}*{control}"]
    segs += [f"GE*{len(sets)}*77", "IEA*1*000000101"]
    return "~\n".join(segs) + "~\n"


def test_x12_single_set_is_stored_as_received_and_sets_keep_their_bytes():
    single = _interchange(["0001"]).encode("latin-1")
    assert _stored("purchase_order", "application/edi-x12", single)[2] == [single]
    body = _interchange(["0001", "0002"]).encode("latin-1")
    _fmt, batch, stored = _stored("purchase_order", "application/edi-x12", body)
    assert batch and len(stored) == 2
    for raw in stored:
        assert b"N1*SE*Caf\xe9 Medical*UL" in raw  # the Latin-1 byte as sent, not re-encoded
        [parsed] = parse("purchase_order", "application/edi-x12", raw)
        assert parsed.document.vendor.name == "Caf\xe9 Medical"


# -- one content-type table ----------------------------------------------------------------


@pytest.mark.parametrize("media", sorted(CONTENT_TYPES))
def test_every_accepted_content_type_is_parsed_under_its_stored_type(media):
    fmt = format_of(media)
    assert format_of(STORED_CONTENT_TYPES[fmt]) in (fmt, "json")
    doc_types = [d for d, formats in FORMATS_BY_DOC_TYPE.items() if fmt in formats]
    assert doc_types and negotiate(doc_types[0], f"{media.upper()}; charset=utf-8") == fmt


def test_x12_under_an_alias_is_stored_under_a_type_the_worker_parses():
    body = _interchange(["0001"]).encode()
    fmt, _batch, [raw] = _stored("purchase_order", "application/edi", body)
    [parsed] = parse("purchase_order", STORED_CONTENT_TYPES[fmt], raw)
    assert parsed.document.number == "PO-0001"


# -- a BOM is tolerated the same way by every format ----------------------------------------

_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<cXML payloadID="1@x" timestamp="2025-03-01T10:00:00+00:00"><Header/>'
    "<Request><OrderRequest/></Request></cXML>"
)


@pytest.mark.parametrize(
    "doc_type,content_type,body",
    [
        ("purchase_order", "application/json", _po("PO-1").encode()),
        ("purchase_order", "application/json", f"[{_po('PO-1')},{_po('PO-2')}]".encode()),
        ("purchase_order", "application/x-ndjson", f"{_po('PO-1')}\n{_po('PO-2')}".encode()),
        ("purchase_order", "application/edi-x12", _interchange(["0001", "0002"]).encode()),
        ("vendor", "text/csv", b"Name,GLN\r\nAcme,0614141000036\r\nBeta,0614141000029\r\n"),
        ("purchase_order", "application/xml", _XML.encode()),
    ],
)
def test_a_utf8_bom_is_tolerated_by_every_format(doc_type, content_type, body):
    plain = split_request(doc_type, content_type, body, 100)
    with_bom = split_request(doc_type, content_type, BOM + body, 100)
    assert with_bom[:2] == plain[:2]
    assert len(with_bom[2]) == len(plain[2])
    if content_type == "application/xml":
        return  # one document, stored as received; its reader is tested with samples
    for (raw_bom, _e1), (raw, _e2) in zip(with_bom[2], plain[2], strict=True):
        parsed_bom = parse(doc_type, content_type, raw_bom)
        assert [p.document for p in parsed_bom] == [
            p.document for p in parse(doc_type, content_type, raw)
        ]
    assert [p.document for p in parse(doc_type, content_type, BOM + body)] == [
        p.document for p in parse(doc_type, content_type, body)
    ]


# -- refusals keep their codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body,status,code",
    [
        (b"{not json", 400, "malformed_json"),
        (b"\xff\xfe", 400, "invalid_encoding"),
        (b'{"name": "\xed\xa0\x80"}', 400, "invalid_encoding"),
        (b'{"name": "\\ud800", "identifiers": []}', 400, "invalid_encoding"),
        (b'[{"name": "x"}, {"name": "\\udc00"}]', 400, "invalid_encoding"),
        (b'{"name": "a\\u0000b"}', 400, "invalid_character"),
        (b'{"name": "x", "v": NaN}', 400, "malformed_json"),
        (b'{"name": "x", "v": 1e999}', 400, "malformed_json"),
        (b'{"name": "x", "name": "y"}', 400, "malformed_json"),
        (b'{"name": "x", "v": ' + b"9" * 5000 + b"}", 400, "malformed_json"),
        (b'[{"name": "x"}, 3]', 400, "malformed_json"),
        (b"[" * 200_000, 400, "too_deep"),
        (b"[]", 400, "empty_batch"),
        (b"", 400, "empty_body"),
        (json.dumps([{"name": "x"}] * 4).encode(), 413, "too_many_documents"),
    ],
)
def test_refusals_keep_the_api_codes(body, status, code):
    with pytest.raises(IntakeError) as info:
        split_request("vendor", "application/json", body, 3)
    assert (info.value.status, info.value.code) == (status, code)


def test_escaped_backslash_before_u0000_is_text_not_nul():
    body = b'{"name": "C:\\\\u0000 folder", "identifiers": [{"scheme": "GLN", "value": "0614141000036"}]}'
    _fmt, _batch, [raw] = _stored("vendor", "application/json", body)
    assert raw == body
    assert parse("vendor", "application/json", raw)[0].document.name == "C:\\u0000 folder"


def test_invalid_document_is_a_per_document_422_not_a_refusal():
    body = f'[{_po("PO-1")}, {{"number": "PO-2"}}]'.encode()
    _fmt, batch, items = split_request("purchase_order", "application/json", body, 10)
    assert batch and not items[0][1] and items[1][1]
    assert items[1][0] == b'{"number": "PO-2"}'


def test_split_of_the_registry_is_what_intake_stores():
    body = f"[{_po('PO-1', LONG)}, {_po('PO-2')}]".encode()
    assert (
        split("purchase_order", "application/json", body)
        == _stored("purchase_order", "application/json", body)[2]
    )
