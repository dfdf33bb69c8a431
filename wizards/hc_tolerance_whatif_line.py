from odoo import fields
from odoo import models


class HcToleranceWhatifLine(models.TransientModel):
    """One open bill whose verdict the candidate tolerance would change."""

    _name = "hc.tolerance.whatif.line"
    _description = "Tolerance what-if: a bill that would change"
    _order = "change, amount desc"

    wizard_id = fields.Many2one("hc.tolerance.whatif.wizard", required=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", string="Bill", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="move_id.partner_id", string="Vendor")
    invoice_date = fields.Date(related="move_id.invoice_date", string="Bill date")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    amount = fields.Monetary("Amount", currency_field="currency_id")
    current_state = fields.Selection(
        [
            ("matched", "Matched (touchless)"),
            ("accepted", "Released with accepted variances"),
            ("blocked", "Blocked"),
        ],
        string="Today",
    )
    change = fields.Selection(
        [("release", "Would be released"), ("block", "Would be blocked")],
        string="With the new tolerance",
    )
    explanation = fields.Char("Why")
