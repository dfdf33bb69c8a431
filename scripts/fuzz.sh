#!/usr/bin/env bash
# make fuzz: schemathesis against the OpenAPI document on a live server (bench/fuzz.py).
# Options pass through, e.g. scripts/fuzz.sh --max-examples 10
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
exec "$VENV/bin/python" "$here/bench/fuzz.py" --odoo-src "$ODOO_SRC" --config "$HC_BUILD/odoo.conf" \
  --python "$VENV/bin/python" --module "$MODULE" "$@"
