import contextlib
import contextvars
import hashlib
import json
import logging

import psycopg2

from odoo import api
from odoo import fields
from odoo import models
from odoo import modules
from odoo import sql_db
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

GENESIS = "0" * 64
APPEND_ONLY_BODY = """
BEGIN
    RAISE EXCEPTION 'hc_audit_log is append-only (% refused)', TG_OP;
END;
"""
APPEND_ONLY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION hc_audit_log_append_only() RETURNS trigger AS $$"
    f"{APPEND_ONLY_BODY}$$ LANGUAGE plpgsql"
)
# Set by this module's code only, never from a request's context: the cursor whose entries
# wait for its lane worker's commit (see HcAuditLog._hold), and "an entry is being
# appended by the chain's writer" (the only way an entry is created).
_HELD = contextvars.ContextVar("hc_audit_held", default=None)
_APPENDING = contextvars.ContextVar("hc_audit_appending", default=False)


def _in_test_transaction():
    """Inside Odoo's test transaction, recognised the way Odoo core does (no commit there)."""
    return bool(modules.module.current_test)


class _LockHeld(Exception):
    """This transaction holds the chain's lock: a cursor of its own would wait in vain."""


class HcAuditLog(models.Model):
    """Append-only, hash-chained audit trail of human and integration decisions.

    Each entry stores the SHA-256 of its own content and of the previous entry, so any
    later change to a row (even straight in SQL) breaks the chain at that row.
    """

    _name = "hc.audit.log"
    _description = "Integration audit log"
    _order = "id desc"
    _log_access = True

    action = fields.Char(string="Action code", required=True, readonly=True, index=True)
    res_model = fields.Char(string="Record model", readonly=True, index=True)
    res_id = fields.Integer(string="Record ID", readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="By", readonly=True, default=lambda s: s.env.uid)
    reason = fields.Text(readonly=True)
    data = fields.Json(string="Details (raw)", readonly=True)
    prev_hash = fields.Char(string="Previous entry's hash", readonly=True)
    entry_hash = fields.Char(string="Entry hash", readonly=True, index=True)
    logged_at = fields.Datetime(string="When", readonly=True, required=True)
    # What an auditor reads: the event, the record and the details in words.
    action_label = fields.Char(string="Event", compute="_compute_readable")
    res_model_label = fields.Char(string="Record type", compute="_compute_readable")
    record_name = fields.Char(string="Record", compute="_compute_readable")
    details = fields.Text(compute="_compute_readable")
    company_id = fields.Many2one(
        "res.company",
        readonly=True,
        index="btree_not_null",
        help="Company (facility) of the record concerned; empty for entries of no company.",
    )

    @api.depends("action", "res_model", "res_id", "data")
    def _compute_readable(self):
        names = {}
        for model in set(self.filtered("res_model").mapped("res_model")):
            if model not in self.env:
                continue
            ids = {e.res_id for e in self if e.res_model == model and e.res_id}
            records = self.env[model].browse(ids).exists()
            # the name when this user may read the record, its number otherwise
            names.update({(model, r.id): r.display_name for r in records._filtered_access("read")})
        for entry in self:
            entry.action_label = (entry.action or "").replace("_", " ").capitalize()
            model = entry.res_model
            entry.res_model_label = (
                (self.env[model]._description if model in self.env else model) if model else False
            )
            entry.record_name = (
                names.get((model, entry.res_id)) or f"{entry.res_model_label} #{entry.res_id}"
                if model and entry.res_id
                else False
            )
            entry.details = self._details_text(entry.data) or False

    @api.model
    def _details_text(self, value, indent=""):
        """The stored details as indented "label: value" lines."""
        if isinstance(value, dict):
            lines = []
            for key, item in value.items():
                label = str(key).replace("_", " ").capitalize()
                if isinstance(item, (dict, list)) and item:
                    lines.append(f"{indent}{label}:")
                    lines.append(self._details_text(item, indent + "    "))
                else:
                    lines.append(f"{indent}{label}: {self._details_text(item)}")
            return "\n".join(lines)
        if isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                return ", ".join(self._details_text(v) for v in value)
            return "\n".join(self._details_text(v, indent) for v in value)
        if value is None:
            return "-"
        if isinstance(value, bool):
            return self.env._("yes") if value else self.env._("no")
        return str(value)

    def action_open_record(self):
        """The record this entry is about."""
        self.ensure_one()
        if not (self.res_model in self.env and self.res_id):
            return False
        return {
            "type": "ir.actions.act_window",
            "name": self.res_model_label,
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    def init(self):
        # Append-only in the database too: not even SQL run by the application may change
        # or delete an entry (the ORM refuses first; this catches everything else).  Made
        # only when missing or different: where the audit guard is installed (see
        # _guard_state), replacing the function or the trigger of a log that holds
        # entries is refused, even to this module's upgrade.
        cr = self.env.cr
        cr.execute(
            "SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure('hc_audit_log_append_only()')"
        )
        row = cr.fetchone()
        if not row or row[0].strip() != APPEND_ONLY_BODY.strip():
            cr.execute(APPEND_ONLY_FUNCTION)
        cr.execute(
            """SELECT 1 FROM pg_trigger
                WHERE tgrelid = 'hc_audit_log'::regclass
                  AND tgname = 'hc_audit_log_append_only' AND tgenabled = 'O'"""
        )
        if not cr.fetchone():
            cr.execute(
                """
                DROP TRIGGER IF EXISTS hc_audit_log_append_only ON hc_audit_log;
                CREATE TRIGGER hc_audit_log_append_only
                    BEFORE UPDATE OR DELETE OR TRUNCATE ON hc_audit_log
                    FOR EACH STATEMENT EXECUTE FUNCTION hc_audit_log_append_only();
                """
            )

    @api.model
    def _guard_state(self):
        """The audit guard's version in this database, or 0 when it is not installed.

        The guard (scripts/audit_guard.sql, installed by a PostgreSQL superuser with
        ``make audit-guard``) is a pair of event triggers refusing the application's own
        database role what the append-only trigger cannot: switching that trigger off,
        dropping or replacing it, and rewriting rows with ``ALTER TABLE``.
        """
        self.env.cr.execute(
            """SELECT count(*) FROM pg_event_trigger
                WHERE evtname IN ('hc_audit_guard_ddl', 'hc_audit_guard_drop')
                  AND evtenabled = 'O'"""
        )
        if self.env.cr.fetchone()[0] != 2:
            return 0
        self.env.cr.execute("SELECT to_regprocedure('hc_guard.version()') IS NOT NULL")
        if not self.env.cr.fetchone()[0]:
            return 0
        self.env.cr.execute("SELECT hc_guard.version()")
        return self.env.cr.fetchone()[0]

    @api.model
    def _log(self, action, record=None, reason=None, data=None):
        """Append one entry now (see :meth:`_append`).

        Inside a lane worker's batch (:meth:`_hold`) the entry is queued instead and
        chained when the worker commits: taking the chain's lock in the middle of a batch
        held it, with the rows the batch had written, until the batch committed, and two
        workers deadlocked (each waiting for the other's rows, one also for the lock).
        Nothing a caller sends (no context key) changes this: an entry is always written.
        """
        if self._held():
            self._queue(action, record, reason=reason, data=data)
            return self.browse()
        return self._append([self._entry_vals(action, record, reason, data)])

    @api.model
    def _log_at_commit(self, action, record, data=None):
        """Append an entry when the transaction commits (or at :meth:`_flush_pending`).

        For the entries written by every processed message: chaining takes the chain's
        lock until commit, and a lane worker committing a batch of bills at once would
        hold it (and stall the other workers) for the whole batch.  Queued on the
        cursor, the entries are chained together just before the commit, so the lock
        is held for milliseconds.  A rollback drops them with the transaction.
        """
        self._queue(action, record, data=data)

    @api.model
    def _entry_vals(self, action, record, reason=None, data=None):
        company = record and "company_id" in record._fields and record[:1].sudo().company_id
        return {
            "company_id": company.id if company else False,
            "action": action,
            "res_model": record._name if record else False,
            "res_id": record.id if record else 0,
            "user_id": self.env.uid,
            "reason": reason or False,
            "data": data or {},
            "logged_at": fields.Datetime.now(),
        }

    @api.model
    def _queue(self, action, record, reason=None, data=None):
        """Queue an entry on the cursor, chained by :meth:`_flush_pending` at the flush
        before the commit; while the cursor's lane worker holds the chain
        (:meth:`_hold`), at its first commit after the hold (a flush also runs at every
        savepoint, in the middle of a batch)."""
        # Kept with the rollback callbacks: dropped by a rollback and after the commit,
        # but not by the precommit callbacks, which every flush runs and then clears.
        pending = self.env.cr.postrollback.data.setdefault("hc_audit_pending", [])
        pending.append(self._entry_vals(action, record, reason, data))
        if not self._held():
            self._hook()

    @api.model
    def _hook(self):
        """Chain the queued entries at the next flush: the commit's at the latest."""
        hooks = self.env.cr.precommit
        if not hooks.data.get("hc_audit_hooked"):
            hooks.data["hc_audit_hooked"] = True
            hooks.add(self._flush_at_commit)

    def _flush_at_commit(self):
        # A savepoint inside a hold also runs the precommit callbacks: not now (the
        # hold's end hooks the flush again).
        if not self._held():
            self._flush_pending()

    @api.model
    def _held(self):
        return _HELD.get() is self.env.cr

    @contextlib.contextmanager
    def _hold(self):
        """While a lane worker processes its messages: entries of its cursor wait for its
        commit.  Set by the worker's code only (a context variable of its thread, bound
        to its cursor), never by a caller; whatever is still queued when the hold ends
        is chained at the cursor's next commit, so a commit never loses an entry."""
        token = _HELD.set(self.env.cr)
        try:
            yield
        finally:
            _HELD.reset(token)
            if self._pending_mark() and not self._held():
                self._hook()

    @api.model
    def _pending_mark(self):
        """How many entries are queued (to forget those of a rolled-back savepoint)."""
        return len(self.env.cr.postrollback.data.get("hc_audit_pending", ()))

    @api.model
    def _forget_pending(self, mark):
        pending = self.env.cr.postrollback.data.get("hc_audit_pending")
        if pending:
            del pending[mark:]

    @api.model
    def _flush_pending(self):
        """Chain and write the queued entries (one lock, one insert)."""
        self.env.cr.precommit.data.pop("hc_audit_hooked", None)
        pending = self.env.cr.postrollback.data.pop("hc_audit_pending", None)
        if not pending:
            return self.browse()
        return self._append(pending)

    @api.model
    def _append(self, vals_list):
        """Chain ``vals_list`` to the head and insert them: the chain's one writer.

        Writers are serialised on a transaction-level advisory lock, and the head is read
        after the lock is granted, on a snapshot taken then (a pooled cursor's first
        statement; one read per call, not per entry): this transaction's
        own snapshot (REPEATABLE READ, taken at its first query) predates entries other
        transactions committed since, and chaining to it forked the chain (119 broken
        links after one demo day).  The entries are inserted in this transaction, so they
        commit or roll back with what they record; ids are drawn under the lock, so the
        chain's order is the ids' order.
        """
        self.env.cr.execute("SELECT pg_advisory_xact_lock(hashtext('hc_audit_log'))")
        prev = self._chain_head()
        for vals in vals_list:
            vals["prev_hash"] = prev
            vals["entry_hash"] = prev = self._digest(vals, vals["logged_at"])
        token = _APPENDING.set(True)
        try:
            return self.sudo().create(vals_list)
        finally:
            _APPENDING.reset(token)

    @api.model
    def _chain_head(self):
        """The hash of the chain's last entry; call with the chain's lock held.

        The last entry is the newest committed one (read on a cursor of its own, whose
        snapshot starts now, after the lock was granted), unless this transaction has
        chained entries of its own since: those hold the lock until its end and come
        later (higher ids).  Entries of a rolled-back savepoint are in neither view.
        """
        query = "SELECT id, entry_hash FROM hc_audit_log ORDER BY id DESC LIMIT 1"
        self.env.cr.execute(query)
        own = self.env.cr.fetchone()
        fresh = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            # its transaction's first statement: its snapshot is taken now
            fresh.execute(query)
            committed = fresh.fetchone()
        finally:
            fresh.close()
        heads = [row for row in (own, committed) if row]
        return max(heads)[1] if heads else GENESIS

    @api.model
    def _log_detached(self, action, record=None, reason=None, data=None):
        """Append an entry that outlives the current transaction (a refusal).

        A refused action raises, and the exception rolls the request's transaction back:
        the entry is written and committed on a cursor of its own first.  Inside Odoo's
        test transaction (no commit possible) it is written in the current transaction.
        Refusals are checked before anything is logged, so the request does not hold the
        chain's lock yet; should it (or the wait exceed a few seconds), the entry is
        written in the request's transaction and a warning is logged.
        """
        if _in_test_transaction():
            return self._log(action, record, reason=reason, data=data)
        self.env.cr.execute(
            # the chain's lock is keyed by one number (objsubid 1); the lane workers' locks
            # on business objects by two (objsubid 2) do not hold the chain
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            " AND objsubid = 1"
        )
        holds_lock = bool(self.env.cr.fetchone())
        try:
            with self.env.registry.cursor() as cr:
                # In the registry's test mode the new cursor is a savepoint on this
                # transaction: it shares the lock.  Otherwise it would wait for it in vain.
                if holds_lock and getattr(cr, "_cursor", cr) is not getattr(
                    self.env.cr, "_cursor", self.env.cr
                ):
                    raise _LockHeld
                cr.execute("SET LOCAL lock_timeout = '5s'")
                env = self.env(cr=cr)
                target = env[record._name].browse(record.ids) if record else None
                env["hc.audit.log"]._log(action, target, reason=reason, data=data)
        except (psycopg2.Error, _LockHeld):
            _logger.warning("Audit entry %r written in the refused transaction only", action)
            return self._log(action, record, reason=reason, data=data)
        return self.browse()

    @api.model
    def _digest(self, vals, when):
        content = json.dumps(
            {
                "action": vals["action"],
                "res_model": vals["res_model"] or None,
                "res_id": vals["res_id"] or 0,
                "user_id": vals["user_id"],
                "reason": vals["reason"] or None,
                "data": vals["data"] or {},
                "prev": vals["prev_hash"],
                "at": fields.Datetime.to_string(when),
                # only when set: entries written before the field existed keep their hash
                **({"company": vals["company_id"]} if vals.get("company_id") else {}),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(content.encode()).hexdigest()

    @api.model_create_multi
    def create(self, vals_list):
        if not _APPENDING.get():
            raise UserError(self.env._("Audit entries are written by the system only."))
        return super().create(vals_list)

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The audit log is append-only."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("The audit log is append-only."))

    @api.model
    def _verify_chain(self):
        """Walk the chain from the start; return the first broken entry or nothing."""
        return self.browse(self._verify_report()["broken_id"] or [])

    @api.model
    def _verify_report(self, expect_hash=None, batch=5000, table="hc_audit_log"):
        """Walk the whole chain in id order, in batches; describe the first broken link.

        Returns ``{"ok", "checked", "head", "broken_id", "problem", "expected_found"}``:
        ``problem`` says whether the entry's content no longer matches its hash (edited)
        or its ``prev_hash`` no longer names the entry before it (deleted or inserted).
        ``expect_hash`` (a head an auditor noted earlier) must still be in the chain: an
        entry deleted from the end leaves no broken link, only a missing known hash.
        ``table`` verifies a copy of the log instead (a restored backup, an archive), in
        the same columns.  ``guard`` is :meth:`_guard_state`.
        """
        prev = GENESIS
        checked = 0
        last_id = 0
        report = {"ok": True, "broken_id": None, "problem": None}
        while report["ok"]:
            self.env.cr.execute(
                SQL(
                    """SELECT id, action, res_model, res_id, user_id, reason, data, prev_hash,
                              entry_hash, logged_at, company_id FROM %s
                        WHERE id > %s ORDER BY id LIMIT %s""",
                    SQL.identifier(table),
                    last_id,
                    batch,
                )
            )
            rows = self.env.cr.dictfetchall()
            if not rows:
                break
            for vals in rows:
                if vals["prev_hash"] != prev:
                    problem = "previous entry missing or replaced (prev_hash does not match)"
                elif self._digest(vals, vals["logged_at"]) != vals["entry_hash"]:
                    problem = "entry content changed (hash does not match)"
                else:
                    prev = vals["entry_hash"]
                    checked += 1
                    continue
                report.update(ok=False, broken_id=vals["id"], problem=problem)
                report["action"] = vals["action"]
                report["logged_at"] = fields.Datetime.to_string(vals["logged_at"])
                break
            last_id = rows[-1]["id"]
        report.update(checked=checked, head=prev, guard=self._guard_state())
        if expect_hash:
            self.env.cr.execute(
                SQL(
                    "SELECT 1 FROM %s WHERE entry_hash = %s LIMIT 1",
                    SQL.identifier(table),
                    expect_hash,
                )
            )
            report["expected_found"] = bool(self.env.cr.fetchone())
            if not report["expected_found"] and report["ok"]:
                report.update(ok=False, problem=f"expected entry {expect_hash} is missing")
        return report

    @api.model
    def _verify_report_text(self, report):
        """The command's output for ``report`` (see scripts/audit_verify.py)."""
        if not report.get("guard", 1):
            guard = (
                "\nWARNING: the audit guard is not installed in this database: the"
                " application's database role can switch the append-only trigger off"
                " (a PostgreSQL superuser installs it: make audit-guard DB=...)"
            )
        else:
            guard = ""
        if report["ok"]:
            return f"audit chain intact: {report['checked']} entries, head {report['head']}" + guard
        if report["broken_id"]:
            return (
                f"audit chain BROKEN at entry {report['broken_id']} "
                f"({report.get('action')}, logged {report.get('logged_at')}): "
                f"{report['problem']}; {report['checked']} entries before it verify"
            ) + guard
        return f"audit chain BROKEN: {report['problem']}" + guard

    @api.readonly
    def action_verify_chain(self):
        """Verify the whole chain (whatever is selected) and say the result in a dialog:
        a read of the whole log, served on the read replica when one is configured
        (``@api.readonly``); it writes nothing."""
        report = self._verify_report()
        params = {"title": self.env._("Audit chain verification")}
        if report["ok"]:
            params.update(
                type="success",
                message=self.env._(
                    "Audit chain intact: %(count)s entries verified, from the first to the last.",
                    count=report["checked"],
                ),
            )
        elif report["broken_id"]:
            params.update(
                type="danger",
                sticky=True,
                message=self.env._(
                    "Audit chain broken at entry %(id)s (%(action)s, logged %(when)s): "
                    "%(problem)s. The %(count)s entries before it verify.",
                    id=report["broken_id"],
                    action=report.get("action"),
                    when=report.get("logged_at"),
                    problem=report["problem"],
                    count=report["checked"],
                ),
                links=[
                    {
                        "label": self.env._("Open entry %s", report["broken_id"]),
                        "url": f"/odoo/action-healthcare_p2p_integration.action_hc_audit_log/"
                        f"{report['broken_id']}",
                    }
                ],
            )
        else:
            params.update(type="danger", sticky=True, message=report["problem"])
        if not report.get("guard", 1):
            params["message"] += " " + self.env._(
                "Warning: the audit guard is not installed in this database, so the "
                "application's database role could switch the append-only trigger off "
                "(a PostgreSQL superuser installs it: make audit-guard)."
            )
            if params["type"] == "success":
                params.update(type="warning", sticky=True)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}
