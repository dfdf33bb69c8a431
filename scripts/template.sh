# Template database: Odoo + the addon's dependencies, keyed by the Odoo tree and the
# manifest, built once (sourced by test.sh and demo.sh after env.sh).
# hc_template prints the template's name, building it first when missing.
hc_template() {
  local deps key template
  deps=$("$VENV/bin/python" - "$_here/__manifest__.py" <<'PY'
import ast, sys
print(",".join(ast.literal_eval(open(sys.argv[1]).read())["depends"]))
PY
)
  key=$( { echo "$deps"; cat "$ODOO_SRC/odoo/release.py"; git -C "$ODOO_SRC" rev-parse HEAD 2>/dev/null || true;
           ls -l --time-style=+%s "$ODOO_SRC/addons" | md5sum; } | sha256sum | cut -c1-10)
  template="hc_tmpl_$key"
  if ! psql -d postgres -tAc "select 1 from pg_database where datname='$template'" | grep -q 1; then
    echo "[template] building template database $template with: $deps (once)" >&2
    dropdb --if-exists "$template.part" >/dev/null 2>&1 || true
    $ODOO_BIN -d "$template.part" -i "$deps" --stop-after-init --no-http --log-level=warn \
      > "$HC_CACHE/template.log" 2>&1 || { tail -n 40 "$HC_CACHE/template.log" >&2; return 1; }
    psql -d postgres -qc "ALTER DATABASE \"$template.part\" RENAME TO \"$template\""
    # the filestore follows the database name
    [ -d "$HC_CACHE/data/filestore/$template.part" ] && mv "$HC_CACHE/data/filestore/$template.part" "$HC_CACHE/data/filestore/$template"
  else
    echo "[template] reusing template database $template" >&2
  fi
  echo "$template"
}

# hc_copy_template DB: a fresh DB (dropped first) copied from the template, filestore too.
hc_copy_template() {
  local db=$1 template
  template=$(hc_template) || return 1
  dropdb --if-exists --force "$db" >/dev/null 2>&1 || true
  rm -rf "$HC_CACHE/data/filestore/$db"
  createdb -T "$template" "$db"
  hc_guard_db "$db"
  if [ -d "$HC_CACHE/data/filestore/$template" ]; then cp -r "$HC_CACHE/data/filestore/$template" "$HC_CACHE/data/filestore/$db"; fi
}

# hc_guard_db DB: install the audit log's guard (scripts/audit_guard.sql) in DB, as the
# PostgreSQL superuser (root or passwordless sudo needed): only a superuser may create event
# triggers, which is the point.  Set HC_AUDIT_GUARD=skip to go without (a warning, and the
# guard's own tests skip).
hc_guard_db() {
  local db=$1
  if [ "${HC_AUDIT_GUARD:-}" = skip ]; then
    echo "[audit-guard] HC_AUDIT_GUARD=skip: $db has no audit guard" >&2; return 0
  fi
  local run=(su postgres -c "env -u PGHOST -u PGUSER -u PGPASSWORD psql -p ${PGPORT:-5432} -d '$db' -v ON_ERROR_STOP=1 -q -f -")
  if [ "$(id -u)" != 0 ]; then run=(sudo -n "${run[@]}"); fi
  "${run[@]}" < "$_here/scripts/audit_guard.sql" 2>&1 | grep -v '^psql:.*NOTICE:' >&2 || true
  [ "$(psql -d "$db" -tAc "select count(*) from pg_event_trigger where evtname like 'hc_audit_guard_%'")" = 2 ] || {
    echo "[audit-guard] could not install the audit guard in $db: run as the PostgreSQL superuser" \
      "'psql -d $db -f scripts/audit_guard.sql', or set HC_AUDIT_GUARD=skip" >&2
    return 1
  }
}
