"""Unit-of-measure mapping and conversion (normalize.uom)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..normalize.uom import CATEGORY_MASS
from ..normalize.uom import CATEGORY_PACK
from ..normalize.uom import CATEGORY_UNIT
from ..normalize.uom import UomConversionError
from ..normalize.uom import build_pack_factors
from ..normalize.uom import canonical_uom
from ..normalize.uom import convert
from ..normalize.uom import is_convertible
from ..normalize.uom import normalize_uom
from ..normalize.uom import uom_category

ITEM_X = {"CS": 100, "BX": 10}  # 1 CS = 10 BX = 100 EA


@pytest.mark.parametrize("code", ["EA", "ea", "C62", "H87", "PCE", " each "])
def test_each_aliases(code):
    info = normalize_uom(code)
    assert info.known and info.code == "EA" and info.category == CATEGORY_UNIT


@pytest.mark.parametrize(
    ("code", "canonical", "category"),
    [("BX", "BX", CATEGORY_PACK), ("CA", "CS", CATEGORY_PACK), ("DZ", "DZN", CATEGORY_UNIT),
     ("KG", "KGM", CATEGORY_MASS), ("G", "GRM", CATEGORY_MASS), ("L", "LTR", "volume"),
     ("ML", "MLT", "volume"), ("DAY", "DAY", "time"), ("KGM", "KGM", CATEGORY_MASS),
     ("YD", "YRD", "length"), ("YRD", "YRD", "length"), ("INC", "INH", "length")],
)  # fmt: skip
def test_mapping_table(code, canonical, category):
    assert canonical_uom(code) == canonical
    assert uom_category(code) == category


def test_yard_converts_to_feet():
    assert convert(2, "YD", "FT") == Decimal(6)


def test_unknown_code_does_not_raise():
    info = normalize_uom("ZZQ")
    assert not info.known and info.code == "ZZQ" and info.category is None
    assert canonical_uom("ZZQ") is None


def test_pack_conversion_example_from_brief():
    assert convert(1, "CS", "BX", ITEM_X) == 10
    assert convert(1, "CS", "EA", ITEM_X) == 100
    assert convert(250, "C62", "CS", ITEM_X) == Decimal("2.5")
    assert convert(3, "BX", "H87", ITEM_X) == 30


def test_nested_pack_factors():
    nested = {"CS": (10, "BX"), "BX": (10, "EA")}
    assert convert(2, "CS", "EA", nested) == 200
    assert build_pack_factors(nested) == {"CS": (Decimal(100), "EA"), "BX": (Decimal(10), "EA")}


def test_fixed_ratio_conversions_are_exact_decimals():
    assert convert("1.5", "KG", "G") == Decimal("1500.0")
    assert convert(250, "ML", "L") == Decimal("0.25")
    assert convert(2, "DZ", "EA") == 24
    assert convert(0.1, "KGM", "GRM") == Decimal("100.0")  # float via repr, not binary


def test_incompatible_units_raise_clear_error():
    with pytest.raises(UomConversionError) as exc:
        convert(1, "KG", "EA")
    assert exc.value.code == "uom_incompatible"
    assert "mass" in str(exc.value) and "unit" in str(exc.value)


def test_pack_without_factor():
    with pytest.raises(UomConversionError) as exc:
        convert(1, "BX", "EA")
    assert exc.value.code == "uom_missing_pack_factor"
    assert not is_convertible("BX", "EA")
    assert is_convertible("BX", "EA", ITEM_X)


def test_unknown_unit_and_bad_quantity():
    with pytest.raises(UomConversionError) as exc:
        convert(1, "FOO", "EA")
    assert exc.value.code == "uom_unknown"
    with pytest.raises(UomConversionError) as exc:
        convert("abc", "EA", "EA")
    assert exc.value.code == "uom_invalid_quantity"
    with pytest.raises(UomConversionError):
        convert(1, "CS", "EA", {"CS": 0})


def test_pack_of_weight_item():
    # A case of 12 bags of 2.5 kg: item packs may be based on a mass unit.
    factors = {"CS": (12, "BG"), "BG": ("2.5", "KGM")}
    assert convert(2, "CS", "KG", factors) == Decimal("60.0")
    with pytest.raises(UomConversionError):
        convert(1, "CS", "EA", factors)


def test_item_factor_overrides_fixed_ratio():
    assert convert(1, "DZ", "EA", {"DZN": 10}) == 10


def test_pack_factor_loop_is_detected():
    with pytest.raises(UomConversionError):
        convert(1, "CS", "EA", {"CS": (2, "BX"), "BX": (2, "CS")})


units = st.sampled_from(["EA", "BX", "CS", "PK", "DZN"])
quantities = st.decimals(
    min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False
)


@given(quantities, units, units)
def test_property_round_trip(qty, a, b):
    factors = {"CS": 144, "BX": 12, "PK": 6}
    back = convert(convert(qty, a, b, factors), b, a, factors)
    assert abs(back - qty) <= Decimal("1e-20") * max(Decimal(1), qty)


@given(quantities, units, units, units)
def test_property_transitive(qty, a, b, c):
    factors = {"CS": 100, "BX": 10, "PK": 5}
    direct = convert(qty, a, c, factors)
    via = convert(convert(qty, a, b, factors), b, c, factors)
    assert abs(direct - via) <= Decimal("1e-20") * max(Decimal(1), direct)
