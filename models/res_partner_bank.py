from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..trust import crypto

UNMASKED_GROUP = "healthcare_p2p_integration.group_hc_bank_unmasked"
# What moves money: changing these on a supplier's account is a bank details change.
BANK_FIELDS = {"acc_number", "sanitized_acc_number", "partner_id", "hc_secret", "acc_holder_name"}


class ResPartnerBank(models.Model):
    """Supplier bank accounts encrypted at rest.

    Odoo's columns keep what is safe to show and to compare: ``acc_number`` holds the
    masked number (``DE••••3000``), ``sanitized_acc_number`` a keyed fingerprint
    (``HCFP...``, an HMAC under a key derived from the server's encryption key), so Odoo's
    unique (number, partner) constraint, duplicate warnings and equality searches keep
    working.  The number itself (with routing number, BIC and holder) is a Fernet token in
    ``hc_secret``; only ``_hc_reveal`` (group *Bank details (unmasked)*) decrypts it, and
    every reveal is audited.  The company's own accounts (journals) are not concerned.

    People never change a supplier's bank details directly: they file a bank change
    request (``hc.bank.change.request``) that an AP manager approves, and the approval
    applies it as the system.
    """

    _inherit = "res.partner.bank"

    hc_protected = fields.Boolean(
        string="Encrypted",
        readonly=True,
        copy=False,
        index=True,
        help="The account's details are encrypted; the number shown is masked.",
    )
    hc_secret = fields.Text(
        string="Encrypted details",
        readonly=True,
        copy=False,
        prefetch=False,
        groups="base.group_system",
        hc_encrypted=True,
        help="Fernet token of the account number, routing number, BIC and holder.",
    )
    hc_routing_masked = fields.Char(string="Routing number", readonly=True, copy=False)
    hc_bic_masked = fields.Char(string="BIC / SWIFT", readonly=True, copy=False)

    # -- keys and values ------------------------------------------------------------

    @api.model
    def _hc_fingerprints(self, number):
        """Fingerprints of ``number`` under every configured key ([] without a key)."""
        try:
            return self.env["hc.vault"]._fingerprints(number)
        except crypto.KeyMissingError:
            return []

    @api.model
    def _hc_clean_details(self, details):
        clean = {
            "acc_number": crypto.sanitize_account(details.get("acc_number") or details.get("iban")),
            "routing_number": crypto.sanitize_account(details.get("routing_number")),
            "bic": crypto.sanitize_account(details.get("bic")),
            "holder_name": (details.get("holder_name") or "").strip(),
        }
        if not clean["acc_number"]:
            raise UserError(self.env._("A bank account needs an account number or IBAN."))
        return clean

    @api.model
    def _hc_masked(self, details):
        """One line describing ``details`` without disclosing them."""
        parts = [crypto.mask_account(details.get("acc_number"))]
        if details.get("routing_number"):
            parts.append(self.env._("routing %s", crypto.mask_account(details["routing_number"])))
        if details.get("bic"):
            parts.append(self.env._("BIC %s", crypto.mask(details["bic"])))
        return ", ".join(parts)

    @api.model
    def _hc_vals_from_details(self, details):
        """Column values for ``details`` (clear): masked, fingerprinted and encrypted.

        Refuses (``UserError``) without an encryption key: never stored in clear.
        """
        details = self._hc_clean_details(details)
        vault = self.env["hc.vault"]
        try:
            secret = vault._encrypt_json(self, "hc_secret", details)
            fingerprint = vault._fingerprint(details["acc_number"])
        except crypto.KeyMissingError as exc:
            raise UserError(self.env._("Bank details cannot be stored: %s", str(exc))) from exc
        vals = {
            "acc_number": crypto.mask_account(details["acc_number"]),
            "sanitized_acc_number": fingerprint,
            "hc_secret": secret,
            "hc_protected": True,
            "hc_routing_masked": crypto.mask_account(details["routing_number"]) or False,
            "hc_bic_masked": crypto.mask(details["bic"]) or False,
        }
        if details["holder_name"]:
            # The holder is in the token; the column keeps it masked like the number.
            vals["acc_holder_name"] = crypto.mask_name(details["holder_name"])
        return vals

    @api.model
    def _hc_is_protected_partner(self, partner):
        """Whether ``partner``'s accounts are protected: anyone but our own companies."""
        if not partner:
            return False
        company_partners = self.env["res.company"].sudo().with_context(active_test=False)
        company_partners = company_partners.search([]).partner_id
        return partner.commercial_partner_id not in company_partners

    def _hc_decrypt(self):
        """The clear details of this account (internal: callers check the privilege)."""
        self.ensure_one()
        if not self.hc_protected:
            return {"acc_number": self.acc_number or "", "routing_number": "", "bic": ""}
        try:
            return (
                self.env["hc.vault"]._decrypt_json(self, "hc_secret", self.sudo().hc_secret) or {}
            )
        except (crypto.KeyMissingError, crypto.DecryptionError) as exc:
            raise UserError(self.env._("Bank details cannot be decrypted: %s", str(exc))) from exc

    # -- ORM ------------------------------------------------------------------------------

    def _hc_guard(self, partner_ids):
        """Refuse a person's direct change of a supplier's bank details."""
        if self.env.su:
            return
        partners = self.env["res.partner"].sudo().browse(partner_ids)
        if any(self._hc_is_protected_partner(p) for p in partners):
            raise UserError(
                self.env._(
                    "Supplier bank details are changed through a bank change request that an "
                    "AP manager approves (vendor form > Bank changes, or Procure-to-Pay Hub > "
                    "Operations > Bank change requests), never directly."
                )
            )

    def _hc_protect(self, vals, partner):
        """Turn clear ``vals`` into encrypted ones for a protected ``partner`` (system)."""
        if not self._hc_is_protected_partner(partner):
            return vals
        if vals.get("hc_secret") or not vals.get("acc_number"):
            return vals  # already encrypted by _hc_vals_from_details
        vals = dict(vals)
        details = {"acc_number": vals["acc_number"]}
        if vals.get("acc_holder_name"):
            details["holder_name"] = vals["acc_holder_name"]
        vals.update(self._hc_vals_from_details(details))
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        self._hc_guard([vals.get("partner_id") for vals in vals_list if vals.get("partner_id")])
        Partner = self.env["res.partner"].sudo()
        vals_list = [
            self._hc_protect(vals, Partner.browse(vals.get("partner_id"))) for vals in vals_list
        ]
        return super().create(vals_list)

    def write(self, vals):
        if BANK_FIELDS & set(vals):
            partner_ids = set(self.partner_id.ids)
            if vals.get("partner_id"):
                partner_ids.add(vals["partner_id"])
            self._hc_guard(list(partner_ids))
            if vals.get("acc_number") and not vals.get("hc_secret"):
                for account in self:
                    partner = (
                        self.env["res.partner"]
                        .sudo()
                        .browse(vals.get("partner_id") or account.partner_id.id)
                    )
                    super(ResPartnerBank, account).write(account._hc_protect(vals, partner))
                return True
        return super().write(vals)

    def _sanitize_vals(self, vals):
        if vals.get("hc_secret") and vals.get("sanitized_acc_number"):
            # The fingerprint stands in for the sanitized number: keep it.
            fingerprint = vals.pop("sanitized_acc_number")
            super()._sanitize_vals(vals)
            vals["sanitized_acc_number"] = fingerprint
            return
        super()._sanitize_vals(vals)

    @api.depends("acc_number")
    def _compute_sanitized_acc_number(self):
        protected = self.filtered(lambda b: b.hc_protected and b.sudo().hc_secret)
        for bank in protected:
            details = bank._hc_decrypt()
            bank.sanitized_acc_number = self.env["hc.vault"]._fingerprint(details.get("acc_number"))
        return super(ResPartnerBank, self - protected)._compute_sanitized_acc_number()

    @api.model
    def _hc_may_compare_numbers(self):
        """Whether this environment may look accounts up by their clear number: the
        system (de-duplication, bank change requests) and *Bank details (unmasked)*."""
        return self.env.su or self.env.user.has_group(UNMASKED_GROUP)

    def _search_acc_number(self, operator, value):
        """Equality searches find encrypted accounts through their fingerprints, for the
        system and the group *Bank details (unmasked)* only: for anyone else a search by
        number would be an oracle on numbers they only see masked (security review F8),
        so it compares the stored columns alone (masked numbers, fingerprints)."""
        domain = super()._search_acc_number(operator, value)
        if operator not in ("=", "in", "!=", "not in"):
            return domain  # partial numbers cannot match a fingerprint: masked by design
        if not self._hc_may_compare_numbers():
            return domain
        values = value if operator in ("in", "not in") else [value]
        prints = [fp for v in values if v for fp in self._hc_fingerprints(v)]
        if not prints:
            return domain
        if operator in ("=", "in"):
            return ["|", *domain, ("sanitized_acc_number", "in", prints)]
        return ["&", *domain, ("sanitized_acc_number", "not in", prints)]

    @api.depends("acc_number")
    def _compute_duplicate_bank_partner_ids(self):
        # Masked numbers collide (same last digits): compare fingerprints instead.
        protected = self.filtered(lambda b: b.hc_protected and b._origin.id)
        super(ResPartnerBank, self - protected)._compute_duplicate_bank_partner_ids()
        if not protected:
            return
        rows = self.env.execute_query(
            SQL(
                """SELECT this.id, ARRAY_AGG(other.partner_id)
                     FROM res_partner_bank this
                     JOIN res_partner_bank other
                       ON other.sanitized_acc_number = this.sanitized_acc_number
                      AND other.id != this.id AND other.active
                      AND other.partner_id != this.partner_id
                    WHERE this.id = ANY(%s)
                 GROUP BY this.id""",
                protected._origin.ids,
            )
        )
        found = dict(rows)
        for bank in protected:
            bank.duplicate_bank_partner_ids = self.env["res.partner"].browse(
                found.get(bank._origin.id) or []
            )

    # -- reveal and key rotation ------------------------------------------------------------

    def _hc_reveal(self):
        """The clear details, for the group *Bank details (unmasked)* only; audited."""
        self.ensure_one()
        if not self.env.user.has_group(UNMASKED_GROUP):
            raise AccessError(
                self.env._("Only the group 'Bank details (unmasked)' may see bank details.")
            )
        self.check_access("read")
        details = self._hc_decrypt()
        self.env["hc.audit.log"]._log(
            "bank_details_revealed",
            self,
            data={"partner": self.partner_id.id, "masked": self.acc_number},
        )
        return details

    def action_hc_reveal(self):
        details = self._hc_reveal()
        lines = [
            self.env._("Account: %s", details.get("acc_number") or ""),
        ]
        if details.get("routing_number"):
            lines.append(self.env._("Routing: %s", details["routing_number"]))
        if details.get("bic"):
            lines.append(self.env._("BIC: %s", details["bic"]))
        if details.get("holder_name"):
            lines.append(self.env._("Holder: %s", details["holder_name"]))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Bank details of %s", self.partner_id.display_name),
                "message": " | ".join(lines),
                "type": "warning",
                "sticky": False,
            },
        }

    @api.model
    def _hc_mask_clear_holders(self):
        """Protected accounts whose holder name is still in clear in its column (stored
        before holder names were masked): the name goes into the encrypted details (when
        the token lacks it) and the column is masked.  Run by the upgrade to 19.0.1.0.1
        and by every key rotation; returns how many were masked."""
        vault = self.env["hc.vault"]
        banks = (
            self.sudo()
            .with_context(active_test=False)
            .search([("hc_protected", "=", True), ("acc_holder_name", "!=", False)])
        )
        count = 0
        for bank in banks:
            if "•••" in bank.acc_holder_name:
                continue
            details = vault._decrypt_json(bank, "hc_secret", bank.hc_secret) or {}
            if not details.get("holder_name"):
                details["holder_name"] = bank.acc_holder_name
            super(ResPartnerBank, bank).write(self._hc_vals_from_details(details))
            count += 1
        return count

    @api.model
    def _hc_keys_rotated(self, keys):
        """After ``hc.vault._rotate_keys`` re-encrypted ``hc_secret``: the fingerprints
        under the newest key, and supplier accounts stored in clear before this module
        (or without it) encrypted on the way.  Returns the counts."""
        vault = self.env["hc.vault"]
        banks = self.sudo().with_context(active_test=False)
        counts = {
            "bank fingerprints recomputed": 0,
            "clear bank accounts encrypted": 0,
            "clear holder names masked": self._hc_mask_clear_holders(),
        }
        for bank in banks.search([("hc_protected", "=", True)]):
            details = vault._decrypt_json(bank, "hc_secret", bank.hc_secret) or {}
            super(ResPartnerBank, bank).write(
                {"sanitized_acc_number": vault._fingerprint(details.get("acc_number"))}
            )
            counts["bank fingerprints recomputed"] += 1
        for bank in banks.search([("hc_protected", "=", False)]):
            if bank.acc_number and self._hc_is_protected_partner(bank.partner_id):
                vals = self._hc_vals_from_details(
                    {"acc_number": bank.acc_number, "holder_name": bank.acc_holder_name}
                )
                super(ResPartnerBank, bank).write(vals)
                counts["clear bank accounts encrypted"] += 1
        return counts
