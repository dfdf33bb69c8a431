from datetime import datetime
from datetime import time
from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from ..api_contract.errors import PermanentError
from ..formats.errors import ParseError
from ..formats.registry import parse as parse_payload

PO_KEY_PREFIX = "purchase_order:"
# Purchase order states a document may refer to once the order is agreed (an RFQ is not
# an order yet): what ship notices, receipts and invoices wait for.
CONFIRMED_PO_STATES = ("purchase", "done")


class DeferredCreate:
    """A document applied up to the creation of its main record.

    Creating many records in one ``create`` call is several times cheaper in Odoo than
    one call each (an ``account.move`` computes its taxes, totals and dynamic lines once
    per batch): a processor that returns this from :meth:`HcProcessor._prepare_apply`
    lets the lane worker create the records of a whole batch together, then ``finish``
    each (attachments, exceptions, matching) in its own savepoint.  Should anything of it
    fail, the worker falls back to applying those messages one at a time.
    """

    __slots__ = ("after", "finish", "model", "vals")

    def __init__(self, model, vals, finish, after=None):
        """
        :param model: the model (with its environment) to create the record with
        :param vals: the record's values
        :param finish: ``finish(record) -> result`` once the record exists
        :param after: ``after(records)``, called once on all the records of a batch
            after they are finished (e.g. matching bills together)
        """
        self.model = model
        self.vals = vals
        self.finish = finish
        self.after = after

    def apply(self):
        """Create, finish and follow up one record: the ordinary, unbatched path."""
        record = self.model.create(self.vals)
        result = self.finish(record)
        if self.after:
            self.after(record)
        return result


class HcProcessor(models.AbstractModel):
    """Base of the per-document-type processors (``hc.processor.<doc_type>``).

    A processor turns one inbox message into Odoo records: ``_parse`` (raw payload to the
    canonical model, through the pure ``formats`` package) then ``_apply`` (canonical
    document to records, idempotent: applying the same document twice changes nothing
    more).  Each document type overrides ``_apply``.
    """

    _name = "hc.processor"
    _inherit = "hc.reference.resolver"
    _description = "Inbound document processor"

    # Purchase orders are also keyed in by hand: a processor whose documents wait for a
    # purchase order (``purchase_order:<number>``) names the order states that meet the
    # wait as well as the order's own message; None: only the message, (): any state.
    _hc_order_dependency_states = None

    @api.model
    def _parse(self, message):
        """Parse ``message``'s payload; exactly one document per stored message."""
        raw = message._raw_payload()
        try:
            parsed = parse_payload(message.doc_type, message.content_type, raw)
        except ParseError as exc:
            raise PermanentError(exc.message, code=exc.code, path=exc.path) from exc
        if len(parsed) != 1:
            raise PermanentError(
                f"Expected one document per message, found {len(parsed)}.", code="not_one_document"
            )
        return parsed[0]

    @api.model
    def _payload_has_secrets(self, document):
        """Whether the raw payload must be encrypted at rest (see the vendor processor)."""
        return False

    @api.model
    def _stored_document(self, document):
        """The canonical document as kept on the message (processors may mask secrets)."""
        return document.to_dict()

    @api.model
    def _dependency_met(self, message, key):
        """Whether the prerequisite ``key`` (e.g. ``purchase_order:PO123``) is processed,
        in the message's company: another company's document of that key does not count
        (its records are not this company's, and must not even be seen to exist).

        A purchase order also counts when it exists in Odoo in one of the states the
        processor's ``_hc_order_dependency_states`` names (made by hand, not by a message).
        """
        if self._message_done(message, key):
            return True
        states = self._hc_order_dependency_states
        if states is not None and key.startswith(PO_KEY_PREFIX):
            number = key[len(PO_KEY_PREFIX) :]
            # Another company's order is not there, as if it did not exist (F16).
            return bool(self._resolve_order(message.company_id, number, states or None))
        return False

    @api.model
    def _message_done(self, message, key):
        """Whether a message of the company producing ``key`` is processed."""
        return bool(
            self.env["hc.inbox.message"]
            .sudo()
            .search_count(
                [
                    ("natural_key", "=", key),
                    ("state", "=", "done"),
                    ("company_id", "=", message.company_id.id),
                ],
                limit=1,
            )
        )

    # -- helpers of the processors about purchase orders and their receipts ------------

    @staticmethod
    def _datetime(day):
        """Noon of ``day``: a date that survives any user time zone in the UI."""
        return datetime.combine(day, time(12))

    @api.model
    def _open_receipts(self, order):
        """The order's incoming transfers still to receive (the original or its backorder)."""
        return order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming" and p.state not in ("done", "cancel")
        ).sorted("id")

    @api.model
    def _open_moves(self, order, product):
        """Open incoming moves of ``product`` on ``order``, oldest first."""
        return (
            self._open_receipts(order)
            .move_ids.filtered(
                lambda m: m.product_id == product and m.state not in ("done", "cancel")
            )
            .sorted("id")
        )

    @api.model
    def _min_expiry_date(self, company):
        """Lots expiring on or before this date are flagged (expired or too short-dated)."""
        return fields.Date.context_today(self) + timedelta(days=company.hc_expiry_warning_days)

    @api.model
    def _order_exception_vals(self, message, order, record=None):
        """Common values of the exceptions raised about ``order`` (on ``record``)."""
        record = record or order
        return {
            "company_id": message.company_id.id,
            "partner_id": order.partner_id.commercial_partner_id.id,
            "message_id": message.id,
            "res_model": record._name,
            "res_id": record.id,
        }

    @api.model
    def _close_exceptions(self, dedup_key, resolution):
        """Resolve the open exception ``dedup_key`` once what it reported no longer holds."""
        open_exc = (
            self.env["hc.exception"]
            .sudo()
            .search([("dedup_key", "=", dedup_key), ("state", "not in", ("resolved", "cancelled"))])
        )
        if open_exc:
            open_exc.write({"state": "resolved", "resolution": resolution})

    @api.model
    def _apply(self, message, document):
        """Apply ``document`` to Odoo; return ``{'records', 'summary', 'produced_keys'}``."""
        raise NotImplementedError(f"No processor for {message.doc_type} documents yet.")

    @api.model
    def _prepare_apply(self, message, document):
        """Apply, or stop short of creating the main record (a :class:`DeferredCreate`).

        Processors whose documents are worth creating in batches override this and
        :meth:`_batch_keys`; the others simply apply.
        """
        return self._apply(message, document)

    @api.model
    def _batch_keys(self, message, document):
        """Keys of what the document touches; ``None``: never batched.

        Two documents sharing a key are never created in the same batch.
        """
        return None
