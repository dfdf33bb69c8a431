from collections import defaultdict
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

HORIZON_PARAM = "healthcare_p2p_integration.expiry_alert_days"
HORIZON_DAYS = 90


class HcExpiryAlert(models.Model):
    """A lot on hand in a facility that expires within the alert horizon (or has).

    One alert per warehouse and lot, refreshed by a daily cron from the quants (one
    grouped read, whatever the number of lots): quantities and days left are updated,
    alerts whose stock is gone (used, written off, quarantined elsewhere) are closed.
    The horizon is ``healthcare_p2p_integration.expiry_alert_days`` (default 90).
    """

    _name = "hc.expiry.alert"
    _description = "Lot expiry alert"
    _order = "expiration_date, id"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", "Facility", required=True, readonly=True)
    product_id = fields.Many2one("product.product", "Item", required=True, readonly=True)
    lot_id = fields.Many2one("stock.lot", "Lot / serial", required=True, readonly=True)
    expiration_date = fields.Datetime(readonly=True)
    quantity = fields.Float(digits="Product Unit", readonly=True)
    uom_id = fields.Many2one(related="product_id.uom_id")
    days_left = fields.Integer(readonly=True)
    state = fields.Selection(
        [("expiring", "Expiring"), ("expired", "Expired"), ("closed", "Closed")],
        required=True,
        readonly=True,
        index=True,
    )

    _warehouse_lot_uniq = models.Constraint(
        "unique(warehouse_id, lot_id)", "One alert per facility and lot."
    )

    @api.model
    def _horizon_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(HORIZON_PARAM, HORIZON_DAYS)
        try:
            return max(int(value), 0)
        except (TypeError, ValueError):
            return HORIZON_DAYS

    @api.model
    def _cron_refresh(self):
        """Create, update and close the alerts from the stock on hand."""
        now = fields.Datetime.now()
        limit = now + timedelta(days=self._horizon_days())
        groups = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("location_id.usage", "=", "internal"),
                    ("location_id.warehouse_id", "!=", False),
                    ("lot_id.expiration_date", "!=", False),
                    ("lot_id.expiration_date", "<=", limit),
                    ("quantity", ">", 0),
                ],
                ["location_id", "lot_id"],
                ["quantity:sum"],
            )
        )
        held = defaultdict(float)
        for location, lot, quantity in groups:
            held[location.warehouse_id, lot] += quantity
        Alert = self.sudo()
        existing = {
            (a.warehouse_id, a.lot_id): a for a in Alert.search([("state", "!=", "closed")])
        }
        lots = self.env["stock.lot"].union(*(lot for _wh, lot in held))
        closed = {
            (a.warehouse_id, a.lot_id): a
            for a in Alert.search([("state", "=", "closed"), ("lot_id", "in", lots.ids)])
        }
        create = []
        for (warehouse, lot), quantity in held.items():
            days = (lot.expiration_date - now).days
            vals = {
                "quantity": quantity,
                "days_left": days,
                "expiration_date": lot.expiration_date,
                "state": "expired" if lot.expiration_date <= now else "expiring",
            }
            alert = existing.pop((warehouse, lot), None) or closed.get((warehouse, lot))
            if alert:
                alert.write(vals)
            else:
                create.append(
                    dict(
                        vals,
                        company_id=warehouse.company_id.id,
                        warehouse_id=warehouse.id,
                        product_id=lot.product_id.id,
                        lot_id=lot.id,
                    )
                )
        Alert.create(create)
        for alert in existing.values():
            alert.write({"state": "closed", "quantity": 0.0})
        return True
