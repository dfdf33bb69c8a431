#!/usr/bin/env bash
# Developer loop: run some Odoo tests against a kept database (default hc_dev), created
# from the template on first use.  UPDATE=1 upgrades the addon first (after changing
# fields, views or data).  Example:
#   DB=hc_dev UPDATE=1 scripts/dev_test.sh tests/test_api.py -k conflict
# HTTP_PORT=8170 gives this run its own HTTP port (several checkouts at once).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
db=${DB:-hc_dev}
addon="$HC_BUILD/addons/$MODULE"
[ -L "$addon" ] || bash "$here/scripts/setup.sh" >/dev/null
if ! psql -d postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1; then
  template=$(psql -d postgres -tAc "select datname from pg_database where datname like 'hc_tmpl_%' order by oid desc limit 1")
  [ -n "$template" ] || { echo "no template database yet: run 'make test' once" >&2; exit 1; }
  createdb -T "$template" "$db"
  # shellcheck source=scripts/template.sh
  . "$here/scripts/template.sh"
  hc_guard_db "$db"
  $ODOO_BIN -d "$db" -i "$MODULE" --stop-after-init --no-http --log-level=warn > "$HC_CACHE/$db.log" 2>&1 \
    || { tail -n 40 "$HC_CACHE/$db.log"; exit 1; }
elif [ -n "${UPDATE:-}" ]; then
  $ODOO_BIN -d "$db" -u "$MODULE" --stop-after-init --no-http --log-level=warn > "$HC_CACHE/$db.log" 2>&1 \
    || { tail -n 40 "$HC_CACHE/$db.log"; exit 1; }
fi
conf="$HC_BUILD/odoo.conf"
if [ -n "${HTTP_PORT:-}" ]; then
  # Several checkouts testing at once each need their own HTTP port for HttpCase.
  conf="$HC_BUILD/odoo-$HTTP_PORT.conf"
  (umask 077; { cat "$HC_BUILD/odoo.conf"; echo "http_port = $HTTP_PORT"; echo "gevent_port = $((HTTP_PORT + 1000))"; } > "$conf")
  chmod 600 "$conf"
fi
cd "$addon"
HC_BUILD_ADDONS="$HC_BUILD/addons" PYTHONPATH="$addon/scripts" "$VENV/bin/python" -m pytest \
  -p odoo_plugin -p no:cacheprovider --odoo-config="$conf" --odoo-database="$db" \
  --odoo-http --odoo-log-level=warn -q "$@"
