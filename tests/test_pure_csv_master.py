"""Vendor / item master CSV batches (no Odoo)."""

from decimal import Decimal

import pytest

from ..formats.csv_master import iter_csv
from ..formats.csv_master import parse_csv
from ..formats.csv_master import split_csv
from ..formats.errors import ParseError
from ..formats.registry import parse
from ..formats.registry import split

VENDORS = (
    "Name,GLN,DUNS,Source ID,City,Country Code,IBAN,Active,Extra Column\r\n"
    "Acme Medical,0614141000036,123456789,V-1,Springfield,US,,yes,x\r\n"
    "\r\n"
    '"Beta Surgical, Inc.",0614141000037,,V-2,Boston,US,DE89370400440532013000,no,\r\n'
)

ITEMS = (
    "gtin;vendor_part_number;description;uom;pack_factor;base_uom;critical;lot_tracked;vendor_gln\n"
    "00614141000029;GL-100;Nitrile gloves M;BX;100;EA;0;1;0614141000036\n"
    '00614141000028;SY-3;"Syringe; 3ml";cs;10;EA;yes;no;\n'
)


def test_vendor_master_rows():
    results = parse_csv(VENDORS.encode(), "vendor")
    assert len(results) == 2  # blank row skipped
    (acme, acme_issues), (beta, beta_issues) = results
    assert acme.name == "Acme Medical"
    assert acme.natural_key() == "vendor:gln=0614141000036"
    assert [(i.scheme, i.value) for i in acme.identifiers] == [
        ("SOURCE", "V-1"),
        ("GLN", "0614141000036"),
        ("DUNS", "123456789"),
    ]
    assert acme.address.city == "Springfield" and acme.active is True
    assert [i.code for i in acme_issues] == ["csv_unknown_column"]
    assert beta.name == "Beta Surgical, Inc." and beta.active is False
    assert beta.bank_accounts[0].iban == "DE89370400440532013000"
    assert sorted(i.code for i in beta_issues) == ["csv_unknown_column", "gln_check_digit"]
    assert beta_issues[-1].path == "row 4"


def test_item_master_semicolon_and_quality():
    (gloves, g_issues), (syringe, s_issues) = parse_csv(ITEMS.encode(), "item")
    assert gloves.pack_factor == Decimal(100) and gloves.uom == "BX"
    assert gloves.lot_tracked is True and gloves.critical is False
    assert gloves.vendor.identifier("GLN") == "0614141000036"
    assert gloves.natural_key() == "item:gtin=00614141000029"
    assert g_issues == []
    assert syringe.description == "Syringe; 3ml" and syringe.uom == "CS"
    assert syringe.critical is True
    assert [i.code for i in s_issues] == ["gtin_check_digit"]


def test_row_errors_carry_row_numbers_and_all_problems():
    payload = (
        b"name,gln,currency,active\nGood,0614141000036,USD,1\n,0614141000036,usd,maybe\nShort row\n"
    )
    rows = list(iter_csv(payload, "vendor"))
    assert [r.row_number for r in rows] == [2, 3, 4]
    assert rows[0].document is not None and rows[0].errors == []
    assert {(e["path"], e["code"]) for e in rows[1].errors} == {
        ("active", "type"),
        ("name", "required"),
        ("currency", "format"),
    }
    assert rows[2].errors[0]["message"] == "1 cells, the header has 4"
    with pytest.raises(ParseError) as info:
        parse_csv(payload, "vendor")
    assert info.value.code == "csv_rows"
    assert sorted({d["row"] for d in info.value.details}) == [3, 4]


@pytest.mark.parametrize(
    "payload,code",
    [
        (b"", "csv_header"),
        (b"gln,city\n0614141000036,Boston\n", "csv_header"),  # no name
        (b"name,city\nAcme,Boston\n", "csv_header"),  # no key column
        (b"name,gln,GLN\nA,1,2\n", "csv_header"),  # duplicate column
        (b"name,gln\n", "csv_empty"),
        (b"name,gln\n\xff\xfe,1\n", "csv_encoding"),
        (b'name,gln\n"Acme,1\n', "csv_syntax"),
    ],
)
def test_bad_vendor_files(payload, code):
    with pytest.raises(ParseError) as info:
        parse_csv(payload, "vendor")
    assert info.value.code == code


def test_item_missing_required_columns_and_limits():
    with pytest.raises(ParseError) as info:
        parse_csv(b"gtin,description\n00614141000029,x\n", "item")
    assert info.value.code == "csv_header" and "uom" in info.value.message
    many = ("name,gln\n" + "A,0614141000036\n" * 5).encode()
    with pytest.raises(ParseError) as info:
        parse_csv(many, "vendor", max_rows=3)
    assert info.value.code == "csv_too_many_rows"
    with pytest.raises(ParseError) as info:
        parse_csv(many, "vendor", max_bytes=10)
    assert info.value.code == "csv_too_large"
    with pytest.raises(ParseError) as info:
        parse_csv(many, "invoice")
    assert info.value.code == "csv_doc_type"


def test_split_one_csv_per_row_with_header():
    parts = split_csv(VENDORS.encode(), "vendor")
    assert len(parts) == 2
    assert all(p.startswith(b"Name,GLN,DUNS,Source ID") for p in parts)
    [(beta, _)] = parse_csv(parts[1], "vendor")
    assert beta.name == "Beta Surgical, Inc."
    assert split("vendor", "text/csv", VENDORS.encode()) == parts
    [parsed] = parse("item", "text/csv", split_csv(ITEMS.encode())[0])
    assert parsed.source_format == "csv" and parsed.document.vendor_part_number == "GL-100"


def test_vendor_master_bank_columns():
    csv = (
        "Name,GLN,Account Number,Routing Number,BIC,Holder Name\r\n"
        "Gamma Supply,0614141000036,4099887766,021000021,CHASUS33,Gamma Supply LLC\r\n"
    )
    [(gamma, _issues)] = parse_csv(csv.encode(), "vendor")
    [bank] = gamma.bank_accounts
    assert (bank.account_number, bank.routing_number, bank.bic, bank.holder_name) == (
        "4099887766",
        "021000021",
        "CHASUS33",
        "Gamma Supply LLC",
    )
