"""Fixtures of the credentialing, screening and approval tests: role users (never admin),
a vendor, a product in a category, and exclusion list files in their published layouts."""

import io

from odoo import Command

from .security_common import MODULE
from .security_common import TwoCompanyCase

LEIE_HEADER = (
    "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,"
    "ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n"
)
SAM_HEADER = (
    '"Classification","Name","Prefix","First","Middle","Last","Suffix","Address 1",'
    '"Address 2","Address 3","Address 4","City","State / Province","Country","Zip Code",'
    '"Open Data Flag","Blank (Deprecated)","Unique Entity ID","Exclusion Program",'
    '"Excluding Agency","CT Code","Exclusion Type","Additional Comments","Active Date",'
    '"Termination Date","Record Status","Cross-Reference","SAM Number","CAGE","NPI",'
    '"Creation_Date"\n'
)


def leie_file(*rows):
    """An LEIE ``UPDATED.csv`` with ``rows`` (business name, NPI) as business entries."""
    lines = [LEIE_HEADER]
    for name, npi in rows:
        lines.append(
            f',,,"{name}",DME COMPANY,,,{npi or "0000000000"},,"1 MAIN ST",BOSTON,MA,02110,'
            "1128b7,20200115,00000000,00000000,\n"
        )
    return io.BytesIO("".join(lines).encode("utf-8"))


def sam_file(*rows):
    """A SAM.gov exclusions extract with ``rows`` (firm name, UEI)."""
    lines = [SAM_HEADER]
    for name, uei in rows:
        lines.append(
            f'"Firm","{name}","","","","","","9 Harbor Rd","","","","Miami","FL","USA","33101",'
            f'"","","{uei}","Reciprocal","HHS","Z1","Ineligible (Proceedings Complete)","",'
            '"05/01/2024","Indefinite","Active","","S4MR3A9B1","","","05/02/2024"\n'
        )
    return io.BytesIO("".join(lines).encode("utf-8"))


class CredentialingCase(TwoCompanyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        A = cls.company_a
        cls.buyer = cls.role_user("cred_buyer", ["group_hc_supply_chain"])
        cls.clerk = cls.role_user("cred_clerk", ["group_hc_ap_clerk"])
        cls.manager = cls.role_user("cred_apmgr", ["group_hc_ap_manager"])
        cls.officer = cls.role_user("cred_officer", ["group_hc_vendor_compliance"])
        cls.officer2 = cls.role_user("cred_officer2", ["group_hc_vendor_compliance"])
        cls.purchase_manager = cls.role_user(
            "cred_pmgr", ["group_hc_supply_chain"], ["purchase.group_purchase_manager"]
        )
        cls.vendor.write({"name": "Acme Medical Supply, Inc.", "hc_npi": False})
        A.po_double_validation = "one_step"

    @classmethod
    def role_user(cls, login, module_groups, other_groups=()):
        groups = [cls.env.ref(f"{MODULE}.{g}").id for g in module_groups]
        groups += [cls.env.ref(x).id for x in other_groups]
        return (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": login,
                    "login": login,
                    "password": f"{login}_pw!",
                    "company_id": cls.company_a.id,
                    "company_ids": [Command.set(cls.company_a.ids)],
                    "group_ids": [Command.set(groups)],
                }
            )
        )

    @classmethod
    def draft_po(cls, user, qty=10, price=2.0, product=None, partner=None):
        return (
            cls.env["purchase.order"]
            .with_user(user)
            .with_company(cls.company_a)
            .create(
                {
                    "partner_id": (partner or cls.vendor).id,
                    "company_id": cls.company_a.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": (product or cls.product).id,
                                "product_qty": qty,
                                "price_unit": price,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )

    def audit(self, action, record):
        return self.env["hc.audit.log"].search(
            [("action", "=", action), ("res_model", "=", record._name), ("res_id", "=", record.id)]
        )
