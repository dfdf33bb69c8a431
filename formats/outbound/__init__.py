# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound documents: a canonical document rendered in a trading partner's format.

``render(document, fmt, envelope=...)`` is the one way out, as
:func:`formats.registry.parse` is the one way in.  The document is a canonical dataclass:

=======================================  ==============  ===========================
document                                 kind            formats
=======================================  ==============  ===========================
``PurchaseOrder`` purpose ``original``   ``order``        x12 (850), ubl (Peppol Order
                                                          T01), cxml (OrderRequest new),
                                                          json
``PurchaseOrder`` purpose ``change``     ``order_change`` x12 (860), ubl (OrderChange
                                                          T114), cxml (update), json
``PurchaseOrder`` purpose ``cancel``     ``order_cancel`` x12 (860 cancel), ubl
                                                          (OrderCancellation T115), cxml
                                                          (delete), json
``InvoiceResponse``                      ``invoice_       x12 (824), ubl (Invoice
                                         response``       Response T111), cxml
                                                          (StatusUpdateRequest), json
``Payment``                              ``remittance``   x12 (820), ubl
                                                          (RemittanceAdvice), json
=======================================  ==============  ===========================

Renderers register themselves in :data:`RENDERERS` under ``(fmt, kind)``; a pair with no
renderer raises :class:`UnsupportedOutbound` (the caller records it, nothing is sent).
Every renderer takes the trading-partner profile's :class:`Envelope`: X12 needs its ids
and the next control numbers, UBL its Peppol profile, cXML its Header credentials and
version; JSON ignores it.  No Odoo here.
"""

import json
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from ...canonical.documents import Payment
from ...canonical.documents import PurchaseOrder
from ...canonical.outbound import InvoiceResponse

FORMATS = ("json", "x12", "ubl", "cxml")
KINDS = ("order", "order_change", "order_cancel", "invoice_response", "remittance")
_PURPOSE_KINDS = {"original": "order", "change": "order_change", "cancel": "order_cancel"}


class UnsupportedOutbound(ValueError):
    """No renderer for this format and document kind (or a bad envelope)."""


@dataclass(frozen=True)
class Envelope:
    """What one outbound document needs from the trading-partner profile, all formats.

    ``usage_indicator`` is ISA15: ``"T"`` for a test profile, ``"P"`` for production.
    Control numbers are allocated by the caller (one sequence per profile), so that an
    inbound 997/999 can be matched to the interchange it acknowledges.
    """

    sender_qualifier: str = ""
    sender_id: str = ""
    receiver_qualifier: str = ""
    receiver_id: str = ""
    interchange_control_number: int = 0
    group_control_number: int = 0
    version: str = "004010"  # "004010" or "005010"
    usage_indicator: str = "P"
    application_sender: str = ""  # GS02, the ISA sender id when empty
    application_receiver: str = ""  # GS03, the ISA receiver id when empty
    ack_requested: bool = True  # ISA14
    created_at: datetime | None = None  # ISA09/10, GS04/05; now (UTC) when None
    # UBL Order: the Peppol profile the partner is registered for, "ordering" (BIS
    # Ordering 3) or "advanced_ordering" (changes and cancellations follow).
    peppol_profile: str = "ordering"
    # cXML Header: From (us), To (the supplier), Sender (us, with the shared secret the
    # supplier's network gave us).  A domain/identity pair replaces the party's own
    # identifiers in that credential; empty means "the party's identifiers".
    cxml_from_domain: str = ""
    cxml_from_identity: str = ""
    cxml_to_domain: str = ""
    cxml_to_identity: str = ""
    cxml_sender_domain: str = ""
    cxml_sender_identity: str = ""
    # never in a repr, a log line or an error message
    cxml_shared_secret: str = field(default="", repr=False)
    cxml_version: str = ""  # the cXML DTD version; the renderer's own when empty


@dataclass
class Rendered:
    """A rendered document: the exact bytes to send and what the sender records."""

    body: bytes
    content_type: str
    fmt: str
    kind: str
    document_type: str  # for people: "X12 850", "Peppol Order (T01)", "cXML OrderRequest"
    filename: str
    # X12: {"isa": 905, "gs": 905, "st": ["0001"], "sets": ["850"]}; XML: the document id.
    control_numbers: dict = field(default_factory=dict)
    expects_ack: bool = False  # an X12 interchange with ISA14=1 expects a 997/999
    # What the format could not carry as given (a truncated name, an identifier with no
    # qualifier in the format...): the document is still sent, the sender shows these.
    warnings: list = field(default_factory=list)


def kind_of(document):
    """The outbound kind of a canonical document (see the table above)."""
    if isinstance(document, PurchaseOrder):
        return _PURPOSE_KINDS[document.purpose]
    if isinstance(document, InvoiceResponse):
        return "invoice_response"
    if isinstance(document, Payment):
        return "remittance"
    raise UnsupportedOutbound(f"no outbound kind for {type(document).__name__}")


def _render_json(document, kind, envelope=None):
    body = json.dumps(document.to_dict(), sort_keys=True, separators=(",", ":"))
    number = getattr(document, "number", None) or getattr(document, "response_id", None)
    number = number or getattr(document, "payment_id", "")
    return Rendered(
        body=body.encode(),
        content_type="application/json",
        fmt="json",
        kind=kind,
        document_type=f"JSON {document.doc_type}",
        filename=f"{kind}-{number}.json",
        control_numbers={"id": number},
    )


RENDERERS = {("json", kind): _render_json for kind in KINDS}


def supported(fmt, kind):
    return (fmt, kind) in RENDERERS


def render(document, fmt, *, envelope=None):
    """Render ``document`` in ``fmt``; raises :class:`UnsupportedOutbound`."""
    kind = kind_of(document)
    renderer = RENDERERS.get((fmt, kind))
    if renderer is None:
        raise UnsupportedOutbound(f"{kind} cannot be sent as {fmt}")
    return renderer(document, kind, envelope)


# The renderers of each format register themselves in RENDERERS.
from . import cxml  # noqa: E402  pylint: disable=wrong-import-position
from . import ubl  # noqa: E402  pylint: disable=wrong-import-position
from . import x12  # noqa: E402  pylint: disable=wrong-import-position
