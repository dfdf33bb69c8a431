from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from ..trust import crypto

AP_MANAGER = "healthcare_p2p_integration.group_hc_ap_manager"
# Set only by the methods below (as the system), never by a client's write.
DECISION_FIELDS = {
    "state",
    "partner_id",
    "company_id",
    "mode",
    "replace_bank_id",
    "old_masked",
    "new_masked",
    "new_secret",
    "new_fingerprints",
    "requested_by_id",
    "message_id",
    "approver_id",
    "decision_date",
    "decision_reason",
    "exception_id",
}


class HcBankChangeRequest(models.Model):
    """A change of a supplier's bank details, held until an AP manager approves it.

    Changed bank details are the classic payment-fraud vector (a forged "our bank account
    has changed" letter or vendor master update), so neither an inbound vendor update nor
    a person changes them directly: each change is a request, the vendor's payments are
    refused while it is pending, and only an AP manager who did not request it (segregation
    of duties, per company) approves it.  The new details are encrypted from the moment
    they arrive; the request shows them masked.
    """

    _name = "hc.bank.change.request"
    _description = "Vendor bank details change request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    partner_id = fields.Many2one(
        "res.partner", string="Vendor", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, index=True
    )
    state = fields.Selection(
        [
            ("pending", "Pending approval"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("cancelled", "Superseded"),
        ],
        default="pending",
        required=True,
        index=True,
        tracking=True,
    )
    mode = fields.Selection(
        [
            ("replace_all", "Replace the vendor's accounts"),
            ("add", "Add an account"),
        ],
        default="add",
        required=True,
        help="Replace: the vendor's current accounts not in this request are archived on "
        "approval (what a vendor master update means). Add: a new account next to the others.",
    )
    replace_bank_id = fields.Many2one(
        "res.partner.bank",
        string="Replaces account",
        domain="[('partner_id', '=', partner_id)]",
        help="Archived on approval (a corrected account number).",
    )
    old_masked = fields.Text(string="Current details", readonly=True)
    new_masked = fields.Text(string="New details", readonly=True)
    new_secret = fields.Text(
        readonly=True,
        copy=False,
        prefetch=False,
        groups="base.group_system",
        hc_encrypted=True,
    )
    new_fingerprints = fields.Char(readonly=True, index=True, copy=False)
    requested_by_id = fields.Many2one(
        "res.users", string="Requested by", readonly=True, default=lambda s: s.env.uid
    )
    message_id = fields.Many2one(
        "hc.inbox.message",
        string="Inbox message",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
    approver_id = fields.Many2one("res.users", string="Decided by", readonly=True)
    decision_date = fields.Datetime(readonly=True)
    decision_reason = fields.Text(readonly=True)
    exception_id = fields.Many2one("hc.exception", readonly=True, ondelete="set null")
    # Typed in the form by the requester; never stored in clear (inverse encrypts).
    new_acc_number = fields.Char(
        string="New account number / IBAN", compute="_compute_new_inputs", inverse="_inverse_new"
    )
    new_routing_number = fields.Char(
        string="New routing number (ABA)", compute="_compute_new_inputs", inverse="_inverse_new"
    )
    new_bic = fields.Char(
        string="New BIC / SWIFT", compute="_compute_new_inputs", inverse="_inverse_new"
    )
    new_holder_name = fields.Char(
        string="Account holder", compute="_compute_new_inputs", inverse="_inverse_new"
    )

    @api.depends("partner_id", "state")
    def _compute_display_name(self):
        for req in self:
            req.display_name = self.env._(
                "Bank change #%(id)s: %(partner)s",
                id=req.id or "",
                partner=req.partner_id.display_name or "",
            )

    def _compute_new_inputs(self):
        for req in self:
            req.new_acc_number = False
            req.new_routing_number = False
            req.new_bic = False
            req.new_holder_name = False

    def _inverse_new(self):
        for req in self:
            if not req.new_acc_number:
                continue
            if req.sudo().new_secret:
                raise UserError(self.env._("The new details of a request cannot be changed."))
            details = {
                "acc_number": req.new_acc_number,
                "routing_number": req.new_routing_number,
                "bic": req.new_bic,
                "holder_name": req.new_holder_name,
            }
            req._hc_set_details([details])

    # -- storing the new details ------------------------------------------------------

    @api.model
    def _hc_encrypt_details(self, accounts):
        """``(secret, masked, fingerprints)`` of a list of clear account dicts."""
        Bank = self.env["res.partner.bank"]
        clean = [Bank._hc_clean_details(a) for a in accounts]
        vault = self.env["hc.vault"]
        try:
            secret = vault._encrypt_json(self, "new_secret", clean)
            prints = sorted({vault._fingerprint(a["acc_number"]) for a in clean})
        except crypto.KeyMissingError as exc:
            raise UserError(self.env._("Bank details cannot be stored: %s", str(exc))) from exc
        masked = "\n".join(Bank._hc_masked(a) for a in clean)
        return secret, masked, ",".join(prints)

    def _hc_set_details(self, accounts):
        secret, masked, prints = self._hc_encrypt_details(accounts)
        self.sudo().with_context(hc_bank_request_internal=True).write(
            {"new_secret": secret, "new_masked": masked, "new_fingerprints": prints}
        )

    def _hc_new_details(self):
        self.ensure_one()
        try:
            return (
                self.env["hc.vault"]._decrypt_json(self, "new_secret", self.sudo().new_secret) or []
            )
        except (crypto.KeyMissingError, crypto.DecryptionError) as exc:
            raise UserError(self.env._("Bank details cannot be decrypted: %s", str(exc))) from exc

    @api.model
    def _hc_current_accounts(self, partner):
        return (
            self.env["res.partner.bank"]
            .sudo()
            .search([("partner_id", "=", partner.commercial_partner_id.id)])
        )

    # -- ORM --------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        internal = self.env.su and self.env.context.get("hc_bank_request_internal")
        for vals in vals_list:
            if not internal:
                # A person's request: they are its requester, whatever the client sent.
                for name in DECISION_FIELDS - {
                    "partner_id",
                    "company_id",
                    "mode",
                    "replace_bank_id",
                }:
                    vals.pop(name, None)
                vals["requested_by_id"] = self.env.uid
            partner = self.env["res.partner"].browse(vals.get("partner_id")).exists()
            if not partner or not self.env["res.partner.bank"]._hc_is_protected_partner(partner):
                raise UserError(self.env._("Bank change requests are for supplier accounts."))
            # The accounts are the vendor's (its commercial partner's), whichever contact
            # the request was filed on: the vendor's payments wait for it.
            partner = partner.commercial_partner_id
            vals["partner_id"] = partner.id
            vals["old_masked"] = "\n".join(
                a.acc_number for a in self._hc_current_accounts(partner)
            ) or self.env._("(none)")
        requests = super().create(vals_list)
        for req in requests:
            if not req.sudo().new_secret:
                raise UserError(self.env._("Give the new account number or IBAN."))
            req._hc_after_request()
        return requests

    def write(self, vals):
        if DECISION_FIELDS & set(vals) and not (
            self.env.su and self.env.context.get("hc_bank_request_internal")
        ):
            raise UserError(
                self.env._("A bank change request changes only through Approve or Reject.")
            )
        return super().write(vals)

    def _hc_after_request(self):
        """Supersede older pending requests, tell the AP manager queue, audit."""
        self.ensure_one()
        older = self.sudo().search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("state", "=", "pending"),
                ("id", "!=", self.id),
                ("mode", "=", "replace_all"),
            ]
        )
        if self.mode == "replace_all" and older:
            older.with_context(hc_bank_request_internal=True).write(
                {
                    "state": "cancelled",
                    "decision_reason": self.env._("Superseded by request #%s", self.id),
                    "decision_date": fields.Datetime.now(),
                }
            )
            older.exception_id._resolve("fixed", self.env._("Superseded by request #%s", self.id))
            for req in older:
                self.env["hc.audit.log"]._log(
                    "bank_change_superseded",
                    req,
                    data={"partner": req.partner_id.id, "by": self.id, "new": req.new_masked},
                )
        exception = self.env["hc.exception"]._raise(
            "bank_change",
            self.env._("Vendor bank details change: %s", self.partner_id.display_name),
            f"bank_change:{self.id}",
            severity="high",
            partner_id=self.partner_id.commercial_partner_id.id,
            company_id=self.company_id.id,
            message_id=self.message_id.id,
            res_model=self._name,
            res_id=self.id,
            description=self.env._(
                "New bank details for %(vendor)s: %(new)s (current: %(old)s). Payments to "
                "this vendor are blocked until an AP manager approves or rejects the change. "
                "Verify it with the vendor through a known contact, never through the "
                "contact details of the request itself.",
                vendor=self.partner_id.display_name,
                new=self.new_masked,
                old=self.old_masked,
            ),
            hint=self.env._("Approve or reject the bank change request."),
        )
        self.sudo().with_context(hc_bank_request_internal=True).write(
            {"exception_id": exception.id}
        )
        self.env["hc.audit.log"]._log(
            "bank_change_requested",
            self,
            data={
                "partner": self.partner_id.id,
                "mode": self.mode,
                "old": self.old_masked,
                "new": self.new_masked,
                "message": self.message_id.id,
                "requested_by": self.requested_by_id.id,
            },
        )

    @api.model
    def _hc_request_from_vendor(self, partner, accounts, message):
        """An inbound vendor update carrying bank accounts: a request if they changed.

        Idempotent: the same new accounts as the current ones, or as a pending request,
        make no new request.  Returns the (new or pending) request, or an empty recordset.
        """
        Bank = self.env["res.partner.bank"]
        clean = [Bank._hc_clean_details(a) for a in accounts]
        vault = self.env["hc.vault"]
        try:
            prints = ",".join(sorted({vault._fingerprint(a["acc_number"]) for a in clean}))
        except crypto.KeyMissingError as exc:
            raise UserError(self.env._("Bank details cannot be stored: %s", str(exc))) from exc
        current = self._hc_current_accounts(partner)
        if prints == ",".join(sorted(set(current.mapped("sanitized_acc_number")))):
            return self.browse()
        pending = self.sudo().search(
            [
                ("partner_id", "=", partner.id),
                ("state", "=", "pending"),
                ("new_fingerprints", "=", prints),
            ],
            limit=1,
        )
        if pending:
            return pending
        requester = message.connector_id.user_id or self.env.user
        secret, masked, prints = self._hc_encrypt_details(clean)
        return (
            self.sudo()
            .with_context(hc_bank_request_internal=True)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": message.company_id.id,
                    "mode": "replace_all",
                    "new_secret": secret,
                    "new_masked": masked,
                    "new_fingerprints": prints,
                    "message_id": message.id,
                    "requested_by_id": requester.id,
                }
            )
        )

    # -- decisions ------------------------------------------------------------------------

    def _hc_check_decider(self):
        if not self.env.user.has_group(AP_MANAGER):
            raise AccessError(self.env._("Only an AP manager may decide on bank changes."))
        for req in self:
            if req.state != "pending":
                raise UserError(self.env._("Request #%s is no longer pending.", req.id))
            if req.company_id.hc_sod_bank_change and self.env.uid in (
                req.requested_by_id.id,
                req.create_uid.id,
            ):
                raise AccessError(
                    self.env._(
                        "Segregation of duties: you requested bank change #%s, another AP "
                        "manager must decide on it.",
                        req.id,
                    )
                )

    def action_approve(self, reason=None):
        reason = reason or self.env.context.get("hc_reason")
        if not reason:
            return self._open_decision("approve")
        self._hc_check_decider()
        for req in self.sudo().with_context(hc_bank_request_internal=True):
            req._hc_apply()
            req.write(
                {
                    "state": "approved",
                    "approver_id": self.env.uid,
                    "decision_date": fields.Datetime.now(),
                    "decision_reason": reason,
                }
            )
            req.exception_id._resolve("fixed", self.env._("Bank change approved: %s", reason))
            self.env["hc.audit.log"]._log(
                "bank_change_approved",
                req,
                reason=reason,
                data={"partner": req.partner_id.id, "new": req.new_masked, "old": req.old_masked},
            )
        return True

    def action_reject(self, reason=None):
        reason = reason or self.env.context.get("hc_reason")
        if not reason:
            return self._open_decision("reject")
        self._hc_check_decider()
        for req in self.sudo().with_context(hc_bank_request_internal=True):
            req.write(
                {
                    "state": "rejected",
                    "approver_id": self.env.uid,
                    "decision_date": fields.Datetime.now(),
                    "decision_reason": reason,
                }
            )
            req.exception_id._resolve("fixed", self.env._("Bank change rejected: %s", reason))
            self.env["hc.audit.log"]._log(
                "bank_change_rejected",
                req,
                reason=reason,
                data={"partner": req.partner_id.id, "new": req.new_masked},
            )
        return True

    def _open_decision(self, decision):
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.bank.change.decision.wizard",
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Approve bank change")
            if decision == "approve"
            else self.env._("Reject bank change"),
            "context": {"default_request_ids": self.ids, "default_decision": decision},
        }

    def _hc_apply(self):
        """Apply the approved details to the vendor (as the system)."""
        self.ensure_one()
        Bank = self.env["res.partner.bank"].sudo().with_context(active_test=False)
        partner = self.partner_id.commercial_partner_id
        keep = Bank.browse()
        for details in self._hc_new_details():
            vals = Bank._hc_vals_from_details(details)
            existing = Bank.search(
                [
                    ("partner_id", "=", partner.id),
                    ("sanitized_acc_number", "in", Bank._hc_fingerprints(details["acc_number"])),
                ],
                limit=1,
            )
            if existing:
                existing.write(dict(vals, active=True))
                keep |= existing
            else:
                keep |= Bank.create(dict(vals, partner_id=partner.id))
        if self.mode == "replace_all":
            (Bank.search([("partner_id", "=", partner.id), ("active", "=", True)]) - keep).write(
                {"active": False}
            )
        if self.replace_bank_id and self.replace_bank_id not in keep:
            self.replace_bank_id.sudo().write({"active": False})
        partner.message_post(
            body=self.env._(
                "Bank details changed by approved request #%(id)s: %(new)s",
                id=self.id,
                new=self.new_masked,
            )
        )

    @api.model
    def _hc_keys_rotated(self, keys):
        """After ``hc.vault._rotate_keys`` re-encrypted ``new_secret``: the fingerprints
        of the requested accounts under the newest key."""
        vault = self.env["hc.vault"]
        count = 0
        for req in self.sudo().search([("new_secret", "!=", False)]):
            accounts = vault._decrypt_json(req, "new_secret", req.new_secret) or []
            prints = sorted({vault._fingerprint(a["acc_number"]) for a in accounts})
            req.with_context(hc_bank_request_internal=True).write(
                {"new_fingerprints": ",".join(prints)}
            )
            count += 1
        return {"bank change request fingerprints recomputed": count}

    @api.model
    def _hc_pending_partners(self, partners):
        """The commercial partners of ``partners`` with a pending bank change (a request
        filed on any of their contacts counts)."""
        commercial = partners.commercial_partner_id
        if not commercial:
            return commercial
        pending = self.sudo().search(
            [
                ("partner_id.commercial_partner_id", "in", commercial.ids),
                ("state", "=", "pending"),
            ]
        )
        return pending.partner_id.commercial_partner_id
