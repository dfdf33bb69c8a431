from odoo import api
from odoo import fields
from odoo import models

SCHEMES = [
    ("gln", "GLN"),
    ("duns", "DUNS"),
    ("vat", "Tax ID / VAT"),
    ("source", "Source system id"),
    ("other", "Other"),
]


class HcPartnerIdentifier(models.Model):
    """Identifier crosswalk: the many external ids a vendor is known by.

    A vendor carries a GLN, a DUNS number, a tax id and one id per source system (the
    sourcing platform's, the AP platform's...).  Inbound documents are matched to the
    partner through this table, never by name.
    """

    _name = "hc.partner.identifier"
    _description = "Partner identifier crosswalk"
    _order = "partner_id, scheme"

    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade")
    scheme = fields.Selection(SCHEMES, required=True)
    value = fields.Char(required=True, help="Normalized identifier value.")
    source_system = fields.Char(
        default="",
        help="For source-system ids: the connector code that issued it; empty for "
        "global schemes (GLN, DUNS, tax id).",
    )
    connector_id = fields.Many2one("hc.connector", ondelete="set null")
    valid = fields.Boolean(default=True, help="False when the check digit is wrong.")
    company_id = fields.Many2one(related="partner_id.company_id", store=True)

    _identifier_unique = models.UniqueIndex(
        "(scheme, source_system, value)",
        "This identifier already belongs to another partner.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        # a contract price waiting for a facility known by this id can now be applied
        self.env["hc.inbox.message"]._release_waiting(
            {f"facility:{(r.source_system or r.scheme).split(':')[-1]}={r.value}" for r in records}
        )
        return records

    @api.model
    def _find_partner(self, identifiers):
        """The partner one of ``identifiers`` (``(scheme, value, source)``) points to.

        Global schemes are tried before source-system ids, and the first hit wins:
        GLN and DUNS are the most trustworthy keys in healthcare supply chains.
        """
        order = {"gln": 0, "duns": 1, "vat": 2, "source": 3, "other": 4}
        for scheme, value, source in sorted(identifiers, key=lambda i: order.get(i[0], 9)):
            hit = self.sudo().search(
                [
                    ("scheme", "=", scheme),
                    ("value", "=", value),
                    ("source_system", "=", source or ""),
                ],
                limit=1,
            )
            if hit:
                return hit.partner_id
        return self.env["res.partner"]
