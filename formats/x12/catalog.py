# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""X12 832 Price/Sales Catalog and 845 Price Authorization Acknowledgment/Status ->
canonical :class:`ContractPrice` documents, one per price.

This is how hospital contract prices arrive: a manufacturer or distributor sends its
catalog (832) or the GPO contract's price authorization (845) with every item, its price
tiers (quantity breaks), the validity of the prices and the member facilities allowed to
buy at them.

Structure read (X12 004010 / 005010 segment semantics)
------------------------------------------------------
832: ``BCT`` (BCT02 catalog number, BCT10 purpose), header ``REF*CT`` (contract), ``DTM``
(``007``/``092``/``196`` effective, ``036``/``093``/``197`` expiration), ``CUR``, ``N1``
loops (``VN``/``SU``/``SE``/``MF`` the vendor, ``BY``/``ST``/``FA`` eligible facilities);
then one ``LIN`` loop per item: ``LIN`` ids, ``PID`` description, ``REF*CT``, ``DTM``,
``N1`` facilities of that item, and one ``CTP`` loop per price: CTP02 the price identifier,
CTP03 the unit price, CTP04 the minimum quantity of the tier, CTP05-1 its unit, with its own
``DTM`` and ``REF*CT``.

845: ``BPA`` (BPA01 purpose, BPA02 date, BPA04 authorization number), ``CUR``, ``REF*CT``,
``DTM``, ``N1`` (vendor); then one ``CON`` loop per contract (CON02 contract number, CON03
contract status) with its ``DTM`` validity and its ``N1`` loop of eligible members, and one
``PAD`` loop per item: ``LIN`` ids, ``PID``, ``N1`` members of that item, and ``CTP`` loops
(price, tier, unit, ``DTM`` validity, ``N1`` members of that price).

The narrowest level that states something wins: a price's own dates, contract or facilities
before its item's, before its contract's, before the transaction header's.  Facilities are
identified by GLN (N103 ``UL``), HIN (``21``), DEA (``11``), DUNS (``1``/``9``)...

One price per stored message
----------------------------
:func:`price_units` cuts a transaction set into its priced units (one per purchase-price
``CTP``, with the header, contract and item segments it depends on) and
:func:`split_prices` writes each as a self-contained interchange: the received ISA and GS
and the unit's original segments, a new ``SE`` counting them, ``GE``/``IEA`` counting one.
Each price is then stored, de-duplicated (by its bytes and by its natural key) and
replayed on its own, like every transaction set of an interchange.

Refused with a clear error (:class:`~..errors.ParseError`): a price whose range ends before
it starts (``x12_price_range``) or before the document's date (``x12_price_expired``), an
item without any purchase price (``x12_no_price``), a cancelled contract or catalog
(``x12_contract_cancelled``: ending prices is a decision made in Odoo, not by a feed).
"""

from dataclasses import dataclass
from dataclasses import field

from ...canonical import SCHEME_HIN
from ...canonical import ContractPrice
from ...canonical import Identifier
from ..errors import DataQualityIssue
from ..errors import ParseError
from .envelope import int_or_none
from .envelope import read_interchange
from .mappers import _currency
from .mappers import _date
from .mappers import _decimal
from .mappers import _description
from .mappers import _envelope_party
from .mappers import _item_ref
from .mappers import _party

CATALOG_SETS = ("832", "845")

# CTP02 price identifier codes that are prices a buyer pays; others (RES resale, MSR/SLP
# suggested prices...) are information, not contract prices.
PURCHASE_PRICE_CODES = {
    "CON": "contract",
    "CAT": "catalog",
    "NET": "net",
    "UCP": "unit cost",
    "PRP": "promotional",
    "QTE": "quote",
    "DPR": "distributor",
}
START_QUALIFIERS = ("007", "092", "196")  # effective, contract effective, start
END_QUALIFIERS = ("036", "093", "197")  # expiration, contract expiration, end
VENDOR_CODES = ("VN", "SU", "SE", "MF")  # vendor, supplier, selling party, manufacturer
FACILITY_CODES = ("BY", "ST", "FA")  # buying party, ship-to, facility
# N103 qualifiers the shared X12 party reader does not name (it keeps X12_N1_<code>).
_FACILITY_SCHEMES = {"X12_N1_21": SCHEME_HIN, "X12_N1_11": "DEA"}
# CON03 contract status codes and BCT10/BPA01 purposes that withdraw prices.
_CANCELLED_STATUSES = {
    "CC": "cancelled",
    "CX": "cancelled",
    "DL": "deleted",
    "EX": "expired",
    "IN": "invalid",
}
_CANCEL_PURPOSES = {"01": "cancellation", "03": "deletion"}

# Segments of a CTP loop (832: G40..G26; 845: DTM, CTB and the N1 loop).
_CTP_CHILDREN_832 = {"G40", "DTM", "G36", "LDT", "CUR", "PO4", "CTB", "REF", "G43", "SAC", "G26"}
_N1_CHILDREN = {"N2", "N3", "N4", "REF", "PER", "DTM", "PKG", "CTB"}


@dataclass
class PriceUnit:
    """One price of a transaction set and the segments it is read with."""

    header: list  # heading segments (ST and CTT/SE excluded)
    contract: list = field(default_factory=list)  # 845: the CON loop without its PADs
    item: list = field(default_factory=list)  # the LIN (832) / PAD (845) loop, priced CTPs out
    price: list = field(default_factory=list)  # the CTP loop ([]: the item has no price)

    def segments(self):
        """The unit's segments in their original order."""
        return sorted(
            [*self.header, *self.contract, *self.item, *self.price], key=lambda s: s.position
        )


def _is_purchase_price(ctp):
    return ctp[2] in PURCHASE_PRICE_CODES


def _split_ctp_loops(loop, children):
    """``(item segments, [CTP loop])`` of an item loop.

    A CTP loop is the CTP and the segments of ``children`` that follow it (``None``: every
    following segment up to the next CTP, as in the 845 where CTP is the PAD's last
    loop).
    """
    item, loops = [], []
    current = None
    for seg in loop:
        if seg.tag == "CTP":
            current = [seg]
            loops.append(current)
        elif current is not None and (children is None or seg.tag in children):
            current.append(seg)
        else:
            current = None
            item.append(seg)
    return item, loops


def _units_of_item(header, contract, loop, children):
    item, ctp_loops = _split_ctp_loops(loop, children)
    priced = [ctp for ctp in ctp_loops if _is_purchase_price(ctp[0])]
    # informational prices (RES, MSR...) stay with the item: read, reported, not applied
    priced_ids = {id(ctp) for ctp in priced}
    item = sorted(
        item + [seg for ctp in ctp_loops if id(ctp) not in priced_ids for seg in ctp],
        key=lambda s: s.position,
    )
    if not priced:
        return [PriceUnit(header=header, contract=contract, item=item)]
    return [PriceUnit(header=header, contract=contract, item=item, price=ctp) for ctp in priced]


def _cut(segments, start_tag, end_tags=("CTT",)):
    """``(header, [loop], trailer)`` of ``segments`` split on ``start_tag``."""
    header, loops, trailer = [], [], []
    for seg in segments:
        if seg.tag in end_tags or trailer:
            trailer.append(seg)
        elif seg.tag == start_tag:
            loops.append([seg])
        elif loops:
            loops[-1].append(seg)
        else:
            header.append(seg)
    return header, loops, trailer


def price_units(tx):
    """The :class:`PriceUnit` of each price of an 832 or 845 transaction set."""
    if tx.set_id == "832":
        header, loops, _trailer = _cut(tx.body, "LIN")
        return [u for loop in loops for u in _units_of_item(header, [], loop, _CTP_CHILDREN_832)]
    if tx.set_id == "845":
        header, contracts, _trailer = _cut(tx.body, "CON")
        units = []
        for con_loop in contracts:
            contract, pads, _rest = _cut(con_loop, "PAD", ())
            if not pads:
                units.append(PriceUnit(header=header, contract=contract))
            for pad in pads:
                units += _units_of_item(header, contract, pad, None)
        return units
    raise ParseError(
        "x12_unsupported",
        f"transaction set {tx.set_id} is not a catalog",
        f"ST {tx.control_number}",
    )


# ---------------------------------------------------------------------------------------
# Splitting: one interchange per price
# ---------------------------------------------------------------------------------------


def split_prices(payload):
    """Cut a one-set 832/845 interchange into one self-contained interchange per price.

    :returns: ``[bytes]``; the payload unchanged when it holds one price (or is not a
        catalog set).
    :raises ParseError: as :func:`~.envelope.read_interchange` in strict mode.
    """
    interchange = read_interchange(payload)
    transactions = interchange.transactions
    if len(transactions) != 1 or transactions[0].set_id not in CATALOG_SETS:
        return [payload]
    tx = transactions[0]
    units = price_units(tx)
    if len(units) <= 1:
        return [payload]
    sep = interchange.separators
    group = tx.group
    parts = []
    for unit in units:
        body = [seg.raw for seg in unit.segments()]
        segments = [
            interchange.isa_raw,
            group.gs.raw,
            tx.segments[0].raw,
            *body,
            sep.element.join(["SE", str(len(body) + 2), tx.control_number]),
            sep.element.join(["GE", "1", group.control_number]),
            sep.element.join(["IEA", "1", interchange.control_number]),
        ]
        parts.append((sep.segment.join(segments) + sep.segment).encode(interchange.encoding))
    return parts


# ---------------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------------


def _n1_loops(segments, codes):
    """Every N1 loop (N1 and its N2/N3/N4/REF/PER/DTM) whose N101 is in ``codes``."""
    loops, current = [], None
    for seg in segments:
        if seg.tag == "N1":
            current = [seg] if seg[1] in codes else None
            if current:
                loops.append(current)
        elif current is not None and seg.tag in _N1_CHILDREN:
            current.append(seg)
        else:
            current = None
    return loops


def _outside_n1(segments):
    """``segments`` without the N1 loops (their REF/DTM are the party's, not the price's)."""
    kept, in_n1 = [], False
    for seg in segments:
        if seg.tag == "N1":
            in_n1 = True
        elif not (in_n1 and seg.tag in _N1_CHILDREN):
            in_n1 = False
            kept.append(seg)
    return kept


def _facility(loop, issues):
    party = _party(loop, issues)
    party.identifiers = [
        Identifier(scheme=_FACILITY_SCHEMES.get(i.scheme, i.scheme), value=i.value)
        for i in party.identifiers
    ]
    if not party.identifiers:
        raise ParseError(
            "x12_facility_id",
            f"facility {party.name or loop[0][2]!r} has no identification code (N103/N104: "
            "GLN, HIN, DEA...): the price cannot be restricted to it",
            loop[0].where(),
        )
    return party


def _first_date(levels, qualifiers):
    """The first DTM date of ``qualifiers`` at the narrowest level stating one."""
    for segments in levels:
        for seg in _outside_n1(segments):
            if seg.tag == "DTM" and seg[1] in qualifiers and seg[2]:
                return _date(seg, 2), seg
    return None, None


def _first_ref(levels, qualifiers=("CT",)):
    for segments in levels:
        for seg in _outside_n1(segments):
            if seg.tag == "REF" and seg[1] in qualifiers and seg[2]:
                return seg[2]
    return None


def _vendor(header, tx, issues):
    loops = {loop[0][1]: loop for loop in _n1_loops(header, VENDOR_CODES)}
    for code in VENDOR_CODES:
        if code in loops:
            return _party(loops[code], issues)
    issues.append(
        DataQualityIssue(
            "x12_vendor_from_envelope",
            "no vendor N1 loop (VN, SU, SE, MF): vendor taken from the ISA sender id",
            f"ST {tx.control_number}",
        )
    )
    return _envelope_party(tx, "sender")


def _unit_of(ctp, tx):
    """CTP05-1, the unit of the price (and of its tier quantity)."""
    composite = ctp[5]
    unit = composite.split(tx.interchange.separators.component)[0].strip() if composite else ""
    if not unit:
        raise ParseError("x12_segment", "CTP05 (unit of the price) is required", ctp.where())
    return unit


def _document_date(tx, beginning):
    if tx.set_id == "845" and beginning[2]:
        return _date(beginning, 2)
    return _date(tx.group.gs, 4) if tx.group and tx.group.gs[4] else None


def map_unit(tx, unit, issues):
    """One :class:`PriceUnit` -> :class:`ContractPrice`.

    :raises ParseError: see the module's docstring.
    """
    where = f"ST {tx.control_number}"
    is_845 = tx.set_id == "845"
    beginning = next((s for s in unit.header if s.tag == ("BPA" if is_845 else "BCT")), None)
    if beginning is None:
        raise ParseError(
            "x12_segment", f"{'BPA' if is_845 else 'BCT'} segment missing in {tx.set_id}", where
        )
    purpose = beginning[1] if is_845 else beginning[10]
    if purpose in _CANCEL_PURPOSES:
        raise ParseError(
            "x12_contract_cancelled",
            f"{tx.set_id} purpose {purpose} ({_CANCEL_PURPOSES[purpose]}): withdrawing prices "
            "is not applied from a feed; end the contract prices in Odoo",
            beginning.where(),
        )
    con = unit.contract[0] if unit.contract else None
    if con is not None and con[3] in _CANCELLED_STATUSES:
        raise ParseError(
            "x12_contract_cancelled",
            f"contract {con[2]} has status {con[3]} ({_CANCELLED_STATUSES[con[3]]}): its "
            "prices are not applied; end them in Odoo",
            con.where(),
        )
    item_seg = next((s for s in unit.item if s.tag == "LIN"), None)
    anchor = unit.item[0] if unit.item else (con or beginning)
    if not unit.price:
        what = f"item {item_seg[1] or item_seg[3]}" if item_seg is not None else "contract"
        raise ParseError(
            "x12_no_price",
            f"{what} has no purchase price (CTP02 one of {', '.join(sorted(PURCHASE_PRICE_CODES))})",
            anchor.where(),
        )
    if item_seg is None:
        raise ParseError("x12_segment", "LIN (item identification) missing", anchor.where())
    ctp = unit.price[0]
    # the narrowest level first: the price, its item, its contract (845), the heading
    levels = [unit.price, unit.item, unit.contract, unit.header]
    item = _item_ref(item_seg, 2, issues, _description(unit.item))
    if item.key() is None:
        raise ParseError(
            "x12_segment",
            "LIN names no item id this module reads (VC, VN, UP, IN...)",
            item_seg.where(),
        )
    for seg in unit.item:
        if seg.tag == "CTP" and seg is not ctp:
            issues.append(
                DataQualityIssue(
                    "x12_price_not_applied",
                    f"CTP02 {seg[2] or '(none)'} price {seg[3]} is not a purchase price: not "
                    "applied",
                    seg.where(),
                )
            )
    reference = (
        _first_ref([unit.price, unit.item])
        or (con[2] if con is not None and con[2] else None)
        or _first_ref([unit.contract, unit.header])
        or (beginning[4] if is_845 else None)
    )
    if not reference and not is_845 and beginning[2]:
        reference = beginning[2]
        issues.append(
            DataQualityIssue(
                "x12_catalog_as_contract",
                f"no contract number (REF*CT): the catalog number {reference} is used",
                beginning.where(),
            )
        )
    if not reference:
        raise ParseError("x12_segment", "no contract number (REF*CT, CON02, BCT02)", where)
    day = _document_date(tx, beginning)
    start, _ = _first_date(levels, START_QUALIFIERS)
    if start is None:
        if day is None:
            raise ParseError(
                "x12_segment", "no effective date (DTM*007) for the price", ctp.where()
            )
        start = day
        issues.append(
            DataQualityIssue(
                "x12_price_start_default",
                f"no effective date (DTM*007): the price applies from the document date {day}",
                ctp.where(),
            )
        )
    end, end_seg = _first_date(levels, END_QUALIFIERS)
    if end is not None and end < start:
        raise ParseError(
            "x12_price_range",
            f"the price ends on {end}, before it starts on {start}",
            end_seg.where(),
        )
    if end is not None and day is not None and end < day:
        raise ParseError(
            "x12_price_expired",
            f"the price expired on {end}, before the document's date {day}",
            end_seg.where(),
        )
    facilities = []
    for segments in (unit.price, unit.item, unit.contract, unit.header):
        loops = _n1_loops(segments, FACILITY_CODES)
        if loops:
            facilities = [_facility(loop, issues) for loop in loops]
            break
    quantity = _decimal(ctp, 4)
    if ctp[6] or ctp[7]:
        issues.append(
            DataQualityIssue(
                "x12_price_multiplier",
                f"CTP06/CTP07 price multiplier {ctp[6]} {ctp[7]} is not applied: CTP03 is the price",
                ctp.where(),
            )
        )
    return ContractPrice(
        contract_reference=reference[:64],
        vendor=_vendor(unit.header, tx, issues),
        item=item,
        price=_decimal(ctp, 3, required=True),
        currency=_currency(unit.header, issues, tx),
        uom=_unit_of(ctp, tx),
        min_quantity=quantity if quantity and quantity > 1 else None,
        date_start=start,
        date_end=end,
        facilities=facilities,
    )


def _check_ctt(tx, issues):
    ctt = next((s for s in tx.body if s.tag == "CTT"), None)
    if ctt is None:
        return  # a split price carries no summary: the set's CTT was checked whole
    count = sum(1 for s in tx.body if s.tag == ("PAD" if tx.set_id == "845" else "LIN"))
    if int_or_none(ctt[1]) != count:
        issues.append(
            DataQualityIssue(
                "x12_ctt_count", f"CTT01 states {ctt[1]} items, the set has {count}", ctt.where()
            )
        )


def map_catalog(tx, issues):
    """832/845 -> ``[ContractPrice]``, one per price.

    :raises ParseError: on the first price that cannot be applied (see the module's
        docstring); the split interchanges let every other price through on its own.
    """
    _check_ctt(tx, issues)
    return [map_unit(tx, unit, issues) for unit in price_units(tx)]


def refusals(tx):
    """``[ParseError]`` of the prices of ``tx`` that will be refused (empty: all good)."""
    errors = []
    for unit in price_units(tx):
        try:
            map_unit(tx, unit, [])
        except ParseError as exc:
            errors.append(exc)
    return errors
