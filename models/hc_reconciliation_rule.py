import logging
import time
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .hc_queue_mixin import auto_commit

_logger = logging.getLogger(__name__)

OPEN = ("resolved", "cancelled")
# rule code -> (exception type of its findings, label)
RULES = {
    "receipt_unbilled": ("receipt_not_billed", "Receipts without a bill"),
    "bill_awaiting_receipt": ("receipt_overdue", "Bills waiting for a receipt"),
    "po_unacknowledged": ("po_not_acknowledged", "Purchase orders not acknowledged"),
    "stuck_processing": ("lane_stalled", "Messages stuck in processing"),
    "waiting_too_long": ("message_waiting", "Messages waiting for a prerequisite"),
    "payment_status_gap": ("payment_status_gap", "Bills without payment status"),
    "rematch_open_bills": (False, "Re-match open bills"),
    "metric_thresholds": ("threshold_breach", "Metric thresholds"),
    "edi_ack_overdue": ("edi_ack_overdue", "EDI acknowledgments overdue"),
}
UNIT_SECONDS = {"minutes": 60, "hours": 3600, "days": 86400}
# Session-level advisory lock namespace: one run of a rule at a time, across commits.
LOCK_NAMESPACE = 727_311


class HcReconciliationRule(models.Model):
    """One reconciliation check: what it looks for, its parameters and how its last run went.

    Every rule follows the same cycle, so all of them are idempotent and safe beside live
    traffic: its method returns the problems that are true *now*, each with a stable
    ``dedup_key`` (``recon:<code>:...``); those without an open exception get one (routed
    to the rule's team, in committed batches), and the open findings of the rule that are
    no longer true are resolved automatically.  A finding a person resolved as *accepted*
    is not raised again for the same key.  A rule without a company applies to every
    company that has no rule of its own with the same code (per-facility parameters).
    """

    _name = "hc.reconciliation.rule"
    _description = "Reconciliation rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Selection(
        [(code, label) for code, (_type, label) in RULES.items()], required=True
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        string="Facility",
        index=True,
        help="Empty: every company without a rule of its own for this check.",
    )
    description = fields.Text(help="What the rule looks for and what it does about it.")
    threshold = fields.Float(
        string="After", default=1.0, required=True, help="Age that makes a record a finding."
    )
    threshold_unit = fields.Selection(
        [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")],
        default="days",
        required=True,
    )
    batch_size = fields.Integer(default=200, help="Findings opened or closed per committed batch.")
    queue_id = fields.Many2one(
        "hc.exception.queue",
        string="Owning team",
        help="Queue of the exceptions this rule opens (else the routing rules decide).",
    )
    severity = fields.Selection(
        [("low", "Low"), ("medium", "Medium"), ("high", "High")], default="medium", required=True
    )
    exception_type = fields.Char(compute="_compute_exception_type")
    last_run_start = fields.Datetime(readonly=True)
    last_run_end = fields.Datetime(readonly=True)
    last_run_found = fields.Integer(string="Found (last run)", readonly=True)
    last_run_opened = fields.Integer(string="Opened (last run)", readonly=True)
    last_run_resolved = fields.Integer(string="Resolved (last run)", readonly=True)
    last_run_repaired = fields.Integer(
        string="Repaired (last run)",
        readonly=True,
        help="Records the rule fixed itself (messages requeued, bills re-matched).",
    )
    last_run_summary = fields.Char(readonly=True)
    open_finding_count = fields.Integer(string="Open findings", compute="_compute_open_findings")
    cron_id = fields.Many2one("ir.cron", string="Schedule", compute="_compute_cron")

    _threshold_positive = models.Constraint(
        "CHECK(threshold >= 0)", "A reconciliation threshold cannot be negative."
    )
    _batch_positive = models.Constraint("CHECK(batch_size > 0)", "The batch size must be positive.")
    _code_company_unique = models.UniqueIndex(
        "(code, COALESCE(company_id, 0))",
        "One rule per check and company (and one default rule per check).",
    )

    @api.depends("code")
    def _compute_exception_type(self):
        for rule in self:
            rule.exception_type = RULES.get(rule.code, (False, ""))[0] or False

    def _compute_open_findings(self):
        for rule in self:
            rule.open_finding_count = (
                self.env["hc.exception"]
                .sudo()
                .search_count(rule._findings_domain(rule._companies()))
            )

    def _compute_cron(self):
        crons = self.env["ir.cron"].sudo().with_context(active_test=False)
        for rule in self:
            rule.cron_id = crons.search([("code", "=", rule._cron_code())], limit=1)

    def _cron_code(self):
        return f"model._cron_run({self.code!r})"

    @api.constrains("threshold_unit", "threshold", "code")
    def _check_threshold(self):
        for rule in self:
            if rule.code == "stuck_processing" and rule._delta() < timedelta(minutes=5):
                raise ValidationError(
                    self.env._(
                        "Messages are requeued after at least 5 minutes in processing: a "
                        "shorter timeout would hand a live worker's message to another."
                    )
                )

    # ------------------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------------------

    def _delta(self):
        return timedelta(seconds=self.threshold * UNIT_SECONDS[self.threshold_unit])

    def _companies(self):
        """The companies this rule covers (see the class docstring)."""
        self.ensure_one()
        if self.company_id:
            return self.company_id
        own = self.sudo().search([("code", "=", self.code), ("company_id", "!=", False)]).company_id
        return self.env["res.company"].sudo().search([]) - own

    def _findings_domain(self, companies):
        return [
            ("dedup_key", "=like", f"recon:{self.code}:%"),
            ("state", "not in", OPEN),
            ("company_id", "in", companies.ids),
        ]

    @api.model
    def _cron_run(self, code):
        """Cron entry point: run every active rule of ``code`` (one cron per check)."""
        for rule in self.sudo().search([("code", "=", code)]):
            rule._run()

    def action_run_now(self):
        """Button: run the rules now, in this transaction, and show the outcome."""
        if not self.env.user.has_group("healthcare_p2p_integration.group_hc_integration_admin"):
            raise UserError(self.env._("Only an integration administrator runs reconciliations."))
        for rule in self.sudo():
            rule._run()
        return True

    def action_open_findings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.exception",
            "view_mode": "list,form",
            "domain": self._findings_domain(self._companies()),
            "name": self.env._("Findings: %s", self.name),
        }

    def _commit(self, processed, remaining=None):
        """Report progress and commit, in a cron job only (tests and buttons never commit)."""
        if auto_commit() and self.env.context.get("ir_cron_progress_id"):
            return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)
        return float("inf")

    def _run(self):
        """One run of this rule: find, open what is new, resolve what cleared."""
        self.ensure_one()
        rule = self.sudo()
        self.env.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, rule.id])
        if not self.env.cr.fetchone()[0]:
            _logger.info("Reconciliation %s is already running elsewhere: skipped", rule.code)
            return False
        try:
            return rule._run_locked()
        finally:
            self.env.cr.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, rule.id])

    def _run_locked(self):
        started = fields.Datetime.now()
        clock = time.monotonic()
        companies = self._companies()
        since = started - self._delta()
        method = getattr(self, f"_find_{self.code}")
        findings, repaired = method(companies, since)
        Exception_ = self.env["hc.exception"].sudo()
        open_by_key = {
            exc.dedup_key: exc for exc in Exception_.search(self._findings_domain(companies))
        }
        keys = {f["dedup_key"] for f in findings}
        accepted = set()
        if keys:
            accepted = set(
                Exception_.search(
                    [
                        ("dedup_key", "in", list(keys - set(open_by_key))),
                        ("state", "=", "resolved"),
                        ("resolution_action", "=", "accept"),
                    ]
                ).mapped("dedup_key")
            )
        new = [
            f
            for f in findings
            if f["dedup_key"] not in open_by_key and f["dedup_key"] not in accepted
        ]
        cleared = [exc for key, exc in open_by_key.items() if key not in keys]
        remaining = len(new) + len(cleared)
        self._commit(0, remaining=remaining)
        # Open first, then resolve; each batch commits (in a cron).  Out of time, the run
        # stops where it is: the next run finds the rest, nothing is done twice.
        opened = resolved = 0
        batches = [
            ("open", new[i : i + self.batch_size]) for i in range(0, len(new), self.batch_size)
        ]
        batches += [
            ("resolve", cleared[i : i + self.batch_size])
            for i in range(0, len(cleared), self.batch_size)
        ]
        for kind, batch in batches:
            if kind == "open":
                for finding in batch:
                    vals = dict(finding)
                    vals["queue_id"] = vals.get("queue_id") or self.queue_id.id
                    vals.setdefault("severity", self.severity)
                    vals.setdefault("details", {})["rule"] = self.code
                    Exception_._raise(
                        vals.pop("exception_type", self.exception_type),
                        vals.pop("name"),
                        vals.pop("dedup_key"),
                        **vals,
                    )
                opened += len(batch)
            else:
                Exception_.union(*batch)._resolve(
                    "auto",
                    self.env._("Cleared: the reconciliation no longer finds this (%s).", self.name),
                )
                resolved += len(batch)
            remaining -= len(batch)
            if not self._commit(len(batch), remaining):
                break
        summary = self.env._(
            "%(found)s found, %(opened)s opened, %(resolved)s resolved, %(repaired)s repaired "
            "in %(seconds).1f s",
            found=len(findings),
            opened=opened,
            resolved=resolved,
            repaired=repaired,
            seconds=time.monotonic() - clock,
        )
        self.write(
            {
                "last_run_start": started,
                "last_run_end": fields.Datetime.now(),
                "last_run_found": len(findings),
                "last_run_opened": opened,
                "last_run_resolved": resolved,
                "last_run_repaired": repaired,
                "last_run_summary": summary,
            }
        )
        self._commit(0, remaining=0)
        return {
            "found": len(findings),
            "opened": opened,
            "resolved": resolved,
            "repaired": repaired,
        }

    def _fetch(self, query):
        self.env.flush_all()
        self.env.cr.execute(query)
        return self.env.cr.dictfetchall()

    # ------------------------------------------------------------------------------
    # The checks.  Each returns ``(findings, repaired)``: findings are dicts with the
    # exception's ``dedup_key``, ``name`` and any hc.exception values.
    # ------------------------------------------------------------------------------

    def _find_receipt_unbilled(self, companies, since):
        """Receipts validated before ``since`` whose received quantities are not billed."""
        rows = self._fetch(
            SQL(
                """SELECT p.id, p.name, p.company_id, po.id AS po_id, po.partner_id,
                          po.currency_id, p.date_done,
                          sum((pol.qty_received - pol.qty_invoiced) * pol.price_unit) AS amount
                     FROM stock_picking p
                     JOIN stock_picking_type t ON t.id = p.picking_type_id AND t.code = 'incoming'
                     JOIN purchase_order_line pol ON pol.id IN (
                          SELECT sm.purchase_line_id FROM stock_move sm
                           WHERE sm.picking_id = p.id AND sm.purchase_line_id IS NOT NULL)
                     JOIN purchase_order po ON po.id = pol.order_id
                    WHERE p.state = 'done' AND p.date_done < %s AND p.company_id IN %s
                      AND po.state = 'purchase'
                      AND pol.qty_received > pol.qty_invoiced + 0.00001
                 GROUP BY p.id, po.id""",
                since,
                tuple(companies.ids) or (0,),
            )
        )
        return [
            {
                "dedup_key": f"recon:{self.code}:{row['id']}",
                "name": self.env._("Receipt %s has no bill", row["name"]),
                "company_id": row["company_id"],
                "partner_id": row["partner_id"],
                "res_model": "stock.picking",
                "res_id": row["id"],
                "purchase_id": row["po_id"],
                "amount": float(row["amount"] or 0),
                "currency_id": row["currency_id"],
                "description": self.env._(
                    "Goods received on %(date)s are not billed after %(after)s %(unit)s: "
                    "the supplier's invoice may be lost, or sent to another address.",
                    date=fields.Datetime.to_string(row["date_done"]),
                    after=self.threshold,
                    unit=self.threshold_unit,
                ),
                "hint": self.env._("Ask the supplier for the invoice of this delivery."),
            }
            for row in rows
        ], 0

    def _find_bill_awaiting_receipt(self, companies, since):
        """Bills blocked by a missing receipt exception older than ``since``."""
        rows = self._fetch(
            SQL(
                """SELECT am.id, am.name, am.ref, am.company_id, am.partner_id, am.currency_id,
                          abs(am.amount_total_signed) AS amount, min(e.create_date) AS since,
                          min(e.purchase_id) AS po_id
                     FROM account_move am
                     JOIN hc_exception e ON e.move_id = am.id
                    WHERE am.hc_match_state = 'blocked' AND am.state != 'cancel'
                      AND am.company_id IN %s
                      AND e.exception_type = 'missing_receipt'
                      AND e.state NOT IN ('resolved', 'cancelled')
                 GROUP BY am.id
                   HAVING min(e.create_date) < %s""",
                tuple(companies.ids) or (0,),
                since,
            )
        )
        return [
            {
                "dedup_key": f"recon:{self.code}:{row['id']}",
                "name": self.env._(
                    "Bill %s still waits for its receipt", row["ref"] or row["name"]
                ),
                "company_id": row["company_id"],
                "partner_id": row["partner_id"],
                "res_model": "account.move",
                "res_id": row["id"],
                "purchase_id": row["po_id"],
                "amount": float(row["amount"] or 0),
                "currency_id": row["currency_id"],
                "description": self.env._(
                    "Blocked for a missing receipt since %(date)s. The goods may have been "
                    "received without being recorded, or not delivered at all.",
                    date=fields.Datetime.to_string(row["since"]),
                ),
                "hint": self.env._(
                    "Check with receiving whether the goods arrived; record the receipt or "
                    "ask the supplier for a credit note."
                ),
            }
            for row in rows
        ], 0

    def _find_po_unacknowledged(self, companies, since):
        """Confirmed orders not acknowledged since ``since``.

        Only orders that came from a sourcing system (they travel by EDI, whose suppliers
        answer with an 855) or whose vendor has acknowledged an order before: a vendor
        that never sends acknowledgments is not a finding on every order.
        """
        rows = self._fetch(
            SQL(
                """SELECT po.id, po.name, po.company_id, po.partner_id, po.currency_id,
                          po.amount_total, po.date_approve
                     FROM purchase_order po
                    WHERE po.state = 'purchase' AND po.hc_ack_state = 'none'
                      AND po.date_approve < %s AND po.company_id IN %s
                      AND po.receipt_status IS DISTINCT FROM 'full'
                      AND (po.hc_source_ref IS NOT NULL OR EXISTS (
                           SELECT 1 FROM purchase_order o2
                            WHERE o2.partner_id = po.partner_id AND o2.hc_ack_state != 'none'))""",
                since,
                tuple(companies.ids) or (0,),
            )
        )
        return [
            {
                "dedup_key": f"recon:{self.code}:{row['id']}",
                "name": self.env._("%s not acknowledged by the supplier", row["name"]),
                "company_id": row["company_id"],
                "partner_id": row["partner_id"],
                "res_model": "purchase.order",
                "res_id": row["id"],
                "amount": float(row["amount_total"] or 0),
                "currency_id": row["currency_id"],
                "description": self.env._(
                    "Confirmed on %(date)s; no acknowledgment yet. The order may not have "
                    "reached the supplier.",
                    date=fields.Datetime.to_string(row["date_approve"]),
                ),
                "hint": self.env._("Confirm with the supplier that the order was received."),
            }
            for row in rows
        ], 0

    def _find_stuck_processing(self, companies, since):
        """Requeue messages a dead worker left in processing, on every lane.

        The lane workers do it for their own lane before claiming; this covers a lane
        whose workers are dead or disabled.  Findings: active lanes holding due messages
        with no active worker (nothing would ever process them).
        """
        Inbox = self.env["hc.inbox.message"].sudo()
        minutes = max(self._delta().total_seconds() / 60, 5)
        requeued, dead = self.env["hc.lane.worker"].sudo()._requeue_stale(minutes=minutes)
        if requeued:
            self.env["hc.lane"].sudo().browse(
                {m.lane_id.id for m in Inbox.browse(requeued)}
            )._trigger_safely()
        rows = self._fetch(
            SQL(
                """SELECT l.id, l.code, count(m.id) AS depth, min(m.received_at) AS oldest,
                          min(m.company_id) AS company_id
                     FROM hc_lane l
                     JOIN hc_inbox_message m ON m.lane_id = l.id
                    WHERE l.active AND m.state IN ('received', 'failed')
                      AND m.company_id IN %s
                      AND NOT EXISTS (
                          SELECT 1 FROM hc_lane_ir_cron_rel r
                            JOIN ir_cron c ON c.id = r.ir_cron_id
                           WHERE r.hc_lane_id = l.id AND c.active)
                 GROUP BY l.id""",
                tuple(companies.ids) or (0,),
            )
        )
        findings = [
            {
                "dedup_key": f"recon:{self.code}:lane:{row['id']}",
                "name": self.env._("Lane %s has messages and no active worker", row["code"]),
                "company_id": row["company_id"],
                "severity": "high",
                "description": self.env._(
                    "%(n)s messages wait on lane %(lane)s (oldest received %(date)s) and no "
                    "worker (ir.cron) of the lane is active.",
                    n=row["depth"],
                    lane=row["code"],
                    date=fields.Datetime.to_string(row["oldest"]),
                ),
                "hint": self.env._(
                    "Configuration > Lanes: reactivate the lane's workers (Parallel workers)."
                ),
                "details": {"lane": row["code"], "queue_depth": row["depth"]},
            }
            for row in rows
        ]
        return findings, len(requeued) + len(dead)

    def _find_waiting_too_long(self, companies, since):
        """Messages parked on a prerequisite since before ``since``, one finding per key.

        The messages stay waiting: the prerequisite can still arrive (they are released
        at once when it does) and killing them would need a replay.  A person decides:
        fix the source, or mark them dead from the inbox.
        """
        rows = self._fetch(
            SQL(
                """SELECT company_id, waiting_key, min(id) AS first_id, count(*) AS n,
                          min(received_at) AS oldest, array_agg(id ORDER BY id) AS ids
                     FROM hc_inbox_message
                    WHERE state = 'waiting' AND waiting_key IS NOT NULL
                      AND received_at < %s AND company_id IN %s
                 GROUP BY company_id, waiting_key""",
                since,
                tuple(companies.ids) or (0,),
            )
        )
        return [
            {
                "dedup_key": f"recon:{self.code}:{row['company_id']}:{row['waiting_key']}",
                "name": self.env._(
                    "%(n)s message(s) waiting for %(key)s", n=row["n"], key=row["waiting_key"]
                ),
                "company_id": row["company_id"],
                "message_id": row["first_id"],
                "res_model": "hc.inbox.message",
                "res_id": row["first_id"],
                "description": self.env._(
                    "Waiting since %(date)s for a prerequisite that has not arrived.",
                    date=fields.Datetime.to_string(row["oldest"]),
                ),
                "hint": self.env._(
                    "Have the source system send the missing document, or mark the messages "
                    "dead (Operations > Inbox) with the reason."
                ),
                "details": {"waiting_key": row["waiting_key"], "message_ids": row["ids"][:100]},
            }
            for row in rows
        ], 0

    def _find_payment_status_gap(self, companies, since):
        """Released bills with no payment status from the bank since ``since``.

        Posted or not: a released bill left in draft (companies that do not post matched
        bills automatically) is a gap too, the payment run cannot pick it up.
        """
        rows = self._fetch(
            SQL(
                """SELECT am.id, am.name, am.ref, am.company_id, am.partner_id, am.currency_id,
                          abs(am.amount_total_signed) AS amount, am.hc_release_date
                     FROM account_move am
                    WHERE am.move_type = 'in_invoice' AND am.state != 'cancel'
                      AND am.hc_released AND am.hc_payment_status IS NULL
                      AND am.payment_state NOT IN ('paid', 'in_payment', 'reversed')
                      AND COALESCE(am.hc_release_date, am.create_date) < %s
                      AND am.company_id IN %s""",
                since,
                tuple(companies.ids) or (0,),
            )
        )
        return [
            {
                "dedup_key": f"recon:{self.code}:{row['id']}",
                "name": self.env._("No payment status for %s", row["ref"] or row["name"]),
                "company_id": row["company_id"],
                "partner_id": row["partner_id"],
                "res_model": "account.move",
                "res_id": row["id"],
                "amount": float(row["amount"] or 0),
                "currency_id": row["currency_id"],
                "description": self.env._(
                    "Released for payment on %(date)s; the bank or treasury has reported "
                    "nothing since.",
                    date=fields.Datetime.to_string(row["hc_release_date"]),
                ),
                "hint": self.env._(
                    "Check that the payment run picked the bill up and that the status feed works."
                ),
            }
            for row in rows
        ], 0

    def _find_rematch_open_bills(self, companies, since):
        """Re-match every open bill (the match opens and closes its own exceptions)."""
        done = self.env["hc.three.way.match"]._cron_rematch_open_bills(
            batch_size=self.batch_size, companies=companies
        )
        return [], done

    def _find_metric_thresholds(self, companies, since):
        """Evaluate the alert thresholds: one finding per breached threshold."""
        return self.env["hc.metric.threshold"].sudo()._evaluate(companies), 0

    def _find_edi_ack_overdue(self, companies, since):
        """X12 interchanges sent whose 997/999 is overdue (each profile's own hours).

        The rule's threshold adds a grace period to the profile's delay (0: none).
        """
        rows = self._fetch(
            SQL(
                """SELECT d.id, d.name, d.company_id, d.partner_id, d.res_model, d.res_id,
                          d.interchange_control_number, d.ack_due_at
                     FROM hc_outbound_document d
                    WHERE d.ack_state = 'pending' AND d.ack_due_at < %s
                      AND d.company_id IN %s""",
                fields.Datetime.now() - self._delta(),
                tuple(companies.ids) or (0,),
            )
        )
        return [
            {
                "dedup_key": f"recon:{self.code}:{row['id']}",
                "name": self.env._("%s: no functional acknowledgment", row["name"]),
                "company_id": row["company_id"],
                "partner_id": row["partner_id"],
                "res_model": row["res_model"],
                "res_id": row["res_id"],
                "description": self.env._(
                    "Interchange %(icn)s was due a 997/999 by %(due)s: the vendor's "
                    "translator may not have received it.",
                    icn=row["interchange_control_number"],
                    due=fields.Datetime.to_string(row["ack_due_at"]),
                ),
                "hint": self.env._(
                    "Check the delivery of the outbound event and ask the vendor; replay the "
                    "event if it never arrived."
                ),
            }
            for row in rows
        ], 0
