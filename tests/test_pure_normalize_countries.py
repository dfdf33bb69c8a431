"""ISO 3166-1 country codes: alpha-3 -> alpha-2 (normalize.countries)."""

import pytest

from ..normalize.countries import ALPHA2_CODES
from ..normalize.countries import ALPHA3_TO_ALPHA2
from ..normalize.countries import normalize_country


def test_table_is_complete_and_one_to_one():
    # 249 officially assigned ISO 3166-1 codes, plus XKX (Kosovo, user-assigned).
    assert len(ALPHA3_TO_ALPHA2) == 250
    assert len(ALPHA2_CODES) == 250  # no two alpha-3 codes share an alpha-2 code


@pytest.mark.parametrize(
    ("raw", "code", "noted"),
    [
        ("MYS", "MY", True),  # Malaysian MyInvois
        ("mys", "MY", True),
        ("DEU", "DE", True),
        ("GBR", "GB", True),
        ("USA", "US", True),
        ("COD", "CD", True),
        ("MY", "MY", False),
        (" de ", "DE", False),
        ("", None, False),
        (None, None, False),
        ("XYZ", None, True),  # not a code: dropped, with a message
        ("Malaysia", None, True),
        ("ZZ", "ZZ", True),  # alpha-2 shaped but unassigned: kept, flagged
    ],
)
def test_normalize_country(raw, code, noted):
    result = normalize_country(raw)
    assert result.code == code
    assert bool(result.message) is noted
