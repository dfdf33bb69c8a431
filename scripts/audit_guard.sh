#!/usr/bin/env bash
# make audit-guard DB=<database>: install (or upgrade) the audit log's guard in a database,
# as the PostgreSQL superuser (scripts/audit_guard.sql says what it refuses and why).
# The application's own role is no superuser (make setup), so it cannot do this itself,
# nor undo it.  On a server you administer by hand, run instead, as postgres:
#   psql -d <database> -v ON_ERROR_STOP=1 -f scripts/audit_guard.sql
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
# shellcheck source=scripts/template.sh
. "$here/scripts/template.sh"
db=${1:-${DB:-${HC_DB:-hc_p2p}}}
hc_guard_db "$db"
echo "[audit-guard] installed in $db: $(psql -d "$db" -tAc 'select hc_guard.version()' | sed 's/^/version /')"
