"""In-process benchmark of the hot paths with a year of history (run by bench/run.py).

The same measures on two copies of the bench database, one holding a small inbox and one
a year of history: accepting a document, claiming a batch, processing messages, the
Prometheus metrics (``GET /api/hc/v1/metrics`` without its HTTP layer), the health
figures and the dashboard's data.  Each inbox grows to its size by done messages
generated in bulk in SQL (``INSERT ... SELECT generate_series``), received and finished
32 to 397 days ago, then is analyzed (as autovacuum does after a bulk load): history
only, so the recent traffic every measure sees is the same in both.

Fair comparison: both databases are measured by the same process, in rounds that
alternate which one goes first (small, history, history, small, ...), after a warm-up
round on each that is not counted (the process' caches, the server's buffers); a figure
is the median of every sample of every counted round, so load that comes and goes on a
shared machine falls on both sides alike.  Nothing is skipped: every round accepts,
claims and processes new messages in both inboxes and reads every figure.

Usage: python bench/history.py <odoo.conf> <small db> <history db> <small size>
<history size> [<rounds>]; prints JSON (``RESULT [small, history]``).
"""

import hashlib
import json
import statistics
import sys
import time

import odoo
import odoo.api
import odoo.tools
from odoo.modules.registry import Registry

CHUNK = 500_000
HISTORY_TAG = "hist-"
MEASURES = ("accept_ms", "claim_ms", "process_ms", "metrics_ms", "health_ms", "dashboard_ms")
# Samples per round of each measure (processing: messages per round, one sample).
ACCEPTS, CLAIMS, PROCESSED, READS = 40, 10, 40, 5


def env_for(cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})


def grow(env, size):
    """Add done history messages until the inbox holds ``size`` rows; return seconds."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM hc_inbox_message")
    have = cr.fetchone()[0]
    connector = env["hc.connector"].search([("code", "=", "bench")])
    doc_type = env["hc.document.type"].search([("code", "=", "vendor")])
    lane = connector._lane_for(doc_type)
    cr.execute("SELECT coalesce(max(id), 0) FROM hc_inbox_message")
    base = cr.fetchone()[0]
    start = time.perf_counter()
    todo = max(size - have, 0)
    for offset in range(0, todo, CHUNK):
        count = min(CHUNK, todo - offset)
        cr.execute(
            """INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id, doc_type,
                   lane_id, content_type, payload, payload_size, content_hash, idempotency_key,
                   state, attempts, replay_count, next_attempt_at, received_at, finished_at,
                   started_at, api_latency_ms, payload_encrypted, natural_key, result_summary,
                   create_uid, create_date, write_uid, write_date)
               SELECT %(connector)s, %(company)s, %(doc_type_id)s, 'vendor', %(lane)s,
                      'application/json', convert_to('eyJuYW1lIjogImhpc3RvcnkifQ==', 'UTF8'),
                      19, md5(g::text), %(tag)s || g, 'done', 1, 0, t.at, t.at,
                      t.at + interval '2 seconds', t.at + interval '1 second', 20 + g %% 30,
                      false, 'vendor:hist-' || g, 'history', 1, t.at, 1, t.at
                 FROM generate_series(%(first)s, %(last)s) g,
                      LATERAL (SELECT now() at time zone 'UTC' - interval '32 days'
                                      - (g %% 525600) * interval '1 minute' AS at) t""",
            {
                "connector": connector.id,
                "company": env.company.id,
                "doc_type_id": doc_type.id,
                "lane": lane.id,
                "tag": HISTORY_TAG + str(base) + "-",
                "first": base + offset + 1,
                "last": base + offset + count,
            },
        )
        cr.commit()
    env["hc.inbox.stat"]._fold()
    cr.commit()
    # What autovacuum does after a bulk load, done now rather than whenever it wakes up.
    for table in ("hc_inbox_message", "hc_inbox_stat", "hc_inbox_stat_delta"):
        cr.execute(f"ANALYZE {table}")  # table names from the constant tuple above
    cr.commit()
    return time.perf_counter() - start


def samples_of(function, repeat):
    """Milliseconds of ``function`` over ``repeat`` runs."""
    samples = []
    for _i in range(repeat):
        t0 = time.perf_counter()
        function()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


class Side:
    """One database of the comparison: its cursor, the bench's records, its samples."""

    def __init__(self, name, db, size, run):
        self.name, self.db, self.size, self.run = name, db, size, run
        self.cr = Registry(db).cursor()
        self.env = env_for(self.cr)
        self.samples = {key: [] for key in MEASURES}
        self.counter = iter(range(10**9))
        self.grow_seconds = 0.0

    def setup(self):
        env, cr = self.env, self.cr
        self.grow_seconds = grow(env, self.size)
        self.connector = env["hc.connector"].search([("code", "=", "bench")])
        self.doc_type = env["hc.document.type"].search([("code", "=", "vendor")])
        self.lane = self.connector._lane_for(self.doc_type)
        self.lane.batch_size = 20
        # A reused database (--reuse-history-db): what an earlier run left open would be
        # retried in the middle of this one's measures.
        cr.execute(
            "DELETE FROM hc_inbox_message WHERE lane_id = %s AND state != 'done'", [self.lane.id]
        )
        cr.execute("SELECT coalesce(max(id), 0) FROM hc_inbox_message")
        self.first_id = cr.fetchone()[0]
        self.outcomes = {}
        admin = env["res.users"].browse(odoo.SUPERUSER_ID)
        group = env.ref("healthcare_p2p_integration.group_hc_integration_admin")
        if group not in admin.all_group_ids:
            admin.write({"group_ids": [(4, group.id)]})
        cr.commit()

    def vendor_doc(self):
        """A new vendor, unlike any other by name (its first word is its own), so that
        processing creates it rather than parking it for a data steward as a possible
        duplicate (``duplicate_vendor``): the common path, the one measured."""
        n = next(self.counter)
        word = hashlib.sha1(f"{self.run}-{self.name}-{n}".encode()).hexdigest()[:12]
        doc = {
            "identifiers": [{"scheme": "SOURCE", "value": f"histbench-{self.run}-{self.name}-{n}"}],
            "name": f"H{word} Surgical Supply",
            "address": {"city": "Springfield", "country_code": "US"},
        }
        return json.dumps(doc).encode()

    def accept(self, count):
        self.env["hc.inbox.message"]._accept(
            self.connector,
            self.doc_type,
            self.env.company,
            "application/json",
            [self.vendor_doc() for _i in range(count)],
        )
        self.cr.commit()

    def round(self, keep=True):
        """Every measure once (``ACCEPTS``... samples); kept unless a warm-up."""
        env, cr = self.env, self.cr
        Worker = env["hc.lane.worker"]
        Metrics = env["hc.metrics"]
        got = {"accept_ms": samples_of(lambda: self.accept(1), ACCEPTS)}
        self.accept(20)

        def claim():
            messages = Worker._claim(self.lane, 20)
            cr.commit()
            Worker._unclaim(messages)
            cr.commit()

        got["claim_ms"] = samples_of(claim, CLAIMS)
        self.accept(PROCESSED)
        cr.execute(
            "SELECT count(*) FROM hc_inbox_message WHERE lane_id = %s AND state = 'received'",
            [self.lane.id],
        )
        pending = cr.fetchone()[0]
        t0 = time.perf_counter()
        Worker._cron_process_lane(self.lane.id)
        cr.commit()
        got["process_ms"] = [(time.perf_counter() - t0) * 1000 / max(pending, 1)]
        cr.execute(
            "SELECT state, count(*) FROM hc_inbox_message WHERE lane_id = %s AND id > %s "
            "GROUP BY 1",
            [self.lane.id, self.first_id],
        )
        self.outcomes = dict(cr.fetchall())
        got["metrics_ms"] = samples_of(lambda: Metrics._prometheus(None), READS)
        got["health_ms"] = samples_of(lambda: Metrics._health(), READS)
        got["dashboard_ms"] = samples_of(lambda: Metrics.get_dashboard(None, 24), READS)
        cr.rollback()  # the reads wrote nothing; end their snapshot
        if keep:
            for key, values in got.items():
                self.samples[key].extend(values)

    def result(self):
        self.cr.execute("SELECT count(*) FROM hc_inbox_message")
        row = {key: statistics.median(values) for key, values in self.samples.items()}
        row.update(
            {
                "size": self.size,
                "rows": self.cr.fetchone()[0],
                "grow_seconds": self.grow_seconds,
                "outcomes": self.outcomes,
                "samples": {key: len(values) for key, values in self.samples.items()},
                "spread": {key: [min(values), max(values)] for key, values in self.samples.items()},
            }
        )
        return row


def main():
    conf, small_db, big_db, small_size, big_size = sys.argv[1:6]
    rounds = int(sys.argv[6]) if len(sys.argv) > 6 else 6
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    odoo.tools.config["log_db"] = False
    run = int(time.time())
    small = Side("small", small_db, int(small_size), run)
    big = Side("history", big_db, int(big_size), run)
    try:
        for side in (small, big):
            side.setup()
            print(f"{side.name}: {side.size} rows in {side.grow_seconds:.0f} s", file=sys.stderr)
        for side in (small, big):  # warm-up, not counted
            side.round(keep=False)
        for number in range(rounds):
            order = (small, big) if number % 2 == 0 else (big, small)
            for side in order:
                side.round()
            print(f"round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
        results = [small.result(), big.result()]
    finally:
        small.cr.close()
        big.cr.close()
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
