"""GTIN / GLN / DUNS / tax id normalisation (normalize.identifiers)."""

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..normalize.identifiers import SCHEME_DUNS
from ..normalize.identifiers import SCHEME_GLN
from ..normalize.identifiers import SCHEME_GTIN
from ..normalize.identifiers import SCHEME_VAT
from ..normalize.identifiers import gs1_check_digit
from ..normalize.identifiers import normalize_duns
from ..normalize.identifiers import normalize_gln
from ..normalize.identifiers import normalize_gtin
from ..normalize.identifiers import normalize_identifier
from ..normalize.identifiers import normalize_tax_id
from ..normalize.identifiers import scheme_for
from .samples import sample_path


def test_gtin_13_valid_normalised_to_14_digits():
    result = normalize_gtin("4006381333931")
    assert result.valid and result.scheme == SCHEME_GTIN
    assert result.value == "04006381333931"
    assert result.message == ""


def test_upc_and_ean_of_same_product_compare_equal():
    assert normalize_gtin("036000291452").value == normalize_gtin("0036000291452").value


def test_gtin_8_and_separators():
    assert normalize_gtin("9638-5074").valid
    assert normalize_gtin(" 96385074 ").value == "00000096385074"


def test_wrong_check_digit_is_reported_not_raised():
    result = normalize_gtin("7560000012345")  # PEPPOL Order example: BAD
    assert not result.valid
    assert result.expected_check_digit == "0"
    assert "expected 0, got 5" in result.message
    assert result.value == "07560000012345"  # still usable for lookup


@pytest.mark.parametrize("value", ["", None, "12345", "ABCDEFGHIJKLM", "123456789012345"])
def test_malformed_gtin_never_raises(value):
    result = normalize_gtin(value)
    assert not result.valid
    assert result.message


def test_upc_with_wrong_check_digit_from_x12_856_sample():
    # MANIFEST: 999999310145 -> expected 9, 999999311746 -> expected 0
    assert normalize_gtin("999999310145").expected_check_digit == "9"
    assert normalize_gtin("999999311746").expected_check_digit == "0"


def test_gln():
    assert normalize_gln("7300010000001").valid
    bad = normalize_gln("7302347231111")
    assert not bad.valid and bad.scheme == SCHEME_GLN and bad.expected_check_digit == "0"
    assert not normalize_gln("9482348239847239874").valid  # 19 digits tagged 0088 in PEPPOL
    assert "19 digits" in normalize_gln("9482348239847239874").message


def test_gs1_check_digit_vectors_from_gs1_syntax_engine():
    path = sample_path("gs1_hibc_test_vectors.tsv")
    rows = [
        row
        for row in csv.reader(path.open(encoding="utf-8"), delimiter="\t")
        if row and row[0] == "gs1_check_digit"
    ]
    assert len(rows) == 14
    for _kind, value, expected, *_rest in rows:
        payload_ok = value.isdigit() and len(value) >= 2
        if expected == "valid":
            assert gs1_check_digit(value[:-1]) == value[-1], value
        elif payload_ok:
            assert gs1_check_digit(value[:-1]) != value[-1], value
        else:
            # Too short or non-digits: our GTIN reader refuses them too.
            assert not normalize_gtin(value).valid


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_property_computed_check_digit_always_validates(payload):
    gtin = payload + gs1_check_digit(payload)
    assert normalize_gtin(gtin).valid
    # any other final digit is wrong
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    assert not normalize_gtin(wrong).valid


@given(st.text(min_size=0, max_size=30))
def test_property_never_raises_on_any_text(text):
    for func in (normalize_gtin, normalize_gln, normalize_duns, normalize_tax_id):
        result = func(text)
        assert isinstance(result.valid, bool)


def test_duns():
    assert normalize_duns("15-048-3782").value == "150483782"
    plus4 = normalize_duns("1504837820001")
    assert plus4.valid and plus4.value == "150483782" and "DUNS+4" in plus4.message
    assert not normalize_duns("12345").valid


def test_eu_vat_checked_with_stdnum():
    ok = normalize_tax_id("DK 1234 5674")
    assert ok.valid and ok.scheme == SCHEME_VAT and ok.value == "DK12345674"
    bad = normalize_tax_id("DK12345678")
    assert not bad.valid and "invalid" in bad.message


def test_non_eu_country_module_and_unknown():
    assert normalize_tax_id("NO 974 760 673 MVA").valid
    unknown = normalize_tax_id("X-998877")
    assert unknown.valid and not unknown.checked and "not verified" in unknown.message


def test_us_ein_with_country_argument():
    result = normalize_tax_id("04-2103594", country="US")
    assert result.valid and result.value.startswith("US")


def test_scheme_aliases_and_dispatch():
    assert scheme_for("0088") == SCHEME_GLN
    assert scheme_for("0160") == SCHEME_GTIN
    assert scheme_for("duns") == SCHEME_DUNS
    assert normalize_identifier("7300010000001", "0088").valid
    other = normalize_identifier(" SUP-1 ", "ZZZ")
    assert other.value == "SUP-1" and not other.checked
