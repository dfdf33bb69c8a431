"""19.0.1.1.0: the outbox speaks the inbox's queue vocabulary (``hc.queue.mixin``).

``hc.outbox.event``'s ``last_error_code``, ``last_error`` and ``sending_since`` are now
``error_code``, ``error_message`` and ``started_at``, like the inbox's.  The columns are
renamed before the registry loads, with their field records and external ids, so the
stored errors and claim times are kept (and not dropped and re-created empty).
"""

from odoo.tools import SQL

MODULE = "healthcare_p2p_integration"
MODEL = "hc.outbox.event"
TABLE = "hc_outbox_event"
RENAMED = {
    "last_error_code": "error_code",
    "last_error": "error_message",
    "sending_since": "started_at",
}


def migrate(cr, version):
    if not version:
        return
    for old, new in RENAMED.items():
        cr.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            (TABLE, old),
        )
        if not cr.fetchone():
            continue
        cr.execute(
            SQL(
                "ALTER TABLE %s RENAME COLUMN %s TO %s",
                SQL.identifier(TABLE),
                SQL.identifier(old),
                SQL.identifier(new),
            )
        )
        cr.execute(
            "UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s",
            (new, MODEL, old),
        )
        cr.execute(
            """UPDATE ir_model_data SET name = %s
                WHERE module = %s AND model = 'ir.model.fields' AND name = %s""",
            (f"field_{TABLE}__{new}", MODULE, f"field_{TABLE}__{old}"),
        )
