from odoo import api
from odoo import models

from ..formats import parse as parse_payload
from ..formats.errors import ParseError
from ..pipeline.errors import PermanentError


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
        return self.env["hc.partner.identifier"]._find_partner(
            [(scheme, value, source) for scheme, value, source, _valid in entries if value]
        )

    @api.model
    def _dependency_met(self, message, key):
        """Whether the prerequisite ``key`` (e.g. ``purchase_order:PO123``) is processed."""
        return bool(
            self.env["hc.inbox.message"]
            .sudo()
            .search_count([("natural_key", "=", key), ("state", "=", "done")], limit=1)
        )

    @api.model
    def _apply(self, message, document):
        """Apply ``document`` to Odoo; return ``{'records', 'summary', 'produced_keys'}``."""
        raise NotImplementedError(f"No processor for {message.doc_type} documents yet.")
