from odoo import fields
from odoo import models

TRANSFER_STATES = [
    ("requested", "Requested"),
    ("shipped", "Shipped (in transit)"),
    ("received", "Received"),
]


class HcStockTransfer(models.Model):
    """One transfer between two facilities, as its facility systems report it.

    Applied with Odoo's stock model, in two transfers a person sees in Inventory: a
    delivery from the shipping warehouse to a transit location (the company's
    *Inter-warehouse transit* between warehouses of one company, Odoo's *Inter-company
    transit* between companies), then a receipt from that transit location into the
    receiving warehouse.  Lots (or serials) and their expiry travel with the goods.
    """

    _name = "hc.stock.transfer"
    _description = "Inter-facility stock transfer"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char("Transfer", required=True, readonly=True, index=True)
    state = fields.Selection(TRANSFER_STATES, required=True, readonly=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", "Shipping company", required=True, readonly=True, index=True
    )
    dest_company_id = fields.Many2one(
        "res.company", "Receiving company", required=True, readonly=True, index=True
    )
    source_warehouse_id = fields.Many2one("stock.warehouse", "From", required=True, readonly=True)
    dest_warehouse_id = fields.Many2one("stock.warehouse", "To", required=True, readonly=True)
    transit_location_id = fields.Many2one("stock.location", "Transit", readonly=True)
    inter_company = fields.Boolean(readonly=True)
    out_picking_id = fields.Many2one("stock.picking", "Delivery", readonly=True, index=True)
    in_picking_id = fields.Many2one("stock.picking", "Receipt", readonly=True, index=True)
    requested_date = fields.Date(readonly=True)
    shipped_date = fields.Date(readonly=True)
    received_date = fields.Date(readonly=True)
    reference = fields.Char("Facility reference", readonly=True)
    carrier = fields.Char(readonly=True)
    tracking_number = fields.Char(readonly=True)

    _name_uniq = models.Constraint("unique(name)", "A transfer id names one transfer.")

    def action_open_picking(self):
        """The delivery or the receipt of the transfer in Odoo's transfer form."""
        self.ensure_one()
        picking = self.in_picking_id if self.env.context.get("hc_in") else self.out_picking_id
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.picking",
            "res_id": picking.id,
            "view_mode": "form",
        }
