"""Verify the hash-chained audit log of a database; exit 1 at the first broken link.

Usage (see ``make audit-verify DB=...``)::

    python scripts/audit_verify.py -c odoo.conf -d DB [--expect HASH] [--table COPY]

``--expect`` takes a chain head printed by an earlier run: it must still be in the chain
(entries deleted from the very end leave no broken link behind, only a missing head).
Read-only: it opens a cursor, walks the chain and rolls back.
"""

import argparse
import sys


def check(env, expect=None, table="hc_audit_log"):
    """``(exit code, text)`` for the audit chain of ``env``'s database (or of a copy of it
    in ``table``: a restored backup, an archive)."""
    log = env["hc.audit.log"]
    report = log._verify_report(expect_hash=expect, table=table)
    return (0 if report["ok"] else 1), log._verify_report_text(report)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--expect", help="a chain head that must still be present")
    parser.add_argument(
        "--table", default="hc_audit_log", help="verify a copy of the log (same columns)"
    )
    args = parser.parse_args(argv)

    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if "hc.audit.log" not in env:
            print(f"no audit log in database {args.database}", file=sys.stderr)
            return 2
        code, text = check(env, args.expect, args.table)
        print(text)
        cr.rollback()
    return code


if __name__ == "__main__":
    sys.exit(main())
