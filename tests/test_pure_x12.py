"""X12 reader, splitter, canonical mappers and 997/999 writer (no Odoo)."""

from datetime import date
from datetime import datetime
from decimal import Decimal

import pytest

from ..formats.errors import ParseError
from ..formats.registry import parse
from ..formats.registry import split
from ..formats.x12.ack import functional_ack
from ..formats.x12.envelope import ISA_LENGTH
from ..formats.x12.envelope import read_interchange
from ..formats.x12.envelope import split_interchange
from ..formats.x12.mappers import parse_x12
from ..normalize.identifiers import gs1_check_digit_ok
from .samples import read_sample


def _isa(version="00401", control="000000101", rep="U", sep="*", comp=">"):
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "HOSPITAL".ljust(15),
        "ZZ",
        "VENDOR".ljust(15),
        "250301",
        "1200",
        rep,
        version,
        control,
        "0",
        "P",
        comp,
    ]
    return sep.join(fields)


def _x12(
    sets,
    *,
    version="00401",
    gs_version="004010",
    func="PO",
    term="~\n",
    ge_count=None,
    iea_count=None,
    se_fix=None,
    control="000000101",
):
    """Interchange text for ``sets`` = [(set_id, st_control, [segment strings])]."""
    segs = [_isa(version, control), f"GS*{func}*HOSPITAL*VENDOR*20250301*1200*77*X*{gs_version}"]
    for set_id, st_ctrl, body in sets:
        tx = [f"ST*{set_id}*{st_ctrl}", *body]
        count = len(tx) + 1
        if se_fix:
            count, st_ctrl = se_fix(count, st_ctrl)
        segs += [*tx, f"SE*{count}*{st_ctrl}"]
    segs.append(f"GE*{ge_count if ge_count is not None else len(sets)}*77")
    segs.append(f"IEA*{iea_count if iea_count is not None else 1}*{control}")
    return (term.join(segs) + term).encode()


PO_850 = [
    "BEG*00*SA*PO-7781**20250301*GPO-2025-01",
    "CUR*BY*USD",
    "REF*CT*GPO-2025-01",
    "DTM*002*20250310",
    "N1*BY*General Hospital*UL*0614141000005",
    "N1*ST*Main Campus Dock*UL*0614141000012",
    "N3*1 Hospital Way",
    "N4*Springfield*IL*62701*US",
    "N1*SE*Acme Medical*1*123456789",
    "PO1*1*10*BX*25.50**VP*GL-100*BP*B-100*UK*00614141000029",
    "PID*F****Nitrile gloves M",
    "DTM*002*20250312",
    "PO1*2*4*CS*100**VP*SY-3*N4*12345-6789-01",
    "PID*F****Syringe 3ml",
    "CTT*2",
    "AMT*TT*655",
]


def test_850_inline_maps_to_purchase_order():
    [(po, issues)] = parse_x12(_x12([("850", "0001", PO_850)]))
    assert po.doc_type == "purchase_order"
    assert po.number == "PO-7781"
    assert po.order_date == date(2025, 3, 1)
    assert po.currency == "USD"
    assert po.contract_reference == "GPO-2025-01"
    assert po.vendor.identifier("DUNS") == "123456789" and po.vendor.name == "Acme Medical"
    assert po.buyer.identifier("GLN") == "0614141000005"
    assert po.ship_to.identifier("GLN") == "0614141000012"
    assert po.ship_to.address.city == "Springfield"
    assert len(po.lines) == 2
    first, second = po.lines
    assert (first.quantity, first.uom, first.unit_price) == (Decimal(10), "BX", Decimal("25.50"))
    assert first.item.gtin == "00614141000029" and first.item.buyer_part_number == "B-100"
    assert first.item.description == "Nitrile gloves M"
    assert first.requested_date == date(2025, 3, 12)
    assert second.item.ndc == "12345-6789-01"
    assert po.total_amount == po.lines_total() == Decimal("655.00")
    assert issues == []
    assert po.natural_key() == "purchase_order:PO-7781"


def test_850_business_count_mismatch_is_an_issue_not_an_error():
    body = [s if not s.startswith("CTT") else "CTT*3" for s in PO_850]
    body = [s if not s.startswith("AMT") else "AMT*TT*999" for s in body]
    [(po, issues)] = parse_x12(_x12([("850", "0001", body)]))
    assert len(po.lines) == 2
    assert sorted(i.code for i in issues) == ["x12_ctt_count", "x12_total_mismatch"]


def test_850_sample_node_x12():
    [(po, issues)] = parse_x12(read_sample("x12_850_node-x12.edi"))
    assert po.number == "08292233294"
    assert po.order_date == date(2010, 11, 27)
    assert len(po.lines) == 6  # CTT*6
    assert po.lines_total() == Decimal("13045.94") == po.total_amount  # AMT*1
    assert [ln.quantity for ln in po.lines] == [120, 220, 126, 76, 72, 696]
    assert po.lines[0].item.vendor_part_number == "AB3542"
    assert po.lines[0].item.buyer_part_number == "065322-117"
    assert po.lines[5].item.description == "ORANGE WIDGET"
    assert po.ship_to.name == "XYZ RETAIL"
    assert po.requested_date == date(2010, 12, 14)
    # No seller N1 and no CUR in the sample: both defaulted, both visible.
    assert {i.code for i in issues} == {"x12_currency_default", "x12_vendor_from_envelope"}
    assert po.vendor.identifier("DUNS") == "999999999"


INVOICE_810 = [
    "BIG*20250315*INV-9001*20250301*PO-7781***DI*00",
    "CUR*SE*USD",
    "N1*SE*Acme Medical*UL*0614141000036",
    "N1*BT*General Hospital*UL*0614141000005",
    "ITD*01*3*2**10**30",
    "IT1*1*10*BX*25.50**VP*GL-100*UK*00614141000029",
    "PID*F****Nitrile gloves M",
    "REF*FJ*1",
    "IT1*2*4*CS*100**VP*SY-3",
    "TXI*ST*32*8",
    "TDS*69700",
    "SAC*C*D240***1000",
    "CTT*2",
]


def test_810_inline_maps_to_invoice_with_totals():
    [(inv, issues)] = parse_x12(_x12([("810", "0001", INVOICE_810)], func="IN"))
    assert inv.doc_type == "invoice" and not inv.is_credit_note
    assert inv.number == "INV-9001"
    assert inv.issue_date == date(2025, 3, 15)
    assert inv.due_date == date(2025, 4, 14)  # net 30
    assert inv.po_numbers == ["PO-7781"]
    assert inv.vendor.identifier("GLN") == "0614141000036"
    assert inv.lines[0].po_line_ref == "1" and inv.lines[1].po_line_ref == "2"
    assert inv.lines[0].line_total == Decimal("255.00")
    assert inv.lines[1].taxes[0].amount == Decimal(32)
    assert inv.net_total == Decimal("655.00")
    assert inv.charge_total == Decimal("10.00")
    assert inv.tax_total == Decimal(32)
    assert inv.gross_total == Decimal("697.00")  # TDS implied 2 decimals
    assert issues == []
    assert inv.dependencies() == ["purchase_order:PO-7781"]


def test_810_credit_memo():
    body = [s.replace("***DI*00", "***CR*00") for s in INVOICE_810] + []
    body.insert(2, "REF*OI*INV-8000")
    [(inv, _issues)] = parse_x12(_x12([("810", "0001", body)], func="IN"))
    assert inv.is_credit_note
    assert inv.original_invoice_number == "INV-8000"


def test_810_sample_edinet_tolerates_short_isa_bom_and_indentation():
    payload = read_sample("x12_810a_edinet.edi")
    assert payload.startswith(b"\xef\xbb\xbf")
    [(inv, issues)] = parse_x12(payload)
    assert inv.number == "DO091003TESTINV01"
    assert inv.po_numbers == ["DO091003"]
    assert inv.issue_date == date(2003, 3, 10)
    assert len(inv.lines) == 2  # CTT*2
    assert sum(ln.quantity * ln.unit_price for ln in inv.lines) == Decimal("359.96")
    assert inv.net_total == Decimal("365.96")  # lines + their G830 charges
    assert inv.gross_total == Decimal("365.96")  # TDS*36596
    assert inv.remit_to.name == "XYZ Bank"
    codes = {i.code for i in issues}
    assert codes == {"x12_isa_width", "x12_summary_charge", "x12_vendor_from_envelope"}


def test_856_inline_with_lot_expiry_serials_and_two_orders():
    body = [
        "BSN*00*ASN-55*20250305*1200",
        "HL*1**S",
        "TD5**2*UPSN",
        "REF*2I*1Z999AA10123456784",
        "DTM*011*20250305",
        "DTM*017*20250307",
        "N1*SU*Acme Medical*UL*0614141000036",
        "N1*ST*Main Campus Dock*UL*0614141000012",
        "HL*2*1*O",
        "PRF*PO-7781***20250301",
        "HL*3*2*I",
        "LIN*1*UK*00614141000029*VP*GL-100",
        "SN1**10*BX",
        "REF*LT*LOT-A1",
        "DTM*036*20270131",
        "HL*4*2*I",
        "LIN*2*VP*PUMP-1*LT*LOT-P*SN*SER-1",
        "SN1**1*EA",
        "REF*SE*SER-2",
        "DTM*036*20260630",
        "HL*5*1*O",
        "PRF*PO-7790",
        "HL*6*5*I",
        "LIN*1*VP*SY-3",
        "SN1**4*CS",
        "CTT*6*15",
    ]
    [(asn, issues)] = parse_x12(_x12([("856", "0001", body)], func="SH"))
    assert issues == []
    assert asn.asn_number == "ASN-55" and asn.po_number == "PO-7781"
    assert asn.ship_date == date(2025, 3, 5)
    assert asn.expected_delivery_date == date(2025, 3, 7)
    assert asn.carrier == "UPSN" and asn.tracking_number == "1Z999AA10123456784"
    assert asn.vendor.identifier("GLN") == "0614141000036"
    gloves, pump, syringes = asn.lines
    assert (gloves.lot, gloves.expiry_date, gloves.quantity) == ("LOT-A1", date(2027, 1, 31), 10)
    assert gloves.item.gtin == "00614141000029"
    assert pump.lot == "LOT-P" and pump.serials == ["SER-2", "SER-1"]
    assert syringes.po_number == "PO-7790" and gloves.po_number is None
    assert asn.po_numbers() == ["PO-7781", "PO-7790"]
    assert asn.dependencies() == ["purchase_order:PO-7781", "purchase_order:PO-7790"]
    assert asn.total_quantity() == Decimal(15)


def test_856_sample_node_x12_flags_bad_upc_check_digits():
    [(asn, issues)] = parse_x12(read_sample("x12_856_node-x12.edi"))
    assert asn.asn_number == "829716"
    assert asn.po_number == "99999817"
    assert asn.ship_date == date(2011, 12, 6)
    assert len(asn.lines) == 2
    assert asn.total_quantity() == Decimal(30)  # CTT*4*30
    assert [ln.item.vendor_part_number for ln in asn.lines] == ["87787D", "99887D"]
    assert asn.tracking_number == "5787970539"
    gtin_issues = [i for i in issues if i.code == "gtin_check_digit"]
    assert [i.message.split()[1] for i in gtin_issues] == ["999999310145", "999999311746"]


def test_855_inline_and_sample():
    body = [
        "BAK*00*AC*PO-7781*20250301****ACK-1*20250302",
        "N1*SU*Acme Medical*1*123456789",
        "PO1*1*10*BX*25.50**VP*GL-100",
        "ACK*IA*10*BX*068*20250310",
        "PO1*2*4*CS*100**VP*SY-3",
        "ACK*IQ*2*CS*068*20250320",
        "PO1*3*1*EA*5**VP*OLD-1",
        "ACK*IR*0*EA",
        "CTT*3",
    ]
    [(ack, issues)] = parse_x12(_x12([("855", "0001", body)], func="PR"))
    assert issues == []
    assert ack.po_number == "PO-7781" and ack.ack_number == "ACK-1"
    assert ack.ack_date == date(2025, 3, 2) and ack.status == "accepted_with_changes"
    assert [ln.status for ln in ack.lines] == ["accept", "change", "reject"]
    assert ack.lines[1].quantity == Decimal(2) and ack.lines[1].ordered_quantity == Decimal(4)
    assert ack.lines[1].scheduled_date == date(2025, 3, 20)

    [(sample, _)] = parse_x12(read_sample("x12_855_node-x12.edi"))
    assert sample.po_number == "POTEST1112"
    assert len(sample.lines) == 4  # CTT*4
    assert [ln.status for ln in sample.lines] == ["accept", "reject", "reject", "accept"]
    assert sum(ln.quantity for ln in sample.lines) == Decimal(5)  # CTT02 hash total
    assert sample.lines[0].item.gtin == "9780446360265"
    assert sample.status == "accepted_with_changes"


def test_820_sample_edinet_newline_terminator_and_totals():
    [(payment, issues)] = parse_x12(read_sample("x12_820_edinet.edi"))
    assert payment.doc_type == "payment" and payment.status == "paid"
    assert payment.payment_id == "4529952"
    assert payment.amount == Decimal("21298.97")
    assert payment.payment_date == date(2019, 10, 29)
    assert payment.method == "check"
    assert len(payment.invoices) == 7
    assert payment.remitted_total() == payment.amount
    assert payment.invoices[0].invoice_number == "26801"
    assert payment.invoices[0].po_number == "1016071221"
    assert payment.payer.identifier("GLN") == "1238742000008"
    assert payment.vendor.name == "Test Company, LLC"
    assert [i.code for i in issues] == ["gln_check_digit"]


def test_820_inline_005010():
    body = [
        "BPR*C*150.00*C*ACH*CTX*01*011000015*DA*123456*1234567890**01*021000021*DA*9876*20250320",
        "TRN*1*EFT-0001*1234567890",
        "CUR*PR*USD",
        "N1*PR*General Hospital*UL*0614141000005",
        "N1*PE*Acme Medical*1*123456789",
        "RMR*IV*INV-9001**100.00*100.00",
        "REF*PO*PO-7781",
        "RMR*IV*INV-9002**50.00*52.00*2.00",
    ]
    payload = _x12([("820", "0001", body)], version="00501", gs_version="005010X218", func="RA")
    [(payment, issues)] = parse_x12(payload)
    assert issues == []
    assert payment.payment_id == "EFT-0001" and payment.method == "ach"
    assert payment.payment_date == date(2025, 3, 20)
    assert [r.amount_paid for r in payment.invoices] == [Decimal(100), Decimal(50)]
    assert payment.invoices[1].discount_amount == Decimal(2)
    assert payment.vendor.identifier("DUNS") == "123456789"


# --- envelope: hostile and malformed input ----------------------------------------


def test_isa_is_106_characters_and_separators_come_from_it():
    payload = _x12([("850", "0001", PO_850)])
    assert payload.index(b"GS") == ISA_LENGTH + 1  # plus the "\n" after "~"
    alt = payload.replace(b"*", b"|").replace(b">", b"^")
    [(po, _)] = parse_x12(alt)
    assert po.number == "PO-7781"


@pytest.mark.parametrize(
    "payload,code",
    [
        (b"", "x12_isa"),
        (b"GS*PO*X~", "x12_isa"),
        (b"ISA*00*          *00*    ", "x12_isa"),
        (b"ISA000000", "x12_separators"),
    ],
)
def test_truncated_or_missing_isa(payload, code):
    with pytest.raises(ParseError) as info:
        read_interchange(payload)
    assert info.value.code == code


def test_isa_with_separator_equal_to_terminator_is_refused():
    payload = _x12([("850", "0001", PO_850)], term="*")
    with pytest.raises(ParseError) as info:
        read_interchange(payload)
    assert info.value.code == "x12_separators"


def test_wrong_element_separator_in_body_breaks_segments():
    payload = _x12([("850", "0001", PO_850)]).replace(b"BEG*", b"BEG|")
    with pytest.raises(ParseError) as info:
        parse_x12(payload)
    assert info.value.code == "x12_segment"


def test_se_segment_count_mismatch():
    payload = _x12([("850", "0001", PO_850)], se_fix=lambda n, c: (n + 1, c))
    with pytest.raises(ParseError) as info:
        read_interchange(payload)
    assert info.value.code == "x12_count" and "SE01" in info.value.message


def test_control_number_mismatches():
    payload = _x12([("850", "0001", PO_850)], se_fix=lambda n, c: (n, "0002"))
    with pytest.raises(ParseError) as info:
        read_interchange(payload)
    assert info.value.code == "x12_control_number"
    bad_iea = _x12([("850", "0001", PO_850)]).replace(b"IEA*1*000000101", b"IEA*1*000000102")
    with pytest.raises(ParseError) as info:
        read_interchange(bad_iea)
    assert info.value.code == "x12_control_number" and "IEA02" in info.value.message
    bad_ge = _x12([("850", "0001", PO_850)]).replace(b"GE*1*77", b"GE*1*78")
    with pytest.raises(ParseError) as info:
        read_interchange(bad_ge)
    assert info.value.code == "x12_control_number"


def test_group_and_interchange_counts():
    with pytest.raises(ParseError) as info:
        read_interchange(_x12([("850", "0001", PO_850)], ge_count=2))
    assert info.value.code == "x12_count" and "GE01" in info.value.message
    with pytest.raises(ParseError) as info:
        read_interchange(_x12([("850", "0001", PO_850)], iea_count=3))
    assert info.value.code == "x12_count" and "IEA01" in info.value.message


def test_truncated_interchange_missing_trailers():
    full = _x12([("850", "0001", PO_850)]).decode()
    truncated = full[: full.index("SE*")]
    with pytest.raises(ParseError) as info:
        read_interchange(truncated.encode())
    assert info.value.code == "x12_envelope"
    assert {d["code"] for d in info.value.details} == {"x12_envelope"}


def test_segment_outside_transaction_and_data_after_iea():
    payload = _x12([("850", "0001", PO_850)]).replace(b"GE*1*77", b"REF*XX*1~GE*1*77")
    with pytest.raises(ParseError) as info:
        read_interchange(payload)
    assert info.value.code == "x12_envelope"
    with pytest.raises(ParseError) as info:
        read_interchange(_x12([("850", "0001", PO_850)]) + b"BEG*00~")
    assert info.value.code == "x12_envelope"


def test_missing_mandatory_segment_and_unsupported_set():
    with pytest.raises(ParseError) as info:
        parse_x12(_x12([("850", "0001", PO_850[1:])]))
    assert info.value.code == "x12_segment" and "BEG" in info.value.message
    with pytest.raises(ParseError) as info:
        parse_x12(_x12([("846", "0001", ["BIA*00*MM*INV-1*20250301"])]))
    assert info.value.code == "x12_unsupported"
    with pytest.raises(ParseError) as info:
        parse_x12(_x12([("850", "0001", PO_850)]), doc_type="invoice")
    assert info.value.code == "x12_unexpected_set"


def test_bad_numbers_and_dates_in_elements():
    body = [s.replace("PO1*1*10*", "PO1*1*ten*") for s in PO_850]
    with pytest.raises(ParseError) as info:
        parse_x12(_x12([("850", "0001", body)]))
    assert info.value.code == "x12_segment" and "PO102" in info.value.message
    body = [s.replace("20250301", "20251301") for s in PO_850]
    with pytest.raises(ParseError) as info:
        parse_x12(_x12([("850", "0001", body)]))
    assert "BEG05" in info.value.message


# --- splitting and acknowledgments ---------------------------------------------------


def test_split_interchange_rewraps_each_set():
    payload = _x12([("850", "0001", PO_850), ("850", "0002", PO_850[:1] + PO_850[8:])])
    parts = split_interchange(payload)
    assert [(p.set_id, p.control_number, p.doc_type) for p in parts] == [
        ("850", "0001", "purchase_order"),
        ("850", "0002", "purchase_order"),
    ]
    for part in parts:
        interchange = read_interchange(part.payload)  # stands alone, counts valid
        assert len(interchange.transactions) == 1
        assert part.payload.startswith(_isa().encode())
    [(second, _)] = parse_x12(parts[1].payload)
    assert len(second.lines) == 2
    assert split("purchase_order", "application/edi-x12", payload) == [p.payload for p in parts]


@pytest.mark.parametrize(
    "name",
    [
        "x12_810a_edinet.edi",
        "x12_820_edinet.edi",
        "x12_850_node-x12.edi",
        "x12_855_node-x12.edi",
        "x12_856_node-x12.edi",
    ],
)
def test_samples_split_and_reparse(name):
    payload = read_sample(name)
    [part] = split_interchange(payload)
    [(original, _)] = parse_x12(payload)
    [(again, _)] = parse_x12(part.payload)
    assert again == original


def test_registry_parse_x12_returns_parsed_documents():
    [parsed] = parse(
        "purchase_order", "application/EDI-X12; charset=ascii", _x12([("850", "0001", PO_850)])
    )
    assert parsed.source_format == "x12"
    assert parsed.document.number == "PO-7781"


def test_997_accepts_valid_004010():
    interchange = read_interchange(_x12([("850", "0001", PO_850)]))
    ack = functional_ack(interchange, True, now=datetime(2025, 3, 1, 12, 0)).decode()
    segments = ack.split("~")[:-1]
    assert segments[0].startswith("ISA*00*          *00*          *ZZ*VENDOR         *ZZ*HOSPITAL")
    assert len(segments[0]) == ISA_LENGTH - 1
    tags = [s.split("*")[0] for s in segments]
    assert tags == ["ISA", "GS", "ST", "AK1", "AK2", "AK5", "AK9", "SE", "GE", "IEA"]
    assert "ST*997*0001" in segments
    assert "AK1*PO*77" in segments and "AK2*850*0001" in segments
    assert "AK5*A" in segments and "AK9*A*1*1*1" in segments
    assert "SE*6*0001" in segments  # ST..SE
    read_interchange(ack.encode())  # our own ack is a valid interchange


def test_997_rejects_only_the_bad_set():
    payload = _x12(
        [("850", "0001", PO_850), ("850", "0002", PO_850)],
        se_fix=lambda n, c: (n + 1, c) if c == "0002" else (n, c),
    )
    interchange = read_interchange(payload, strict=False)
    assert [len(tx.errors) for tx in interchange.transactions] == [0, 1]
    ack = functional_ack(interchange, True, now=datetime(2025, 3, 1)).decode()
    assert "AK2*850*0001~AK5*A~" in ack
    assert "AK2*850*0002~AK5*R*4~" in ack  # 4: segment count mismatch
    assert "AK9*P*2*2*1~" in ack


def test_999_for_005010_with_business_errors():
    body = ["BPR*C*10*C*CHK************20250320", "TRN*1*T1", "RMR*IV*I1**10"]
    payload = _x12(
        [("820", "0001", body)],
        version="00501",
        gs_version="005010X218",
        func="RA",
    )
    errors = [
        {
            "transaction": "0001",
            "segment_tag": "RMR",
            "segment_position": 4,
            "element_position": 2,
            "element_code": "7",
        }
    ]
    ack = functional_ack(payload, True, errors, now=datetime(2025, 3, 1)).decode()
    segments = ack.split("~")[:-1]
    assert "ST*999*0001*005010X231A1" in segments
    assert "AK1*RA*77*005010X218" in segments
    assert "AK2*820*0001*005010X218" in segments
    assert "IK3*RMR*4**8" in segments and "IK4*2**7" in segments
    assert "IK5*R*5" in segments and "AK9*R*1*1*0" in segments
    assert segments[0].split("*")[12] == "00501"
    read_interchange(ack.encode())


def test_997_all_rejected_when_not_accepted():
    ack = functional_ack(_x12([("850", "0001", PO_850)]), False, now=datetime(2025, 3, 1))
    assert b"AK5*R~" in ack and b"AK9*R*1*1*0~" in ack


@pytest.mark.parametrize(
    "digits,ok",
    [
        ("00614141000029", True),
        ("0614141000005", True),
        ("999999310145", False),
        ("9780446360265", True),
        ("12345", False),
        ("abc", False),
    ],
)
def test_gs1_check_digit(digits, ok):
    assert gs1_check_digit_ok(digits) is ok


def test_810_sample_edinet_amounts():
    [(inv, _issues)] = parse_x12(read_sample("x12_810a_edinet.edi"))
    assert inv.payable_amount == Decimal("365.96")  # AMT*BAP
    # SAC*C*H850 "no tax" at the summary: a stated zero tax, not an absent one.
    assert [(t.tax_type, t.amount) for t in inv.taxes] == [("sales", Decimal("0.00"))]
    assert inv.tax_total == 0 and inv.charge_total is None  # header G830 = the lines' 2 x 3.00
    assert inv.amount_findings() == []


# Summary ("header-level") invoice as distributors bill consolidated shipments: one IT1 per
# PO line with no item id, the PO in the IT1 qualifiers (PO / PL) or in a line REF*PO;
# sales tax per line (TXI with rate) repeated as a summary TXI; an allowance and a
# fuel surcharge at the summary; AMT*BAP the amount due after a prepayment.
SUMMARY_810 = [
    "BIG*20250402*SUM-2001**",
    "CUR*SE*USD",
    "N1*SE*Midwest Medical Distribution*1*123456789",
    "IT1*1*1*LO*1250.00**PO*4500012345*PL*10",
    "TXI*ST*103.13*8.25",
    "IT1*2*1*LO*480.00",
    "REF*PO*4500012399*20",
    "TXI*ST*39.60*8.25",
    "SAC*A*C310***2500**********Contract discount",
    "TDS*181473",
    "TXI*ST*142.73*8.25",
    "SAC*A*C310***4800**********Volume rebate",
    "SAC*C*F050***1500**********Fuel surcharge",
    "AMT*BAP*1614.73",
    "CTT*2",
]


def test_810_summary_invoice_lines_with_only_po_references():
    [(inv, issues)] = parse_x12(_x12([("810", "0001", SUMMARY_810)], func="IN"))
    first, second = inv.lines
    assert (first.po_number, first.po_line_ref) == ("4500012345", "10")
    assert (second.po_number, second.po_line_ref) == ("4500012399", "20")
    assert first.item.description == "PO 4500012345 line 10"
    assert inv.all_po_numbers() == ["4500012345", "4500012399"]
    # Line 2: 480.00 - 25.00 contract discount
    assert second.line_total == Decimal("455.00")
    assert [(t.tax_type, t.rate, t.amount) for t in first.taxes] == [
        ("ST", Decimal("8.25"), Decimal("103.13"))
    ]
    # The summary TXI repeats the lines' 103.13 + 39.60: counted once.
    assert inv.tax_total == Decimal("142.73")
    assert [(t.tax_type, t.amount) for t in inv.taxes] == [("ST", Decimal("142.73"))]
    assert [(ac.is_charge, ac.amount, ac.reason) for ac in inv.allowance_charges] == [
        (False, Decimal("48.00"), "Volume rebate"),
        (True, Decimal("15.00"), "Fuel surcharge"),
    ]
    assert inv.gross_total == Decimal("1814.73")  # TDS01
    assert inv.payable_amount == Decimal("1614.73")  # AMT*BAP
    codes = {i.code for i in issues}
    assert {"x12_line_without_item", "x12_summary_tax"} <= codes
    assert "x12_total_mismatch" not in codes
    # The 200.00 between the total and the amount due is not stated as a prepayment.
    assert [f.code for f in inv.amount_findings()] == ["payable_amount"]


# Tax stated only at the summary (a single state sales tax TXI, no line TXI), as small
# suppliers' accounting packages send it, with a header TXI that states only a rate.
HEADER_TAX_810 = [
    "BIG*20250402*TX-7**PO-88",
    "CUR*SE*USD",
    "N1*SE*Small Supplier*92*V-1",
    "IT1*1*2*EA*50.00**VP*A-1",
    "IT1*2*1*EA*20.00**VP*A-2",
    "TDS*12600",
    "TXI*ST*6.00*5",
    "TXI*LS**1*****2",
    "CTT*2",
]


def test_810_header_only_tax_and_rate_only_txi():
    [(inv, issues)] = parse_x12(_x12([("810", "0001", HEADER_TAX_810)], func="IN"))
    assert all(ln.taxes == [] for ln in inv.lines)
    assert [(t.tax_type, t.rate, t.amount) for t in inv.taxes] == [
        ("ST", Decimal(5), Decimal("6.00")),
        ("LS", Decimal(1), None),
    ]
    assert inv.tax_total == Decimal("6.00") and inv.gross_total == Decimal("126.00")
    assert inv.payable_amount == inv.gross_total  # no AMT*BAP: the total is due
    assert "x12_summary_tax" not in {i.code for i in issues}
    assert inv.amount_findings() == []


# Tax-exempt hospital buyer: TXI06 "1" (exempt) with a zero amount on each line.
def test_810_exempt_tax_line():
    body = [
        "BIG*20250402*EX-1**PO-1",
        "N1*SE*Vendor*92*V-1",
        "IT1*1*3*EA*10.00**VP*Z-1",
        "TXI*ST*0*0***1",
        "TDS*3000",
        "CTT*1",
    ]
    [(inv, _issues)] = parse_x12(_x12([("810", "0001", body)], func="IN"))
    (tax,) = inv.lines[0].taxes
    assert (tax.category, tax.amount) == ("E", Decimal(0)) and tax.exemption_reason
    assert inv.amount_findings() == []
