from odoo import api
from odoo import models

from ..api_contract.errors import PermanentError


class HcProcessorRecall(models.AbstractModel):
    """Recall notice: an ``hc.recall`` of the company, opened at once (traced across the
    network's facilities, on-hand stock quarantined, exceptions for the receiving teams).

    The item must be known (a recall of an item the network never had names nothing to
    trace: the message fails with ``unknown_item`` and is replayed once the item is
    there).  A recall already recorded is traced again, not duplicated: stock that moved
    since is found and quarantined.
    """

    _name = "hc.processor.recall"
    _inherit = "hc.facility.resolver"
    _description = "Recall notice processor"

    @api.model
    def _apply(self, message, document):
        product = self._resolve_product(document.item)
        if not product:
            raise PermanentError(
                self.env._(
                    "Recall %(recall)s names item %(item)s, which is not known.",
                    recall=document.recall_id,
                    item=document.item.key() or document.item.description,
                ),
                code="unknown_item",
                path="item",
            )
        Recall = self.env["hc.recall"].sudo().with_company(message.company_id)
        vals = {
            "name": document.recall_id,
            "company_id": message.company_id.id,
            "product_id": product.id,
            "classification": document.classification,
            "reason": document.reason,
            "issued_date": document.issued_date,
            "manufacturer": document.manufacturer.name if document.manufacturer else False,
            "lot_names": "\n".join(document.lots) or False,
            "udis": "\n".join(document.udis) or False,
            "serial_first": document.serial_first or False,
            "serial_last": document.serial_last or False,
            "message_id": message.id,
        }
        recall = Recall.search(
            [("name", "=", document.recall_id), ("company_id", "=", message.company_id.id)],
            limit=1,
        )
        if recall:
            self._write_changed(recall, vals)
        else:
            recall = Recall.create(vals)
        recall.action_open()
        lines = recall.line_ids
        return {
            "records": recall,
            "summary": self.env._(
                "Recall %(recall)s: %(lots)s lot(s), %(lines)s traced line(s), %(held)s on "
                "hand quarantined in %(pickings)s transfer(s)",
                recall=recall.name,
                lots=len(recall.lot_ids),
                lines=len(lines),
                held=sum(lines.filtered(lambda x: x.kind == "on_hand").mapped("quantity")),
                pickings=len(recall.quarantine_picking_ids),
            ),
            "produced_keys": [document.natural_key()],
        }
