from odoo import api
from odoo import models

from ..api_contract.errors import PermanentError
from ..canonical import SCHEME_GLN
from ..canonical import ItemRef


class HcFacilityResolver(models.AbstractModel):
    """Facilities, locations, items and lots named by supply chain documents.

    A facility is a warehouse of the network: found by the GLN of its address (or of its
    company, which then means the company's first warehouse), else by its code or name,
    found only when exactly one warehouse answers.  Locations are named by barcode or
    full name inside the facility.  A line's item comes from its ``item`` or, failing
    that, from the GTIN its UDI carries.
    """

    _name = "hc.facility.resolver"
    _inherit = "hc.processor"
    _description = "Facility, location and lot resolution of supply chain documents"

    @api.model
    def _resolve_facility(self, party, companies=None):
        """The ``stock.warehouse`` ``party`` designates (sudo; empty when unknown or
        ambiguous), among ``companies``' warehouses when given."""
        Warehouse = self.env["stock.warehouse"].sudo()
        scope = [("company_id", "in", companies.ids)] if companies else []
        gln = party.identifier(SCHEME_GLN)
        if gln:
            found = Warehouse.search([*scope, ("partner_id.global_location_number", "=", gln)])
            if not found:
                owners = (
                    self.env["res.company"]
                    .sudo()
                    .search([("partner_id.global_location_number", "=", gln)])
                )
                if len(owners) == 1:
                    found = Warehouse.search(
                        [*scope, ("company_id", "=", owners.id)], order="sequence, id", limit=1
                    )
            if len(found) == 1:
                return found
        for ident in party.identifiers:
            found = Warehouse.search([*scope, ("code", "=ilike", ident.value)])
            if len(found) == 1:
                return found
        if party.name:
            found = Warehouse.search([*scope, ("name", "=ilike", party.name)])
            if len(found) == 1:
                return found
        return Warehouse.browse()

    @api.model
    def _facility_or_fail(self, party, what, companies=None):
        warehouse = self._resolve_facility(party, companies)
        if not warehouse:
            raise PermanentError(
                self.env._(
                    "The %(what)s %(party)s is no warehouse of the network (by the GLN of its "
                    "address or company, its code or its name).",
                    what=what,
                    party=party.key(),
                ),
                code="unknown_facility",
                path=what,
            )
        return warehouse

    @api.model
    def _resolve_location(self, warehouse, name):
        """A location of ``warehouse`` by barcode or full name; its stock location if
        ``name`` is empty; empty when not found."""
        if not name:
            return warehouse.lot_stock_id
        Location = self.env["stock.location"].sudo()
        inside = [("id", "child_of", warehouse.view_location_id.id), ("usage", "=", "internal")]
        for field in ("barcode", "complete_name", "name"):
            found = Location.search([*inside, (field, "=ilike", name)])
            if len(found) == 1:
                return found
        return Location.browse()

    @api.model
    def _line_product(self, line, trace):
        """The product of a traced line: by its item, else the GTIN of its UDI."""
        item = line.item or ItemRef(gtin=trace.gtin)
        if trace.gtin and not item.gtin:
            product = self._resolve_product(item) or self._resolve_product(ItemRef(gtin=trace.gtin))
        else:
            product = self._resolve_product(item)
        return product, item

    @api.model
    def _find_lot(self, product, name, company):
        """The lot (or serial) ``name`` of ``product`` usable in ``company``."""
        if not name:
            return self.env["stock.lot"]
        return (
            self.env["stock.lot"]
            .sudo()
            .search(
                [
                    ("product_id", "=", product.id),
                    ("name", "=", name),
                    ("company_id", "in", (company.id, False)),
                ],
                order="company_id",
                limit=1,
            )
        )

    @api.model
    def _lot_quants(self, product, lot, location):
        """Quants of ``product`` (``lot``) on hand in ``location`` and its children."""
        domain = [
            ("product_id", "=", product.id),
            ("location_id", "child_of", location.id),
            ("quantity", ">", 0),
        ]
        if lot:
            domain.append(("lot_id", "=", lot.id))
        return self.env["stock.quant"].sudo().search(domain, order="in_date, id")
