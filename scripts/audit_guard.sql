-- The audit log's guard: run by a PostgreSQL SUPERUSER in each database (make audit-guard).
--
-- The append-only trigger on hc_audit_log refuses UPDATE, DELETE and TRUNCATE, but the
-- table's owner (the application role, which creates it) could still switch the trigger
-- off (ALTER TABLE ... DISABLE TRIGGER), drop it, replace its function, or rewrite rows
-- with ALTER TABLE ... ALTER COLUMN ... USING.  Event triggers see every such command, and
-- only a superuser can create, alter, disable or drop them: these refuse, to any role that
-- is not a superuser, structural changes to a log that holds entries, dropping it, its
-- triggers, rules or function, and replacing that function.  Creating the log and its
-- trigger (installing the addon) is left alone while the log is empty, so a database
-- guarded before the addon is installed (the test template) still installs it.
--
-- Everything lives in schema hc_guard, owned by the superuser: the database owner can
-- drop schema public (with the log in it: refused below) but not this one.
-- Idempotent: run it again to upgrade the guard.

CREATE SCHEMA IF NOT EXISTS hc_guard;
REVOKE ALL ON SCHEMA hc_guard FROM PUBLIC;
GRANT USAGE ON SCHEMA hc_guard TO PUBLIC;

-- The guard's version, read by the addon (hc.audit.log._guard_state) and by make test.
CREATE OR REPLACE FUNCTION hc_guard.version() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;

CREATE OR REPLACE FUNCTION hc_guard.is_superuser() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    -- session_user: the role that logged in; SET ROLE cannot lend it more rights
    SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
$$;

-- The log: public.hc_audit_log, and whatever table carries its append-only trigger (the
-- same table after a rename); its trigger function: the one of that name, and whatever
-- function that trigger calls (the same function after a rename).
CREATE OR REPLACE FUNCTION hc_guard.audit_tables() RETURNS oid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT rel), '{}') FROM (
        SELECT to_regclass('public.hc_audit_log')::oid AS rel
        UNION ALL
        SELECT tgrelid FROM pg_trigger WHERE tgname = 'hc_audit_log_append_only'
    ) t WHERE rel IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION hc_guard.audit_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    logs oid[] := hc_guard.audit_tables();
    fns oid[];
    log oid;
    r record;
    has_entries boolean := false;
BEGIN
    IF hc_guard.is_superuser() THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT f), '{}') INTO fns FROM (
        SELECT to_regprocedure('public.hc_audit_log_append_only()')::oid AS f
        UNION ALL
        SELECT tgfoid FROM pg_trigger
         WHERE tgrelid = ANY (logs) AND tgname = 'hc_audit_log_append_only'
    ) t WHERE f IS NOT NULL;
    -- Whatever the log holds: no rule (ON INSERT DO INSTEAD NOTHING would drop every entry
    -- to come) and no trigger but the addon's own (a BEFORE INSERT one could too).
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        IF (r.classid = 'pg_rewrite'::regclass
                AND EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.oid = r.objid AND w.ev_class = ANY (logs)))
            OR (r.classid = 'pg_trigger'::regclass
                AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.oid = r.objid AND t.tgrelid = ANY (logs)
                            AND NOT t.tgisinternal AND t.tgname <> 'hc_audit_log_append_only'))
        THEN
            RAISE EXCEPTION 'hc_audit_log is guarded: % on % refused (no rule or trigger but its own on the audit log)',
                r.command_tag, r.object_identity
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
    FOREACH log IN ARRAY logs LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', log::regclass) INTO has_entries;
        EXIT WHEN has_entries;
    END LOOP;
    IF NOT has_entries THEN
        -- Nothing recorded yet: the addon is creating its log (adding columns, keys and
        -- its trigger), but the protection it has must stay whole: the trigger enabled,
        -- its function the one that refuses.
        IF EXISTS (SELECT 1 FROM pg_trigger
                    WHERE tgrelid = ANY (logs) AND tgname = 'hc_audit_log_append_only'
                      AND tgenabled NOT IN ('O', 'A'))
            OR EXISTS (SELECT 1 FROM pg_proc WHERE oid = ANY (fns)
                        AND btrim(regexp_replace(prosrc, '\s+', ' ', 'g')) <>
                            'BEGIN RAISE EXCEPTION ''hc_audit_log is append-only (% refused)'', TG_OP; END;')
        THEN
            RAISE EXCEPTION 'hc_audit_log is guarded: its append-only trigger must stay enabled and unchanged'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN;
    END IF;
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
        -- an index, a new trigger or a comment changes nothing already recorded
        CONTINUE WHEN r.command_tag IN ('CREATE INDEX', 'CREATE TRIGGER', 'COMMENT', 'GRANT', 'REVOKE');
        IF (r.classid = 'pg_class'::regclass AND r.objid = ANY (logs))
            OR (r.classid = 'pg_trigger'::regclass
                AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.oid = r.objid AND t.tgrelid = ANY (logs)))
            OR (r.classid = 'pg_rewrite'::regclass
                AND EXISTS (SELECT 1 FROM pg_rewrite w WHERE w.oid = r.objid AND w.ev_class = ANY (logs)))
            OR (r.classid = 'pg_proc'::regclass AND r.objid = ANY (fns))
        THEN
            RAISE EXCEPTION 'hc_audit_log is guarded: % on % refused (only a database superuser may change the audit log''s structure)',
                r.command_tag, r.object_identity
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION hc_guard.audit_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    IF hc_guard.is_superuser() THEN
        RETURN;
    END IF;
    FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
        IF (r.object_type = 'table' AND r.object_identity = 'public.hc_audit_log')
            OR (r.object_type = 'trigger' AND r.object_identity LIKE 'hc_audit_log_append_only on %')
            OR (r.object_type IN ('trigger', 'rule') AND r.object_identity LIKE '% on public.hc_audit_log')
            OR (r.object_type = 'function' AND r.object_identity = 'public.hc_audit_log_append_only()')
        THEN
            RAISE EXCEPTION 'hc_audit_log is guarded: DROP % % refused (only a database superuser may drop the audit log or its protection)',
                r.object_type, r.object_identity
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
END;
$$;

REVOKE ALL ON FUNCTION hc_guard.audit_ddl(), hc_guard.audit_drop(), hc_guard.audit_tables(),
    hc_guard.is_superuser() FROM PUBLIC;

DROP EVENT TRIGGER IF EXISTS hc_audit_guard_ddl;
CREATE EVENT TRIGGER hc_audit_guard_ddl ON ddl_command_end EXECUTE FUNCTION hc_guard.audit_ddl();
DROP EVENT TRIGGER IF EXISTS hc_audit_guard_drop;
CREATE EVENT TRIGGER hc_audit_guard_drop ON sql_drop EXECUTE FUNCTION hc_guard.audit_drop();
