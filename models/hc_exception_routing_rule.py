from odoo import api
from odoo import fields
from odoo import models

from .hc_exception import EXCEPTION_TYPES


class HcExceptionRoutingRule(models.Model):
    """Which queue an exception goes to, by type, facility and vendor category.

    Rules are tried in sequence; an empty criterion matches anything; the first rule
    whose criteria all match decides.
    """

    _name = "hc.exception.routing.rule"
    _description = "Exception routing rule"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    exception_type = fields.Selection(EXCEPTION_TYPES, help="Empty: any type.")
    company_id = fields.Many2one("res.company", string="Facility", help="Empty: any facility.")
    partner_category_id = fields.Many2one(
        "res.partner.category", string="Vendor category", help="Empty: any vendor."
    )
    queue_id = fields.Many2one("hc.exception.queue", required=True, ondelete="cascade")

    @api.model
    def _route(self, exception):
        """The queue for ``exception`` (an ``hc.exception`` record), or an empty recordset."""
        categories = (
            exception.partner_id.commercial_partner_id.category_id
            | exception.partner_id.category_id
        )
        for rule in self.sudo().search([]):
            if rule.exception_type and rule.exception_type != exception.exception_type:
                continue
            if rule.company_id and rule.company_id != exception.company_id:
                continue
            if rule.partner_category_id and rule.partner_category_id not in categories:
                continue
            return rule.queue_id
        return self.env["hc.exception.queue"]
