from odoo import api
from odoo import models

from .account_move import VENDOR_BILL_TYPES


class AccountFullReconcile(models.Model):
    """Release to pay on the full reconciliation too.

    Odoo creates an ``account.full.reconcile`` itself once the partials of a set of journal
    items add up (each partial was checked by ``account.partial.reconcile``).  Created
    directly (over RPC, say) it only numbers the items as matched and pays nothing, since
    a bill's residual and payment state come from its partials; still, a bill that may not
    be paid is not shown as matched with anything but its own credit note either.
    """

    _inherit = "account.full.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        settled = self.env["account.move"].sudo()
        for full in records.sudo():
            moves = full.reconciled_line_ids.move_id
            for bill in moves.filtered(lambda m: m.move_type in VENDOR_BILL_TYPES):
                others = moves - bill
                if all(o.reversed_entry_id == bill or bill.reversed_entry_id == o for o in others):
                    continue  # a bill and its credit note cancel each other out
                settled |= bill
        if settled:
            # the approval of a payment allowed was logged with its partials
            settled._hc_check_settlement("register_payment", log_approval=False)
        return records
