from odoo import models

from .hc_connector import API_KEY_SCOPE


class ResUsersApikeys(models.Model):
    _inherit = "res.users.apikeys"

    def unlink(self):
        """A connector's key deleted in Odoo (its user's *API Keys*, or by the system)
        stops at once: the API's per-worker verification cache
        (``hc.connector._authenticate_cached``) is cleared on every worker, as a rotation
        without overlap does."""
        ours = any(key.scope == API_KEY_SCOPE for key in self.sudo())
        res = super().unlink()
        if ours:
            self.env.registry.clear_cache()
        return res
