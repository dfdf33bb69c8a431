from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        # Refused before any payment is made, with the reason; the same rule holds where
        # the payment is reconciled with the bill (account.partial.reconcile), which
        # audits an AP manager's approval above the threshold.
        self.line_ids.move_id._hc_check_settlement("register_payment", log_approval=False)
        return super()._create_payments()
