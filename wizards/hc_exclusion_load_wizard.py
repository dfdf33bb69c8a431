import base64
import io

from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from ..models.hc_exclusion_list import SOURCES


class HcExclusionLoadWizard(models.TransientModel):
    """Upload a new version of an exclusion list (the OIG LEIE ``UPDATED.csv`` or the
    SAM.gov exclusions extract CSV): it supersedes the previous version and every vendor
    is screened again in the background."""

    _name = "hc.exclusion.load.wizard"
    _description = "Load an exclusion list"

    file = fields.Binary(string="CSV file", required=True)
    file_name = fields.Char()
    source = fields.Selection(
        SOURCES, string="List", help="Read from the file's header when left empty."
    )
    version = fields.Char(help="The publication the file is, e.g. 2026-11.")

    def action_load(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose the list's CSV file."))
        stream = io.BytesIO(base64.b64decode(self.file))
        version_list = self.env["hc.exclusion.list"]._hc_load(
            stream,
            source=self.source or None,
            version=self.version or None,
            file_name=self.file_name or None,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.exclusion.list",
            "res_id": version_list.id,
            "view_mode": "form",
        }
