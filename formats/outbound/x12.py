# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""ASC X12 004010 / 005010 outbound: 850, 860, 824 and 820 in an ISA/GS/ST envelope.

=================  =====  ===  ====================================================
kind               set    GS   body
=================  =====  ===  ====================================================
order              850    PO   BEG, CUR, REF, PER, ITD, DTM, N1 loops, PO1/PID/DTM,
                                CTT, AMT
order_change       860    PC   BCH 04, CUR, REF, PER, DTM, N1 loops, POC/PID/DTM, CTT
order_cancel       860    PC   BCH 01, the same, every POC line ``DI``
invoice_response   824    AG   BGN, N1 loops, OTI with DTM/AMT and a TED per reason
remittance         820    RA   BPR, TRN, CUR, N1 loops, ENT, RMR/REF/DTM per invoice
=================  =====  ===  ====================================================

The envelope is written with ``*`` elements, ``>`` components, ``~`` segments and (from
00501) ``^`` repetitions; the ISA has its fixed widths (106 characters).  Values are
checked before anything is written: an identifier (PO number, part number, envelope id)
too long for its element or holding a separator is refused (:class:`UnsupportedOutbound`),
never cut or altered; free text (names, descriptions) too long for its element is cut and
a character outside X12's character set replaced, each reported in
:attr:`Rendered.warnings`.  A party goes out with one N1 id: GLN (``UL``), DUNS (``1``),
SAN (``15``), buyer-assigned (``92``) or seller-assigned (``91``), in that preference.
"""

import re
import unicodedata
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from ...canonical.documents import SCHEME_BUYER_ASSIGNED
from ...canonical.documents import SCHEME_DUNS
from ...canonical.documents import SCHEME_GLN
from ...canonical.documents import SCHEME_SAN
from ...canonical.documents import SCHEME_SELLER_ASSIGNED
from ...normalize.uom import x12_unit
from . import RENDERERS
from . import Rendered
from . import UnsupportedOutbound

ELEMENT, COMPONENT, SEGMENT, REPETITION = "*", ">", "~", "^"
_SEPARATORS = (ELEMENT, COMPONENT, SEGMENT, REPETITION)
VERSIONS = {"004010": "00401", "005010": "00501"}
_ID_RE = re.compile(r"^[A-Za-z0-9 !&'()+,./:;?=%@\[\]_{}\\|<#$\"-]+$")

# canonical scheme -> N103 qualifier, in order of preference
N1_QUALIFIERS = (
    (SCHEME_GLN, "UL"),
    (SCHEME_DUNS, "1"),
    (SCHEME_SAN, "15"),
    (SCHEME_BUYER_ASSIGNED, "92"),
    (SCHEME_SELLER_ASSIGNED, "91"),
)
_GTIN_QUALIFIERS = {8: "EO", 12: "UP", 13: "EN", 14: "UK"}
_ITEM_QUALIFIERS = (
    ("vendor_part_number", "VN"),
    ("buyer_part_number", "BP"),
    ("manufacturer_part_number", "MG"),
    ("ndc", "N4"),
    ("hibc", "HI"),
)
# POC02 change type codes
CHANGE_CODES = {"add": "AI", "change": "CA", "delete": "DI", "unchanged": "NC"}
# UNCL4343 invoice status -> OTI01 application acknowledgment code
OTI_CODES = {
    "AB": "TA",  # acknowledged: transaction set accepted
    "IP": "TA",
    "AP": "TA",
    "PD": "TA",
    "UQ": "TE",  # under query: accepted with errors
    "CA": "TE",
    "RE": "TR",  # rejected
}
# OpenPeppol status reason -> TED01 application error condition code
TED_CODES = {
    "REF": "011",  # not matching
    "UNR": "011",
    "LEG": "848",  # incorrect data
    "PRI": "848",
    "QTY": "848",
    "ITM": "848",
    "PAY": "848",
    "FIN": "848",
}
TED_OTHER = "024"  # other unlisted reason
PAYMENT_METHODS = {"check": "CHK", "ach": "ACH", "wire": "FWT", "bank_option": "BOP", "none": "NON"}


class _Writer:
    """Segments of one transaction set, with the checks and warnings of its values."""

    def __init__(self, version):
        self.version = version
        self.segments = []
        self.warnings = []

    def add(self, *elements):
        values = [str(e) if e is not None else "" for e in elements]
        while len(values) > 1 and values[-1] == "":
            values.pop()
        self.segments.append(values)

    def ident(self, value, what, max_length, min_length=1):
        """An identifier element: refused when too long or holding a separator."""
        value = (value or "").strip()
        if not value:
            return ""
        if len(value) < min_length or len(value) > max_length:
            raise UnsupportedOutbound(
                f"{what} {value!r} does not fit X12 ({min_length} to {max_length} characters)"
            )
        if any(sep in value for sep in _SEPARATORS) or not _ID_RE.match(value):
            raise UnsupportedOutbound(
                f"{what} {value!r} holds a character X12 cannot carry (separators *, >, ~, ^ "
                "or characters outside the X12 character set)"
            )
        return value

    def text(self, value, what, max_length):
        """A free-text element: cut to its length, odd characters replaced (warned)."""
        value = " ".join((value or "").split())
        if not value:
            return ""
        ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
        cleaned = "".join(" " if c in _SEPARATORS else c for c in ascii_value)
        cleaned = " ".join(cleaned.split())
        if cleaned != value:
            self.warnings.append(f"{what}: {value!r} sent as {cleaned!r} (X12 character set)")
        if len(cleaned) > max_length:
            self.warnings.append(f"{what}: cut to {max_length} characters")
            cleaned = cleaned[:max_length].rstrip()
        return cleaned


def amount(value):
    """An X12 ``R`` element: the exact decimal, no exponent, no trailing zeros."""
    if value is None:
        return ""
    if not isinstance(value, Decimal):
        raise UnsupportedOutbound(f"{value!r} is not a Decimal")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _date(value):
    return value.strftime("%Y%m%d") if value else ""


def _check_envelope(envelope):
    if envelope is None:
        raise UnsupportedOutbound("an X12 document needs an Envelope (the partner's ISA/GS ids)")
    if envelope.version not in VERSIONS:
        raise UnsupportedOutbound(
            f"X12 version {envelope.version!r} is not supported (use 004010 or 005010)"
        )
    if envelope.usage_indicator not in ("P", "T"):
        raise UnsupportedOutbound(
            f"ISA15 usage indicator {envelope.usage_indicator!r} must be P or T"
        )
    for what, number in (
        ("interchange control number", envelope.interchange_control_number),
        ("group control number", envelope.group_control_number),
    ):
        if not isinstance(number, int) or not 0 < number <= 999_999_999:
            raise UnsupportedOutbound(f"{what} {number!r} must be 1 to 999999999")
    writer = _Writer(envelope.version)
    for what, value in (
        ("ISA05 sender qualifier", envelope.sender_qualifier),
        ("ISA07 receiver qualifier", envelope.receiver_qualifier),
    ):
        if not re.fullmatch(r"[A-Z0-9]{2}", value or ""):
            raise UnsupportedOutbound(f"{what} {value!r} must be 2 letters or digits")
    writer.ident(envelope.sender_id, "ISA06 sender id", 15)
    writer.ident(envelope.receiver_id, "ISA08 receiver id", 15)
    if not (envelope.sender_id or "").strip() or not (envelope.receiver_id or "").strip():
        raise UnsupportedOutbound("ISA06 sender id and ISA08 receiver id are required")
    writer.ident(envelope.application_sender or envelope.sender_id, "GS02 sender code", 15, 2)
    writer.ident(envelope.application_receiver or envelope.receiver_id, "GS03 receiver code", 15, 2)


def interchange(envelope, set_id, functional_id, writer):
    """The interchange bytes of one transaction set (``writer.segments``, without ST/SE)."""
    _check_envelope(envelope)
    now = envelope.created_at or datetime.now(UTC)
    isa13 = f"{envelope.interchange_control_number:09d}"
    gs06 = str(envelope.group_control_number)
    isa = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope.sender_qualifier,
        envelope.sender_id.strip().ljust(15),
        envelope.receiver_qualifier,
        envelope.receiver_id.strip().ljust(15),
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        REPETITION if envelope.version >= "005010" else "U",
        VERSIONS[envelope.version],
        isa13,
        "1" if envelope.ack_requested else "0",
        envelope.usage_indicator,
        COMPONENT,
    ]
    gs = [
        "GS",
        functional_id,
        (envelope.application_sender or envelope.sender_id).strip(),
        (envelope.application_receiver or envelope.receiver_id).strip(),
        now.strftime("%Y%m%d"),
        now.strftime("%H%M"),
        gs06,
        "X",
        envelope.version,
    ]
    body = [["ST", set_id, "0001"], *writer.segments]
    body.append(["SE", str(len(body) + 1), "0001"])
    lines = [ELEMENT.join(isa), ELEMENT.join(gs)]
    lines += [ELEMENT.join(seg) for seg in body]
    lines += [ELEMENT.join(["GE", "1", gs06]), ELEMENT.join(["IEA", "1", isa13])]
    if len(lines[0]) != 105:  # 106 with its terminator
        raise UnsupportedOutbound(f"ISA is {len(lines[0]) + 1} characters, not 106")
    return (SEGMENT.join(lines) + SEGMENT).encode("ascii")


def _rendered(envelope, kind, set_id, writer, body, number, document_type):
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", number)
    return Rendered(
        body=body,
        content_type="application/edi-x12",
        fmt="x12",
        kind=kind,
        document_type=document_type,
        filename=f"{set_id}-{safe}-{envelope.interchange_control_number:09d}.x12",
        control_numbers={
            "isa": envelope.interchange_control_number,
            "gs": envelope.group_control_number,
            "st": ["0001"],
            "sets": [set_id],
        },
        expects_ack=envelope.ack_requested,
        warnings=writer.warnings,
    )


# ---------------------------------------------------------------------------------------
# Shared segments
# ---------------------------------------------------------------------------------------


def _n1_id(party, writer, what):
    for scheme, qualifier in N1_QUALIFIERS:
        value = party.identifier(scheme)
        if value:
            others = [i for i in party.identifiers if i.value != value]
            if others:
                writer.warnings.append(
                    f"{what}: X12 N1 carries one id, {scheme} {value}; not sent: "
                    + ", ".join(f"{i.scheme} {i.value}" for i in others)
                )
            return qualifier, writer.ident(value, f"{what} {scheme}", 80, 2)
    if party.identifiers:
        writer.warnings.append(
            f"{what}: no identifier X12 N1 can qualify (GLN, DUNS, SAN, buyer or seller "
            "assigned); sent by name only"
        )
    return "", ""


def n1_loop(writer, code, party, what, contact=False):
    """N1 (name and id), N3/N4 (address) and, with ``contact``, PER (phone, e-mail)."""
    if party is None:
        return
    qualifier, value = _n1_id(party, writer, what)
    name = writer.text(party.name, f"{what} name", 60)
    if not name and not value:
        raise UnsupportedOutbound(f"{what} has neither a name nor an id X12 can carry")
    writer.add("N1", code, name, qualifier, value)
    address = party.address
    if address:
        street = writer.text(address.street, f"{what} street", 55)
        street2 = writer.text(address.street2, f"{what} street2", 55)
        if street or street2:
            writer.add("N3", street or street2, street2 if street else "")
        if address.city or address.state or address.zip or address.country_code:
            writer.add(
                "N4",
                writer.text(address.city, f"{what} city", 30),
                writer.ident(address.state, f"{what} state", 2)
                if address.state and len(address.state) <= 2
                else "",
                writer.ident(address.zip, f"{what} postal code", 15),
                address.country_code or "",
            )
            if address.state and len(address.state) > 2:
                writer.warnings.append(
                    f"{what}: state {address.state!r} is not a 2-character code, not sent"
                )
    if contact and (party.phone or party.email):
        per = ["PER", "BD", ""]
        if party.phone:
            per += ["TE", writer.text(party.phone, f"{what} phone", 80)]
        if party.email:
            per += ["EM", writer.text(party.email, f"{what} e-mail", 80)]
        writer.add(*per)


def item_pairs(item, writer, where):
    """``[qualifier, value, ...]`` of an ItemRef (PO106.., POC08..)."""
    pairs = []
    if item.gtin:
        qualifier = _GTIN_QUALIFIERS.get(len(item.gtin))
        pairs += [qualifier, writer.ident(item.gtin, f"{where} GTIN", 48)]
    for attr, qualifier in _ITEM_QUALIFIERS:
        value = getattr(item, attr)
        if value:
            pairs += [qualifier, writer.ident(value, f"{where} {attr}", 48)]
    return pairs


def _check_order(order):
    if not order.lines:
        raise UnsupportedOutbound(f"purchase order {order.number} has no lines")
    numbers = [ln.line_number for ln in order.lines]
    if len(set(numbers)) != len(numbers):
        raise UnsupportedOutbound(f"purchase order {order.number} repeats a line number")


def _header_parties(writer, order):
    n1_loop(writer, "BY", order.buyer, "buyer", contact=True)
    n1_loop(writer, "VN", order.vendor, "vendor")
    n1_loop(writer, "ST", order.ship_to, "ship-to")
    n1_loop(writer, "BT", order.bill_to, "bill-to")


def _line_details(writer, line, where):
    if line.item.description:
        writer.add("PID", "F", "", "", "", writer.text(line.item.description, where, 80))
    if line.requested_date:
        writer.add("DTM", "002", _date(line.requested_date))
    if line.contract_reference:
        writer.add("REF", "CT", writer.ident(line.contract_reference, f"{where} contract", 30))


def _hash_total(order):
    return amount(sum((ln.quantity for ln in order.lines), Decimal(0)))


# ---------------------------------------------------------------------------------------
# 850 / 860
# ---------------------------------------------------------------------------------------


def render_850(order, kind, envelope):
    _check_envelope(envelope)
    _check_order(order)
    writer = _Writer(envelope.version)
    writer.add(
        "BEG", "00", "SA", writer.ident(order.number, "PO number", 22), "", _date(order.order_date)
    )
    if order.currency:
        writer.add("CUR", "BY", order.currency)
    if order.contract_reference:
        writer.add("REF", "CT", writer.ident(order.contract_reference, "contract", 30))
    if order.payment_terms:
        writer.add("ITD", "01", *[""] * 10, writer.text(order.payment_terms, "payment terms", 80))
    if order.requested_date:
        writer.add("DTM", "002", _date(order.requested_date))
    _header_parties(writer, order)
    for line in order.lines:
        where = f"line {line.line_number}"
        if line.quantity is None or line.quantity <= 0:
            raise UnsupportedOutbound(f"{where}: the quantity must be positive")
        writer.add(
            "PO1",
            writer.ident(line.line_number, f"{where} number", 20),
            amount(line.quantity),
            _unit(line.uom, where),
            amount(line.unit_price),
            "",
            *item_pairs(line.item, writer, where),
        )
        _line_details(writer, line, where)
    writer.add("CTT", str(len(order.lines)), _hash_total(order))
    if order.total_amount is not None:
        writer.add("AMT", "TT", amount(order.total_amount))
    body = interchange(envelope, "850", "PO", writer)
    return _rendered(envelope, kind, "850", writer, body, order.number, "X12 850 Purchase Order")


def _unit(code, where):
    """The X12 unit (355 is two characters) of a canonical unit code."""
    unit = x12_unit(code)
    if not unit:
        raise UnsupportedOutbound(f"{where}: unit {code} has no X12 code")
    return unit


def render_860(order, kind, envelope):
    _check_envelope(envelope)
    _check_order(order)
    writer = _Writer(envelope.version)
    cancel = kind == "order_cancel"
    writer.add(
        "BCH",
        "01" if cancel else "04",
        "SA",
        writer.ident(order.number, "PO number", 22),
        "",
        writer.ident(order.revision, "change sequence number", 8),
        _date(order.order_date),
        "",
        "",
        "",
        _date(order.change_date),
    )
    if order.currency:
        writer.add("CUR", "BY", order.currency)
    if order.contract_reference:
        writer.add("REF", "CT", writer.ident(order.contract_reference, "contract", 30))
    if order.payment_terms:
        writer.add("ITD", "01", *[""] * 10, writer.text(order.payment_terms, "payment terms", 80))
    if order.note:
        writer.add("MSG", writer.text(order.note, "note", 264))
    if order.requested_date:
        writer.add("DTM", "002", _date(order.requested_date))
    _header_parties(writer, order)
    for line in order.lines:
        where = f"line {line.line_number}"
        code = line.change_code or ("delete" if cancel else "change")
        if cancel and code != "delete":
            raise UnsupportedOutbound(f"{where}: a cancellation deletes every line, not {code}")
        writer.add(
            "POC",
            writer.ident(line.line_number, f"{where} number", 20),
            CHANGE_CODES[code],
            amount(line.quantity),
            "",
            _unit(line.uom, where),
            amount(line.unit_price),
            "",
            *item_pairs(line.item, writer, where),
        )
        _line_details(writer, line, where)
    writer.add("CTT", str(len(order.lines)), _hash_total(order))
    body = interchange(envelope, "860", "PC", writer)
    what = "X12 860 Purchase Order Change" + (" (cancellation)" if cancel else "")
    return _rendered(envelope, kind, "860", writer, body, order.number, what)


# ---------------------------------------------------------------------------------------
# 824 and 820
# ---------------------------------------------------------------------------------------


def render_824(response, kind, envelope):
    _check_envelope(envelope)
    if response.status in ("UQ", "CA", "RE") and not response.reasons:
        raise UnsupportedOutbound(f"invoice response status {response.status} needs a reason")
    writer = _Writer(envelope.version)
    writer.add(
        "BGN",
        "00",
        writer.ident(response.response_id, "response id", 30),
        _date(response.issue_date),
    )
    n1_loop(writer, "BY", response.buyer, "buyer", contact=True)
    n1_loop(writer, "SE", response.seller, "seller")
    writer.add(
        "OTI",
        OTI_CODES[response.status],
        "CM" if response.credit_note else "IV",
        writer.ident(response.invoice_number, "invoice number", 30),
        "",
        "",
        _date(response.invoice_date),
        "",
        "",
        "",
        "810",
    )
    if response.po_number:
        writer.add("REF", "PO", writer.ident(response.po_number, "PO number", 30))
    if response.invoice_total:
        total = Decimal(response.invoice_total)
        writer.add("AMT", "TT", amount(total))
    for reason in response.reasons:
        label = " ".join(filter(None, (reason.reason_code, reason.action_code)))
        text = reason.text or label
        if reason.line_reference:
            text = f"line {reason.line_reference}: {text}"
        writer.add(
            "TED",
            TED_CODES.get(reason.reason_code, TED_OTHER),
            writer.text(f"{label} {text}" if label and text != label else text, "reason", 60),
        )
    if response.note:
        writer.add("NTE", "GEN", writer.text(response.note, "note", 80))
    body = interchange(envelope, "824", "AG", writer)
    return _rendered(
        envelope, kind, "824", writer, body, response.response_id, "X12 824 Application Advice"
    )


def render_820(payment, kind, envelope):
    _check_envelope(envelope)
    if payment.status not in ("paid", "scheduled"):
        raise UnsupportedOutbound(
            f"a {payment.status} payment is not remitted: no 820 (send paid or scheduled)"
        )
    writer = _Writer(envelope.version)
    method = PAYMENT_METHODS.get((payment.method or "").lower())
    if method is None:
        raise UnsupportedOutbound(
            f"payment method {payment.method!r} has no BPR04 code "
            f"(use one of {', '.join(PAYMENT_METHODS)})"
        )
    handling = "P" if payment.status == "scheduled" else ("C" if method in ("ACH", "FWT") else "I")
    writer.add(
        "BPR",
        handling,
        amount(payment.amount),
        "C",
        method,
        *[""] * 11,
        _date(payment.payment_date),
    )
    writer.add("TRN", "1", writer.ident(payment.payment_id, "payment id", 50))
    writer.add("CUR", "PR", payment.currency)
    n1_loop(writer, "PR", payment.payer, "payer")
    n1_loop(writer, "PE", payment.vendor, "payee")
    for index, ref in enumerate(payment.invoices, start=1):
        where = f"invoice {ref.invoice_number}"
        writer.add("ENT", str(index))
        writer.add(
            "RMR",
            "IV",
            writer.ident(ref.invoice_number, where, 50),
            "",
            amount(ref.amount_paid),
            amount(ref.amount_invoiced),
            amount(ref.discount_amount),
        )
        if ref.po_number:
            writer.add("REF", "PO", writer.ident(ref.po_number, f"{where} PO", 50))
        if ref.invoice_date:
            writer.add("DTM", "003", _date(ref.invoice_date))
    body = interchange(envelope, "820", "RA", writer)
    return _rendered(
        envelope, kind, "820", writer, body, payment.payment_id, "X12 820 Remittance Advice"
    )


RENDERERS.update(
    {
        ("x12", "order"): render_850,
        ("x12", "order_change"): render_860,
        ("x12", "order_cancel"): render_860,
        ("x12", "invoice_response"): render_824,
        ("x12", "remittance"): render_820,
    }
)
