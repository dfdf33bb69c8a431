from odoo import api
from odoo import fields
from odoo import models


class StockWarehouseOrderpoint(models.Model):
    """Par levels: Odoo's reorder rule (min/max per location) planned by the hub.

    A par level is a reorder rule with ``hc_par_level`` set: its trigger is manual, so
    Odoo's own scheduler leaves it alone, and ``hc.replenishment.planner`` plans it (the
    cron, the *Plan replenishment* button, and every consumption of its item there):
    an internal transfer from the facility's stock room or the network's distribution
    centre when they hold stock, otherwise a draft purchase order from the contract vendor.
    """

    _inherit = "stock.warehouse.orderpoint"

    hc_par_level = fields.Boolean(
        string="Par level",
        index=True,
        help="Planned by the procure-to-pay hub's par-level replenishment.",
    )
    hc_source_location_id = fields.Many2one(
        "stock.location",
        string="Resupply from",
        domain="[('usage', '=', 'internal'), ('company_id', 'in', (company_id, False))]",
        check_company=True,
        help="Stock room this par location is resupplied from first; empty: the "
        "warehouse's stock location, then the network's distribution centres.",
    )
    hc_critical = fields.Boolean(
        related="product_id.product_tmpl_id.hc_critical", string="Critical supply"
    )
    hc_plan_note = fields.Char(string="Planning note", readonly=True, copy=False)
    hc_planned_at = fields.Datetime(
        string="Last planned",
        readonly=True,
        copy=False,
        help="When the hub last planned this par level (stamped first, which also keeps "
        "two plans of it from running at once).",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("hc_par_level") and "trigger" not in vals:
                vals["trigger"] = "manual"
        return super().create(vals_list)

    def action_hc_plan_replenishment(self):
        """Plan the selected par levels now (the button)."""
        result = self.env["hc.replenishment.planner"]._plan(self.filtered("hc_par_level"))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Par-level replenishment"),
                "message": result["summary"],
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
