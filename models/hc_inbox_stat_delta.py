from odoo import fields
from odoo import models

# The keys of a figure: a kind, then who, where and what (see ``hc.inbox.stat``).
KEY_COLUMNS = ("kind", "company_id", "connector_id", "lane_id", "doc_type", "state", "hour")
MEASURE_COLUMNS = ("n", "retries", "seconds")


def delta_rows(source, sign):
    """SQL selecting the figures' deltas of the inbox rows of ``source`` (a table, a
    transition table or ``(SELECT OLD.*)``), each counted ``sign`` (+1 or -1) times.

    Three kinds of figure per message:

    - ``s`` (state): one per connector, lane, document type, company and state, all time;
      ``retries`` is ``attempts - 1`` (queue depth, failed now, messages by state);
    - ``r`` (received): the same route, per hour of ``received_at`` (accepted and retries
      of a window);
    - ``f`` (finished): done and dead messages per hour of ``finished_at`` (processed,
      dead, error rate; ``seconds`` is the time from received to finished).
    """
    s = int(sign)
    return f"""
        SELECT 's' AS kind, company_id, connector_id, lane_id, doc_type, state,
               NULL::timestamp AS hour, {s} AS n,
               {s} * greatest(coalesce(attempts, 0) - 1, 0) AS retries, 0::numeric AS seconds
          FROM {source} src
        UNION ALL
        SELECT 'r', company_id, connector_id, lane_id, doc_type, NULL,
               date_trunc('hour', received_at), {s},
               {s} * greatest(coalesce(attempts, 0) - 1, 0), 0
          FROM {source} src
        UNION ALL
        SELECT 'f', company_id, connector_id, lane_id, doc_type, state,
               date_trunc('hour', finished_at), {s}, 0,
               {s} * extract(epoch FROM finished_at - received_at)
          FROM {source} src
         WHERE state IN ('done', 'dead') AND finished_at IS NOT NULL"""


def _insert_grouped(selects):
    keys = ", ".join(KEY_COLUMNS)
    union = "\n        UNION ALL\n".join(selects)
    return f"""
    INSERT INTO hc_inbox_stat_delta ({keys}, n, retries, seconds)
    SELECT {keys}, sum(n), sum(retries), sum(seconds)
      FROM ({union}) d
  GROUP BY {keys}
    HAVING sum(n) <> 0 OR sum(retries) <> 0 OR sum(seconds) <> 0"""


# Moving messages between the inbox and its archive (``hc.inbox.message.archive``) is not
# a change of any figure: the mover sets this transaction-local setting around its moves.
MOVING = "current_setting('hc.inbox_moving', true) IS DISTINCT FROM 'on'"

TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION hc_inbox_stat_inserted() RETURNS trigger AS $$
BEGIN
    IF {MOVING} THEN
        {_insert_grouped([delta_rows("(SELECT NEW.*)", 1)])};
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION hc_inbox_stat_deleted() RETURNS trigger AS $$
BEGIN
    IF {MOVING} THEN
        {_insert_grouped([delta_rows("old_rows", -1)])};
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION hc_inbox_stat_updated() RETURNS trigger AS $$
BEGIN
    {_insert_grouped([delta_rows("(SELECT OLD.*)", -1), delta_rows("(SELECT NEW.*)", 1)])};
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""
# Triggers of earlier versions, replaced by those above (see ``hc.inbox.stat.init``).
REPLACED_TRIGGERS = {"hc_inbox_message": ("hc_inbox_stat_ins",)}


def counted_insert(inserted):
    """A data-modifying common table expression's body counting the messages ``inserted``
    (the name of another CTE, ``INSERT INTO hc_inbox_message ... RETURNING`` at least
    the columns :data:`COUNTED_COLUMNS`), the way the insert trigger would.

    For a statement that stores many messages (a bulk load) or must cost as little as
    possible (the API's accept, with :func:`received_insert`): it counts its own rows
    within itself, grouped, and marks them ``stat_counted`` so that the per-row insert
    trigger skips them.  Called and planned anew on each request (PostgreSQL forgets
    cached plans each time Odoo takes a connection from its pool), the trigger cost the
    accept more than the rest of its statement.
    """
    return _insert_grouped([delta_rows(inserted, 1)])


def received_insert(inserted):
    """:func:`counted_insert` for messages just received (state ``received``, no attempt
    yet, not finished: what the API's accept stores), cheaper to plan: their figures are
    one message in the ``s`` kind and one in the ``r`` kind, no retries, no seconds.
    ``tests/test_metric_rollups.py`` compares both with a recount."""
    keys = ", ".join(KEY_COLUMNS)
    return f"""
    INSERT INTO hc_inbox_stat_delta ({keys}, n, retries, seconds)
    SELECT k.kind, c.company_id, c.connector_id, c.lane_id, c.doc_type, k.state, k.hour,
           count(*), 0, 0
      FROM {inserted} c
     CROSS JOIN LATERAL (VALUES ('s', c.state, NULL::timestamp),
                                ('r', NULL, date_trunc('hour', c.received_at)))
           k (kind, state, hour)
  GROUP BY 1, 2, 3, 4, 5, 6, 7"""


# Columns the ``RETURNING`` of a statement counted by :func:`counted_insert` must give.
COUNTED_COLUMNS = (
    "company_id, connector_id, lane_id, doc_type, state, attempts, received_at, finished_at"
)

# What the per-row update trigger looks at: any other write costs it nothing.
WATCHED = "state, attempts, received_at, finished_at, company_id, connector_id, lane_id, doc_type"
TRIGGERS = {
    "hc_inbox_message": {
        # Per row, and only for the rows their statement did not count itself
        # (``stat_counted``: the API's accept, see :func:`counted_insert`).
        "hc_inbox_stat_ins_row": """AFTER INSERT ON hc_inbox_message FOR EACH ROW
            WHEN (NEW.stat_counted IS NOT TRUE)
            EXECUTE FUNCTION hc_inbox_stat_inserted()""",
        "hc_inbox_stat_del": """AFTER DELETE ON hc_inbox_message
            REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION hc_inbox_stat_deleted()""",
        "hc_inbox_stat_upd": f"""AFTER UPDATE ON hc_inbox_message FOR EACH ROW
            WHEN (({", ".join(f"OLD.{c}" for c in WATCHED.split(", "))})
                  IS DISTINCT FROM ({", ".join(f"NEW.{c}" for c in WATCHED.split(", "))}))
            EXECUTE FUNCTION hc_inbox_stat_updated()""",
    },
    # Archived messages still count (history); deleting them (retention) uncounts them.
    "hc_inbox_message_archive": {
        "hc_inbox_stat_del": """AFTER DELETE ON hc_inbox_message_archive
            REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION hc_inbox_stat_deleted()""",
    },
}


class HcInboxStatDelta(models.Model):
    """Changes of the inbox figures not yet folded into ``hc.inbox.stat``: append-only.

    Written by database triggers on ``hc_inbox_message`` in the transaction that changes
    a message (accepted, claimed, done, failed, replayed, deleted by retention), whoever
    changes it (ORM or SQL); a statement that stores messages may count them itself, in
    the same statement (:func:`counted_insert`).  Inserting a row locks nothing another
    writer needs: many lane workers changing states at once never wait on a shared
    counter row.  The fold (``hc.inbox.stat._fold``, a cron every minute) moves them into
    the rollup.
    """

    _name = "hc.inbox.stat.delta"
    _description = "Inbox figures: unfolded changes"
    _log_access = False

    kind = fields.Char(required=True, readonly=True)
    company_id = fields.Integer(readonly=True)
    connector_id = fields.Integer(readonly=True)
    lane_id = fields.Integer(readonly=True)
    doc_type = fields.Char(readonly=True)
    state = fields.Char(readonly=True)
    hour = fields.Datetime(readonly=True)
    n = fields.Integer(string="Messages", readonly=True)
    retries = fields.Integer(readonly=True)
    seconds = fields.Float(digits=(20, 6), readonly=True)
