"""Reading a trading partner's 997/999 (the acknowledgment of our outbound interchange)."""

import pytest

from ..formats.errors import ParseError
from ..formats.registry import acknowledgment
from ..formats.registry import parse
from ..formats.x12.envelope import SUPPORTED_SETS
from ..formats.x12.mappers import parse_x12


def _isa(sender, receiver, number):
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*261206*0410*U*00501*"
        f"{number:09d}*0*P*>~"
    )


def interchange(set_id, segments, version="005010X231A1"):
    st = f"ST*{set_id}*0001" + (f"*{version}" if set_id == "999" else "")
    body = [st, *segments, f"SE*{len(segments) + 2}*0001"]
    return (
        _isa("MEDLINE01", "HOSPITAL01", 7)
        + f"GS*FA*MEDLINE01*HOSPITAL01*20261206*0500*7*X*{version if set_id == '999' else '004010'}~"
        + "".join(s + "~" for s in body)
        + "GE*1*7~IEA*1*000000007~"
    ).encode()


def test_997_read_with_envelope_and_set_statuses():
    payload = interchange(
        "997", ["AK1*PO*905", "AK2*850*0001", "AK5*A", "AK2*850*0002", "AK5*R*5*1", "AK9*P*2*2*1"]
    )
    [(ack, _issues)] = parse_x12(payload, "functional_ack")
    assert (ack.sender_id, ack.receiver_id) == ("MEDLINE01", "HOSPITAL01")
    assert (ack.ack_set, ack.functional_id, ack.group_control_number) == ("997", "PO", 905)
    assert ack.group_status == "P"
    assert [(s.control_number, s.status, s.codes) for s in ack.sets] == [
        ("0001", "A", []),
        ("0002", "R", ["5", "1"]),
    ]
    assert ack.natural_key() == "functional_ack:MEDLINE01:7:905"


def test_999_reads_ik5():
    payload = interchange("999", ["AK1*PO*12*005010", "AK2*850*0001", "IK5*R*5", "AK9*R*1*1*0"])
    [(ack, _issues)] = parse_x12(payload, "functional_ack")
    assert (ack.ack_set, ack.group_status) == ("999", "R")
    assert ack.sets[0].codes == ["5"]


def test_997_without_ak9_is_refused():
    with pytest.raises(ParseError) as caught:
        parse_x12(interchange("997", ["AK1*PO*905", "AK2*850*0001", "AK5*A"]), "functional_ack")
    assert caught.value.code == "x12_segment"


def test_997_goes_to_the_acknowledgment_endpoint_only():
    assert SUPPORTED_SETS["997"] == SUPPORTED_SETS["999"] == "functional_ack"
    payload = interchange("997", ["AK1*PO*905", "AK9*A*1*1*1"])
    with pytest.raises(ParseError):
        parse_x12(payload, "purchase_order")
    [parsed] = parse("functional_ack", "application/edi-x12", payload)
    assert parsed.document.doc_type == "functional_ack"


def test_an_acknowledgment_is_not_acknowledged():
    payload = interchange("997", ["AK1*PO*905", "AK9*A*1*1*1"])
    assert acknowledgment("x12", payload, True, "functional_ack")["functional_ack"] is None
