"""Duplicate vendor detection (normalize.vendor_dedup)."""

from hypothesis import given
from hypothesis import strategies as st

from ..normalize.vendor_dedup import ACTION_MERGE
from ..normalize.vendor_dedup import ACTION_NEW
from ..normalize.vendor_dedup import ACTION_REVIEW
from ..normalize.vendor_dedup import VendorRecord
from ..normalize.vendor_dedup import clean_vendor_name
from ..normalize.vendor_dedup import compare_vendors
from ..normalize.vendor_dedup import match_vendor
from ..normalize.vendor_dedup import name_similarity


def test_clean_vendor_name_removes_legal_forms_and_punctuation():
    assert clean_vendor_name("Medline Industries, Inc.") == "MEDLINE INDUSTRIES"
    assert clean_vendor_name("B. Braun Melsungen AG") == "B BRAUN MELSUNGEN"
    assert clean_vendor_name("Acme L.L.C.") == "ACME"
    assert clean_vendor_name("Société Générale S.A.") == "SOCIETE GENERALE"
    assert clean_vendor_name("Johnson & Johnson") == "JOHNSON AND JOHNSON"
    assert clean_vendor_name("Company AG") == "COMPANY AG"  # never reduced to nothing


def test_same_gln_merges_despite_different_names():
    new = VendorRecord(name="MedSupply", gln="7300010000001")
    old = VendorRecord(name="Totally different", gln="730-0010-000001", key=7)
    match = compare_vendors(new, old)
    assert match.action == ACTION_MERGE and match.matched_on == "gln" and match.candidate.key == 7


def test_same_duns_and_vat_merge():
    assert (
        compare_vendors(
            VendorRecord(name="a", duns="15-048-3782"), VendorRecord(name="b", duns="150483782")
        ).matched_on
        == "duns"
    )
    vat = compare_vendors(
        VendorRecord(name="a", tax_id="dk 12345674"), VendorRecord(name="b", tax_id="DK12345674")
    )
    assert vat.action == ACTION_MERGE and vat.matched_on == "tax_id"


def test_similar_name_same_city_is_review_with_score():
    new = VendorRecord(name="Medline Industries, Inc.", city="Northfield")
    old = VendorRecord(name="MEDLINE INDUSTRIES LLC", city="northfield ")
    match = compare_vendors(new, old)
    assert match.action == ACTION_REVIEW and match.score == 100.0


def test_similar_name_same_postcode_word_order():
    new = VendorRecord(name="Industries Medline", postcode="60093")
    old = VendorRecord(name="Medline Industries Inc", postcode="60 093")
    assert compare_vendors(new, old).action == ACTION_REVIEW


def test_similar_name_elsewhere_is_new():
    new = VendorRecord(name="Medline Industries", city="Northfield")
    old = VendorRecord(name="Medline Industries", city="Dallas")
    assert compare_vendors(new, old).action == ACTION_NEW


def test_conflicting_identifier_is_shown_in_review():
    new = VendorRecord(name="Owens & Minor", city="Mechanicsville", duns="111111111")
    old = VendorRecord(name="Owens and Minor Inc", city="Mechanicsville", duns="222222222")
    match = compare_vendors(new, old)
    assert match.action == ACTION_REVIEW and "different duns" in match.reason


def test_match_vendor_prefers_merge_then_best_review():
    new = VendorRecord(name="Cardinal Health", city="Dublin", gln="7300010000001")
    existing = [
        VendorRecord(name="Cardinal Health Inc", city="Dublin", key=1),
        VendorRecord(name="CH", gln="7300010000001", key=2),
    ]
    assert match_vendor(new, existing).candidate.key == 2
    no_id = VendorRecord(name="Cardinal Health 414", city="Dublin")
    reviews = [VendorRecord(name="Cardinal Health", city="Dublin", key=3),
               VendorRecord(name="Cardinal Health 414 LLC", city="Dublin", key=4)]  # fmt: skip
    assert match_vendor(no_id, reviews).candidate.key == 4
    assert match_vendor(VendorRecord(name="Zimmer Biomet"), reviews).action == ACTION_NEW


@given(st.text(max_size=40))
def test_property_similarity_bounds_and_reflexive(name):
    score = name_similarity(name, name)
    assert 0 <= score <= 100
    if clean_vendor_name(name):
        assert score == 100
