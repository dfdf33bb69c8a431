from odoo import fields
from odoo import models

from ..normalize.exclusion import ExclusionRecord
from .hc_exclusion_list import SOURCES


class HcExclusionEntry(models.Model):
    """One exclusion of one version of a list (OIG LEIE or SAM.gov), as published.

    ``name_clean`` is the normalised name; ``name_first``/``name_last`` its first and last
    words, the keys a vendor's name looks its candidates up by (indexed), so that
    screening reads a few entries per vendor, not the whole list."""

    _name = "hc.exclusion.entry"
    _description = "Exclusion list entry"
    _order = "list_id desc, id"

    list_id = fields.Many2one(
        "hc.exclusion.list", string="List version", required=True, index=True, ondelete="cascade"
    )
    source = fields.Selection(SOURCES, required=True)
    entry_key = fields.Char(
        required=True, index=True, help="The same exclusion across list versions."
    )
    name = fields.Char(required=True)
    name_clean = fields.Char(string="Normalised name", index=True)
    name_first = fields.Char(index="btree_not_null")
    name_last = fields.Char(index="btree_not_null")
    is_individual = fields.Boolean(string="Individual")
    npi = fields.Char(string="NPI", index="btree_not_null")
    entity_id = fields.Char(string="UEI / DUNS", index="btree_not_null")
    tax_id = fields.Char(string="Tax id", index="btree_not_null")
    address = fields.Char()
    city = fields.Char()
    state = fields.Char(string="State / province")
    zip_code = fields.Char(string="ZIP")
    country = fields.Char()
    exclusion_type = fields.Char()
    agency = fields.Char(string="Excluding agency")
    excluded_on = fields.Date()
    reinstated_on = fields.Date(string="Reinstated / terminated on")
    waiver_on = fields.Date(string="Waiver date")
    active = fields.Boolean(
        default=True, help="Reinstated (LEIE) or terminated (SAM) exclusions never match."
    )
    line = fields.Integer(string="Line in the file")

    def _hc_record(self):
        """The entry as the pure matcher reads it."""
        self.ensure_one()
        return ExclusionRecord(
            source=self.source,
            name=self.name,
            is_individual=self.is_individual,
            npi=self.npi or None,
            entity_id=self.entity_id or None,
            tax_id=self.tax_id or None,
            excluded_on=self.excluded_on or None,
            active=self.active,
            line=self.id,
        )
