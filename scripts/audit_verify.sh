#!/usr/bin/env bash
# make audit-verify DB=<database> [EXPECT=<head hash>]: walk the audit chain; exit 1 if broken.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
db=${DB:-${HC_DB:-hc_p2p}}
exec "$VENV/bin/python" "$here/scripts/audit_verify.py" -c "$HC_BUILD/odoo.conf" -d "$db" \
  ${EXPECT:+--expect "$EXPECT"}
