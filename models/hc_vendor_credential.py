from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

COMPLIANCE_GROUP = "healthcare_p2p_integration.group_hc_vendor_compliance"
WARNING_DAYS_PARAM = "healthcare_p2p_integration.credential_warning_days"
DEFAULT_WARNING_DAYS = 30
CREDENTIAL_TYPES = [
    ("licence", "Licence"),
    ("insurance", "Insurance (certificate of insurance)"),
    ("tax_form", "W-9 / tax form"),
    ("quality", "Quality certification"),
    ("other", "Other"),
]
# What a change of a credential means for the vendor's hold: audited.
AUDITED_FIELDS = ("credential_type", "number", "issuer", "date_from", "date_to", "active")


class HcVendorCredential(models.Model):
    """A vendor's credential (licence, insurance, W-9, quality certification) with its
    validity: an expired credential, not replaced by a valid one of the same type, holds
    the vendor's new purchase orders and payments (``res.partner._hc_vendor_holds``)."""

    _name = "hc.vendor.credential"
    _description = "Vendor credential"
    _inherit = ["mail.thread"]
    _order = "partner_id, credential_type, date_to desc, id desc"

    partner_id = fields.Many2one(
        "res.partner",
        string="Vendor",
        required=True,
        index=True,
        ondelete="cascade",
        domain="[('parent_id', '=', False)]",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company",
        index="btree_not_null",
        help="The facility the credential is for; empty: every facility.",
    )
    credential_type = fields.Selection(
        CREDENTIAL_TYPES, string="Type", required=True, default="licence", tracking=True
    )
    number = fields.Char(tracking=True)
    issuer = fields.Char(help="Licensing board, insurer, certification body.", tracking=True)
    date_from = fields.Date(string="Valid from", tracking=True)
    date_to = fields.Date(
        string="Valid to", tracking=True, help="Empty: does not expire (a W-9, say)."
    )
    document = fields.Binary(string="Document", attachment=True)
    document_name = fields.Char()
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("valid", "Valid"), ("expiring", "Expiring soon"), ("expired", "Expired")],
        compute="_compute_state",
        store=True,
        index=True,
        help="Expiring: ends within the warning period (30 days unless set). Recomputed "
        "nightly by the credential expiry job.",
    )

    _date_order = models.Constraint(
        "CHECK(date_from IS NULL OR date_to IS NULL OR date_from <= date_to)",
        "A credential's validity cannot end before it starts.",
    )

    @api.model
    def _warning_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(WARNING_DAYS_PARAM)
        try:
            return int(value) if value else DEFAULT_WARNING_DAYS
        except ValueError:
            return DEFAULT_WARNING_DAYS

    @api.depends("date_to", "date_from")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        warn = today + timedelta(days=self._warning_days())
        for cred in self:
            if cred.date_to and cred.date_to < today:
                cred.state = "expired"
            elif cred.date_from and cred.date_from > today:
                cred.state = "expired"  # not valid yet: no better than an expired one
            elif cred.date_to and cred.date_to <= warn:
                cred.state = "expiring"
            else:
                cred.state = "valid"

    @api.constrains("partner_id")
    def _check_commercial(self):
        for cred in self:
            if cred.partner_id.parent_id:
                raise ValidationError(
                    self.env._(
                        "Credentials belong to the vendor (%s), not to one of its contacts.",
                        cred.partner_id.commercial_partner_id.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        for cred in records:
            self.env["hc.audit.log"]._log("credential_created", cred, data=cred._hc_audit_data())
        return records

    def write(self, vals):
        res = super().write(vals)
        if set(AUDITED_FIELDS) & set(vals):
            for cred in self:
                self.env["hc.audit.log"]._log(
                    "credential_changed",
                    cred,
                    data=dict(
                        cred._hc_audit_data(), changed=sorted(set(AUDITED_FIELDS) & set(vals))
                    ),
                )
        return res

    def _hc_audit_data(self):
        return {
            "partner": self.partner_id.id,
            "type": self.credential_type,
            "number": self.number or "",
            "valid_from": str(self.date_from or ""),
            "valid_to": str(self.date_to or ""),
            "state": self.state,
        }

    def _hc_expired_types(self, partners):
        """``{commercial partner: [expired credential types]}``: the types of which the
        vendor has an expired credential and no valid (or expiring) one."""
        creds = self.sudo().search([("partner_id", "in", partners.commercial_partner_id.ids)])
        by_partner = {}
        for cred in creds:
            by_partner.setdefault(cred.partner_id, {}).setdefault(cred.credential_type, set()).add(
                cred.state
            )
        result = {}
        for partner, types in by_partner.items():
            expired = sorted(t for t, states in types.items() if states == {"expired"})
            if expired:
                result[partner] = expired
        return result

    @api.model
    def _cron_refresh_states(self, batch_size=1000):
        """Nightly: recompute the state of the dated credentials (a date crossed today or
        the warning period) and audit every change of state."""
        # every dated credential: a boundary (today, the warning period) may have moved
        creds = self.sudo().search(["|", ("date_to", "!=", False), ("date_from", "!=", False)])
        Cron = self.env["ir.cron"]
        commit = bool(self.env.context.get("ir_cron_progress_id"))
        if commit:
            Cron._commit_progress(remaining=len(creds))
        for start in range(0, len(creds), batch_size):
            batch = creds[start : start + batch_size]
            before = {c.id: c.state for c in batch}
            self.env.add_to_compute(self._fields["state"], batch)
            batch.flush_recordset(["state"])
            for cred in batch.filtered(lambda c, before=before: c.state != before[c.id]):
                self.env["hc.audit.log"]._log(
                    "credential_" + cred.state, cred, data=cred._hc_audit_data()
                )
            if commit and not Cron._commit_progress(len(batch)):
                break
        return len(creds)
