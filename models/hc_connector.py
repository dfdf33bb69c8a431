import contextlib
import contextvars
import hashlib
import logging
import time
from datetime import timedelta

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError

from ..api_contract import rate_limit
from ..api_contract import signature

_logger = logging.getLogger(__name__)

API_KEY_SCOPE = "hc_p2p"
AUTH_CACHE_SECONDS = 60
CONNECTOR_GROUP = "healthcare_p2p_integration.group_hc_connector"
# Set in-process by the connector's own management of its technical user (never from a
# request, unlike a context key): the only code that links a user to a connector or
# changes a technical user's groups, companies or login (security review F6).
_TECHNICAL_USER_WRITE = contextvars.ContextVar("hc_connector_technical_user", default=False)


@contextlib.contextmanager
def managing_technical_user():
    token = _TECHNICAL_USER_WRITE.set(True)
    try:
        yield
    finally:
        _TECHNICAL_USER_WRITE.reset(token)


def technical_user_write_allowed():
    return _TECHNICAL_USER_WRITE.get()


class HcConnector(models.Model):
    """An external system allowed to post documents: the connector registry.

    Each connector authenticates as its own technical Odoo user with an Odoo API key
    restricted to this module's scope (``hc_p2p``), so a leaked key opens no other API.
    The registry documents what an auditor asks about an interface: purpose, source and
    target, data classification, owner, escalation path and retry policy.
    """

    _name = "hc.connector"
    _description = "Integration connector"
    _inherit = ["mail.thread"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short technical code, also the source system key of identifier crosswalks.",
    )
    active = fields.Boolean(default=True, tracking=True)
    purpose = fields.Text()
    source_system = fields.Char(help="The external system that sends (e.g. 'GHX EDI').")
    target_system = fields.Char(
        default="Odoo", help="What the documents feed (purchase, stock, accounting)."
    )
    data_classification = fields.Selection(
        [
            ("public", "Public"),
            ("internal", "Internal"),
            ("confidential", "Confidential (financial)"),
            ("restricted", "Restricted (bank details, PHI)"),
        ],
        default="confidential",
        required=True,
        tracking=True,
    )
    owner_id = fields.Many2one(
        "res.users", string="Business owner", tracking=True, default=lambda s: s.env.user
    )
    escalation_contact = fields.Char(help="Who to call when the interface is down.")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, tracking=True
    )
    allowed_company_ids = fields.Many2many(
        "res.company",
        string="Allowed companies",
        help="Companies (facilities) this connector may post documents for. "
        "Empty means only its own company.",
    )
    allowed_doc_type_ids = fields.Many2many("hc.document.type", string="Allowed document types")
    route_ids = fields.One2many("hc.connector.route", "connector_id", string="Lane overrides")
    user_id = fields.Many2one(
        "res.users",
        string="Technical user",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="The Odoo user this connector authenticates as (least privilege).",
    )
    max_attempts = fields.Integer(default=5, tracking=True)
    backoff_base_seconds = fields.Integer(string="Backoff base (s)", default=30)
    backoff_max_seconds = fields.Integer(string="Backoff cap (s)", default=3600)
    max_batch_documents = fields.Integer(
        default=1000, help="Largest number of documents accepted in one batch request."
    )
    max_payload_bytes = fields.Integer(
        default=20 * 1024 * 1024, help="Largest request body accepted (HTTP 413 above)."
    )
    key_ids = fields.One2many("res.users.apikeys", compute="_compute_key_ids", string="API keys")
    key_count = fields.Integer(compute="_compute_key_ids")
    message_ids_count = fields.Integer(compute="_compute_message_count")

    _code_unique = models.Constraint("UNIQUE(code)", "Connector codes must be unique.")
    _attempts_positive = models.Constraint(
        "CHECK(max_attempts >= 1)", "A connector needs at least one attempt."
    )

    @api.constrains("backoff_base_seconds", "backoff_max_seconds")
    def _check_backoff(self):
        for connector in self:
            if connector.backoff_base_seconds < 1 or (
                connector.backoff_max_seconds < connector.backoff_base_seconds
            ):
                raise ValidationError(
                    self.env._("The backoff cap must be at least the (positive) backoff base.")
                )

    def _compute_key_ids(self):
        keys = self.env["res.users.apikeys"].sudo()
        for connector in self:
            connector.key_ids = (
                keys.search([("user_id", "=", connector.user_id.id), ("scope", "=", API_KEY_SCOPE)])
                if connector.user_id
                else keys
            )
            connector.key_count = len(connector.key_ids)

    def _compute_message_count(self):
        counts = dict(
            self.env["hc.inbox.message"]._read_group(
                [("connector_id", "in", self.ids)], ["connector_id"], ["__count"]
            )
        )
        for connector in self:
            connector.message_ids_count = counts.get(connector, 0)

    # -- scopes ---------------------------------------------------------------------

    @tools.ormcache("self.id")
    def _scope(self):
        """``(allowed doc type codes, allowed company ids, {doc type id: lane id})``.

        Read on every POST, so cached per worker; any change to connectors, their lane
        overrides, document types or lanes clears Odoo's registry cache on all workers.
        """
        connector = self.sudo()
        doc_types = self.env["hc.document.type"].sudo().search([])
        overrides = {route.doc_type_id.id: route.lane_id.id for route in connector.route_ids}
        lanes = {dt.id: overrides.get(dt.id, dt.default_lane_id.id) for dt in doc_types}
        companies = connector.allowed_company_ids or connector.company_id
        return (
            frozenset(connector.allowed_doc_type_ids.mapped("code")),
            tuple(companies.ids),
            tuple(lanes.items()),
        )

    @tools.ormcache("self.id")
    def _api_profile(self):
        """``(technical user id, default company id, max payload bytes, max batch)``.

        What the API needs of the connector on every POST, cached like :meth:`_scope`.
        """
        connector = self.sudo()
        return (
            connector.user_id.id,
            connector.company_id.id,
            connector.max_payload_bytes,
            connector.max_batch_documents,
        )

    def _allowed_companies(self):
        self.ensure_one()
        return self.env["res.company"].browse(self._scope()[1])

    def _is_doc_type_allowed(self, doc_type_code):
        self.ensure_one()
        return doc_type_code in self._scope()[0]

    def _lane_for(self, doc_type):
        """The lane a document type is processed on for this connector."""
        self.ensure_one()
        return self.env["hc.lane"].browse(dict(self._scope()[2])[doc_type.id])

    # -- technical user and credentials -----------------------------------------------

    def _technical_user_vals(self):
        """What a connector's technical user is: the connector group only (no internal
        user, no other right) in exactly the companies the connector may post for."""
        self.ensure_one()
        companies = self._allowed_companies() | self.company_id
        return {
            "company_id": self.company_id.id,
            "company_ids": [Command.set(companies.ids)],
            "group_ids": [
                Command.set([self.env.ref("healthcare_p2p_integration.group_hc_connector").id])
            ],
        }

    def _ensure_technical_user(self):
        """The connector's technical user, created by the connector on first use.

        Posting needs no access right of its own (the API stores the document as the
        system, processing runs in the lane crons), so the user holds the connector group
        alone.  The connector only ever creates its user: it never binds to an existing
        one, and a linked user that is not a technical user (it holds any other group, or
        is an internal user) is refused, never converted: a connector cannot capture a
        person's account (security review F6).  Companies follow the connector's.
        """
        self.ensure_one()
        Users = self.env["res.users"].sudo().with_context(no_reset_password=True)
        if self.user_id:
            user = self.user_id.sudo()
            self._check_technical_user(user)
            if user.company_ids != (self._allowed_companies() | self.company_id):
                with managing_technical_user():
                    user.write(self._technical_user_vals())
            return self.user_id
        with managing_technical_user():
            user = Users.create(
                dict(
                    self._technical_user_vals(),
                    name=self.env._("Connector: %s", self.name),
                    login=self._technical_login(),
                )
            )
            self.sudo().user_id = user
        return user

    def _technical_login(self):
        """A login no person has: a clash means it is taken, and is never reused."""
        login = f"hc_connector_{self.code}"
        Users = self.env["res.users"].sudo().with_context(active_test=False)
        if Users.search_count([("login", "=", login)]):
            raise UserError(
                self.env._(
                    "The login %(login)s of connector %(connector)s's technical user is "
                    "already taken: a connector never uses an existing user. Change the "
                    "connector's code.",
                    login=login,
                    connector=self.name,
                )
            )
        return login

    @api.model
    def _technical_groups(self):
        """What a technical user may hold: the connector group, and the multi-company
        flag Odoo itself sets on a user of several companies."""
        return self.env.ref(CONNECTOR_GROUP) | self.env.ref("base.group_multi_company")

    def _check_technical_user(self, user):
        """Refuse a linked user that is not a technical user holding the connector group
        alone (data from before this check, or linked behind the ORM)."""
        if user.all_group_ids - self._technical_groups() or not user.share:
            raise UserError(
                self.env._(
                    "Connector %(connector)s is linked to %(user)s, who is not its technical "
                    "user (other groups or an internal user): no key is issued and nothing "
                    "is changed on that account. Archive this connector and create a new "
                    "one; it makes its own technical user.",
                    connector=self.name,
                    user=user.display_name,
                )
            )

    def _generate_api_key(self, expiration_days=365, overlap_hours=24):
        """Issue a new API key and let the current ones expire after an overlap window.

        The overlap lets the external system switch to the new key without downtime;
        the key is returned once and only its hash is stored (Odoo's API key store).
        """
        self.ensure_one()
        user = self._ensure_technical_user()
        apikeys = self.env["res.users.apikeys"].with_user(user).sudo()
        now = fields.Datetime.now()
        overlap_end = now + timedelta(hours=overlap_hours)
        if overlap_hours:
            self.env.cr.execute(
                """UPDATE res_users_apikeys SET expiration_date = %s
                   WHERE user_id = %s AND scope = %s
                     AND (expiration_date IS NULL OR expiration_date > %s)""",
                (overlap_end, user.id, API_KEY_SCOPE, overlap_end),
            )
        else:
            # No overlap: a revocation (a leaked key), effective at once.
            self.env.cr.execute(
                "DELETE FROM res_users_apikeys WHERE user_id = %s AND scope = %s",
                (user.id, API_KEY_SCOPE),
            )
        # Cached verifications (see _authenticate_cached) end here on every worker.
        self.env.registry.clear_cache()
        expiration = now + timedelta(days=expiration_days) if expiration_days else None
        key = apikeys._generate(
            API_KEY_SCOPE, f"{self.code} {fields.Datetime.to_string(now)}", expiration
        )
        self.message_post(
            body=self.env._(
                "API key rotated by %(user)s; previous keys expire at %(end)s UTC.",
                user=self.env.user.name,
                end=fields.Datetime.to_string(overlap_end),
            )
        )
        return key

    def action_rotate_key(self):
        self.ensure_one()
        if not self.env.user.has_group("healthcare_p2p_integration.group_hc_integration_admin"):
            raise UserError(self.env._("Only an integration administrator may issue API keys."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Issue an API key for %s", self.name),
            "res_model": "hc.connector.key.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_connector_id": self.id},
        }

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "healthcare_p2p_integration.action_hc_inbox_message"
        )
        action["domain"] = [("connector_id", "=", self.id)]
        return action

    @api.model
    def _authenticate(self, token):
        """Return the active connector whose technical user owns ``token``, or nothing."""
        if not token:
            return self.browse()
        digest = hashlib.sha256(token.encode()).hexdigest()
        connector_id, checked_at = self._authenticate_cached(digest, token)
        if connector_id and time.monotonic() - checked_at > AUTH_CACHE_SECONDS:
            # Expiry and deactivation are re-read from the database at least this often.
            self.env.registry.clear_cache()
            connector_id, _checked = self._authenticate_cached(digest, token)
        return self.sudo().browse(connector_id) if connector_id else self.browse()

    @tools.ormcache("digest")
    def _authenticate_cached(self, digest, token):
        """Verify a key once per worker: Odoo's key check costs a PBKDF2 hash (~5 ms).

        Cached by the key's SHA-256 in Odoo's registry cache, which every rotation,
        revocation or connector change clears on all workers and servers.  A miss is
        cached too; issuing a key clears the cache, so a new key works at once.
        """
        uid = (
            self.env["res.users.apikeys"].sudo()._check_credentials(scope=API_KEY_SCOPE, key=token)
        )
        if not uid:
            return (False, 0.0)
        connector = self.sudo().search([("user_id", "=", uid), ("active", "=", True)], limit=1)
        return (connector.id, time.monotonic())

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("user_id") for vals in vals_list):
            raise AccessError(
                self.env._(
                    "A connector makes its own technical user (when its first API key is "
                    "issued); it can never be linked to an existing user."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if "user_id" in vals and not technical_user_write_allowed():
            raise AccessError(
                self.env._(
                    "A connector's technical user is made by the connector and never "
                    "changed: it can never be linked to an existing user."
                )
            )
        if "signature_window_seconds" in vals:
            for connector in self:
                # Nonces already seen must be remembered for the whole (longer) window.
                self.env["hc.request.nonce"]._extend_window(
                    connector.id,
                    vals["signature_window_seconds"] - connector.signature_window_seconds,
                )
        res = super().write(vals)
        self.env.registry.clear_cache()  # scopes and activity change who may post
        if {"company_id", "allowed_company_ids"} & set(vals):
            # the technical user follows the connector's companies
            for connector in self.filtered("user_id"):
                connector._ensure_technical_user()
        return res

    # -- request security: signatures and rate limits -----------------------------------
    # (fields and methods of issue #7; the HTTP side is controllers/guard.py)

    require_signature = fields.Boolean(
        tracking=True,
        help="Every request must carry an HMAC-SHA256 signature (X-HC-Timestamp, "
        "X-HC-Nonce, X-HC-Signature) made with one of the connector's signing secrets.",
    )
    signature_window_seconds = fields.Integer(
        string="Signature window (s)",
        default=signature.DEFAULT_WINDOW_SECONDS,
        tracking=True,
        help="How far a request's timestamp may be from the server's clock, either way.",
    )
    rate_limit_per_second = fields.Float(
        string="Rate limit (requests/s)",
        default=0.0,
        tracking=True,
        help="Sustained requests per second (all endpoints); 0 means unlimited. Above it "
        "the API answers 429 with Retry-After.",
    )
    rate_limit_burst = fields.Integer(
        string="Burst",
        default=0,
        tracking=True,
        help="Requests allowed at once after a quiet period; 0 means one second's worth.",
    )
    secret_ids = fields.One2many("hc.connector.secret", "connector_id", string="Signing secrets")

    _signature_window_range = models.Constraint(
        "CHECK(signature_window_seconds BETWEEN 1 AND 3600)",
        "The signature window is between 1 second and 1 hour.",
    )
    _rate_limit_positive = models.Constraint(
        "CHECK(rate_limit_per_second >= 0 AND rate_limit_burst >= 0)",
        "Rate limits cannot be negative (0 means unlimited).",
    )

    @tools.ormcache("self.id")
    def _request_policy(self):
        """``(require_signature, window seconds, rate per second, burst)``, cached per worker.

        Read on every request; a change of the connector clears the cache everywhere.
        """
        connector = self.sudo()
        rate = connector.rate_limit_per_second or 0.0
        return (
            bool(connector.require_signature),
            connector.signature_window_seconds or signature.DEFAULT_WINDOW_SECONDS,
            rate,
            rate_limit.effective_burst(rate, connector.rate_limit_burst),
        )

    @tools.ormcache("self.id")
    def _signing_secrets_cached(self):
        return self.env["hc.connector.secret"]._valid_secrets(self.id)

    def _signing_secrets(self, now=None):
        """The clear secrets whose signatures are accepted now, newest first."""
        self.ensure_one()
        now = time.time() if now is None else now
        return [
            clear for clear, expiry in self._signing_secrets_cached() if not expiry or expiry > now
        ]

    def _request_writes(self):
        """Whether a request of this connector writes before it is answered: a signed
        request records its nonce (single use, in the request's transaction) and a
        rate-limited one takes a token from its bucket (on the primary).  The API serves
        the status reads of the others on a read replica (``readonly`` routes)."""
        self.ensure_one()
        required, _window, rate, _burst = self._request_policy()
        return required or not rate_limit.is_unlimited(rate)

    def _take_rate_token(self):
        """Count a request against the rate limit: None, or the Retry-After seconds."""
        self.ensure_one()
        _sig, _window, rate, burst = self._request_policy()
        if rate_limit.is_unlimited(rate):
            return None
        granted, retry_after = self.env["hc.rate.bucket"]._take(self.id, rate, burst)
        return None if granted else retry_after

    def _check_signature(self, method, target, headers, body, now=None):
        """Verify a request's signature when the connector requires one.

        :return: the :class:`~..api_contract.signature.Verified` result, or None when the
            connector does not require signatures
        :raises signature.SignatureError: with the stable API error code
        """
        self.ensure_one()
        required, window, _rate, _burst = self._request_policy()
        if not required:
            return None
        now = time.time() if now is None else now
        verified = signature.verify(
            self._signing_secrets(now), method, target, headers, body, now, window
        )
        if not self.env["hc.request.nonce"]._remember(
            self.id, verified.nonce, verified.timestamp, window
        ):
            raise signature.SignatureError(
                "nonce_reused",
                "This X-HC-Nonce was already used within the signature window; sign every "
                "request with a fresh nonce.",
            )
        return verified

    def _generate_signing_secret(self, overlap_hours=24):
        """Issue a new signing secret; the previous ones expire after ``overlap_hours``.

        :return: the clear secret (shown once; only its ciphertext is stored)
        """
        self.ensure_one()
        if overlap_hours < 0:
            raise UserError(self.env._("The overlap cannot be negative."))
        secret, clear, overlap_end = self.env["hc.connector.secret"]._issue(self, overlap_hours)
        self.message_post(
            body=self.env._(
                "Signing secret %(fingerprint)s issued by %(user)s; previous secrets expire "
                "at %(end)s UTC.",
                fingerprint=secret.fingerprint,
                user=self.env.user.name,
                end=fields.Datetime.to_string(overlap_end),
            )
        )
        self.env["hc.audit.log"]._log(
            "signing_secret_rotated",
            self,
            data={"fingerprint": secret.fingerprint, "overlap_hours": overlap_hours},
        )
        return clear

    def action_generate_signing_secret(self):
        self.ensure_one()
        if not self.env.user.has_group("healthcare_p2p_integration.group_hc_integration_admin"):
            raise UserError(
                self.env._("Only an integration administrator may issue signing secrets.")
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Issue a signing secret for %s", self.name),
            "res_model": "hc.connector.secret.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_connector_id": self.id},
        }
