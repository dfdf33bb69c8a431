#!/usr/bin/env bash
# The Odoo tests through Odoo's own runner, as OCA CI, runboat and Odoo.sh run them:
#   odoo-bin -d <db> -i healthcare_p2p_integration --test-enable --stop-after-init
# on a copy of the template database (Odoo + the addon's dependencies, see template.sh).
# Odoo runs the test modules tests/__init__.py imports (the pure tests are pytest's only).
# Fails when a test fails, when the addon logs an error, or when no test ran at all.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
say() { printf '[test-native] %s\n' "$*"; }
[ -x "$VENV/bin/python" ] || { echo "[test-native] no virtualenv: run 'make setup'" >&2; exit 1; }
export PYTHONDONTWRITEBYTECODE=1

# shellcheck source=scripts/template.sh
. "$here/scripts/template.sh"
db="hc_native_$$"
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$HC_CACHE/data/filestore/$db"; }
trap cleanup EXIT
hc_copy_template "$db"

# HttpCase needs Odoo's HTTP server: a free port of its own (several clones test at once).
port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$HC_BUILD/test-native.log"
say "odoo-bin -i $MODULE --test-enable --stop-after-init on $db (log: $log)"
status=0
$ODOO_BIN -d "$db" -i "$MODULE" --test-enable --test-tags "/$MODULE" --stop-after-init \
  --http-port "$port" --workers 0 --log-level=test > "$log" 2>&1 || status=$?

# Odoo's summary lines ("N failed, M error(s) of T tests ..."), then what failed.
grep -E "error\(s\) of [0-9]+ tests|post-tests in" "$log" | sed 's/^/  /' || true
if grep -qE " (ERROR|CRITICAL) " "$log"; then
  echo "[test-native] errors in the log:" >&2
  grep -E " (ERROR|CRITICAL) " "$log" | cut -c1-300 | head -n 40 >&2
  grep -E -A 20 ": (FAIL|ERROR): " "$log" | head -n 200 >&2 || true
  [ "$status" -ne 0 ] || status=1
fi
ran=$(grep -oE "of [0-9]+ tests" "$log" | tail -n 1 | grep -oE "[0-9]+" || echo 0)
if [ "${ran:-0}" -eq 0 ]; then
  echo "[test-native] Odoo's runner ran no test of $MODULE: is tests/__init__.py importing them?" >&2
  exit 1
fi
[ "$status" -eq 0 ] && say "passed ($ran tests)"
exit "$status"
