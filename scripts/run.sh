#!/usr/bin/env bash
# Odoo with the addon on http://localhost:8069 against a local database.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
db=${HC_DB:-hc_p2p}
demo=()
[ "${1:-}" = --demo ] && demo=(--with-demo)
if ! psql -d postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
  echo "[run] creating database $db with $MODULE"
  $ODOO_BIN -d "$db" -i "$MODULE" "${demo[@]}" --stop-after-init
else
  $ODOO_BIN -d "$db" -u "$MODULE" --stop-after-init
fi
echo "[run] Odoo on http://localhost:${HC_PORT:-8069} (database $db, login admin / admin)"
exec $ODOO_BIN -d "$db" --db-filter="^$db\$" --http-port="${HC_PORT:-8069}" ${HC_WORKERS:+--workers=$HC_WORKERS}
