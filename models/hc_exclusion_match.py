from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from ..trust import trusted

COMPLIANCE_GROUP = "healthcare_p2p_integration.group_hc_vendor_compliance"
# Written by screening and by the decision methods only (never by a client's write).
SYSTEM_FIELDS = frozenset(
    {
        "partner_id",
        "list_id",
        "entry_id",
        "entry_key",
        "matched_on",
        "score",
        "reasons",
        "state",
        "requested_by_id",
        "decided_by_id",
        "decision_date",
    }
)


class HcExclusionMatch(models.Model):
    """A vendor that looks like an entry of an exclusion list, and the decision on it.

    While pending (and once confirmed) the vendor is held: no purchase order is confirmed
    and nothing is paid to it.  A vendor compliance officer decides, and never the one who
    loaded the list or asked for the screening (segregation of duties): *clear* (a false
    positive, not asked again for the same exclusion in later versions) or *confirm*
    (excluded).  Every decision is audited.
    """

    _name = "hc.exclusion.match"
    _description = "Exclusion list match"
    _inherit = ["mail.thread"]
    _order = "state, id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Vendor", required=True, index=True, ondelete="cascade", readonly=True
    )
    list_id = fields.Many2one(
        "hc.exclusion.list", string="List version", readonly=True, ondelete="set null"
    )
    entry_id = fields.Many2one(
        "hc.exclusion.entry", string="List entry", readonly=True, ondelete="set null"
    )
    entry_key = fields.Char(required=True, readonly=True, index=True)
    source = fields.Selection(related="entry_id.source", string="List")
    entry_name = fields.Char(related="entry_id.name", string="Excluded party")
    entry_npi = fields.Char(related="entry_id.npi", string="Entry NPI")
    entry_type = fields.Char(related="entry_id.exclusion_type", string="Exclusion type")
    entry_date = fields.Date(related="entry_id.excluded_on", string="Excluded on")
    entry_city = fields.Char(related="entry_id.city", string="Entry city")
    matched_on = fields.Selection(
        [
            ("npi", "NPI"),
            ("tax_id", "Tax id"),
            ("entity_id", "UEI / DUNS"),
            ("name", "Name (fuzzy)"),
        ],
        readonly=True,
    )
    score = fields.Float(string="Name score", readonly=True)
    reasons = fields.Char(readonly=True)
    state = fields.Selection(
        [
            ("pending", "To decide"),
            ("cleared", "Cleared (false positive)"),
            ("confirmed", "Confirmed exclusion"),
        ],
        default="pending",
        required=True,
        index=True,
        readonly=True,
        tracking=True,
    )
    requested_by_id = fields.Many2one(
        "res.users",
        string="Screening requested by",
        readonly=True,
        help="Who loaded the list version or asked for the screening: not the one to decide.",
    )
    decided_by_id = fields.Many2one("res.users", string="Decided by", readonly=True)
    decision_date = fields.Datetime(readonly=True)
    decision_reason = fields.Text(
        help="Why it is a false positive, or the exclusion's evidence (required)."
    )

    _partner_entry_unique = models.UniqueIndex(
        "(partner_id, entry_key)", "A vendor is matched once with the same exclusion."
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not (self.env.su or trusted.is_engine_write()):
            raise AccessError(self.env._("Exclusion matches are made by screening only."))
        return super().create(vals_list)

    def write(self, vals):
        fixed = SYSTEM_FIELDS & set(vals)
        if fixed and not (self.env.su or trusted.is_engine_write()):
            raise AccessError(
                self.env._(
                    "%s of an exclusion match are set by screening and by the decision "
                    "buttons only.",
                    ", ".join(sorted(fixed)),
                )
            )
        if "decision_reason" in vals and not self.env.su:
            if self.filtered(lambda m: m.state != "pending"):
                raise UserError(self.env._("A decided match keeps its reason."))
        return super().write(vals)

    def _hc_system_write(self, vals):
        with trusted.engine_write():
            return self.sudo().write(vals)

    def _hc_check_decider(self):
        user = self.env.user
        if not user.has_group(COMPLIANCE_GROUP):
            raise AccessError(
                self.env._("Only a vendor compliance officer decides on exclusion matches.")
            )
        for match in self:
            involved = {match.requested_by_id.id, match.sudo().list_id.loaded_by_id.id}
            if user.id in involved:
                self.env["hc.audit.log"]._log_detached(
                    "sod_refused",
                    match,
                    reason="exclusion_decision",
                    data={"rule": "exclusion_decision", "user": user.login},
                )
                raise AccessError(
                    self.env._(
                        "Segregation of duties: you loaded the list or asked for the screening "
                        "of %s; another compliance officer decides.",
                        match.partner_id.display_name,
                    )
                )

    def _hc_decide(self, state, reason, allowed_from):
        reason = (reason or self.env.context.get("hc_reason") or "").strip()
        self._hc_check_decider()
        for match in self:
            reason_here = reason or (match.decision_reason or "").strip()
            if not reason_here:
                raise UserError(
                    self.env._("Give the reason of the decision on %s.", match.display_name)
                )
            if match.state not in allowed_from:
                raise UserError(self.env._("%s is decided already.", match.display_name))
            before = match.state
            match._hc_system_write(
                {
                    "state": state,
                    "decided_by_id": self.env.uid,
                    "decision_date": fields.Datetime.now(),
                    "decision_reason": reason_here,
                }
            )
            self.env["hc.audit.log"]._log(
                "exclusion_" + state,
                match,
                reason=reason_here,
                data={
                    "partner": match.partner_id.id,
                    "entry": match.sudo().entry_id.name or "",
                    "list": match.sudo().list_id.name or "",
                    "matched_on": match.matched_on,
                    "score": match.score,
                    "from": before,
                },
            )
        return True

    def action_clear(self, reason=None):
        """A false positive (or a confirmed exclusion since lifted): the vendor is free."""
        return self._hc_decide("cleared", reason, ("pending", "confirmed"))

    def action_confirm_exclusion(self, reason=None):
        """The vendor is the excluded party: it stays held."""
        return self._hc_decide("confirmed", reason, ("pending",))

    @api.depends("partner_id", "entry_id")
    def _compute_display_name(self):
        for match in self:
            match.display_name = self.env._(
                "%(vendor)s / %(entry)s",
                vendor=match.partner_id.display_name or "",
                entry=match.sudo().entry_id.name or match.entry_key[:8],
            )
