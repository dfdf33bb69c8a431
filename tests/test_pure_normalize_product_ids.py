"""HIBC and NDC spellings fold to one key (normalize.product_ids)."""

import pytest

from ..normalize.product_ids import normalize_hibc
from ..normalize.product_ids import normalize_ndc


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+A123PROD1", "A123PROD1"),
        ("*+A123PROD1*", "A123PROD1"),
        (" a123 prod1 ", "A123PROD1"),
        ("A123PROD1", "A123PROD1"),
        ("", None),
        (None, None),
        ("+", None),
    ],
)
def test_hibc_spellings(raw, expected):
    assert normalize_hibc(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0002-1433-80", "00002143380"),  # 4-4-2
        ("50090-347-01", "50090034701"),  # 5-3-2
        ("12345-6789-1", "12345678901"),  # 5-4-1
        ("00002-1433-80", "00002143380"),  # already 5-4-2
        ("00002143380", "00002143380"),  # X12 N4: 11 digits
        ("0002143380", "0002143380"),  # 10 digits without hyphens: not placeable
        ("", None),
        (None, None),
        ("N/A", None),
    ],
)
def test_ndc_spellings(raw, expected):
    assert normalize_ndc(raw) == expected


def test_different_ndcs_stay_different():
    # the same digits hyphenated differently are different products
    assert normalize_ndc("1234-5678-90") != normalize_ndc("12345-678-90")
