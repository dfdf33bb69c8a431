"""The canonical consumption document (point-of-use usage, patient-free)."""

import datetime as dt
from decimal import Decimal

import pytest

from ..api_contract.intake import split_request
from ..canonical import CanonicalValidationError
from ..canonical import from_dict
from ..canonical import json_schema


def _consumption(**overrides):
    data = {
        "consumption_id": "CAB7-000123",
        "source_system": "cabinet",
        "source_name": "Pyxis 4 West",
        "location": "WH/Stock/OR-3",
        "item": {"gtin": "09506000134352"},
        "lot": "L-42",
        "quantity": "2",
        "uom": "EA",
        "case_reference": "CASE-2026-0042",
        "consumed_at": "2026-12-06T03:15:00+01:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _errors(data):
    with pytest.raises(CanonicalValidationError) as exc:
        from_dict("consumption", data)
    return {(e["path"], e["code"]) for e in exc.value.errors}


def test_consumption_builds_with_its_keys():
    doc = from_dict("consumption", _consumption())
    assert doc.quantity == Decimal(2)
    assert doc.natural_key() == "consumption:cabinet:CAB7-000123"
    assert doc.correlation_keys() == ["case:CASE-2026-0042", "item:gtin=09506000134352"]
    # stored as naive UTC
    assert doc.consumed_datetime() == dt.datetime(2026, 12, 6, 2, 15)
    assert not doc.is_critical
    assert from_dict("consumption", _consumption(critical=True)).is_critical


def test_consumption_refuses_patient_fields_and_names_as_case_reference():
    # unknown fields (a patient name, an MRN) are refused: nothing but the case
    # reference ever reaches the inbox
    assert ("patient_name", "format") in _errors(_consumption(patient_name="Jane Doe"))
    assert ("mrn", "format") in _errors(_consumption(mrn="123456"))
    # a case reference is an opaque token, never free text such as a name
    assert ("case_reference", "format") in _errors(_consumption(case_reference="Jane Doe"))


def test_consumption_needs_a_location_a_positive_quantity_and_a_zoned_time():
    assert ("location", "required") in _errors(_consumption(location=None))
    assert from_dict("consumption", _consumption(location=None, location_gln="0614141000012"))
    assert ("quantity", "range") in _errors(_consumption(quantity="0"))
    # no time zone: ambiguous, refused
    assert ("consumed_at", "format") in _errors(_consumption(consumed_at="2026-12-06T03:15:00"))
    assert ("consumed_at", "format") in _errors(_consumption(consumed_at="2026-13-06T03:15:00Z"))
    assert ("source_system", "enum") in _errors(_consumption(source_system="robot"))
    assert ("quantity", "format") in _errors(_consumption(serial="SN1", quantity="2"))


def test_consumption_schema_and_intake():
    schema = json_schema("consumption")
    assert schema["additionalProperties"] is False
    assert not [name for name in schema["properties"] if "patient" in name]
    body = (
        b"["
        + b",".join(
            [
                b'{"consumption_id": "1", "source_system": "or", "location": "OR-1",'
                b' "item": {"buyer_part_number": "IMP-1"}, "quantity": 1, "uom": "EA",'
                b' "consumed_at": "2026-12-06T10:00:00Z"}',
                b'{"consumption_id": "2", "source_system": "or", "location": "OR-1",'
                b' "item": {"buyer_part_number": "IMP-1"}, "quantity": 1, "uom": "EA",'
                b' "consumed_at": "2026-12-06T10:00:00Z", "patient_dob": "1970-01-01"}',
            ]
        )
        + b"]"
    )
    fmt, batch, items = split_request("consumption", "application/json", body, 100)
    assert (fmt, batch) == ("json", True)
    assert items[0][1] == []
    assert [e["path"] for e in items[1][1]] == ["patient_dob"]
