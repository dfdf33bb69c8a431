import re

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

from ..formats.outbound import Envelope

FORMATS = [("json", "JSON"), ("x12", "X12 EDI"), ("ubl", "UBL / Peppol"), ("cxml", "cXML")]
ENVIRONMENTS = [("production", "Production"), ("test", "Test")]
# document kind -> the profile field holding its format
KIND_FORMAT_FIELDS = {
    "order": "order_format",
    "order_change": "order_format",
    "order_cancel": "order_format",
    "invoice_response": "response_format",
    "remittance": "remittance_format",
}
ISA_QUALIFIER_RE = re.compile(r"^[0-9A-Z]{2}$")
# ISA06/ISA08: up to 15 characters, no separator an interchange could use
ISA_ID_RE = re.compile(r"^[0-9A-Za-z .\-/&]{1,15}$")
GS_ID_RE = re.compile(r"^[0-9A-Za-z .\-/&]{2,15}$")
GLN_RE = re.compile(r"^\d{13}$")
DUNS_RE = re.compile(r"^\d{9}(\d{4})?$")
PEPPOL_RE = re.compile(r"^\d{4}:\S{1,50}$")
# ubl_version -> Envelope.peppol_profile
PEPPOL_PROFILES = {
    "peppol_bis3": "ordering",
    "peppol_advanced": "advanced_ordering",
    "ubl21": "ordering",
}
CXML_VERSION_RE = re.compile(r"^1\.2\.\d{3}$")
# ISA13 / GS06 are 9 digits
MAX_CONTROL_NUMBER = 999_999_999


class HcTradingPartner(models.Model):
    """How one vendor (commercial entity) of one company exchanges documents with us.

    The channel is an outbound endpoint (URL, signing secret, retries, circuit breaker,
    dead letters and replay are the outbox's); the profile says which format and version
    each document kind leaves in, how both sides are identified (ISA/GS ids, GLN, DUNS,
    Peppol participant id, cXML credentials), which functional acknowledgment is expected
    back and within how long, and whether this is a test or a production relationship.

    Environment segregation: a test profile only ever uses a test endpoint, a production
    profile a production one.  The pair is refused when written (here and on the
    endpoint) and checked again when each document is sent.  X12 interchanges of a test
    profile say so (ISA15 ``T``).
    """

    _name = "hc.trading.partner"
    _description = "Trading-partner profile"
    _order = "partner_id, company_id, environment"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    active = fields.Boolean(default=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Vendor",
        required=True,
        index=True,
        ondelete="restrict",
        domain="[('is_company', '=', True)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    environment = fields.Selection(
        ENVIRONMENTS,
        required=True,
        default="production",
        help="A test profile sends only to a test endpoint (and marks X12 interchanges "
        "ISA15 = T); a production profile only to a production endpoint.",
    )
    endpoint_id = fields.Many2one(
        "hc.outbox.endpoint",
        string="Channel",
        required=True,
        ondelete="restrict",
        help="Where this vendor's documents are POSTed: URL, signing secret, retries, "
        "circuit breaker, dead letters and replay are the endpoint's.",
    )
    connector_id = fields.Many2one(related="endpoint_id.connector_id", string="Connector")
    endpoint_environment = fields.Selection(
        related="endpoint_id.environment", string="Endpoint environment"
    )

    # -- formats --------------------------------------------------------------------
    order_format = fields.Selection(
        FORMATS, default="json", string="Orders, changes, cancellations"
    )
    response_format = fields.Selection(FORMATS, default="json", string="Invoice responses")
    remittance_format = fields.Selection(FORMATS, default="json", string="Remittance advice")
    x12_version = fields.Selection(
        [("004010", "004010"), ("005010", "005010")], default="004010", string="X12 version"
    )
    ubl_version = fields.Selection(
        [
            ("peppol_bis3", "Peppol BIS Order 3 (UBL 2.1)"),
            ("peppol_advanced", "Peppol BIS Advanced Ordering 3 (changes, cancellations)"),
            ("ubl21", "UBL 2.1"),
        ],
        default="peppol_bis3",
        string="UBL profile",
        help="The Peppol profile (ProfileID) the vendor is registered for: order changes and "
        "cancellations belong to Advanced Ordering.",
    )
    cxml_version = fields.Char(
        string="cXML version",
        default="1.2.071",
        help="cXML/@version and the DOCTYPE of the documents sent (1.2.nnn).",
    )

    # -- identifiers ----------------------------------------------------------------
    isa_sender_qualifier = fields.Char(string="ISA05 (our qualifier)", default="ZZ", size=2)
    isa_sender_id = fields.Char(string="ISA06 (our id)", size=15)
    isa_receiver_qualifier = fields.Char(string="ISA07 (vendor qualifier)", default="ZZ", size=2)
    isa_receiver_id = fields.Char(string="ISA08 (vendor id)", size=15)
    gs_sender_id = fields.Char(string="GS02 (our application id)", size=15)
    gs_receiver_id = fields.Char(string="GS03 (vendor application id)", size=15)
    gln = fields.Char(string="Vendor GLN", help="Overrides the vendor's GLN identifier.")
    duns = fields.Char(string="Vendor DUNS", help="Overrides the vendor's DUNS identifier.")
    peppol_participant_id = fields.Char(
        string="Peppol participant id", help="Scheme and value, e.g. 0088:5790000435975."
    )
    company_participant_id = fields.Char(
        string="Our Peppol participant id",
        help="How this vendor's Peppol network addresses us (scheme and value, e.g. "
        "0088:0614141000036); the company's GLN or DUNS when empty.",
    )
    cxml_from_domain = fields.Char(string="cXML From domain", default="NetworkID")
    cxml_from_identity = fields.Char(string="cXML From identity")
    cxml_to_domain = fields.Char(string="cXML To domain", default="NetworkID")
    cxml_to_identity = fields.Char(string="cXML To identity")
    cxml_sender_domain = fields.Char(string="cXML Sender domain", default="NetworkID")
    cxml_sender_identity = fields.Char(string="cXML Sender identity")

    # -- acknowledgments --------------------------------------------------------------
    ack_expected = fields.Selection(
        [("none", "None"), ("997", "997"), ("999", "999")],
        string="Functional acknowledgment",
        default="997",
        required=True,
        help="What the vendor answers each X12 interchange with (ISA14 asks for it).",
    )
    ack_hours = fields.Integer(
        string="Acknowledgment within (hours)",
        default=24,
        help="An interchange not acknowledged after this is a reconciliation finding.",
    )
    control_sequence_id = fields.Many2one(
        "ir.sequence", string="X12 control numbers", readonly=True, copy=False
    )
    document_ids = fields.One2many("hc.outbound.document", "profile_id", readonly=True)
    document_count = fields.Integer(compute="_compute_document_count")

    _partner_company_env_unique = models.UniqueIndex(
        "(partner_id, company_id, environment) WHERE active",
        "A vendor has one active profile per company and environment.",
    )
    _ack_hours_positive = models.Constraint(
        "CHECK(ack_hours > 0)", "The acknowledgment delay must be positive."
    )

    @api.depends("partner_id.name", "company_id.name", "environment")
    def _compute_name(self):
        labels = dict(ENVIRONMENTS)
        for profile in self:
            profile.name = " / ".join(
                filter(
                    None,
                    (
                        profile.partner_id.name,
                        profile.company_id.name,
                        labels.get(profile.environment),
                    ),
                )
            )

    def _compute_document_count(self):
        counts = dict(
            self.env["hc.outbound.document"]._read_group(
                [("profile_id", "in", self.ids)], ["profile_id"], ["__count"]
            )
        )
        for profile in self:
            profile.document_count = counts.get(profile, 0)

    # -- validation ---------------------------------------------------------------------

    @api.constrains("environment", "endpoint_id")
    def _check_environment(self):
        for profile in self:
            profile._refuse_environment_mismatch(profile.endpoint_id)

    def _refuse_environment_mismatch(self, endpoint):
        """Raise unless this profile may send to ``endpoint`` (same environment)."""
        self.ensure_one()
        if endpoint and endpoint.environment != self.environment:
            labels = dict(ENVIRONMENTS)
            raise ValidationError(
                self.env._(
                    "Environment segregation: the %(env)s profile %(profile)s cannot use "
                    "the %(endpoint_env)s endpoint %(endpoint)s.",
                    env=labels[self.environment].lower(),
                    profile=self.display_name,
                    endpoint_env=labels.get(endpoint.environment, endpoint.environment).lower(),
                    endpoint=endpoint.display_name,
                )
            )

    @api.constrains("partner_id")
    def _check_commercial_partner(self):
        for profile in self:
            if profile.partner_id != profile.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "A trading-partner profile is for the vendor's company (%s), not one "
                        "of its contacts.",
                        profile.partner_id.commercial_partner_id.display_name,
                    )
                )

    @api.constrains(
        "order_format",
        "response_format",
        "remittance_format",
        "isa_sender_qualifier",
        "isa_sender_id",
        "isa_receiver_qualifier",
        "isa_receiver_id",
        "gs_sender_id",
        "gs_receiver_id",
        "gln",
        "duns",
        "peppol_participant_id",
        "company_participant_id",
        "cxml_version",
    )
    def _check_identifiers(self):
        for profile in self:
            problems = []
            uses_x12 = "x12" in (
                profile.order_format,
                profile.response_format,
                profile.remittance_format,
            )
            if uses_x12:
                for name, pattern in (
                    ("isa_sender_qualifier", ISA_QUALIFIER_RE),
                    ("isa_sender_id", ISA_ID_RE),
                    ("isa_receiver_qualifier", ISA_QUALIFIER_RE),
                    ("isa_receiver_id", ISA_ID_RE),
                ):
                    if not pattern.match(profile[name] or ""):
                        problems.append(profile._fields[name].string)
            for name, pattern in (
                ("gs_sender_id", GS_ID_RE),
                ("gs_receiver_id", GS_ID_RE),
                ("gln", GLN_RE),
                ("duns", DUNS_RE),
                ("peppol_participant_id", PEPPOL_RE),
                ("company_participant_id", PEPPOL_RE),
                ("cxml_version", CXML_VERSION_RE),
            ):
                if profile[name] and not pattern.match(profile[name]):
                    problems.append(profile._fields[name].string)
            if problems:
                raise ValidationError(
                    self.env._(
                        "Trading-partner profile %(profile)s: missing or malformed %(fields)s.",
                        profile=profile.display_name,
                        fields=", ".join(problems),
                    )
                )

    # -- control numbers ----------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        profiles = super().create(vals_list)
        for profile in profiles:
            profile.control_sequence_id = profile._new_control_sequence()
        return profiles

    def _new_control_sequence(self):
        """A PostgreSQL-backed sequence of its own: allocating a number takes no lock and
        is never rolled back, so no number is ever handed out twice (concurrent senders
        included); a rolled-back send leaves a gap, which X12 allows."""
        return (
            self.env["ir.sequence"]
            .sudo()
            .create(
                {
                    "name": self.env._("X12 control numbers: %s", self.display_name),
                    "implementation": "standard",
                    "padding": 9,
                    "number_next": 1,
                    "number_increment": 1,
                    "company_id": self.company_id.id,
                }
            )
        )

    def _next_control_number(self):
        """The next ISA13/GS06 of this profile (an int, 1..999999999)."""
        self.ensure_one()
        sequence = self.sudo().control_sequence_id
        if not sequence:
            sequence = self.sudo().control_sequence_id = self._new_control_sequence()
        number = int(sequence.next_by_id())
        if number > MAX_CONTROL_NUMBER:
            raise ValidationError(
                self.env._(
                    "The X12 control numbers of %s are exhausted (999999999): give the profile "
                    "a new sender id before sending more.",
                    self.display_name,
                )
            )
        return number

    # -- used by the document builder ---------------------------------------------------

    @api.model
    def _for_partner(self, partner, company):
        """The active profile of ``partner``'s commercial entity in ``company``.

        A company has a production and possibly a test profile per vendor: the
        production one wins, a test profile alone is used (a vendor being onboarded).
        """
        partner = partner.commercial_partner_id
        if not partner or not company:
            return self.browse()
        profiles = self.sudo().search(
            [("partner_id", "=", partner.id), ("company_id", "=", company.id)]
        )
        return profiles.filtered(lambda p: p.environment == "production")[:1] or profiles[:1]

    def _format_for(self, kind):
        self.ensure_one()
        return self[KIND_FORMAT_FIELDS[kind]] or "json"

    def _usage_indicator(self):
        return "T" if self.environment == "test" else "P"

    def _envelope(self, control_number=0):
        """What the renderer of any format needs from this profile: the X12 envelope of
        one interchange (``control_number`` as ISA13 and GS06), the Peppol profile of UBL
        orders, the cXML Header credentials and version, the test/production indicator."""
        self.ensure_one()
        return Envelope(
            sender_qualifier=self.isa_sender_qualifier or "",
            sender_id=self.isa_sender_id or "",
            receiver_qualifier=self.isa_receiver_qualifier or "",
            receiver_id=self.isa_receiver_id or "",
            interchange_control_number=control_number,
            group_control_number=control_number,
            version=self.x12_version or "004010",
            usage_indicator=self._usage_indicator(),
            application_sender=self.gs_sender_id or "",
            application_receiver=self.gs_receiver_id or "",
            ack_requested=self.ack_expected != "none",
            peppol_profile=PEPPOL_PROFILES.get(self.ubl_version, "ordering"),
            cxml_from_domain=self.cxml_from_domain or "",
            cxml_from_identity=self.cxml_from_identity or "",
            cxml_to_domain=self.cxml_to_domain or "",
            cxml_to_identity=self.cxml_to_identity or "",
            cxml_sender_domain=self.cxml_sender_domain or "",
            cxml_sender_identity=self.cxml_sender_identity or "",
            cxml_version=self.cxml_version or "",
        )

    def action_view_documents(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.outbound.document",
            "view_mode": "list,form",
            "domain": [("profile_id", "=", self.id)],
            "name": self.env._("Documents sent: %s", self.display_name),
        }
