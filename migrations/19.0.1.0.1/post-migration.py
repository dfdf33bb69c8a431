"""19.0.1.0.1: supplier account holder names stored in clear before they were masked.

They move into the encrypted bank details and the column keeps the masked name, as for
accounts stored since (issue 14, F19).  Without an encryption key nothing can be encrypted:
the upgrade says so and leaves them for the next key rotation, which does the same.
"""

import logging

from odoo import SUPERUSER_ID
from odoo import api
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    try:
        count = env["res.partner.bank"]._hc_mask_clear_holders()
    except (UserError, RuntimeError) as exc:  # no key (crypto.KeyMissingError), say so
        _logger.warning("Holder names left in clear until the next key rotation: %s", exc)
        return
    _logger.info("Masked %s supplier account holder names stored in clear", count)
