from odoo import api
from odoo import models

from ..api_contract.errors import PermanentError
from ..formats.errors import ParseError
from ..formats.registry import parse as parse_payload


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
    _description = "Inbound document processor"

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
    def _find_vendor(self, message, party):
        """The partner ``party`` designates, through the identifier crosswalk.

        :param message: the inbox message (its connector scopes source-system ids)
        :param party: a canonical :class:`Party`
        :return: a ``res.partner`` (empty when no identifier is known)
        """
        if not party or not party.identifiers:
            return self.env["res.partner"]
        entries = self.env["hc.processor.vendor"]._crosswalk_entries(message, party)
        partner = self.env["hc.partner.identifier"]._find_partner(
            [(scheme, value, source) for scheme, value, source, _valid in entries if value]
        )
        # A vendor private to another company is not this company's to use.
        self._check_records_company(
            message, partner, self.env._("Vendor %s", party.name or partner.name)
        )
        return partner

    # -- company boundaries ------------------------------------------------------------

    # A reference by number (a purchase order, an invoice) is looked up in the message's
    # company only, and one that only another company has is treated exactly as one that
    # does not exist (it waits, or is refused as unknown): a sender learns nothing about
    # another facility's records from the answer (security review F16).

    @api.model
    def _check_records_company(self, message, records, reference):
        """Refuse the document when resolved ``records`` belong to another company."""
        if any(r.company_id and r.company_id != message.company_id for r in records.sudo()):
            raise self._cross_company_error(message, reference)

    @api.model
    def _cross_company_error(self, message, reference):
        """The refusal of a document naming another company's record.

        The other company is not named: the error is shown to the sending system and to
        this company's users, who must learn nothing about another facility's records.
        """
        text = self.env._(
            "%(reference)s is not a record of %(company)s: a document of one company "
            "(facility) may not reference another company's records.",
            reference=reference,
            company=message.company_id.name,
        )
        return PermanentError(
            text,
            code="cross_company_reference",
            exceptions=[
                {
                    "exception_type": "cross_company_reference",
                    "name": self.env._(
                        "%(ref)s refused: cross-company reference to %(reference)s",
                        ref=message.display_ref,
                        reference=reference,
                    ),
                    "dedup_key": f"cross_company_reference:{message.id}",
                    "severity": "high",
                    "company_id": message.company_id.id,
                    "message_id": message.id,
                    "res_model": message._name,
                    "res_id": message.id,
                    "description": self.env._(
                        "%s Nothing was applied. Check the sending system's company mapping "
                        "(X-Company-Id) and the connector's scopes, then replay or discard "
                        "the message.",
                        text,
                    ),
                    "details": {"reference": reference, "connector": message.connector_id.code},
                }
            ],
        )

    @api.model
    def _dependency_met(self, message, key):
        """Whether the prerequisite ``key`` (e.g. ``purchase_order:PO123``) is processed,
        in the message's company: another company's document of that key does not count
        (its records are not this company's, and must not even be seen to exist)."""
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
