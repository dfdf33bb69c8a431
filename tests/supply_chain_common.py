"""Fixtures of the supply chain tests (issue 18): two warehouses of company A (the main
one and ``NORTH``), facility B (company B, known by its GLN), a lot-tracked item with
expiry held in lots, and a warehouse user of each company (supply chain role only)."""

from datetime import timedelta

from odoo import fields

from .security_common import TwoCompanyCase

GTIN = "09506000134352"
GLN_B = "0614141000203"


class SupplyChainCase(TwoCompanyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wh_a = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company_a.id)], limit=1
        )
        cls.wh_north = cls.env["stock.warehouse"].create(
            {"name": "North Clinic", "code": "NORTH", "company_id": cls.company_a.id}
        )
        cls.wh_b = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company_b.id)], limit=1
        )
        cls.company_b.partner_id.global_location_number = GLN_B
        cls.item = cls.env["product.product"].create(
            {
                "name": "Drug-eluting stent",
                "is_storable": True,
                "tracking": "lot",
                "use_expiration_date": True,
                "barcode": GTIN,
            }
        )
        cls.expiry = fields.Datetime.now().replace(microsecond=0) + timedelta(days=700)
        cls.user_a = cls.make_user("stock.a", "supply", cls.company_a)
        cls.user_b = cls.make_user("stock.b", "supply", cls.company_b)

    @classmethod
    def stock(cls, warehouse, lot_name, qty, product=None, expiry=None):
        product = product or cls.item
        lot = cls.env["stock.lot"].search(
            [("name", "=", lot_name), ("product_id", "=", product.id)]
        ) or cls.env["stock.lot"].create(
            {
                "name": lot_name,
                "product_id": product.id,
                "expiration_date": expiry or cls.expiry,
            }
        )
        cls.env["stock.quant"]._update_available_quantity(
            product, warehouse.lot_stock_id, qty, lot_id=lot
        )
        return lot

    def on_hand(self, warehouse, lot, internal_only=True):
        quants = self.env["stock.quant"].search(
            [
                ("lot_id", "=", lot.id),
                ("location_id", "child_of", warehouse.view_location_id.id),
                ("location_id.usage", "=", "internal"),
            ]
        )
        return sum(quants.mapped("quantity"))

    def exceptions(self, exception_type, company=None):
        domain = [("exception_type", "=", exception_type)]
        if company:
            domain.append(("company_id", "=", company.id))
        return self.env["hc.exception"].search(domain)
