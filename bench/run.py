"""``make bench``: benchmarks measured side by side in one run, on loopback.

On a dedicated database (``--db``, default ``hc_bench``):

- accepted POSTs per second and p50/p99 latency of ``POST /api/hc/v1/vendors`` next to
  Odoo's own minimal route ``GET /web/health``, same client and concurrency, the two
  alternating in rounds (``--api-rounds``; the median of the rounds' ratios is printed:
  the machine's load falls on both alike), and
  documents per second through the batch form (JSON arrays of 500 documents), on Odoo
  ``--workers=2`` with crons off (accepting is what a sender waits for);
- invoice processing (inbox to matched draft bill) with 1, 2 and 4 lane workers next to
  Odoo's native UBL import of the same files, SQL queries per invoice and per matched
  bill (bench/documents.py, in-process);
- point-of-use consumption accepted per second (``POST /api/hc/v1/consumption``) next to
  ``GET /web/health`` (in rounds too), and par-level replenishment planned for 10,000 item-locations
  (time and SQL queries, bench/supply.py); alone with ``--only-supply``, left out with
  ``--skip-supply``;
- a month-end spike of invoices with the peak RSS of every Odoo worker, critical
  receipts' latency while vendor updates drain on the bulk lane, and a mixed load from
  an asyncio client at growing concurrency (bench/load.py, live servers);
- the hot paths and the metrics at 10,000 and at 5,000,000 inbox rows (bench/history.py,
  ``--only history`` alone, ``--history-rows`` for another size);
- outbound documents built and delivered per second for each format (X12 004010 and
  005010, UBL, cXML, JSON; ``--outbound-orders`` POs each, bench/outbound.py in-process,
  delivered to a loopback receiver), next to inbound acceptance (``--only outbound``
  alone).

Every loop is bounded in count and time and only talks to 127.0.0.1.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load as live
from payloads import consumption
from payloads import vendor

from simulator.odoo_server import OdooEnv
from simulator.odoo_server import sh


def odoo_env(args):
    return OdooEnv(args.python, args.odoo_src, args.config)


def ensure_database(args):
    env = odoo_env(args)
    if not env.database_exists(args.db):
        print(f"creating database {args.db} (once)", flush=True)
        env.install(args.db, f"{args.module},account_edi_ubl_cii")
    else:
        sh([*env.odoo(args.db, "--stop-after-init", "--no-http", "--log-level=warn"),
            "-u", args.module, "-i", "account_edi_ubl_cii"])  # fmt: skip


BOOTSTRAP = """
connector = env['hc.connector'].search([('code', '=', 'bench')])
if not connector:
    connector = env['hc.connector'].create({
        'name': 'Bench', 'code': 'bench', 'max_batch_documents': 5000,
    })
# every document type, those a module update added to a reused database included
connector.allowed_doc_type_ids = [(6, 0, env['hc.document.type'].search([]).ids)]
key = connector._generate_api_key(expiration_days=1, overlap_hours=0)
env['hc.inbox.message'].search([('connector_id', '=', connector.id)]).unlink()
print(key)
"""


def bootstrap_connector(args):
    """Create (or reuse) a bench connector and return a fresh API key."""
    out = odoo_env(args).run_code(args.db, BOOTSTRAP)
    return out.strip().splitlines()[-1]


def start_server(args):
    # Crons off: this measures accepting, which is what a sender waits for.
    return odoo_env(args).start_server(
        args.db,
        args.port,
        workers=args.workers,
        cron_threads=0,
        extra=["--http-interface=127.0.0.1", "--log-level=warn", "--limit-time-real=120"],
    )


def load(make_request, count, concurrency, max_seconds=120, latencies=None):
    """Send ``count`` requests with ``concurrency`` threads; return (rps, p50 ms, p99 ms, errors).

    ``latencies``: a list that receives each request's latency (ms) too."""
    all_latencies = latencies
    latencies = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()
    deadline = time.time() + max_seconds

    def one(i):
        nonlocal errors
        if time.time() > deadline:
            return
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        t0 = time.perf_counter()
        ok = make_request(session, i)
        elapsed = (time.perf_counter() - t0) * 1000
        with lock:
            latencies.append(elapsed)
            errors += 0 if ok else 1

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    wall = time.perf_counter() - start
    if all_latencies is not None:
        all_latencies.extend(latencies)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / wall, statistics.median(latencies), p99, errors


def side_by_side(reference, measured, count, concurrency, rounds):
    """``reference`` and ``measured`` (request functions) alternating in ``rounds`` rounds
    of ``count / rounds`` requests each, so that the machine's load (shared cores) falls
    on both alike.  Returns ``(reference, measured, ratios)``: each (rps, p50 ms, p99 ms,
    errors) over all its rounds (rps: requests over the summed wall time of its rounds),
    and the ratio measured/reference rps of each round."""
    per_round = max(1, count // rounds)
    totals = {"reference": [0, 0.0, [], 0], "measured": [0, 0.0, [], 0]}
    ratios = []
    for _round in range(rounds):
        rates = {}
        for name, call in (("reference", reference), ("measured", measured)):
            latencies = []
            rps, _p50, _p99, errors = load(call, per_round, concurrency, latencies=latencies)
            total = totals[name]
            total[0] += len(latencies)
            total[1] += len(latencies) / rps if rps else 0.0
            total[2].extend(latencies)
            total[3] += errors
            rates[name] = rps
        ratios.append(rates["measured"] / rates["reference"])

    def summary(total):
        done, wall, latencies, errors = total
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        return done / wall, statistics.median(latencies), p99, errors

    return summary(totals["reference"]), summary(totals["measured"]), ratios


def bench_documents(args, what, count, *extra):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "documents.py")
    out = sh(
        [args.python, script, args.config, args.db, what, str(count), *map(str, extra)],
        cwd=args.odoo_src,
    )
    line = [row for row in out.stdout.splitlines() if row.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def run_documents(args):
    print("measuring invoice processing and matching (in-process, crons off)...", flush=True)
    if args.skip_documents:
        return None
    native = bench_documents(args, "native", args.invoices)
    # enough invoices and lane batches per worker that the split between workers is not
    # the measure's own granularity (60 invoices in batches of 20 capped 2 workers at
    # 1.5x); 1 and 2 workers alternate in rounds, so that a change of the machine's load
    # falls on both alike (the scaling ratio is the median of the rounds' ratios)
    runs = {1: [], 2: []}
    for _round in range(max(1, args.scaling_rounds)):
        for n in (1, 2):
            runs[n].append(
                bench_documents(args, f"pipeline{n}", args.pipeline_invoices, args.lane_batch)
            )
    return {
        "native": native,
        "pipeline1": _merge_runs(runs[1]),
        "pipeline2": _merge_runs(runs[2]),
        "scaling_rounds": [
            _rate(two) / (2 * _rate(one)) for one, two in zip(runs[1], runs[2], strict=True)
        ],
        "pipeline4": bench_documents(args, "pipeline4", args.pipeline_invoices, args.lane_batch),
        "match": bench_documents(args, "match", args.match_bills),
    }


def _rate(run):
    return run["invoices"] / run["seconds"]


def _merge_runs(runs):
    """Runs of one pipeline measure as one: rates over the summed time, CPU and query
    figures over all invoices; the sessions sampled are the last run's."""
    merged = dict(runs[-1])
    total = sum(r["invoices"] for r in runs)
    merged["invoices"] = total
    merged["rounds"] = len(runs)
    for key in ("seconds", "bills", "matched", "po_lines_wrong"):
        merged[key] = sum(r[key] for r in runs)
    merged["queries_per_invoice"] = (
        sum(r["queries_per_invoice"] * r["invoices"] for r in runs) / total
    )
    for key in ("worker_cpu", "idle_cpu", "backend_cpu"):
        merged[key] = [round(sum(c), 2) for c in zip(*(r[key] for r in runs), strict=True)]
    states = {}
    for r in runs:
        for state, count in r["states"].items():
            states[state] = states.get(state, 0) + count
    merged["states"] = states
    return merged


def print_documents(d):
    if not d:
        return
    native = d["native"]["invoices"] / d["native"]["seconds"]
    p1 = d["pipeline1"]["invoices"] / d["pipeline1"]["seconds"]
    p2 = d["pipeline2"]["invoices"] / d["pipeline2"]["seconds"]
    print()
    print(
        f"Invoice processing - UBL invoices of 3 lines each: {d['native']['invoices']} "
        f"imported natively, {d['pipeline1']['invoices']} through the inbox"
    )
    print(f"{'measure':52} {'value':>10} {'native':>10} {'ratio':>7}")
    print(f"{'Odoo native UBL import (account_edi_ubl_cii) inv/s':52} {native:10.2f}")
    print(f"{'  ms per invoice':52} {1000 / native:10.1f}")
    print(
        f"{'inbox -> draft bill + PO link + match, 1 worker inv/s':52} {p1:10.2f} {native:10.2f} {p1 / native:7.2f}"
    )
    p4 = d["pipeline4"]["invoices"] / d["pipeline4"]["seconds"]
    print(f"{'same, 2 workers inv/s':52} {p2:10.2f} {native:10.2f} {p2 / native:7.2f}")
    print(f"{'same, 4 workers inv/s':52} {p4:10.2f} {native:10.2f} {p4 / native:7.2f}")
    print(f"{'scaling efficiency 1 -> 2 workers (rate2 / 2 rate1)':52} {p2 / p1 / 2:10.2f}")
    rounds = d.get("scaling_rounds") or []
    if len(rounds) > 1:
        print(
            f"{'  median of the rounds (1 and 2 workers alternating)':52} {statistics.median(rounds):10.2f}"
        )
        print(f"{'  each round':52} " + " ".join(f"{r:.2f}" for r in rounds))
    print(f"{'scaling efficiency 1 -> 4 workers (rate4 / 4 rate1)':52} {p4 / p1 / 4:10.2f}")
    print(f"  ({os.cpu_count()} cores: the workers, PostgreSQL and the benchmark share them)")
    n, p = d["native"], d["pipeline1"]
    if "backend_cpu" in n and "worker_cpu" in p:
        # CPU seconds per invoice (Python + its PostgreSQL backend): what the machine's load
        # does not change, beside the wall-clock rates above
        native_cpu = (n["cpu"] + n["backend_cpu"]) / n["invoices"]
        p1_cpu = (sum(p["worker_cpu"]) + sum(p["backend_cpu"])) / p["invoices"]
        p2 = d["pipeline2"]
        p2_cpu = (sum(p2["worker_cpu"]) + sum(p2["backend_cpu"])) / p2["invoices"]
        print(
            f"{'CPU ms per invoice, native / 1 worker / 2 workers':52} {1000 * native_cpu:10.1f} "
            f"{1000 * p1_cpu:10.1f} {1000 * p2_cpu:7.1f}"
        )
        print(f"{'native / 1 worker, CPU per invoice (ratio)':52} {native_cpu / p1_cpu:10.2f}")
    for key in ("pipeline1", "pipeline2", "pipeline4"):
        r = d[key]
        if "worker_cpu" not in r:
            continue
        busy = sum(r["worker_cpu"]) + sum(r["backend_cpu"])
        waits = sorted(r["waits"]["sessions"].items(), key=lambda kv: -kv[1])[:4]
        print(
            f"  {key}: {r['invoices']} invoices, lane batches of {r['batch_size']}, "
            f"{r['seconds']:.1f} s; CPU s of workers {r['worker_cpu']} + their PostgreSQL "
            f"backends {r['backend_cpu']} = {busy / r['seconds']:.2f} cores busy; load "
            f"{r['load_average'][0]}; sessions sampled {r['waits']['samples']}x: {waits}; "
            f"lock waits {r['waits']['lock_waits'] or 'none'}"
        )
    print(
        f"{'SQL queries per invoice (pipeline, 1 worker)':52} {d['pipeline1']['queries_per_invoice']:10.1f} "
        f"{d['native']['queries_per_invoice']:10.1f}"
    )
    print(
        f"message states: 1 worker {d['pipeline1']['states']}, 2 workers {d['pipeline2']['states']}, "
        f"4 workers {d['pipeline4']['states']}; "
        f"bills {d['pipeline1']['bills']} + {d['pipeline2']['bills']}, matched {d['pipeline1']['matched']} + {d['pipeline2']['matched']}"
    )
    m = d["match"]
    print()
    print(f"Three-way match - {m['bills']} bills of {m['lines_per_bill']} lines")
    for size, row in m["batches"].items():
        print(
            f"  batch of {int(size):4d}: {row['queries_per_bill']:6.1f} queries/bill, {row['seconds_per_bill'] * 1000:7.1f} ms/bill"
        )
    if "rest_bills_per_second" in m:
        print(
            f"  remaining bills in batches of 100: {m['rest_bills_per_second']:.1f} bills/s; matched {m['matched']}/{m['bills']}"
        )
    print("target (invoices >= 3x native):", "met" if p1 >= 3 * native else "NOT met")


def run_history(args):
    """The history scenario (bench/history.py) on two copies of the bench database, one
    grown to ``--history-small`` inbox rows and one to ``--history-rows``, measured side by
    side by one process after a warm-up; print the table; return failures (a
    measure more than 1.2x slower with the history).  ``--reuse-history-db`` measures the
    copies a ``--keep-history-db`` run left (updated to the module first), without
    growing them again."""
    if not args.history_rows:
        return 0
    small_db, big_db = f"{args.db}_history_small", f"{args.db}_history"
    env = odoo_env(args)
    for db in (small_db, big_db):
        if args.reuse_history_db and env.database_exists(db):
            sh([*env.odoo(db, "--stop-after-init", "--no-http", "--log-level=warn"),
                "-u", args.module])  # fmt: skip
        else:
            sh(["dropdb", "--if-exists", db])
            sh(["createdb", "-T", args.db, db])
    print(
        f"measuring the hot paths at {args.history_small:,} and {args.history_rows:,} inbox "
        f"rows (databases {small_db}, {big_db}; {args.history_rounds} rounds)...",
        flush=True,
    )
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history.py")
    t0 = time.perf_counter()
    out = sh(
        [args.python, script, args.config, small_db, big_db, str(args.history_small),
         str(args.history_rows), str(args.history_rounds)],
        cwd=args.odoo_src,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    line = [row for row in out.stdout.splitlines() if row.startswith("RESULT ")][-1]
    small, big = json.loads(line[len("RESULT ") :])
    if not args.keep_history_db:
        for db in (small_db, big_db):
            sh(["dropdb", "--if-exists", db])
    made = "by an earlier run" if args.reuse_history_db else f"in {big['grow_seconds']:.0f} s"
    print()
    print(
        f"History - the same measures with {small['rows']:,} and {big['rows']:,} inbox rows "
        f"(history: done messages 32-397 days old, made in SQL {made}; "
        f"{args.history_rounds} rounds side by side after a warm-up, median of every sample) "
        f"- {machine()}"
    )
    print(f"{'measure (median ms)':44} {'history':>10} {'small':>10} {'ratio':>7} {'samples':>8}")
    failed = 0
    for key, label in (
        ("accept_ms", "accept one document (_accept + commit)"),
        ("claim_ms", "claim a batch of 20 (+ commit)"),
        ("process_ms", "process a message (vendor), per message"),
        ("metrics_ms", "GET /metrics (Prometheus text)"),
        ("health_ms", "GET /health figures"),
        ("dashboard_ms", "dashboard data (24 h)"),
    ):
        ratio = big[key] / small[key] if small[key] else float("inf")
        failed += ratio > 1.2
        print(
            f"{label:44} {big[key]:10.2f} {small[key]:10.2f} {ratio:7.2f} {big['samples'][key]:8d}"
        )
    print(
        f"(whole scenario {wall:.0f} s; the scenario's messages by state: history "
        f"{big['outcomes']}, small {small['outcomes']})"
    )
    print("target (every measure within 1.2x):", "met" if not failed else "NOT met")
    return failed


def run_supply(args, key):
    """Consumption accepted per second next to /web/health, and planning of
    ``--par-levels`` item-locations (in-process)."""
    plan = None
    if args.par_levels:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "supply.py")
        print(f"planning {args.par_levels} par levels (in-process)...", flush=True)
        out = sh(
            [args.python, script, args.config, args.db, str(args.par_levels)], cwd=args.odoo_src
        )
        line = [row for row in out.stdout.splitlines() if row.startswith("RESULT ")][-1]
        plan = json.loads(line[len("RESULT ") :])
    server = start_server(args)
    run = str(int(time.time()))
    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(s, i):
        response = s.post(
            f"{base}/api/hc/v1/consumption",
            data=json.dumps(consumption(i, run)),
            headers=headers,
            timeout=30,
        )
        return response.status_code == 202

    try:
        load(lambda s, i: s.get(f"{base}/web/health", timeout=10).ok, 50, args.concurrency)
        load(lambda s, i: post(s, -1 - i), 50, args.concurrency)
        posted = iter(range(10**9))
        health, accepted, ratios = side_by_side(
            lambda s, i: s.get(f"{base}/web/health", timeout=10).ok,
            lambda s, i: post(s, next(posted)),
            args.requests,
            args.concurrency,
            args.api_rounds,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{'':44} {'value':>12} {'baseline':>12} {'ratio':>7}")
    print(f"{'GET /web/health (Odoo) req/s':44} {health[0]:12.1f}")
    print(
        f"{'POST /api/hc/v1/consumption req/s':44} {accepted[0]:12.1f} {health[0]:12.1f} "
        f"{accepted[0] / health[0]:7.2f}"
    )
    print(
        f"{'  median of the rounds ratios':44} {'':>12} {'':>12} {statistics.median(ratios):7.2f}"
    )
    print(f"{'p99 latency ms (POST vs health)':44} {accepted[2]:12.1f} {health[2]:12.1f}")
    print(
        "par levels: not planned (--par-levels 0)"
        if not plan
        else f"par levels planned: {plan['item_locations']} item-locations in {plan['plan_seconds']} s "
        f"({plan['plan_queries']} queries, of which {plan.get('plan_rule_searches', '?')} "
        f"Odoo searches of its rules, one per reorder rule; decision {plan['decide_seconds']} s, "
        f"{plan['decide_queries']} queries), {plan['transfer_moves']} transfer moves, "
        f"{plan['order_lines']} order lines"
    )
    print(f"errors: health {health[3]}, consumption {accepted[3]}")
    return 0 if not (health[3] or accepted[3]) else 1


def run_outbound(args, inbound=None):
    """Outbound documents built and delivered per second, per format (bench/outbound.py,
    in-process), next to inbound acceptance (``inbound``: accepted POSTs per second of
    this run, when measured).  Returns failures (documents not built, not delivered, or
    delivered with other bytes)."""
    if not args.outbound_orders:
        return 0
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "outbound.py")
    print(
        f"outbound: {args.outbound_orders} purchase orders per format (in-process)...", flush=True
    )
    out = sh(
        [args.python, script, args.config, args.db, str(args.outbound_orders)], cwd=args.odoo_src
    )
    line = [row for row in out.stdout.splitlines() if row.startswith("RESULT ")][-1]
    result = json.loads(line[len("RESULT ") :])
    print()
    print(
        f"Outbound documents - {result['orders']} confirmed POs of 3 lines per format, built "
        "(canonical + render + outbox + record) and delivered (outbox, signed, loopback)"
    )
    print(
        f"{'format':14} {'built/s':>10} {'delivered/s':>12} {'bytes/doc':>10} {'exact':>7} {'failed':>7}"
    )
    failures = 0
    for name, r in result["formats"].items():
        print(
            f"{name:14} {r['built_per_second']:10.1f} {r['delivered_per_second']:12.1f} "
            f"{r['bytes_per_document']:10d} {r['exact_bytes']:7d} {r['failed']:7d}"
        )
        if r["failed"] or r["exact_bytes"] != r["documents"]:
            failures += 1
            print(f"  {name}: {r['failed']} not built ({r['failure']})")
    if inbound:
        print(f"{'inbound: POST /api/hc/v1/vendors accepted/s':44} {inbound:12.1f}")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--module", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--api-rounds",
        type=int,
        default=6,
        help="rounds alternating /web/health and the POSTs (the requests split among them)",
    )
    parser.add_argument("--invoices", type=int, default=60, help="native import")
    parser.add_argument(
        "--pipeline-invoices", type=int, default=240, help="inbox -> bill, 1/2/4 workers"
    )
    parser.add_argument(
        "--scaling-rounds",
        type=int,
        default=3,
        help="rounds alternating the 1- and 2-worker pipeline measures",
    )
    parser.add_argument("--lane-batch", type=int, default=10, help="lane batch size")
    parser.add_argument("--match-bills", type=int, default=1000)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--only-supply", action="store_true", help="consumption and par levels")
    parser.add_argument(
        "--skip-supply", action="store_true", help="no consumption / par-level scenario"
    )
    parser.add_argument("--par-levels", type=int, default=10000)
    parser.add_argument("--skip-documents", action="store_true")
    parser.add_argument("--db", default="hc_bench")
    parser.add_argument("--port", type=int, default=8079)
    parser.add_argument("--spike", type=int, default=10000, help="invoices of the spike (0: skip)")
    parser.add_argument("--spike-timeout", type=int, default=2700)
    parser.add_argument(
        "--spike-reference",
        type=int,
        default=1,
        help="also the same count of independent invoices, side by side (0: skip)",
    )
    parser.add_argument("--bulk", type=int, default=20000, help="vendor updates (0: skip)")
    parser.add_argument("--receipts", type=int, default=20)
    parser.add_argument("--load-per-level", type=int, default=400)
    parser.add_argument("--load-workers", default="2,4", help="HTTP workers ('': skip)")
    parser.add_argument("--load-levels", default="4,16,64")
    parser.add_argument(
        "--history-rows", type=int, default=5_000_000, help="inbox rows of the history (0: skip)"
    )
    parser.add_argument("--history-small", type=int, default=10_000)
    parser.add_argument("--keep-history-db", action="store_true")
    parser.add_argument(
        "--reuse-history-db", action="store_true", help="measure the kept copies again"
    )
    parser.add_argument(
        "--history-rounds", type=int, default=10, help="rounds of the measures, side by side"
    )
    parser.add_argument("--only", choices=["history", "outbound"], help="run this scenario alone")
    parser.add_argument(
        "--outbound-orders", type=int, default=200, help="POs per outbound format (0: skip)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, for trying the benchmark out"
    )
    parser.add_argument(
        "--logdir", default=os.path.expanduser("~/.cache/healthcare_p2p/bench-logs")
    )
    args = parser.parse_args()
    if args.quick:  # smaller sizes, for what was not given on the command line
        quick = {
            "invoices": 20,
            "pipeline_invoices": 60,
            "scaling_rounds": 1,
            "match_bills": 100,
            "requests": 200,
            "spike": 200,
            "bulk": 2000,
            "receipts": 6,
            "load_per_level": 100,
            "load_levels": "4,16",
            "history_rows": 200_000,
            "outbound_orders": 50,
        }
        for name, value in quick.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    os.makedirs(args.logdir, exist_ok=True)
    print(machine(), flush=True)

    ensure_database(args)
    key = bootstrap_connector(args)
    if args.only == "history":
        return 1 if run_history(args) else 0
    if args.only == "outbound":
        return 1 if run_outbound(args) else 0
    if args.only_supply:
        return run_supply(args, key)
    documents = run_documents(args)
    if args.skip_api:
        print_documents(documents)
        outbound_failed = run_outbound(args)
        return 1 if run_live(args, key) or outbound_failed else 0
    server = start_server(args)
    run = str(int(time.time()))
    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    named = {"X-Odoo-Database": args.db}

    def health_check(session, extra=None):
        return session.get(f"{base}/web/health", headers=extra, timeout=10).ok

    def post_vendor(session, document, extra=None):
        response = session.post(
            f"{base}/api/hc/v1/vendors",
            data=json.dumps(document),
            headers={**headers, **(extra or {})},
            timeout=30,
        )
        return response.status_code == 202

    try:
        # warm up both routes (worker start, registry load)
        load(lambda s, i: health_check(s), 50, args.concurrency)
        load(lambda s, i: post_vendor(s, vendor(i, "w" + run)), 50, args.concurrency)
        posted = iter(range(10**9))  # (a fresh document per POST across the rounds)
        health, post, post_ratios = side_by_side(
            lambda s, i: health_check(s),
            lambda s, i: post_vendor(s, vendor(next(posted), run)),
            args.requests,
            args.concurrency,
            args.api_rounds,
        )
        # The same two requests naming their database (``X-Odoo-Database``): Odoo then
        # skips listing the databases, which it does on a new PostgreSQL connection for
        # every request without a session when a --db-filter is set (as here, and
        # above).  What a sender gains by sending the header (README, API reference);
        # informational, a quarter of the requests.
        named_health, named_post, _named_ratios = side_by_side(
            lambda s, i: health_check(s, named),
            lambda s, i: post_vendor(s, vendor(next(posted), run), named),
            max(2, args.requests // 4),
            args.concurrency,
            max(2, args.api_rounds // 4),
        )
        batch_size, batches = 500, 8
        t0 = time.perf_counter()
        batch_errors = 0
        for b in range(batches):
            docs = [vendor(i, f"b{run}-{b}") for i in range(batch_size)]
            response = requests.post(
                f"{base}/api/hc/v1/vendors", data=json.dumps(docs), headers=headers, timeout=120
            )
            if response.status_code != 202 or response.json()["counts"]["created"] != batch_size:
                batch_errors += 1
        batch_rate = batch_size * batches / (time.perf_counter() - t0)
    finally:
        server.terminate()
        server.wait(30)

    cores = os.cpu_count()
    print()
    print(
        f"Inbound API benchmark - {time.strftime('%Y-%m-%d')} - {cores} cores - Odoo --workers={args.workers}, "
        f"{args.requests} requests, concurrency {args.concurrency}, loopback, "
        f"{args.api_rounds} rounds alternating health and POST"
    )
    print(f"{'measure':44} {'value':>12} {'reference':>12} {'ratio':>7}")
    print(f"{'GET /web/health (Odoo) req/s':44} {health[0]:12.1f} {'':>12} {'':>7}")
    print(
        f"{'POST /api/hc/v1/vendors req/s':44} {post[0]:12.1f} {health[0]:12.1f} {post[0] / health[0]:7.2f}"
    )
    print(
        f"{'  median of the rounds ratios':44} {'':>12} {'':>12} "
        f"{statistics.median(post_ratios):7.2f}"
    )
    print(f"{'  each round':44} " + " ".join(f"{r:.2f}" for r in post_ratios))
    print(
        f"{'p50 latency ms (POST vs health)':44} {post[1]:12.1f} {health[1]:12.1f} {post[1] / health[1]:7.2f}"
    )
    print(
        f"{'p99 latency ms (POST vs health)':44} {post[2]:12.1f} {health[2]:12.1f} {post[2] / health[2]:7.2f}"
    )
    print(
        f"{'batch form: documents accepted/s':44} {batch_rate:12.1f} {1000:12.1f} {batch_rate / 1000:7.2f}"
    )
    print("with X-Odoo-Database (Odoo does not list the databases on every request):")
    print(
        f"{'  GET /web/health (Odoo) req/s':44} {named_health[0]:12.1f} {health[0]:12.1f} "
        f"{named_health[0] / health[0]:7.2f}"
    )
    print(
        f"{'  POST /api/hc/v1/vendors req/s':44} {named_post[0]:12.1f} {post[0]:12.1f} "
        f"{named_post[0] / post[0]:7.2f}"
    )
    print(
        f"{'  POST / health with the header':44} {'':>12} {'':>12} "
        f"{named_post[0] / named_health[0]:7.2f}"
    )
    print(
        f"errors: health {health[3]}, post {post[3]}, batches {batch_errors}, "
        f"with the header {named_health[3] + named_post[3]}"
    )
    targets = post[0] >= 0.6 * health[0] and batch_rate >= 1000
    print(
        "targets (POST >= 60% of /web/health, batch >= 1,000 docs/s):",
        "met" if targets else "NOT met",
    )
    print_documents(documents)
    live_failed = run_outbound(args, inbound=post[0])
    live_failed += run_live(args, key)
    live_failed += run_history(args)
    if not args.skip_supply:
        live_failed += run_supply(args, key)
    errors = health[3] or post[3] or named_health[3] or named_post[3] or batch_errors
    return 0 if not (errors or live_failed) else 1


def machine():
    """Date, cores, memory and CPU of this machine, for the tables' headers."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')} - {os.cpu_count()} cores ({model}), "
        f"{ram:.0f} GiB RAM, load average {os.getloadavg()[0]:.1f}"
    )


def run_live(args, key):
    """The live-server benchmarks (bench/load.py); print their tables; return failures."""
    failed = 0
    if args.spike:
        s = live.spike(args, key, args.spike)
        indep = live.spike(args, key, args.spike, per_order=1) if args.spike_reference else None
        print()
        print(
            f"Month-end spike - {s['invoices']} UBL invoices posted over HTTP to Odoo "
            "--workers=2, 2 cron workers (lane workers: standard 2), each billing part of a "
            f"received PO - {machine()}"
        )
        print(f"{'measure':52} {'value':>10} {'reference':>10} {'ratio':>7}")
        print(
            f"{'peak RSS of an Odoo worker during the spike, MiB':52} {s['spike_peak_mib']:10.1f} "
            f"{s['rest_peak_mib']:10.1f} {s['spike_peak_mib'] / s['rest_peak_mib']:7.2f}"
        )
        print(f"{'  (reference: the same workers at rest, MiB)':52}")
        print(f"{'invoices accepted / s while posting':52} {s['post_rps']:10.1f}")
        print(f"{'invoices processed / s, post to drained':52} {s['rate']:10.2f}")
        print(f"{'seconds from first post to inbox drained':52} {s['seconds']:10.0f}")
        if indep:
            print(
                f"{'same count of independent invoices (one per order) / s':52} "
                f"{indep['rate']:10.2f}"
            )
            print(
                f"{'spike rate / independent rate (target >= 0.5)':52} {s['rate']:10.2f} "
                f"{indep['rate']:10.2f} {s['rate'] / indep['rate'] if indep['rate'] else 0:7.2f}"
            )
            print(
                f"independent: states {indep['states']}, matched {indep['matched']}, "
                f"PO lines not fully invoiced {indep['po_lines_wrong']}"
            )
        print(f"PO lines whose invoiced quantity is not the ordered one: {s['po_lines_wrong']}")
        print(
            f"states {s['states']}, matched bills {s['matched']}, worker processes seen "
            f"{s['workers_seen']}, recycled {s['recycled']}, client errors {s['errors']}"
        )
        failed += s["accepted"] != s["invoices"]
    if args.bulk:
        i = live.isolation(args, key, args.receipts, args.bulk)
        ratio = i["busy_p95"] / i["quiet_p95"] if i["quiet_p95"] else float("inf")
        met = i["busy_p95"] < 2.0 and ratio < 2.0
        print()
        print(
            f"Workload isolation - critical receipts, POST to done, while {i['bulk']} vendor "
            f"updates drain on the bulk lane - {machine()}"
        )
        print(f"{'measure':52} {'value':>10} {'reference':>10} {'ratio':>7}")
        print(
            f"{'p95 receipt latency s, bulk draining vs quiet':52} {i['busy_p95']:10.2f} "
            f"{i['quiet_p95']:10.2f} {ratio:7.2f}"
        )
        print(
            f"{'p50 receipt latency s, bulk draining vs quiet':52} {i['busy_p50']:10.2f} "
            f"{i['quiet_p50']:10.2f} {i['busy_p50'] / i['quiet_p50']:7.2f}"
        )
        print(
            f"bulk backlog: {i['bulk_depth_before']} before, {i['bulk_depth_min']} at least and "
            f"{i['bulk_depth_after']} after the last receipt; receipt states {i['states']}"
        )
        print("target (p95 < 2 s and < 2x quiet):", "met" if met else "NOT met")
        failed += i["bulk_depth_min"] == 0  # the load was gone: not measured under load
    workers = [int(w) for w in args.load_workers.split(",") if w]
    levels = [int(c) for c in args.load_levels.split(",") if c]
    if workers:
        print()
        print(
            f"Load test - asyncio client (aiohttp), mixed documents (vendors, items, POs, "
            f"receipts, invoices, payments), {args.load_per_level} per level - {machine()}"
        )
        print(
            f"{'workers':>7} {'conc.':>5} {'docs/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'errors':>6} {'health/s':>9} {'health p95':>10} {'ratio':>6}"
        )
        for w in workers:
            for row in live.load(args, key, w, levels, args.load_per_level):
                p, h = row["post"], row["health"]
                print(
                    f"{w:7d} {row['concurrency']:5d} {p['rps']:8.1f} {p['p50']:8.1f} "
                    f"{p['p95']:8.1f} {p['p99']:8.1f} {p['errors']:6d} {h['rps']:9.1f} "
                    f"{h['p95']:10.1f} {p['rps'] / h['rps'] if h['rps'] else 0:6.2f}",
                    flush=True,
                )
                if p["errors"]:
                    print(f"        statuses {p['statuses']}")
                failed += bool(p["errors"])
    return failed


if __name__ == "__main__":
    sys.exit(main())
