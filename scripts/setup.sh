#!/usr/bin/env bash
# Idempotent, unattended set-up for healthcare_p2p_integration on Debian 12 / Python 3.11.
# - PostgreSQL from Debian's packages, started, with a role Odoo accepts;
# - a virtualenv OUTSIDE the clone, keyed by Python version and requirement files;
# - Odoo 19.0 from $ODOO_SRC (default /opt/odoo19) or, failing that, the official source;
# - a build folder where Odoo sees this repository under its technical name.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$here/scripts/env.sh"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. System packages: PostgreSQL, build headers for psycopg2/python-ldap, Chromium for tours.
if command -v dpkg >/dev/null 2>&1; then
  apt_install postgresql libpq-dev libldap2-dev libsasl2-dev chromium
fi

# 2. PostgreSQL running, with a role Odoo accepts (it refuses "postgres").
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
  say "starting PostgreSQL"
  if command -v pg_lsclusters >/dev/null 2>&1; then
    read -r ver name _ < <(pg_lsclusters -h | head -n 1) || die "no PostgreSQL cluster found: run 'pg_createcluster 15 main'"
    as_root pg_ctlcluster "$ver" "$name" start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
  pg_isready -q -h "$PGHOST" -p "$PGPORT" || die "PostgreSQL is not reachable on $PGHOST:$PGPORT"
fi
# The role is no superuser (CREATEDB only): as superuser the application could disable or
# drop the audit log's append-only trigger, or set session_replication_role to skip it.
# Odoo needs no more: it creates its databases (owning them), and the extensions it
# creates (pg_trgm, unaccent) are trusted ones, which a database owner may create.
as_postgres_sql() {
  as_root su postgres -c "env -u PGHOST -u PGUSER -u PGPASSWORD psql -p $PGPORT -v ON_ERROR_STOP=1 -qtAc \"$1\""
}
if ! psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  say "creating database role $PGUSER (CREATEDB, no superuser)"
  as_postgres_sql "CREATE ROLE \\\"$PGUSER\\\" LOGIN NOSUPERUSER CREATEDB NOCREATEROLE PASSWORD '$PGPASSWORD'" \
    || die "cannot create role $PGUSER: create it yourself (LOGIN CREATEDB, no superuser, password '$PGPASSWORD')"
fi
role=$(psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -tAc \
  "select rolsuper::text || ' ' || rolcreatedb::text || ' ' || rolcreaterole::text from pg_roles where rolname = current_user")
if [ "$role" != "false true false" ]; then
  say "database role $PGUSER: superuser/createdb/createrole were '$role'; now NOSUPERUSER CREATEDB NOCREATEROLE"
  as_postgres_sql "ALTER ROLE \\\"$PGUSER\\\" NOSUPERUSER CREATEDB NOCREATEROLE" \
    || die "cannot alter role $PGUSER: run as the postgres superuser: ALTER ROLE $PGUSER NOSUPERUSER CREATEDB NOCREATEROLE"
fi
for ext in pg_trgm unaccent; do
  trusted=$(psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -tAc \
    "select bool_or(trusted) from pg_available_extension_versions where name = '$ext'")
  [ "$trusted" = t ] || die "PostgreSQL extension $ext is missing or not trusted (PostgreSQL 13+ with contrib needed)"
done

# 3. Odoo 19.0 source.
if [ ! -f "$ODOO_SRC/odoo-bin" ] || [ ! -f "$ODOO_SRC/odoo/release.py" ]; then
  fallback="$HC_CACHE/odoo-19.0"
  if [ -f "$fallback/odoo-bin" ]; then
    ODOO_SRC=$fallback
  else
    say "no Odoo source at $ODOO_SRC; trying the official Odoo 19.0 source"
    if command -v git >/dev/null 2>&1 && timeout 600 git clone -q --depth 1 -b 19.0 \
        https://github.com/odoo/odoo.git "$fallback.part" 2>/dev/null; then
      mv "$fallback.part" "$fallback"; ODOO_SRC=$fallback
    else
      rm -rf "$fallback.part"
      die "Odoo 19.0 source not found: put an Odoo 19.0 Community tree (with odoo-bin, odoo/ and addons/) at /opt/odoo19 or set ODOO_SRC to its path."
    fi
  fi
fi
grep -q "version_info = (19, 0" "$ODOO_SRC/odoo/release.py" \
  || die "$ODOO_SRC is not Odoo 19.0 (odoo/release.py says otherwise): point ODOO_SRC to an Odoo 19.0 tree."
echo "$ODOO_SRC" > "$HC_CACHE/odoo_src"

# 4. Virtualenv outside the clone, keyed by Python version and requirements.
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
  say "building virtualenv $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip wheel 'setuptools<81'
  # Odoo's pins, except cbor2 5.4.2 which does not build on Python 3.11: let it float.
  sed -E 's/^cbor2==[^;]*;/cbor2 ;/' "$ODOO_SRC/requirements.txt" > "$VENV/odoo-requirements.txt"
  "$VENV/bin/pip" install -q -r "$VENV/odoo-requirements.txt"
  "$VENV/bin/pip" install -q -r "$here/requirements.txt" -r "$here/requirements-dev.txt" \
    -c "$VENV/odoo-requirements.txt"
  touch "$VENV/.complete"
fi
# Odoo itself, from the source tree, on the venv's path (re-pointed on every run).
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ODOO_SRC" > "$site/odoo19-src.pth"

# 5. Build folder: Odoo sees this repository under its technical name.
mkdir -p "$HC_BUILD/addons"
ln -sfn "$here" "$HC_BUILD/addons/$MODULE"
# Encryption key for secrets at rest (bank details, HMAC secrets): one per machine, kept
# outside the repository and the database (see trust/crypto.py).
keyfile="$HC_CACHE/encryption.key"
if [ ! -s "$keyfile" ]; then
  (umask 077; "$VENV/bin/python" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$keyfile")
fi
# The configuration holds the database password, the master password and the encryption
# key: readable by its owner only (written under umask 077, mode forced for an existing
# file). The database manager is off (list_db): every script names its database (-d).
conf_file="$HC_BUILD/odoo.conf"
(umask 077; : > "$conf_file")
chmod 600 "$conf_file"
cat > "$conf_file" <<CONF
[options]
addons_path = $ODOO_SRC/odoo/addons,$ODOO_SRC/addons,$HC_BUILD/addons
db_host = $PGHOST
db_port = $PGPORT
db_user = $PGUSER
db_password = $PGPASSWORD
data_dir = $HC_CACHE/data
admin_passwd = admin
list_db = False
http_interface = 127.0.0.1
log_level = info
hc_p2p_encryption_keys = $(cat "$keyfile")
CONF
say "ready: venv $VENV, Odoo $ODOO_SRC, config $HC_BUILD/odoo.conf"
