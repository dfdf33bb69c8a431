from odoo import fields
from odoo import models


class ProductSupplierinfo(models.Model):
    _inherit = "product.supplierinfo"

    # The match's contract prices (and the resolver's, the planner's) are searched by
    # variant or template: Odoo indexes the template only, so the variant half of that
    # "or" scanned every price of every contract
    _hc_product_idx = models.Index("(product_id) WHERE product_id IS NOT NULL")

    hc_contract_ref = fields.Char(
        string="Contract reference", index=True, help="GPO or local contract the price comes from."
    )
    hc_facility_partner_ids = fields.Many2many(
        "res.partner",
        "hc_supplierinfo_facility_rel",
        "supplierinfo_id",
        "partner_id",
        string="Eligible facilities",
        help="The contract price applies only to orders for these facilities (the ordering "
        "company, its warehouse's address or the order's delivery address, or their "
        "parent); empty: to every order of the company.",
    )
    hc_facility_key = fields.Char(
        string="Eligible facilities (as sent)",
        readonly=True,
        help="The facility identifiers the price list named (GLN, HIN, DEA...), sorted: "
        "with the contract, start date and minimum quantity, what identifies the price.",
    )

    def _hc_is_eligible(self, partners):
        """Whether this price applies to an order for the facility ``partners``."""
        self.ensure_one()
        if not self.hc_facility_partner_ids:
            return True
        return bool((partners | partners.parent_id) & self.hc_facility_partner_ids)

    def _get_filtered_supplier(self, company_id, product_id, params=False):
        """Odoo's choice of a vendor price for a purchase order line, without the contract
        prices the order's facility is not eligible to."""
        sellers = super()._get_filtered_supplier(company_id, product_id, params)
        order = params.get("order_id") if params else None
        if order:
            partners = order._hc_facility_partners()
        else:
            partners = (company_id or self.env.company).partner_id
        return sellers.filtered(lambda seller: seller._hc_is_eligible(partners))
