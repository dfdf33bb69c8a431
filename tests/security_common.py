"""Fixtures of the security tests: two facilities (companies), each with its documents."""

import json

from odoo import Command

from .common import HcCase

MODULE = "healthcare_p2p_integration"
ROLES = ("connector", "auditor", "supply", "clerk", "manager", "admin")
ROLE_GROUPS = {
    "connector": "group_hc_connector",
    "auditor": "group_hc_auditor",
    "supply": "group_hc_supply_chain",
    "clerk": "group_hc_ap_clerk",
    "manager": "group_hc_ap_manager",
    "admin": "group_hc_integration_admin",
}


class CallKwMixin:
    """Calls a model method as the web client does (mixed into an ``HttpCase`` whose
    user is authenticated): ``/web/dataset/call_kw/<model>/<method>`` over JSON-RPC."""

    def call_kw(self, model, method, args=(), kwargs=None, context=None):
        """``(result, error)``: the JSON-RPC result, or Odoo's error object (``data``
        holds the exception's ``name`` and ``message``) when the call was refused."""
        kwargs = dict(kwargs or {})
        if context is not None:
            kwargs["context"] = context
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": model,
                        "method": method,
                        "args": list(args),
                        "kwargs": kwargs,
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        return body.get("result"), body.get("error")


class TwoCompanyCase(HcCase):
    """Company A (the test company, connector ``srcplat``) and company B (facility B),
    each with a chart of accounts, a shared vendor and product, a confirmed purchase
    order and a vendor bill."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company
        cls.company_b = cls.env["res.company"].create(
            {"name": "Facility B", "currency_id": cls.company_a.currency_id.id}
        )
        cls.env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company_b, install_demo=False
        )
        cls.env.user.company_ids |= cls.company_b
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Shared Medical Supply", "is_company": True, "supplier_rank": 1}
        )
        cls.env["hc.partner.identifier"].create(
            {"partner_id": cls.vendor.id, "scheme": "gln", "value": "0614141000012"}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Exam gloves",
                "is_storable": True,
                "barcode": "00614141000029",
                "default_code": "GL-100",
            }
        )
        cls.connector_b = cls.env["hc.connector"].create(
            {
                "name": "Facility B receiving",
                "code": "facb",
                "company_id": cls.company_b.id,
                "allowed_doc_type_ids": [Command.set(cls.doc_types.ids)],
            }
        )

    @classmethod
    def make_po(cls, company, name, qty=10, price=2.0):
        order = (
            cls.env["purchase.order"]
            .with_company(company)
            .create(
                {
                    "name": name,
                    "partner_id": cls.vendor.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_qty": qty,
                                "price_unit": price,
                                "hc_line_ref": "1",
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        order.button_confirm()
        return order

    @classmethod
    def make_bill(cls, company, ref, amount=100.0, order=None, user=None):
        line = {"name": "Gloves", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
        if order:
            pol = order.order_line[:1]
            line.update(
                product_id=pol.product_id.id,
                quantity=pol.product_qty,
                price_unit=amount / pol.product_qty,
                purchase_line_id=pol.id,
            )
        Move = cls.env["account.move"]
        if user:
            Move = Move.with_user(user)
        return (
            Move.with_company(company)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": cls.vendor.id,
                    "company_id": company.id,
                    "ref": ref,
                    "invoice_date": "2026-11-20",
                    "invoice_line_ids": [Command.create(line)],
                }
            )
            .sudo()
        )

    @classmethod
    def make_user(cls, login, role, company, extra_groups=()):
        groups = [cls.env.ref(f"{MODULE}.{ROLE_GROUPS[role]}")]
        groups += [cls.env.ref(xmlid) for xmlid in extra_groups]
        return (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": login,
                    "login": login,
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "group_ids": [Command.set([g.id for g in groups])],
                }
            )
        )

    def accept_for(self, doc, doc_type, company, connector=None):
        """Store ``doc`` as the API would for ``company``; return the message."""
        doc_type = self.doc_types.filtered(lambda d: d.code == doc_type)
        [(message, _status)] = self.Inbox._accept(
            connector or self.connector,
            doc_type,
            company,
            "application/json",
            [self.raw(doc)],
        )
        return message

    def run_for(self, doc, doc_type, company, connector=None):
        message = self.accept_for(doc, doc_type, company, connector)
        self.process()
        return message
