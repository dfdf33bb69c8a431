#!/usr/bin/env bash
# make test-faults: the fault suite (bench/faults.py) on servers and databases of its own.
# Options pass through, e.g. scripts/faults.sh --docs 200 --scenarios kill
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
exec "$VENV/bin/python" "$here/bench/faults.py" --odoo-src "$ODOO_SRC" --config "$HC_BUILD/odoo.conf" \
  --python "$VENV/bin/python" --module "$MODULE" "$@"
