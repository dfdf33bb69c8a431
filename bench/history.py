"""In-process benchmark of the hot paths with a year of history (run by bench/run.py).

The same measures on two copies of the bench database, one holding a small inbox and one
a year of history: accepting a document, claiming a batch, processing messages, the
Prometheus metrics (``GET /api/hc/v1/metrics`` without its HTTP layer), the health
figures and the dashboard's data.  Each inbox grows to its size by done messages
generated in bulk in SQL (``INSERT ... SELECT generate_series``), received and finished
32 to 397 days ago, then is vacuumed and analyzed (as autovacuum does after a bulk
load): history only, so the recent traffic every measure sees is the same in both.

Fair comparison: both databases are measured by the same process, side by side: each
measure takes its samples on the two in turns, sample by sample (which one goes first
alternating), processing takes turns round by round; one warm-up round on both is not
counted (the process' caches, the server's buffers), and the inbox figures are folded
between rounds as their cron does every minute.  A figure is the median of every sample
of every counted round, so load that comes and goes on a shared machine falls on both
sides alike.  Nothing is skipped: every round accepts, claims and processes new messages
(vendors created, each unlike the others) in both inboxes and reads every figure.

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
    # (importable once the registry is loaded, which sets up the addons' path)
    from odoo.addons.healthcare_p2p_integration.models import hc_inbox_stat_delta as stat_delta

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
        # (counted in the inbox figures by the statement itself, as the API's accept
        # does: grouped, where the insert trigger would count row by row)
        cr.execute(
            """WITH hc_created AS (
               INSERT INTO hc_inbox_message (connector_id, company_id, doc_type_id, doc_type,
                   lane_id, content_type, payload, payload_size, content_hash, idempotency_key,
                   state, attempts, replay_count, next_attempt_at, received_at, finished_at,
                   started_at, api_latency_ms, payload_encrypted, natural_key, result_summary,
                   stat_counted, create_uid, create_date, write_uid, write_date)
               SELECT %(connector)s, %(company)s, %(doc_type_id)s, 'vendor', %(lane)s,
                      'application/json', convert_to('eyJuYW1lIjogImhpc3RvcnkifQ==', 'UTF8'),
                      19, md5(g::text), %(tag)s || g, 'done', 1, 0, t.at, t.at,
                      t.at + interval '2 seconds', t.at + interval '1 second', 20 + g %% 30,
                      false, 'vendor:hist-' || g, 'history', TRUE, 1, t.at, 1, t.at
                 FROM generate_series(%(first)s, %(last)s) g,
                      LATERAL (SELECT now() at time zone 'UTC' - interval '32 days'
                                      - (g %% 525600) * interval '1 minute' AS at) t
               RETURNING """
            + stat_delta.COUNTED_COLUMNS
            + ")\n"
            + stat_delta.counted_insert("hc_created"),
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
    # What autovacuum does after a bulk load (the first vacuum of the new rows reads the
    # whole table, a few minutes at 5,000,000 rows), done now rather than whenever it
    # wakes up: else it runs in the middle of the measures, slowing the history's side
    # only.  In production the year of rows arrives over a year, vacuumed as it comes.
    cnx = cr._cnx
    cnx.autocommit = True
    try:
        with cnx.cursor() as raw:
            for table in ("hc_inbox_message", "hc_inbox_stat", "hc_inbox_stat_delta"):
                raw.execute(f"VACUUM (ANALYZE) {table}")  # names from the constant tuple
    finally:
        cnx.autocommit = False
    return time.perf_counter() - start


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

    def accept_one(self):
        self.accept(1)

    def claim(self):
        Worker = self.env["hc.lane.worker"]
        messages = Worker._claim(self.lane, 20)
        self.cr.commit()
        Worker._unclaim(messages)
        self.cr.commit()

    def process(self):
        """Drain the lane; one sample: milliseconds per message processed."""
        cr = self.cr
        cr.execute(
            "SELECT count(*) FROM hc_inbox_message WHERE lane_id = %s AND state = 'received'",
            [self.lane.id],
        )
        pending = cr.fetchone()[0]
        t0 = time.perf_counter()
        self.env["hc.lane.worker"]._cron_process_lane(self.lane.id)
        cr.commit()
        elapsed = (time.perf_counter() - t0) * 1000 / max(pending, 1)
        cr.execute(
            "SELECT state, count(*) FROM hc_inbox_message WHERE lane_id = %s AND id > %s "
            "GROUP BY 1",
            [self.lane.id, self.first_id],
        )
        self.outcomes = dict(cr.fetchall())
        return elapsed

    def metrics(self):
        self.env["hc.metrics"]._prometheus(None)

    def health(self):
        self.env["hc.metrics"]._health()

    def dashboard(self):
        self.env["hc.metrics"].get_dashboard(None, 24)

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


def paired(sides, key, method, repeat, keep):
    """``repeat`` samples of ``method`` on each side, the sides taking turns sample by
    sample (and which goes first alternating): a burst of load on the shared machine
    falls on both."""
    for i in range(repeat):
        for side in sides if i % 2 == 0 else sides[::-1]:
            t0 = time.perf_counter()
            getattr(side, method)()
            if keep:
                side.samples[key].append((time.perf_counter() - t0) * 1000)


def one_round(sides, number, keep=True):
    """Every measure on both sides; kept unless a warm-up."""
    for side in sides:  # what the fold cron (every minute) does meanwhile; not timed
        side.env["hc.inbox.stat"]._fold()
        side.cr.commit()
    paired(sides, "accept_ms", "accept_one", ACCEPTS, keep)
    for side in sides:
        side.accept(20)
    paired(sides, "claim_ms", "claim", CLAIMS, keep)
    for side in sides if number % 2 == 0 else sides[::-1]:
        side.accept(PROCESSED)
        per_message = side.process()
        if keep:
            side.samples["process_ms"].append(per_message)
    for key, method in (
        ("metrics_ms", "metrics"),
        ("health_ms", "health"),
        ("dashboard_ms", "dashboard"),
    ):
        paired(sides, key, method, READS, keep)
    for side in sides:
        side.cr.rollback()  # the reads wrote nothing; end their snapshots


def main():
    conf, small_db, big_db, small_size, big_size = sys.argv[1:6]
    rounds = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    odoo.tools.config["log_db"] = False
    run = int(time.time())
    small = Side("small", small_db, int(small_size), run)
    big = Side("history", big_db, int(big_size), run)
    try:
        for side in (small, big):
            side.setup()
            print(f"{side.name}: {side.size} rows in {side.grow_seconds:.0f} s", file=sys.stderr)
        one_round((small, big), 0, keep=False)  # warm-up, not counted
        for number in range(rounds):
            one_round((small, big), number)
            print(f"round {number + 1}/{rounds} done", file=sys.stderr, flush=True)
        results = [small.result(), big.result()]
    finally:
        small.cr.close()
        big.cr.close()
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
