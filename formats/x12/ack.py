# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""X12 997 (004010) / 999 (005010) functional acknowledgments and TA1 interchange
acknowledgments.

The acknowledgments answer an interchange read with ``strict=False``:

* :func:`functional_ack` (997/999): sets with envelope errors are rejected with their
  AK5/IK5 code, sets the receiver does not process (``supported``) with code ``1``
  (transaction set not supported), the others get the receiver's verdict; a group-level
  error is named in AK905;
* :func:`interchange_ack` (TA1): the interchange envelope itself (ISA/IEA) is answered,
  rejected with its TA105 note code, or accepted with ``000`` when ISA14 asked for it.
"""

from datetime import UTC
from datetime import datetime

from .envelope import Interchange
from .envelope import read_interchange

# AK502/IK502 1: the receiver does not process this transaction set.
AK5_NOT_SUPPORTED = "1"


def functional_ack(interchange, accepted, errors=(), *, supported=None, control_number=1, now=None):
    """Build the 997 (004010) or 999 (005010) acknowledging ``interchange``.

    :param interchange: an :class:`Interchange` (read with ``strict=False`` to reject
        only the sets with envelope errors) or the raw payload.
    :param accepted: the receiver's verdict for sets without errors; ``False`` rejects
        every set (e.g. the group failed business validation).
    :param errors: extra per-set errors, dicts with ``transaction`` (ST02) and optionally
        ``segment_tag``, ``segment_position`` (in the set, ST = 1), ``element_position``,
        ``segment_code`` (AK304/IK304, default ``8`` segment has data element errors) and
        ``element_code`` (AK403/IK403, default ``7`` invalid code value).
    :param supported: the transaction set ids (ST01) the receiver processes; any other set
        is rejected with AK502/IK502 ``1`` whatever ``accepted`` says.  None: all of them.
    :param control_number: interchange/group control number of the acknowledgment.
    :param now: ``datetime`` for ISA09/GS04 (tests pass a fixed one).
    :returns: the acknowledgment interchange as bytes, with the received separators.
    """
    if not isinstance(interchange, Interchange):
        interchange = read_interchange(interchange, strict=False)
    now = now or datetime.now(UTC)
    is_999 = interchange.version >= "00501"
    sep = interchange.separators
    e = sep.element
    errors_by_tx = {}
    for err in errors:
        errors_by_tx.setdefault(str(err.get("transaction", "")), []).append(err)

    body = []
    group_results = []
    for group in interchange.groups:
        version = group.version or ("005010" if is_999 else "004010")
        ak1 = ["AK1", group.functional_id, group.control_number]
        if is_999:
            ak1.append(version)
        body.append(ak1)
        accepted_count = 0
        for tx in group.transactions:
            ak2 = ["AK2", tx.set_id, tx.control_number]
            if is_999:
                ak2.append(tx.version or version)
            body.append(ak2)
            tx_errors = errors_by_tx.get(tx.control_number, [])
            for err in tx_errors:
                if err.get("segment_tag"):
                    body.append(
                        [
                            "IK3" if is_999 else "AK3",
                            err["segment_tag"],
                            str(err.get("segment_position", "")),
                            "",
                            str(err.get("segment_code", "8")),
                        ]
                    )
                    if err.get("element_position"):
                        body.append(
                            [
                                "IK4" if is_999 else "AK4",
                                str(err["element_position"]),
                                "",
                                str(err.get("element_code", "7")),
                            ]
                        )
            unsupported = supported is not None and tx.set_id not in supported
            # a group-level error (GE count or control number) rejects the whole group
            if tx.errors or tx_errors or unsupported or group.errors or not accepted:
                code = tx.ak5_code or (
                    "5" if tx_errors or tx.errors else AK5_NOT_SUPPORTED if unsupported else None
                )
                status = ["IK5" if is_999 else "AK5", "R"]
                if code:
                    status.append(code)
                body.append(status)
            else:
                accepted_count += 1
                body.append(["IK5" if is_999 else "AK5", "A"])
        received = len(group.transactions)
        if accepted_count == received and not group.errors:
            verdict = "A"
        elif accepted_count == 0:
            verdict = "R"
        else:
            verdict = "P"
        ak9 = ["AK9", verdict, str(received), str(received), str(accepted_count)]
        if group.errors and group.ak905_code:
            ak9.append(group.ak905_code)
        body.append(ak9)
        group_results.append(verdict)

    set_id = "999" if is_999 else "997"
    received_gs = interchange.groups[0].gs if interchange.groups else None
    # A 997 answers in the received version (004010, 004010VICS, 004060...).
    gs_version = "005010X231A1" if is_999 else ((received_gs[8] if received_gs else "") or "004010")
    st = ["ST", set_id, "0001"] + (["005010X231A1"] if is_999 else [])
    segments = [st, *body]
    segments.append(["SE", str(len(segments) + 1), "0001"])
    ctrl9, ctrl_gs = f"{int(control_number):09d}", str(int(control_number))
    isa_out = _answer_isa(interchange, ctrl9, now)
    gs = received_gs
    gs_out = [
        "GS",
        "FA",
        gs[3] if gs else interchange.isa[8],
        gs[2] if gs else interchange.isa[6],
        now.strftime("%Y%m%d"),
        now.strftime("%H%M"),
        ctrl_gs,
        "X",
        gs_version,
    ]
    lines = [isa_out, e.join(gs_out)]
    # Trailing empty elements are not allowed in X12: strip their separators.
    lines += [e.join(seg).rstrip(e) for seg in segments]
    lines += [e.join(["GE", "1", ctrl_gs]), e.join(["IEA", "1", ctrl9])]
    return (sep.segment.join(lines) + sep.segment).encode("ascii", errors="replace")


def _answer_isa(interchange, ctrl9, now):
    """The ISA of an answer to ``interchange``: sender and receiver swapped, its version,
    separators and usage indicator kept."""
    sep = interchange.separators
    isa = interchange.isa
    sender_q, sender = isa[7], isa.elements[8] if len(isa.elements) > 8 else ""
    receiver_q, receiver = isa[5], isa.elements[6] if len(isa.elements) > 6 else ""
    if interchange.version >= "00402":
        repetition = sep.repetition or "^"
    else:
        repetition = "U"  # ISA11 was the standards identifier before 00402
    usage = isa[15] if isa[15] in ("P", "T", "I") else "P"
    return sep.element.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            sender_q.ljust(2)[:2],
            sender.strip().ljust(15)[:15],
            receiver_q.ljust(2)[:2],
            receiver.strip().ljust(15)[:15],
            now.strftime("%y%m%d"),
            now.strftime("%H%M"),
            repetition,
            interchange.version if len(interchange.version) == 5 else "00401",
            ctrl9,
            "0",
            usage,
            sep.component,
        ]
    )


def interchange_ack(interchange, *, control_number=1, now=None):
    """The TA1 interchange acknowledgment answering ``interchange``'s envelope, or None.

    An interchange with an envelope error (ISA/IEA: control numbers, group count,
    structure, truncation) is answered ``TA1*<ISA13>*<ISA09>*<ISA10>*R*<TA105>``; a sound
    one only when its ISA14 asked for it (``A`` / ``000``).  The TA1 travels alone in an
    interchange of its own (no functional group: IEA01 is 0).

    :param interchange: an :class:`Interchange` read with ``strict=False``, or the raw
        payload.
    :raises ParseError: when even the ISA cannot be read (nothing to answer).
    """
    if not isinstance(interchange, Interchange):
        interchange = read_interchange(interchange, strict=False)
    if interchange.ta1_code:
        status, note = "R", interchange.ta1_code
    elif interchange.isa[14] == "1":
        status, note = "A", "000"
    else:
        return None
    now = now or datetime.now(UTC)
    sep = interchange.separators
    ctrl9 = f"{int(control_number):09d}"
    isa = interchange.isa
    ta1 = ["TA1", isa[13], isa[9], isa[10], status, note]
    lines = [
        _answer_isa(interchange, ctrl9, now),
        sep.element.join(ta1),
        sep.element.join(["IEA", "0", ctrl9]),
    ]
    return (sep.segment.join(lines) + sep.segment).encode("ascii", errors="replace")
