"""Live-server benchmarks, run by ``bench/run.py`` (``make bench``), on loopback only.

- ``spike``: a month-end spike of supplier invoices (UBL, 3 lines, each billing part of a
  received purchase order) posted over HTTP to Odoo ``--workers=2`` with its lane
  workers on; the resident memory (RSS) of every Odoo worker process is sampled until
  the inbox is drained, next to the same processes' RSS at rest before the spike.
- ``isolation``: end-to-end latency of goods receipts for critical items (POST to the
  message being ``done``), first on a quiet system, then while vendor-master updates
  drain on the bulk lane; p95 of both, side by side.
- ``load``: a mixed document load (vendors, items, purchase orders, receipts, invoices,
  payment status) from an asyncio HTTP client at growing concurrency, next to Odoo's own
  ``GET /web/health`` at the same concurrency, for each number of HTTP workers.

Every loop is bounded in count and time; only processes started here are stopped.
"""

import json
import os
import statistics
import sys
import threading
import time

import psutil
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import faults  # noqa: E402 - the mixed, valid document set
import harness  # noqa: E402
from ubl import ubl_invoice  # noqa: E402

INVOICES_PER_ORDER = 10  # month end: many orders, each billed in parts


def fixtures(args, count, qty, receive, critical, tag):
    """``count`` purchase orders made in ``args.db`` by bench/documents.py."""
    out = harness.sh(
        [
            args.python,
            os.path.join(HERE, "documents.py"),
            args.config,
            args.db,
            "fixtures",
            str(count),
            str(qty),
            "1" if receive else "0",
            "1" if critical else "0",
            tag,
        ],
        cwd=args.odoo_src,
    )
    line = [row for row in out.stdout.splitlines() if row.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def set_lanes(args, workers):
    """Lane worker counts, e.g. ``{"critical": 1, "standard": 2, "bulk": 1}``; retried
    while a stopped server's cron job still holds its cron (Odoo refuses the change)."""
    for attempt in range(12):
        try:
            harness.odoo_eval(
                args,
                args.db,
                f"""
for code, count in {workers!r}.items():
    lane = env.ref('healthcare_p2p_integration.lane_' + code)
    if lane.worker_count != count:
        lane.worker_count = count
""",
            )
            return
        except RuntimeError:
            if attempt == 11:
                raise
            time.sleep(5)


def start(args, name, workers, cron_threads):
    """Odoo on ``args.db`` and ``args.port``, logging to ``bench-<name>.log``, once it answers."""
    return harness.Server(
        args,
        args.db,
        args.port,
        workers=workers,
        cron_threads=cron_threads,
        log=os.path.join(args.logdir, f"bench-{name}.log"),
    ).wait_ready()


def pending(args, ids):
    """How many of the messages ``ids`` are not final yet (``done`` or ``dead``)."""
    rows = harness.query(
        args.db,
        "SELECT count(*) FROM hc_inbox_message WHERE id = ANY(%s) AND state NOT IN ('done', 'dead')",
        [list(ids)],
    )
    return rows[0][0]


def states(args, ids):
    rows = harness.query(
        args.db,
        "SELECT state, count(*) FROM hc_inbox_message WHERE id = ANY(%s) GROUP BY 1",
        [list(ids)],
    )
    return dict(rows)


class RssSampler(threading.Thread):
    """Peak RSS of each worker process of ``server``, sampled every ``interval`` s."""

    def __init__(self, server, interval=0.5):
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.peaks = {}
        self.stopping = threading.Event()

    def sample(self):
        for pid in self.server.workers():
            try:
                rss = psutil.Process(pid).memory_info().rss
            except psutil.Error:
                continue
            self.peaks[pid] = max(self.peaks.get(pid, 0), rss)

    def run(self):
        while not self.stopping.is_set():
            self.sample()
            self.stopping.wait(self.interval)

    def stop(self):
        self.stopping.set()
        self.join(10)
        return self.peaks


def _mib(value):
    return value / 2**20


def spike(args, key, count, per_order=INVOICES_PER_ORDER):
    """The month-end spike; returns its figures.  ``per_order=1``: the same number of
    independent invoices (one per order), the reference the spike is compared with."""
    orders = max(1, -(-count // per_order))
    per_line = sum(range(1, per_order + 1))
    print(f"  spike: {orders} received purchase orders for {count} invoices...", flush=True)
    tag = "spike" if per_order > 1 else "indep"
    fx = fixtures(args, orders, per_line, True, False, tag)
    run = str(int(time.time()))
    docs = []
    for j in range(count):
        order = fx["orders"][j // per_order]
        qty = j % per_order + 1  # every invoice bills a different part
        prices = [ln["price"] for ln in order["lines"]]
        xml = ubl_invoice(f"S{run}-{j}", order["name"], prices, qty=qty)
        docs.append(("invoices", f"{tag}-{run}-{j}", xml, "application/xml"))
    set_lanes(args, {"critical": 1, "standard": 2, "bulk": 1})
    server = start(args, "spike", workers=2, cron_threads=2)
    try:
        # at rest: every worker has served a request (registry loaded)
        harness.get_all_sync(f"{server.base}/web/health", 40, concurrency=4)
        time.sleep(3)
        rest = RssSampler(server)
        for _i in range(4):
            rest.sample()
            time.sleep(0.5)
        initial = set(rest.peaks)
        sampler = RssSampler(server)
        sampler.start()
        t0 = time.monotonic()
        accepted, stats = harness.post_all_sync(
            server.base, key, docs, concurrency=8, deadline_s=args.spike_timeout
        )
        posted = time.monotonic() - t0
        ids = [a["id"] for a in accepted.values() if a and a.get("id")]
        deadline = t0 + args.spike_timeout
        while time.monotonic() < deadline and pending(args, ids):
            time.sleep(2)
        drained = time.monotonic() - t0
        peaks = sampler.stop()
        final = states(args, ids)
        matched = harness.query(
            args.db,
            """SELECT count(*) FROM account_move m JOIN hc_inbox_message i ON i.id = m.hc_message_id
                WHERE i.id = ANY(%s) AND m.hc_match_state = 'matched'""",
            [ids],
        )[0][0]
    finally:
        server.stop()
    wrong = harness.query(
        args.db,
        """SELECT count(*) FROM purchase_order_line l JOIN purchase_order o ON o.id = l.order_id
            WHERE o.name = ANY(%s) AND l.qty_invoiced <> l.product_qty""",
        [[order["name"] for order in fx["orders"]]],
    )[0][0]
    return {
        "invoices": count,
        "per_order": per_order,
        "po_lines_wrong": wrong,
        "accepted": len(ids),
        "post_seconds": posted,
        "post_rps": stats["rps"],
        "seconds": drained,
        "rate": len(ids) / drained if drained else 0.0,
        "states": final,
        "matched": matched,
        "rest_peak_mib": _mib(max(rest.peaks.values())),
        "rest_mean_mib": _mib(statistics.mean(rest.peaks.values())),
        "spike_peak_mib": _mib(max(peaks.values())),
        "workers_seen": len(peaks),
        "recycled": len(set(peaks) - initial),
        "errors": stats["errors"],
    }


def receipt_doc(order, tag):
    return {
        "receipt_id": f"{tag}-{order['name']}",
        "po_number": order["name"],
        "facility": {"name": "Main dock"},
        "received_date": time.strftime("%Y-%m-%d"),
        "received_by": "dock",
        "lines": [
            {
                "line_number": ln["line"],
                "item": {"gtin": ln["gtin"]},
                "quantity_received": "10",
                "uom": "EA",
            }
            for ln in order["lines"]
        ],
    }


def receipt_latency(server, key, doc, timeout=60):
    """Seconds from the POST of ``doc`` to its message being final; and its state."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    t0 = time.monotonic()
    answer = requests.post(
        f"{server.base}/api/hc/v1/receipts", data=json.dumps(doc), headers=headers, timeout=30
    )
    answer.raise_for_status()
    mid = answer.json()["id"]
    state = None
    while time.monotonic() - t0 < timeout:
        state = requests.get(
            f"{server.base}/api/hc/v1/messages/{mid}", headers=headers, timeout=30
        ).json()["state"]
        if state in ("done", "dead", "waiting"):
            break
        time.sleep(0.05)
    return time.monotonic() - t0, state


def bulk_depth(args):
    return harness.query(
        args.db,
        """SELECT count(*) FROM hc_inbox_message m JOIN hc_lane l ON l.id = m.lane_id
            WHERE l.code = 'bulk' AND m.state IN ('received', 'processing', 'failed')""",
    )[0][0]


def isolation(args, key, receipts, bulk):
    """Critical receipts' latency at rest and while ``bulk`` vendor updates drain."""
    print(f"  isolation: {2 * receipts} purchase orders of critical items...", flush=True)
    fx = fixtures(args, 2 * receipts, 10, False, True, "iso")
    quiet_orders, busy_orders = fx["orders"][:receipts], fx["orders"][receipts:]
    set_lanes(args, {"critical": 1, "standard": 1, "bulk": 1})
    server = start(args, "isolation", workers=2, cron_threads=2)
    run = str(int(time.time()))
    try:
        harness.get_all_sync(f"{server.base}/web/health", 20, concurrency=2)
        receipt_latency(server, key, receipt_doc(quiet_orders[0], f"W{run}"))  # warm-up
        quiet = [receipt_latency(server, key, receipt_doc(o, f"Q{run}")) for o in quiet_orders[1:]]
        # the bulk backlog: vendor updates in batches of 500
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for b in range(0, bulk, 500):
            batch = [
                {
                    "identifiers": [{"scheme": "SOURCE", "value": f"iso-{run}-{i}"}],
                    "name": f"Isolation Vendor {run} {i}",
                    "address": {"city": "Springfield", "country_code": "US"},
                }
                for i in range(b, min(b + 500, bulk))
            ]
            requests.post(
                f"{server.base}/api/hc/v1/vendors",
                data=json.dumps(batch),
                headers=headers,
                timeout=300,
            ).raise_for_status()
        depth_before = bulk_depth(args)
        busy, depths = [], []
        for order in busy_orders:
            busy.append(receipt_latency(server, key, receipt_doc(order, f"B{run}")))
            depths.append(bulk_depth(args))
            time.sleep(0.5)
    finally:
        server.stop()

    def p95(values):
        return harness.percentile(sorted(values), 95)

    quiet_s = [s for s, _st in quiet]
    busy_s = [s for s, _st in busy]
    return {
        "receipts": len(busy),
        "bulk": bulk,
        "bulk_depth_before": depth_before,
        "bulk_depth_after": depths[-1] if depths else None,
        "bulk_depth_min": min(depths) if depths else None,
        "quiet_p50": statistics.median(quiet_s),
        "quiet_p95": p95(quiet_s),
        "busy_p50": statistics.median(busy_s),
        "busy_p95": p95(busy_s),
        "states": sorted({st for _s, st in quiet + busy}),
    }


def load(args, key, workers, levels, per_level):
    """Mixed documents and /web/health at each concurrency in ``levels``."""
    server = start(args, f"load-{workers}", workers=workers, cron_threads=0)
    rows = []
    try:
        harness.get_all_sync(f"{server.base}/web/health", 40, concurrency=4)
        for level in levels:
            tag = f"L{int(time.time() * 1000) % 10**9}"
            docs = [
                (endpoint, f"{tag}-{key_}", body)
                for endpoint, key_, body in faults.documents(per_level, tag=tag)
            ]
            health = harness.get_all_sync(
                f"{server.base}/web/health", per_level, concurrency=level, deadline_s=60
            )
            _accepted, post = harness.post_all_sync(
                server.base, key, docs, concurrency=level, deadline_s=120, retry=False
            )
            rows.append({"workers": workers, "concurrency": level, "health": health, "post": post})
    finally:
        server.stop()
    return rows
