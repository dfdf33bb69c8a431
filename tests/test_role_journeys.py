"""Every step of the AP clerk, AP manager and supply chain journeys, as the demo's own users.

Each user is created as the demo creates it (simulator/odoo_setup.py): its module role and
nothing else.  The role must bring the Odoo rights the work needs (issue 16: the demo's
clerk and manager ended every journey in an Access Error on account.move or
purchase.order), while the segregation-of-duties controls stay the module's.
"""

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_three_way_match import MatchCase

MODULE = "healthcare_p2p_integration"


@tagged("post_install", "-at_install")
class TestRoleJourneys(MatchCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap_clerk = cls.make_demo_user("ap.clerk")
        cls.ap_manager = cls.make_demo_user("ap.manager")
        cls.supply = cls.make_demo_user("supply.chain")
        cls.steward = cls.make_demo_user("data.steward")  # an integration administrator

    # -- what the web client does ----------------------------------------------------

    def as_user(self, records, user):
        return records.with_user(user).with_context(allowed_company_ids=user.company_ids.ids)

    def open_form(self, user, record):
        """Open ``record``'s form as ``user``: load the form view, read every field it
        shows (with the names of the records it links to)."""
        Model = self.as_user(self.env[record._name], user)
        views = Model.get_views([(False, "form")])
        fields = views["models"][record._name]["fields"]
        spec = {
            name: {"fields": {"display_name": {}}} if desc["type"] == "many2one" else {}
            for name, desc in fields.items()
        }
        [values] = Model.browse(record.id).web_read(spec)
        return values

    def run_action(self, user, action):
        """Follow an action a button returned: open the record it points to."""
        self.assertEqual(action["type"], "ir.actions.act_window")
        record = self.env[action["res_model"]].browse(action["res_id"])
        return self.open_form(user, record)

    def decide(self, user, exceptions, action, reason="checked with the vendor", **vals):
        wizard = self.as_user(self.env["hc.exception.resolve.wizard"], user).create(
            {"exception_ids": exceptions.ids, "action": action, "reason": reason, **vals}
        )
        result = wizard.action_confirm()
        # a decision says what it did, then closes the dialog
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(result["params"]["next"], {"type": "ir.actions.act_window_close"})
        return result["params"]["message"]

    def blocked(self, price=10.4, receive=None):
        bill = self.make_bill(self.make_po(receive=receive), price=price, user=self.manager)
        self.match(bill)
        self.assertEqual(bill.hc_match_state, "blocked")
        exc = self.env["hc.exception"].search([("move_id", "=", bill.id)])
        self.assertTrue(exc)
        return bill, exc

    # -- the roles -------------------------------------------------------------------

    def test_demo_users_have_only_their_role_and_its_odoo_rights(self):
        own = {
            self.ap_clerk: "group_hc_ap_clerk",
            self.ap_manager: "group_hc_ap_manager",
            self.supply: "group_hc_supply_chain",
            self.steward: "group_hc_integration_admin",
        }
        for user, group in own.items():
            self.assertEqual(user.group_ids, self.env.ref(f"{MODULE}.{group}"))
        self.assertTrue(self.ap_clerk.has_group("account.group_account_invoice"))
        self.assertFalse(self.ap_clerk.has_group("account.group_account_manager"))
        self.assertTrue(self.ap_manager.has_group("account.group_account_manager"))
        self.assertTrue(self.supply.has_group("stock.group_stock_user"))
        self.assertTrue(self.supply.has_group("purchase.group_purchase_user"))
        self.assertFalse(self.supply.has_group("account.group_account_invoice"))
        # segregation of duties: an integration administrator neither pays nor approves
        for group in (f"{MODULE}.group_hc_ap_clerk", "account.group_account_invoice"):
            self.assertFalse(self.steward.has_group(group), group)

    # -- the AP clerk ----------------------------------------------------------------

    def test_clerk_opens_the_exception_its_bill_order_and_document(self):
        bill, exc = self.blocked()
        form = self.open_form(self.ap_clerk, exc)
        self.assertEqual(form["move_id"]["id"], bill.id)
        self.assertEqual(form["move_id"]["display_name"], bill.display_name)
        self.assertEqual(self.open_form(self.ap_clerk, bill)["hc_match_state"], "blocked")
        po = bill.invoice_line_ids.purchase_line_id.order_id
        self.assertEqual(self.open_form(self.ap_clerk, po)["name"], po.name)
        self.open_form(self.ap_clerk, po.picking_ids[:1])
        for line in bill.hc_match_line_ids:
            self.open_form(self.ap_clerk, line)
        if exc.res_model:
            self.run_action(self.ap_clerk, self.as_user(exc, self.ap_clerk).action_open_document())
        # the Resolve... button opens a dialog named after what is decided
        action = self.as_user(exc, self.ap_clerk).action_resolve()
        self.assertEqual(action["name"], f"Resolve: {exc.name}")

    def test_clerk_accepts_a_variance_and_the_bill_is_released(self):
        bill, exc = self.blocked()
        message = self.decide(self.ap_clerk, exc, "accept", "surcharge agreed")
        self.assertEqual(exc.state, "resolved")
        self.assertFalse(exc.hint, "the next step is done")
        self.assertTrue(bill.hc_released)
        self.assertIn(bill.display_name, message)
        self.assertEqual(self.open_form(self.ap_clerk, bill)["hc_match_state"], "accepted")

    def test_clerk_waits_for_the_receipt(self):
        _bill, exc = self.blocked(price=10.0, receive=0)
        self.assertEqual(exc.exception_type, "missing_receipt")
        self.decide(self.ap_clerk, exc, "wait_receipt", reason="")
        self.assertEqual(exc.state, "waiting")

    def test_clerk_requests_a_credit_note_rejects_and_reassigns(self):
        _bill, exc = self.blocked()
        self.decide(self.ap_clerk, exc, "reassign", owner_id=self.clerk_b.id)
        self.assertEqual(exc.owner_id, self.clerk_b)
        self.assertEqual(exc.state, "in_progress")
        self.decide(self.ap_clerk, exc, "credit_note")
        self.assertEqual(exc.state, "waiting")
        bill, exc = self.blocked(price=10.45)
        self.decide(self.ap_clerk, exc, "reject", "not what we ordered")
        self.assertEqual(bill.state, "cancel")

    def test_clerk_is_still_refused_what_the_duties_forbid(self):
        # above the acceptance threshold (50.00 at stake): a manager's decision
        _bill, exc = self.blocked(price=20.0)
        with self.assertRaisesRegex(UserError, "AP manager"):
            self.decide(self.ap_clerk, exc, "accept")
        self.assertEqual(exc.state, "new")
        # the clerk changes no tolerance and no AP control
        with self.assertRaises(AccessError):
            self.as_user(self.company_rule, self.ap_clerk).write({"price_pct": 50})
        with self.assertRaises(AccessError):
            self.as_user(self.env["hc.ap.settings"], self.ap_clerk).create({})

    # -- the AP manager --------------------------------------------------------------

    def test_manager_accepts_above_the_threshold(self):
        bill, exc = self.blocked(price=20.0)
        self.open_form(self.ap_manager, exc)
        self.open_form(self.ap_manager, bill)
        self.decide(self.ap_manager, exc, "accept", "price increase agreed")
        self.assertTrue(bill.hc_released)

    def test_manager_sets_the_ap_controls_without_the_settings_app(self):
        self.assertFalse(self.ap_manager.has_group("base.group_system"))
        settings = self.as_user(self.env["hc.ap.settings"], self.ap_manager).create({})
        self.assertEqual(settings.rule_id, self.company_rule)
        self.assertEqual(settings.price_pct, 2.0)
        self.assertEqual(settings.hc_accept_threshold, 50.0)
        settings.write({"price_pct": 3.0, "hc_accept_threshold": 80.0})
        result = settings.action_save()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(self.company_rule.price_pct, 3.0)
        self.assertEqual(self.company.hc_accept_threshold, 80.0)
        Audit = self.env["hc.audit.log"]
        changed = Audit.search(
            [("action", "=", "company_settings_changed"), ("res_id", "=", self.company.id)],
            limit=1,
        )
        self.assertEqual(changed.user_id, self.ap_manager)
        self.assertEqual(changed.data["hc_accept_threshold"]["new"], 80.0)
        tolerance = Audit.search(
            [("action", "=", "tolerance_changed"), ("res_id", "=", self.company_rule.id)],
            limit=1,
        )
        self.assertEqual(tolerance.user_id, self.ap_manager)
        # the segregation-of-duties switch is audited as an override
        settings = self.as_user(self.env["hc.ap.settings"], self.ap_manager).create({})
        settings.hc_sod_creator_cannot_accept = False
        settings.action_save()
        self.assertFalse(self.company.hc_sod_creator_cannot_accept)
        sod = Audit.search([("action", "=", "sod_settings_changed")], limit=1)
        self.assertEqual(sod.user_id, self.ap_manager)

    def test_whatif_starts_from_the_edited_values_lists_and_applies(self):
        bills = [self.blocked(price=10.3)[0] for _i in range(2)]  # 3 % > 2 %
        touchless = self.make_bill(self.make_po(), price=10.0, user=self.manager)
        self.match(touchless)
        self.assertEqual(touchless.hc_match_state, "matched")
        # from the AP controls, with a value edited there and not saved
        settings = self.as_user(self.env["hc.ap.settings"], self.ap_manager).create({})
        settings.price_pct = 5.0
        action = settings.action_whatif()
        self.assertEqual(self.company_rule.price_pct, 2.0, "nothing saved")
        self.assertTrue(action["name"])
        Whatif = self.as_user(self.env["hc.tolerance.whatif.wizard"], self.ap_manager)
        whatif = Whatif.with_context(**action["context"]).create({})
        self.assertEqual(whatif.rule_id, self.company_rule)
        self.assertEqual((whatif.price_pct, whatif.total_pct), (5.0, 2.0))
        # from the rule: its own values, never an empty form
        action = self.as_user(self.company_rule, self.ap_manager).action_whatif()
        whatif = Whatif.with_context(**action["context"]).create({})
        self.assertEqual((whatif.price_pct, whatif.total_pct), (2.0, 2.0))
        whatif.write({"price_pct": 5.0, "total_pct": 5.0})
        whatif.action_simulate()
        self.assertEqual(whatif.newly_released, 2)
        self.assertEqual(whatif.line_ids.move_id, bills[0] | bills[1])
        self.assertEqual(set(whatif.line_ids.mapped("change")), {"release"})
        self.assertEqual(set(whatif.line_ids.mapped("current_state")), {"blocked"})
        self.assertAlmostEqual(sum(whatif.line_ids.mapped("amount")), 206.0)
        self.assertAlmostEqual(whatif.released_amount, 206.0)
        self.assertEqual(
            {b.hc_match_state for b in bills}, {"blocked"}, "a what-if changes nothing"
        )
        result = whatif.action_apply()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual((self.company_rule.price_pct, self.company_rule.total_pct), (5.0, 5.0))
        entry = self.env["hc.audit.log"].search(
            [("action", "=", "tolerance_whatif_applied"), ("res_id", "=", self.company_rule.id)]
        )
        self.assertEqual(entry.user_id, self.ap_manager)
        self.assertEqual(entry.data["after"], {"price_pct": 5.0, "total_pct": 5.0})
        self.assertEqual(entry.data["before"], {"price_pct": 2.0, "total_pct": 2.0})
        self.assertEqual(sorted(entry.data["released"]), sorted(b.id for b in bills))
        self.env["hc.three.way.match"]._cron_rematch_open_bills()
        self.assertEqual({b.hc_match_state for b in bills}, {"matched"})
        with self.assertRaisesRegex(UserError, "nothing to apply"):
            whatif.action_apply()

    def test_whatif_lists_the_bills_a_tighter_tolerance_would_block(self):
        bill = self.make_bill(self.make_po(), price=10.1, user=self.manager)  # 1 % <= 2 %
        self.match(bill)
        self.assertEqual(bill.hc_match_state, "matched")
        whatif = self.as_user(self.env["hc.tolerance.whatif.wizard"], self.ap_manager).create(
            {"price_pct": 0.5, "total_pct": 0.5}
        )
        whatif.action_simulate()
        self.assertEqual(whatif.line_ids.move_id, bill)
        self.assertEqual(whatif.line_ids.change, "block")
        self.assertEqual(whatif.newly_blocked, 1)
        self.assertAlmostEqual(whatif.blocked_amount, 101.0)

    def test_manager_reads_and_verifies_the_audit_log(self):
        _bill, exc = self.blocked()
        self.decide(self.ap_clerk, exc, "accept", "surcharge agreed")
        Audit = self.as_user(self.env["hc.audit.log"], self.ap_manager)
        entry = Audit.search([("action", "=", "exception_accept"), ("res_id", "=", exc.id)])
        form = self.open_form(self.ap_manager, entry)
        self.assertEqual(form["action_label"], "Exception accept")
        self.assertEqual(form["res_model_label"], "Procure-to-pay exception")
        self.assertEqual(form["record_name"], exc.display_name)
        self.assertIn("Type: price_variance", form["details"])
        self.assertEqual(form["reason"], "surcharge agreed")
        # searchable by record, user, action and date
        self.assertEqual(
            Audit.search(
                [
                    ("res_model", "=", "hc.exception"),
                    ("res_id", "=", exc.id),
                    ("user_id", "=", self.ap_clerk.id),
                    ("action", "=", "exception_accept"),
                    ("logged_at", ">=", entry.logged_at),
                ]
            ),
            entry,
        )
        views = Audit.get_views([(False, "search"), (False, "form")])
        search = views["views"]["search"]["arch"]
        for name in ("user_id", "res_model", "res_id", "action", "logged_at", "group_user"):
            self.assertIn(f'name="{name}"', search)
        result = Audit.browse().action_verify_chain()
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("intact", result["params"]["message"])

    # -- supply chain ----------------------------------------------------------------

    def test_supply_chain_opens_the_receipt_and_waits_for_it(self):
        bill, exc = self.blocked(price=10.0, receive=0)
        po = bill.invoice_line_ids.purchase_line_id.order_id
        self.open_form(self.supply, exc)
        self.open_form(self.supply, po)
        picking = self.open_form(self.supply, po.picking_ids[:1])
        self.assertEqual(picking["origin"], po.name)
        self.decide(self.supply, exc, "wait_receipt", reason="")
        self.assertEqual(exc.state, "waiting")
        with self.assertRaisesRegex(AccessError, "Only AP clerks"):
            self.decide(self.supply, exc, "accept")
