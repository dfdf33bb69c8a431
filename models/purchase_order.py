from odoo import fields
from odoo import models

ACK_STATES = [
    ("none", "Not acknowledged"),
    ("acknowledged", "Acknowledged"),
    ("changed", "Acknowledged with changes"),
    ("rejected", "Rejected"),
]


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    hc_source_ref = fields.Char(
        string="Source PO number",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Number of the order in the sourcing system it came from.",
    )
    hc_connector_id = fields.Many2one(
        "hc.connector",
        string="Source connector",
        index="btree_not_null",
        copy=False,
        readonly=True,
        ondelete="restrict",
        groups="healthcare_p2p_integration.group_hc_auditor,"
        "healthcare_p2p_integration.group_hc_supply_chain,"
        "healthcare_p2p_integration.group_hc_ap_clerk",
        help="Connector (external system) the order was received from.",
    )
    hc_ack_line_ids = fields.One2many(
        "hc.po.ack.line",
        "order_id",
        string="Acknowledgment history",
        readonly=True,
        copy=False,
    )
    hc_ack_state = fields.Selection(
        ACK_STATES,
        string="Supplier acknowledgment",
        default="none",
        required=True,
        copy=False,
        readonly=True,
        tracking=True,
        help="What the supplier answered to the order (PO acknowledgment, X12 855).",
    )

    _hc_source_ref_unique = models.UniqueIndex(
        "(company_id, hc_source_ref) WHERE hc_source_ref IS NOT NULL",
        "A source purchase order number is received once per company.",
    )


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    hc_line_ref = fields.Char(
        string="Source line number",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Line number of the order line in the sourcing system (PO1-01 in X12 850); "
        "acknowledgments, ship notices, receipts and invoices refer to it.",
    )
