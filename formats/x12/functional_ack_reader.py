# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Reading a vendor's 997 (004010) or 999 (005010) functional acknowledgment.

The acknowledgment of one of our outbound interchanges: which group it answers (AK1),
each set's status (AK2 + AK5 in a 997, AK2 + IK5 in a 999, with the error codes of
AK502-AK506 / IK502-IK506) and the group's (AK9), as a canonical
:class:`~canonical.documents.FunctionalAck`.  No Odoo here.
"""

from ...canonical.documents import AckedSet
from ...canonical.documents import FunctionalAck
from ..errors import ParseError

SET_STATUS_TAGS = ("AK5", "IK5")


def read_ack_set(tx):
    """``{"functional_id", "group_control_number", "group_status", "sets": [...]}`` of one
    997/999 transaction set (``formats.x12.envelope.Transaction``).

    ``sets``: ``{"set_id", "control_number", "status", "codes"}`` per AK2 loop.

    :raises ParseError: ``x12_segment`` when AK1 or AK9 is missing or malformed
    """
    ack = {"functional_id": "", "group_control_number": 0, "group_status": "", "sets": []}
    current = None
    for segment in tx.segments:
        if segment.tag == "AK1":
            ack["functional_id"] = segment[1]
            if not segment[2].isdigit():
                raise ParseError(
                    "x12_segment", "AK1-02 must be the group control number", segment.where()
                )
            ack["group_control_number"] = int(segment[2])
        elif segment.tag == "AK2":
            current = {
                "set_id": segment[1],
                "control_number": segment[2],
                "status": "",
                "codes": [],
            }
            ack["sets"].append(current)
        elif segment.tag in SET_STATUS_TAGS and current is not None:
            current["status"] = segment[1]
            current["codes"] = [segment[i] for i in range(2, 7) if segment[i]]
        elif segment.tag == "AK9":
            ack["group_status"] = segment[1]
    if not ack["group_control_number"] or ack["group_status"] not in (
        "A",
        "E",
        "P",
        "R",
        "M",
        "W",
        "X",
    ):
        raise ParseError("x12_segment", "a 997/999 needs AK1 and AK9", f"ST {tx.control_number}")
    return ack


def map_functional_ack(tx, issues):
    """Map one 997/999 set, with its interchange's envelope, to a ``FunctionalAck``."""
    ack = read_ack_set(tx)
    isa = tx.interchange.isa
    return FunctionalAck(
        ack_set=tx.set_id,
        sender_qualifier=isa[5] or None,
        sender_id=isa[6],
        receiver_qualifier=isa[7] or None,
        receiver_id=isa[8],
        interchange_control_number=str(int(isa[13])) if isa[13].isdigit() else isa[13],
        functional_id=ack["functional_id"] or None,
        group_control_number=ack["group_control_number"],
        group_status=ack["group_status"],
        sets=[
            AckedSet(
                set_id=s["set_id"],
                control_number=s["control_number"],
                status=s["status"] or None,
                codes=s["codes"],
            )
            for s in ack["sets"]
        ],
    )
