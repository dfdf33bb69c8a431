import hashlib
import logging
import secrets as pysecrets
from datetime import UTC
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from ..trust import crypto

_logger = logging.getLogger(__name__)


class HcConnectorSecret(models.Model):
    """An HMAC signing secret of a connector, encrypted at rest.

    The clear secret is shown once when it is generated; the database holds only its
    Fernet ciphertext (keys in the server configuration, ``hc_p2p_encryption_keys``) and a
    fingerprint to tell secrets apart.  A rotation lets the previous secrets expire after
    an overlap window; an expired secret's ciphertext is erased.
    """

    _name = "hc.connector.secret"
    _description = "Connector signing secret"
    _order = "id desc"

    connector_id = fields.Many2one(
        "hc.connector", required=True, index=True, ondelete="cascade", readonly=True
    )
    name = fields.Char(readonly=True)
    fingerprint = fields.Char(
        readonly=True,
        help="First 12 hex digits of the secret's SHA-256: identifies it, reveals nothing.",
    )
    secret_encrypted = fields.Char(
        readonly=True, copy=False, groups="base.group_system", hc_encrypted=True
    )
    expires_at = fields.Datetime(
        readonly=True, help="Signatures made with this secret are refused from then on."
    )
    state = fields.Selection(
        [("active", "Active"), ("expiring", "Expiring (overlap)"), ("expired", "Expired")],
        compute="_compute_state",
    )

    @api.depends("expires_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for secret in self:
            if not secret.expires_at:
                secret.state = "active"
            elif secret.expires_at > now:
                secret.state = "expiring"
            else:
                secret.state = "expired"

    @api.model
    def _issue(self, connector, overlap_hours):
        """Create a new secret for ``connector``; return the clear text (show it once)."""
        clear = pysecrets.token_urlsafe(32)
        try:
            token = self.env["hc.vault"]._encrypt(self, "secret_encrypted", clear)
        except crypto.KeyMissingError as exc:
            raise UserError(
                self.env._(
                    "No encryption key is configured for secrets at rest: set "
                    "'hc_p2p_encryption_keys' in the Odoo server configuration first."
                )
            ) from exc
        now = fields.Datetime.now()
        overlap_end = now + timedelta(hours=overlap_hours)
        current = self.sudo().search(
            [
                ("connector_id", "=", connector.id),
                "|",
                ("expires_at", "=", False),
                ("expires_at", ">", overlap_end if overlap_hours else now),
            ]
        )
        if overlap_hours:
            current.write({"expires_at": overlap_end})
        else:
            # No overlap: a revocation (a leaked secret), effective at once.
            current.write({"expires_at": now, "secret_encrypted": False})
        secret = self.sudo().create(
            {
                "connector_id": connector.id,
                "name": self.env._("Secret of %s", fields.Datetime.to_string(now)),
                "fingerprint": hashlib.sha256(clear.encode()).hexdigest()[:12],
                "secret_encrypted": token,
            }
        )
        # Cached secrets (see hc.connector._signing_secrets) end here on every worker.
        self.env.registry.clear_cache()
        return secret, clear, overlap_end

    @api.model
    def _valid_secrets(self, connector_id):
        """``((clear secret, expiry timestamp or None), ...)`` newest first.

        A secret that does not decrypt (wrong or rotated-away key) is left out: the
        connector's signatures then fail closed, and the log says why (never the secret).
        """
        now = fields.Datetime.now()
        records = self.sudo().search(
            [
                ("connector_id", "=", connector_id),
                ("secret_encrypted", "!=", False),
                "|",
                ("expires_at", "=", False),
                ("expires_at", ">", now),
            ]
        )
        vault = self.env["hc.vault"]
        result = []
        for record in records:
            try:
                clear = vault._decrypt(record, "secret_encrypted", record.secret_encrypted)
            except (crypto.DecryptionError, crypto.KeyMissingError):
                _logger.warning(
                    "Signing secret %s of connector %s does not decrypt with the configured "
                    "keys (hc_p2p_encryption_keys); signatures made with it are refused.",
                    record.fingerprint,
                    connector_id,
                )
                continue
            expiry = record.expires_at
            result.append((clear, expiry.replace(tzinfo=UTC).timestamp() if expiry else None))
        return tuple(result)

    @api.autovacuum
    def _gc_erase_expired(self):
        """Erase the ciphertext of expired secrets (the row stays as history)."""
        expired = self.sudo().search(
            [("expires_at", "<=", fields.Datetime.now()), ("secret_encrypted", "!=", False)]
        )
        expired.write({"secret_encrypted": False})
