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
"""

from collections import Counter
from collections import defaultdict
from decimal import Decimal

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
]
CENT = Decimal("0.01")


def read_outcome(rpc):
    """Messages, bills and exceptions of the day, as plain dicts."""
    messages = rpc("hc.inbox.message", "search_read", domain=[], fields=MESSAGE_FIELDS)
    bills = rpc(
        "account.move",
        "search_read",
        domain=[("hc_message_id", "!=", False)],
        fields=BILL_FIELDS,
    )
    exceptions = rpc("hc.exception", "search_read", domain=[], fields=EXCEPTION_FIELDS)
    return {"messages": messages, "bills": bills, "exceptions": exceptions}


def _id(value):
    return value[0] if value else False


def _amount(value):
    """An amount read over JSON (a float) or from the truth (a string), to the cent."""
    return Decimal(str(value or 0)).quantize(CENT)


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
    w("")
    w(f"Odoo is running: {url}/odoo   database {db}, login admin / admin")
    w("  Procure-to-Pay Hub > Operations > Exceptions (the queues), > Inbox (every message);")
    w("  AP clerks: ap.clerk / ap.clerk, AP manager: ap.manager / ap.manager")
    w("=" * 78)
    return "\n".join(out)
