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
- ``reverse``: every document in reverse dependency order;
- ``replica``: two Odoo nodes on one primary and a streaming replica (its own private
  clusters, ports ``--pg-port`` and the next), both accepting and draining, every accepted
  message's status read back at once from the other node (Odoo 19 ``readonly`` routes on
  ``db_replica_host``), health and metrics read on both; besides the invariants above: no
  status read answers 404 (the replica lags, the primary answers), the reads did hit the
  replica (its own scan counters of the inbox table; both nodes connected to it), no
  readonly request wrote (Odoo's "retrying with a read/write cursor") or fell back to the
  primary for want of a replica, and once caught up the replica answers what the primary
  holds.

Only processes this suite started are stopped or killed (it keeps their pids).
"""

import contextlib
import json
import os
import random
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness
import psycopg2

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
        self.base_db = f"{args.db_prefix}_base"

    # -- plumbing ----------------------------------------------------------------------

    def prepare_base(self):
        """The prepared database every scenario copies (built once, updated after)."""
        harness.install_db(self.args, self.base_db)
        harness.odoo_eval(
            self.args,
            self.base_db,
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
        self.key = harness.bootstrap_connector(self.args, self.base_db, CODE)

    def fresh_db(self, name):
        db = f"{self.args.db_prefix}_{name}"
        harness.clone_db(self.args, self.base_db, db)
        return db

    def server(self, db, port, db_port=None, cron_threads=None, workers=None, extra=()):
        return harness.Server(
            self.args,
            db,
            port,
            workers=workers or self.args.workers,
            cron_threads=cron_threads if cron_threads is not None else self.args.cron_threads,
            db_port=db_port,
            log=os.path.join(self.logdir, f"{db}-{port}.log"),
            extra=extra,
        ).wait_ready()

    def post(self, base, docs, deadline=None, follow=None):
        accepted, stats = harness.post_all_sync(
            base,
            self.key,
            docs,
            concurrency=self.args.concurrency,
            deadline_s=deadline or self.args.timeout,
            follow=follow,
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
            cluster.copy_db(self.args, self.base_db, db)
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
                f"{server.revived} times; client retries {stats['errors']}; "
                f"answers {dict(sorted(stats['statuses'].items(), key=str))})",
            )
        finally:
            if server:
                server.stop()
            harness.drop_db(self.args, db, port=cluster.port)
            cluster.destroy()

    def replica(self):
        """Two Odoo nodes on one primary and a streaming replica (private clusters)."""
        started = time.time()
        primary = harness.PrivateCluster(port=self.args.pg_port)
        standby = None
        db = "hc_faults_replica"
        nodes = []
        problems, figures = [], {}
        try:
            primary.init()
            primary.copy_db(self.args, self.base_db, db)
            standby = primary.standby(self.args.pg_port + 1)
            admin_key = harness.bootstrap_admin_key(
                self.args, db, login="faults_replica_admin", db_port=primary.port
            )
            _wait_replayed(primary, standby)
            for n in (1, 2):
                with contextlib.suppress(FileNotFoundError):  # this run's warnings only
                    os.remove(os.path.join(self.logdir, f"{db}-{self.port + n - 1}.log"))
                # one filestore for both (the same data_dir), as nodes share one in production
                nodes.append(
                    self.server(
                        db,
                        self.port + n - 1,
                        db_port=primary.port,
                        extra=(
                            "--db_replica_host=127.0.0.1",
                            f"--db_replica_port={standby.port}",
                            f"--db_app_name=hc-node{n}-{{pid}}",
                        ),
                    )
                )
            one, two = nodes
            inbox_reads = _table_reads(standby, db)
            half = len(self.docs) // 2
            plan = {
                # each node takes half, plus a third of the other half (the same keys raced);
                # each accepted status is read back at once from the other node
                "one": (one, self.docs[:half] + self.docs[half:][::3], [two.base]),
                "two": (two, self.docs[half:] + self.docs[:half][::3], [one.base]),
            }
            out, lags = {}, []
            import threading

            def send(name):
                server, docs, follow = plan[name]
                out[name] = self.post(server.base, docs, follow=follow)

            threads = [threading.Thread(target=send, args=(name,)) for name in plan]
            post_started = time.time()
            for t in threads:
                t.start()
            probes = {}
            while any(t.is_alive() for t in threads):
                lags.append(_replay_lag(primary))
                for node in nodes:  # the load balancer's probe and Prometheus' scrape
                    for path, key in (("health", None), ("metrics", admin_key)):
                        code = _get(f"{node.base}/api/hc/v1/{path}", key)
                        probes[(path, code)] = probes.get((path, code), 0) + 1
                time.sleep(1)
            refused = {k: v for k, v in probes.items() if k[1] not in (200, 503)}
            if refused or not probes:
                problems.append(f"health and metrics reads during the load: {probes}")
            for t in threads:
                t.join()
            post_seconds = time.time() - post_started
            accepted = {**out["one"][0], **out["two"][0]}
            follow = [out[name][1]["follow"] for name in plan]
            not_found = [i for f in follow for i in f["not_found"]]
            follow_codes = {}
            for f in follow:
                for code, count in f["statuses"].items():
                    follow_codes[code] = follow_codes.get(code, 0) + count
            if not_found:
                problems.append(
                    f"{len(not_found)} accepted messages answered 404 on the other node, "
                    f"e.g. {not_found[:5]}"
                )
            if set(follow_codes) - {"200"}:
                problems.append(f"status reads right after acceptance answered {follow_codes}")

            states = drain(db, self.args.timeout, primary.port)
            _wait_replayed(primary, standby)
            ids = sorted({a["id"] for a in accepted.values() if a and a.get("id")})
            time.sleep(STATS_FLUSH_S)
            before = _table_reads(standby, db), _table_reads(primary, db)
            found, read_stats = harness.get_statuses_sync(
                [one.base, two.base], self.key, ids, concurrency=self.args.concurrency
            )
            time.sleep(STATS_FLUSH_S)
            replica_reads = _table_reads(standby, db) - before[0]
            primary_reads = _table_reads(primary, db) - before[1]
            truth = dict(
                harness.query(
                    db,
                    "SELECT id, state FROM hc_inbox_message WHERE id = ANY(%s)",
                    [ids],
                    port=primary.port,
                )
            )
            differ = [i for i in ids if found.get(i) != (200, truth.get(i))]
            if differ:
                problems.append(
                    f"{len(differ)} statuses read after the drain differ from the primary's, "
                    f"e.g. {[(i, found.get(i), truth.get(i)) for i in differ[:5]]}"
                )
            if replica_reads < len(ids):
                problems.append(
                    f"{len(ids)} status reads after the drain but only {replica_reads} scans of "
                    "hc_inbox_message on the replica: the reads did not hit it"
                )
            if primary_reads >= len(ids):
                problems.append(
                    f"{primary_reads} scans of hc_inbox_message on the primary during "
                    f"{len(ids)} status reads: the primary served them"
                )
            sessions = dict(
                standby.query(
                    """SELECT split_part(application_name, '-', 2), count(*)
                         FROM pg_stat_activity WHERE datname = %s
                          AND application_name LIKE 'hc-node%%' GROUP BY 1""",
                    [db],
                )
            )
            if set(sessions) != {"node1", "node2"}:
                problems.append(f"Odoo sessions on the replica by node: {sessions or 'none'}")
            for node in nodes:
                node.stop()
            logs = ""
            for node in nodes:
                with open(
                    os.path.join(self.logdir, f"{db}-{node.port}.log"),
                    encoding="utf-8",
                    errors="replace",
                ) as log:
                    logs += log.read()
            for warning in (
                "retrying with a read/write cursor",
                "Failed to open a readonly cursor",
            ):
                found_in_log = logs.count(warning)
                if found_in_log:
                    problems.append(f'{found_in_log} x "{warning}" in the nodes\' logs')
            lag_values = [lag for lag in lags if lag is not None]
            figures = {
                "documents": len(self.docs),
                "probes": {f"{path} {code}": n for (path, code), n in sorted(probes.items())},
                "post_seconds": round(post_seconds, 1),
                "accepted_per_second": round(len(accepted) / post_seconds, 1),
                "follow_reads": sum(follow_codes.values()),
                "follow_p50_ms": round(_median([x for f in follow for x in f["latencies"]]), 1),
                "status_reads": read_stats["ok"],
                "status_reads_per_second": round(read_stats["rps"], 1),
                "status_p50_ms": round(read_stats["p50"], 1),
                "status_p95_ms": round(read_stats["p95"], 1),
                "replica_inbox_scans_total": _table_reads(standby, db) - inbox_reads,
                "replica_inbox_scans_after_drain": replica_reads,
                "primary_inbox_scans_after_drain": primary_reads,
                "replica_sessions_by_node": sessions,
                "max_replay_lag_s": round(max(lag_values), 3) if lag_values else None,
            }
            print(f"[faults] replica figures: {json.dumps(figures)}", flush=True)
            self.finish(
                "two nodes, primary and streaming replica",
                db,
                accepted,
                started,
                port=primary.port,
                notes=f"({figures['status_reads']} status reads after the drain and "
                f"{figures['follow_reads']} right after acceptance, "
                f"{figures['replica_inbox_scans_total']} inbox scans on the replica; "
                f"states before the check {states})",
                extra=problems,
            )
            self.results[-1]["figures"] = figures
        finally:
            for node in nodes:
                node.stop()
            if standby:
                standby.destroy()
            harness.drop_db(self.args, db, port=primary.port)
            primary.destroy()


# PostgreSQL backends publish their table counters at most this long after a query (an
# idle session flushes its pending statistics after 10 s)
STATS_FLUSH_S = 11


def _get(url, key=None):
    import requests

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        return requests.get(url, headers=headers, timeout=30).status_code
    except requests.RequestException:
        return None


def _median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else float("nan")


def _table_reads(cluster, db, table="hc_inbox_message"):
    """Scans of ``table`` counted by ``cluster`` itself (a standby counts its own reads)."""
    rows = cluster.query(
        """SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables
            WHERE relname = %s""",
        [table],
        db=db,
    )
    return rows[0][0] if rows else 0


def _replay_lag(primary):
    """The standby's replay lag in seconds as the primary measures it (None: caught up)."""
    try:
        rows = primary.query(
            "SELECT extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication"
        )
        return rows[0][0] if rows else None
    except psycopg2.Error:
        return None


def _wait_replayed(primary, standby, timeout=120):
    """Wait until the standby has replayed everything the primary wrote so far."""
    target = primary.query("SELECT pg_current_wal_lsn()")[0][0]
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = standby.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0][0]
        if done:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the standby did not replay up to {target} in {timeout} s")


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
        "--scenarios",
        default="shuffle,reverse,kill,race,pgrestart,replica",
        help="comma-separated",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scenario databases")
    parser.add_argument(
        "--db-prefix",
        default="hc_faults",
        help="names of the databases on the shared server (another prefix: a second suite "
        "alongside; give it other --port and --pg-port too)",
    )
    parser.add_argument("--logdir", default=os.path.expanduser("~/.cache/healthcare_p2p/faults"))
    args = parser.parse_args()

    suite = Suite(args)
    started = time.time()
    print(f"[faults] {len(suite.docs)} documents; preparing {suite.base_db}", flush=True)
    suite.prepare_base()
    dbs = [suite.in_order()]
    for name in args.scenarios.split(","):
        if name:
            getattr(suite, name.strip())()
            dbs.append(f"{args.db_prefix}_{name.strip()}")
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
