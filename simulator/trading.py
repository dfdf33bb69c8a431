"""The demo day's outbound side: each vendor's trading-partner profile, and its truth.

Vendors take turns over the formats suppliers really use (X12 004010 and 005010, Peppol
UBL, cXML, JSON); each profile points at the suppliers' gateway the demo runs
(:mod:`.supplier`).  What must leave Odoo is known from the day's documents: every
approved purchase order the sourcing system posts goes to its vendor, except those of
vendors on hold; every X12 interchange is acknowledged by the vendor's gateway.
"""

import json

# (format, X12 version, functional acknowledgment) by vendor index, in turn
FORMATS = (
    ("x12", "004010", "997"),
    ("x12", "005010", "999"),
    ("ubl", "", "none"),
    ("cxml", "", "none"),
    ("json", "", "none"),
)
OUR_ISA_ID = "HOSPNETWORK"


def assignments(world):
    """``[{code, gln, name, format, x12_version, ack}]``, one per vendor, deterministic."""
    rows = []
    for vendor in world["vendors"]:
        fmt, version, ack = FORMATS[vendor["index"] % len(FORMATS)]
        rows.append(
            {
                "code": f"v{vendor['index']:03d}",
                "gln": vendor["gln"],
                "name": vendor["name"],
                "format": fmt,
                "x12_version": version,
                "ack": ack,
            }
        )
    return rows


def truth(world, documents, held_po_numbers):
    """What leaves Odoo that day: ``{"orders": {po number: format}, "x12_orders": [...]}``.

    :param documents: the day's documents (generator output), JSON ones read here
    :param held_po_numbers: orders of vendors on hold, which stay RFQs and never leave
    """
    fmt_by_gln = {row["gln"]: row["format"] for row in assignments(world)}
    orders = {}
    for doc in documents:
        if doc["doc_type"] != "purchase_order" or doc["content_type"] != "application/json":
            continue
        body = json.loads(doc["body"])
        for po in body if isinstance(body, list) else [body]:
            if po.get("approval_status", "approved") != "approved":
                continue
            if po.get("purpose", "original") != "original" or po["number"] in held_po_numbers:
                continue
            gln = next(
                (i["value"] for i in po["vendor"].get("identifiers", []) if i["scheme"] == "GLN"),
                None,
            )
            if gln in fmt_by_gln:
                orders[po["number"]] = fmt_by_gln[gln]
    return {
        "orders": dict(sorted(orders.items())),
        "x12_orders": sorted(n for n, f in orders.items() if f == "x12"),
        "by_format": {f: sum(1 for v in orders.values() if v == f) for f, _v, _a in FORMATS},
    }


def configure(rpc, world, gateway, connector_code="suppliers"):
    """Create each vendor's outbound endpoint (the gateway, signed with its own secret) and
    trading-partner profile, as an implementation team does once the vendors exist.

    :return: ``{vendor code: secret}`` for the gateway to check signatures
    """
    connector = rpc("hc.connector", "search_read", domain=[("code", "=", connector_code)],
                    fields=["id", "company_id"])[0]  # fmt: skip
    company = connector["company_id"][0] if connector.get("company_id") else None
    secrets = {}
    for row in assignments(world):
        found = rpc("hc.partner.identifier", "search_read",
                    domain=[("scheme", "=", "gln"), ("value", "=", row["gln"])],
                    fields=["partner_id"], limit=1)  # fmt: skip
        if not found:
            continue  # a vendor the master data did not create has no relationship yet
        partner = found[0]["partner_id"][0]
        secret = f"demo-secret-{row['code']}-{row['gln']}"
        secrets[row["code"]] = secret
        endpoint_vals = {
            "name": f"{row['name']} ({row['format']})",
            "connector_id": connector["id"],
            "url": gateway.url(row["code"]),
            "secret": secret,
            "timeout_seconds": 10,
            "max_attempts": 5,
        }
        if company:
            endpoint_vals["company_id"] = company
        [endpoint] = rpc("hc.outbox.endpoint", "create", vals_list=[endpoint_vals])
        profile = {
            "partner_id": partner,
            "environment": "production",
            "endpoint_id": endpoint,
            "order_format": row["format"],
            "response_format": row["format"],
            "remittance_format": "x12" if row["format"] == "x12" else "json",
            "ack_expected": row["ack"],
            "ack_hours": 4,
            "gln": row["gln"],
        }
        if row["format"] == "x12":
            profile.update(
                x12_version=row["x12_version"],
                isa_sender_qualifier="ZZ",
                isa_sender_id=OUR_ISA_ID,
                isa_receiver_qualifier="14",
                isa_receiver_id=row["gln"],
            )
        if row["format"] == "cxml":
            profile.update(
                cxml_from_domain="NetworkID",
                cxml_from_identity=OUR_ISA_ID,
                cxml_to_domain="NetworkID",
                cxml_to_identity=row["gln"],
                cxml_sender_domain="NetworkID",
                cxml_sender_identity=OUR_ISA_ID,
            )
        if row["format"] == "ubl":
            profile["peppol_participant_id"] = f"0088:{row['gln']}"
        if company:
            profile["company_id"] = company
        rpc("hc.trading.partner", "create", vals_list=[profile])
    return secrets


# What the AP clerk decides at the end of the day, per exception type: the vendor is told
# (an invoice response in its format).  At most DISPUTES_PER_DECISION bills each.
DISPUTES = (
    (
        "price_variance",
        "credit_note",
        "Billed above the order price: please credit the difference.",
    ),
    ("total_mismatch", "reject", "The stated total does not add up: send a corrected invoice."),
)
DISPUTES_PER_DECISION = 3


def clerk_disputes(rpc_clerk):
    """The AP clerk works the queue as in the UI (the Resolve wizard, with the clerk's own
    key): credit notes asked for price variances, bills rejected whose total does not add
    up.  Returns ``{"credit_note": [bill names], "reject": [bill names]}``."""
    done = {}
    for exception_type, action, reason in DISPUTES:
        exceptions = rpc_clerk(
            "hc.exception",
            "search_read",
            domain=[
                ("exception_type", "=", exception_type),
                ("state", "not in", ["resolved", "cancelled"]),
                ("move_id", "!=", False),
            ],
            fields=["id", "move_id"],
            order="id",
        )
        by_bill = {}
        for exc in exceptions:
            by_bill.setdefault(tuple(exc["move_id"]), []).append(exc["id"])
        done[action] = []
        for (_bill_id, bill_name), ids in list(by_bill.items())[:DISPUTES_PER_DECISION]:
            [wizard] = rpc_clerk(
                "hc.exception.resolve.wizard",
                "create",
                vals_list=[{"exception_ids": [[6, 0, ids]], "action": action, "reason": reason}],
            )
            rpc_clerk("hc.exception.resolve.wizard", "action_confirm", ids=[wizard])
            done[action].append(bill_name)
    return done


OUTBOUND_FIELDS = ["name", "kind", "fmt", "state", "delivery_state", "ack_state", "res_ref",
                   "partner_id", "error_message"]  # fmt: skip


def read_outbound(rpc):
    return rpc("hc.outbound.document", "search_read", domain=[], fields=OUTBOUND_FIELDS)


def score(truth_, documents, gateway_summary=None, disputes=None):
    """Orders that had to leave against what was delivered and acknowledged; the clerk's
    disputes against the invoice responses delivered."""
    orders = [d for d in documents if d["kind"] == "order"]
    by_ref = {}
    for doc in orders:
        by_ref.setdefault(doc["res_ref"], doc)
    expected = truth_["orders"]
    delivered = [n for n in expected if (by_ref.get(n) or {}).get("delivery_state") == "delivered"]
    right_format = [n for n in delivered if by_ref[n]["fmt"] == expected[n]]
    x12 = truth_["x12_orders"]
    acked = [n for n in x12 if (by_ref.get(n) or {}).get("ack_state") == "accepted"]
    unexpected = sorted(set(by_ref) - set(expected))
    result = {
        "orders_expected": len(expected),
        "orders_delivered": len(delivered),
        "orders_right_format": len(right_format),
        "x12_expected": len(x12),
        "x12_acknowledged": len(acked),
        "not_delivered": sorted(set(expected) - set(delivered)),
        "not_acknowledged": sorted(set(x12) - set(acked)),
        "unexpected": unexpected,
        "not_sent": [d["name"] for d in documents if d["state"] == "failed"],
        "other_documents": {
            kind: sum(1 for d in documents if d["kind"] == kind)
            for kind in ("order_change", "order_cancel", "invoice_response", "remittance")
        },
    }
    if disputes is not None:
        disputed = sorted(name for names in disputes.values() for name in names)
        responses = [d for d in documents if d["kind"] == "invoice_response"]
        told = sorted({d["res_ref"] for d in responses if d["delivery_state"] == "delivered"})
        result["disputes"] = {k: len(v) for k, v in disputes.items()}
        result["responses_expected"] = len(disputed)
        result["responses_delivered"] = len(set(disputed) & set(told))
        result["not_told"] = sorted(set(disputed) - set(told))
    if gateway_summary is not None:
        result["gateway"] = gateway_summary
    result["met"] = (
        result["orders_delivered"] == result["orders_expected"]
        and result["orders_right_format"] == result["orders_delivered"]
        and result["x12_acknowledged"] == result["x12_expected"]
        and not unexpected
        and not result["not_sent"]
        and not result.get("not_told")
    )
    return result


def render(result):
    lines = [
        "Outbound to suppliers (trading-partner profiles, per vendor format):",
        f"  purchase orders delivered   {result['orders_delivered']:>5} / "
        f"{result['orders_expected']} (in the vendor's format: {result['orders_right_format']})",
        f"  X12 acknowledged (997/999)  {result['x12_acknowledged']:>5} / {result['x12_expected']}",
    ]
    if "disputes" in result:
        asked = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result["disputes"].items())
        lines.append(
            f"  disputes told the vendor    {result['responses_delivered']:>5} / "
            f"{result['responses_expected']} (the AP clerk's decisions: {asked})"
        )
    other = ", ".join(f"{k} {v}" for k, v in result["other_documents"].items() if v)
    if other:
        lines.append(f"  other documents sent        {other}")
    gw = result.get("gateway")
    if gw:
        by = ", ".join(f"{k}: {v['delivered']}" for k, v in sorted(gw["by_document"].items()))
        lines.append(
            f"  suppliers' gateway          {gw['delivered']} received ({by}); "
            f"{gw['repeats']} repeats, {gw['refused']} refused"
        )
    for key in ("not_delivered", "not_acknowledged", "unexpected", "not_sent", "not_told"):
        if result.get(key):
            lines.append(f"  !! {key.replace('_', ' ')}: {', '.join(result[key][:10])}")
    lines.append(f"  target (every order delivered, every X12 acknowledged, every dispute told): "
                 f"{'met' if result['met'] else 'NOT met'}")  # fmt: skip
    return "\n".join(lines)
