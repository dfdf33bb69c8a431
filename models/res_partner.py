from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

COMPLIANCE_GROUP = "healthcare_p2p_integration.group_hc_vendor_compliance"


class ResPartner(models.Model):
    _inherit = "res.partner"

    hc_identifier_ids = fields.One2many(
        "hc.partner.identifier", "partner_id", string="External identifiers"
    )
    hc_payment_terms = fields.Char(
        string="Stated payment terms",
        help="The payment terms as the vendor master states them. They set the vendor's "
        "payment terms when an Odoo payment term of that name (or number of days) exists.",
    )
    hc_bank_change_count = fields.Integer(
        string="Pending bank changes", compute="_compute_hc_bank_change_count"
    )

    # -- vendor credentialing and exclusion screening (issue 18) -------------------------
    hc_npi = fields.Char(
        string="NPI", help="National Provider Identifier: exclusion lists are matched on it."
    )
    hc_uei = fields.Char(
        string="SAM UEI", help="SAM.gov Unique Entity ID: the SAM exclusions are matched on it."
    )
    hc_credential_ids = fields.One2many("hc.vendor.credential", "partner_id", string="Credentials")
    hc_exclusion_match_ids = fields.One2many(
        "hc.exclusion.match", "partner_id", string="Exclusion matches"
    )
    hc_vendor_hold = fields.Char(
        string="Vendor hold",
        compute="_compute_hc_vendor_hold",
        help="Why new purchase orders and payments to this vendor are refused: an "
        "exclusion match to decide or confirmed, or an expired credential.",
    )

    def _compute_hc_vendor_hold(self):
        holds = self._hc_vendor_holds()
        for partner in self:
            reasons = holds.get(partner.commercial_partner_id)
            partner.hc_vendor_hold = "; ".join(reasons) if reasons else False

    def _hc_vendor_holds(self):
        """``{commercial partner: [reasons]}`` of the vendors held among these partners:
        an exclusion match pending or confirmed, or a credential type whose credentials
        are all expired.  Two queries, whatever the number of partners."""
        commercial = self.commercial_partner_id
        if not commercial:
            return {}
        holds = {}
        matches = (
            self.env["hc.exclusion.match"]
            .sudo()
            .search(
                [("partner_id", "in", commercial.ids), ("state", "in", ("pending", "confirmed"))]
            )
        )
        for match in matches:
            label = (
                self.env._("confirmed exclusion (%s)", match.entry_id.name or match.entry_key[:8])
                if match.state == "confirmed"
                else self.env._(
                    "possible exclusion list match to decide (%s)",
                    match.entry_id.name or match.entry_key[:8],
                )
            )
            holds.setdefault(match.partner_id, []).append(label)
        Credential = self.env["hc.vendor.credential"]
        labels = dict(Credential._fields["credential_type"].selection)
        for partner, types in Credential._hc_expired_types(commercial).items():
            holds.setdefault(partner, []).append(
                self.env._("expired credential: %s", ", ".join(labels.get(t, t) for t in types))
            )
        return holds

    def _hc_check_vendor_hold(self, records, action):
        """Refuse ``action`` (``purchase_order``, ``payment``) on ``records`` (documents
        with a ``partner_id``) when one of these vendors is held; the refusal is audited
        on the document concerned (and outlives the rollback)."""
        holds = self._hc_vendor_holds()
        if not holds:
            return
        partner, reasons = next(iter(holds.items()))
        record = (
            records.filtered(lambda r: r.partner_id.commercial_partner_id == partner)[:1]
            or records[:1]
        )
        self.env["hc.audit.log"]._log_detached(
            "vendor_hold_refused",
            record,
            reason=action,
            data={
                "action": action,
                "partner": partner.id,
                "reasons": reasons,
                "user": self.env.user.login,
            },
        )
        raise UserError(
            self.env._(
                "%(vendor)s is on hold: %(reasons)s. No purchase order is confirmed and no "
                "payment is made to it until a vendor compliance officer decides "
                "(Procure-to-Pay Hub > Vendor compliance).",
                vendor=partner.display_name,
                reasons="; ".join(reasons),
            )
        )

    def action_hc_screen(self):
        """Screen these vendors against the current exclusion lists now."""
        if not self.env.user.has_group(COMPLIANCE_GROUP):
            raise AccessError(self.env._("Only a vendor compliance officer screens vendors."))
        matches = self.env["hc.exclusion.list"]._hc_screen(self)
        self.env["hc.audit.log"]._log(
            "vendors_screened",
            self[:1],
            data={"partners": self.ids, "matches": matches.ids},
        )
        return True

    def _compute_hc_bank_change_count(self):
        Request = self.env["hc.bank.change.request"].sudo()
        counts = dict(
            Request._read_group(
                [("partner_id", "in", self.ids), ("state", "=", "pending")],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.hc_bank_change_count = counts.get(partner._origin, 0)

    def action_hc_bank_changes(self):
        """The vendor's bank change requests; a new one is filed from there."""
        self.ensure_one()
        partner = self.commercial_partner_id
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.bank.change.request",
            "view_mode": "list,form",
            "domain": [("partner_id", "=", partner.id)],
            "context": {"default_partner_id": partner.id},
            "name": self.env._("Bank changes of %s", partner.display_name),
        }
