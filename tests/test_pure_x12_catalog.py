"""X12 832 price/sales catalogs and 845 price authorizations -> contract prices.

The fixtures follow the 004010 segment semantics and the healthcare usage of these sets
(GPO contract number in REF*CT / CON02, effective and expiration DTM 007/036, member
facilities as N1 loops identified by GLN (UL), HIN (21) or DEA (11), quantity breaks as
several CTP segments with their minimum quantity in CTP04).  No 832/845 is in the shared
samples: these interchanges are written here.
"""

from datetime import date
from decimal import Decimal as D

import pytest

from ..formats.errors import ParseError
from ..formats.registry import acknowledgment
from ..formats.registry import parse
from ..formats.registry import screen
from ..formats.registry import split
from ..formats.x12.catalog import split_prices
from ..formats.x12.envelope import read_interchange
from ..formats.x12.mappers import parse_x12
from ..normalize.identifiers import gs1_check_digit


def gln(base):
    """A valid GLN from 12 digits."""
    return base + gs1_check_digit(base)


VENDOR_GLN = gln("061414100003")
MERCY_GENERAL_GLN = gln("080000000001")
MERCY_WEST_GLN = gln("080000000002")
ST_MARY_GLN = gln("080000000003")
HIN_MERCY_WEST = "1A2345B00"
DEA_ST_MARY = "BS1234563"


def interchange(set_id, body, *, version="00401", gs_version="004010", gs_date="20261201"):
    """A one-set interchange (``body``: the segments between ST and SE)."""
    func = {"832": "SC", "845": "PA"}[set_id]
    isa = "*".join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            "GPOVENDOR".ljust(15),
            "ZZ",
            "MERCYHEALTH".ljust(15),
            gs_date[2:],
            "0800",
            "U" if version < "00402" else "^",
            version,
            "000000832",
            "0",
            "P",
            ">",
        ]
    )
    tx = [f"ST*{set_id}*0001", *body]
    segs = [
        isa,
        f"GS*{func}*GPOVENDOR*MERCYHEALTH*{gs_date}*0800*832*X*{gs_version}",
        *tx,
        f"SE*{len(tx) + 1}*0001",
        "GE*1*832",
        "IEA*1*000000832",
    ]
    return ("~\n".join(segs) + "~\n").encode()


CATALOG_832 = [
    "BCT*PC*MED-CAT-2026Q4*3*******00",
    "REF*CT*PP-MS-1234",
    "DTM*007*20261201",
    "DTM*036*20271130",
    "CUR*SE*USD",
    f"N1*VN*Medline Industries LP*UL*{VENDOR_GLN}",
    f"N1*BY*Mercy General Hospital*UL*{MERCY_GENERAL_GLN}",
    "N3*1 Mercy Way",
    "N4*Springfield*IL*62701*US",
    f"N1*BY*Mercy West Clinic*21*{HIN_MERCY_WEST}",
    "LIN*1*VC*MDS192074*MG*GLV-NIT-M",
    "PID*F****Nitrile exam glove, medium, 100/box",
    "CTP**CON*12.50*1*BX",
    "CTP**CON*11.75*10*BX",
    "CTP**CON*10.90*50*BX",
    "DTM*007*20270101",
    "CTP**RES*19.99*1*BX",
    "LIN*2*VC*MSC097001",
    "PID*F****Underpad 23x36, case of 150",
    "REF*CT*PP-MS-9999",
    "DTM*036*20270630",
    "CTP**CON*45.00*1*CS",
    f"N1*ST*Mercy West Clinic*UL*{MERCY_WEST_GLN}",
    "CTT*2",
]

AUTHORIZATION_845 = [
    "BPA*00*20261120**PA-2026-0042",
    "CUR*SE*USD",
    f"N1*MF*Baxter Healthcare Corp*UL*{VENDOR_GLN}",
    "CON*CT*VA-GPO-778*VA",
    "DTM*007*20270101",
    "DTM*036*20271231",
    f"N1*BY*St Mary Medical Center*UL*{ST_MARY_GLN}",
    f"N1*BY*St Mary Outpatient Pharmacy*11*{DEA_ST_MARY}",
    "PAD*1",
    "PID*F****0.9% Sodium Chloride Injection 1000 mL",
    "LIN**VC*2B1324X*MG*2B1324X",
    "CTP**CON*1.85*1*EA",
    "CTP**CON*1.62*480*EA",
    "DTM*007*20270401",
    "PAD*2",
    "PID*F****Continu-Flo solution set",
    "LIN**VC*2C8537",
    "CTP**CON*3.10*1*EA",
    f"N1*BY*St Mary Medical Center*UL*{ST_MARY_GLN}",
    "CTT*2",
]


def _prices(payload):
    return [document for document, _issues in parse_x12(payload)]


def test_832_catalog_maps_every_price_tier_with_validity_and_facilities():
    prices = _prices(interchange("832", CATALOG_832))
    assert [(p.item.vendor_part_number, p.price, p.min_quantity) for p in prices] == [
        ("MDS192074", D("12.50"), None),
        ("MDS192074", D("11.75"), D("10")),
        ("MDS192074", D("10.90"), D("50")),
        ("MSC097001", D("45.00"), None),
    ]
    glove, _tier10, tier50, underpad = prices
    assert glove.contract_reference == "PP-MS-1234"
    assert glove.vendor.identifier("GLN") == VENDOR_GLN
    assert (glove.uom, glove.currency) == ("BX", "USD")
    assert (glove.date_start, glove.date_end) == (date(2026, 12, 1), date(2027, 11, 30))
    assert glove.item.description == "Nitrile exam glove, medium, 100/box"
    assert glove.item.manufacturer_part_number == "GLV-NIT-M"
    # the heading's members, one by GLN and one by HIN
    assert [(f.name, f.key()) for f in glove.facilities] == [
        ("Mercy General Hospital", f"gln={MERCY_GENERAL_GLN}"),
        ("Mercy West Clinic", f"hin={HIN_MERCY_WEST}"),
    ]
    # a tier's own DTM wins over the heading's
    assert tier50.date_start == date(2027, 1, 1)
    assert tier50.date_end == date(2027, 11, 30)
    # the item's contract, expiry and facility win over the heading's
    assert underpad.contract_reference == "PP-MS-9999"
    assert underpad.date_end == date(2027, 6, 30)
    assert underpad.uom == "CS"
    assert [f.key() for f in underpad.facilities] == [f"gln={MERCY_WEST_GLN}"]
    # every tier is its own contract price: distinct natural keys
    assert len({p.natural_key() for p in prices}) == 4
    assert (
        prices[1].natural_key().endswith(f":min=10:at=gln={MERCY_GENERAL_GLN},hin={HIN_MERCY_WEST}")
    )


def test_832_resale_price_is_reported_not_applied():
    results = parse_x12(interchange("832", CATALOG_832))
    codes = {issue.code for _doc, issues in results for issue in issues}
    assert "x12_price_not_applied" in codes
    assert all(doc.price != D("19.99") for doc, _issues in results)


def test_845_price_authorization_maps_contract_members_and_tiers():
    prices = _prices(interchange("845", AUTHORIZATION_845))
    assert [(p.item.vendor_part_number, p.price, p.min_quantity) for p in prices] == [
        ("2B1324X", D("1.85"), None),
        ("2B1324X", D("1.62"), D("480")),
        ("2C8537", D("3.10"), None),
    ]
    saline, tier, solution_set = prices
    assert {p.contract_reference for p in prices} == {"VA-GPO-778"}
    assert saline.vendor.name == "Baxter Healthcare Corp"
    assert (saline.date_start, saline.date_end) == (date(2027, 1, 1), date(2027, 12, 31))
    assert tier.date_start == date(2027, 4, 1)
    assert [f.key() for f in saline.facilities] == [f"gln={ST_MARY_GLN}", f"dea={DEA_ST_MARY}"]
    assert saline.facilities[1].identifiers[0].scheme == "DEA"
    # the price's own N1 narrows the contract's members
    assert [f.key() for f in solution_set.facilities] == [f"gln={ST_MARY_GLN}"]
    assert saline.item.description == "0.9% Sodium Chloride Injection 1000 mL"


def test_845_in_005010_reads_the_same():
    payload = interchange("845", AUTHORIZATION_845, version="00501", gs_version="005010")
    assert len(_prices(payload)) == 3


def test_split_gives_one_self_contained_interchange_per_price():
    payload = interchange("832", CATALOG_832)
    parts = split("contract_price", "application/edi-x12", payload)
    assert len(parts) == 4
    keys = []
    for part in parts:
        interchange_ = read_interchange(part)  # strict: SE/GE/IEA counts hold
        (tx,) = interchange_.transactions
        assert tx.set_id == "832"
        assert screen("contract_price", "x12", part) == []
        (parsed,) = parse("contract_price", "application/edi-x12", part)
        keys.append(parsed.document.natural_key())
    assert keys == [doc.natural_key() for doc in _prices(payload)]
    # the split is deterministic: a resent interchange gives the same bytes (same hashes)
    assert split("contract_price", "application/edi-x12", payload) == parts
    # a part keeps the informational resale price and drops the other tiers
    first = parts[0].decode()
    assert "CTP**RES*19.99" in first and "CTP**CON*11.75" not in first


def test_845_split_one_part_per_price_each_with_its_contract_members():
    parts = split_prices(interchange("845", AUTHORIZATION_845))
    assert len(parts) == 3
    assert all(b"CON*CT*VA-GPO-778*VA" in part and b"N1*MF" in part for part in parts)
    assert all(b"CTT" not in part for part in parts)
    (parsed,) = parse("contract_price", "application/edi-x12", parts[1])
    assert parsed.document.min_quantity == D("480")


def test_one_price_interchange_is_kept_as_received():
    body = [s for s in CATALOG_832 if not s.startswith(("LIN*2", "PID*F****Under"))]
    body = [*body[: body.index("CTP**CON*11.75*10*BX")], "CTT*1"]
    payload = interchange("832", body)
    assert split("contract_price", "application/edi-x12", payload) == [payload]


def _with(body, old, new):
    assert old in body
    return [new if segment == old else segment for segment in body]


def test_price_ending_before_it_starts_is_refused():
    # the underpad's own expiry is before the heading's effective date
    body = _with(CATALOG_832, "DTM*036*20270630", "DTM*036*20261115")
    parts = split("contract_price", "application/edi-x12", interchange("832", body))
    errors = screen("contract_price", "x12", parts[-1])
    assert [e["code"] for e in errors] == ["x12_price_range"]
    assert "before it starts" in errors[0]["message"]
    assert errors[0]["path"].startswith("segment ")
    with pytest.raises(ParseError) as info:
        parse("contract_price", "application/edi-x12", parts[-1])
    assert info.value.code == "x12_price_range"


def test_expired_price_is_refused():
    body = _with(CATALOG_832, "DTM*036*20271130", "DTM*036*20261130")
    body = _with(body, "DTM*007*20261201", "DTM*007*20260101")
    payload = interchange("832", body)
    parts = split("contract_price", "application/edi-x12", payload)
    refused = [screen("contract_price", "x12", part) for part in parts]
    # the glove tiers expire with the heading (the third would start after it ends);
    # the underpad has its own expiry
    assert [[e["code"] for e in errors] for errors in refused] == [
        ["x12_price_expired"],
        ["x12_price_expired"],
        ["x12_price_range"],
        [],
    ]
    assert "expired on 2026-11-30" in refused[0][0]["message"]


def test_item_without_a_purchase_price_is_refused_not_dropped():
    body = _with(CATALOG_832, "CTP**CON*45.00*1*CS", "CTP**RES*49.00*1*CS")
    parts = split("contract_price", "application/edi-x12", interchange("832", body))
    assert len(parts) == 4  # the unpriced item is still a document: refused with a reason
    errors = screen("contract_price", "x12", parts[-1])
    assert [e["code"] for e in errors] == ["x12_no_price"]


def test_cancelled_contract_is_refused_with_its_status():
    body = _with(AUTHORIZATION_845, "CON*CT*VA-GPO-778*VA", "CON*CT*VA-GPO-778*CC")
    with pytest.raises(ParseError) as info:
        parse_x12(interchange("845", body))
    assert info.value.code == "x12_contract_cancelled"
    assert "status CC" in info.value.message


def test_facility_without_an_id_is_refused():
    body = _with(
        AUTHORIZATION_845,
        f"N1*BY*St Mary Outpatient Pharmacy*11*{DEA_ST_MARY}",
        "N1*BY*St Mary Outpatient Pharmacy",
    )
    with pytest.raises(ParseError) as info:
        parse_x12(interchange("845", body))
    assert info.value.code == "x12_facility_id"


def test_997_and_999_accept_832_and_845_on_the_contract_price_endpoint():
    ack = acknowledgment("x12", interchange("832", CATALOG_832), True, "contract_price")
    assert "AK2*832*0001" in ack["functional_ack"]
    assert "AK5*A" in ack["functional_ack"] and "AK9*A*1*1*1" in ack["functional_ack"]
    payload = interchange("845", AUTHORIZATION_845, version="00501", gs_version="005010")
    ack = acknowledgment("x12", payload, True, "contract_price")
    assert "IK5*A" in ack["functional_ack"] and "AK1*PA*832*005010" in ack["functional_ack"]


def test_997_rejects_a_catalog_none_of_whose_prices_can_apply():
    body = _with(AUTHORIZATION_845, "DTM*036*20271231", "DTM*036*20261101")
    ack = acknowledgment("x12", interchange("845", body), True, "contract_price")["functional_ack"]
    assert "AK3*DTM*" in ack
    assert "AK5*R*5" in ack and "AK9*R*1*1*0" in ack


def test_832_on_another_endpoint_stays_not_supported():
    ack = acknowledgment("x12", interchange("832", CATALOG_832), True, "invoice")
    assert "AK5*R*1" in ack["functional_ack"]
    errors = screen("invoice", "x12", interchange("832", CATALOG_832))
    assert errors[0]["code"] == "x12_set_not_supported"
    assert "contract_price" in errors[0]["message"]
