# Shared settings for the project's scripts (sourced, not run).
MODULE=healthcare_p2p_integration
PYTHON=${PYTHON:-python3}
ODOO_SRC=${ODOO_SRC:-/opt/odoo19}
HC_CACHE=${HC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/healthcare_p2p}
mkdir -p "$HC_CACHE"
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432}
export PGUSER=${PGUSER:-odoo} PGPASSWORD=${PGPASSWORD:-odoo}
_here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -f "$HC_CACHE/odoo_src" ] && [ ! -f "$ODOO_SRC/odoo-bin" ]; then ODOO_SRC=$(cat "$HC_CACHE/odoo_src"); fi
_pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
_key=$(cat "$_here/requirements.txt" "$_here/requirements-dev.txt" "$ODOO_SRC/requirements.txt" 2>/dev/null \
  | sha256sum | cut -c1-12)
VENV=${VENV:-$HC_CACHE/venv-py$_pyver-$_key}
# One build folder per clone, so a CI check in another clone never re-points this one.
HC_BUILD=${HC_BUILD:-$HC_CACHE/build/$(echo "$_here" | sha256sum | cut -c1-8)}
ODOO_BIN="$VENV/bin/python $ODOO_SRC/odoo-bin -c $HC_BUILD/odoo.conf"
