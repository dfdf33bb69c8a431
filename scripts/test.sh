#!/usr/bin/env bash
# Runs every test of the addon through pytest:
#   1. the pure-Python unit tests (tests/test_pure_*.py) with neither ORM nor database;
#   2. the Odoo tests (TransactionCase / HttpCase) through pytest-odoo, against a copy of a
#      template database that already holds Odoo and the addon's dependencies.
# The template is keyed by what it contains, so a second run does not re-initialise Odoo.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"

mode=all
case "${1:-}" in
  --pure-only) mode=pure ;;
  --odoo-only) mode=odoo ;;
  --drop-templates)
    for db in $(psql -d postgres -tAc "select datname from pg_database where datname like 'hc_tmpl_%' or datname like 'hc_test_%'"); do
      dropdb "$db"; echo "dropped $db"
    done
    exit 0 ;;
esac

say() { printf '[test] %s\n' "$*"; }
[ -x "$VENV/bin/python" ] || { echo "[test] no virtualenv: run 'make setup'" >&2; exit 1; }
[ -f "$ODOO_SRC/odoo-bin" ] || { echo "[test] Odoo 19.0 source not found at $ODOO_SRC" >&2; exit 1; }
addon="$HC_BUILD/addons/$MODULE"
py="$VENV/bin/python"
export PYTHONDONTWRITEBYTECODE=1

pure_status=0
if [ "$mode" != odoo ]; then
  say "pure-Python unit tests (no database)"
  (cd "$addon" && PYTHONPATH="$addon/scripts" "$py" -m pytest -p pure_plugin -p no:odoo \
      -p no:cacheprovider -q tests/test_pure_*.py) || pure_status=$?
  [ "$mode" = pure ] && exit $pure_status
fi

# shellcheck source=scripts/template.sh
. "$here/scripts/template.sh"
template=$(hc_template)

db="hc_test_$$"
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$HC_CACHE/data/filestore/$db"; }
trap cleanup EXIT
createdb -T "$template" "$db"
hc_guard_db "$db"  # the audit log's guard, as in production (scripts/audit_guard.sql)
[ -d "$HC_CACHE/data/filestore/$template" ] && cp -r "$HC_CACHE/data/filestore/$template" "$HC_CACHE/data/filestore/$db"

say "installing $MODULE into $db"
log="$HC_CACHE/install.log"
$ODOO_BIN -d "$db" -i "$MODULE" --stop-after-init --no-http --log-level=info > "$log" 2>&1 \
  || { tail -n 60 "$log"; exit 1; }
# The addon must install without a warning or error of its own.
if grep -E " (WARNING|ERROR|CRITICAL) .*($MODULE|$addon)" "$log"; then
  echo "[test] installing $MODULE logged warnings or errors (above)" >&2; exit 1
fi

say "Odoo tests through pytest-odoo"
odoo_status=0
(cd "$addon" && HC_BUILD_ADDONS="$HC_BUILD/addons" PYTHONPATH="$addon/scripts" "$py" -m pytest -p odoo_plugin -p no:cacheprovider --odoo-config="$HC_BUILD/odoo.conf" \
    --odoo-database="$db" --odoo-http --odoo-log-level=warn \
    --ignore-glob='tests/test_pure_*.py' -q -rfEs tests) || odoo_status=$?
if [ $pure_status -ne 0 ]; then
  echo "[test] the pure-Python unit tests failed (see above)" >&2
  exit $pure_status
fi
exit $odoo_status
