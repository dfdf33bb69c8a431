# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""X12 transaction sets -> canonical documents: 850, 860, 855, 856, 810 and 820 (832 and
845 price catalogs: :mod:`.catalog`).

Each mapper reads one :class:`~.envelope.Transaction` (already checked by the envelope
reader) and returns the canonical document, appending a
:class:`~..errors.DataQualityIssue` for every tolerated oddity (wrong GS1 check digit,
counts that disagree with the lines, defaults taken from the envelope).  A missing or
malformed mandatory segment or element is a :class:`~..errors.ParseError`.
"""

import re
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from decimal import InvalidOperation

from ...canonical import SCHEME_BUYER_ASSIGNED
from ...canonical import SCHEME_DUNS
from ...canonical import SCHEME_GLN
from ...canonical import SCHEME_SAN
from ...canonical import SCHEME_SELLER_ASSIGNED
from ...canonical import Address
from ...canonical import AllowanceCharge
from ...canonical import Identifier
from ...canonical import Invoice
from ...canonical import InvoiceLine
from ...canonical import ItemRef
from ...canonical import Party
from ...canonical import Payment
from ...canonical import PaymentInvoiceRef
from ...canonical import PoAck
from ...canonical import PoAckLine
from ...canonical import PurchaseOrder
from ...canonical import PurchaseOrderLine
from ...canonical import ShipNotice
from ...canonical import ShipNoticeLine
from ...canonical import TaxLine
from ...normalize.identifiers import gs1_check_digit_ok
from ..errors import DataQualityIssue
from ..errors import ParseError
from .envelope import SUPPORTED_SETS
from .envelope import int_or_none
from .envelope import read_interchange
from .functional_ack_reader import map_functional_ack

# ---------------------------------------------------------------------------------------
# Value helpers
# ---------------------------------------------------------------------------------------


def _decimal(seg, index, *, implied_decimals=0, required=False):
    """Element as Decimal; X12 ``N2`` elements carry an implied decimal point."""
    text = seg[index]
    if not text:
        if required:
            raise ParseError("x12_segment", f"{seg.tag}{index:02d} is required", seg.where())
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ParseError(
            "x12_segment", f"{seg.tag}{index:02d} {text!r} is not a number", seg.where()
        ) from None
    if not value.is_finite():
        raise ParseError("x12_segment", f"{seg.tag}{index:02d} is not finite", seg.where())
    if implied_decimals:
        value = value.scaleb(-implied_decimals)
    return value


def _date(seg, index, *, required=False):
    """CCYYMMDD (or legacy YYMMDD) element as a date."""
    text = seg[index]
    if not text:
        if required:
            raise ParseError("x12_segment", f"{seg.tag}{index:02d} is required", seg.where())
        return None
    formats = {8: "%Y%m%d", 6: "%y%m%d"}  # 6 digits: the standard's Y2K window
    parsed = None
    if len(text) in formats:
        try:
            parsed = datetime.strptime(text, formats[len(text)]).date()
        except ValueError:
            parsed = None  # reported below with the element's position
    if parsed:
        return parsed
    raise ParseError(
        "x12_segment", f"{seg.tag}{index:02d} {text!r} is not a CCYYMMDD date", seg.where()
    )


def _required(seg, index):
    value = seg[index]
    if not value:
        raise ParseError("x12_segment", f"{seg.tag}{index:02d} is required", seg.where())
    return value


def _first(segments, tag):
    for seg in segments:
        if seg.tag == tag:
            return seg
    return None


def _need(segments, tag, tx):
    seg = _first(segments, tag)
    if seg is None:
        raise ParseError(
            "x12_segment",
            f"{tag} segment missing in {tx.set_id} {tx.control_number}",
            f"ST {tx.control_number}",
        )
    return seg


# X12 N1/N103 identification code qualifiers -> canonical schemes.
_N1_SCHEMES = {
    "1": SCHEME_DUNS,
    "9": SCHEME_DUNS,  # D-U-N-S + 4-character suffix
    "UL": SCHEME_GLN,
    "15": SCHEME_SAN,
    "91": SCHEME_SELLER_ASSIGNED,
    "92": SCHEME_BUYER_ASSIGNED,
}
# ISA05/ISA07 interchange id qualifiers -> canonical schemes.
_ISA_SCHEMES = {"01": SCHEME_DUNS, "14": SCHEME_DUNS, "16": SCHEME_DUNS}

# Product/service id qualifiers (PO1, IT1, LIN) -> ItemRef attribute.
_ITEM_QUALIFIERS = {
    "VP": "vendor_part_number",
    "VN": "vendor_part_number",
    "VC": "vendor_part_number",  # vendor's catalog number
    "BP": "buyer_part_number",
    "IN": "buyer_part_number",  # buyer's item number
    "CB": "buyer_part_number",  # buyer's catalog number
    "MG": "manufacturer_part_number",
    "MF": "manufacturer_part_number",
    "UP": "gtin",  # UPC = GTIN-12
    "UK": "gtin",  # GTIN-14
    "EN": "gtin",  # EAN = GTIN-13
    "UA": "gtin",
    "EO": "gtin",
    "N4": "ndc",
    "ND": "ndc",
    "HI": "hibc",
}


def _party(n1_loop, issues):
    """Party from an N1 loop (N1, N2, N3, N4)."""
    n1 = n1_loop[0]
    identifiers = []
    if n1[3] and n1[4]:
        scheme = _N1_SCHEMES.get(n1[3], f"X12_N1_{n1[3]}")
        identifiers.append(Identifier(scheme=scheme, value=n1[4]))
        if scheme == SCHEME_GLN and not gs1_check_digit_ok(n1[4]):
            issues.append(
                DataQualityIssue(
                    "gln_check_digit", f"GLN {n1[4]} has a wrong check digit", n1.where()
                )
            )
    address = None
    street = []
    name = n1[2] or None
    for seg in n1_loop[1:]:
        if seg.tag == "N2" and not name:
            name = seg[1] or None
        elif seg.tag == "N3":
            street += [seg[1], seg[2]]
        elif seg.tag == "N4":
            street = [s for s in street if s]
            address = Address(
                street=street[0] if street else None,
                street2=" ".join(street[1:]) or None,
                city=seg[1] or None,
                state=seg[2] or None,
                zip=seg[3] or None,
                country_code=seg[4] if re.fullmatch(r"[A-Z]{2}", seg[4]) else None,
            )
    if address is None and any(street):
        street = [s for s in street if s]
        address = Address(street=street[0], street2=" ".join(street[1:]) or None)
    return Party(identifiers=identifiers, name=name, address=address)


def _n1_loops(segments):
    """``{entity_code: [N1, N2, N3, N4...]}`` for the N1 loops in ``segments``."""
    loops = {}
    current = None
    for seg in segments:
        if seg.tag == "N1":
            current = [seg]
            loops.setdefault(seg[1], current)
        elif current is not None and seg.tag in ("N2", "N3", "N4", "REF", "PER"):
            current.append(seg)
        else:
            current = None
    return loops


def _envelope_party(tx, which):
    """Party from the ISA sender/receiver when the document names none (issue logged)."""
    interchange_isa = tx.interchange.isa
    qualifier, value = (
        (interchange_isa[5], interchange_isa[6])
        if which == "sender"
        else (interchange_isa[7], interchange_isa[8])
    )
    scheme = _ISA_SCHEMES.get(qualifier, f"X12_ISA_{qualifier or 'ZZ'}")
    return Party(identifiers=[Identifier(scheme=scheme, value=value)])


def _item_ref(seg, start, issues, description=None):
    """ItemRef from qualifier/value pairs starting at element ``start``."""
    values = {}
    index = start
    while index + 1 <= len(seg):
        qualifier, value = seg[index], seg[index + 1]
        attr = _ITEM_QUALIFIERS.get(qualifier)
        if attr and value and attr not in values:
            values[attr] = value
        index += 2
    gtin = values.get("gtin")
    if gtin:
        if not re.fullmatch(r"\d{8}|\d{12,14}", gtin):
            issues.append(DataQualityIssue("gtin_format", f"{gtin!r} is not a GTIN", seg.where()))
            values.pop("gtin")
        elif not gs1_check_digit_ok(gtin):
            issues.append(
                DataQualityIssue(
                    "gtin_check_digit", f"GTIN {gtin} has a wrong check digit", seg.where()
                )
            )
    return ItemRef(description=description, **values)


def _description(segments):
    for seg in segments:
        if seg.tag == "PID" and seg[5]:
            return seg[5]
    return None


def _loops(segments, start_tag, end_tags=()):
    """Split ``segments`` into (header, [loop, ...], trailer) on ``start_tag``."""
    header, loops, trailer = [], [], []
    current = None
    for seg in segments:
        if seg.tag == start_tag:
            current = [seg]
            loops.append(current)
        elif seg.tag in end_tags:
            current = None
            trailer.append(seg)
        elif trailer:
            trailer.append(seg)
        elif current is not None:
            current.append(seg)
        else:
            header.append(seg)
    return header, loops, trailer


def _check_ctt(trailer, count, issues, what):
    ctt = _first(trailer, "CTT")
    if ctt is not None and int_or_none(ctt[1]) != count:
        issues.append(
            DataQualityIssue(
                "x12_ctt_count", f"CTT01 states {ctt[1]} {what}, the set has {count}", ctt.where()
            )
        )
    return ctt


def _currency(segments, issues, tx):
    cur = _first(segments, "CUR")
    if cur is not None and re.fullmatch(r"[A-Z]{3}", cur[2]):
        return cur[2]
    issues.append(
        DataQualityIssue(
            "x12_currency_default",
            "no CUR segment: USD assumed (X12 default for US trading partners)",
            f"ST {tx.control_number}",
        )
    )
    return "USD"


def _dtm(segments, qualifiers):
    for seg in segments:
        if seg.tag == "DTM" and seg[1] in qualifiers and seg[2]:
            return _date(seg, 2)
    return None


def _ref(segments, qualifiers):
    """First REF02 for the qualifiers, in the order of preference given."""
    for qualifier in qualifiers:
        for seg in segments:
            if seg.tag == "REF" and seg[1] == qualifier and seg[2]:
                return seg[2]
    return None


def _vendor(loops, tx, issues, fallback):
    for code in ("SE", "SU", "VN", "II"):
        if code in loops:
            return _party(loops[code], issues)
    issues.append(
        DataQualityIssue(
            "x12_vendor_from_envelope",
            f"no seller N1 loop: vendor taken from the ISA {fallback} id",
            f"ST {tx.control_number}",
        )
    )
    return _envelope_party(tx, fallback)


# ---------------------------------------------------------------------------------------
# Mappers
# ---------------------------------------------------------------------------------------

_BEG_PURPOSES = {"00": "original", "01": "cancel", "04": "change", "05": "change"}


def _contact(party, loop):
    """``party`` with the phone and e-mail of a PER in its N1 loop (``TE``/``EM`` pairs)."""
    if party is None:
        return None
    for seg in loop[1:]:
        if seg.tag != "PER":
            continue
        for index in (3, 5, 7):
            if seg[index] == "TE" and seg[index + 1] and not party.phone:
                party.phone = seg[index + 1]
            elif seg[index] == "EM" and seg[index + 1] and not party.email:
                party.email = seg[index + 1]
    return party


def _order_parties(parties, tx, issues):
    return {
        "vendor": _vendor(parties, tx, issues, "receiver"),
        "buyer": _contact(_party(parties["BY"], issues), parties["BY"])
        if "BY" in parties
        else None,
        "ship_to": _party(parties["ST"], issues) if "ST" in parties else None,
        "bill_to": _party(parties["BT"], issues) if "BT" in parties else None,
    }


def _order_total(po, trailer, issues):
    amt = _first(trailer, "AMT")
    if amt is not None and amt[1] in ("1", "TT"):
        po.total_amount = _decimal(amt, 2)
        if po.total_amount != po.lines_total():
            issues.append(
                DataQualityIssue(
                    "x12_total_mismatch",
                    f"AMT02 {po.total_amount} differs from the lines' total {po.lines_total()}",
                    amt.where(),
                )
            )


def map_850(tx, issues):
    """850 Purchase Order -> :class:`PurchaseOrder`."""
    header, loops, trailer = _loops(tx.body, "PO1", ("CTT", "AMT"))
    beg = _need(header, "BEG", tx)
    parties = _n1_loops(header)
    lines = []
    for loop in loops:
        po1 = loop[0]
        lines.append(
            PurchaseOrderLine(
                line_number=po1[1] or str(len(lines) + 1),
                item=_item_ref(po1, 6, issues, _description(loop)),
                quantity=_decimal(po1, 2, required=True),
                uom=_required(po1, 3),
                unit_price=_decimal(po1, 4),
                requested_date=_dtm(loop, ("002", "010")),
                contract_reference=_ref(loop, ("CT",)),
            )
        )
    _check_ctt(trailer, len(lines), issues, "lines")
    itd = _first(header, "ITD")
    po = PurchaseOrder(
        number=_required(beg, 3),
        order_date=_date(beg, 5, required=True),
        purpose=_BEG_PURPOSES.get(beg[1], "original"),
        currency=_currency(header, issues, tx),
        # A sourcing system only transmits approved orders; a cancel is still approved.
        approval_status="approved",
        contract_reference=beg[6] or _ref(header, ("CT",)),
        payment_terms=(itd[12] or _terms_text(itd)) if itd is not None else None,
        requested_date=_dtm(header, ("002", "010")),
        lines=lines,
        **_order_parties(parties, tx, issues),
    )
    _order_total(po, trailer, issues)
    return po


# 860 BCH01 purposes and POC02 change type codes.
_BCH_PURPOSES = {"01": "cancel", "04": "change", "05": "change"}
_POC_CHANGES = {"AI": "add", "DI": "delete", "NC": "unchanged"}


def map_860(tx, issues):
    """860 Purchase Order Change -> :class:`PurchaseOrder` (purpose change or cancel).

    Each POC line keeps what the change does to it (``change_code``: ``AI`` add, ``DI``
    delete, ``NC`` unchanged, any other POC02 code a change).  BCH01 ``01`` cancels the
    order; ``04`` (and ``05``, replace) changes it.  POC03 is the line's quantity as
    ordered after the change.
    """
    header, loops, trailer = _loops(tx.body, "POC", ("CTT", "AMT"))
    bch = _need(header, "BCH", tx)
    purpose = _BCH_PURPOSES.get(bch[1])
    if purpose is None:
        raise ParseError(
            "x12_segment",
            f"BCH01 {bch[1]!r} is neither 01 (cancellation) nor 04/05 (change)",
            bch.where(),
        )
    parties = _n1_loops(header)
    lines = []
    for loop in loops:
        poc = loop[0]
        code = _POC_CHANGES.get(poc[2], "change")
        if not poc[2]:
            raise ParseError("x12_segment", "POC02 change type is required", poc.where())
        lines.append(
            PurchaseOrderLine(
                line_number=_required(poc, 1),
                item=_item_ref(poc, 8, issues, _description(loop)),
                quantity=_decimal(poc, 3, required=True),
                uom=_required(poc, 5).split(tx.interchange.separators.component)[0],
                unit_price=_decimal(poc, 6),
                requested_date=_dtm(loop, ("002", "010")),
                contract_reference=_ref(loop, ("CT",)),
                change_code=code,
            )
        )
    if not lines:
        raise ParseError(
            "x12_segment",
            f"860 {bch[3]} has no POC line: the order's lines must be listed",
            f"ST {tx.control_number}",
        )
    _check_ctt(trailer, len(lines), issues, "lines")
    msg = _first(header, "MSG")
    itd = _first(header, "ITD")
    po = PurchaseOrder(
        number=_required(bch, 3),
        order_date=_date(bch, 6, required=True),
        purpose=purpose,
        currency=_currency(header, issues, tx),
        approval_status="approved",
        contract_reference=bch[8] or _ref(header, ("CT",)),
        payment_terms=(itd[12] or _terms_text(itd)) if itd is not None else None,
        requested_date=_dtm(header, ("002", "010")),
        revision=bch[5] or None,
        change_date=_date(bch, 10) if bch[10] else None,
        note=(msg[1] or None) if msg is not None else None,
        lines=lines,
        **_order_parties(parties, tx, issues),
    )
    _order_total(po, trailer, issues)
    return po


_BAK_STATUSES = {
    "AC": "accepted_with_changes",
    "AD": "accepted",
    "AK": "accepted",
    "AT": "accepted",
    "AP": "accepted",
    "RD": "rejected",
    "RJ": "rejected",
    "RF": "rejected",
}
_ACK_LINE_STATUSES = {
    "IA": "accept",
    "AC": "accept",
    "AR": "accept",
    "IB": "backorder",
    "BP": "backorder",
    "IC": "change",
    "IP": "change",
    "IQ": "change",
    "DR": "change",
    "IS": "change",
    "IR": "reject",
    "ID": "reject",
    "R1": "reject",
    "R2": "reject",
}


def map_855(tx, issues):
    """855 Purchase Order Acknowledgment -> :class:`PoAck`."""
    header, loops, trailer = _loops(tx.body, "PO1", ("CTT",))
    bak = _need(header, "BAK", tx)
    parties = _n1_loops(header)
    lines = []
    for loop in loops:
        po1 = loop[0]
        ack = _first(loop, "ACK")
        sch = _first(loop, "SCH")
        status = _ACK_LINE_STATUSES.get(ack[1], "change") if ack else "accept"
        if ack is not None and ack[1] not in _ACK_LINE_STATUSES:
            issues.append(
                DataQualityIssue(
                    "x12_unknown_code", f"ACK01 {ack[1]!r} read as a change", ack.where()
                )
            )
        scheduled = (_date(ack, 5) if ack and ack[5] else None) or (
            _date(sch, 6) if sch and sch[6] else None
        )
        lines.append(
            PoAckLine(
                line_number=po1[1] or str(len(lines) + 1),
                status=status,
                item=_item_ref(po1, 6, issues, _description(loop)),
                ordered_quantity=_decimal(po1, 2),
                quantity=_decimal(ack, 2) if ack else _decimal(po1, 2),
                uom=(ack[3] if ack else "") or po1[3] or None,
                unit_price=_decimal(po1, 4),
                scheduled_date=scheduled,
                reason=ack[1] if ack and status != "accept" else None,
            )
        )
    _check_ctt(trailer, len(lines), issues, "lines")
    status = _BAK_STATUSES.get(bak[2], "accepted")
    if lines and all(ln.status == "reject" for ln in lines):
        status = "rejected"
    elif status == "accepted" and any(ln.status != "accept" for ln in lines):
        # BAK02 "AD" (no change) next to rejected or changed lines: the lines win, the
        # buyer must see that the order will not be delivered as sent.
        status = "accepted_with_changes"
    return PoAck(
        po_number=_required(bak, 3),
        ack_number=bak[8] or bak[6] or None,
        ack_date=_date(bak, 9) if bak[9] else _date(bak, 4, required=True),
        status=status,
        vendor=_vendor(parties, tx, issues, "sender"),
        buyer=_party(parties["BY"], issues) if "BY" in parties else None,
        # Optional on an acknowledgment: the PO's currency applies when CUR is absent.
        currency=_currency(header, issues, tx) if _first(header, "CUR") else None,
        lines=lines,
    )


def map_856(tx, issues):
    """856 Ship Notice/Manifest -> :class:`ShipNotice` (HL shipment/order/pack/item)."""
    bsn = _need(tx.body, "BSN", tx)
    # HL loops: id -> (level code, parent id, segments).
    hls = {}
    order = []
    current = None
    trailer = []
    for seg in tx.body:
        if seg.tag == "HL":
            current = {"level": seg[3], "parent": seg[2], "segments": [seg]}
            hls[seg[1]] = current
            order.append(seg[1])
        elif seg.tag == "CTT":
            current = None
            trailer.append(seg)
        elif current is not None:
            current["segments"].append(seg)
    shipment = next((hls[i] for i in order if hls[i]["level"] == "S"), None)
    if shipment is None:
        raise ParseError("x12_segment", "856 without a shipment (S) HL level", bsn.where())
    ship_segments = shipment["segments"]
    parties = _n1_loops(ship_segments)

    def ancestor(hl_id, level):
        seen = set()
        while hl_id in hls and hl_id not in seen:
            seen.add(hl_id)
            if hls[hl_id]["level"] == level:
                return hls[hl_id]
            hl_id = hls[hl_id]["parent"]
        return None

    def po_of(node):
        prf = _first(node["segments"], "PRF") if node else None
        return prf[1] if prf is not None and prf[1] else None

    lines = []
    for hl_id in order:
        node = hls[hl_id]
        if node["level"] != "I":
            continue
        segs = node["segments"]
        lin = _first(segs, "LIN")
        sn1 = _first(segs, "SN1")
        if sn1 is None:
            raise ParseError("x12_segment", f"item HL {hl_id} without SN1", segs[0].where())
        item = (
            _item_ref(lin, 2, issues, _description(segs))
            if lin
            else ItemRef(description=_description(segs))
        )
        lot = _ref(segs, ("LT",)) or (_lin_value(lin, "LT") if lin else None)
        serials = [s[2] for s in segs if s.tag == "REF" and s[1] == "SE" and s[2]]
        if lin and _lin_value(lin, "SN") and _lin_value(lin, "SN") not in serials:
            serials.append(_lin_value(lin, "SN"))
        order_node = ancestor(node["parent"], "O")
        lines.append(
            ShipNoticeLine(
                line_number=hl_id,
                po_number=po_of(order_node),
                po_line_ref=(lin[1] if lin and lin[1] else None) or sn1[1] or None,
                item=item,
                quantity=_decimal(sn1, 2, required=True),
                uom=_required(sn1, 3),
                ordered_quantity=_decimal(sn1, 5),
                lot=lot,
                expiry_date=_dtm(segs, ("036",)),
                serials=serials,
            )
        )
    po_numbers = [ln.po_number for ln in lines if ln.po_number]
    if not po_numbers:
        # PRF may sit at the shipment level in simple one-order ASNs.
        po_numbers = [po_of(shipment)] if po_of(shipment) else []
    if not po_numbers:
        raise ParseError("x12_segment", "856 without a PRF purchase order number", bsn.where())
    header_po = po_numbers[0]
    for line in lines:
        if line.po_number == header_po:
            line.po_number = None  # only lines of *other* orders carry their own
    ctt = _first(trailer, "CTT")
    if ctt is not None:
        if int_or_none(ctt[1]) != len(hls):
            issues.append(
                DataQualityIssue(
                    "x12_ctt_count",
                    f"CTT01 states {ctt[1]} HL segments, the set has {len(hls)}",
                    ctt.where(),
                )
            )
        total = sum((ln.quantity for ln in lines), Decimal(0))
        if ctt[2] and _decimal(ctt, 2) != total:
            issues.append(
                DataQualityIssue(
                    "x12_hash_total",
                    f"CTT02 hash total {ctt[2]} differs from shipped quantity {total}",
                    ctt.where(),
                )
            )
    td5 = _first(ship_segments, "TD5")
    vendor = None
    for code in ("SE", "SU", "VN"):
        if code in parties:
            vendor = _party(parties[code], issues)
            break
    return ShipNotice(
        asn_number=_required(bsn, 2),
        po_number=header_po,
        ship_date=_dtm(ship_segments, ("011",)) or _date(bsn, 3, required=True),
        expected_delivery_date=_dtm(ship_segments, ("017", "067")),
        vendor=vendor,
        ship_from=(
            _party(parties["SF"], issues)
            if "SF" in parties
            else (_party(parties["SH"], issues) if "SH" in parties else None)
        ),
        ship_to=_party(parties["ST"], issues) if "ST" in parties else None,
        carrier=(td5[3] or td5[5] or None) if td5 else None,
        tracking_number=_ref(ship_segments, ("2I", "CN", "BM")),
        lines=lines,
    )


def _lin_value(lin, qualifier):
    index = 2
    while index + 1 <= len(lin):
        if lin[index] == qualifier and lin[index + 1]:
            return lin[index + 1]
        index += 2
    return None


_TAX_SAC_CODES = ("H850",)  # SAC02 "Tax": a tax, not a charge


def _sac(seg):
    """AllowanceCharge from a SAC segment (SAC05 is N2: implied 2 decimals)."""
    if seg[1] not in ("A", "C"):
        return None  # "N": no allowance or charge, informational only
    amount = _decimal(seg, 5, implied_decimals=2)
    if amount is None:
        return None
    return AllowanceCharge(
        is_charge=seg[1] == "C",
        amount=abs(amount),
        reason_code=seg[2] or None,
        reason=seg[15] or None,
    )


def _txi(seg):
    """TaxLine from a TXI segment: TXI01 type, TXI02 amount, TXI03 percent, TXI06 exempt."""
    amount = _decimal(seg, 2)
    rate = _decimal(seg, 3)
    if amount is None and rate is None:
        return None
    exempt = seg[6] in ("1", "4")  # 1 = exempt (for resale...), 4 = not taxable
    return TaxLine(
        tax_type=(seg[1] or "sales")[:32],
        category="E" if exempt else None,
        rate=abs(rate) if rate is not None else None,
        amount=amount,
        exemption_reason=f"TXI06 tax exempt code {seg[6]}" if exempt else None,
    )


def _taxes_and_charges(segments):
    """(taxes, allowances/charges) of a line loop or of the summary."""
    taxes, charges = [], []
    for seg in segments:
        if seg.tag == "SAC" and seg[2] in _TAX_SAC_CODES:
            amount = _decimal(seg, 5, implied_decimals=2)
            if amount is not None and seg[1] in ("C", "A", ""):
                taxes.append(TaxLine(tax_type="sales", amount=amount))
        elif seg.tag == "SAC":
            ac = _sac(seg)
            if ac:
                charges.append(ac)
        elif seg.tag == "TXI":
            tax = _txi(seg)
            if tax:
                taxes.append(tax)
    return taxes, charges


def _it1_references(it1):
    """PO number and PO line from IT1 qualifier pairs (``PO``, ``PL``) when stated."""
    po_number = po_line = None
    index = 6
    while index + 1 <= len(it1):
        qualifier, value = it1[index], it1[index + 1]
        if qualifier == "PO" and value and not po_number:
            po_number = value
        elif qualifier == "PL" and value and not po_line:
            po_line = value
        index += 2
    return po_number, po_line


def _summary_taxes(header_taxes, lines, issues, where):
    """Document tax subtotals and the header taxes that add to the lines' taxes.

    A header TXI (or SAC H850) whose amount equals the sum of the line taxes of the same
    type repeats them (a summary): it is a subtotal, not a further tax.  Returns
    the subtotals, which sum to the document's tax total.
    """
    by_type = {}
    for line in lines:
        for tax in line.taxes:
            if tax.amount is not None:
                by_type.setdefault(tax.tax_type.upper(), []).append(tax)
    subtotals, covered = [], set()
    for tax in header_taxes:
        kind = tax.tax_type.upper()
        line_sum = sum((t.amount for t in by_type.get(kind, [])), Decimal(0))
        if (
            tax.amount is not None
            and kind in by_type
            and kind not in covered
            and (line_sum == tax.amount)
        ):
            issues.append(
                DataQualityIssue(
                    "x12_summary_tax",
                    f"header tax {tax.tax_type} {tax.amount} equals the line taxes: read as "
                    "their summary, not added again",
                    where,
                )
            )
            covered.add(kind)
            subtotals.append(tax)
            continue
        subtotals.append(tax)
    for kind, taxes in by_type.items():
        if kind in covered:
            continue
        rates = {t.rate for t in taxes}
        subtotals.append(
            TaxLine(
                tax_type=taxes[0].tax_type,
                category=taxes[0].category if len({t.category for t in taxes}) == 1 else None,
                rate=rates.pop() if len(rates) == 1 else None,
                amount=sum((t.amount for t in taxes), Decimal(0)),
            )
        )
    return subtotals


def map_810(tx, issues):
    """810 Invoice -> :class:`Invoice` (credit memo when BIG07 is ``CR``).

    As real suppliers send it: summary (header-level) invoices whose IT1 lines carry only
    a PO reference; PO references in IT1 qualifiers (``PO``/``PL``) or a line ``REF*PO``;
    TXI taxes per line and at the summary (a summary TXI/SAC that repeats the lines' is
    not counted twice); SAC allowances and charges at both levels; ``TDS01`` the invoice
    total and ``AMT*BAP`` the amount due.
    """
    header, loops, trailer = _loops(tx.body, "IT1", ("TDS",))
    big = _need(header, "BIG", tx)
    parties = _n1_loops(header)
    header_po = big[4] or _ref(header, ("PO",))
    lines = []
    for loop in loops:
        it1 = loop[0]
        taxes, charges = _taxes_and_charges(loop)
        it1_po, it1_line = _it1_references(it1)
        ref_po = next((s for s in loop if s.tag == "REF" and s[1] == "PO" and s[2]), None)
        po_number = it1_po or (ref_po[2] if ref_po is not None else None)
        po_line = it1_line or (ref_po[3] if ref_po is not None and ref_po[3] else None)
        item = _item_ref(it1, 6, issues, _description(loop))
        number = it1[1] or str(len(lines) + 1)
        if item.key() is None and not item.description:
            # Summary invoices: one IT1 per PO (or per PO line) with no item id at all.
            reference = po_number or header_po
            item.description = (
                f"PO {reference}" + (f" line {po_line}" if po_line else "")
                if reference
                else f"invoice line {number}"
            )
            issues.append(
                DataQualityIssue(
                    "x12_line_without_item",
                    f"IT1 {number} names no item: invoiced as {item.description!r}",
                    it1.where(),
                )
            )
        line = InvoiceLine(
            line_number=number,
            po_number=po_number,
            po_line_ref=po_line or _ref(loop, ("FJ",)) or it1[1] or None,
            item=item,
            quantity=_decimal(it1, 2, required=True),
            uom=_required(it1, 3),
            unit_price=_decimal(it1, 4, required=True),
            allowance_charges=charges,
            taxes=taxes,
        )
        line.line_total = line.computed_total()
        lines.append(line)
    tds = _first(trailer, "TDS")
    if tds is None:
        raise ParseError("x12_segment", "TDS total segment missing", f"ST {tx.control_number}")
    header_taxes, header_charges = _taxes_and_charges(trailer)
    header_charges = _drop_summary_charges(header_charges, lines, issues, tds)
    subtotals = _summary_taxes(header_taxes, lines, issues, tds.where())
    _check_ctt(trailer, len(lines), issues, "lines")
    net_total = sum((ln.line_total for ln in lines), Decimal(0))
    charge_total = sum((a.amount for a in header_charges if a.is_charge), Decimal(0))
    allowance_total = sum((a.amount for a in header_charges if not a.is_charge), Decimal(0))
    tax_total = sum((t.amount for t in subtotals if t.amount is not None), Decimal(0))
    gross = _decimal(tds, 1, implied_decimals=2, required=True)
    computed = net_total + charge_total - allowance_total + tax_total
    if computed != gross:
        issues.append(
            DataQualityIssue(
                "x12_total_mismatch",
                f"TDS01 {gross} differs from lines + charges + taxes {computed}",
                tds.where(),
            )
        )
    amount_due = next(
        (_decimal(seg, 2) for seg in trailer if seg.tag == "AMT" and seg[1] == "BAP" and seg[2]),
        None,
    )
    is_credit = big[7] == "CR"
    itd = _first(header, "ITD")
    due = None
    terms = None
    if itd is not None:
        due = _date(itd, 6) if itd[6] else None
        if due is None and int_or_none(itd[7]) is not None:
            due = _date(big, 1, required=True) + timedelta(days=int_or_none(itd[7]))
        terms = itd[12] or _terms_text(itd)
    return Invoice(
        number=_required(big, 2),
        move_type="credit_note" if is_credit else "invoice",
        issue_date=_date(big, 1, required=True),
        due_date=due,
        currency=_currency(header, issues, tx),
        vendor=_vendor(parties, tx, issues, "sender"),
        buyer=(
            _party(parties["BY"], issues)
            if "BY" in parties
            else (
                _party(parties["SO"], issues)
                if "SO" in parties
                else (_party(parties["BT"], issues) if "BT" in parties else None)
            )
        ),
        ship_to=_party(parties["ST"], issues) if "ST" in parties else _line_ship_to(loops, issues),
        remit_to=_party(parties["RI"], issues) if "RI" in parties else None,
        po_numbers=[header_po] if header_po else [],
        original_invoice_number=_ref(header, ("OI",)) if is_credit else None,
        payment_terms=terms,
        lines=lines,
        allowance_charges=header_charges,
        taxes=subtotals,
        net_total=net_total,
        allowance_total=allowance_total or None,
        charge_total=charge_total or None,
        tax_exclusive_total=None,
        tax_total=tax_total,
        gross_total=gross,
        payable_amount=amount_due if amount_due is not None else gross,
    )


def _line_ship_to(loops, issues):
    for loop in loops:
        parties = _n1_loops(loop)
        if "ST" in parties:
            return _party(parties["ST"], issues)
    return None


def _terms_text(itd):
    parts = []
    if itd[3] and itd[5]:
        parts.append(f"{itd[3]}% {itd[5]} days")
    if itd[7]:
        parts.append(f"net {itd[7]} days")
    return ", ".join(parts) or None


def _drop_summary_charges(header_charges, lines, issues, tds):
    """Drop header SACs that only summarise the line SACs of the same code.

    Ariba-style 810s repeat the total of line-level shipping charges at the header; adding
    both would double-count.  A header charge is a summary when its amount equals the sum
    of the line charges with the same SAC02 code.
    """
    kept = []
    for ac in header_charges:
        line_sum = sum(
            (
                c.amount
                for ln in lines
                for c in ln.allowance_charges
                if c.reason_code == ac.reason_code and c.is_charge == ac.is_charge
            ),
            Decimal(0),
        )
        if line_sum and line_sum == ac.amount:
            issues.append(
                DataQualityIssue(
                    "x12_summary_charge",
                    f"header SAC {ac.reason_code} {ac.amount} equals the line charges: "
                    "read as a summary, not added again",
                    tds.where(),
                )
            )
            continue
        kept.append(ac)
    return kept


_BPR_METHODS = {"CHK": "check", "ACH": "ach", "FWT": "wire", "BOP": "bank_option", "NON": "none"}


def map_820(tx, issues):
    """820 Payment Order/Remittance Advice -> :class:`Payment`."""
    header, loops, _trailer = _loops(tx.body, "RMR")
    bpr = _need(header, "BPR", tx)
    trn = _first(header, "TRN")
    parties = _n1_loops(header)
    refs = []
    for loop in loops:
        rmr = loop[0]
        if rmr[1] not in ("IV", "IK", "RV", ""):
            continue  # only invoice-level remittance lines
        refs.append(
            PaymentInvoiceRef(
                invoice_number=_required(rmr, 2),
                amount_paid=_decimal(rmr, 4),
                amount_invoiced=_decimal(rmr, 5),
                discount_amount=_decimal(rmr, 6),
                po_number=_ref(loop, ("PO",)),
                invoice_date=_dtm(loop, ("003",)),
            )
        )
    amount = _decimal(bpr, 2, required=True)
    payment = Payment(
        payment_id=(trn[2] if trn is not None and trn[2] else None) or tx.control_number,
        status="scheduled" if bpr[1] == "P" else "paid",
        vendor=_party(parties["PE"], issues) if "PE" in parties else None,
        payer=_party(parties["PR"], issues) if "PR" in parties else None,
        amount=amount,
        currency=_currency(header, issues, tx),
        payment_date=(
            _date(bpr, 16) if bpr[16] else (_dtm(header, ("234", "097")) or _date(tx.group.gs, 4))
        ),
        method=_BPR_METHODS.get(bpr[4], bpr[4] or None),
        invoices=refs,
    )
    if refs and payment.remitted_total() != amount:
        issues.append(
            DataQualityIssue(
                "x12_total_mismatch",
                f"BPR02 {amount} differs from the remitted total {payment.remitted_total()}",
                bpr.where(),
            )
        )
    return payment


MAPPERS = {
    "850": map_850,
    "860": map_860,
    "855": map_855,
    "856": map_856,
    "810": map_810,
    "820": map_820,
    "997": map_functional_ack,
    "999": map_functional_ack,
}


def map_transaction(tx):
    """Map one transaction set to ``(canonical document, [DataQualityIssue])``; an 832/845
    catalog maps to ``([ContractPrice], issues)``, one per price.

    :raises ParseError: ``x12_unsupported`` for other sets, ``x12_segment`` for missing or
        malformed mandatory segments/elements.
    """
    mapper = MAPPERS.get(tx.set_id)
    if mapper is None and tx.set_id in ("832", "845"):
        from .catalog import map_catalog  # it builds on this module's readers

        mapper = map_catalog
    if mapper is None:
        raise ParseError(
            "x12_unsupported",
            f"transaction set {tx.set_id} is not supported",
            f"ST {tx.control_number}",
        )
    issues = []
    return mapper(tx, issues), issues


def parse_x12(payload, doc_type=None):
    """Parse an interchange into ``[(document, issues)]``, one per transaction set.

    :param doc_type: when given, every set must map to it (an endpoint for invoices must
        not silently accept a PO).
    :raises ParseError: envelope or mapping errors (see :func:`read_interchange`).
    """
    interchange = read_interchange(payload)
    results = []
    for tx in interchange.transactions:
        if doc_type and SUPPORTED_SETS.get(tx.set_id) != doc_type:
            raise ParseError(
                "x12_unexpected_set",
                f"transaction set {tx.set_id} is not a {doc_type}",
                f"ST {tx.control_number}",
            )
        document, issues = map_transaction(tx)
        for each in document if isinstance(document, list) else [document]:
            results.append((each, list(interchange.issues) + issues))
    return results
