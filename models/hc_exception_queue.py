from odoo import api
from odoo import fields
from odoo import models


class HcExceptionQueue(models.Model):
    """A work queue (team) of AP clerks or supply chain staff, with its SLA."""

    _name = "hc.exception.queue"
    _description = "Exception queue"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Empty: shared by all facilities.")
    member_ids = fields.Many2many("res.users", string="Members")
    manager_id = fields.Many2one("res.users", string="Team lead")
    sla_hours = fields.Integer(
        string="SLA (hours)", default=48, help="Time to resolve an exception of this queue."
    )
    open_count = fields.Integer(compute="_compute_counts")
    overdue_count = fields.Integer(compute="_compute_counts")

    _sla_positive = models.Constraint("CHECK(sla_hours > 0)", "The SLA must be positive.")

    def _compute_counts(self):
        open_domain = [
            ("queue_id", "in", self.ids),
            ("state", "in", ("new", "in_progress", "waiting")),
        ]
        counts = dict(self.env["hc.exception"]._read_group(open_domain, ["queue_id"], ["__count"]))
        overdue = dict(
            self.env["hc.exception"]._read_group(
                [*open_domain, ("date_deadline", "<", fields.Datetime.now())],
                ["queue_id"],
                ["__count"],
            )
        )
        for queue in self:
            queue.open_count = counts.get(queue, 0)
            queue.overdue_count = overdue.get(queue, 0)

    @api.model
    def _next_owner(self, queue):
        """Round-robin within the queue: the member with the fewest open exceptions."""
        if not queue.member_ids:
            return queue.manager_id
        loads = dict(
            self.env["hc.exception"]._read_group(
                [
                    ("owner_id", "in", queue.member_ids.ids),
                    ("state", "in", ("new", "in_progress", "waiting")),
                ],
                ["owner_id"],
                ["__count"],
            )
        )
        return min(queue.member_ids, key=lambda user: (loads.get(user, 0), user.id))
