#!/usr/bin/env bash
# make bench: benchmarks measured side by side in one run (see bench/run.py).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
exec "$VENV/bin/python" "$here/bench/run.py" --odoo-src "$ODOO_SRC" --config "$HC_BUILD/odoo.conf" \
  --python "$VENV/bin/python" --module "$MODULE" "$@"
