"""Reads the day's outcome back from Odoo and scores it against the generator's truth.

An invoice *document* counts as **flagged** when the product did not release it for
payment: its bill is blocked, or no bill was made (waiting for an unknown vendor, refused);
a resubmitted duplicate is flagged when it made no second bill that was released.

* recall = faulty documents flagged / faulty documents (target 100 %: no faulty bill paid);
* precision = faulty flagged / all flagged (target >= 98 %: clerks are not sent clean bills);
* touchless rate of clean bills = clean documents whose bill was released with no human
  action / clean documents (target >= 95 %);
* released amount accuracy = released bills whose ``amount_total`` equals the total the
  supplier stated / released bills (target 100 %: the hospital pays what was invoiced);
* faulty amounts caught = documents with a fault in their own amounts (a total that does
  not add up, a wrong tax, a line amount that is not quantity x price, freight beyond the
  charge tolerance) whose bill was not released and carries one of the expected exception
  types / such documents (target 100 %).

The hospital supply chain part of the day (:mod:`simulator.supply_chain`) is scored fact by
fact (:func:`score_supply_chain`): transfers received with their quantities, what is still
in transit and the lot's expiry at the destination; stock on hand per facility and lot
after the transfers, adjustments and receipts; the recall's quarantined quantities per
facility; the held orders (not confirmed, amount, exception), the exclusion matches and
credentials; the supply chain exceptions by type; and the point of use
(:mod:`simulator.point_of_use`): stock at each location after consumption, the par-level
transfers and draft orders with their quantities and contract prices, the critical
item's lane, the bill-only order and its matched bill.
"""

from collections import Counter
from collections import defaultdict
from decimal import Decimal

from . import point_of_use

TARGETS = {
    "recall": 1.0,
    "precision": 0.98,
    "touchless_clean": 0.95,
    "released_amount_accuracy": 1.0,
    "faulty_amounts_caught": 1.0,
}
MESSAGE_FIELDS = ["idempotency_key", "doc_type", "state", "error_code", "error_message"]
BILL_FIELDS = [
    "hc_message_id",
    "ref",
    "partner_id",
    "hc_match_state",
    "hc_released",
    "hc_touchless",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "state",
]
EXCEPTION_FIELDS = [
    "exception_type",
    "queue_id",
    "state",
    "amount",
    "move_id",
    "message_id",
    "name",
    "purchase_id",
]
CENT = Decimal("0.01")


def read_outcome(rpc, truth=None):
    """Messages, bills and exceptions of the day, as plain dicts (and the supply chain's
    records when ``truth`` has a supply chain part)."""
    messages = rpc("hc.inbox.message", "search_read", domain=[], fields=MESSAGE_FIELDS)
    bills = rpc(
        "account.move",
        "search_read",
        domain=[("hc_message_id", "!=", False)],
        fields=BILL_FIELDS,
    )
    exceptions = rpc("hc.exception", "search_read", domain=[], fields=EXCEPTION_FIELDS)
    outcome = {"messages": messages, "bills": bills, "exceptions": exceptions}
    if truth and truth.get("supply_chain"):
        outcome["supply_chain"] = read_supply_chain(rpc, truth["supply_chain"])
    return outcome


def _id(value):
    return value[0] if value else False


def _amount(value):
    """An amount read over JSON (a float) or from the truth (a string), to the cent."""
    return Decimal(str(value or 0)).quantize(CENT)


def score_day(truth, outcome):
    """The invoice score, plus the supply chain's when the truth and outcome have one."""
    scored = score(truth, outcome)
    if truth.get("supply_chain") and outcome.get("supply_chain"):
        scored["supply_chain"] = score_supply_chain(
            truth["supply_chain"], dict(outcome["supply_chain"], exceptions=outcome["exceptions"])
        )
    return scored


def score(truth, outcome):
    """Compare the outcome with the truth; return a dict of figures (see module doc)."""
    msg_by_key = {m["idempotency_key"]: m for m in outcome["messages"]}
    bill_by_msg = {_id(b["hc_message_id"]): b for b in outcome["bills"]}
    exc_by_msg = defaultdict(list)
    exc_by_bill = defaultdict(list)
    for exc in outcome["exceptions"]:
        if exc["message_id"]:
            exc_by_msg[_id(exc["message_id"])].append(exc)
        if exc["move_id"]:
            exc_by_bill[_id(exc["move_id"])].append(exc)
    rows = []
    for entry in truth["invoices"]:
        message = msg_by_key.get(entry["idempotency_key"])
        bill = bill_by_msg.get(message["id"]) if message else None
        released = bool(bill and bill["hc_released"])
        touchless = bool(bill and bill["hc_touchless"])
        excs = exc_by_msg.get(message["id"], []) if message else []
        if bill:
            excs = excs + [e for e in exc_by_bill.get(bill["id"], []) if e not in excs]
        if entry["faults"] == ["duplicate"]:
            original = msg_by_key.get(entry["duplicate_of"])
            original_bill = bill_by_msg.get(original["id"]) if original else None
            if original_bill:
                excs += [
                    e
                    for e in exc_by_bill.get(original_bill["id"], [])
                    if e["exception_type"] == "duplicate_invoice" and e not in excs
                ]
        rows.append(
            {
                **entry,
                "message_state": message["state"] if message else "not received",
                "error": message and message.get("error_code"),
                "bill_state": bill and bill["hc_match_state"],
                "released": released,
                "touchless": touchless,
                "flagged": not released,
                "exception_types": sorted({e["exception_type"] for e in excs}),
                "billed": bill
                and {k: str(_amount(bill[f"amount_{k}"])) for k in ("untaxed", "tax", "total")},
            }
        )
    clean = [r for r in rows if r["clean"]]
    faulty = [r for r in rows if not r["clean"]]
    flagged = [r for r in rows if r["flagged"]]
    true_pos = [r for r in faulty if r["flagged"]]
    typed = [r for r in faulty if r["expected_exceptions"]]
    right_type = [r for r in typed if set(r["expected_exceptions"]) & set(r["exception_types"])]
    # a resubmitted duplicate makes no bill of its own: its original is the one counted
    released = [r for r in rows if r["released"] and r.get("expected_totals")]
    accurate = [
        r
        for r in released
        if _amount(r["billed"]["total"]) == _amount(r["expected_totals"]["total"])
    ]
    amount_faulty = [r for r in rows if r.get("amount_fault")]
    caught = [
        r
        for r in amount_faulty
        if not r["released"] and set(r["expected_exceptions"]) & set(r["exception_types"])
    ]
    result = {
        "invoices": len(rows),
        "clean": len(clean),
        "faulty": len(faulty),
        "flagged": len(flagged),
        "recall": len(true_pos) / len(faulty) if faulty else 1.0,
        "precision": len(true_pos) / len(flagged) if flagged else 1.0,
        "touchless_clean": (
            sum(1 for r in clean if r["released"] and r["touchless"]) / len(clean) if clean else 1.0
        ),
        "exception_type_right": len(right_type) / len(typed) if typed else 1.0,
        "released": len(released),
        "released_amount_accuracy": len(accurate) / len(released) if released else 1.0,
        "faulty_amounts": len(amount_faulty),
        "faulty_amounts_caught": len(caught) / len(amount_faulty) if amount_faulty else 1.0,
        "amount_wrong": [r for r in released if r not in accurate],
        "amount_faults_missed": [r for r in amount_faulty if r not in caught],
        "missed": [r for r in faulty if not r["flagged"]],
        "false_alarms": [r for r in clean if r["flagged"]],
        "clean_not_touchless": [r for r in clean if not (r["released"] and r["touchless"])],
        "wrong_type": [r for r in typed if r not in right_type],
        "rows": rows,
    }
    result["targets_met"] = {name: result[name] >= target for name, target in TARGETS.items()}
    return result


def business_summary(outcome):
    """Figures a finance lead reads: documents, bills, touchless, exceptions, amounts."""
    by_type = defaultdict(Counter)
    for m in outcome["messages"]:
        by_type[m["doc_type"]][m["state"]] += 1
    bills = outcome["bills"]
    released = [b for b in bills if b["hc_released"]]
    touchless = [b for b in bills if b["hc_touchless"]]
    blocked = [b for b in bills if not b["hc_released"]]
    open_exc = [e for e in outcome["exceptions"] if e["state"] not in ("resolved", "cancelled")]
    exc_type = Counter(e["exception_type"] for e in open_exc)
    exc_queue = Counter((e["queue_id"] or [0, "(no queue)"])[1] for e in open_exc)
    exc_amount = defaultdict(Decimal)
    for e in open_exc:
        exc_amount[e["exception_type"]] += Decimal(str(e["amount"] or 0))
    return {
        "documents": {t: dict(c) for t, c in sorted(by_type.items())},
        "messages": len(outcome["messages"]),
        "bills": len(bills),
        "released": len(released),
        "touchless": len(touchless),
        "blocked": len(blocked),
        "amount_billed": sum(Decimal(str(b["amount_total"])) for b in bills),
        "amount_released": sum(Decimal(str(b["amount_total"])) for b in released),
        "amount_blocked": sum(Decimal(str(b["amount_total"])) for b in blocked),
        "exceptions_open": len(open_exc),
        "exceptions_by_type": dict(exc_type.most_common()),
        "exceptions_by_queue": dict(exc_queue.most_common()),
        "exception_amounts": dict(exc_amount),
    }


LABELS = {
    "vendor": "vendor master",
    "item": "item master",
    "contract_price": "contract prices",
    "purchase_order": "purchase orders",
    "po_ack": "PO acknowledgments",
    "ship_notice": "ship notices",
    "receipt": "goods receipts",
    "invoice": "supplier invoices",
    "payment": "payment status",
}


def _pct(value):
    return f"{value * 100:.1f} %"


def render(summary, scored, timings, url, db):
    """The text printed at the end of ``make demo``."""
    out = []
    w = out.append
    w("")
    w("=" * 78)
    w(f" A day at {timings.get('network', 'the network')} - {timings.get('day', '')}")
    w("=" * 78)
    w(
        f"Documents received over HTTP: {summary['messages']} "
        f"(posted in {timings['post_seconds']:.0f} s, all processed "
        f"{timings['drain_seconds']:.0f} s later; whole run {timings['total_seconds']:.0f} s)"
    )
    for doc_type, states in summary["documents"].items():
        detail = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
        w(f"  {LABELS.get(doc_type, doc_type):22} {sum(states.values()):6}   {detail}")
    w("")
    w(f"Supplier bills created: {summary['bills']}  (${summary['amount_billed']:,.2f})")
    rate = summary["touchless"] / summary["bills"] if summary["bills"] else 0
    w(
        f"  released for payment with no human action (touchless): {summary['touchless']} "
        f"= {_pct(rate)}"
    )
    w(
        f"  blocked for a person to review: {summary['blocked']}, "
        f"amount blocked ${summary['amount_blocked']:,.2f}"
    )
    w("")
    w(f"Open exceptions: {summary['exceptions_open']}")
    w("  by type:")
    for kind, n in summary["exceptions_by_type"].items():
        amount = summary["exception_amounts"].get(kind) or 0
        extra = f"   (${amount:,.2f} at stake)" if amount else ""
        w(f"    {kind:26} {n:5}{extra}")
    w("  by queue (team):")
    for queue, n in summary["exceptions_by_queue"].items():
        w(f"    {queue:40} {n:5}")
    w("")
    w("Scored against the generator's truth (which invoices it made faulty, and how):")
    w(
        f"  invoice documents {scored['invoices']}: {scored['clean']} clean, "
        f"{scored['faulty']} faulty (variances, wrong amounts, duplicates, unknown items/vendor...)"
    )
    marks = {k: "met" if v else "NOT MET" for k, v in scored["targets_met"].items()}
    released = scored["released"]
    for label, key, target, note in (
        ("exception recall", "recall", "100 %", "faulty bills not released"),
        ("exception precision", "precision", " 98 %", "blocked bills that were really faulty"),
        ("touchless clean bills", "touchless_clean", " 95 %", ""),
        ("right exception type", "exception_type_right", None, "of faulty bills"),
        (
            "released amount accuracy",
            "released_amount_accuracy",
            "100 %",
            f"of {released} released bills, total = the supplier's stated total",
        ),
        (
            "faulty amounts caught",
            "faulty_amounts_caught",
            "100 %",
            f"of {scored['faulty_amounts']} invoices with a wrong total, tax, line amount "
            "or freight",
        ),
    ):
        goal = f"  target {target}  {marks[key]}" if target else ""
        w(f"  {label:25}{_pct(scored[key]):>8}{goal}" + (f"  ({note})" if note else ""))
    for title, key in (
        ("faulty but released", "missed"),
        ("clean but blocked", "false_alarms"),
        ("faulty, other exception type than expected", "wrong_type"),
    ):
        if scored[key]:
            w(f"  {title}:")
            for r in scored[key][:12]:
                w(
                    f"    {r['invoice_number']:10} {r['scenario']:32} {r['format']:11} "
                    f"bill={r['bill_state']} msg={r['message_state']} exc={','.join(r['exception_types']) or '-'}"
                )
            if len(scored[key]) > 12:
                w(f"    ... {len(scored[key]) - 12} more in score.json")
    if scored["amount_wrong"]:
        w("  released for another total than the supplier's (stated -> billed untaxed/tax/total):")
        for r in scored["amount_wrong"][:12]:
            stated, billed = r["expected_totals"], r["billed"]
            w(
                f"    {r['invoice_number']:10} {r['scenario']:32} {r['format']:11} "
                f"{stated['untaxed']}/{stated['tax']}/{stated['total']} -> "
                f"{billed['untaxed']}/{billed['tax']}/{billed['total']}"
            )
        if len(scored["amount_wrong"]) > 12:
            w(f"    ... {len(scored['amount_wrong']) - 12} more in score.json")
    if scored["amount_faults_missed"]:
        w("  faulty amounts not caught (released, or without an expected exception):")
        for r in scored["amount_faults_missed"][:12]:
            w(
                f"    {r['invoice_number']:10} {r['scenario']:32} {r['format']:11} "
                f"released={'yes' if r['released'] else 'no'} "
                f"expected={','.join(r['expected_exceptions'])} "
                f"exc={','.join(r['exception_types']) or '-'}"
            )
        if len(scored["amount_faults_missed"]) > 12:
            w(f"    ... {len(scored['amount_faults_missed']) - 12} more in score.json")
    if scored.get("supply_chain"):
        out.extend(render_supply_chain(scored["supply_chain"]))
    w("")
    w(f"Odoo is running: {url}/odoo   database {db}, login admin / admin")
    w("  Procure-to-Pay Hub > Operations > Exceptions (the queues), > Inbox (every message);")
    w("  AP clerks: ap.clerk / ap.clerk, AP manager: ap.manager / ap.manager")
    w("=" * 78)
    return "\n".join(out)


# --------------------------------------------------------------------------- supply chain

SUPPLY_EXCEPTION_TYPES = ("transfer_discrepancy", "stock_adjustment", "recall", "vendor_hold")


def read_supply_chain(rpc, truth):
    """What the supply chain part of the day left in Odoo (issue 18): transfers, stock of
    the day's lots (on hand and in transit), their expiry, the recall and its trace, the
    held orders, exclusion matches and credentials.  ``truth`` is the generator's
    ``truth["supply_chain"]`` (it names the lots, orders and vendors to read)."""
    lots = sorted({row["lot"] for row in truth["on_hand"]} | {t["lot"] for t in truth["transfers"]})
    glns = sorted(
        {h["vendor_gln"] for h in truth["vendor_holds"]}
        | set(truth["exclusion_matches"])
        | set(truth["expired_credential_vendors"])
    )
    quant_fields = ["product_id", "lot_id", "location_id", "quantity", "warehouse_id"]
    outcome = {} if "point_of_use" not in truth else {
        "point_of_use": point_of_use.read(rpc, truth["point_of_use"])
    }  # fmt: skip
    return outcome | {
        "transfers": rpc(
            "hc.stock.transfer",
            "search_read",
            domain=[],
            fields=["name", "state", "source_warehouse_id", "dest_warehouse_id"],
        ),
        "quants": rpc(
            "stock.quant",
            "search_read",
            domain=[("lot_id.name", "in", lots), ("location_id.usage", "=", "internal")],
            fields=quant_fields,
        ),
        "transit": rpc(
            "stock.quant",
            "search_read",
            domain=[("lot_id.name", "in", lots), ("location_id.usage", "=", "transit")],
            fields=quant_fields,
        ),
        "lots": rpc(
            "stock.lot",
            "search_read",
            domain=[("name", "in", lots)],
            fields=["name", "expiration_date", "company_id"],
        ),
        "recalls": rpc("hc.recall", "search_read", domain=[], fields=["name", "state"]),
        "recall_lines": rpc(
            "hc.recall.line",
            "search_read",
            domain=[],
            fields=["recall_id", "kind", "warehouse_id", "lot_id", "quantity", "quarantined"],
        ),
        "orders": rpc(
            "purchase.order",
            "search_read",
            domain=[("name", "in", [h["po_number"] for h in truth["vendor_holds"]])],
            fields=["name", "state", "partner_id", "amount_untaxed"],
        ),
        "vendors": rpc(
            "res.partner",
            "search_read",
            domain=[("global_location_number", "in", glns)],
            fields=["name", "global_location_number", "hc_vendor_hold"],
        ),
        "matches": rpc(
            "hc.exclusion.match",
            "search_read",
            domain=[("state", "in", ["pending", "confirmed"])],
            fields=["partner_id", "state", "score"],
        ),
        "credentials": rpc(
            "hc.vendor.credential", "search_read", domain=[], fields=["partner_id", "state"]
        ),
    }


def _qty(value):
    return Decimal(str(value or 0)).quantize(Decimal("0.001"))


def score_supply_chain(truth, outcome):
    """Each supply chain fact of the truth against what Odoo holds: a list of checks
    ``{area, check, expected, actual, ok}`` with quantities and amounts, and totals.

    ``outcome`` is :func:`read_supply_chain`'s result plus the day's ``exceptions``."""
    checks = []

    def check(area, what, expected, actual):
        checks.append(
            {
                "area": area,
                "check": what,
                "expected": expected,
                "actual": actual,
                "ok": expected == actual,
            }
        )

    names = truth["facilities"]
    code_of = {name: code for code, name in names.items()}

    def stock(rows, code, lot):
        total = Decimal(0)
        for q in rows:
            if q["lot_id"] and q["lot_id"][1] == lot:
                if code is None or code_of.get((q["warehouse_id"] or [0, ""])[1]) == code:
                    total += _qty(q["quantity"])
        return total

    excs = [e for e in outcome["exceptions"] if e["exception_type"] in SUPPLY_EXCEPTION_TYPES]
    by_type = Counter(e["exception_type"] for e in excs)
    transfers = {t["name"]: t for t in outcome["transfers"]}
    expiry = defaultdict(set)
    for lot in outcome["lots"]:
        expiry[lot["name"]].add((lot["expiration_date"] or "")[:10])
    # transfers: received, with the quantities and the lot's expiry at the destination
    for t in truth["transfers"]:
        tid = t["transfer_id"]
        check("transfers", f"{tid} state", "received", (transfers.get(tid) or {}).get("state"))
        check(
            "transfers",
            f"{tid} {t['lot']} received at {t['to']}",
            _qty(t["received"]),
            stock(outcome["quants"], t["to"], t["lot"]),
        )
        check(
            "transfers",
            f"{tid} {t['lot']} still in transit",
            _qty(t["in_transit"]),
            stock(outcome["transit"], None, t["lot"]),
        )
        check("transfers", f"{tid} {t['lot']} expiry kept", {t["expiry"]}, expiry[t["lot"]])
        if t["discrepancy"]:
            named = [e for e in excs if e["exception_type"] == "transfer_discrepancy"]
            check(
                "transfers",
                f"{tid} discrepancy exception",
                True,
                any(tid in (e["name"] or "") for e in named),
            )
    # stock on hand per facility and lot after the transfers, adjustments and receipts
    for row in truth["on_hand"]:
        check(
            "stock",
            f"{row['lot']} on hand at {row['facility']}",
            _qty(row["quantity"]),
            stock(outcome["quants"], row["facility"], row["lot"]),
        )
    # the recall: traced, quarantined where held, one exception per facility
    recall = truth["recall"]
    recalls = {r["name"]: r for r in outcome["recalls"]}
    check(
        "recall",
        f"{recall['recall_id']} state",
        "open",
        (recalls.get(recall["recall_id"]) or {}).get("state"),
    )
    quarantined = defaultdict(Decimal)
    for line in outcome["recall_lines"]:
        if line["kind"] == "on_hand" and line["quarantined"]:
            code = code_of.get((line["warehouse_id"] or [0, ""])[1], "?")
            quarantined[code] += _qty(line["quantity"])
    for code in sorted(set(recall["quarantined"]) | set(quarantined)):
        check(
            "recall",
            f"quarantined at {code}",
            _qty(recall["quarantined"].get(code, 0)),
            quarantined.get(code, Decimal(0)).quantize(Decimal("0.001")),
        )
    # vendors on hold: their approved orders kept as RFQs, each with its exception
    orders = {o["name"]: o for o in outcome["orders"]}
    for hold in truth["vendor_holds"]:
        order = orders.get(hold["po_number"])
        check(
            "vendor holds",
            f"{hold['po_number']} ({hold['reason']}) not confirmed",
            True,
            bool(order) and order["state"] in ("draft", "sent"),
        )
        check(
            "vendor holds",
            f"{hold['po_number']} amount held",
            _amount(hold["amount"]),
            _amount(order["amount_untaxed"]) if order else None,
        )
        check(
            "vendor holds",
            f"{hold['po_number']} vendor_hold exception",
            True,
            bool(order)
            and any(
                e["exception_type"] == "vendor_hold" and _id(e["purchase_id"]) == order["id"]
                for e in excs
            ),
        )
    gln_of = {v["id"]: v["global_location_number"] for v in outcome["vendors"]}
    matched = sorted({gln_of.get(_id(m["partner_id"]), "other") for m in outcome["matches"]})
    check(
        "vendor holds",
        "vendors matched on the exclusion list",
        sorted(truth["exclusion_matches"]),
        matched,
    )
    holds = {v["global_location_number"]: v["hc_vendor_hold"] or "" for v in outcome["vendors"]}
    for gln_ in truth["expired_credential_vendors"]:
        check(
            "vendor holds",
            f"{gln_} held for an expired credential",
            True,
            "expired credential" in holds.get(gln_, ""),
        )
    check(
        "vendor holds",
        "credentials posted with the vendor master",
        truth["credentials"],
        len(outcome["credentials"]),
    )
    # consumption, par-level replenishment and bill-only implants (point of use)
    figures = {}
    if "point_of_use" in truth:
        figures = point_of_use.checks(
            truth["point_of_use"], outcome.get("point_of_use") or point_of_use.EMPTY, check
        )
    # exceptions of the supply chain, by type
    for kind, expected in sorted(truth["expected_exceptions"].items()):
        check("exceptions", f"{kind} exceptions", expected, by_type.get(kind, 0))
    failed = [c for c in checks if not c["ok"]]
    return {
        "point_of_use": figures,
        "checks": checks,
        "passed": len(checks) - len(failed),
        "total": len(checks),
        "failed": failed,
        "quarantined": {k: str(v) for k, v in sorted(quarantined.items())},
        "held_amount": str(
            sum((_amount(o["amount_untaxed"]) for o in outcome["orders"]), Decimal(0))
        ),
        "exceptions": dict(sorted(by_type.items())),
    }


def render_supply_chain(scored):
    """The supply chain section of the summary (after the invoice score)."""
    out = ["", "Hospital supply chain, scored against the truth "
           f"({scored['passed']}/{scored['total']} checks met):"]  # fmt: skip
    areas = defaultdict(list)
    for c in scored["checks"]:
        areas[c["area"]].append(c)
    for area, rows in areas.items():
        ok = sum(r["ok"] for r in rows)
        out.append(f"  {area:14} {ok}/{len(rows)}")
        for r in rows:
            mark = "ok " if r["ok"] else "NO "
            expected, actual = r["expected"], r["actual"]
            shown = f"{actual}" if r["ok"] else f"expected {expected}, got {actual}"
            out.append(f"    {mark} {r['check']:52} {shown}")
    quarantined = ", ".join(f"{k} {v}" for k, v in scored["quarantined"].items()) or "none"
    out.append(f"  quantities quarantined per facility: {quarantined}")
    out.append(f"  orders held for vendor compliance: ${Decimal(scored['held_amount']):,.2f}")
    pou = scored.get("point_of_use")
    if pou:
        out.append(
            f"  par-level replenishment: {Decimal(pou['transferred']):,.0f} units on internal "
            f"transfers, {pou['draft_orders']} draft order(s) at contract prices "
            f"${Decimal(pou['draft_amount']):,.2f}"
        )
        out.append(
            f"  bill-only implants: ordered ${Decimal(pou['bill_only_amount']):,.2f}, "
            f"billed, matched and released ${Decimal(pou['bill_only_released']):,.2f}"
        )
    return out
