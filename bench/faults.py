"""Fault tests (``make test-faults``): the inbox under worker kills, a database restart, two
servers on one database, and duplicated, shuffled, out-of-order deliveries.

One deterministic set of documents (vendors, items, purchase orders, goods receipts,
supplier invoices, payment status) is posted over HTTP to Odoo servers started here
(``--workers`` with lane crons), on copies of one prepared database.  The reference is the
*in-order* run: each document type posted and drained before the next.  Every scenario
then ends with the same invariant check:

- every accepted message is ``done``, ``waiting`` (with what it waits for) or ``dead``
  (with a reason): none lost (accepted but absent), none stuck (received, processing,
  failed once the run is drained);
- no duplicate purchase order, vendor bill, receipt picking or payment;
- the final business state (orders, received and billed quantities, bills, their match
  and payment status, vendors and products) equals the in-order run's.
- the audit log's hash chain verifies end to end (``make audit-verify``): concurrent lane
  workers, killed workers, racing servers and a restarted PostgreSQL must not fork it.

Scenarios:

- ``kill``: ``kill -9`` an Odoo cron worker mid-batch, repeatedly, while it drains;
- ``pgrestart``: restart PostgreSQL (immediate: a crash) during load, on a throwaway
  cluster of this suite's own (port 5499), never the shared server;
- ``race``: two Odoo servers on one database, both accepting and both draining;
- ``shuffle``: every document sent twice, shuffled (so often out of order);
- ``reverse``: every document in reverse dependency order.

Only processes this suite started are stopped or killed (it keeps their pids).
"""

import json
import os
import random
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness

BASE_DB = "hc_faults_base"
CODE = "faults"
LANE_WORKERS = {"critical": 1, "standard": 2, "bulk": 1}


# ----------------------------------------------------------------------------------
# The documents
# ----------------------------------------------------------------------------------


def check_digit(digits):
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def gln(n):
    body = f"061414{n:06d}"
    return body + check_digit(body)


def gtin(n):
    body = f"1061414{n:06d}"
    return body + check_digit(body)


def documents(total, seed=7, tag="FLT"):
    """``total`` documents in dependency order: ``[(endpoint, key, body)]``; ``tag``
    prefixes business numbers (other runs on one database use their own)."""
    rnd = random.Random(seed)
    vendors = max(2, total // 100)
    items_per_vendor = 3
    groups = (total - vendors * (1 + items_per_vendor)) // 4
    docs = []
    for v in range(vendors):
        docs.append(
            (
                "vendors",
                f"v-{v}",
                {
                    "identifiers": [{"scheme": "GLN", "value": gln(v)}],
                    "name": f"Fault Test Supplier {v}",
                    "address": {"city": f"Town {v}", "country_code": "US"},
                },
            )
        )
    for v in range(vendors):
        for i in range(items_per_vendor):
            n = v * items_per_vendor + i
            docs.append(
                (
                    "items",
                    f"i-{n}",
                    {
                        "gtin": gtin(n),
                        "description": f"Fault test item {n}",
                        "uom": "EA",
                        "vendor": {"identifiers": [{"scheme": "GLN", "value": gln(v)}]},
                    },
                )
            )
    po_docs, receipts, invoices, payments = [], [], [], []
    for g in range(groups):
        v = g % vendors
        vendor = {"identifiers": [{"scheme": "GLN", "value": gln(v)}]}
        picks = rnd.sample(range(items_per_vendor), 2)
        lines = []
        for ln, i in enumerate(picks, 1):
            lines.append(
                {
                    "line_number": str(ln),
                    "gtin": gtin(v * items_per_vendor + i),
                    "quantity": Decimal(rnd.randint(1, 20) * 5),
                    "price": Decimal(rnd.randint(100, 9999)) / 100,
                }
            )
        number = f"{tag}-PO-{g:05d}"
        po_docs.append(
            (
                "purchase-orders",
                f"po-{g}",
                {
                    "number": number,
                    "order_date": "2026-11-02",
                    "vendor": vendor,
                    "currency": "USD",
                    "approval_status": "approved",
                    "lines": [
                        {
                            "line_number": ln["line_number"],
                            "item": {"gtin": ln["gtin"]},
                            "quantity": str(ln["quantity"]),
                            "uom": "EA",
                            "unit_price": str(ln["price"]),
                        }
                        for ln in lines
                    ],
                },
            )
        )
        receipts.append(
            (
                "receipts",
                f"gr-{g}",
                {
                    "receipt_id": f"{tag}-GR-{g:05d}",
                    "po_number": number,
                    "facility": {"identifiers": [{"scheme": "GLN", "value": gln(9999)}]},
                    "received_date": "2026-11-10",
                    "received_by": "dock",
                    "lines": [
                        {
                            "line_number": ln["line_number"],
                            "item": {"gtin": ln["gtin"]},
                            "quantity_received": str(ln["quantity"]),
                            "uom": "EA",
                        }
                        for ln in lines
                    ],
                },
            )
        )
        total_amount = sum(ln["quantity"] * ln["price"] for ln in lines)
        invoice_number = f"{tag}-INV-{g:05d}"
        invoices.append(
            (
                "invoices",
                f"inv-{g}",
                {
                    "number": invoice_number,
                    "issue_date": "2026-11-20",
                    "currency": "USD",
                    "vendor": vendor,
                    "po_numbers": [number],
                    "lines": [
                        {
                            "line_number": ln["line_number"],
                            "po_line_ref": ln["line_number"],
                            "item": {"gtin": ln["gtin"]},
                            "quantity": str(ln["quantity"]),
                            "uom": "EA",
                            "unit_price": str(ln["price"]),
                        }
                        for ln in lines
                    ],
                    "tax_total": "0",
                    "gross_total": f"{total_amount:.2f}",
                },
            )
        )
        payments.append(
            (
                "payments",
                f"pay-{g}",
                {
                    "payment_id": f"{tag}-PAY-{g:05d}",
                    "status": "paid",
                    "vendor": vendor,
                    "amount": f"{total_amount:.2f}",
                    "currency": "USD",
                    "payment_date": "2026-11-30",
                    "method": "ach",
                    "invoices": [
                        {"invoice_number": invoice_number, "amount_paid": f"{total_amount:.2f}"}
                    ],
                },
            )
        )
    return docs + po_docs + receipts + invoices + payments


# ----------------------------------------------------------------------------------
# Database state: drain, invariants, fingerprint
# ----------------------------------------------------------------------------------

PENDING = ("received", "processing", "failed")


def message_states(db, port=harness.PGPORT):
    rows = harness.query(
        db,
        """SELECT m.state, count(*) FROM hc_inbox_message m
             JOIN hc_connector c ON c.id = m.connector_id WHERE c.code = %s GROUP BY 1""",
        [CODE],
        port,
    )
    return dict(rows)


def drain(db, timeout, port=harness.PGPORT, during=None, waiting_grace=120):
    """Wait until no message is pending (twice in a row); ``during()`` runs each poll.

    Messages still ``waiting`` then get ``waiting_grace`` seconds more: a message parked
    while its prerequisite was being committed by another worker is not released by it
    (neither transaction sees the other) but by the lane's poll of waiting messages, one
    backoff period later.  Whatever still waits after that is reported as it is.
    """
    deadline = time.time() + timeout
    quiet = 0
    grace_until = None
    while time.time() < deadline:
        if during:
            during()
        try:
            states = message_states(db, port)
        except Exception:
            time.sleep(1)
            continue
        quiet = quiet + 1 if not any(states.get(s) for s in PENDING) else 0
        if quiet >= 2:
            if not states.get("waiting"):
                return states
            grace_until = grace_until or time.time() + waiting_grace
            if time.time() > grace_until:
                return states
        else:
            grace_until = None
        time.sleep(2)
    return message_states(db, port)


def check_invariants(db, accepted, port=harness.PGPORT):
    """Return a list of violations (empty: all invariants hold)."""
    problems = []
    rows = harness.query(
        db,
        """SELECT m.idempotency_key, m.id, m.state, m.error_code, m.waiting_key
             FROM hc_inbox_message m JOIN hc_connector c ON c.id = m.connector_id
            WHERE c.code = %s""",
        [CODE],
        port,
    )
    by_key = {r[0]: r for r in rows}
    for key, answer in accepted.items():
        row = by_key.get(key)
        if not row:
            problems.append(f"lost: accepted message {key} is not in the inbox")
        elif answer and answer.get("id") and answer["id"] != row[1]:
            problems.append(f"{key}: accepted as message {answer['id']} but stored as {row[1]}")
    for key, _id, state, error, waiting in rows:
        if state in PENDING:
            problems.append(f"stuck: {key} is {state}")
        elif state == "dead" and not error:
            problems.append(f"{key} is dead without a reason")
        elif state == "waiting" and not waiting:
            problems.append(f"{key} waits for nothing")
    checks = {
        "duplicate purchase orders": """SELECT hc_source_ref, count(*) FROM purchase_order
            WHERE hc_source_ref LIKE 'FLT-%%' GROUP BY 1 HAVING count(*) > 1""",
        "duplicate vendor bills": """SELECT ref, count(*) FROM account_move
            WHERE move_type IN ('in_invoice', 'in_refund') AND ref LIKE 'FLT-%%'
            GROUP BY 1 HAVING count(*) > 1""",
        "duplicate receipt pickings (more than one done receipt per order)": """
            SELECT po.hc_source_ref, count(DISTINCT sm.picking_id) FROM stock_move sm
              JOIN purchase_order_line pol ON pol.id = sm.purchase_line_id
              JOIN purchase_order po ON po.id = pol.order_id
             WHERE sm.state = 'done' AND po.hc_source_ref LIKE 'FLT-%%'
             GROUP BY 1 HAVING count(DISTINCT sm.picking_id) > 1""",
        "over-received lines (a receipt applied twice)": """
            SELECT po.hc_source_ref, pol.hc_line_ref FROM purchase_order_line pol
              JOIN purchase_order po ON po.id = pol.order_id
             WHERE po.hc_source_ref LIKE 'FLT-%%' AND pol.qty_received > pol.product_qty""",
        "duplicate payments": """SELECT memo, count(*) FROM account_payment
            WHERE memo LIKE 'FLT-%%' GROUP BY 1 HAVING count(*) > 1""",
        "duplicate vendors (one GLN, several partners)": """SELECT value, count(DISTINCT partner_id)
            FROM hc_partner_identifier WHERE scheme = 'gln' AND value LIKE '061414%%'
            GROUP BY 1 HAVING count(DISTINCT partner_id) > 1""",
        "duplicate products (one GTIN, several products)": """SELECT barcode, count(*)
            FROM product_product WHERE barcode LIKE '1061414%%' GROUP BY 1 HAVING count(*) > 1""",
    }
    for name, sql in checks.items():
        try:
            found = harness.query(db, sql, port=port)
        except Exception as exc:
            problems.append(f"{name}: check failed: {exc}")
            continue
        if found:
            problems.append(f"{name}: {found[:5]}")
    return problems


def verify_audit(args, db, port=harness.PGPORT):
    """``(ok, line)``: the audit chain of ``db`` verified end to end, as ``make audit-verify``
    does (``scripts/audit_verify.py``), after the scenario drained: workers killed, servers
    racing and PostgreSQL restarting must not fork or break it."""
    code = """
log = env['hc.audit.log']
report = log._verify_report()
result = [bool(report['ok']), log._verify_report_text(report)]
"""
    try:
        ok, line = harness.odoo_eval(
            args, db, code, db_port=port if port != harness.PGPORT else None
        )
    except Exception as exc:  # reported as a problem of the scenario, not a crash
        return False, f"verification failed to run: {str(exc)[-500:]}"
    return ok, line


def fingerprint(db, port=harness.PGPORT):
    """The business state the documents produced, keyed by business references only."""
    q = lambda sql: [list(map(_plain, r)) for r in harness.query(db, sql, port=port)]  # noqa: E731
    return {
        "orders": q(
            """SELECT po.hc_source_ref, po.state, po.amount_total, pol.hc_line_ref, pp.barcode,
                      pol.product_qty, pol.qty_received, pol.qty_invoiced, pol.price_unit
                 FROM purchase_order po JOIN purchase_order_line pol ON pol.order_id = po.id
                 JOIN product_product pp ON pp.id = pol.product_id
                WHERE po.hc_source_ref LIKE 'FLT-%%' ORDER BY 1, 4"""
        ),
        "bills": q(
            """SELECT am.ref, am.state, am.amount_total, am.hc_match_state, am.hc_payment_status,
                      am.hc_payment_ref, am.hc_payment_amount
                 FROM account_move am WHERE am.ref LIKE 'FLT-%%' ORDER BY 1"""
        ),
        "receipts": q(
            """SELECT po.hc_source_ref, sp.state, sum(sm.quantity)
                 FROM stock_picking sp JOIN stock_move sm ON sm.picking_id = sp.id
                 JOIN purchase_order_line pol ON pol.id = sm.purchase_line_id
                 JOIN purchase_order po ON po.id = pol.order_id
                WHERE po.hc_source_ref LIKE 'FLT-%%' GROUP BY 1, 2 ORDER BY 1, 2"""
        ),
        "vendors": q(
            """SELECT i.value, p.name FROM hc_partner_identifier i
                 JOIN res_partner p ON p.id = i.partner_id
                WHERE i.scheme = 'gln' AND i.value LIKE '061414%%' ORDER BY 1"""
        ),
        "products": q(
            "SELECT barcode FROM product_product WHERE barcode LIKE '1061414%%' ORDER BY 1"
        ),
        "payments": q("SELECT count(*) FROM account_payment WHERE memo LIKE 'FLT-%%'"),
        "messages": q(
            """SELECT m.state, m.doc_type, count(*) FROM hc_inbox_message m
                 JOIN hc_connector c ON c.id = m.connector_id WHERE c.code = 'faults'
                GROUP BY 1, 2 ORDER BY 1, 2"""
        ),
    }


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def compare(reference, got):
    """Differences between two fingerprints, readable."""
    diffs = []
    for part, ref_rows in reference.items():
        rows = got.get(part)
        if rows == ref_rows:
            continue
        ref_set = {json.dumps(r) for r in ref_rows}
        got_set = {json.dumps(r) for r in rows}
        missing = sorted(ref_set - got_set)[:3]
        extra = sorted(got_set - ref_set)[:3]
        diffs.append(
            f"{part}: {len(ref_set - got_set)} rows differ from the in-order run; "
            f"expected e.g. {missing}, got e.g. {extra}"
        )
    return diffs


# ----------------------------------------------------------------------------------
# Scenarios
# ----------------------------------------------------------------------------------


class Suite:
    def __init__(self, args):
        self.args = args
        self.docs = documents(args.docs)
        self.port = args.port
        self.results = []
        self.reference = None
        self.logdir = args.logdir
        os.makedirs(self.logdir, exist_ok=True)

    # -- plumbing ----------------------------------------------------------------------

    def prepare_base(self):
        """The prepared database every scenario copies (built once, updated after)."""
        harness.install_db(self.args, BASE_DB)
        harness.odoo_eval(
            self.args,
            BASE_DB,
            f"""
env.ref('base.USD').active = True
for code, count in {LANE_WORKERS!r}.items():
    env.ref('healthcare_p2p_integration.lane_' + code).worker_count = count
rule = env['hc.tolerance.rule'].search([('company_id', '=', env.company.id), ('scope', '=', 'company')])
if not rule:
    env['hc.tolerance.rule'].create({{'name': 'Faults', 'company_id': env.company.id,
                                      'price_pct': 1.0, 'total_pct': 1.0}})
""",
        )
        self.key = harness.bootstrap_connector(self.args, BASE_DB, CODE)

    def fresh_db(self, name):
        db = f"{BASE_DB.rsplit('_', 1)[0]}_{name}"
        harness.clone_db(self.args, BASE_DB, db)
        return db

    def server(self, db, port, db_port=None, cron_threads=None, workers=None):
        return harness.Server(
            self.args,
            db,
            port,
            workers=workers or self.args.workers,
            cron_threads=cron_threads if cron_threads is not None else self.args.cron_threads,
            db_port=db_port,
            log=os.path.join(self.logdir, f"{db}-{port}.log"),
        ).wait_ready()

    def post(self, base, docs, deadline=None):
        accepted, stats = harness.post_all_sync(
            base,
            self.key,
            docs,
            concurrency=self.args.concurrency,
            deadline_s=deadline or self.args.timeout,
        )
        return accepted, stats

    def finish(
        self, name, db, accepted, started, port=harness.PGPORT, notes="", during=None, extra=()
    ):
        states = drain(db, self.args.timeout, port, during=during)
        problems = list(extra) + check_invariants(db, accepted, port)
        audit_ok, audit_line = verify_audit(self.args, db, port)
        print(f"[faults] {name}: {audit_line}")
        if not audit_ok:
            problems.append(f"audit log: {audit_line}")
        missing = len(self.docs) - len(accepted)
        if missing:
            problems.append(f"{missing} documents were never accepted (client gave up)")
        if self.reference is not None and name != "in-order":
            problems += compare(self.reference, fingerprint(db, port))
        result = {
            "scenario": name,
            "seconds": round(time.time() - started, 1),
            "accepted": len(accepted),
            "states": states,
            "problems": problems,
            "notes": notes,
        }
        self.results.append(result)
        verdict = "PASS" if not problems else "FAIL"
        print(f"[faults] {name}: {verdict} in {result['seconds']} s; states {states} {notes}")
        for p in problems[:15]:
            print(f"[faults]   - {p}")
        return result

    # -- scenarios ----------------------------------------------------------------------

    def in_order(self):
        """Reference: each document type posted, then drained, before the next."""
        started = time.time()
        db = self.fresh_db("inorder")
        server = self.server(db, self.port)
        accepted = {}
        try:
            endpoints = list(dict.fromkeys(d[0] for d in self.docs))
            for endpoint in endpoints:
                part, _stats = self.post(server.base, [d for d in self.docs if d[0] == endpoint])
                accepted.update(part)
                drain(db, self.args.timeout)
        finally:
            server.stop()
        self.finish("in-order", db, accepted, started)
        self.reference = fingerprint(db)
        return db

    def shuffle(self):
        """Every document twice, shuffled: out of order, duplicated."""
        started = time.time()
        db = self.fresh_db("shuffle")
        docs = self.docs * 2
        random.Random(11).shuffle(docs)
        server = self.server(db, self.port)
        try:
            accepted, stats = self.post(server.base, docs)
            duplicates = stats["statuses"].get("200", 0)
            self.finish(
                "shuffled twice", db, accepted, started, notes=f"({duplicates} duplicate answers)"
            )
        finally:
            server.stop()

    def reverse(self):
        """Every document in reverse dependency order: payments before their invoices,
        invoices and receipts before their orders, orders before their items and vendors."""
        started = time.time()
        db = self.fresh_db("reverse")
        server = self.server(db, self.port)
        try:
            accepted, _stats = self.post(server.base, self.docs[::-1])
            self.finish("reverse order", db, accepted, started)
        finally:
            server.stop()

    def kill(self):
        """``kill -9`` a cron worker mid-batch, again and again."""
        started = time.time()
        db = self.fresh_db("kill")
        server = self.server(db, self.port)
        kills = []
        try:
            accepted, _stats = self.post(server.base, self.docs)
            last = [time.time()]

            def killer():
                if len(kills) < self.args.kills and time.time() - last[0] > self.args.kill_every:
                    busy = message_states(db).get("processing", 0)
                    if busy:
                        pid = server.kill_claiming_worker(db)
                        if pid:
                            kills.append((pid, busy))
                            last[0] = time.time()

            drain(db, self.args.timeout, during=killer)
            self.finish(
                "kill -9 cron workers",
                db,
                accepted,
                started,
                notes=f"({len(kills)} kills, each with messages in processing)",
                extra=[] if kills else ["no worker was killed mid-batch: nothing was tested"],
            )
        finally:
            server.stop()

    def race(self):
        """Two Odoo servers on one database, both accepting and both draining."""
        started = time.time()
        db = self.fresh_db("race")
        one = self.server(db, self.port)
        two = self.server(db, self.port + 1)
        try:
            half = len(self.docs) // 2
            docs_one = self.docs[:half] + self.docs[half:][::3]
            docs_two = self.docs[half:] + self.docs[:half][::3]  # overlap: the same keys raced

            import threading

            out = {}

            def send(name, server, docs):
                out[name] = self.post(server.base, docs)

            threads = [
                threading.Thread(target=send, args=("one", one, docs_one)),
                threading.Thread(target=send, args=("two", two, docs_two)),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            accepted = {**out["one"][0], **out["two"][0]}
            self.finish("two servers, one database", db, accepted, started)
        finally:
            one.stop()
            two.stop()

    def pgrestart(self):
        """Restart (crash) PostgreSQL during load, on this suite's own cluster."""
        started = time.time()
        cluster = harness.PrivateCluster(port=self.args.pg_port)
        db = "hc_faults_pgrestart"
        server = None
        restarts = []
        try:
            cluster.init()
            cluster.copy_db(self.args, BASE_DB, db)
            server = self.server(db, self.port, db_port=cluster.port)
            import threading

            out = {}

            def send():
                out["r"] = self.post(server.base, self.docs)

            sender = threading.Thread(target=send)
            sender.start()
            for n in range(self.args.pg_restarts):
                # the first while documents are still being posted, then while they drain
                time.sleep(3 if n == 0 else self.args.kill_every)
                cluster.restart("immediate")
                restarts.append(time.time() - started)
                # Odoo's prefork master exits when it cannot reach the database while it
                # spawns workers ("the database system is starting up"): supervise it.
                for _i in range(10):
                    time.sleep(1)
                    server.revive()
            while sender.is_alive():
                server.revive()
                sender.join(1)
            accepted, stats = out["r"]
            self.finish(
                "PostgreSQL restarted during load",
                db,
                accepted,
                started,
                port=cluster.port,
                during=server.revive,
                notes=f"({len(restarts)} crash restarts; Odoo restarted by the supervisor "
                f"{server.revived} times; client retries {stats['errors']})",
            )
        finally:
            if server:
                server.stop()
            harness.drop_db(self.args, db, port=cluster.port)
            cluster.destroy()


def main():
    parser = harness.base_parser(__doc__, 8277)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--pg-port", type=int, default=5499)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cron-threads", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--kill-every", type=float, default=8.0)
    parser.add_argument("--pg-restarts", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=900, help="drain/post limit, seconds")
    parser.add_argument(
        "--scenarios", default="shuffle,reverse,kill,race,pgrestart", help="comma-separated"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scenario databases")
    parser.add_argument("--logdir", default=os.path.expanduser("~/.cache/healthcare_p2p/faults"))
    args = parser.parse_args()

    suite = Suite(args)
    started = time.time()
    print(f"[faults] {len(suite.docs)} documents; preparing {BASE_DB}", flush=True)
    suite.prepare_base()
    dbs = [suite.in_order()]
    for name in args.scenarios.split(","):
        if name:
            getattr(suite, name.strip())()
            dbs.append(f"hc_faults_{name.strip()}")
    if not args.keep:
        for db in dbs:
            harness.drop_db(args, db)
    failed = [r for r in suite.results if r["problems"]]
    passed = len(suite.results) - len(failed)
    print(
        f"[faults] {os.cpu_count()} cores, {len(suite.docs)} documents, "
        f"{time.time() - started:.0f} s in all"
    )
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
