from odoo import api
from odoo import models

from .account_move import VENDOR_BILL_TYPES


class AccountPartialReconcile(models.Model):
    """Release to pay where Odoo settles a bill.

    Every way of paying a bill ends in a partial reconciliation between the bill's payable
    line and its counterpart: the payment wizard, a payment posted then reconciled, *Add*
    on an outstanding payment (``js_assign_outstanding_line``), ``reconcile()`` on journal
    items, batch payments, bank statement lines, payments without a partner, and a partial
    created directly over RPC.  So the rule is checked here, on the records, whoever calls
    and whatever the context: ``account.move._hc_check_settlement`` (not released or held
    by the match, a pending bank change of the vendor, an integration administrator
    paying, the payment threshold of segregation of duties).  A bill settled by its own
    reversal (credit note) is cancelled, not paid: that stays Odoo's.
    """

    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        self._hc_check_settlement(
            [(vals.get("debit_move_id"), vals.get("credit_move_id")) for vals in vals_list]
        )
        return super().create(vals_list)

    def write(self, vals):
        if {"debit_move_id", "credit_move_id"} & set(vals):
            self._hc_check_settlement(
                [
                    (
                        vals.get("debit_move_id", partial.debit_move_id.id),
                        vals.get("credit_move_id", partial.credit_move_id.id),
                    )
                    for partial in self
                ]
            )
        return super().write(vals)

    @api.model
    def _hc_check_settlement(self, pairs):
        """Refuse settling a vendor bill that may not be paid (``pairs``: debit and credit
        journal item ids of each partial)."""
        Line = self.env["account.move.line"].sudo()
        settled = self.env["account.move"].sudo()
        for debit_id, credit_id in pairs:
            debit = Line.browse(debit_id).move_id
            credit = Line.browse(credit_id).move_id
            for bill, other in ((debit, credit), (credit, debit)):
                if bill.move_type not in VENDOR_BILL_TYPES or bill == other:
                    continue
                if other.reversed_entry_id == bill or bill.reversed_entry_id == other:
                    continue  # a bill and its credit note cancel each other out
                settled |= bill
        if settled:
            settled._hc_check_settlement("register_payment")
