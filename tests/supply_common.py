"""Fixtures of the supply chain tests: a facility with a stock room, a par location
(OR-3, inside the stock room) and a supply chain user holding only that role."""

from odoo import Command
from odoo.tests import tagged

from .common import HcCase

MODULE = "healthcare_p2p_integration"


@tagged("post_install", "-at_install")
class SupplyCase(HcCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.stock_room = cls.warehouse.lot_stock_id
        cls.par_location = cls.env["stock.location"].create(
            {
                "name": "OR-3",
                "location_id": cls.stock_room.id,
                "usage": "internal",
                "barcode": "LOC-OR3",
                "hc_gln": "0614141000500",
            }
        )
        cls.vendor = cls.make_vendor("0614141000012")
        Product = cls.env["product.product"]
        cls.gloves = Product.create(
            {
                "name": "Exam gloves",
                "is_storable": True,
                "barcode": "00614141000029",
                "default_code": "GL-100",
            }
        )
        cls.stent = Product.create(
            {
                "name": "Coronary stent",
                "is_storable": True,
                "barcode": "00614141000036",
                "default_code": "ST-200",
                "tracking": "lot",
            }
        )
        cls.supply = cls.env["res.users"].create(
            {
                "name": "Supply chain user",
                "login": "supply_user",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [Command.set([cls.env.ref(f"{MODULE}.group_hc_supply_chain").id])],
            }
        )
        cls.lane_standard = cls.env.ref(f"{MODULE}.lane_standard")

    @classmethod
    def contract(cls, product, price, vendor=None, ref="GPO-2026-1"):
        return cls.env["product.supplierinfo"].create(
            {
                "partner_id": (vendor or cls.vendor).id,
                "product_tmpl_id": product.product_tmpl_id.id,
                "price": price,
                "hc_contract_ref": ref,
                "company_id": cls.company.id,
            }
        )

    @classmethod
    def par(cls, product, minimum, maximum, location=None):
        return cls.env["stock.warehouse.orderpoint"].create(
            {
                "product_id": product.id,
                "warehouse_id": cls.warehouse.id,
                "location_id": (location or cls.par_location).id,
                "product_min_qty": minimum,
                "product_max_qty": maximum,
                "hc_par_level": True,
            }
        )

    def put(self, product, qty, location=None, lot=None, owner=None):
        self.env["stock.quant"]._update_available_quantity(
            product, location or self.par_location, qty, lot_id=lot, owner_id=owner
        )

    def qty(self, product, location=None, lot=None):
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", product.id),
                ("location_id", "=", (location or self.par_location).id),
                ("lot_id", "=", lot.id if lot else False),
            ]
        )
        return sum(quants.mapped("quantity"))

    @staticmethod
    def consumption(ref="CAB-1", qty=1, item=None, **extra):
        doc = {
            "consumption_id": ref,
            "source_system": "cabinet",
            "source_name": "Cabinet OR-3",
            "location": "LOC-OR3",
            "item": item or {"gtin": "00614141000029"},
            "quantity": str(qty),
            "uom": "EA",
            "case_reference": "CASE-77",
            "consumed_at": "2026-12-06T08:30:00Z",
        }
        doc.update(extra)
        return doc

    def consume(self, *docs, key=None):
        results = self.accept(list(docs), doc_type="consumption", key=key)
        self.process()
        return [message for message, _status in results]
