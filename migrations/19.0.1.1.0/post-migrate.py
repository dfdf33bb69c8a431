"""19.0.1.1.0: lane crons call the lane worker (``hc.lane.worker``), no longer the inbox.

Each lane's ``ir.cron`` records are rewritten to the new model and code (the same sync
that keeps ``worker_count`` crons per lane), inactive lanes included.
"""

from odoo import SUPERUSER_ID
from odoo import api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["hc.lane"].with_context(active_test=False).search([])._sync_crons()
