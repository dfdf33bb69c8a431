from odoo import api
from odoo import models
from odoo.exceptions import UserError

PRECOMMIT_POSTED = "hc.outbound.payment_posted"


class AccountPayment(models.Model):
    _inherit = "account.payment"

    @api.model_create_multi
    def create(self, vals_list):
        payments = super().create(vals_list)
        linked = payments.filtered("invoice_ids")
        if linked and not self.env.su:
            # linking a payment to bills is registering it on them
            linked.invoice_ids._hc_check_settlement("register_payment", log_approval=False)
        return payments

    def write(self, vals):
        res = super().write(vals)
        if "invoice_ids" in vals and not self.env.su:
            self.invoice_ids._hc_check_settlement("register_payment", log_approval=False)
        return res

    def action_post(self):
        # Money never leaves for a vendor whose bank details are being changed (a change
        # filed on one of its contacts included).
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
        # nor to a vendor held by credentialing (exclusion match, expired credential)
        outbound.partner_id._hc_check_vendor_hold(outbound, "payment")
        res = super().action_post()
        self._hc_remit()
        return res

    def _hc_remit(self):
        """Remittance advice to the vendor for each posted vendor payment, built just
        before the commit: the register wizard reconciles the bills after posting, and
        the advice names what the payment settled."""
        payments = self.filtered(lambda p: p.payment_type == "outbound" and p.partner_id)
        if not payments:
            return
        precommit = self.env.cr.precommit
        posted = precommit.data.setdefault(PRECOMMIT_POSTED, set())
        if not posted:
            precommit.add(self.browse()._hc_send_remittances)
        posted.update(payments.ids)

    def _hc_send_remittances(self):
        ids = self.env.cr.precommit.data.pop(PRECOMMIT_POSTED, set())
        payments = self.sudo().browse(sorted(ids)).exists()
        self.env["hc.outbound.document.builder"]._send_remittances(payments)
