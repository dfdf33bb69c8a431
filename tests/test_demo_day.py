import contextlib
import io
import json
import tempfile

from odoo.tests import HttpCase
from odoo.tests import tagged

from ..simulator import generator
from ..simulator import odoo_setup
from ..simulator import point_of_use
from ..simulator import score


@tagged("post_install", "-at_install")
class TestDemoDay(HttpCase):
    """A tiny generated day posted through the real API, processed, scored against its truth.

    The lanes are drained in the test transaction (no concurrency: the races between
    workers are what ``make demo`` shows); every faulty invoice must be flagged, every
    clean one released touchless for the total its supplier stated.
    """

    def test_tiny_day_end_to_end(self):
        day = generator.generate(seed=3, size="tiny")
        with tempfile.NamedTemporaryFile("w", suffix=".json") as world:
            json.dump(day["world"], world)
            world.flush()
            config = {"connectors": odoo_setup.CONNECTORS, "users": odoo_setup.USERS}
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                # the set-up snippet the demo runs inside Odoo, on this environment
                exec(odoo_setup.CODE, {"env": self.env, "ARGS": [world.name, json.dumps(config)]})
        keys = json.loads(out.getvalue().split("KEYS ", 1)[1])
        Inbox = self.env["hc.inbox.message"]
        lanes = self.env["hc.lane"].search([])

        def post(documents):
            for doc in documents:
                response = self.url_open(
                    f"/api/hc/v1/{doc['endpoint']}",
                    data=doc["body"].encode(),
                    headers={
                        "Authorization": f"Bearer {keys[doc['connector']]}",
                        "Content-Type": doc["content_type"],
                        "Idempotency-Key": doc["idempotency_key"],
                    },
                    timeout=60,
                )
                self.assertIn(response.status_code, (200, 202), (doc["label"], response.text))

        def drain():
            for _round in range(10):
                for lane in lanes:
                    self.env["hc.lane.worker"]._cron_process_lane(lane.id)
                if not Inbox.search_count([("state", "in", ("received", "failed"))]):
                    return
            self.fail("the inbox did not drain")

        post(day["master"])
        drain()

        def rpc_as(key):
            """The demo's RPC client, over this server's JSON-2 API with a user's key."""

            def call(model, method, **kwargs):
                response = self.url_open(
                    f"/json/2/{model}/{method}",
                    data=json.dumps(kwargs),
                    headers={"Authorization": f"bearer {key}", "Content-Type": "application/json"},
                    timeout=120,
                )
                self.assertEqual(response.status_code, 200, f"{model}.{method}: {response.text}")
                return response.json()

            return call

        post(day.get("opening", []))  # the opening stock count, once the items exist
        drain()
        # the supply chain user's par levels and the consignment delivery, as in the demo
        pou = day["truth"]["supply_chain"]["point_of_use"]
        supply = rpc_as(keys["_supply"])
        self.assertEqual(point_of_use.configure(supply, pou), {"par_levels": 4, "consigned": 3})
        post(day["documents"])
        drain()
        post(day.get("evening", []))  # the recall of lots the day received
        drain()
        # the supply chain user plans again: consumption already planned everything, and
        # what is on its way counts (nothing is planned twice)
        self.assertIn(
            "0 par level(s) below minimum: 0 internal transfer(s), 0 draft purchase order(s)",
            point_of_use.plan_replenishment(supply),
        )
        admin = rpc_as(keys["_admin"])
        bills = point_of_use.bill_only_invoices(admin, pou, day["world"])
        self.assertEqual(len(bills), 1, "the consigned implant's use made a bill-only order")
        post(bills)  # the implant vendor's invoice of it
        drain()
        self.assertFalse(Inbox.search([("state", "=", "dead")]).mapped("error_message"))
        outcome = {
            "messages": Inbox.search_read([], score.MESSAGE_FIELDS),
            "bills": self.env["account.move"].search_read(
                [("hc_message_id", "!=", False)], score.BILL_FIELDS
            ),
            "exceptions": self.env["hc.exception"].search_read([], score.EXCEPTION_FIELDS),
        }
        result = score.score(day["truth"], outcome)
        detail = json.dumps(
            [
                {
                    k: r[k]
                    for k in (
                        "invoice_number",
                        "scenario",
                        "bill_state",
                        "exception_types",
                        "expected_totals",
                        "billed",
                    )
                }
                for r in result["missed"]
                + result["false_alarms"]
                + result["clean_not_touchless"]
                + result["amount_wrong"]
                + result["amount_faults_missed"]
            ],
            indent=1,
        )
        self.assertTrue(result["faulty"] and result["clean"])
        self.assertEqual(result["recall"], 1.0, detail)
        self.assertEqual(result["precision"], 1.0, detail)
        self.assertEqual(result["touchless_clean"], 1.0, detail)
        # the hospital pays what the supplier invoiced: no default tax leaks into a bill
        self.assertTrue(result["released"])
        self.assertEqual(result["released_amount_accuracy"], 1.0, detail)
        self.assertEqual(result["faulty_amounts_caught"], 1.0, detail)
        summary = score.business_summary(outcome)
        # every bill is an invoice document's, or the bill-only implant's
        self.assertEqual(
            summary["bills"], sum(1 for r in result["rows"] if r["bill_state"]) + len(bills)
        )
        timings = dict.fromkeys(("post_seconds", "drain_seconds", "total_seconds"), 0.0)
        text = score.render(summary, result, timings, "http://x", "db")
        self.assertIn("exception recall", text)
        # the supply chain, the point of use included, read back over RPC and scored
        supply_outcome = score.read_supply_chain(admin, day["truth"]["supply_chain"])
        supply_outcome["exceptions"] = outcome["exceptions"]
        scored = score.score_supply_chain(day["truth"]["supply_chain"], supply_outcome)
        point_checks = [
            c for c in scored["checks"] if c["area"] in ("consumption", "par levels", "bill-only")
        ]
        self.assertGreaterEqual(len(point_checks), 15)
        self.assertEqual(scored["failed"], [], json.dumps(scored["failed"], default=str, indent=1))
        self.assertEqual(
            scored["point_of_use"]["bill_only_released"], pou["bill_only"]["total"], scored
        )
