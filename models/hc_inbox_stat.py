import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from .hc_inbox_stat_delta import KEY_COLUMNS
from .hc_inbox_stat_delta import REPLACED_TRIGGERS
from .hc_inbox_stat_delta import TRIGGER_SQL
from .hc_inbox_stat_delta import TRIGGERS
from .hc_inbox_stat_delta import delta_rows

_logger = logging.getLogger(__name__)

# The kinds kept per hour (``delta_rows``): a window reads them by the range of hours.
HOURLY_KINDS = ("r", "f")

KEYS = ", ".join(KEY_COLUMNS)
# The statements below are built once, from constants only.
KEY_INDEX_SQL = f"CREATE UNIQUE INDEX IF NOT EXISTS hc_inbox_stat_key ON hc_inbox_stat ({KEYS}) NULLS NOT DISTINCT"
_UNION = " UNION ALL ".join(
    delta_rows(source, 1) for source in ("hc_inbox_message", "hc_inbox_message_archive")
)
REBUILD_SQL = f"""INSERT INTO hc_inbox_stat ({KEYS}, n, retries, seconds)
    SELECT {KEYS}, sum(n), sum(retries), sum(seconds) FROM ({_UNION}) d GROUP BY {KEYS}"""
FOLD_SQL = f"""WITH moved AS (DELETE FROM hc_inbox_stat_delta
                    RETURNING {KEYS}, n, retries, seconds)
    INSERT INTO hc_inbox_stat ({KEYS}, n, retries, seconds)
    SELECT {KEYS}, sum(n), sum(retries), sum(seconds) FROM moved
  GROUP BY {KEYS}
    ON CONFLICT ({KEYS}) DO UPDATE
           SET n = hc_inbox_stat.n + EXCLUDED.n,
               retries = hc_inbox_stat.retries + EXCLUDED.retries,
               seconds = hc_inbox_stat.seconds + EXCLUDED.seconds"""


class HcInboxStat(models.Model):
    """The inbox's figures, kept as messages change state: what the metrics read.

    One row per kind and key (see :func:`.hc_inbox_stat_delta.delta_rows`): messages per
    route and state (all time), accepted per route and hour, done and dead per route and
    hour.  Exact at every moment: a figure is its rollup row plus its deltas not yet
    folded (``hc.inbox.stat.delta``), read in one statement, so one snapshot; the fold
    moves deltas into the rollup in one statement too.  The rows count the inbox and its
    archive (history); only a deletion (retention) uncounts a message.
    """

    _name = "hc.inbox.stat"
    _description = "Inbox figures (rollup)"
    _log_access = False

    kind = fields.Char(required=True, readonly=True)
    company_id = fields.Integer(readonly=True)
    connector_id = fields.Integer(readonly=True)
    lane_id = fields.Integer(readonly=True)
    doc_type = fields.Char(readonly=True)
    state = fields.Char(readonly=True)
    hour = fields.Datetime(readonly=True, index=True)
    n = fields.Integer(string="Messages", readonly=True)
    retries = fields.Integer(readonly=True)
    seconds = fields.Float(digits=(20, 6), readonly=True)

    # A window's figures: the all-time kinds by kind, the hourly ones by a range of hours.
    _kind_hour_idx = models.Index("(kind, hour)")

    def init(self):
        cr = self.env.cr
        cr.execute(KEY_INDEX_SQL)
        missing, replaced = [], []
        for table, triggers in TRIGGERS.items():
            cr.execute("SELECT to_regclass(%s)", [table])
            if not cr.fetchone()[0]:
                continue
            existing = self._triggers(table)
            missing += [
                f"CREATE TRIGGER {name} {definition}"
                for name, definition in triggers.items()
                if name not in existing
            ]
            replaced += [
                f"DROP TRIGGER {name} ON {table}"
                for name in REPLACED_TRIGGERS.get(table, ())
                if name in existing
            ]
        if missing or replaced:
            # With the inbox locked against writers, so that no change falls between an
            # old trigger and its replacement, or between the count and a new trigger.
            cr.execute("LOCK TABLE hc_inbox_message IN SHARE ROW EXCLUSIVE MODE")
            for statement in replaced:
                cr.execute(statement)
        cr.execute(TRIGGER_SQL)
        for statement in missing:
            cr.execute(statement)
        if len(missing) > len(replaced):
            # First install (or triggers dropped, not just replaced): count what is there.
            self._rebuild()

    @api.model
    def _triggers(self, table):
        """Names of the triggers on ``table`` (ours and PostgreSQL's own)."""
        self.env.cr.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass", [table])
        return {name for (name,) in self.env.cr.fetchall()}

    @api.model
    def _rebuild(self):
        """Recount every figure from the inbox and its archive (install, repair)."""
        cr = self.env.cr
        cr.execute("DELETE FROM hc_inbox_stat_delta")
        cr.execute("DELETE FROM hc_inbox_stat")
        cr.execute(REBUILD_SQL)
        self.env.invalidate_all()

    @api.model
    def _fold(self):
        """Move the deltas committed so far into the rollup (cron, every minute).

        One statement: a delta is either still a delta or already in the rollup in any
        snapshot, never both; deltas of transactions not yet committed stay for the next
        fold.  Rows whose figures came back to zero are dropped.
        """
        cr = self.env.cr
        cr.execute(FOLD_SQL)
        folded = cr.rowcount
        cr.execute("DELETE FROM hc_inbox_stat WHERE n = 0 AND retries = 0 AND seconds = 0")
        self.invalidate_model()
        return folded

    @api.model
    def _cron_fold(self):
        """The fold in a transaction of its own, at READ COMMITTED (as the lane workers):
        a fold that meets deltas another fold just moved skips them instead of failing
        on a serialization error."""
        self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        return self._fold()

    @api.model
    def _figures(self, kinds, company_ids=None, since=None):
        """``[dict]``: the figures of these kinds (rollup plus unfolded deltas) per key,
        with the connector's and the lane's codes; ``since``: hours from that one's.

        Read through the ``(kind, hour)`` index: the all-time kinds by kind, the hourly
        kinds by the range of their hours, so a window reads its hours and never the
        year of hours before it.  Rollup and deltas are summed per key first, the codes
        joined to the sums: however many unfolded deltas the planner expects (their table
        is emptied every minute), the joins see one row per key."""
        company = (
            SQL("AND company_id IN %s", tuple(company_ids) or (0,))
            if company_ids is not None
            else SQL()
        )
        if since is None:
            parts = [SQL("kind IN %s %s", tuple(kinds), company)]
        else:
            start = SQL("date_trunc('hour', %s::timestamp)", since)
            all_time = tuple(kind for kind in kinds if kind not in HOURLY_KINDS)
            hourly = tuple(kind for kind in kinds if kind in HOURLY_KINDS)
            parts = [SQL("kind IN %s %s", all_time, company)] if all_time else []
            if hourly:
                parts.append(SQL("kind IN %s AND hour >= %s %s", hourly, start, company))
        columns = SQL(
            "kind, company_id, connector_id, lane_id, doc_type, state, hour, n, retries, seconds"
        )
        union = SQL(" UNION ALL ").join(
            SQL("SELECT %s FROM %s WHERE %s", columns, SQL.identifier(table), condition)
            for table in ("hc_inbox_stat", "hc_inbox_stat_delta")
            for condition in parts
        )
        self.env.cr.execute(
            SQL(
                """SELECT d.kind, d.company_id, c.code, l.code, d.doc_type, d.state, d.hour,
                          sum(d.n), sum(d.retries), sum(d.seconds)
                     FROM (SELECT kind, company_id, connector_id, lane_id, doc_type, state,
                                  hour, sum(n) AS n, sum(retries) AS retries,
                                  sum(seconds) AS seconds
                             FROM (%(union)s) u
                         GROUP BY 1, 2, 3, 4, 5, 6, 7) d
                LEFT JOIN hc_connector c ON c.id = d.connector_id
                LEFT JOIN hc_lane l ON l.id = d.lane_id
                 GROUP BY 1, 2, 3, 4, 5, 6, 7
                   HAVING sum(d.n) <> 0 OR sum(d.retries) <> 0""",
                union=union,
            )
        )
        return [
            {
                "kind": kind,
                "company_id": company,
                "connector": connector,
                "lane": lane,
                "doc_type": doc_type,
                "state": state,
                "hour": hour,
                "n": int(n),
                "retries": int(retries),
                "seconds": float(seconds or 0),
            }
            for kind, company, connector, lane, doc_type, state, hour, n, retries, seconds in (
                self.env.cr.fetchall()
            )
        ]
