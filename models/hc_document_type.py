from odoo import api
from odoo import fields
from odoo import models
from odoo import tools


class HcDocumentType(models.Model):
    """A kind of inbound document (vendor master, invoice...) and its default lane."""

    _name = "hc.document.type"
    _description = "Integration document type"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Code used in the API path and the payload.")
    sequence = fields.Integer(default=10)
    default_lane_id = fields.Many2one("hc.lane", required=True, ondelete="restrict")
    endpoint = fields.Char(
        help="Path segment of the API endpoint, e.g. 'invoices' for /api/hc/v1/invoices."
    )
    content_types = fields.Char(
        help="Accepted Content-Types besides application/json, comma separated."
    )

    _code_unique = models.Constraint("UNIQUE(code)", "Document type codes must be unique.")

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # connectors' cached scopes (hc.connector._scope)
        return super().create(vals_list)

    def write(self, vals):
        if "code" in vals and all(doc_type.code == vals["code"] for doc_type in self):
            # Every module update writes the types of the data file again, code included:
            # an unchanged code must not mark the stored ``doc_type`` of every message of
            # the type (inbox and archive, a year of history: millions of rows, more than
            # a worker's memory) for recomputation.
            vals = {key: value for key, value in vals.items() if key != "code"}
        self.env.registry.clear_cache()
        return super().write(vals)

    @api.model
    @tools.ormcache()
    def _catalog(self):
        """``({endpoint: id}, {id: code})``, read on every POST, so cached per worker."""
        types = self.sudo().search_fetch([], ["endpoint", "code"])
        return (
            {t.endpoint: t.id for t in types if t.endpoint},
            {t.id: t.code for t in types},
        )

    @api.model
    def _id_by_endpoint(self, endpoint):
        """The document type id behind an API path segment (0 when there is none)."""
        return self._catalog()[0].get(endpoint, 0)

    def _cached_code(self):
        """This type's code without reading the record (the API's hot path)."""
        self.ensure_one()
        return self._catalog()[1][self.id]
