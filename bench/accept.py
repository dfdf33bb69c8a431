"""In-process cost of accepting a document next to Odoo's ``GET /web/health``.

Both requests go through Odoo's own WSGI application (``odoo.http.root``, the code every
HTTP worker runs: session, database selection, registry signaling, routing, auth,
transaction, commit) from a werkzeug test client in one process, alternating in rounds,
so the machine's load falls on both alike.  Measured per request, median of the rounds:

- CPU time of the Odoo process (``time.process_time``): what one worker spends;
- wall time (adds PostgreSQL's time and the commit's WAL flush);
- SQL statements sent (``odoo.sql_db.sql_counter``);
- CPU time of the whole machine (``/proc/stat``: this process, PostgreSQL's backends and
  WAL writer, the kernel): what a request costs when the cores are the limit, as in
  ``make bench``'s throughput runs on a small machine.

``--sql`` prints each statement's count and mean time per request, ``--profile`` the
cProfile (CPU time) of the POSTs and of the health checks (``--callees`` names functions
whose callees to show too).  Like ``make bench``'s server, the database is chosen by
``--db-filter``: Odoo then lists the databases on every request without a session (a
new connection to ``postgres``, most of ``/web/health``'s cost), for both routes alike.

To compare two versions of the addon side by side, run it alternately with two
configuration files whose ``addons_path`` differ (same database).

Usage (from Odoo's source directory, with the project's venv):
    python <addon>/bench/accept.py <odoo.conf> <database> [--rounds N] [--per-round N]
        [--endpoint vendors|consumption] [--batch N] [--sql] [--profile]
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time

from werkzeug.test import Client

import odoo
import odoo.service.server
import odoo.sql_db
from odoo.modules.registry import Registry
from odoo.tools import config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payloads import consumption
from payloads import vendor


def setup(conf, db):
    config.parse_config(["-c", conf, "-d", db, f"--db-filter=^{db}$", "--log-level=warn"])
    odoo.service.server.load_server_wide_modules()
    with Registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        connector = env["hc.connector"].search([("code", "=", "bench")])
        if not connector:
            connector = env["hc.connector"].create(
                {
                    "name": "Bench",
                    "code": "bench",
                    "max_batch_documents": 5000,
                    "allowed_doc_type_ids": [(6, 0, env["hc.document.type"].search([]).ids)],
                }
            )
        key = connector._generate_api_key(expiration_days=1, overlap_hours=0)
        cr.commit()
    return key


def machine_cpu_s():
    """CPU seconds the whole machine spent busy so far (every process: this one,
    PostgreSQL's backends and WAL writer, the kernel), from ``/proc/stat``; None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            user, nice, system, _idle, _iowait, irq, softirq = map(
                int, stat.readline().split()[1:8]
            )
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def measure(call, count):
    """(process ms, wall ms, SQL statements, machine CPU ms) per call over ``count``."""
    q0 = odoo.sql_db.sql_counter
    m0 = machine_cpu_s()
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(count):
        call(i)
    c1, w1 = time.process_time(), time.perf_counter()
    m1 = machine_cpu_s()
    return (
        (c1 - c0) * 1000 / count,
        (w1 - w0) * 1000 / count,
        (odoo.sql_db.sql_counter - q0) / count,
        (m1 - m0) * 1000 / count if m0 is not None else float("nan"),
    )


def print_statements(post, health, count):
    """Mean wall time of each SQL statement (first words) and of the commits."""
    timings = {}
    original_execute = odoo.sql_db.Cursor.execute
    original_commit = odoo.sql_db.Cursor.commit
    original_rollback = odoo.sql_db.Cursor.rollback

    def timed(name, func):
        def wrapper(self, *a, **kw):
            t0 = time.perf_counter()
            try:
                return func(self, *a, **kw)
            finally:
                label = name
                if name == "execute":
                    query = a[0] if a else kw["query"]
                    text = query.code if hasattr(query, "code") else str(query)
                    label = " ".join(text.split())[:70]
                entry = timings.setdefault(label, [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - t0

        return wrapper

    odoo.sql_db.Cursor.execute = timed("execute", original_execute)
    odoo.sql_db.Cursor.commit = timed("COMMIT", original_commit)
    odoo.sql_db.Cursor.rollback = timed("ROLLBACK", original_rollback)
    try:
        for what, call in (("POST", post), ("health", health)):
            timings.clear()
            measure(call, count)
            print(f"statements of {what} (count per request, ms each)")
            for label, (n, seconds) in sorted(timings.items(), key=lambda x: -x[1][1]):
                print(f"  {n / count:5.2f} {seconds * 1000 / n:7.3f}  {label}")
    finally:
        odoo.sql_db.Cursor.execute = original_execute
        odoo.sql_db.Cursor.commit = original_commit
        odoo.sql_db.Cursor.rollback = original_rollback


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("conf")
    parser.add_argument("db")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=100)
    parser.add_argument("--endpoint", default="vendors", choices=["vendors", "consumption"])
    parser.add_argument("--batch", type=int, default=0, help="documents per POST (0: single)")
    parser.add_argument("--profile", action="store_true", help="cProfile (CPU time)")
    parser.add_argument("--callees", help="also print the callees of these functions")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key")
    parser.add_argument("--sql", action="store_true", help="time of each statement (POST)")
    args = parser.parse_args()
    key = setup(args.conf, args.db)

    client = Client(odoo.http.root)
    tag = str(time.time_ns())
    make = vendor if args.endpoint == "vendors" else consumption
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counter = iter(range(10**9))

    def health(_i):
        response = client.get("/web/health")
        assert response.status_code == 200, response.status_code

    def post(_i):
        n = next(counter)
        body = [make(f"{n}-{j}", tag) for j in range(args.batch)] if args.batch else make(n, tag)
        response = client.post(
            f"/api/hc/v1/{args.endpoint}", data=json.dumps(body), headers=headers
        )
        assert response.status_code == 202, (response.status_code, response.get_data())

    measure(health, 20)  # warm up (registry, routing map, caches)
    measure(post, 20)
    rows = []
    for _round in range(args.rounds):
        rows.append((measure(health, args.per_round), measure(post, args.per_round)))
    h_cpu = statistics.median(r[0][0] for r in rows)
    p_cpu = statistics.median(r[1][0] for r in rows)
    h_wall = statistics.median(r[0][1] for r in rows)
    p_wall = statistics.median(r[1][1] for r in rows)
    print(f"rounds {args.rounds} x {args.per_round} requests each, alternating")
    print(f"{'per request':30} {'health':>9} {'POST':>9} {'health/POST':>12}")
    print(f"{'CPU ms (Odoo process)':30} {h_cpu:9.2f} {p_cpu:9.2f} {h_cpu / p_cpu:12.2f}")
    print(f"{'wall ms':30} {h_wall:9.2f} {p_wall:9.2f} {h_wall / p_wall:12.2f}")
    h_machine = statistics.median(r[0][3] for r in rows)
    p_machine = statistics.median(r[1][3] for r in rows)
    print(
        f"{'CPU ms (whole machine)':30} {h_machine:9.2f} {p_machine:9.2f} "
        f"{h_machine / p_machine:12.2f}"
    )
    print(f"{'SQL statements':30} {rows[0][0][2]:9.1f} {rows[0][1][2]:9.1f}")
    print(
        "ratio per round (wall):",
        " ".join(f"{h[1] / p[1]:.2f}" for h, p in rows),
    )
    if args.sql:
        print_statements(post, health, args.per_round)
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        measure(post, args.per_round)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
        stats.print_stats(60)
        if args.callees:
            stats.print_callees(args.callees)
        print(out.getvalue())
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        measure(health, args.per_round)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(40)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
