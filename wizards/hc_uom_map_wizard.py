from odoo import api
from odoo import fields
from odoo import models


class HcUomMapWizard(models.TransientModel):
    """A data steward decides an ``unknown_uom`` exception: the unit a code means, or the
    size of an item's pack.  The decision itself is :meth:`hc.exception._map_unknown_uom`."""

    _name = "hc.uom.map.wizard"
    _description = "Map an unknown unit of measure"

    exception_id = fields.Many2one(
        "hc.exception",
        required=True,
        ondelete="cascade",
        domain=[("exception_type", "=", "unknown_uom")],
    )
    code = fields.Char(compute="_compute_from_exception")
    product_id = fields.Many2one("product.product", compute="_compute_from_exception")
    product_uom_id = fields.Many2one(
        "uom.uom", string="Item's unit", compute="_compute_from_exception"
    )
    uom_id = fields.Many2one(
        "uom.uom",
        string="Odoo unit",
        help="The unit the code means; for an item's pack, an existing packaging instead of "
        "a size.",
    )
    pack_qty = fields.Float(
        string="Pack size",
        digits="Product Unit",
        help="How many of the item's unit one pack holds.",
    )

    @api.depends("exception_id")
    def _compute_from_exception(self):
        for wizard in self:
            details = wizard.exception_id.details or {}
            product = self.env["product.product"].browse(details.get("product_id")).exists()
            wizard.code = details.get("code")
            wizard.product_id = product
            wizard.product_uom_id = product.uom_id

    def action_confirm(self):
        self.ensure_one()
        self.exception_id._map_unknown_uom(uom=self.uom_id or None, pack_qty=self.pack_qty)
        return {"type": "ir.actions.act_window_close"}
