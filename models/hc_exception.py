from odoo import _
from odoo import api
from odoo import fields
from odoo import models

EXCEPTION_TYPES = [
    ("price_variance", "Price variance"),
    ("qty_variance", "Quantity variance"),
    ("missing_receipt", "Missing receipt"),
    ("no_po", "No purchase order"),
    ("unknown_vendor", "Unknown vendor"),
    ("unknown_item", "Unknown item"),
    ("uom_mismatch", "Unit of measure mismatch"),
    ("duplicate_invoice", "Duplicate invoice"),
    ("contract_price_mismatch", "Contract price mismatch"),
    ("lot_expiry", "Lot / expiry missing or expired"),
    ("short_shipment", "Short shipment"),
    ("over_receipt", "Over-receipt"),
    ("payment_rejected", "Payment rejected"),
    ("duplicate_vendor", "Possible duplicate vendor"),
    ("data_quality", "Data quality"),
    ("total_variance", "Bill total variance"),
]


class HcException(models.Model):
    """A problem a person must look at, raised by processing, matching or reconciliation.

    ``dedup_key`` names the problem (type + the records involved): while an exception with
    that key is open, raising it again returns the open one instead of a second record.
    """

    _name = "hc.exception"
    _description = "Procure-to-pay exception"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(required=True)
    exception_type = fields.Selection(EXCEPTION_TYPES, required=True, index=True, tracking=True)
    severity = fields.Selection(
        [("low", "Low"), ("medium", "Medium"), ("high", "High")], default="medium", required=True
    )
    state = fields.Selection(
        [
            ("new", "New"),
            ("in_progress", "In progress"),
            ("waiting", "Waiting"),
            ("resolved", "Resolved"),
            ("cancelled", "Cancelled"),
        ],
        default="new",
        required=True,
        index=True,
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, index=True
    )
    partner_id = fields.Many2one("res.partner", string="Vendor", index=True)
    message_id = fields.Many2one(
        "hc.inbox.message", string="Inbox message", index=True, ondelete="set null"
    )
    res_model = fields.Char(string="Document model")
    res_id = fields.Many2oneReference(model_field="res_model", string="Document")
    description = fields.Text()
    details = fields.Json()
    dedup_key = fields.Char(index=True, readonly=True)
    owner_id = fields.Many2one("res.users", string="Owner", tracking=True)
    resolution = fields.Text(tracking=True)

    _open_dedup_unique = models.UniqueIndex(
        "(dedup_key) WHERE state NOT IN ('resolved', 'cancelled')",
        "This problem already has an open exception.",
    )

    @api.model
    def _raise(self, exception_type, name, dedup_key, **vals):
        """Open an exception unless the same problem (``dedup_key``) is already open."""
        existing = self.sudo().search(
            [("dedup_key", "=", dedup_key), ("state", "not in", ("resolved", "cancelled"))], limit=1
        )
        if existing:
            return existing
        return self.sudo().create(
            dict(vals, exception_type=exception_type, name=name, dedup_key=dedup_key)
        )

    # -- data steward decisions on parked vendors ------------------------------------

    def action_vendor_confirm_new(self):
        """The parked vendor is a genuinely new supplier: create it."""
        self._steward_decide({"action": "new"})

    def action_vendor_merge(self):
        """The parked vendor is the suggested existing one: add its identifiers there."""
        self.ensure_one()
        self._steward_decide({"action": "merge", "partner_id": self.partner_id.id})

    def _steward_decide(self, decision):
        for exc in self:
            if exc.exception_type != "duplicate_vendor" or exc.state in ("resolved", "cancelled"):
                continue
            exc.write(
                {
                    "details": dict(exc.details or {}, decision=decision),
                    "state": "resolved",
                    "resolution": _("Data steward decision: %s", decision["action"]),
                }
            )
            self.env["hc.audit.log"]._log("vendor_review_decided", exc, data=decision)
            self.env["hc.inbox.message"]._release_waiting({exc.dedup_key})

    def action_open_document(self):
        self.ensure_one()
        if not (self.res_model and self.res_id):
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "name": _("Document"),
        }
