#!/usr/bin/env bash
# ruff and pylint-odoo (OCA's checks) on the addon: zero findings expected.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"
cd "$HC_BUILD/addons"
"$VENV/bin/ruff" check "$MODULE"
"$VENV/bin/ruff" format --check "$MODULE"
"$VENV/bin/pylint" --rcfile="$MODULE/.pylintrc" "$MODULE"
echo "[lint] clean"
