import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import api
from odoo import fields
from odoo import models
from odoo import tools
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError

from ..delivery import outbound
from ..trust import crypto

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
ADMIN_GROUP = "healthcare_p2p_integration.group_hc_integration_admin"


class HcOutboxEndpoint(models.Model):
    """Where a connector's external system receives outbound events, and how.

    One connector may have several endpoints (a supplier network for orders, an alerting
    hook for exceptions).  Each endpoint has its own signing secret (encrypted at rest with
    the server's Fernet keys, never shown again), timeout, retry policy and circuit
    breaker, whose state is kept here so every worker on every server shares it.
    """

    _name = "hc.outbox.endpoint"
    _description = "Outbound event endpoint"
    _order = "connector_id, name"

    name = fields.Char(required=True)
    connector_id = fields.Many2one("hc.connector", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(
        related="connector_id.company_id", store=True, index=True, string="Company"
    )
    active = fields.Boolean(default=True)
    environment = fields.Selection(
        [("production", "Production"), ("test", "Test")],
        default="production",
        required=True,
        help="A test trading-partner profile may only send to a test endpoint, a production "
        "profile only to a production one (checked when either is written, and at send).",
    )
    url = fields.Char(
        string="URL", required=True, help="Events are POSTed here; redirects are not followed."
    )
    allow_plain_http = fields.Boolean(
        string="Allow plain HTTP",
        help="Allow an http:// URL other than loopback (a private network). Events carry "
        "financial data: use https:// whenever the receiver supports it.",
    )
    event_type_ids = fields.Many2many(
        "hc.outbox.event.type", string="Subscribed events", required=True
    )
    timeout_seconds = fields.Float(
        string="Timeout (s)", default=10.0, help="Connect and read timeout of one attempt."
    )
    max_attempts = fields.Integer(default=8)
    backoff_base_seconds = fields.Integer(string="Backoff base (s)", default=30)
    backoff_max_seconds = fields.Integer(string="Backoff cap (s)", default=3600)
    breaker_threshold = fields.Integer(
        string="Open circuit after",
        default=5,
        help="Consecutive failures (5xx, timeouts, refused connections) that open the circuit.",
    )
    breaker_cooldown_seconds = fields.Integer(
        string="Circuit cool-down (s)",
        default=300,
        help="How long an open circuit holds events back before one probe is let through.",
    )
    circuit_state = fields.Selection(
        [(outbound.CLOSED, "Closed"), (outbound.OPEN, "Open"), (outbound.HALF_OPEN, "Half-open")],
        default=outbound.CLOSED,
        required=True,
        readonly=True,
        copy=False,
    )
    consecutive_failures = fields.Integer(readonly=True, copy=False)
    circuit_open_until = fields.Datetime(readonly=True, copy=False)
    circuit_opened_at = fields.Datetime(readonly=True, copy=False)
    probe_started_at = fields.Datetime(readonly=True, copy=False)
    last_success_at = fields.Datetime(readonly=True, copy=False)
    last_failure_at = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Char(readonly=True, copy=False)
    secret_encrypted = fields.Char(readonly=True, copy=False, groups=ADMIN_GROUP, hc_encrypted=True)
    previous_secret_encrypted = fields.Char(
        readonly=True, copy=False, groups=ADMIN_GROUP, hc_encrypted=True
    )
    previous_secret_expires_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="Until then events are signed with both the new and the previous secret.",
    )
    secret = fields.Char(
        string="Signing secret",
        compute="_compute_secret",
        inverse="_inverse_secret",
        groups=ADMIN_GROUP,
        help="Shared with the receiver, who verifies X-HC-Signature with it. Write-only: "
        "stored encrypted, never shown again.",
    )
    secret_set = fields.Boolean(compute="_compute_secret_set", string="Secret set")
    pending_count = fields.Integer(compute="_compute_counts")
    dead_count = fields.Integer(compute="_compute_counts")

    _timeout_range = models.Constraint(
        "CHECK(timeout_seconds > 0 AND timeout_seconds <= 120)",
        "The timeout must be between 0 and 120 seconds.",
    )
    _attempts_positive = models.Constraint(
        "CHECK(max_attempts >= 1)", "An endpoint needs at least one attempt."
    )
    _breaker_positive = models.Constraint(
        "CHECK(breaker_threshold >= 1 AND breaker_cooldown_seconds >= 1)",
        "The circuit breaker needs a positive threshold and cool-down.",
    )

    # -- validation -------------------------------------------------------------------

    @api.constrains("url", "allow_plain_http")
    def _check_url(self):
        for endpoint in self:
            parts = urlsplit(endpoint.url or "")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValidationError(self.env._("%s is not an http(s) URL.", endpoint.url or "''"))
            if (
                parts.scheme == "http"
                and parts.hostname not in LOOPBACK_HOSTS
                and not endpoint.allow_plain_http
            ):
                raise ValidationError(
                    self.env._(
                        "%s is plain HTTP: use https://, or tick 'Allow plain HTTP' for a "
                        "private network.",
                        endpoint.url,
                    )
                )

    @api.constrains("environment")
    def _check_environment_profiles(self):
        profiles = (
            self.env["hc.trading.partner"]
            .sudo()
            .with_context(active_test=False)
            .search([("endpoint_id", "in", self.ids)])
        )
        for profile in profiles:
            profile._refuse_environment_mismatch(profile.endpoint_id)

    @api.constrains("backoff_base_seconds", "backoff_max_seconds")
    def _check_backoff(self):
        for endpoint in self:
            if endpoint.backoff_base_seconds < 1 or (
                endpoint.backoff_max_seconds < endpoint.backoff_base_seconds
            ):
                raise ValidationError(
                    self.env._("The backoff cap must be at least the (positive) backoff base.")
                )

    @api.constrains("active", "secret_encrypted")
    def _check_secret(self):
        for endpoint in self.sudo():
            if endpoint.active and not endpoint.secret_encrypted:
                raise ValidationError(
                    self.env._(
                        "Endpoint %s needs a signing secret: receivers verify every event with it.",
                        endpoint.name,
                    )
                )

    # -- secret (write-only, encrypted at rest) ----------------------------------------

    def _compute_secret(self):
        for endpoint in self:
            endpoint.secret = False  # write-only

    def _inverse_secret(self):
        # create() and write() encrypt the secret before the constraints run; this
        # covers any other path that assigns the field
        for endpoint in self:
            if endpoint.secret:
                endpoint.write({"secret": endpoint.secret})

    def _encrypt_secret_vals(self, vals, previous=None):
        """Replace a clear ``secret`` in ``vals`` by its encrypted form (and rotate)."""
        if "secret" not in vals:
            return vals
        vals = dict(vals)
        value = vals.pop("secret")
        if not value:
            return vals
        if len(value) < 16:
            raise ValidationError(self.env._("A signing secret needs at least 16 characters."))
        try:
            vals["secret_encrypted"] = self.env["hc.vault"]._encrypt(
                self, "secret_encrypted", value
            )
        except crypto.KeyMissingError as exc:
            raise UserError(str(exc)) from exc
        if previous:
            # Rotation: the receiver accepts either secret during the overlap.
            vals["previous_secret_encrypted"] = previous
            vals["previous_secret_expires_at"] = fields.Datetime.now() + timedelta(hours=24)
        return vals

    @api.depends("secret_encrypted")
    def _compute_secret_set(self):
        for endpoint in self:
            endpoint.secret_set = bool(endpoint.sudo().secret_encrypted)

    def _signing_secrets(self):
        """The secrets to sign with, current first (plus the previous one while it lasts).

        :raises crypto.KeyMissingError, crypto.DecryptionError: server keys missing/wrong
        """
        self.ensure_one()
        endpoint = self.sudo()
        vault = self.env["hc.vault"]
        found = [vault._decrypt(endpoint, "secret_encrypted", endpoint.secret_encrypted)]
        if endpoint.previous_secret_encrypted and (
            endpoint.previous_secret_expires_at
            and endpoint.previous_secret_expires_at > fields.Datetime.now()
        ):
            found.append(
                vault._decrypt(
                    endpoint, "previous_secret_encrypted", endpoint.previous_secret_encrypted
                )
            )
        return [s for s in found if s]

    def action_generate_secret(self):
        """Set a random secret and show it once (to hand to the receiver's team)."""
        self.ensure_one()
        if not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(self.env._("Only an integration administrator may set secrets."))
        value = secrets.token_urlsafe(32)
        self.secret = value  # audit-logged by write()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("New signing secret (shown once)"),
                "message": value,
                "sticky": True,
                "type": "warning",
            },
        }

    # -- subscriptions (hot path of every emitter) --------------------------------------

    @tools.ormcache()
    def _subscriptions(self):
        """``{event type code: ((endpoint id, connector id, frozenset(company ids)), ...)}``.

        Read by every emitter (a PO confirmation, each exception, each match): cached per
        worker so that nothing is queried when no endpoint subscribes; any change to
        endpoints, event types or connectors clears Odoo's registry cache everywhere.
        """
        endpoints = (
            self.sudo().with_context(active_test=True).search([("connector_id.active", "=", True)])
        )
        found = {}
        for endpoint in endpoints:
            connector = endpoint.connector_id
            companies = frozenset((connector.allowed_company_ids or connector.company_id).ids)
            for event_type in endpoint.event_type_ids:
                found.setdefault(event_type.code, []).append((endpoint.id, connector.id, companies))
        return {code: tuple(targets) for code, targets in found.items()}

    @api.model_create_multi
    def create(self, vals_list):
        endpoints = super().create([self._encrypt_secret_vals(vals) for vals in vals_list])
        self.env.registry.clear_cache()
        return endpoints

    def write(self, vals):
        if vals.get("secret"):
            res = True
            for endpoint in self:
                res &= super(HcOutboxEndpoint, endpoint).write(
                    endpoint._encrypt_secret_vals(vals, endpoint.sudo().secret_encrypted)
                )
                # who rotated a signing secret, and when (never the secret itself)
                self.env["hc.audit.log"]._log("outbox_secret_rotated", endpoint)
        else:
            res = super().write(vals)
        if set(vals) & {"active", "event_type_ids", "connector_id"}:
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    # -- circuit breaker ----------------------------------------------------------------

    def _breaker(self):
        self.ensure_one()
        return outbound.Breaker(
            self.circuit_state,
            self.consecutive_failures,
            self.circuit_open_until and self.circuit_open_until.timestamp(),
            self.probe_started_at and self.probe_started_at.timestamp(),
        )

    def action_reset_circuit(self):
        """Close the circuit by hand (the receiver is known to be back)."""
        if not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(self.env._("Only an integration administrator may do this."))
        for endpoint in self:
            self.env["hc.audit.log"]._log(
                "outbox_circuit_reset", endpoint, data={"previous": endpoint.circuit_state}
            )
        self.write(
            {
                "circuit_state": outbound.CLOSED,
                "consecutive_failures": 0,
                "circuit_open_until": False,
                "probe_started_at": False,
            }
        )
        self.env["hc.outbox.event"]._trigger_delivery()

    def _compute_counts(self):
        Event = self.env["hc.outbox.event"]
        pending = dict(
            Event._read_group(
                [
                    ("endpoint_id", "in", self.ids),
                    ("state", "in", ("pending", "failed", "sending")),
                ],
                ["endpoint_id"],
                ["__count"],
            )
        )
        dead = dict(
            Event._read_group(
                [("endpoint_id", "in", self.ids), ("state", "=", "dead")],
                ["endpoint_id"],
                ["__count"],
            )
        )
        for endpoint in self:
            endpoint.pending_count = pending.get(endpoint, 0)
            endpoint.dead_count = dead.get(endpoint, 0)

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "healthcare_p2p_integration.action_hc_outbox_event"
        )
        action["domain"] = [("endpoint_id", "=", self.id)]
        action["context"] = {}
        return action
