from odoo import models
from odoo.exceptions import AccessError

from .hc_connector import technical_user_write_allowed

# What makes a connector's technical user what it is (security review F6): only the
# connector itself sets them (``hc.connector._ensure_technical_user``).
TECHNICAL_USER_FIELDS = {"group_ids", "login", "password", "new_password", "company_ids", "share"}


class ResUsers(models.Model):
    _inherit = "res.users"

    def _hc_technical_users(self):
        """Those of these users that are a connector's technical user (archived too)."""
        if not self.ids:
            return self.browse()
        connectors = (
            self.env["hc.connector"]
            .sudo()
            .with_context(active_test=False)
            .search([("user_id", "in", self.ids)])
        )
        return connectors.user_id

    def write(self, vals):
        if TECHNICAL_USER_FIELDS & set(vals) and not technical_user_write_allowed():
            technical = self._hc_technical_users()
            if technical:
                raise AccessError(
                    self.env._(
                        "%(users)s is a connector's technical user: its groups, companies, "
                        "login and password are managed by the connector alone (it holds "
                        "the connector group and nothing else).",
                        users=", ".join(technical.mapped("login")),
                    )
                )
        return super().write(vals)
