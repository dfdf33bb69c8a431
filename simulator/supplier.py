"""The suppliers' side of the demo day: an HTTP receiver for the documents Odoo sends out.

Each demo vendor's trading-partner profile points at ``/supplier/<vendor code>`` on this
receiver.  It checks what a supplier's EDI gateway checks (the signature over the exact
bytes, the format the vendor expects), records every delivery once (the outbox delivers at
least once: repeats are recognised by ``X-HC-Event-Id``) and, for an X12 interchange that
asks for one (ISA14 = 1), answers with a functional acknowledgment: a 997 for 004010, a 999
for 005010, posted back to Odoo's API like any partner's would be.

Written from the X12 and XML standards, not from the module's code: the demo is the outside
world, and must not share the module's blind spots.
"""

import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

_XML_ROOT = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_CXML_PAYLOAD = re.compile(
    rb"<(OrderRequest|StatusUpdateRequest|PaymentRemittanceRequest|ConfirmationRequest)\b"
)
_CXML_ORDER_TYPE = re.compile(rb'<OrderRequestHeader\b[^>]*\btype="(\w+)"')


def format_of(content_type, body):
    """``(fmt, document)`` as a receiving gateway sees it: ``("x12", "850")``,
    ``("ubl", "Order")``, ``("cxml", "OrderRequest:new")``, ``("json", "purchase_order")``."""
    head = body.lstrip()[:4096]
    if head.startswith(b"ISA"):
        sets = re.findall(rb"(?:^|[~\n'])\s*ST[*|^](\d{3})", body)
        return "x12", "+".join(sorted({s.decode() for s in sets})) or "?"
    if head.startswith(b"{"):
        try:
            return "json", json.loads(body).get("doc_type") or "?"
        except ValueError:
            return "json", "?"
    if b"<cXML" in head or b"cXML.dtd" in head or b"Fulfill.dtd" in head:
        payload = _CXML_PAYLOAD.search(body)
        name = payload.group(1).decode() if payload else "?"
        order_type = _CXML_ORDER_TYPE.search(body)
        return "cxml", f"{name}:{order_type.group(1).decode()}" if order_type else name
    root = _XML_ROOT.search(head)
    return ("ubl", root.group(1).decode()) if root else ("?", (content_type or "?"))


# -- X12 -----------------------------------------------------------------------------


@dataclass
class X12Envelope:
    """What a 997/999 needs from the interchange it answers."""

    element: str
    component: str
    terminator: str
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: str
    usage: str
    ack_requested: bool
    groups: list = field(default_factory=list)  # [(functional id, GS06, version, [(ST01, ST02)])]


def read_envelope(body):
    """The envelope of an X12 interchange (ISA fixed width: separators at 3, 104, 105)."""
    text = body.decode("latin-1").lstrip()
    if len(text) < 106 or not text.startswith("ISA"):
        raise ValueError("not an X12 interchange")
    element, component, terminator = text[3], text[104], text[105]
    isa = text[:105].split(element)
    env = X12Envelope(
        element=element,
        component=component,
        terminator=terminator,
        sender_qualifier=isa[5].strip(),
        sender_id=isa[6].strip(),
        receiver_qualifier=isa[7].strip(),
        receiver_id=isa[8].strip(),
        control_number=isa[13].strip(),
        ack_requested=isa[14].strip() == "1",
        usage=isa[15].strip(),
    )
    group = None
    for raw in text[106:].split(terminator):
        seg = raw.strip("\r\n ")
        if not seg:
            continue
        parts = seg.split(element)
        if parts[0] == "GS":
            group = (parts[1], parts[6], parts[8], [])
            env.groups.append(group)
        elif parts[0] == "ST" and group is not None:
            group[3].append((parts[1], parts[2]))
    return env


def functional_ack(env, control_number, now=None):
    """The 997 (004010) or 999 (005010) accepting every set of ``env``, from the
    receiver's side: sender and receiver swapped, our own control number."""
    now = now or datetime.now(UTC)
    e, t = env.element, env.terminator
    version = env.groups[0][2] if env.groups else "004010"
    is_999 = version.startswith("005010")
    ctrl = f"{control_number:09d}"
    segments = [
        e.join(
            [
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                env.receiver_qualifier.ljust(2),
                env.receiver_id.ljust(15),
                env.sender_qualifier.ljust(2),
                env.sender_id.ljust(15),
                now.strftime("%y%m%d"),
                now.strftime("%H%M"),
                "^" if is_999 else "U",
                "00501" if is_999 else "00401",
                ctrl,
                "0",
                env.usage or "P",
                env.component,
            ]
        ),
        e.join(
            [
                "GS",
                "FA",
                env.receiver_id,
                env.sender_id,
                now.strftime("%Y%m%d"),
                now.strftime("%H%M"),
                str(control_number),
                "X",
                "005010X231A1" if is_999 else "004010",
            ]
        ),
    ]
    sets = 0
    for functional_id, group_ctrl, group_version, transactions in env.groups:
        sets += 1
        st = f"{sets:04d}"
        body = [
            e.join(["ST", "999" if is_999 else "997", st] + (["005010X231A1"] if is_999 else []))
        ]
        body.append(
            e.join(["AK1", functional_id, group_ctrl] + ([group_version] if is_999 else []))
        )
        for set_id, set_ctrl in transactions:
            body.append(e.join(["AK2", set_id, set_ctrl]))
            body.append(e.join(["IK5" if is_999 else "AK5", "A"]))
        n = str(len(transactions))
        body.append(e.join(["AK9", "A", n, n, n]))
        body.append(e.join(["SE", str(len(body) + 1), st]))
        segments += body
    segments.append(e.join(["GE", str(sets), str(control_number)]))
    segments.append(e.join(["IEA", "1", ctrl]))
    return (t + "\n").join(segments) + t + "\n"


# -- the receiver ----------------------------------------------------------------------


@dataclass
class Delivery:
    vendor: str
    event_id: str
    content_type: str
    fmt: str
    document: str
    signed: bool
    size: int
    received_at: float
    acknowledged: bool = False
    ack_status: int = 0


class SupplierGateway:
    """The suppliers' receiver: ``start()``, ``url(vendor)``, ``deliveries``, ``stop()``.

    :param expect: ``{vendor code: format}`` each vendor's gateway expects
    :param secrets: ``{vendor code: signing secret}`` of its endpoint
    :param send_ack: ``send_ack(vendor, x12 text) -> HTTP status`` posts a 997/999 back
    """

    def __init__(self, expect, secrets, send_ack=None, host="127.0.0.1", port=0):
        self.expect = expect
        self.secrets = secrets
        self.send_ack = send_ack
        self.deliveries = {}
        self.repeats = 0
        self.refused = []
        self._lock = threading.Lock()
        self._control = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                return

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = gateway._receive(self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": %s}' % (b"true" if status < 300 else b"false"))

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._acks = []

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, vendor):
        return f"http://127.0.0.1:{self.port}/supplier/{vendor}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _verify(self, vendor, headers, body):
        secret = self.secrets.get(vendor)
        header = headers.get("X-HC-Signature") or ""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        stamp = parts.get("t", "")
        signatures = [p.split("=", 1)[1] for p in header.split(",") if p.startswith("v1=")]
        if not secret or not stamp.isdigit() or not signatures:
            return False
        expected = hmac.new(
            secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return any(hmac.compare_digest(expected, s) for s in signatures)

    def _receive(self, path, headers, body):
        vendor = path.rstrip("/").rsplit("/", 1)[-1]
        event_id = headers.get("X-HC-Event-Id") or ""
        fmt, document = format_of(headers.get("Content-Type"), body)
        signed = self._verify(vendor, headers, body)
        with self._lock:
            if vendor not in self.expect or not signed or fmt != self.expect[vendor]:
                self.refused.append((vendor, event_id, fmt, document, signed))
                return 400 if vendor in self.expect else 404
            if event_id in self.deliveries:
                self.repeats += 1
                return 200
            delivery = Delivery(
                vendor,
                event_id,
                headers.get("Content-Type") or "",
                fmt,
                document,
                signed,
                len(body),
                time.time(),
            )
            self.deliveries[event_id] = delivery
            if fmt == "x12":
                self._control += 1
                control = self._control
        if fmt == "x12" and self.send_ack:
            env = read_envelope(body)
            if env.ack_requested:
                self._acks.append((delivery, vendor, functional_ack(env, control)))
        return 200

    def flush_acks(self):
        """Post the pending 997/999s (outside the request that delivered: a partner's
        gateway answers later, on its own connection); return how many were accepted."""
        sent = 0
        while self._acks:
            delivery, vendor, text = self._acks.pop(0)
            delivery.ack_status = self.send_ack(vendor, text)
            delivery.acknowledged = 200 <= delivery.ack_status < 300
            sent += delivery.acknowledged
        return sent

    def summary(self):
        by = {}
        for d in self.deliveries.values():
            key = f"{d.fmt} {d.document}"
            row = by.setdefault(key, {"delivered": 0, "acknowledged": 0})
            row["delivered"] += 1
            row["acknowledged"] += d.acknowledged
        return {
            "delivered": len(self.deliveries),
            "x12": sum(d.fmt == "x12" for d in self.deliveries.values()),
            "acknowledged": sum(d.acknowledged for d in self.deliveries.values()),
            "repeats": self.repeats,
            "refused": len(self.refused),
            "by_document": by,
        }
