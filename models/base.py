from odoo import models

from .hc_vault import FIELD_PARAMETER


class Base(models.AbstractModel):
    """Every model may declare a field ``hc_encrypted`` (see ``hc.vault``)."""

    _inherit = "base"

    def _valid_field_parameter(self, field, name):
        return name == FIELD_PARAMETER or super()._valid_field_parameter(field, name)
