#!/usr/bin/env bash
# make demo: a generated day at a fictional hospital network, replayed over HTTP into a
# fresh database, scored against the generator's truth; Odoo is left running.
# SIZE=tiny|small|full (default full), SEED (default 42), HC_DEMO_DB (hc_demo),
# HC_DEMO_PORT (8276).  See simulator/__main__.py.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
db=${HC_DEMO_DB:-hc_demo}
port=${HC_DEMO_PORT:-8276}
out=${HC_DEMO_OUT:-$HC_BUILD/demo}
mkdir -p "$out"
# stop the server a previous demo left running (its pid only, if it is still ours)
if [ -f "$out/odoo.pid" ]; then
  pid=$(cat "$out/odoo.pid")
  if kill -0 "$pid" 2>/dev/null && grep -q odoo-bin "/proc/$pid/cmdline" 2>/dev/null; then
    echo "[demo] stopping the previous demo server (pid $pid)"
    kill -- "-$pid" 2>/dev/null || kill "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$out/odoo.pid"
fi
# a fresh database: a copy of the template holding Odoo and the addon's dependencies
# (built once, shared with make test), the addon is installed into it by the demo
# shellcheck source=scripts/template.sh
. "$here/scripts/template.sh"
echo "[demo] fresh database $db from the template"
hc_copy_template "$db"
cd "$here"
exec "$VENV/bin/python" -m simulator run --odoo-src "$ODOO_SRC" --config "$HC_BUILD/odoo.conf" \
  --python "$VENV/bin/python" --db "$db" --prepared-db --port "$port" --out "$out" \
  --size "${SIZE:-full}" --seed "${SEED:-42}" "$@"
