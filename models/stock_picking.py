from odoo import fields
from odoo import models


class StockPicking(models.Model):
    """Receipts carry what the supplier announced (ASN) and which goods receipt closed them."""

    _inherit = "stock.picking"

    hc_receipt_ref = fields.Char(
        string="Goods receipt reference",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Identifier of the receiving system's goods receipt that validated this "
        "transfer: the same receipt is never applied twice.",
    )
    hc_received_by = fields.Char(string="Received by", copy=False, readonly=True)
    hc_asn_number = fields.Char(string="ASN number", copy=False, readonly=True)
    hc_carrier = fields.Char(string="Carrier", copy=False)
    hc_tracking_number = fields.Char(string="Carrier tracking number", copy=False)
    hc_asn_line_ids = fields.One2many(
        "hc.asn.line", "picking_id", string="Advance ship notice lines", readonly=True
    )

    def _action_done(self):
        res = super()._action_done()
        # A receipt can settle a bill blocked for a missing receipt or a quantity
        # variance: re-match those bills now rather than at the nightly batch.
        po_lines = self.move_ids.purchase_line_id
        if po_lines:
            bills = (
                self.env["account.move.line"]
                .sudo()
                .search(
                    [
                        ("purchase_line_id", "in", po_lines.ids),
                        ("move_id.hc_match_state", "=", "blocked"),
                    ]
                )
                .move_id
            )
            if bills:
                self.env["hc.three.way.match"]._match_bills(bills)
        return res
