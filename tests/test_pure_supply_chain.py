"""Canonical inter-facility transfers, stock adjustments and recall notices (issue 18):
validation, keys, and GS1 / HIBC UDIs read wherever a lot is."""

import csv
import datetime as dt

import pytest

from ..canonical import CanonicalValidationError
from ..canonical import from_dict
from ..canonical import json_schema
from ..canonical import serial_in_range
from ..normalize.gs1 import hibc_check_character
from .samples import sample_path

FACILITY_A = {"identifiers": [{"scheme": "GLN", "value": "0614141000104"}], "name": "Main"}
FACILITY_B = {"identifiers": [{"scheme": "SOURCE", "value": "NORTH"}], "name": "North"}


def _transfer(event="shipped", **line):
    return {
        "transfer_id": "TR-1",
        "event": event,
        "event_date": "2026-12-01",
        "from_facility": FACILITY_A,
        "to_facility": FACILITY_B,
        "lines": [{"line_number": "1", "quantity": "4", "uom": "EA", **line}],
    }


def _errors(doc_type, data):
    with pytest.raises(CanonicalValidationError) as info:
        from_dict(doc_type, data)
    return {(e["path"], e["code"]) for e in info.value.errors}


def test_transfer_keys_and_receipt_waits_for_shipment():
    shipped = from_dict("stock_transfer", _transfer(item={"gtin": "00614141000029"}, lot="L1"))
    assert shipped.natural_key() == "stock_transfer:TR-1:shipped"
    assert shipped.correlation_keys() == ["stock_transfer:TR-1"]
    assert shipped.dependencies() == []
    received = from_dict("stock_transfer", _transfer("received", item={"gtin": "00614141000029"}))
    assert received.dependencies() == ["stock_transfer:TR-1:shipped"]
    assert _errors("stock_transfer", _transfer("lost", item={"gtin": "00614141000029"})) == {
        ("event", "enum")
    }


def test_transfer_to_itself_and_line_without_item_refused():
    data = _transfer(item={"gtin": "00614141000029"})
    data["to_facility"] = FACILITY_A
    assert _errors("stock_transfer", data) == {("to_facility", "format")}
    assert _errors("stock_transfer", _transfer()) == {("lines[0].item", "required")}


def test_gs1_udi_gives_gtin_lot_expiry_and_serial():
    line = from_dict(
        "stock_transfer", _transfer(udi="(01)09506000134352(17)281200(10)ABC123(21)SN-77")
    ).lines[0]
    trace = line.trace()
    assert (trace.gtin, trace.lot, trace.serial) == ("09506000134352", "ABC123", "SN-77")
    assert trace.expiry == dt.date(2028, 12, 31)  # day 00: last day of the month
    assert trace.issues == ()


def test_udi_contradicting_the_stated_lot_is_refused():
    data = _transfer(udi="(01)09506000134352(10)ABC123", lot="OTHER")
    assert _errors("stock_transfer", data) == {("lines[0].lot", "format")}
    # the same lot stated twice is fine (positive control)
    from_dict("stock_transfer", _transfer(udi="(01)09506000134352(10)ABC123", lot="ABC123"))
    data = _transfer(udi="(01)09506000134352(10)ABC123", item={"gtin": "00614141000029"})
    assert _errors("stock_transfer", data) == {("lines[0].item.gtin", "format")}


def test_unreadable_udi_and_udi_without_lot_refused():
    assert _errors("stock_transfer", _transfer(udi="(99)XYZ(10)")) == {("lines[0].udi", "format")}
    assert _errors("stock_transfer", _transfer(udi="(01)09506000134352")) == {
        ("lines[0].udi", "format")
    }


def test_hibc_udi_gives_lot_and_expiry():
    # primary + secondary (concatenated), with a correct mod-43 check character
    body = "+A123GLOVE1/$$3281231LOT43"  # (a space check character would be trimmed)
    udi = body + hibc_check_character(body)
    trace = (
        from_dict(
            "stock_adjustment",
            {
                "adjustment_id": "ADJ-1",
                "facility": FACILITY_A,
                "adjustment_date": "2026-12-01",
                "lines": [
                    {
                        "line_number": "1",
                        "reason": "expired",
                        "quantity": "2",
                        "uom": "EA",
                        "udi": udi,
                    }
                ],
            },
        )
        .lines[0]
        .trace()
    )
    assert trace.lot == "LOT43"
    assert trace.expiry == dt.date(2028, 12, 31)


def test_hibc_vectors_from_the_published_suite_are_read_where_a_lot_is():
    path = sample_path("gs1_hibc_test_vectors.tsv")
    with path.open(encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            if r and r[0] == "hibc_lic" and "lot=3C001" in r[3] and r[1].startswith("+Z999")
        ]
    assert rows
    for row in rows:
        recall = from_dict(
            "recall",
            {
                "recall_id": "R-H",
                "item": {"hibc": "+Z99900999302035"},
                "classification": "class_ii",
                "reason": "Sterility",
                "issued_date": "2026-12-01",
                "udis": [row[1]],
            },
        )
        assert recall.lot_names() == ["3C001"], row


def test_adjustment_reasons_and_signs():
    def adjustment(**line):
        return {
            "adjustment_id": "ADJ-7",
            "facility": FACILITY_B,
            "adjustment_date": "2026-12-01",
            "lines": [
                {"line_number": "1", "uom": "EA", "item": {"buyer_part_number": "GL-100"}, **line}
            ],
        }

    doc = from_dict("stock_adjustment", adjustment(reason="correction", quantity="-3"))
    assert doc.natural_key() == "stock_adjustment:source=NORTH:ADJ-7"
    assert _errors("stock_adjustment", adjustment(reason="count", quantity="-1")) == {
        ("lines[0].quantity", "range")
    }
    assert _errors("stock_adjustment", adjustment(reason="wastage", quantity="0")) == {
        ("lines[0].quantity", "range")
    }
    assert _errors("stock_adjustment", adjustment(reason="stolen", quantity="1")) == {
        ("lines[0].reason", "enum")
    }


def _recall(**data):
    return {
        "recall_id": "FDA-Z-0001-2027",
        "item": {"gtin": "09506000134352"},
        "classification": "class_i",
        "reason": "Seal may fail",
        "issued_date": "2026-12-01",
        **data,
    }


def test_recall_lots_from_lots_and_udis():
    recall = from_dict(
        "recall",
        _recall(
            lots=["L2", "L1"],
            udis=["(01)09506000134352(17)281200(10)L3", "(01)09506000134352(21)S9"],
        ),
    )
    assert recall.lot_names() == ["L1", "L2", "L3", "S9"]
    assert recall.natural_key() == "recall:FDA-Z-0001-2027"
    assert recall.correlation_keys() == ["item:gtin=09506000134352"]


def test_recall_needs_what_is_recalled_and_consistent_udis():
    assert _errors("recall", _recall()) == {("lots", "required")}
    assert _errors("recall", _recall(udis=["(01)00614141000029(10)L1"])) == {("udis[0]", "format")}
    assert _errors("recall", _recall(serial_first="SN-1")) == {("serial_last", "required")}
    assert _errors("recall", _recall(serial_first="SN-9", serial_last="SN-1")) == {
        ("serial_last", "range")
    }
    assert _errors("recall", _recall(lots=["L1"], classification="class_iv")) == {
        ("classification", "enum")
    }


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("SN-9", True),
        ("SN-10", True),
        ("SN-120", True),
        ("SN-121", False),
        ("SN-8", False),
        ("XX-10", False),
        ("10", False),
    ],
)
def test_serial_range_compares_numeric_tails(serial, expected):
    assert serial_in_range(serial, "SN-9", "SN-120") is expected


def test_serial_range_of_plain_text_of_one_length():
    assert serial_in_range("ABD", "ABC", "ABZ") is True
    assert serial_in_range("ABB", "ABC", "ABZ") is False


@pytest.mark.parametrize("doc_type", ["stock_transfer", "stock_adjustment", "recall"])
def test_schemas_publish_the_new_types(doc_type):
    schema = json_schema(doc_type)
    assert schema["properties"]["doc_type"] == {"const": doc_type}
