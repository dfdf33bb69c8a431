from odoo import fields
from odoo import models

from ..matching.tolerance import NUMERIC_FIELDS

# The limits of a tolerance rule, as the screens that edit them copy them.
RULE_FIELDS = (*NUMERIC_FIELDS, "allow_over_receipt", "combine")


class HcToleranceLimits(models.AbstractModel):
    """The limits of a tolerance rule, for the screens that edit a copy of them before
    they are written to the rule: the AP controls and the what-if."""

    _name = "hc.tolerance.limits"
    _description = "Tolerance limits being edited"

    company_id = fields.Many2one("res.company", required=True, default=lambda s: s.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    qty_pct = fields.Float("Quantity (%)", digits=(16, 2))
    qty_abs = fields.Float("Quantity (units)", digits="Product Unit")
    price_pct = fields.Float("Unit price (%)", digits=(16, 2))
    price_abs = fields.Float("Unit price (amount)", digits="Product Price")
    total_pct = fields.Float("Bill total (%)", digits=(16, 2))
    total_abs = fields.Float("Bill total (amount)", digits="Account")
    charge_pct = fields.Float("Charges (% of goods)", digits=(16, 2))
    charge_abs = fields.Float("Charges (amount)", digits="Account")
    stated_abs = fields.Float("Stated totals (amount)", digits="Account")
    allow_over_receipt = fields.Boolean("Bill received quantities beyond the order")
    combine = fields.Selection(
        [("either", "Within % or amount"), ("both", "Within % and amount")],
        default="either",
        required=True,
    )
