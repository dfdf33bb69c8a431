"""``python -m simulator``: generate a hospital day, replay it into Odoo, score it.

Run from the addon root.  Commands:

``generate --seed N --size tiny|small|full --out DIR``
    write the documents (one file each, in posting order), ``manifest.json``,
    ``truth.json`` and ``world.json``; no Odoo needed.
``run --db hc_demo --port 8276 ...``
    the whole demo: fresh database, addon installed, set-up (facilities, tolerances, teams,
    connectors), Odoo started with workers and cron workers, master data then the day
    posted over HTTP, drained, scored; the server is left running.
``score --url http://127.0.0.1:8276 --db hc_demo --truth DIR/truth.json --api-key-file DIR/admin.key``
    score a database again (e.g. after clerks worked the queues).
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import date

import requests

from . import driver
from . import generator
from . import point_of_use
from . import score as scoring
from . import supplier
from . import trading
from .odoo_server import OdooEnv
from .odoo_server import sh
from .odoo_setup import setup_database

MODULE = "healthcare_p2p_integration"


def _out(text):
    """Write a line for the person running the demo (a command-line tool, not a logger)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _say(text):
    _out(f"[demo] {text}")


def cmd_generate(args):
    result = generator.generate(args.seed, args.size, _day(args.day))
    generator.write(result, args.out)
    counts = result["truth"]["counts"]
    _say(
        f"{len(result['master'])} master batches + {len(result['documents'])} documents, "
        f"{counts['invoices']} invoices ({counts['clean']} clean, {counts['faulty']} faulty, "
        f"{counts['faulty_amounts']} of them with wrong amounts) written to {args.out}"
    )
    return 0


def _day(value):
    if not value:
        return generator.DEFAULT_DAY
    return date.today() if value == "today" else date.fromisoformat(value)


def cmd_run(args):
    t0 = time.time()
    env = OdooEnv(args.python, args.odoo_src, args.config)
    os.makedirs(args.out, exist_ok=True)
    result = generator.generate(args.seed, args.size, _day(args.day))
    generator.write(result, args.out)
    counts = result["truth"]["counts"]
    _say(
        f"generated (seed {args.seed}, size {args.size}): {len(result['world']['vendors'])} vendors, "
        f"{len(result['world']['items'])} items, {len(result['documents'])} documents of the day, "
        f"{counts['invoices']} invoices -> {args.out}"
    )
    if not args.prepared_db:
        _say(f"creating database {args.db} (fresh)")
        sh(["dropdb", "--if-exists", "--force", args.db])
    _say(f"installing {MODULE} into {args.db}")
    env.install(args.db, MODULE)
    keys = setup_database(env, args.db, os.path.join(args.out, "world.json"), _say)
    _say(
        f"configured: 3 facilities, purchase taxes, tolerances, AP teams, {sum(not k.startswith('_') for k in keys)} "
        "connectors with API keys"
    )
    log_file = os.path.join(args.out, "odoo.log")
    server = env.start_server(
        args.db,
        args.port,
        workers=args.workers,
        cron_threads=args.cron_threads,
        log_file=log_file,
        extra=["--http-interface=127.0.0.1"] if args.local_only else [],
    )
    with open(os.path.join(args.out, "odoo.pid"), "w") as f:
        f.write(str(server.pid))
    url = f"http://127.0.0.1:{args.port}"
    _say(
        f"Odoo started on {url} (workers {args.workers}, cron workers {args.cron_threads}; log {log_file})"
    )
    key_file = os.path.join(args.out, "admin.key")
    with open(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(keys["_admin"])
    rpc = driver.Rpc(url, args.db, keys["_admin"])

    def progress_post(n, total):
        _say(f"  posted {n}/{total}")

    def progress_drain(pending, waited):
        _say(f"  {pending} messages still to process ({waited:.0f} s)")

    t_post = time.time()
    statuses = driver.post_all(url, keys, result["master"])
    _check_statuses(result["master"], statuses)
    _say(
        f"master data posted ({sum(d['batch'] for d in result['master'])} documents in batches); processing..."
    )
    driver.wait_drained(rpc, timeout=args.timeout, progress=progress_drain)
    _say(f"master data processed ({time.time() - t_post:.0f} s)")
    if result.get("opening"):
        statuses = driver.post_all(url, keys, result["opening"])
        _check_statuses(result["opening"], statuses)
        driver.wait_drained(rpc, timeout=args.timeout, progress=progress_drain)
        _say(f"opening stock counted ({len(result['opening'])} document(s))")
    pou = result["truth"].get("supply_chain", {}).get("point_of_use")
    rpc_supply = driver.Rpc(url, args.db, keys["_supply"])
    if pou:
        done = point_of_use.configure(rpc_supply, pou)
        _say(
            f"supply chain user: {done['par_levels']} par levels at "
            f"{pou['station']['name']}, {done['consigned']} consigned implants received "
            f"into {pou['cabinet']['name']}"
        )
    gateway = start_suppliers(url, rpc, keys, result["world"])
    _say("replaying the day...")
    t_day = time.time()
    statuses = driver.post_all(url, keys, result["documents"], progress_post)
    _check_statuses(result["documents"], statuses)
    post_seconds = time.time() - t_day
    drain = driver.wait_drained(rpc, timeout=args.timeout, progress=progress_drain)
    if result.get("evening"):
        # the evening: a recall notice of lots the day received
        statuses = driver.post_all(url, keys, result["evening"])
        _check_statuses(result["evening"], statuses)
        drain += driver.wait_drained(rpc, timeout=args.timeout, progress=progress_drain)
        _say(f"evening documents processed ({len(result['evening'])}: recall notice)")
    if pou:
        # the supply chain user plans the par levels; the implant vendor bills its case
        _say(
            f"supply chain user: Plan replenishment: {point_of_use.plan_replenishment(rpc_supply)}"
        )
        bills = point_of_use.bill_only_invoices(rpc, pou, result["world"])
        statuses = driver.post_all(url, keys, bills)
        _check_statuses(bills, statuses)
        drain += driver.wait_drained(rpc, timeout=args.timeout, progress=progress_drain)
        _say(f"bill-only invoices posted and processed: {len(bills)}")
    # the AP clerk disputes a few bills (the vendors are told), then the outbox drains
    disputes = trading.clerk_disputes(driver.Rpc(url, args.db, keys["_clerk"]))
    _say(
        "AP clerk: credit notes asked on "
        f"{len(disputes['credit_note'])} bill(s), {len(disputes['reject'])} rejected"
    )
    outbound = finish_suppliers(rpc, gateway, args.timeout, progress_drain)
    outcome = scoring.read_outcome(rpc, result["truth"])
    scored = scoring.score_day(result["truth"], outcome)
    scored["outbound"] = trading.score(
        result["truth"]["outbound"], outbound, gateway.summary(), disputes
    )
    summary = scoring.business_summary(outcome)
    timings = {
        "post_seconds": post_seconds,
        "drain_seconds": drain,
        "total_seconds": time.time() - t0,
        "network": result["world"]["network"]["name"],
        "day": result["truth"]["day"],
    }
    audit_ok, audit_line = verify_audit(args)
    with open(os.path.join(args.out, "score.json"), "w") as f:
        json.dump(
            {"score": scored, "summary": summary, "timings": timings, "audit": audit_line},
            f,
            indent=1,
            default=str,
        )
    _out(scoring.render(summary, scored, timings, url, args.db))
    _out(trading.render(scored["outbound"]))
    _out(f"Audit log (make audit-verify DB={args.db}): {audit_line}")
    if not audit_ok:
        _out("!" * 78)
        _out(f"!! THE AUDIT CHAIN OF {args.db} DOES NOT VERIFY: the demo failed.")
        _out("!" * 78)
        return 1
    return 0


def start_suppliers(url, rpc, keys, world):
    """The suppliers' gateway, and each vendor's trading-partner profile pointing at it
    (what an implementation team configures once the vendors exist)."""

    def send_ack(vendor, text):
        response = requests.post(
            f"{url}/api/hc/v1/edi-acks",
            data=text.encode(),
            headers={
                "Authorization": f"Bearer {keys['edi']}",
                "Content-Type": "application/edi-x12",
                "Idempotency-Key": f"ack-{vendor}-{hashlib.sha256(text.encode()).hexdigest()[:16]}",
            },
            timeout=60,
        )
        return response.status_code

    expect = {row["code"]: row["format"] for row in trading.assignments(world)}
    gateway = supplier.SupplierGateway(expect, {}, send_ack=send_ack).start()
    gateway.secrets.update(trading.configure(rpc, world, gateway))
    formats = sorted({row["format"] for row in trading.assignments(world)})
    _say(
        f"suppliers' gateway on {gateway.url('')[:-1]}: {len(gateway.secrets)} trading-partner "
        f"profiles ({', '.join(formats)})"
    )
    return gateway


def finish_suppliers(rpc, gateway, timeout, progress):
    """Wait until the outbox delivered the day's documents, let the vendors' gateways
    answer their X12 interchanges, wait for those acknowledgments; return the outbound
    documents as Odoo recorded them."""
    start = time.time()
    pending = ["pending", "sending", "failed"]
    while True:
        left = rpc("hc.outbox.event", "search_count",
                   domain=[("profile_id", "!=", False), ("state", "in", pending)])  # fmt: skip
        if not left:
            break
        if time.time() - start > timeout:
            _say(f"  {left} outbound documents still undelivered after {timeout} s")
            break
        time.sleep(1.0)
    acks = gateway.flush_acks()
    driver.wait_drained(rpc, timeout=timeout, progress=progress)
    _say(
        f"outbound delivered ({time.time() - start:.0f} s); {acks} acknowledgment(s) from "
        "the vendors' gateways processed"
    )
    documents = trading.read_outbound(rpc)
    gateway.stop()
    return documents


def verify_audit(args):
    """``(ok, line)`` of ``scripts/audit_verify.py`` (``make audit-verify``) on the demo's
    database, run after the day drained: the chain must hold under the day's concurrency."""
    script = os.path.join(os.path.dirname(os.path.dirname(__file__)), "scripts", "audit_verify.py")
    result = subprocess.run(
        [args.python, os.path.abspath(script), "-c", args.config, "-d", args.db],
        text=True,
        capture_output=True,
        check=False,
    )
    lines = result.stdout.strip().splitlines() or result.stderr.strip().splitlines()[-3:]
    return result.returncode == 0, " ".join(lines) or f"exit {result.returncode}"


def _check_statuses(documents, statuses):
    bad = [(d["label"], s, b) for d, (s, b) in zip(documents, statuses, strict=True) if s >= 300]
    for label, status, body in bad[:10]:
        _say(f"  refused at intake: {label}: HTTP {status} {json.dumps(body)[:300]}")
    if bad:
        _say(f"  {len(bad)} document(s) refused at intake")


def cmd_score(args):
    with open(args.truth) as f:
        truth = json.load(f)
    with open(args.api_key_file) as f:
        rpc = driver.Rpc(args.url, args.db, f.read().strip())
    outcome = scoring.read_outcome(rpc, truth)
    scored = scoring.score_day(truth, outcome)
    summary = scoring.business_summary(outcome)
    timings = {"post_seconds": 0, "drain_seconds": 0, "total_seconds": 0, "day": truth["day"]}
    _out(scoring.render(summary, scored, timings, args.url, args.db))
    return 0 if all(scored["targets_met"].values()) else 1


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a generated day to a folder")
    run = sub.add_parser("run", help="the whole demo against a fresh database")
    for p in (gen, run):
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--size", choices=sorted(generator.SIZES), default="full")
        p.add_argument("--day", help="business day (YYYY-MM-DD or 'today'); default 2026-11-23")
        p.add_argument("--out", default="demo-out")
    run.add_argument("--python", default=sys.executable)
    run.add_argument("--odoo-src", required=True)
    run.add_argument("--config", required=True)
    run.add_argument("--db", default="hc_demo")
    run.add_argument(
        "--prepared-db",
        action="store_true",
        help="the database was just created (e.g. from a template): only install the addon",
    )
    run.add_argument("--port", type=int, default=8276)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--cron-threads", type=int, default=3)
    run.add_argument("--timeout", type=int, default=1800, help="seconds to wait for draining")
    run.add_argument("--local-only", action="store_true", help="listen on 127.0.0.1 only")
    sc = sub.add_parser("score", help="score a database against a truth file")
    sc.add_argument("--url", default="http://127.0.0.1:8276")
    sc.add_argument("--db", default="hc_demo")
    sc.add_argument("--truth", required=True)
    sc.add_argument(
        "--api-key-file", required=True, help="an administrator's API key (run writes admin.key)"
    )
    args = parser.parse_args(argv)
    return {"generate": cmd_generate, "run": cmd_run, "score": cmd_score}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
