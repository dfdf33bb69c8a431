"""The exception explains itself (figures, tolerance, rule), one work item per bill, and
the Blocked bills worklist: read as the AP clerk's and the AP manager's own users."""

from ast import literal_eval

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase
from odoo.tests import tagged

from .test_three_way_match import MatchCase

EXPLAIN_FIELDS = [
    "explain_check",
    "explain_kind",
    "explain_rule",
    "explain_tolerance",
    "explain_product_id",
    "explain_uom",
    "explain_ordered_qty",
    "explain_received_qty",
    "explain_billed_qty",
    "explain_billable_qty",
    "explain_po_price",
    "explain_contract_price",
    "explain_bill_price",
    "explain_price_difference",
    "explain_price_allowed",
    "explain_qty_difference",
    "explain_qty_allowed",
    "explain_expected",
    "explain_actual",
    "explain_difference",
    "explain_allowed",
    "match_line_ids",
    "sibling_ids",
]


@tagged("post_install", "-at_install")
class TestMatchExplain(MatchCase):
    """The clerk users of MatchCase hold the AP Clerk role only (it implies Billing); the
    manager the AP Manager role only (it implies Accounting manager)."""

    def exception(self, bill, exc_type):
        exc = self.env["hc.exception"].search(
            [("move_id", "=", bill.id), ("exception_type", "=", exc_type)]
        )
        self.assertEqual(len(exc), 1, f"one {exc_type} on {bill.display_name}")
        return exc

    def read_as_clerk(self, exc):
        """What the clerk's form shows: every explanation field, read as that user."""
        [values] = exc.with_user(self.clerk_b).read(EXPLAIN_FIELDS)
        return values

    def plain_bill(self, lines, **vals):
        return (
            self.env["account.move"]
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": self.vendor.id,
                    "invoice_date": "2026-11-20",
                    "ref": vals.pop("ref", "INV-PLAIN"),
                    "invoice_line_ids": [Command.create(line) for line in lines],
                    **vals,
                }
            )
            .sudo()
        )

    def test_price_variance_explains_prices_difference_tolerance_and_rule(self):
        bill = self.make_bill(self.make_po(), price=10.5)  # 5 % over the PO's 10.00
        self.match(bill)
        exc = self.exception(bill, "price_variance")
        values = self.read_as_clerk(exc)
        self.assertEqual(values["explain_check"], "price")
        self.assertEqual(values["explain_product_id"][0], self.product.id)
        self.assertEqual(
            (values["explain_ordered_qty"], values["explain_received_qty"]), (10.0, 10.0)
        )
        self.assertEqual(values["explain_billed_qty"], 10.0)
        self.assertEqual((values["explain_po_price"], values["explain_bill_price"]), (10.0, 10.5))
        self.assertAlmostEqual(values["explain_price_difference"], 0.5)
        self.assertAlmostEqual(values["explain_price_allowed"], 0.2)
        self.assertIn("2.0% (", values["explain_tolerance"])
        self.assertIn("Default", values["explain_tolerance"], "names the tolerance rule")
        self.assertTrue(values["explain_rule"].startswith("price check: "))
        self.assertEqual(exc.currency_id, bill.currency_id)
        # the comparison of the exception's line, the failing figure flagged
        [line] = exc.with_user(self.clerk_b).match_line_ids
        self.assertEqual(line.move_line_id, exc.explain_line_id)
        self.assertTrue(line.price_failed)
        self.assertFalse(line.qty_failed or line.receipt_failed)
        self.assertAlmostEqual(line.price_difference, 0.5)
        self.assertIn(bill.invoice_line_ids.purchase_line_id.order_id.name, line.po_line_label)
        self.assertIn(self.product.name, line.line_label)
        self.assertTrue(line.receipt_label, "the receipt is named")
        # the description names the line as people do (position, product), never its id
        bill_line = bill.invoice_line_ids
        self.assertIn(f"on bill line 1 ({self.product.display_name[:40]})", exc.description)
        self.assertNotIn(f"line {bill_line.id}:", exc.description)

    def test_qty_variance_explains_quantities(self):
        bill = self.make_bill(self.make_po(receive=8), qty=10)
        self.match(bill)
        values = self.read_as_clerk(self.exception(bill, "qty_variance"))
        self.assertEqual(values["explain_check"], "quantity")
        self.assertEqual(
            (
                values["explain_ordered_qty"],
                values["explain_received_qty"],
                values["explain_billed_qty"],
                values["explain_billable_qty"],
            ),
            (10.0, 8.0, 10.0, 8.0),
        )
        self.assertEqual(values["explain_qty_difference"], 2.0)
        self.assertEqual(values["explain_qty_allowed"], 0.0)
        self.assertTrue(values["explain_rule"].startswith("quantity check: "))
        [line] = self.exception(bill, "qty_variance").match_line_ids
        self.assertTrue(line.qty_failed)
        self.assertEqual(line.qty_difference, 2.0)

    def test_missing_receipt_explains_nothing_received(self):
        bill = self.make_bill(self.make_po(receive=0), qty=4)
        self.match(bill)
        values = self.read_as_clerk(self.exception(bill, "missing_receipt"))
        self.assertEqual(values["explain_check"], "receipt")
        self.assertEqual(values["explain_rule"], "receipt check: nothing received yet")
        self.assertEqual((values["explain_received_qty"], values["explain_billed_qty"]), (0.0, 4.0))
        self.assertEqual(values["explain_qty_difference"], 4.0)
        [line] = self.exception(bill, "missing_receipt").match_line_ids
        self.assertTrue(line.receipt_failed)

    def test_contract_price_mismatch_and_siblings_on_one_bill(self):
        self.env["product.supplierinfo"].create(
            {
                "partner_id": self.vendor.id,
                "product_id": self.product.id,
                "product_tmpl_id": self.product.product_tmpl_id.id,
                "price": 9.0,
                "hc_contract_ref": "GPO-7",
            }
        )
        bill = self.make_bill(self.make_po(), price=10.5)
        self.match(bill)
        contract = self.exception(bill, "contract_price_mismatch")
        price = self.exception(bill, "price_variance")
        values = self.read_as_clerk(contract)
        self.assertEqual(values["explain_check"], "contract_price")
        self.assertEqual(
            (
                values["explain_po_price"],
                values["explain_contract_price"],
                values["explain_bill_price"],
            ),
            (10.0, 9.0, 10.5),
        )
        self.assertAlmostEqual(values["explain_price_difference"], 1.5)
        self.assertEqual(contract.explain_contract_ref, "GPO-7")
        # one work item per bill: each exception lists the other, with its owner
        self.assertEqual(values["sibling_ids"], price.ids)
        self.assertEqual(price.with_user(self.clerk_b).sibling_ids, contract)
        action = contract.with_user(self.clerk_b).action_resolve_bill()
        self.assertEqual(
            set(action["context"]["default_exception_ids"]), set((contract | price).ids)
        )
        as_clerk = bill.with_user(self.clerk_b)
        self.assertEqual(as_clerk.hc_open_exception_ids, contract | price)
        self.assertEqual(as_clerk.hc_block_reasons, "Price variance, Contract price mismatch")
        self.assertEqual(as_clerk.hc_block_owner_ids, (contract | price).owner_id)
        # accepting one leaves the bill blocked by the other, which still says so
        self.env["hc.exception.resolve.wizard"].with_user(self.clerk_b).create(
            {"exception_ids": price.ids, "action": "accept", "reason": "agreed increase"}
        ).action_confirm()
        self.assertEqual(bill.hc_match_state, "blocked")
        self.assertEqual(price.with_user(self.clerk_b).sibling_ids, contract)
        self.assertEqual(bill.with_user(self.clerk_b).hc_block_reasons, "Contract price mismatch")
        # deciding everything of the bill at once releases it
        self.env["hc.exception.resolve.wizard"].with_user(self.clerk_b).create(
            {"exception_ids": bill.hc_open_exception_ids.ids, "action": "accept", "reason": "ok"}
        ).action_confirm()
        self.assertEqual(bill.hc_match_state, "accepted")
        self.assertFalse(bill.hc_open_exception_ids)

    def test_no_po_explains_the_billed_line(self):
        bill = self.plain_bill(
            [
                {
                    "product_id": self.product.id,
                    "quantity": 3,
                    "price_unit": 4.0,
                    "tax_ids": [Command.clear()],
                }
            ]
        )
        self.match(bill)
        values = self.read_as_clerk(self.exception(bill, "no_po"))
        self.assertEqual(values["explain_check"], "po_link")
        self.assertIn("no purchase order line is linked", values["explain_rule"])
        self.assertEqual((values["explain_billed_qty"], values["explain_bill_price"]), (3.0, 4.0))
        self.assertEqual(values["explain_product_id"][0], self.product.id)

    def test_uom_mismatch_explains_both_sides(self):
        po = self.make_po()
        kg = self.env.ref("uom.product_uom_kgm")
        bill = self.make_bill(po)
        bill.invoice_line_ids.product_uom_id = kg
        self.match(bill)
        values = self.read_as_clerk(self.exception(bill, "uom_mismatch"))
        self.assertEqual(values["explain_check"], "uom")
        self.assertTrue(values["explain_rule"].startswith("unit conversion"))
        self.assertEqual((values["explain_ordered_qty"], values["explain_po_price"]), (10.0, 10.0))

    def test_total_variance_explains_amounts(self):
        self.company_rule.total_pct = 1.0
        bill = self.make_bill(self.make_po(), price=10.15)  # 1.5 % each: line OK, total not
        self.match(bill)
        exc = self.exception(bill, "total_variance")
        values = self.read_as_clerk(exc)
        self.assertEqual(values["explain_check"], "bill_total")
        self.assertEqual(values["explain_kind"], "amount")
        self.assertEqual((values["explain_expected"], values["explain_actual"]), (100.0, 101.5))
        self.assertEqual((values["explain_difference"], values["explain_allowed"]), (1.5, 1.0))
        self.assertTrue(values["explain_rule"].startswith("bill total check: 1"))
        self.assertEqual(len(values["match_line_ids"]), 1, "a bill-level problem: every line")

    def test_charge_variance_explains_the_charges(self):
        po = self.make_po()
        bill = self.make_bill(po)
        bill.write(
            {
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Freight",
                            "quantity": 1,
                            "price_unit": 10.0,
                            "hc_charge_kind": "charge",
                            "tax_ids": [Command.clear()],
                        }
                    )
                ]
            }
        )
        self.match(bill)
        values = self.read_as_clerk(self.exception(bill, "charge_variance"))
        self.assertEqual(values["explain_check"], "charges")
        self.assertEqual(values["explain_actual"], 10.0)

    def test_stated_tax_and_total_explain_the_supplier_figures(self):
        bill = self.make_bill(self.make_po())
        bill.hc_stated_amounts = {"untaxed": "100.00", "tax": "5.00", "total": "105.00"}
        self.match(bill)
        values = self.read_as_clerk(self.exception(bill, "tax_variance"))
        self.assertEqual(values["explain_check"], "stated_tax")
        self.assertEqual((values["explain_actual"], values["explain_expected"]), (0.0, 5.0))
        self.assertEqual(values["explain_difference"], -5.0)
        bill2 = self.make_bill(self.make_po())
        bill2.hc_stated_amounts = {"untaxed": "90.00", "total": "90.00"}
        self.match(bill2)
        values = self.read_as_clerk(self.exception(bill2, "total_mismatch"))
        self.assertEqual(values["explain_check"], "stated_untaxed")
        self.assertEqual((values["explain_actual"], values["explain_expected"]), (100.0, 90.0))

    def test_clerk_cannot_rewrite_the_explanation(self):
        bill = self.make_bill(self.make_po(), price=10.5)
        self.match(bill)
        exc = self.exception(bill, "price_variance")
        for vals in ({"explain_price_difference": 0.0}, {"explain_rule": "nothing to see"}):
            with self.assertRaises(AccessError):
                exc.with_user(self.clerk_b).write(vals)
        self.assertAlmostEqual(exc.explain_price_difference, 0.5)

    def test_form_views_load_for_the_clerk(self):
        for model in ("hc.exception", "hc.bill.match.line", "account.move"):
            views = self.env[model].with_user(self.clerk_b).get_views([(False, "form")])
            self.assertTrue(views["views"]["form"]["arch"])
        arch = self.env["hc.exception"].with_user(self.clerk_b).get_views([(False, "form")])
        self.assertIn("explain_rule", arch["views"]["form"]["arch"])
        self.assertIn("match_line_ids", arch["views"]["form"]["arch"])

    def test_vendor_bills_list_has_match_state_and_blocked_filter(self):
        Move = self.env["account.move"].with_user(self.clerk_b)
        views = Move.get_views(
            [
                (self.env.ref("account.view_in_invoice_bill_tree").id, "list"),
                (self.env.ref("account.view_account_invoice_filter").id, "search"),
            ]
        )
        self.assertIn('name="hc_match_state"', views["views"]["list"]["arch"])
        self.assertIn('name="hc_blocked"', views["views"]["search"]["arch"])

    def test_blocked_bills_worklist_lists_reasons_age_and_owner(self):
        blocked = self.make_bill(self.make_po(), price=10.5)
        released = self.make_bill(self.make_po())
        self.match(blocked)
        self.match(released)
        action = self.env.ref("healthcare_p2p_integration.action_hc_blocked_bills")
        Move = self.env["account.move"].with_user(self.manager)
        bills = Move.search(literal_eval(action.domain))
        self.assertIn(blocked, bills)
        self.assertNotIn(released, bills)
        [row] = bills.filtered(lambda b: b == blocked).read(
            ["hc_block_reasons", "hc_blocked_days", "hc_block_owner_ids", "amount_total"]
        )
        self.assertEqual(row["hc_block_reasons"], "Price variance")
        self.assertEqual(row["hc_blocked_days"], 0)
        self.assertEqual(row["hc_block_owner_ids"], self.clerk_b.ids)


@tagged("post_install", "-at_install")
class TestSupervisorTour(MatchCase, HttpCase):
    def test_supervisor_opens_the_blocked_bills_worklist(self):
        """The demo's AP manager (the AP Manager role and nothing else) opens Blocked
        bills, then a bill and what blocks it."""
        bill = self.make_bill(self.make_po(), price=10.5, user=self.clerk)
        self.match(bill)
        self.make_demo_user("ap.manager")
        self.start_tour("/odoo", "hc_supervisor_blocked_bills_tour", login="ap.manager")
