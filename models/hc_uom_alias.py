from odoo import api
from odoo import fields
from odoo import models

from ..normalize.uom import normalize_uom


class HcUomAlias(models.Model):
    """A unit code the built-in table does not know, mapped to an Odoo unit.

    Codes known to :mod:`normalize.uom` (X12 and UN/ECE Rec 20 spellings of each, box,
    kilogram...) are folded to their canonical code first and find their unit through
    ``uom.uom.hc_code``; an alias maps any other code a supplier sends (``BTS``, ``STK``)
    or overrides a canonical one.  Data stewards create them when they resolve an
    ``unknown_uom`` exception, so each code is decided once.
    """

    _name = "hc.uom.alias"
    _description = "Unit code alias"
    _order = "code"
    _rec_name = "code"

    code = fields.Char(
        required=True,
        index=True,
        help="The code as documents send it, upper case (X12 355, UN/ECE Rec 20 or the "
        "supplier's own).",
    )
    uom_id = fields.Many2one("uom.uom", string="Unit", required=True, ondelete="cascade")
    note = fields.Char(help="Why this mapping (the exception it resolved, the supplier).")

    _code_unique = models.Constraint("UNIQUE(code)", "A unit code maps to one unit.")

    @api.model
    def _key(self, code):
        """The key a code is stored and looked up under (its canonical code if known)."""
        return normalize_uom(code).code

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("code"):
                vals["code"] = self._key(vals["code"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("code"):
            vals["code"] = self._key(vals["code"])
        return super().write(vals)
