from odoo import models
from odoo.exceptions import AccessError

from .hc_connector import technical_user_write_allowed


class ResGroups(models.Model):
    _inherit = "res.groups"

    def write(self, vals):
        res = super().write(vals)
        if {"user_ids", "all_user_ids", "implied_ids", "implied_by_ids"} & set(vals) and (
            not technical_user_write_allowed()
        ):
            # A connector's technical user gets no group but the connector group, not
            # even from the group's side (security review F6).
            connectors = (
                self.env["hc.connector"]
                .sudo()
                .with_context(active_test=False)
                .search([("user_id", "!=", False)])
            )
            allowed = connectors._technical_groups()
            self.env.invalidate_all()
            wrong = (connectors.user_id & self.all_user_ids).filtered(
                lambda u: u.all_group_ids - allowed
            )
            if wrong:
                raise AccessError(
                    self.env._(
                        "%(users)s is a connector's technical user: it holds the connector "
                        "group and nothing else.",
                        users=", ".join(wrong.mapped("login")),
                    )
                )
        return res
