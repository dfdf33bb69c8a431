from odoo import api
from odoo import fields
from odoo import models


class HcAsnLine(models.Model):
    """What a supplier's advance ship notice announced for one incoming move.

    One record per ASN line (and PO), attached to the purchase order's open receipt: the
    expected quantity, lot, expiry date and serial numbers (GS1 AI 10/17/21).  The goods
    receipt uses them to prefill lots and expiry when the receiving system omits them.
    """

    _name = "hc.asn.line"
    _description = "Advance ship notice line"
    _order = "asn_number, sequence, id"
    _rec_name = "asn_number"

    asn_number = fields.Char(string="ASN", required=True, index=True, readonly=True)
    line_number = fields.Char(required=True, readonly=True)
    sequence = fields.Integer(default=10)
    po_number = fields.Char(string="PO number", required=True, index=True, readonly=True)
    purchase_id = fields.Many2one(
        "purchase.order", string="Purchase order", index=True, ondelete="cascade", readonly=True
    )
    picking_id = fields.Many2one(
        "stock.picking", string="Receipt", index=True, ondelete="set null", readonly=True
    )
    move_id = fields.Many2one("stock.move", index=True, ondelete="set null", readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    product_id = fields.Many2one("product.product", required=True, index=True, readonly=True)
    product_uom_id = fields.Many2one("uom.uom", string="Unit", required=True, readonly=True)
    qty_expected = fields.Float(
        string="Expected quantity", digits="Product Unit", required=True, readonly=True
    )
    lot_name = fields.Char(string="Lot", readonly=True)
    expiration_date = fields.Date(readonly=True)
    serials = fields.Json(
        string="Serial numbers", readonly=True, help="Serial numbers announced for this line."
    )
    serials_display = fields.Char(string="Serials announced", compute="_compute_serials_display")
    ship_date = fields.Date(readonly=True)
    message_id = fields.Many2one(
        "hc.inbox.message",
        string="Inbox message",
        ondelete="set null",
        readonly=True,
        index="btree_not_null",
    )

    _asn_line_unique = models.UniqueIndex(
        "(company_id, po_number, asn_number, line_number)",
        "An ASN line is recorded once per purchase order.",
    )

    @api.depends("serials")
    def _compute_serials_display(self):
        for line in self:
            line.serials_display = ", ".join(line.serials or [])
