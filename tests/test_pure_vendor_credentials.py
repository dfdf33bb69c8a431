"""A vendor master document carries the vendor's credentials (issue 18, item 5 over the API)."""

from datetime import date

import pytest

from ..canonical import CREDENTIAL_TYPES
from ..canonical import CanonicalValidationError
from ..canonical import from_dict
from ..canonical import json_schema

GLN = "0860999000013"


def _vendor(**extra):
    return {"identifiers": [{"scheme": "GLN", "value": GLN}], "name": "Acme Medical", **extra}


def test_credentials_read_with_their_dates():
    vendor = from_dict(
        "vendor",
        _vendor(
            credentials=[
                {
                    "credential_type": "licence",
                    "number": "DL-1",
                    "issuer": "State Board of Pharmacy",
                    "valid_from": "2025-01-01",
                    "valid_to": "2026-06-30",
                },
                {"credential_type": "tax_form", "number": "W9-2025"},
            ]
        ),
    )
    licence, w9 = vendor.credentials
    assert (licence.credential_type, licence.number, licence.issuer) == (
        "licence",
        "DL-1",
        "State Board of Pharmacy",
    )
    assert (licence.valid_from, licence.valid_to) == (date(2025, 1, 1), date(2026, 6, 30))
    assert w9.valid_to is None
    assert vendor.to_dict()["credentials"][0]["valid_to"] == "2026-06-30"
    # a vendor without credentials is what it was
    assert from_dict("vendor", _vendor()).credentials == []


def test_bad_credentials_are_refused_with_their_path():
    with pytest.raises(CanonicalValidationError) as info:
        from_dict(
            "vendor",
            _vendor(
                credentials=[
                    {"credential_type": "diploma", "number": "X"},
                    {"credential_type": "insurance"},
                    {
                        "credential_type": "licence",
                        "number": "L",
                        "valid_from": "2026-02-01",
                        "valid_to": "2026-01-01",
                    },
                ]
            ),
        )
    found = {(e["path"], e["code"]) for e in info.value.errors}
    assert found == {
        ("credentials[0].credential_type", "enum"),
        ("credentials[1].number", "required"),
        ("credentials[2].valid_to", "range"),
    }
    # one credential is one type and number
    twice = {"credential_type": "quality", "number": "ISO-13485"}
    with pytest.raises(CanonicalValidationError) as info:
        from_dict("vendor", _vendor(credentials=[twice, dict(twice)]))
    assert [(e["path"], e["code"]) for e in info.value.errors] == [("credentials[1]", "format")]


def test_schema_states_the_credentials():
    schema = json_schema("vendor")
    assert schema["properties"]["credentials"]["items"] == {"$ref": "#/$defs/VendorCredential"}
    item = schema["$defs"]["VendorCredential"]
    assert item["properties"]["credential_type"]["enum"] == list(CREDENTIAL_TYPES)
    assert set(item["required"]) == {"credential_type", "number"}
