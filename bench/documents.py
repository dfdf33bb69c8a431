"""In-process benchmarks of document processing and matching (run by bench/run.py).

- invoices (3 lines, UBL 2.1 / PEPPOL BIS 3) from inbox to draft bill, with PO linking and
  the three-way match, 1 and 2 workers, next to Odoo's own UBL import
  (``account_edi_ubl_cii``: ``account.journal._create_document_from_attachment``) of the
  same files in the same run;
- SQL queries per processed invoice and per matched bill, and bills matched per second,
  for growing batch sizes (the query count per bill must not grow with the batch).

Usage: python bench/documents.py <odoo.conf> <database> <what> [args]; prints JSON.
"""

import json
import logging
import multiprocessing
import os
import random
import sys
import threading
import time
from queue import Empty

import psycopg2
from ubl import GLN
from ubl import GTINS
from ubl import ubl_invoice

import odoo
import odoo.api
import odoo.modules
import odoo.service
import odoo.sql_db
import odoo.tools
from odoo.fields import Command
from odoo.modules.registry import Registry

_logger = logging.getLogger(__name__)

# Where this run's amounts start: random among 10,000,000 cents (a time-based salt modulo
# 997 made runs 100 seconds apart bill the same amounts, held as possible duplicates of
# the earlier run's bills in the same database).
RUN_SALT = random.SystemRandom().randrange(10**7)


def fixtures(conf, db, count, qty, receive, critical, tag):
    """POs for the live-server benchmarks (bench/load.py): their names, lines and prices."""
    with Registry(db).cursor() as cr:
        env = env_for(cr)
        _vendor, pos = setup_fixtures(
            env, count, tag=tag, qty=qty, receive=receive, critical=critical
        )
        env.company.hc_autopost_matched = False
        cr.commit()
        return {
            "vendor_gln": GLN,
            "orders": [
                {
                    "name": po.name,
                    "lines": [
                        {
                            "line": ln.hc_line_ref,
                            "gtin": ln.product_id.barcode,
                            "price": ln.price_unit,
                        }
                        for ln in po.order_line
                    ],
                }
                for po in pos
            ],
        }


def _price(n, i):
    """Distinct amounts per invoice and per run, as real invoices have: same-amount bills
    of one vendor within a week are duplicate suspects (and would be flagged)."""
    return round(5.0 + i + ((RUN_SALT + n) % 10**7) / 100, 2)


def env_for(cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})


def setup_fixtures(env, count, lines_per_po=3, tag="inv", qty=10, receive=True, critical=False):
    """Vendor, products, and ``count`` confirmed (and received) POs (not timed)."""
    usd = env.ref("base.USD")
    usd.active = True
    vendor = env["hc.partner.identifier"]._find_partner([("gln", GLN, "")])
    if not vendor:
        vendor = env["res.partner"].create(
            {
                "name": "Bench Medical Supply",
                "is_company": True,
                "supplier_rank": 1,
                "global_location_number": GLN,
            }
        )
        env["hc.partner.identifier"].create(
            {"partner_id": vendor.id, "scheme": "gln", "value": GLN}
        )
    products = env["product.product"]
    for i, gtin in enumerate(
        GTINS + [f"0541234500{n:04d}" for n in range(lines_per_po - len(GTINS))]
    ):
        product = env["product.product"].search([("barcode", "=", gtin)], limit=1) or env[
            "product.product"
        ].create(
            {
                "name": f"Bench item {i}",
                "barcode": gtin,
                "is_storable": True,
                "purchase_method": "receive",
                "supplier_taxes_id": [Command.clear()],
            }
        )
        products |= product
    if critical:
        products.product_tmpl_id.hc_critical = True
    pos = env["purchase.order"]
    run = int(time.time() * 1000) % 10**9
    for n in range(count):
        po = env["purchase.order"].create(
            {
                "name": f"BENCH-{tag}-{run}-{n}",
                "partner_id": vendor.id,
                "currency_id": usd.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": p.id,
                            "product_qty": qty,
                            "price_unit": _price(n, i),
                            "tax_ids": [Command.clear()],
                            "hc_line_ref": str(i + 1),
                        }
                    )
                    for i, p in enumerate(products[:lines_per_po])
                ],
            }
        )
        po.button_confirm()
        if receive:
            picking = po.picking_ids[:1]
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.with_context(skip_backorder=True).button_validate()
        pos |= po
    env["hc.tolerance.rule"].search(
        [("company_id", "=", env.company.id), ("scope", "=", "company")]
    ) or env["hc.tolerance.rule"].create(
        {"name": "Bench default", "company_id": env.company.id, "price_pct": 1.0, "total_pct": 1.0}
    )
    env.company.hc_autopost_matched = False  # measure up to the draft bill and its verdict
    return vendor, pos


def native_import(conf, db, count):
    with Registry(db).cursor() as cr:
        env = env_for(cr)
        _vendor, pos = setup_fixtures(env, count, tag="native")
        cr.commit()
        journal = env["account.journal"].search(
            [("type", "=", "purchase"), ("company_id", "=", env.company.id)], limit=1
        )
        files = [
            ubl_invoice(f"N-{po.name}", po.name, [_price(n, i) for i in range(3)])
            for n, po in enumerate(pos)
        ]
        # timed as a person uploading runs it: no context keys (the lane workers run in
        # their crons' context too)
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        journal = journal.with_env(env)
        cr.execute("SELECT pg_backend_pid()")
        backend = cr.fetchone()[0]
        backend_cpu = _cpu_of(backend)
        start, cpu = time.perf_counter(), time.process_time()
        queries = cr.sql_log_count
        for n, data in enumerate(files):
            attachment = env["ir.attachment"].create(
                {"name": f"native-{n}.xml", "raw": data, "mimetype": "application/xml"}
            )
            moves = journal.with_context(
                default_move_type="in_invoice"
            )._create_document_from_attachment(attachment.ids)
            assert moves and moves.invoice_line_ids, "native import produced no bill"
            cr.commit()
        elapsed = time.perf_counter() - start
        return {
            "invoices": count,
            "seconds": elapsed,
            "cpu": time.process_time() - cpu,
            "backend_cpu": (_cpu_of(backend) or 0) - (backend_cpu or 0),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "queries_per_invoice": (cr.sql_log_count - queries) / count,
        }


def _cpu_of(pid):
    """CPU seconds (user + system) process ``pid`` has used: a worker's PostgreSQL backend."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _drain(db, lane_id, ids, out, context, max_seconds=900):
    """One lane worker: runs the lane until every message of ``ids`` is final (a message
    stepping back behind an earlier one of its order is due again a second later).

    Reports its SQL queries, its CPU time, the wall clock (``time.perf_counter``, the
    same clock in every process) when its last run that processed something returned,
    and its PostgreSQL backend's pid (its CPU is read from /proc by the parent)."""
    odoo.sql_db.close_all()
    deadline = time.monotonic() + max_seconds
    with Registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, context)
        cr.execute("SELECT pg_backend_pid()")
        backend = cr.fetchone()[0]
        out.put(("backend", backend))
        queries = cr.sql_log_count
        cpu = time.process_time()
        last_done, idle_cpu = None, 0.0
        while time.monotonic() < deadline:
            before, before_cpu = cr.sql_log_count, time.process_time()
            env["hc.lane.worker"]._cron_process_lane(lane_id)
            cr.commit()
            if cr.sql_log_count - before > 8:  # more than a run finding nothing to claim
                last_done = time.perf_counter()
            else:
                idle_cpu += time.process_time() - before_cpu
            cr.execute(
                "SELECT count(*) FROM hc_inbox_message WHERE id = ANY(%s) "
                "AND state NOT IN ('done', 'dead')",
                [ids],
            )
            if not cr.fetchone()[0]:
                break
            cr.commit()
            time.sleep(0.02)
        out.put(
            (
                "done",
                {
                    "queries": cr.sql_log_count - queries,
                    "cpu": time.process_time() - cpu,
                    # spent polling an empty lane while the other workers finish
                    "idle_cpu": idle_cpu,
                    "last_done": last_done,
                    "backend": backend,
                },
            )
        )


def _sample_waits(db, stop, out, interval=0.02):
    """What the benchmark's database sessions are doing, sampled every ``interval`` s:
    ``{"state/wait_event_type/wait_event": samples}`` over the active sessions of ``db``
    (pg_stat_activity), and the lock waits seen (relation or advisory, with the holder)."""
    params = odoo.sql_db.connection_info_for(db)[1]
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    counts, locks, samples = {}, {}, 0
    with conn.cursor() as cur:
        while not stop.is_set():
            cur.execute(
                """SELECT a.state, COALESCE(a.wait_event_type, 'CPU'), COALESCE(a.wait_event, '-')
                     FROM pg_stat_activity a
                    WHERE a.datname = %s AND a.pid <> pg_backend_pid()
                      AND a.backend_type = 'client backend'""",
                [db],
            )
            for state, kind, event in cur.fetchall():
                key = f"{state}/{kind}/{event}"
                counts[key] = counts.get(key, 0) + 1
            cur.execute(
                """SELECT l.locktype, COALESCE(l.relation::regclass::text, ''), l.mode
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE NOT l.granted AND a.datname = %s""",
                [db],
            )
            for row in cur.fetchall():
                key = "/".join(row)
                locks[key] = locks.get(key, 0) + 1
            samples += 1
            time.sleep(interval)
    conn.close()
    out.update(samples=samples, sessions=counts, lock_waits=locks)


def pipeline_import(conf, db, count, workers, per_order=1, batch_size=10, context=None):
    """``count`` invoices drained by ``workers`` processes; ``per_order`` > 1: the month-end
    spike, each purchase order billed in ``per_order`` parts (consecutive messages).

    The time runs from the workers' start to the last message done (the end of the last
    worker's last run that processed something), not to the processes' exit.  The
    workers run in ``context`` (the lane crons' own: none, unless given).
    """
    tag = f"p{workers}" if per_order == 1 else f"m{workers}"
    with Registry(db).cursor() as cr:
        env = env_for(cr)
        orders = max(1, -(-count // per_order))
        qty = 10 if per_order == 1 else sum(range(1, per_order + 1))
        _vendor, pos = setup_fixtures(env, orders, tag=tag, qty=qty)
        connector = env["hc.connector"].search([("code", "=", "bench")])
        doc_type = env["hc.document.type"].search([("code", "=", "invoice")])
        lane = connector._lane_for(doc_type)
        lane.batch_size = batch_size
        files = []
        for j in range(count):
            n = j // per_order
            po = pos[n]
            part = 10 if per_order == 1 else j % per_order + 1
            files.append(
                ubl_invoice(
                    f"{tag.upper()}-{po.name}-{j}",
                    po.name,
                    [_price(n, i) for i in range(3)],
                    qty=part,
                )
            )
        results = env["hc.inbox.message"]._accept(
            connector, doc_type, env.company, "application/xml", files
        )
        ids = [m.id for m, _s in results]
        po_ids = pos.ids
        cr.commit()
        lane_id = lane.id
    # Forked workers must not share the parent's pooled connections.
    odoo.sql_db.close_all()
    queue = multiprocessing.Queue()
    waits, stop = {}, threading.Event()
    sampler = threading.Thread(target=_sample_waits, args=(db, stop, waits))
    load_before = os.getloadavg()
    start = time.perf_counter()
    procs = [
        multiprocessing.Process(target=_drain, args=(db, lane_id, ids, queue, dict(context or {})))
        for _i in range(workers)
    ]
    for p in procs:
        p.start()
    # The sampler's thread starts once the workers are forked: a process forked while
    # another thread is inside libpq (the sampler connecting: its SCRAM exchange draws
    # random bytes under OpenSSL's locks) can inherit a lock that nobody releases, and
    # that worker then never connects (seen: a drain that never reported, no backend).
    sampler.start()
    backends, reports = {}, []
    deadline = time.monotonic() + 960
    while len(reports) < workers:
        try:
            kind, value = queue.get(timeout=5)
        except Empty:
            if time.monotonic() > deadline:
                raise RuntimeError(f"lane workers did not report within 960 s: {procs}") from None
            lost = [p for p in procs if p.exitcode not in (None, 0)]
            if lost:
                raise RuntimeError(f"lane workers died before reporting: {lost}") from None
            continue
        if kind == "backend":
            backends[value] = _cpu_of(value)
        else:
            value["db_cpu"] = (_cpu_of(value["backend"]) or 0) - (backends[value["backend"]] or 0)
            reports.append(value)
    for p in procs:
        p.join(timeout=60)
        if p.is_alive():
            _logger.warning("Lane worker %s still running after its report: terminated", p.pid)
            p.terminate()
    stop.set()
    sampler.join()
    ends = [r["last_done"] for r in reports if r["last_done"]]
    elapsed = (max(ends) if ends else time.perf_counter()) - start
    queries = sum(r["queries"] for r in reports)
    with Registry(db).cursor() as cr:
        env = env_for(cr)
        messages = env["hc.inbox.message"].browse(ids)
        states = {}
        for m in messages:
            states[m.state] = states.get(m.state, 0) + 1
        bills = env["account.move"].search([("hc_message_id", "in", ids)])
        matched = sum(1 for b in bills if b.hc_match_state == "matched")
        # every amount right: each PO line invoiced exactly what its bills bill
        wrong = sum(
            1
            for pol in env["purchase.order"].browse(po_ids).order_line
            if abs(pol.qty_invoiced - sum(pol.invoice_lines.mapped("quantity"))) > 1e-6
            or abs(pol.qty_invoiced - pol.product_qty) > 1e-6
        )
    return {
        "invoices": count,
        "batch_size": batch_size,
        "per_order": per_order,
        "po_lines_wrong": wrong,
        "workers": workers,
        "seconds": elapsed,
        "states": states,
        "bills": len(bills),
        "matched": matched,
        "queries_per_invoice": queries / count,
        # CPU seconds of each worker's Python process and of its PostgreSQL backend
        "worker_cpu": [round(r["cpu"], 2) for r in reports],
        "idle_cpu": [round(r["idle_cpu"], 2) for r in reports],
        "backend_cpu": [round(r["db_cpu"], 2) for r in reports],
        "load_average": [round(x, 2) for x in load_before],
        "waits": waits,
    }


def match_bench(conf, db, count, lines=5):
    with Registry(db).cursor() as cr:
        env = env_for(cr)
        vendor, pos = setup_fixtures(env, count, lines_per_po=lines, tag="match")
        bills = env["account.move"]
        for po in pos:
            bills |= env["account.move"].create(
                {
                    "move_type": "in_invoice",
                    "partner_id": vendor.id,
                    "invoice_date": "2026-11-20",
                    "ref": f"M-{po.name}",
                    "currency_id": po.currency_id.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": pol.product_id.id,
                                "quantity": pol.product_qty,
                                "price_unit": pol.price_unit,
                                "purchase_line_id": pol.id,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for pol in po.order_line
                    ],
                }
            )
        cr.commit()
        service = env["hc.three.way.match"]
        out = {"bills": count, "lines_per_bill": lines, "batches": {}}
        done = 0
        start_all = time.perf_counter()
        for size in (1, 10, 100):
            if done + size > len(bills):
                break
            batch = bills[done : done + size]
            env.invalidate_all()
            q = cr.sql_log_count
            t = time.perf_counter()
            service._match_bills(batch)
            cr.commit()
            out["batches"][size] = {
                "queries_per_bill": (cr.sql_log_count - q) / size,
                "seconds_per_bill": (time.perf_counter() - t) / size,
            }
            done += size
        rest = bills[done:]
        t = time.perf_counter()
        for start in range(0, len(rest), 100):
            env.invalidate_all()
            service._match_bills(rest[start : start + 100])
            cr.commit()
        if rest:
            out["rest_bills_per_second"] = len(rest) / (time.perf_counter() - t)
        out["all_seconds"] = time.perf_counter() - start_all
        out["matched"] = sum(1 for b in bills if b.hc_match_state == "matched")
        return out


def main():
    conf, db, what = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    odoo.tools.config["log_db"] = False
    if what == "native":
        result = native_import(conf, db, count)
    elif what == "fixtures":
        qty, receive, critical, tag = sys.argv[5:9]
        result = fixtures(conf, db, count, int(qty), receive == "1", critical == "1", tag)
    elif what.startswith(("pipeline", "monthend")):
        # monthend1 / monthend2: ten partial bills per order; then the lane's batch size
        batch = int(sys.argv[5]) if len(sys.argv) > 5 else 10
        per_order = 10 if what.startswith("monthend") else 1
        result = pipeline_import(conf, db, count, int(what[-1]), per_order, batch)
    else:
        result = match_bench(conf, db, count)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
