from odoo import fields
from odoo import models


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
