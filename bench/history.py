"""In-process benchmark of the hot paths with a year of history (run by bench/run.py).

The same measures at growing inbox sizes, on one database: accepting a document, claiming
a batch, processing messages, the Prometheus metrics (``GET /api/hc/v1/metrics`` without
its HTTP layer), the health figures and the dashboard's data.  Between two sizes the
inbox grows by done messages generated in bulk in SQL (``INSERT ... SELECT
generate_series``), received and finished 32 to 397 days ago: history only, so the
recent traffic every measure sees is the same at every size.

Usage: python bench/history.py <odoo.conf> <database> <size>[,<size>...]; prints JSON.
"""

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
    cr.execute("ANALYZE hc_inbox_message")
    cr.execute("ANALYZE hc_inbox_stat")
    cr.commit()
    return time.perf_counter() - start


def timed(function, repeat):
    """Median milliseconds of ``function`` over ``repeat`` runs (after one warm-up)."""
    function()
    samples = []
    for _i in range(repeat):
        t0 = time.perf_counter()
        function()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def measure(env, size, run):
    cr = env.cr
    connector = env["hc.connector"].search([("code", "=", "bench")])
    doc_type = env["hc.document.type"].search([("code", "=", "vendor")])
    lane = connector._lane_for(doc_type)
    Inbox = env["hc.inbox.message"]
    Worker = env["hc.lane.worker"]
    counter = iter(range(10**9))

    def vendor_doc():
        n = next(counter)
        doc = {
            "identifiers": [{"scheme": "SOURCE", "value": f"histbench-{run}-{size}-{n}"}],
            "name": f"History Vendor {run} {size} {n}",
            "address": {"city": "Springfield", "country_code": "US"},
        }
        return json.dumps(doc).encode()

    def accept():
        Inbox._accept(connector, doc_type, env.company, "application/json", [vendor_doc()])
        cr.commit()

    accept_ms = timed(accept, 100)
    lane.batch_size = 20
    cr.commit()
    Inbox._accept(
        connector, doc_type, env.company, "application/json", [vendor_doc() for _i in range(20)]
    )
    cr.commit()

    def claim():
        messages = Worker._claim(lane, 20)
        cr.commit()
        Worker._unclaim(messages)
        cr.commit()

    claim_ms = timed(claim, 20)
    count = 100
    Inbox._accept(
        connector,
        doc_type,
        env.company,
        "application/json",
        [vendor_doc() for _i in range(count)],
    )
    cr.commit()
    cr.execute(
        "SELECT count(*) FROM hc_inbox_message WHERE lane_id = %s AND state = 'received'",
        [lane.id],
    )
    pending = cr.fetchone()[0]
    t0 = time.perf_counter()
    Worker._cron_process_lane(lane.id)
    cr.commit()
    process_ms = (time.perf_counter() - t0) * 1000 / max(pending, 1)
    Metrics = env["hc.metrics"]
    metrics_ms = timed(lambda: Metrics._prometheus(None), 10)
    health_ms = timed(lambda: Metrics._health(), 10)
    admin = env["res.users"].browse(odoo.SUPERUSER_ID)
    group = env.ref("healthcare_p2p_integration.group_hc_integration_admin")
    if group not in admin.all_group_ids:
        admin.write({"group_ids": [(4, group.id)]})
        cr.commit()
    dashboard_ms = timed(lambda: Metrics.get_dashboard(None, 24), 10)
    cr.execute("SELECT count(*) FROM hc_inbox_message")
    rows = cr.fetchone()[0]
    return {
        "rows": rows,
        "accept_ms": accept_ms,
        "claim_ms": claim_ms,
        "process_ms": process_ms,
        "processed": pending,
        "metrics_ms": metrics_ms,
        "health_ms": health_ms,
        "dashboard_ms": dashboard_ms,
    }


def main():
    conf, db, sizes = sys.argv[1:4]
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    odoo.tools.config["log_db"] = False
    run = int(time.time())
    results = []
    with Registry(db).cursor() as cr:
        env = env_for(cr)
        for size in sorted(int(s) for s in sizes.split(",")):
            grow_s = grow(env, size)
            row = measure(env, size, run)
            row.update({"size": size, "grow_seconds": grow_s})
            results.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
