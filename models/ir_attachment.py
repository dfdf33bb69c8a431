from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError

from ..trust import trusted

INTEGRATION_ADMIN_GROUP = "healthcare_p2p_integration.group_hc_integration_admin"
# What makes an attachment the document it is: its bytes, name and the record it is on.
CONTENT_FIELDS = frozenset(
    {
        "datas",
        "raw",
        "db_datas",
        "store_fname",
        "name",
        "mimetype",
        "type",
        "url",
        "res_model",
        "res_id",
        "res_field",
        "company_id",
        "checksum",
        "file_size",
        "hc_received_document",
    }
)


class IrAttachment(models.Model):
    """The supplier's documents kept on a bill (the document received, the PDF it
    carried) are evidence: nobody but the system and integration administrators
    deletes, replaces or moves them, whatever the path (RPC included)."""

    _inherit = "ir.attachment"

    hc_received_document = fields.Boolean(
        string="Received document",
        readonly=True,
        copy=False,
        help="Received from a supplier through the integration: it cannot be deleted or "
        "changed by its users.",
    )

    def _hc_may_change_received(self):
        return (
            self.env.su
            or trusted.is_engine_write()
            or self.env.user.has_group(INTEGRATION_ADMIN_GROUP)
        )

    def _hc_refuse_received(self, what):
        if self._hc_may_change_received():
            return
        received = self.sudo().filtered("hc_received_document")
        if received:
            raise AccessError(
                self.env._(
                    "%(names)s was received from the supplier and is kept as evidence: it "
                    "cannot be %(what)s.",
                    names=", ".join(received.mapped("name")),
                    what=what,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("hc_received_document") for vals in vals_list):
            self._hc_refuse_received_flag()
        return super().create(vals_list)

    def _hc_refuse_received_flag(self):
        if not self._hc_may_change_received():
            raise AccessError(
                self.env._("Only the integration marks an attachment as a received document.")
            )

    def write(self, vals):
        if CONTENT_FIELDS & set(vals):
            self._hc_refuse_received(self.env._("changed"))
            if "hc_received_document" in vals:
                self._hc_refuse_received_flag()
        return super().write(vals)

    def unlink(self):
        self._hc_refuse_received(self.env._("deleted"))
        return super().unlink()
