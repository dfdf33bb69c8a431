"""X12 outbound: 850, 860, 824 and 820 read back by the project's own X12 reader (no Odoo).

Every generated interchange is read by ``formats.x12.envelope.read_interchange`` (strict:
control numbers, SE/GE/IEA counts) and, where an inbound mapper exists, parsed back by
``formats.registry.parse`` into the canonical document it was made from.
"""

import copy
from datetime import date
from datetime import datetime
from decimal import Decimal

import pytest

from ..canonical.documents import Address
from ..canonical.documents import Identifier
from ..canonical.documents import ItemRef
from ..canonical.documents import Party
from ..canonical.documents import Payment
from ..canonical.documents import PaymentInvoiceRef
from ..canonical.documents import PurchaseOrder
from ..canonical.documents import PurchaseOrderLine
from ..canonical.outbound import InvoiceResponse
from ..canonical.outbound import ResponseReason
from ..formats import registry
from ..formats.outbound import Envelope
from ..formats.outbound import UnsupportedOutbound
from ..formats.outbound import render
from ..formats.x12.ack import functional_ack
from ..formats.x12.envelope import SUPPORTED_SETS
from ..formats.x12.envelope import read_interchange
from ..normalize.uom import canonical_uom

NOW = datetime(2026, 12, 6, 9, 30)


def envelope(**values):
    base = {
        "sender_qualifier": "ZZ",
        "sender_id": "HOSPITALNET",
        "receiver_qualifier": "01",
        "receiver_id": "123456789",
        "interchange_control_number": 905,
        "group_control_number": 77,
        "created_at": NOW,
    }
    return Envelope(**{**base, **values})


def order(purpose="original", **values):
    po = PurchaseOrder(
        number="PO-2026-0042",
        order_date=date(2026, 12, 1),
        purpose=purpose,
        currency="USD",
        vendor=Party(
            name="Acme Medical Supply",
            identifiers=[Identifier(scheme="DUNS", value="123456789")],
            address=Address(
                street="1 Industrial Way",
                city="Memphis",
                state="TN",
                zip="38118",
                country_code="US",
            ),
        ),
        buyer=Party(
            name="St. Mary Hospital",
            identifiers=[Identifier(scheme="GLN", value="0614141000012")],
            phone="+1 555 0100",
            email="purchasing@stmary.example",
        ),
        ship_to=Party(
            name="St. Mary Main Dock",
            identifiers=[Identifier(scheme="GLN", value="0614141000029")],
            address=Address(
                street="100 Care Street",
                street2="Dock 4",
                city="Springfield",
                state="IL",
                zip="62701",
                country_code="US",
            ),
        ),
        bill_to=Party(
            name="St. Mary Accounts Payable",
            identifiers=[Identifier(scheme="BUYER_ASSIGNED", value="AP-01")],
        ),
        approval_status="approved",
        contract_reference="GPO-778",
        payment_terms="Net 30",
        requested_date=date(2026, 12, 10),
        total_amount=Decimal("1275.50"),
        lines=[
            PurchaseOrderLine(
                line_number="1",
                item=ItemRef(
                    gtin="00614141000036",
                    vendor_part_number="AC-GLV-M",
                    buyer_part_number="SM-778",
                    description="Nitrile exam gloves, medium",
                ),
                quantity=Decimal("50"),
                uom="BX",
                unit_price=Decimal("12.75"),
                requested_date=date(2026, 12, 9),
                contract_reference="GPO-778",
            ),
            PurchaseOrderLine(
                line_number="2",
                item=ItemRef(
                    manufacturer_part_number="MFG-55",
                    ndc="0409-4888-02",
                    hibc="+H123PROD1",
                    description="Saline 0.9% 10 mL",
                ),
                quantity=Decimal("100"),
                uom="EA",
                unit_price=Decimal("6.38"),
            ),
        ],
    )
    for name, value in values.items():
        setattr(po, name, value)
    return po


def change_order(purpose="change"):
    po = order(purpose, revision="2", change_date=date(2026, 12, 3), total_amount=None)
    po.note = "Quantities revised after stock count" if purpose == "change" else "Ward closed"
    codes = ("change", "delete") if purpose == "change" else ("delete", "delete")
    for line, code in zip(po.lines, codes, strict=True):
        line.change_code = code
    if purpose == "change":
        po.lines.append(
            PurchaseOrderLine(
                line_number="3",
                item=ItemRef(gtin="614141000043", description="Syringe 5 mL"),
                quantity=Decimal("200"),
                uom="EA",
                unit_price=Decimal("0.42"),
                change_code="add",
            )
        )
    return po


def invoice_response(status="RE"):
    return InvoiceResponse(
        response_id="IR-2026-7",
        issue_date=date(2026, 12, 6),
        status=status,
        invoice_number="INV-991",
        invoice_date=date(2026, 12, 2),
        po_number="PO-2026-0042",
        buyer=order().buyer,
        seller=order().vendor,
        currency="USD",
        invoice_total="1300.00",
        reasons=[
            ResponseReason(reason_code="PRI", text="Unit price above contract", line_reference="1"),
            ResponseReason(action_code="NIN", text="Send a new invoice"),
        ],
        note="Please see our contract GPO-778",
    )


def payment(status="paid"):
    return Payment(
        payment_id="ACH-5521",
        status=status,
        vendor=Party(
            name="Acme Medical Supply", identifiers=[Identifier(scheme="DUNS", value="123456789")]
        ),
        payer=Party(
            name="St. Mary Hospital", identifiers=[Identifier(scheme="GLN", value="0614141000012")]
        ),
        amount=Decimal("1249.99"),
        currency="USD",
        payment_date=date(2026, 12, 20),
        method="ach",
        invoices=[
            PaymentInvoiceRef(
                invoice_number="INV-991",
                amount_paid=Decimal("1000.00"),
                amount_invoiced=Decimal("1020.41"),
                discount_amount=Decimal("20.41"),
                po_number="PO-2026-0042",
                invoice_date=date(2026, 12, 2),
            ),
            PaymentInvoiceRef(invoice_number="INV-992", amount_paid=Decimal("249.99")),
        ],
    )


def _check_envelope(rendered, env, set_id, functional_id):
    text = rendered.body.decode("ascii")
    assert len(text.split("~")[0]) + 1 == 106, "the ISA has its fixed width"
    interchange = read_interchange(rendered.body)  # strict: counts and control numbers
    assert interchange.control_number == f"{env.interchange_control_number:09d}"
    assert interchange.version == {"004010": "00401", "005010": "00501"}[env.version]
    assert interchange.isa[14] == ("1" if env.ack_requested else "0")
    assert interchange.isa[15] == env.usage_indicator
    assert interchange.isa[6] == env.sender_id and interchange.isa[8] == env.receiver_id
    [group] = interchange.groups
    assert group.functional_id == functional_id
    assert group.control_number == str(env.group_control_number)
    assert group.version == env.version
    assert group.ge[1] == "1" and interchange.iea[1] == "1"
    [tx] = interchange.transactions
    assert tx.set_id == set_id and tx.control_number == "0001"
    assert tx.segments[-1].tag == "SE" and tx.segments[-1][1] == str(len(tx.segments))
    assert rendered.control_numbers == {
        "isa": env.interchange_control_number,
        "gs": env.group_control_number,
        "st": ["0001"],
        "sets": [set_id],
    }
    assert rendered.expects_ack is env.ack_requested
    return interchange, tx


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_850_round_trip(version):
    env = envelope(version=version)
    rendered = render(order(), "x12", envelope=env)
    assert rendered.content_type == "application/edi-x12"
    assert rendered.document_type == "X12 850 Purchase Order"
    assert rendered.warnings == []
    _interchange, tx = _check_envelope(rendered, env, "850", "PO")
    tags = [seg.tag for seg in tx.segments]
    for tag in ("BEG", "CUR", "REF", "PER", "DTM", "N1", "PO1", "PID", "CTT", "AMT"):
        assert tag in tags
    po1 = next(seg for seg in tx.segments if seg.tag == "PO1")
    assert po1.elements[6:] == ["UK", "00614141000036", "VN", "AC-GLV-M", "BP", "SM-778"]
    n1 = {seg[1]: seg for seg in tx.segments if seg.tag == "N1"}
    assert (n1["BY"][3], n1["VN"][3], n1["ST"][3], n1["BT"][3]) == ("UL", "1", "UL", "92")
    [parsed] = registry.parse("purchase_order", rendered.content_type, rendered.body)
    assert parsed.document == order()
    assert [i.code for i in parsed.issues] == []


def test_850_repetition_separator_and_test_indicator():
    old = render(order(), "x12", envelope=envelope(usage_indicator="T", ack_requested=False))
    new = render(order(), "x12", envelope=envelope(version="005010"))
    assert old.body[82:83] == b"U" and new.body[82:83] == b"^"
    assert read_interchange(old.body).isa[15] == "T"
    assert old.expects_ack is False and read_interchange(old.body).isa[14] == "0"


@pytest.mark.parametrize("version", ["004010", "005010"])
@pytest.mark.parametrize("purpose", ["change", "cancel"])
def test_860_round_trip(version, purpose):
    env = envelope(version=version)
    document = change_order(purpose)
    rendered = render(document, "x12", envelope=env)
    _interchange, tx = _check_envelope(rendered, env, "860", "PC")
    bch = next(seg for seg in tx.segments if seg.tag == "BCH")
    assert bch[1] == ("04" if purpose == "change" else "01")
    pocs = [seg[2] for seg in tx.segments if seg.tag == "POC"]
    assert pocs == (["CA", "DI", "AI"] if purpose == "change" else ["DI", "DI"])
    [parsed] = registry.parse("purchase_order", rendered.content_type, rendered.body)
    assert parsed.document == document


def test_860_is_a_supported_purchase_order_set():
    assert SUPPORTED_SETS["860"] == "purchase_order"
    assert "860" in registry.x12_sets_for("purchase_order")
    body = render(change_order(), "x12", envelope=envelope()).body
    ack = functional_ack(body, True, supported=registry.x12_sets_for("purchase_order"))
    assert b"AK5*A" in ack and b"AK9*A*1*1*1" in ack
    refused = functional_ack(body, True, supported=registry.x12_sets_for("invoice"))
    assert b"AK5*R*1" in refused
    assert registry.screen("invoice", "x12", body)[0]["code"] == "x12_set_not_supported"


def test_cancel_defaults_lines_to_delete_and_refuses_other_codes():
    document = order("cancel")
    rendered = render(document, "x12", envelope=envelope())
    [parsed] = registry.parse("purchase_order", rendered.content_type, rendered.body)
    assert parsed.document.purpose == "cancel"
    assert {ln.change_code for ln in parsed.document.lines} == {"delete"}
    document.lines[0].change_code = "add"
    with pytest.raises(UnsupportedOutbound, match="deletes every line"):
        render(document, "x12", envelope=envelope())


def test_824_invoice_response():
    env = envelope(version="005010")
    rendered = render(invoice_response(), "x12", envelope=env)
    _interchange, tx = _check_envelope(rendered, env, "824", "AG")
    segments = {seg.tag: seg for seg in tx.segments}
    assert segments["BGN"].elements[1:] == ["00", "IR-2026-7", "20261206"]
    oti = segments["OTI"]
    assert (oti[1], oti[2], oti[3], oti[6], oti[10]) == ("TR", "IV", "INV-991", "20261202", "810")
    teds = [seg for seg in tx.segments if seg.tag == "TED"]
    assert [(t[1], t[2]) for t in teds] == [
        ("848", "PRI line 1: Unit price above contract"),
        ("024", "NIN Send a new invoice"),
    ]
    assert segments["AMT"].elements[1:] == ["TT", "1300"]
    assert segments["REF"].elements[1:] == ["PO", "PO-2026-0042"]


@pytest.mark.parametrize(("status", "code"), [("AP", "TA"), ("UQ", "TE"), ("RE", "TR")])
def test_824_status_codes(status, code):
    rendered = render(invoice_response(status), "x12", envelope=envelope())
    [tx] = read_interchange(rendered.body).transactions
    assert next(seg for seg in tx.segments if seg.tag == "OTI")[1] == code


@pytest.mark.parametrize("version", ["004010", "005010"])
@pytest.mark.parametrize("status", ["paid", "scheduled"])
def test_820_round_trip(version, status):
    env = envelope(version=version)
    document = payment(status)
    rendered = render(document, "x12", envelope=env)
    _interchange, tx = _check_envelope(rendered, env, "820", "RA")
    bpr = tx.segments[1]
    assert (
        bpr.tag == "BPR" and bpr[1] == ("C" if status == "paid" else "P") and bpr[16] == "20261220"
    )
    [parsed] = registry.parse("payment", rendered.content_type, rendered.body)
    assert parsed.document == document
    assert parsed.issues == []


def test_820_refuses_what_is_not_remitted():
    held = payment("hold")
    held.reason = "disputed"
    with pytest.raises(UnsupportedOutbound, match="not remitted"):
        render(held, "x12", envelope=envelope())
    odd = payment()
    odd.method = "barter"
    with pytest.raises(UnsupportedOutbound, match="BPR04"):
        render(odd, "x12", envelope=envelope())


# -- refusals and warnings --------------------------------------------------------------


def test_envelope_is_required_and_checked():
    with pytest.raises(UnsupportedOutbound, match="needs an Envelope"):
        render(order(), "x12")
    with pytest.raises(UnsupportedOutbound, match="ISA06 sender id"):
        render(order(), "x12", envelope=envelope(version="005010", sender_id="HOSPITALNETWORK01"))
    with pytest.raises(UnsupportedOutbound, match="version"):
        render(order(), "x12", envelope=envelope(version="003050"))
    with pytest.raises(UnsupportedOutbound, match="usage indicator"):
        render(order(), "x12", envelope=envelope(usage_indicator="X"))
    with pytest.raises(UnsupportedOutbound, match="interchange control number"):
        render(order(), "x12", envelope=envelope(interchange_control_number=1_000_000_000))
    with pytest.raises(UnsupportedOutbound, match="qualifier"):
        render(order(), "x12", envelope=envelope(sender_qualifier="Z"))
    with pytest.raises(UnsupportedOutbound, match="separator"):
        render(order(), "x12", envelope=envelope(receiver_id="AB*CD"))


def test_order_without_lines_refused():
    empty = order()
    empty.lines = []
    with pytest.raises(UnsupportedOutbound, match="no lines"):
        render(empty, "x12", envelope=envelope())


def test_identifiers_are_refused_not_altered():
    long_number = order(number="PO-" + "9" * 30)
    with pytest.raises(UnsupportedOutbound, match="PO number"):
        render(long_number, "x12", envelope=envelope())
    starred = order()
    starred.lines[0].item.vendor_part_number = "AC*GLV"
    with pytest.raises(UnsupportedOutbound, match="vendor_part_number"):
        render(starred, "x12", envelope=envelope())


def test_free_text_is_cleaned_and_reported():
    document = order()
    document.lines[0].item.description = "Gloves 5*100 ~ boîte " + "x" * 80
    document.vendor.identifiers.append(Identifier(scheme="VAT", value="US12"))
    rendered = render(document, "x12", envelope=envelope())
    read_interchange(rendered.body)
    [parsed] = registry.parse("purchase_order", rendered.content_type, rendered.body)
    description = parsed.document.lines[0].item.description
    assert description.startswith("Gloves 5 100 boite x") and len(description) == 80
    assert any("X12 character set" in w for w in rendered.warnings)
    assert any("cut to 80" in w for w in rendered.warnings)
    assert any("one id" in w and "VAT US12" in w for w in rendered.warnings)


def test_amounts_are_exact_decimals():
    document = order()
    document.lines[0].unit_price = Decimal("12.7500")
    document.lines[0].quantity = Decimal("1E+2")
    document.total_amount = None
    rendered = render(document, "x12", envelope=envelope())
    assert b"PO1*1*100*BX*12.75**" in rendered.body
    with pytest.raises(UnsupportedOutbound, match="Decimal"):
        bad = copy.deepcopy(document)
        bad.lines[0].unit_price = 12.75
        render(bad, "x12", envelope=envelope())


def test_860_without_poc_lines_is_refused_inbound():
    rendered = render(change_order(), "x12", envelope=envelope())
    text = rendered.body.decode()
    segments = text.split("~")
    kept = [s for s in segments if not s.startswith(("POC", "PID", "DTM*002*20261209", "REF*CT"))]
    kept = [s for s in kept if s and not s.startswith(("CTT", "SE*"))]
    st_index = next(i for i, s in enumerate(kept) if s.startswith("ST*"))
    ge_index = next(i for i, s in enumerate(kept) if s.startswith("GE*"))
    kept.insert(ge_index, f"SE*{ge_index - st_index + 1}*0001")
    with pytest.raises(Exception, match="no POC line"):
        registry.parse("purchase_order", "application/edi-x12", ("~".join(kept) + "~").encode())


@pytest.mark.parametrize(
    ("uom", "x12"),
    [("EA", "EA"), ("BX", "BX"), ("CS", "CA"), ("DZN", "DZ"), ("KGM", "KG"), ("MLT", "ML"),
     ("PR", "PR"), ("SET", "SE"), ("CEN", "HD")],
)  # fmt: skip
def test_850_units_are_x12_codes_read_back_as_the_same_unit(uom, x12):
    """Element 355 is two characters: a canonical DZN, KGM... goes out as X12's code,
    which the module's own reader maps back to the unit it was."""
    po = order()
    po.lines[0].uom = uom
    rendered = render(po, "x12", envelope=envelope())
    _interchange, tx = _check_envelope(rendered, envelope(), "850", "PO")
    po1 = next(seg for seg in tx.segments if seg.tag == "PO1")
    assert po1[3] == x12
    [parsed] = registry.parse("purchase_order", rendered.content_type, rendered.body)
    # the reader keeps the sender's code; the unit it names is the same
    assert canonical_uom(parsed.document.lines[0].uom) == uom


def test_a_unit_x12_cannot_name_is_refused():
    po = order()
    po.lines[0].uom = "GRO"
    with pytest.raises(UnsupportedOutbound, match="unit GRO has no X12 code"):
        render(po, "x12", envelope=envelope())
