"""Exclusion screening: LEIE and SAM versions loaded, vendors screened, matches decided
(segregation of duties), the hold on orders and payments, over the ORM and over RPC."""

import base64

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import tagged

from .credentialing_common import CredentialingCase
from .credentialing_common import leie_file
from .credentialing_common import sam_file
from .security_common import CallKwMixin


@tagged("post_install", "-at_install")
class TestExclusionScreening(CredentialingCase):
    def load_leie(self, *rows, user=None, version="2026-11"):
        return (
            self.env["hc.exclusion.list"]
            .with_user(user or self.officer)
            ._hc_load(leie_file(*rows), version=version, file_name="UPDATED.csv")
        )

    def screen(self):
        return self.env["hc.exclusion.list"]._cron_screen()

    def matches(self, partner=None):
        return self.env["hc.exclusion.match"].search(
            [("partner_id", "=", (partner or self.vendor).id)]
        )

    def test_load_keeps_entries_errors_and_supersedes(self):
        first = self.load_leie(("ACME MEDICAL SUPPLY INC", None), ("OTHER FIRM LLC", "1234567893"))
        self.assertEqual((first.source, first.entry_count, first.state), ("leie", 2, "active"))
        self.assertEqual(len(first.file_sha256), 64)
        self.assertTrue(self.audit("exclusion_list_loaded", first))
        stream = leie_file(("GOOD FIRM", None))
        stream = type(stream)(stream.getvalue() + b"BROKEN,ROW\n")
        second = self.env["hc.exclusion.list"].with_user(self.officer)._hc_load(stream)
        self.assertEqual((second.entry_count, second.error_count), (1, 1))
        self.assertIn("3: 2 columns", second.errors)
        self.assertEqual(first.state, "superseded")
        # SAM is a list of its own: it does not supersede the LEIE
        sam = (
            self.env["hc.exclusion.list"]
            .with_user(self.officer)
            ._hc_load(sam_file(("Global Surgical Devices LLC", "HWEKRJ3F3N29")))
        )
        self.assertEqual((sam.source, second.state), ("sam", "active"))

    def test_wrong_file_and_wrong_user_are_refused(self):
        with self.assertRaisesRegex(UserError, "not an OIG LEIE or SAM"):
            self.env["hc.exclusion.list"].with_user(self.officer)._hc_load(
                leie_file().__class__(b"a,b\n1,2\n")
            )
        with self.assertRaisesRegex(UserError, "no rows"):
            self.load_leie()
        with self.assertRaises(AccessError):
            self.load_leie(("X", None), user=self.buyer)

    def test_name_match_holds_orders_until_another_officer_clears_it(self):
        lst = self.load_leie(("ACME MEDICAL SUPPLY LLC", None), ("UNRELATED PARTY", None))
        self.assertTrue(self.screen())
        self.assertTrue(lst.screened_at)
        match = self.matches()
        self.assertEqual(len(match), 1)
        self.assertEqual((match.matched_on, match.state, match.score), ("name", "pending", 100))
        self.assertEqual(match.requested_by_id, self.officer)
        self.assertTrue(self.audit("exclusion_match_found", match))
        order = self.draft_po(self.buyer)
        with self.assertRaisesRegex(UserError, "possible exclusion list match"):
            order.button_confirm()
        # the officer who loaded the list does not decide (segregation of duties)
        with self.assertRaisesRegex(AccessError, "Segregation of duties"):
            match.with_user(self.officer).action_clear("same name, other company")
        self.assertTrue(self.audit("sod_refused", match))
        # nor does a buyer, nor may anyone write the decision directly
        with self.assertRaises(AccessError):
            match.with_user(self.buyer).action_clear("mine")
        with self.assertRaises(AccessError):
            match.with_user(self.officer2).write({"state": "cleared"})
        with self.assertRaisesRegex(UserError, "reason"):
            match.with_user(self.officer2).action_clear()
        match.with_user(self.officer2).action_clear("Other company: different EIN and state")
        self.assertEqual((match.state, match.decided_by_id), ("cleared", self.officer2))
        self.assertTrue(self.audit("exclusion_cleared", match))
        order.button_confirm()
        self.assertEqual(order.state, "purchase")
        # a new version of the list does not ask again about the cleared exclusion
        self.load_leie(("ACME MEDICAL SUPPLY LLC", None), version="2026-12")
        self.screen()
        self.assertEqual(self.matches(), match)
        self.assertEqual(match.state, "cleared")

    def test_npi_and_uei_match_whatever_the_name(self):
        self.vendor.hc_npi = "1234567893"
        other = self.env["res.partner"].create(
            {
                "name": "Renamed Vendor",
                "is_company": True,
                "supplier_rank": 1,
                "hc_uei": "HWEKRJ3F3N29",
            }
        )
        self.load_leie(("SOMEBODY ELSE", "1234567893"))
        self.env["hc.exclusion.list"].with_user(self.officer)._hc_load(
            sam_file(("Global Surgical Devices LLC", "HWEKRJ3F3N29"))
        )
        self.screen()
        self.assertEqual(self.matches().matched_on, "npi")
        self.assertEqual(self.matches(other).matched_on, "entity_id")

    def test_confirmed_exclusion_blocks_payment(self):
        bill = self.make_bill(self.company_a, "INV-EXCL-1", 250.0)
        bill.with_user(self.clerk).action_post()
        self.load_leie(("ACME MEDICAL SUPPLY", None))
        self.screen()
        match = self.matches()
        match.with_user(self.officer2).action_confirm_exclusion("Same NPI on the OIG site")
        with self.assertRaisesRegex(UserError, "confirmed exclusion"):
            bill.with_user(self.clerk).action_register_payment()
        self.assertTrue(self.audit("vendor_hold_refused", bill))
        with self.assertRaisesRegex(UserError, "decided already"):
            match.with_user(self.officer2).action_confirm_exclusion("again")

    def test_wizard_upload(self):
        wizard = (
            self.env["hc.exclusion.load.wizard"]
            .with_user(self.officer)
            .create(
                {
                    "file": base64.b64encode(leie_file(("ACME MEDICAL SUPPLY", None)).getvalue()),
                    "file_name": "UPDATED.csv",
                    "version": "2026-11",
                }
            )
        )
        action = wizard.action_load()
        lst = self.env["hc.exclusion.list"].browse(action["res_id"])
        self.assertEqual((lst.source, lst.entry_count, lst.loaded_by_id), ("leie", 1, self.officer))

    def test_screening_reads_a_bounded_number_of_rows(self):
        # many vendors, one query set per batch (not per vendor)
        vendors = self.env["res.partner"].create(
            [
                {"name": f"Vendor {i} Surgical", "is_company": True, "supplier_rank": 1}
                for i in range(60)
            ]
        )
        self.load_leie(("VENDOR 7 SURGICAL", None), ("ZZZ", None))
        with self.assertQueryCount(__system__=25):
            self.env["hc.exclusion.list"]._hc_screen(vendors)
        found = self.env["hc.exclusion.match"].search([]).partner_id
        self.assertEqual(found.mapped("name"), ["Vendor 7 Surgical"])


@tagged("post_install", "-at_install")
class TestExclusionHoldOverRpc(CallKwMixin, CredentialingCase, HttpCase):
    def test_buyer_cannot_confirm_or_force_state_over_rpc(self):
        self.env["hc.exclusion.list"].with_user(self.officer)._hc_load(
            leie_file(("ACME MEDICAL SUPPLY", None))
        )
        self.env["hc.exclusion.list"]._cron_screen()
        order = self.draft_po(self.buyer)
        self.authenticate(self.buyer.login, f"{self.buyer.login}_pw!")
        ctx = {"allowed_company_ids": self.company_a.ids}
        _result, error = self.call_kw("purchase.order", "button_confirm", [order.ids], context=ctx)
        self.assertIn("on hold", error["data"]["message"])
        _result, error = self.call_kw(
            "purchase.order", "write", [order.ids, {"state": "purchase"}], context=ctx
        )
        self.assertIn("on hold", error["data"]["message"])
        # and the match cannot be cleared by the buyer either
        match = self.env["hc.exclusion.match"].search([("partner_id", "=", self.vendor.id)])
        _result, error = self.call_kw(
            "hc.exclusion.match", "action_clear", [match.ids, "not them"], context=ctx
        )
        self.assertEqual(error["data"]["name"], "odoo.exceptions.AccessError")
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")
        self.assertEqual(match.state, "pending")
