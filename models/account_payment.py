from odoo import models
from odoo.exceptions import UserError


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def action_post(self):
        # Money never leaves for a vendor whose bank details are being changed.
        outbound = self.filtered(lambda p: p.payment_type == "outbound" and p.partner_id)
        pending = self.env["hc.bank.change.request"]._hc_pending_partners(outbound.partner_id)
        if pending:
            raise UserError(
                self.env._(
                    "Payment refused: a change of bank details of %s awaits an AP manager's "
                    "approval (Procure-to-Pay Hub > Bank change requests).",
                    ", ".join(pending.mapped("display_name")),
                )
            )
        return super().action_post()
