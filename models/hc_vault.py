import base64
import logging

from odoo import api
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools import config

from ..trust import crypto

_logger = logging.getLogger(__name__)

# A field stores ciphertext only if it is declared with this parameter (see models/base.py):
#   hc_encrypted=True            every non-empty value is a Fernet token;
#   hc_encrypted="<flag field>"  the rows whose boolean <flag field> is set hold a token.
# A Binary field (attachment=False) holds the base64 of the token, a Char/Text the token.
FIELD_PARAMETER = "hc_encrypted"
ROTATION_BATCH = 500


class HcVault(models.AbstractModel):
    """The one owner of the encryption keys of secrets at rest.

    The keys come from the server configuration (``hc_p2p_encryption_keys``, newest
    first; see :mod:`..trust.crypto`), never from the database.  Every model that
    stores ciphertext declares the field with ``hc_encrypted`` and encrypts and decrypts
    through this model, which refuses a field that is not declared: so
    :meth:`_encrypted_fields` lists every encrypted column, and :meth:`_rotate_keys`
    re-encrypts all of them (bank accounts, bank change requests, connector signing
    secrets, outbound endpoint secrets, inbox payloads with bank details).  A model whose
    key-derived values must follow a rotation (keyed fingerprints) implements
    ``_hc_keys_rotated(keys)``.
    """

    _name = "hc.vault"
    _description = "Encryption keys of secrets at rest"

    # -- keys -----------------------------------------------------------------------------

    @api.model
    def _keys(self):
        """The configured keys, newest first ([] when none is configured)."""
        return crypto.keys_from_config(config)

    @api.model
    def _declared(self, records, fname):
        field = records._fields[fname]
        if not getattr(field, FIELD_PARAMETER, False):
            raise RuntimeError(
                f"{records._name}.{fname} stores ciphertext but is not declared "
                f"{FIELD_PARAMETER}=...: key rotation would not visit it"
            )
        return field

    # -- encryption of declared fields ----------------------------------------------------

    @api.model
    def _encrypt(self, records, fname, clear):
        """The token to store in ``records``' field ``fname`` (a declared field).

        :raises crypto.KeyMissingError: no key configured (never stored in clear)
        """
        self._declared(records, fname)
        return crypto.encrypt(self._keys(), clear)

    @api.model
    def _decrypt(self, records, fname, token):
        """The clear text of a token read from ``records``' field ``fname``.

        :raises crypto.KeyMissingError, crypto.DecryptionError:
        """
        self._declared(records, fname)
        return crypto.decrypt(self._keys(), token)

    @api.model
    def _encrypt_json(self, records, fname, value):
        self._declared(records, fname)
        return crypto.encrypt_json(self._keys(), value)

    @api.model
    def _decrypt_json(self, records, fname, token):
        self._declared(records, fname)
        return crypto.decrypt_json(self._keys(), token)

    # -- keyed fingerprints (recomputed by the models' _hc_keys_rotated) -------------------

    @api.model
    def _fingerprint(self, value):
        """The fingerprint of an account number under the newest key."""
        return crypto.fingerprint(self._keys(), value)

    @api.model
    def _fingerprints(self, value):
        """Its fingerprints under every configured key (a search matches any)."""
        return crypto.fingerprints(self._keys(), value)

    # -- the registry and the rotation ----------------------------------------------------

    @api.model
    def _encrypted_fields(self):
        """``[(model name, field name, flag field or None)]`` of every stored field
        declared ``hc_encrypted``, in every installed model."""
        found = []
        for model_name in sorted(self.env.registry):
            model = self.env[model_name]
            if model._abstract or not model._auto:
                continue
            for fname, field in sorted(model._fields.items()):
                declared = getattr(field, FIELD_PARAMETER, False)
                if not declared or not field.store or field.related or field.inherited:
                    continue
                if field.type not in ("char", "text", "binary") or getattr(
                    field, "attachment", False
                ):
                    raise RuntimeError(
                        f"{model_name}.{fname}: only Char, Text and Binary(attachment=False) "
                        "fields can be declared hc_encrypted"
                    )
                found.append((model_name, fname, declared if isinstance(declared, str) else None))
        return found

    @api.model
    def _tokens(self, model_name, fname, flag):
        """``(id, token)`` of every row holding a token in that column, in batches."""
        model = self.env[model_name]
        field = model._fields[fname]
        condition = SQL("%s IS NOT NULL", SQL.identifier(fname))
        if flag:
            condition = SQL("%s AND %s", condition, SQL.identifier(flag))
        last = 0
        while True:
            self.env.cr.execute(
                SQL(
                    "SELECT id, %s FROM %s WHERE %s AND id > %s ORDER BY id LIMIT %s",
                    SQL.identifier(fname),
                    SQL.identifier(model._table),
                    condition,
                    last,
                    ROTATION_BATCH,
                )
            )
            rows = self.env.cr.fetchall()
            if not rows:
                return
            for rid, value in rows:
                if field.type == "binary":
                    value = base64.b64decode(bytes(value)).decode() if value else ""
                if value:
                    yield rid, value
            last = rows[-1][0]

    @api.model
    def _store_token(self, model_name, fname, rid, token):
        """Write a re-encrypted token in place: the same secret, so no business write
        (no write date, no guard of the model, no recomputation)."""
        model = self.env[model_name]
        value = token
        if model._fields[fname].type == "binary":
            value = base64.b64encode(token.encode())
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s = %s WHERE id = %s",
                SQL.identifier(model._table),
                SQL.identifier(fname),
                value,
                rid,
            )
        )

    @api.model
    def _rotate_keys(self):
        """Re-encrypt every declared encrypted column under the newest key.

        After prepending a new key to ``hc_p2p_encryption_keys`` (and restarting), run
        this (Settings > Technical, or ``env['hc.vault']._rotate_keys()`` in ``odoo shell``,
        then commit); afterwards the old key can be dropped.  A token that decrypts with
        none of the configured keys fails the rotation (a UserError: the transaction is
        rolled back) and its column and row are named: nothing is lost silently.

        :return: ``{"columns": {"model.field": tokens re-encrypted}, "derived": {what the
            models' ``_hc_keys_rotated`` hooks recomputed: count}}``
        """
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(self.env._("Only an administrator may rotate encryption keys."))
        keys = self._keys()
        try:
            crypto.cipher(keys)
        except crypto.KeyMissingError as exc:
            raise UserError(str(exc)) from exc
        self.env.flush_all()
        fields_ = self._encrypted_fields()
        counts = {f"{model_name}.{fname}": 0 for model_name, fname, _flag in fields_}
        broken = []
        for model_name, fname, flag in fields_:
            for rid, token in self._tokens(model_name, fname, flag):
                try:
                    rotated = crypto.rotate(keys, token)
                except crypto.DecryptionError:
                    broken.append(f"{model_name}.{fname} #{rid}")
                    continue
                self._store_token(model_name, fname, rid, rotated)
                counts[f"{model_name}.{fname}"] += 1
        if broken:
            # the transaction is rolled back: nothing was rewritten
            raise UserError(
                self.env._(
                    "Nothing was re-encrypted: %(count)s stored secrets do not decrypt with "
                    "the configured keys (was a key dropped too early?): %(where)s",
                    count=len(broken),
                    where=", ".join(broken[:20]) + (" ..." if len(broken) > 20 else ""),
                )
            )
        derived = {}
        for model_name in dict.fromkeys(m for m, _f, _flag in fields_):
            self.env[model_name].invalidate_model()
            hook = getattr(self.env[model_name].sudo(), "_hc_keys_rotated", None)
            if hook:
                derived.update(hook(keys) or {})
        counts = {"columns": counts, "derived": derived}
        # decrypted secrets cached per worker (connector signing secrets) are read again
        self.env.registry.clear_cache()
        self.env["hc.audit.log"]._log("encryption_keys_rotated", data=counts)
        _logger.info("Encryption keys rotated: %s", counts)
        return counts

    @api.model
    def _key_report(self):
        """``{"model.field": {"newest": n, "older": n, "undecryptable": n}}``: what an
        administrator checks before dropping an old key (``older`` must be 0 everywhere)."""
        keys = self._keys()
        report = {}
        for model_name, fname, flag in self._encrypted_fields():
            row = report[f"{model_name}.{fname}"] = {"newest": 0, "older": 0, "undecryptable": 0}
            for _rid, token in self._tokens(model_name, fname, flag):
                for index, key in enumerate(keys):
                    try:
                        crypto.decrypt([key], token)
                    except crypto.DecryptionError:
                        continue
                    row["newest" if index == 0 else "older"] += 1
                    break
                else:
                    row["undecryptable"] += 1
        return report
