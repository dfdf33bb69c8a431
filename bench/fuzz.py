"""API fuzzing (``make fuzz``): schemathesis against the module's own OpenAPI document.

Starts Odoo (``--workers``) on a database of its own, gives the fuzzer a connector's API key
(every document type allowed) and runs schemathesis on ``GET /api/hc/v1/openapi.json``:
no response may be a 5xx, and every response must match the documented status codes,
content types and schemas.  Bounded by ``--max-examples`` per operation and ``--max-time``.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness

DB = "hc_fuzz"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def main():
    parser = harness.base_parser(__doc__, 8290)
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--max-time", type=int, default=300)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--include-path-regex", default=None)
    args = parser.parse_args()

    harness.install_db(args, DB)
    key = harness.bootstrap_connector(args, DB, "fuzz")
    server = harness.Server(
        args,
        DB,
        args.port,
        workers=2,
        # lane workers on: what is accepted gets processed (the health endpoint would
        # rightly report stalled lanes otherwise)
        cron_threads=1,
        log=os.path.expanduser(f"~/.cache/healthcare_p2p/{DB}.log"),
    ).wait_ready()
    st = os.path.join(os.path.dirname(args.python), "schemathesis")
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = [
        st,
        "--config-file",
        os.path.join(here, "schemathesis.toml"),
        "run",
        f"{server.base}/api/hc/v1/openapi.json",
        "-H",
        f"Authorization: Bearer {key}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(args.max_time),
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
    ]
    if args.include_path_regex:
        cmd += ["--include-path-regex", args.include_path_regex]
    try:
        env = dict(
            os.environ,
            SCHEMATHESIS_HOOKS="schemathesis_hooks",
            PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""),
        )
        status = subprocess.run(cmd, check=False, env=env).returncode
    finally:
        server.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
