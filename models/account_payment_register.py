from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        # Whatever path led here (list action, API), a bill the match blocked is not paid.
        bills = self.line_ids.move_id
        bills._hc_check_payable()
        bills._hc_check_release_allowed("register_payment")
        return super()._create_payments()
