"""Tolerance limits, validation and resolution by scope (matching.tolerance)."""

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..matching.tolerance import COMBINE_BOTH
from ..matching.tolerance import COMBINE_EITHER
from ..matching.tolerance import FIELDS
from ..matching.tolerance import SCOPE_CATEGORY
from ..matching.tolerance import SCOPE_COMPANY
from ..matching.tolerance import SCOPE_VENDOR
from ..matching.tolerance import SCOPE_VENDOR_CATEGORY
from ..matching.tolerance import Tolerance
from ..matching.tolerance import ToleranceConfigError
from ..matching.tolerance import ToleranceRule
from ..matching.tolerance import allowed_variance
from ..matching.tolerance import exact_tolerance
from ..matching.tolerance import make_resolver
from ..matching.tolerance import resolve_tolerance

COMPANY = 1
VENDOR = 70
LEAF, MID, ROOT = 300, 200, 100
PATH = (LEAF, MID, ROOT)


def rule(rule_id, vendor=None, category=None, company=COMPANY, **limits):
    return ToleranceRule(
        rule_id,
        company,
        Tolerance(**limits),
        vendor_id=vendor,
        category_id=category,
        name=f"r{rule_id}",
    )


# ---------------------------------------------------------------- validation


def test_values_are_coerced_to_decimal():
    tol = Tolerance(qty_pct=5, price_pct="2.5", price_abs=0.1)
    assert tol.qty_pct == D("5")
    assert tol.price_pct == D("2.5")
    # Floats go through repr: 0.1 stays 0.1, not 0.1000000000000000055...
    assert tol.price_abs == D("0.1")


@pytest.mark.parametrize(
    "name", ["qty_pct", "qty_abs", "price_pct", "price_abs", "total_pct", "total_abs"]
)
def test_negative_limit_refused(name):
    with pytest.raises(ToleranceConfigError, match=name):
        Tolerance(**{name: "-0.01"})


@pytest.mark.parametrize(
    "values",
    [{"combine": "any"}, {"allow_over_receipt": "yes"}, {"price_pct": "abc"}, {"qty_abs": True}],
)
def test_invalid_values_refused(values):
    with pytest.raises(ValueError):
        Tolerance(**values)


def test_rule_with_every_limit_empty_refused():
    with pytest.raises(ToleranceConfigError, match="sets no limit"):
        ToleranceRule(1, COMPANY, Tolerance())
    # combine only qualifies limits; alone it limits nothing.
    with pytest.raises(ToleranceConfigError, match="sets no limit"):
        ToleranceRule(2, COMPANY, Tolerance(combine=COMBINE_BOTH))


def test_rule_with_only_over_receipt_flag_is_a_limit():
    assert ToleranceRule(1, COMPANY, Tolerance(allow_over_receipt=False)).scope == SCOPE_COMPANY


def test_zero_is_a_limit_not_an_empty_value():
    # "0%" means "exact", which is a real setting that must shadow the company default.
    resolved = resolve_tolerance(
        [rule(1, price_pct=5), rule(2, vendor=VENDOR, price_pct=0)], COMPANY, VENDOR
    )
    assert resolved.tolerance.price_pct == D(0)
    assert resolved.source("price_pct").rule_id == 2


def test_rule_scope_from_its_keys():
    assert rule(1, qty_pct=1).scope == SCOPE_COMPANY
    assert rule(2, vendor=VENDOR, qty_pct=1).scope == SCOPE_VENDOR
    assert rule(3, category=LEAF, qty_pct=1).scope == SCOPE_CATEGORY
    assert rule(4, vendor=VENDOR, category=LEAF, qty_pct=1).scope == SCOPE_VENDOR_CATEGORY


def test_to_dict_round_trip_and_unknown_key_refused():
    tol = Tolerance(qty_pct="5", price_abs="0.05", allow_over_receipt=True, combine=COMBINE_BOTH)
    data = tol.to_dict()
    assert data["qty_pct"] == "5" and data["price_pct"] is None
    assert Tolerance.from_dict(data) == tol
    with pytest.raises(ToleranceConfigError, match="price_percent"):
        Tolerance.from_dict({"price_percent": 2})


# ---------------------------------------------------------------- resolution


def test_no_rule_means_exact_matching():
    resolved = resolve_tolerance([], COMPANY, VENDOR, PATH)
    assert all(getattr(resolved.tolerance, name) is None for name in FIELDS)
    assert resolved.combine == COMBINE_EITHER
    assert not resolved.allow_over_receipt
    assert resolved.allowed("price", Fraction(100)) == 0
    assert "exactly" in resolved.describe("price")


def test_company_default_applies_to_everything():
    resolved = resolve_tolerance([rule(1, qty_pct=5, price_pct=2)], COMPANY, VENDOR, PATH)
    assert resolved.tolerance.qty_pct == 5
    assert resolved.source("qty_pct").scope == SCOPE_COMPANY


def test_category_beats_company_default_and_nearest_category_wins():
    rules = [
        rule(1, price_pct=5),
        rule(2, category=ROOT, price_pct=3),
        rule(3, category=MID, price_pct=1),
    ]
    assert resolve_tolerance(rules, COMPANY, VENDOR, PATH).source("price_pct").rule_id == 3
    # A product filed directly under the root only sees the root rule.
    assert resolve_tolerance(rules, COMPANY, VENDOR, (ROOT,)).source("price_pct").rule_id == 2
    # A category outside the path does not apply.
    assert resolve_tolerance(rules, COMPANY, VENDOR, (999,)).source("price_pct").rule_id == 1


def test_vendor_beats_category():
    rules = [
        rule(1, price_pct=5),
        rule(2, category=LEAF, price_pct=3),
        rule(3, vendor=VENDOR, price_pct=1),
    ]
    assert resolve_tolerance(rules, COMPANY, VENDOR, PATH).tolerance.price_pct == 1


def test_vendor_and_category_beats_vendor_and_nearest_category_wins_there_too():
    rules = [
        rule(1, vendor=VENDOR, price_pct=4),
        rule(2, vendor=VENDOR, category=ROOT, price_pct=3),
        rule(3, vendor=VENDOR, category=MID, price_pct=2),
        rule(4, category=LEAF, price_pct=1),
    ]
    resolved = resolve_tolerance(rules, COMPANY, VENDOR, PATH)
    assert resolved.source("price_pct").rule_id == 3
    assert resolved.source("price_pct").scope == SCOPE_VENDOR_CATEGORY


def test_fields_fall_back_one_by_one_and_record_their_source():
    rules = [
        rule(1, qty_pct=5, price_pct=2, price_abs="0.05", total_abs=10),
        rule(2, category=LEAF, qty_abs=3),
        rule(3, vendor=VENDOR, price_pct=0, combine=COMBINE_BOTH),
    ]
    resolved = resolve_tolerance(rules, COMPANY, VENDOR, PATH)
    tol = resolved.tolerance
    assert (tol.qty_pct, tol.qty_abs, tol.price_pct, tol.price_abs, tol.total_abs) == (
        5,
        3,
        0,
        D("0.05"),
        10,
    )
    assert {name: (ref.rule_id if ref else None) for name, ref in resolved.sources.items()} == {
        "qty_pct": 1,
        "qty_abs": 2,
        "price_pct": 3,
        "price_abs": 1,
        "total_pct": None,
        "total_abs": 1,
        "charge_pct": None,
        "charge_abs": None,
        "stated_abs": None,
        "allow_over_receipt": None,
        "combine": 3,
    }
    text = resolved.describe("price", "per reference unit")
    assert "vendor rule 'r3' (#3)" in text and "company default 'r1' (#1)" in text
    assert "whichever is smaller" in text


def test_rules_of_other_companies_and_vendors_are_ignored():
    rules = [rule(1, price_pct=5), rule(2, company=2, price_pct=1), rule(3, vendor=71, price_pct=0)]
    resolved = resolve_tolerance(rules, COMPANY, VENDOR, PATH)
    assert resolved.source("price_pct").rule_id == 1
    # Unknown vendor: vendor rules cannot apply, the rest still does.
    assert resolve_tolerance(rules, COMPANY, None, PATH).source("price_pct").rule_id == 1


def test_two_rules_for_one_scope_refused():
    rules = [rule(1, vendor=VENDOR, price_pct=1), rule(2, vendor=VENDOR, qty_pct=1)]
    with pytest.raises(ToleranceConfigError, match="both define the vendor rule"):
        resolve_tolerance(rules, COMPANY, VENDOR, PATH)
    # ...but only when both apply: another vendor's bill is not affected.
    assert resolve_tolerance(rules, COMPANY, 71, PATH).tolerance.price_pct is None


def test_make_resolver_memoises_per_vendor_and_category_path():
    calls = []
    rules = [rule(1, price_pct=5)]

    class Spy(list):
        def __iter__(self):
            calls.append(1)
            return super().__iter__()

    resolver = make_resolver(Spy(rules), COMPANY)
    first = resolver(VENDOR, [LEAF, ROOT])
    assert resolver(VENDOR, (LEAF, ROOT)) is first
    assert resolver(VENDOR, (LEAF, ROOT)) == resolve_tolerance(rules, COMPANY, VENDOR, (LEAF, ROOT))
    assert len(calls) == 1  # rules copied once, not re-read per call


def test_resolved_to_dict_names_the_rules():
    data = resolve_tolerance([rule(1, qty_pct=5)], COMPANY, VENDOR, PATH).to_dict()
    assert data["values"]["qty_pct"] == "5"
    assert data["sources"]["qty_pct"]["label"] == "company default 'r1' (#1)"
    assert data["sources"]["price_pct"] is None
    assert exact_tolerance().to_dict()["effective_combine"] == COMBINE_EITHER


# ---------------------------------------------------------------- combining % and absolute


def test_either_allows_the_larger_both_the_smaller():
    # 2% of 10.00 = 0.20; absolute 0.50.
    assert allowed_variance(D(2), D("0.5"), Fraction(10), COMBINE_EITHER) == Fraction(1, 2)
    assert allowed_variance(D(2), D("0.5"), Fraction(10), COMBINE_BOTH) == Fraction(1, 5)


def test_a_single_limit_applies_alone_and_none_means_zero():
    assert allowed_variance(D(2), None, Fraction(10), COMBINE_BOTH) == Fraction(1, 5)
    assert allowed_variance(None, D("0.5"), Fraction(10), COMBINE_BOTH) == Fraction(1, 2)
    assert allowed_variance(None, None, Fraction(10)) == 0


def test_percentage_of_a_negative_base_is_positive():
    # Credit-note totals are negative; a limit is a size, never a negative allowance.
    assert allowed_variance(D(10), None, Fraction(-50)) == 5


# ---------------------------------------------------------------- properties

limits = st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2))
tolerances = st.builds(
    Tolerance,
    qty_pct=limits,
    qty_abs=limits,
    price_pct=limits,
    price_abs=limits,
    total_pct=limits,
    total_abs=limits,
    allow_over_receipt=st.one_of(st.none(), st.booleans()),
    combine=st.one_of(st.none(), st.sampled_from([COMBINE_EITHER, COMBINE_BOTH])),
).filter(lambda tol: not tol.is_empty())
scopes = st.sampled_from(
    [
        (None, None),
        (VENDOR, None),
        (None, LEAF),
        (None, ROOT),
        (VENDOR, LEAF),
        (VENDOR, ROOT),
        (71, None),
    ]
)


@st.composite
def rule_sets(draw):
    keys = draw(st.lists(scopes, unique=True, max_size=7))
    return [
        ToleranceRule(index, COMPANY, draw(tolerances), vendor_id=vendor, category_id=category)
        for index, (vendor, category) in enumerate(keys)
    ]


SPECIFICITY = [
    (VENDOR, LEAF),
    (VENDOR, ROOT),
    (VENDOR, None),
    (None, LEAF),
    (None, ROOT),
    (None, None),
]


@given(rule_sets(), st.randoms())
def test_resolution_takes_each_field_from_the_most_specific_rule_setting_it(rules, rnd):
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    resolved = resolve_tolerance(shuffled, COMPANY, VENDOR, (LEAF, ROOT))
    # Independent of the order the database returns rules in.
    assert resolved == resolve_tolerance(rules, COMPANY, VENDOR, (LEAF, ROOT))
    by_key = {(r.vendor_id, r.category_id): r for r in rules}
    for name in FIELDS:
        expected = next(
            (
                by_key[key]
                for key in SPECIFICITY
                if key in by_key and getattr(by_key[key].tolerance, name) is not None
            ),
            None,
        )
        assert getattr(resolved.tolerance, name) == (
            getattr(expected.tolerance, name) if expected else None
        )
        assert resolved.source(name) == (expected.ref() if expected else None)


@given(limits, limits, st.fractions(min_value=-1000, max_value=1000))
def test_either_is_never_stricter_than_both(pct, absolute, base):
    either = allowed_variance(pct, absolute, base, COMBINE_EITHER)
    both = allowed_variance(pct, absolute, base, COMBINE_BOTH)
    assert either >= both >= 0
