import psycopg2

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.tools import SQL

from .hc_lane_worker import PENDING_STATES

CRON_CODE = "model._cron_process_lane(%d)"


class HcLane(models.Model):
    """A processing lane: its own queue and its own cron workers.

    Separate lanes are what keep a 20,000-line vendor batch from delaying an urgent
    receipt: each lane has its own ``ir.cron`` records (one per parallel worker), so the
    bulk lane can be busy while the critical lane's workers stay free.  What a worker
    does is ``hc.lane.worker`` (claim, run, commit, requeue).
    """

    _name = "hc.lane"
    _description = "Integration processing lane"
    _order = "priority, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    priority = fields.Integer(default=10, help="Lower runs first when cron workers are scarce.")
    worker_count = fields.Integer(
        string="Parallel workers",
        default=1,
        help="Number of cron jobs draining this lane at the same time. Each claims its "
        "own messages with row locks, so raising it never processes a message twice.",
    )
    batch_size = fields.Integer(default=50, help="Messages a worker claims and commits per batch.")
    cron_ids = fields.Many2many("ir.cron", string="Workers", readonly=True, copy=False)
    active = fields.Boolean(default=True)
    message_count = fields.Integer(compute="_compute_message_count")

    _code_unique = models.Constraint("UNIQUE(code)", "Lane codes must be unique.")
    _worker_count_positive = models.Constraint(
        "CHECK(worker_count >= 1 AND worker_count <= 32)",
        "A lane needs between 1 and 32 workers.",
    )
    _batch_size_positive = models.Constraint(
        "CHECK(batch_size >= 1)", "The batch size must be positive."
    )

    def _compute_message_count(self):
        counts = dict(
            self.env["hc.inbox.message"]._read_group(
                [
                    ("lane_id", "in", self.ids),
                    ("state", "in", PENDING_STATES),
                ],
                ["lane_id"],
                ["__count"],
            )
        )
        for lane in self:
            lane.message_count = counts.get(lane, 0)

    @api.model_create_multi
    def create(self, vals_list):
        lanes = super().create(vals_list)
        lanes._sync_crons()
        return lanes

    def write(self, vals):
        res = super().write(vals)
        if {"worker_count", "active", "name", "priority"} & set(vals):
            self._sync_crons()
        return res

    def _sync_crons(self):
        """Keep exactly ``worker_count`` active ``ir.cron`` records per active lane, each
        calling the lane worker (also rewrites the crons of an older version)."""
        model = self.env["ir.model"]._get("hc.lane.worker")
        for lane in self.sudo():
            crons = lane.cron_ids.with_context(active_test=False).sorted("id")
            wanted = lane.worker_count if lane.active else 0
            for index in range(len(crons), wanted):
                crons |= (
                    self.env["ir.cron"]
                    .sudo()
                    .create(
                        {
                            "name": f"Healthcare P2P: lane {lane.code} worker {index + 1}",
                            "model_id": model.id,
                            "state": "code",
                            "code": CRON_CODE % lane.id,
                            "interval_number": 1,
                            "interval_type": "minutes",
                            "priority": lane.priority,
                        }
                    )
                )
            for index, cron in enumerate(crons):
                cron.write(
                    {
                        "model_id": model.id,
                        "code": CRON_CODE % lane.id,
                        "active": index < wanted,
                        "name": f"Healthcare P2P: lane {lane.code} worker {index + 1}",
                        "priority": lane.priority,
                    }
                )
            lane.cron_ids = crons
        self.env.registry.clear_cache()  # _cron_ids_cached

    def _trigger(self):
        """Wake this lane's workers now (after a POST), instead of at the next minute.

        Called on every accepted POST, so it costs one statement: a worker that already
        has a due trigger nobody has started on needs no second one (``ir.cron`` deletes a
        job's due triggers when the job starts, so those rows are locked and skipped:
        a worker already past its last claim gets a new trigger).  Only when a trigger is
        inserted are the cron threads notified, once, after commit.

        The trigger is due at the current second, as Odoo's own triggers are: a job
        starting clears the triggers due at its start *truncated to the second*, so one
        due a fraction later would outlive the job that processed its message, and make
        the next POSTs skip their trigger and the notification while the worker sleeps.

        Odoo's transactions are REPEATABLE READ: should a job start and commit after this
        transaction's snapshot, locking the trigger it consumed fails to serialize, and the
        HTTP request is served again by Odoo (the controller lets that error through).
        Elsewhere (lane workers releasing waiting messages, replays) use
        :meth:`_trigger_safely`.
        """
        cron_ids = self._trigger_cron_ids()
        if not cron_ids:
            return
        self.env.cr.execute(
            SQL("WITH %s SELECT count(*) FROM hc_triggered", self._trigger_ctes(cron_ids))
        )
        self._notify_if(self.env.cr.fetchone()[0])

    def _trigger_cron_ids(self):
        return [cron_id for lane in self for cron_id in lane._cron_ids_cached()]

    @api.model
    def _trigger_ctes(self, cron_ids, only_if=None):
        """The common table expressions of :meth:`_trigger`, for a statement of its own
        or for another one to wake the lanes in its round trip (the API's accept):
        ``hc_triggered`` returns the cron ids triggered; ``only_if`` (SQL, a boolean)
        inserts the triggers only when it holds."""
        return SQL(
            """hc_pending AS (
                   SELECT cron_id FROM ir_cron_trigger
                    WHERE cron_id = ANY(%(ids)s)
                      AND call_at <= (now() AT TIME ZONE 'UTC')
                      FOR KEY SHARE SKIP LOCKED),
               hc_triggered AS (
                   INSERT INTO ir_cron_trigger (cron_id, call_at)
                   SELECT c.id, date_trunc('second', now() AT TIME ZONE 'UTC') FROM ir_cron c
                    WHERE c.id = ANY(%(ids)s) AND c.active
                      AND c.id NOT IN (SELECT cron_id FROM hc_pending)
                      AND %(only_if)s
                   RETURNING cron_id)""",
            ids=cron_ids,
            only_if=only_if if only_if is not None else SQL("TRUE"),
        )

    def _trigger_safely(self):
        """:meth:`_trigger` for long transactions (lane workers): never fails.

        A due trigger this snapshot still shows may have been consumed since by a job
        that started (and committed) after the snapshot, so it cannot see this
        transaction's changes: then the workers are triggered anew.  The savepoint is
        why the API does not use this (row locks in subtransactions are costly under
        concurrency).
        """
        try:
            with self.env.cr.savepoint(flush=False):
                self._trigger()
        except psycopg2.errors.SerializationFailure:
            cron_ids = self._trigger_cron_ids()
            self.env.cr.execute(
                SQL(
                    """INSERT INTO ir_cron_trigger (cron_id, call_at)
                       SELECT c.id, date_trunc('second', now() AT TIME ZONE 'UTC') FROM ir_cron c
                        WHERE c.id = ANY(%(ids)s) AND c.active
                       RETURNING cron_id""",
                    ids=cron_ids,
                )
            )
            self._notify_if(self.env.cr.rowcount)

    @api.model
    def _notify_if(self, inserted):
        """After inserting cron triggers (``inserted``: how many): wake the cron threads
        once, after commit."""
        if inserted:
            self.env["ir.cron.trigger"].invalidate_model()
            postcommit = self.env.cr.postcommit
            if not postcommit.data.get("hc_notify_cron"):
                postcommit.data["hc_notify_cron"] = True
                postcommit.add(self.env["ir.cron"].sudo()._notifydb)

    @tools.ormcache("self.id")
    def _cron_ids_cached(self):
        return tuple(self.sudo().cron_ids.ids)
