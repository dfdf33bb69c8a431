from odoo import api
from odoo import fields
from odoo import models

# the line statuses (and issues) each figure of the comparison fails on
QTY_ISSUES = ("qty_variance", "not_received")
PRICE_ISSUES = ("price_variance",)
CONTRACT_ISSUES = ("contract_price_variance",)


class HcBillMatchLine(models.Model):
    """The three-way match verdict of one bill line, with the numbers it rests on.

    Read side by side: the PO line (ordered quantity, PO and contract price), the
    receipts (received quantity) and the invoice line (billed quantity and price), with
    the figure that failed flagged (``*_failed``) for the views to highlight.
    """

    _name = "hc.bill.match.line"
    _description = "Three-way match result line"
    _order = "move_id, id"

    move_id = fields.Many2one(
        "account.move", string="Bill", required=True, index=True, ondelete="cascade"
    )
    # indexed: deleting any journal item (Odoo does it when a bill's lines are recomputed)
    # looks here for match lines to delete with it (318 ms a bill at 200,000 match lines)
    move_line_id = fields.Many2one(
        "account.move.line", string="Bill line", ondelete="cascade", index="btree_not_null"
    )
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    currency_id = fields.Many2one(related="move_id.currency_id", string="Currency")
    product_id = fields.Many2one(related="move_line_id.product_id")
    status = fields.Selection(
        [
            ("matched", "Matched"),
            ("qty_variance", "Quantity variance"),
            ("price_variance", "Price variance"),
            ("contract_price_variance", "Contract price variance"),
            ("not_received", "Not received"),
            ("not_ordered", "Not ordered"),
            ("uom_mismatch", "UoM mismatch"),
        ],
        required=True,
    )
    explanation = fields.Text()
    decided_by = fields.Char(string="Rule")
    ordered_qty = fields.Float(string="PO quantity", digits="Product Unit")
    received_qty = fields.Float(digits="Product Unit")
    previously_billed_qty = fields.Float("Billed before", digits="Product Unit")
    billed_qty = fields.Float(string="Invoiced quantity", digits="Product Unit")
    po_price = fields.Float("PO price", digits="Product Price")
    bill_price = fields.Float(string="Billed price", digits="Product Price")
    contract_price = fields.Float(digits="Product Price")
    details = fields.Json()
    # -- side by side (from the stored verdict and the documents) ----------------------
    line_label = fields.Char(string="Invoice line", compute="_compute_documents", compute_sudo=True)
    po_line_label = fields.Char(string="PO line", compute="_compute_documents", compute_sudo=True)
    receipt_label = fields.Char(string="Receipts", compute="_compute_documents", compute_sudo=True)
    uom = fields.Char(string="Unit", compute="_compute_figures")
    billable_qty = fields.Float(
        digits="Product Unit",
        compute="_compute_figures",
        help="Received, capped at ordered unless over-receipt is allowed.",
    )
    qty_difference = fields.Float(
        string="Quantity over",
        digits="Product Unit",
        compute="_compute_figures",
        help="Quantity billed (all bills) beyond the billable quantity, in the PO unit.",
    )
    price_difference = fields.Float(
        string="Price difference",
        digits="Product Price",
        compute="_compute_figures",
        help="Billed price minus PO price, per PO unit.",
    )
    qty_failed = fields.Boolean(compute="_compute_figures")
    receipt_failed = fields.Boolean(compute="_compute_figures")
    price_failed = fields.Boolean(compute="_compute_figures")
    contract_failed = fields.Boolean(compute="_compute_figures")

    @api.depends("details", "status")
    def _compute_figures(self):
        for line in self:
            details = line.details or {}
            issues = set(details.get("issues") or ()) | {line.status}

            def num(name, d=details):
                value = d.get(name)
                return float(value) if value not in (None, "") else 0.0

            checks = {c.get("check"): c for c in details.get("checks") or () if c}
            quantity = checks.get("quantity") or {}
            line.uom = details.get("uom") or details.get("bill_uom") or False
            line.billable_qty = num("billable_qty")
            line.qty_difference = num("variance", quantity) if quantity.get("variance") else 0.0
            line.price_difference = (
                line.bill_price - line.po_price if details.get("po_line_id") else 0.0
            )
            line.receipt_failed = "not_received" in issues
            line.qty_failed = bool(issues & set(QTY_ISSUES))
            line.price_failed = bool(issues & set(PRICE_ISSUES))
            line.contract_failed = bool(issues & set(CONTRACT_ISSUES))

    @api.depends("move_line_id")
    def _compute_documents(self):
        for line in self:
            aml = line.move_line_id
            pol = aml.purchase_line_id
            number = list(aml.move_id.invoice_line_ids).index(aml) + 1 if aml else 0
            line.line_label = (
                f"{number}. {aml.product_id.display_name or aml.name or ''}" if aml else False
            )
            line.po_line_label = (
                f"{pol.order_id.name}: {pol.product_id.display_name}" if pol else False
            )
            pickings = pol.move_ids.filtered(lambda m: m.state == "done").picking_id
            line.receipt_label = ", ".join(pickings.mapped("name")) or False
