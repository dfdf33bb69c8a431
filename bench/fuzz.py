"""API fuzzing (``make fuzz``): schemathesis against the module's own OpenAPI document.

Starts Odoo (``--workers``) on a database of its own and runs schemathesis on
``GET /api/hc/v1/openapi.json`` twice: every operation with a connector's API key (every
document type allowed), then the administrators' operations (replay, metrics) with the API
key of an integration administrator, so that they are fuzzed past the 403.  No response
may be a 5xx (except the documented 503 of ``/health``), and every response must match the
documented status codes, content types and schemas (checks: bench/schemathesis.toml).
Bounded by ``--max-examples`` per operation and by ``--max-time`` / ``--admin-max-time``
seconds per pass (fuzzing repeats until its pass's budget is spent).  The exit code is
the first failing pass's.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness

DB = "hc_fuzz"
ADMIN_OPERATIONS = ("replay_message", "metrics")


def main():
    parser = harness.base_parser(__doc__, 8290)
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--max-time", type=int, default=300, help="seconds, connector pass")
    parser.add_argument("--admin-max-time", type=int, default=60, help="seconds, admin pass")
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--include-path-regex", default=None)
    parser.add_argument("--db", default=DB, help="database of the run (kept between runs)")
    parser.add_argument(
        "--fresh", action="store_true", help="drop the database first (what CI does)"
    )
    args = parser.parse_args()

    if args.fresh:
        harness.drop_db(args, args.db)
    harness.install_db(args, args.db)
    key = harness.bootstrap_connector(args, args.db, "fuzz")
    admin_key = harness.bootstrap_admin_key(args, args.db)
    server = harness.Server(
        args,
        args.db,
        args.port,
        workers=2,
        # lane workers on: what is accepted gets processed (the health endpoint would
        # rightly report stalled lanes otherwise)
        cron_threads=1,
        log=os.path.expanduser(f"~/.cache/healthcare_p2p/{args.db}.log"),
    ).wait_ready()
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(
        os.environ,
        SCHEMATHESIS_HOOKS="schemathesis_hooks",
        PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    passes = [
        ("connector", key, args.max_time, []),
        (
            "administrator",
            admin_key,
            args.admin_max_time,
            [a for op in ADMIN_OPERATIONS for a in ("--include-operation-id", op)],
        ),
    ]
    status = 0
    try:
        for name, bearer, budget, extra in passes:
            if args.include_path_regex:
                extra = [*extra, "--include-path-regex", args.include_path_regex]
            started = time.monotonic()
            print(f"[fuzz] {name} pass: {budget} s at most", flush=True)
            code = subprocess.run(
                _command(args, server, here, bearer, budget, extra), check=False, env=env
            ).returncode
            print(
                f"[fuzz] {name} pass: exit {code} in {time.monotonic() - started:.0f} s",
                flush=True,
            )
            status = status or code
    finally:
        server.stop()
    return status


def _command(args, server, here, bearer, budget, extra):
    return [
        os.path.join(os.path.dirname(args.python), "schemathesis"),
        "--config-file",
        os.path.join(here, "schemathesis.toml"),
        "run",
        f"{server.base}/api/hc/v1/openapi.json",
        "-H",
        f"Authorization: Bearer {bearer}",
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(budget),
        "--phases",
        args.phases,
        "--workers",
        "2",
        "--request-timeout",
        "60",
        "--suppress-health-check",
        "too_slow,filter_too_much",
        "--seed",
        "1",
        *extra,
    ]


if __name__ == "__main__":
    sys.exit(main())
