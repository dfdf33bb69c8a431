"""X12 832 catalogs and 845 price authorizations applied as contract prices (issue 17
item 4): one inbox message per price, tiers, validity and eligible facilities on
``product.supplierinfo``, idempotent replays, the 997 on /contract-prices, and Odoo's
own vendor price choice on purchase order lines honouring the facilities.
"""

from odoo.fields import Command
from odoo.tests import HttpCase
from odoo.tests import tagged

from ..formats.registry import split
from .common import HcCase
from .test_pure_x12_catalog import AUTHORIZATION_845
from .test_pure_x12_catalog import CATALOG_832
from .test_pure_x12_catalog import DEA_ST_MARY
from .test_pure_x12_catalog import HIN_MERCY_WEST
from .test_pure_x12_catalog import MERCY_GENERAL_GLN
from .test_pure_x12_catalog import MERCY_WEST_GLN
from .test_pure_x12_catalog import ST_MARY_GLN
from .test_pure_x12_catalog import VENDOR_GLN
from .test_pure_x12_catalog import interchange

X12 = "application/edi-x12"


def in_units(body):
    """The fixture with its prices per unit (EA), a unit every test database knows."""
    return [s.replace("*BX", "*EA").replace("*CS", "*EA") for s in body]


@tagged("post_install", "-at_install")
class TestContractCatalog(HcCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vendor = cls.make_vendor(VENDOR_GLN)
        Product = cls.env["product.product"]
        Supplierinfo = cls.env["product.supplierinfo"]
        cls.products = {}
        for part, name, list_price in (
            ("MDS192074", "Nitrile exam glove, medium", 15.0),
            ("MSC097001", "Underpad 23x36", 60.0),
            ("2B1324X", "Sodium chloride 0.9% 1000 mL", 2.5),
            ("2C8537", "Solution set", 4.0),
        ):
            product = Product.create({"name": name, "type": "consu", "purchase_ok": True})
            # the vendor's catalogue (list price, every company): how its part numbers
            # are known
            Supplierinfo.create(
                {
                    "partner_id": cls.vendor.id,
                    "product_tmpl_id": product.product_tmpl_id.id,
                    "product_code": part,
                    "price": list_price,
                    "company_id": False,
                }
            )
            cls.products[part] = product
        Identifier = cls.env["hc.partner.identifier"]
        # Mercy General Hospital is this company; Mercy West Clinic one of its sites
        Identifier.create(
            {"partner_id": cls.company.partner_id.id, "scheme": "gln", "value": MERCY_GENERAL_GLN}
        )
        cls.mercy_west = cls.env["res.partner"].create(
            {
                "name": "Mercy West Clinic",
                "parent_id": cls.company.partner_id.id,
                "type": "delivery",
            }
        )
        Identifier.create(
            {"partner_id": cls.mercy_west.id, "scheme": "gln", "value": MERCY_WEST_GLN}
        )
        Identifier.create(
            {
                "partner_id": cls.mercy_west.id,
                "scheme": "source",
                "source_system": "srcplat:hin",
                "value": HIN_MERCY_WEST,
            }
        )
        cls.other_company = cls.env["res.company"].create({"name": "Unrelated Hospital"})

    def post(self, body):
        return self.url_open(
            "/api/hc/v1/contract-prices",
            data=body,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": X12},
        )

    def prices(self, part, contract):
        return (
            self.env["product.supplierinfo"]
            .search(
                [
                    ("product_tmpl_id", "=", self.products[part].product_tmpl_id.id),
                    ("hc_contract_ref", "=", contract),
                ]
            )
            .sorted("min_qty")
        )

    def po_line(self, part, qty, company=None, dest=None):
        company = company or self.company
        order = (
            self.env["purchase.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": self.vendor.id,
                    "company_id": company.id,
                    "dest_address_id": dest.id if dest else False,
                    "order_line": [Command.create({"product_id": self.products[part].id})],
                }
            )
        )
        # the buyer types the quantity: Odoo picks the vendor price (its tier) again
        order.order_line.product_qty = qty
        return order.order_line

    # -- 832 ----------------------------------------------------------------------------

    def test_832_prices_with_tiers_validity_and_facilities_idempotent(self):
        payload = interchange("832", in_units(CATALOG_832))
        response = self.post(payload)
        self.assertEqual(response.status_code, 202, response.text)
        body = response.json()
        self.assertEqual(body["counts"]["created"], 4, "one message per price")
        ack = body["functional_ack"]
        self.assertIn("AK1*SC*832", ack)
        self.assertIn("AK2*832*0001~AK5*A~", ack)
        self.assertIn("AK9*A*1*1*1~", ack)
        messages = self.Inbox.browse([r["id"] for r in body["results"]])
        self.process()
        self.assertEqual(set(messages.mapped("state")), {"done"}, messages.mapped("error_message"))
        self.assertEqual(len(set(messages.mapped("natural_key"))), 4)

        gloves = self.prices("MDS192074", "PP-MS-1234")
        self.assertEqual(
            [(i.min_qty, i.price) for i in gloves], [(0.0, 12.5), (10.0, 11.75), (50.0, 10.9)]
        )
        self.assertEqual(str(gloves[0].date_start), "2026-12-01")
        self.assertEqual(str(gloves[0].date_end), "2027-11-30")
        self.assertEqual(str(gloves[2].date_start), "2027-01-01", "the tier's own DTM")
        # the members are this company as a whole (by GLN) and one of its sites (HIN):
        # a price of the company, not narrowed to the site
        self.assertEqual(gloves.company_id, self.company)
        self.assertFalse(gloves.hc_facility_partner_ids)
        self.assertEqual(gloves.partner_id, self.vendor)
        underpad = self.prices("MSC097001", "PP-MS-9999")
        self.assertEqual((underpad.price, str(underpad.date_end)), (45.0, "2027-06-30"))
        self.assertEqual(underpad.hc_facility_partner_ids, self.mercy_west)
        self.assertEqual(underpad.hc_facility_key, f"gln={MERCY_WEST_GLN}")

        # the same interchange again: duplicates, nothing new
        again = self.post(payload).json()
        self.assertEqual(again["counts"]["duplicate"], 4, again)
        # resent under a new interchange control number: new messages, prices unchanged
        resent = payload.replace(b"000000832", b"000000833")
        body = self.post(resent).json()
        self.assertEqual(body["counts"]["created"], 4, body)
        self.process()
        replayed = self.Inbox.browse([r["id"] for r in body["results"]])
        self.assertEqual(set(replayed.mapped("state")), {"done"})
        self.assertTrue(all("unchanged" in s for s in replayed.mapped("result_summary")))
        self.assertEqual(len(self.prices("MDS192074", "PP-MS-1234")), 3)
        self.assertEqual(len(self.prices("MSC097001", "PP-MS-9999")), 1)

    def test_po_line_gets_the_contract_price_only_where_eligible(self):
        self.post(interchange("832", in_units(CATALOG_832)))
        self.process()
        self.assertEqual(len(self.prices("MDS192074", "PP-MS-1234")), 3)
        # this company: the tier its quantity reaches (the 50 tier starts in 2027)
        self.assertEqual(self.po_line("MDS192074", 1).price_unit, 12.5)
        line = self.po_line("MDS192074", 60)
        self.assertEqual(line.price_unit, 11.75)
        # a company the contract does not name: the vendor's list price
        self.assertEqual(self.po_line("MDS192074", 60, company=self.other_company).price_unit, 15.0)
        # the underpad's price is for Mercy West only: not on an order for the hospital
        self.assertEqual(self.po_line("MSC097001", 1).price_unit, 60.0)
        self.assertEqual(self.po_line("MSC097001", 1, dest=self.mercy_west).price_unit, 45.0)

    def test_expired_price_refused_at_intake_the_rest_applied(self):
        body = [s.replace("DTM*036*20271130", "DTM*036*20261130") for s in in_units(CATALOG_832)]
        body = [s.replace("DTM*007*20261201", "DTM*007*20260101") for s in body]
        response = self.post(interchange("832", body))
        result = response.json()
        self.assertEqual(
            result["counts"], {"created": 1, "duplicate": 0, "rejected": 3, "conflict": 0}
        )
        codes = [
            r["error"]["fields"][0]["code"] for r in result["results"] if r["status"] == "rejected"
        ]
        self.assertEqual(codes, ["x12_price_expired", "x12_price_expired", "x12_price_range"])
        # one price of the set is taken: the set is accepted, its refusals are answered here
        self.assertIn("AK5*A", result["functional_ack"])

    # -- 845 ----------------------------------------------------------------------------

    def test_845_waits_for_unknown_members_then_applies(self):
        parts = split("contract_price", X12, interchange("845", in_units(AUTHORIZATION_845)))
        self.assertEqual(len(parts), 3)
        doc_type = self.doc_types.filtered(lambda d: d.code == "contract_price")
        accepted = self.Inbox._accept(self.connector, doc_type, self.company, X12, parts)
        messages = self.Inbox.browse([m.id for m, _status in accepted])
        self.process()
        self.assertEqual(set(messages.mapped("state")), {"waiting"})
        self.assertEqual(set(messages.mapped("waiting_key")), {f"facility:gln={ST_MARY_GLN}"})
        exception = self.env["hc.exception"].search(
            [("dedup_key", "=", f"unknown_facility:gln={ST_MARY_GLN}")]
        )
        self.assertTrue(exception, "a steward is told which facility is unknown")
        self.assertFalse(self.prices("2B1324X", "VA-GPO-778"))
        # the steward registers St Mary (GLN, then the pharmacy's DEA number)
        st_mary = self.env["res.partner"].create(
            {"name": "St Mary Medical Center", "parent_id": self.company.partner_id.id}
        )
        Identifier = self.env["hc.partner.identifier"]
        Identifier.create({"partner_id": st_mary.id, "scheme": "gln", "value": ST_MARY_GLN})
        self.process()
        self.assertEqual(messages[2].state, "done", messages[2].error_message)
        self.assertEqual(messages[0].waiting_key, f"facility:dea={DEA_ST_MARY}")
        pharmacy = self.env["res.partner"].create(
            {"name": "St Mary Outpatient Pharmacy", "parent_id": st_mary.id}
        )
        Identifier.create(
            {
                "partner_id": pharmacy.id,
                "scheme": "source",
                "source_system": "srcplat:dea",
                "value": DEA_ST_MARY,
            }
        )
        self.process()
        self.assertEqual(set(messages.mapped("state")), {"done"}, messages.mapped("error_message"))
        saline = self.prices("2B1324X", "VA-GPO-778")
        self.assertEqual([(i.min_qty, i.price) for i in saline], [(0.0, 1.85), (480.0, 1.62)])
        self.assertEqual(saline[0].hc_facility_partner_ids, st_mary | pharmacy)
        self.assertEqual(str(saline[1].date_start), "2027-04-01")
        self.assertEqual(str(saline[1].date_end), "2027-12-31")
        solution_set = self.prices("2C8537", "VA-GPO-778")
        self.assertEqual(solution_set.hc_facility_partner_ids, st_mary)

    def test_845_in_005010_is_acknowledged_with_a_999(self):
        payload = interchange(
            "845", in_units(AUTHORIZATION_845), version="00501", gs_version="005010"
        )
        body = self.post(payload).json()
        self.assertEqual(body["counts"]["created"], 3, body)
        self.assertIn("ST*999*0001", body["functional_ack"])
        self.assertIn("IK5*A", body["functional_ack"])
