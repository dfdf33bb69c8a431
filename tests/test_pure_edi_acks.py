"""Acknowledgments that tell the truth (issue 17 item 3), without Odoo.

* the 997/999 rejects, with AK502/IK502 ``1`` (transaction set not supported), the sets the
  endpoint will never process, and the intake refuses them instead of storing them;
* interchange envelope errors (ISA/IEA) are answered by a TA1 with their TA105 note code,
  and then no 997/999 is written for groups that were not read;
* a group-level error is named in AK905;
* cXML requests an endpoint cannot process, cXML Responses and one-way Messages, and UBL
  documents of another type are refused at intake (``split``) with a stable code.

Real samples are read in place from the shared samples folder (skipped when absent); the
variants are generated from them or built here.
"""

from datetime import datetime

import pytest

from ..api_contract.intake import IntakeError
from ..api_contract.intake import split_request
from ..formats.errors import ParseError
from ..formats.registry import acknowledgment
from ..formats.registry import screen
from ..formats.registry import split
from ..formats.x12.ack import functional_ack
from ..formats.x12.ack import interchange_ack
from ..formats.x12.envelope import read_interchange
from .samples import read_sample
from .test_pure_x12 import PO_850
from .test_pure_x12 import _x12

NOW = datetime(2026, 12, 6, 9, 30)
X12 = "application/edi-x12"
XML = "application/xml"

# An X12 832 price catalog: well formed, but no endpoint processes it (yet).
CATALOG_832 = [
    "BCT*PC*CAT-2026-01",
    "DTM*007*20260101",
    "LIN*1*VP*GL-100",
    "CTP**CON*12.50",
]


def _segments(ack):
    return ack.decode().strip().split("~")[:-1] if isinstance(ack, bytes) else ack.split("~")[:-1]


def _clean(segments):
    return [s.strip() for s in segments]


# ---------------------------------------------------------------------------------------
# 997/999: sets the endpoint does not process
# ---------------------------------------------------------------------------------------


def test_real_810_on_the_purchase_order_endpoint_is_rejected_as_not_supported():
    payload = read_sample("x12_810a_edinet.edi")
    answers = acknowledgment("x12", payload, True, "purchase_order")
    segments = _clean(_segments(answers["functional_ack"]))
    assert "AK1*IN*1" in segments and "AK2*810*0001" in segments
    assert "AK5*R*1" in segments  # 1: transaction set not supported
    assert "AK9*R*1*1*0" in segments
    assert answers["interchange_ack"] is None  # the envelope is sound, ISA14 is 0
    # the same interchange on the invoice endpoint is accepted
    on_invoices = acknowledgment("x12", payload, True, "invoice")["functional_ack"]
    assert "AK5*A" in _clean(_segments(on_invoices))
    # and the intake refuses the set instead of storing it
    [(part, errors)] = split_request("purchase_order", X12, payload, 100)[2]
    assert part == payload
    assert [e["code"] for e in errors] == ["x12_set_not_supported"]
    assert "810" in errors[0]["message"] and "850" in errors[0]["message"]
    assert screen("invoice", "x12", payload) == []


def test_mixed_interchange_accepts_the_850_and_rejects_the_832():
    payload = _x12([("850", "0001", PO_850), ("832", "0002", CATALOG_832)])
    fmt, batch, items = split_request("purchase_order", X12, payload, 100)
    assert fmt == "x12" and batch
    assert [bool(errors) for _part, errors in items] == [False, True]
    assert items[1][1][0]["path"] == "ST 0002"
    ack = functional_ack(
        read_interchange(payload, strict=False), True, supported={"850"}, now=NOW
    ).decode()
    assert "AK2*850*0001~AK5*A~" in ack
    assert "AK2*832*0002~AK5*R*1~" in ack
    assert "AK9*P*2*2*1~" in ack
    read_interchange(ack.encode())  # the acknowledgment is itself a valid interchange


def test_999_rejects_an_unsupported_set_with_ik5_code_1():
    body = ["BPR*C*10*C*CHK************20250320", "TRN*1*T1", "RMR*IV*I1**10"]
    payload = _x12([("820", "0001", body)], version="00501", gs_version="005010X218", func="RA")
    ack = acknowledgment("x12", payload, True, "invoice")["functional_ack"]
    segments = _segments(ack)
    assert "ST*999*0001*005010X231A1" in segments
    assert "IK5*R*1" in segments and "AK9*R*1*1*0" in segments
    assert "IK5*A" in _segments(acknowledgment("x12", payload, True, "payment")["functional_ack"])


def test_supported_none_keeps_the_old_verdict():
    ack = functional_ack(_x12([("832", "0001", CATALOG_832)]), True, now=NOW)
    assert b"AK5*A~" in ack  # without ``supported`` the caller decides (no endpoint known)


@pytest.mark.parametrize(
    "kwargs,ak905",
    [
        ({"ge_count": 3}, "5"),  # number of included sets does not match
    ],
)
def test_group_level_error_rejects_the_group_with_ak905(kwargs, ak905):
    payload = _x12([("850", "0001", PO_850)], **kwargs)
    ack = functional_ack(read_interchange(payload, strict=False), True, now=NOW).decode()
    assert f"AK9*R*1*1*0*{ak905}~" in ack
    assert "AK5*R~" in ack


def test_ge_control_number_mismatch_is_ak905_4():
    payload = _x12([("850", "0001", PO_850)]).replace(b"GE*1*77", b"GE*1*78")
    ack = functional_ack(read_interchange(payload, strict=False), True, now=NOW).decode()
    assert "AK9*R*1*1*0*4~" in ack


def test_missing_ge_is_ak905_3():
    payload = _x12([("850", "0001", PO_850)]).replace(b"GE*1*77~\n", b"")
    interchange = read_interchange(payload, strict=False)
    assert interchange.groups[0].ak905_code == "3"
    assert "AK9*R*1*1*0*3~" in functional_ack(interchange, True, now=NOW).decode()


def test_invalid_set_identifier_is_ak502_6():
    payload = _x12([("85X", "0001", PO_850)])
    interchange = read_interchange(payload, strict=False)
    assert interchange.transactions[0].ak5_code == "6"


# ---------------------------------------------------------------------------------------
# TA1: the interchange envelope
# ---------------------------------------------------------------------------------------


def _ta1(payload):
    ack = interchange_ack(read_interchange(payload, strict=False), now=NOW)
    return None if ack is None else _clean(_segments(ack))


def test_real_850_with_a_wrong_iea_control_number_gets_ta1_001():
    payload = read_sample("x12_850_node-x12.edi")
    broken = payload.replace(b"IEA*1*000003438", b"IEA*1*000003439")
    segments = _ta1(broken)
    assert segments[0].startswith("ISA*")
    isa = segments[0].split("*")
    # answered from the receiver to the sender
    assert (isa[5], isa[6].strip()) == ("01", "999999999")
    assert (isa[7], isa[8].strip()) == ("12", "4405197800")
    assert segments[1] == "TA1*000003438*101127*1719*R*001"
    assert segments[2] == "IEA*0*000000001"
    # the registry answers the TA1 and no 997 for groups it did not read
    answers = acknowledgment("x12", broken, False, "purchase_order")
    assert answers["functional_ack"] is None
    assert "TA1*000003438*101127*1719*R*001" in answers["interchange_ack"]
    # the intact sample needs no TA1 (ISA14 is 0) and gets its 997
    assert _ta1(payload) is None
    assert "AK5*A" in _segments(
        acknowledgment("x12", payload, True, "purchase_order")["functional_ack"]
    )


@pytest.mark.parametrize(
    "mutate,note",
    [
        (lambda p: p.replace(b"IEA*1*", b"IEA*2*"), "021"),  # group count
        (lambda p: p[: p.index(b"IEA*")], "023"),  # truncated: premature end
        (lambda p: p.replace(b"*000000101*0*P*", b"*00000010A*0*P*", 1), "018"),
        (lambda p: p.replace(b"*000000101*0*P*", b"*000000101*0*X*", 1), "020"),
        (lambda p: p.replace(b"*000000101*0*P*", b"*000000101*7*P*", 1), "019"),
        (lambda p: p.replace(b"*250301*1200*", b"*25030A*1200*", 1), "014"),
        (lambda p: p + b"GS*PO*X*Y*20250301*1200*78*X*004010~\n", "022"),  # data after IEA
    ],
)
def test_envelope_errors_get_their_ta105_code(mutate, note):
    payload = mutate(_x12([("850", "0001", PO_850)]))
    segments = _ta1(payload)
    ta1 = segments[1].split("*")
    assert ta1[0] == "TA1" and ta1[4] == "R" and ta1[5] == note
    isa = payload.decode().split("~")[0].split("*")
    assert ta1[1:4] == [isa[13], isa[9], isa[10]]  # the interchange as received
    with pytest.raises(ParseError):  # strict reading still refuses the interchange
        read_interchange(payload)


def test_ta1_requested_by_isa14_is_sent_for_a_sound_interchange():
    payload = _x12([("850", "0001", PO_850)]).replace(b"*000000101*0*P*", b"*000000101*1*P*", 1)
    assert _ta1(payload)[1] == "TA1*000000101*250301*1200*A*000"
    answers = acknowledgment("x12", payload, True, "purchase_order")
    assert "TA1*000000101*250301*1200*A*000" in answers["interchange_ack"]
    assert "AK9*A*1*1*1" in answers["functional_ack"]


def test_unreadable_isa_has_no_answer_at_all():
    answers = acknowledgment("x12", b"ISA*00*short~", False, "purchase_order")
    assert answers == {"interchange_ack": None, "functional_ack": None}


# ---------------------------------------------------------------------------------------
# cXML and UBL documents the endpoint does not process: refused at intake
# ---------------------------------------------------------------------------------------

CXML_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">\n'
    b'<cXML payloadID="1@supplier.example" timestamp="2026-12-06T09:30:00+00:00">'
)


def _refusal(doc_type, payload):
    with pytest.raises(ParseError) as info:
        split(doc_type, XML, payload)
    return info.value


def test_real_cxml_samples_go_only_to_their_own_endpoint():
    order = read_sample("cxml_OrderRequest.xml")
    invoice = read_sample("cxml_invoice_taxes_at_line.xml")
    notice = read_sample("cxml_ShipNoticeRequest.xml")
    assert split("purchase_order", XML, order) == [order]
    assert split("invoice", XML, invoice) == [invoice]
    assert split("ship_notice", XML, notice) == [notice]
    refused = _refusal("purchase_order", invoice)
    assert refused.code == "cxml_request_not_supported"
    assert "InvoiceDetailRequest" in refused.message and "OrderRequest" in refused.message
    assert refused.path == "Request/InvoiceDetailRequest"
    assert _refusal("invoice", order).code == "cxml_request_not_supported"
    assert _refusal("receipt", notice).code == "cxml_request_not_supported"


def test_cxml_request_no_endpoint_processes_is_refused():
    payload = CXML_HEAD + (
        b'<Header/><Request><ConfirmationRequest><ConfirmationHeader type="accept"'
        b' noticeDate="2026-12-06"/></ConfirmationRequest></Request></cXML>'
    )
    refused = _refusal("purchase_order", payload)
    assert refused.code == "cxml_request_not_supported"
    assert "ConfirmationRequest" in refused.message
    with pytest.raises(IntakeError) as info:
        split_request("purchase_order", XML, payload, 100)
    assert (info.value.status, info.value.code) == (400, "cxml_request_not_supported")


def test_cxml_response_is_answered_with_its_own_code():
    payload = CXML_HEAD + (
        b'<Response><Status code="200" text="OK">Order received</Status></Response></cXML>'
    )
    refused = _refusal("invoice", payload)
    assert refused.code == "cxml_response"
    assert "Status 200 OK" in refused.message and "nothing was stored" in refused.message


def test_cxml_one_way_message_is_refused():
    payload = CXML_HEAD + b"<Header/><Message><PunchOutOrderMessage/></Message></cXML>"
    refused = _refusal("purchase_order", payload)
    assert refused.code == "cxml_message" and "PunchOutOrderMessage" in refused.message


def test_unsafe_cxml_is_still_refused_as_unsafe_first():
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY x "y">]>'
        b"<cXML><Request><OrderRequest/></Request></cXML>"
    )
    assert _refusal("purchase_order", payload).code == "xml_forbidden"


def test_ubl_document_of_another_type_is_refused_at_intake():
    invoice = read_sample("peppol-bis3_base-example.xml")
    assert split("invoice", XML, invoice) == [invoice]
    refused = _refusal("purchase_order", invoice)
    assert refused.code == "unexpected_doc_type"
    assert "Invoice" in refused.message and "Order" in refused.message
    order = read_sample("peppol-poacc_Order_Example.xml")
    assert _refusal("invoice", order).code == "unexpected_doc_type"
    catalogue = (
        b'<Catalogue xmlns="urn:oasis:names:specification:ubl:schema:xsd:Catalogue-2"></Catalogue>'
    )
    refused = _refusal("invoice", catalogue)
    assert refused.code == "ubl_unsupported" and "Catalogue" in refused.message


def test_openapi_documents_the_refusals_and_the_acknowledgments():
    from ..api_contract.openapi import build

    spec = build()
    post = spec["paths"]["/api/hc/v1/purchase-orders"]["post"]
    assert "cXML OrderRequest" in post["description"]
    assert "cxml_request_not_supported" in post["responses"]["400"]["description"]
    assert "cxml_response" in post["responses"]["400"]["description"]
    assert "x12_set_not_supported" in post["responses"]["422"]["description"]
    for schema in ("Error", "MessageStatus", "BatchResult"):
        properties = spec["components"]["schemas"][schema]["properties"]
        assert "TA1" in properties["interchange_ack"]["description"]
        assert "R*1" in properties["functional_ack"]["description"]
