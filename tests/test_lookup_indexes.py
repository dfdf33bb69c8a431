import json
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from odoo.tests import tagged
from odoo.tools import SQL

from .common import MatchCase

GROWN = 3000


@tagged("post_install", "-at_install")
class TestLookupIndexes(MatchCase):
    """The look-ups every incoming document makes are served by indexes, not by a scan of
    a table that grows all year.

    Found by the month-end spike at 10,000 invoices: the rate fell from 23 to 18 a second
    as the bills grew; the duplicate check of each bill scanned all of the vendor's bills
    (37 ms at 22,000 bills, 28 s of the database's 40 s for 1,000 invoices), and the order
    look-up by number every purchase order.  Each test copies one record a few thousand
    times in SQL (a vendor's bills, the orders; analyzed, all in the test's transaction),
    then asks PostgreSQL for the plan of the look-up: no scan of the table, and each
    condition that narrows the search an index condition.
    """

    def _grow(self, table, record_id, overrides):
        """``GROWN`` copies of row ``record_id`` of ``table``; ``overrides``: column -> SQL
        expression of ``i`` (the copy's number)."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """SELECT column_name FROM information_schema.columns
                WHERE table_name = %s AND table_schema = current_schema() AND column_name <> 'id'
                ORDER BY ordinal_position""",
            [table],
        )
        columns = [c for (c,) in cr.fetchall()]
        cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT %s FROM %s, generate_series(1, %s) i WHERE id = %s",
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(c) for c in columns),
                SQL(", ").join(
                    SQL(overrides[c]) if c in overrides else SQL.identifier(c) for c in columns
                ),
                SQL.identifier(table),
                GROWN,
                record_id,
            )
        )
        cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))

    def _plan(self, model, domain, order=None):
        self.env.flush_all()
        query = self.env[model].sudo()._search(domain, order=order)
        return self._plan_sql(query.select())

    def _plan_sql(self, sql):
        self.env.cr.execute(SQL("EXPLAIN (FORMAT JSON) %s", sql))
        [[plan]] = self.env.cr.fetchall()
        if isinstance(plan, str):
            plan = json.loads(plan)
        nodes, stack = [], [plan[0]["Plan"]]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.get("Plans", ()))
        return nodes

    def _assert_indexed(self, nodes, table, columns):
        scans = [n["Node Type"] for n in nodes if n.get("Relation Name") == table]
        self.assertNotIn("Seq Scan", scans, f"{table} is scanned: {scans}")
        conditions = " ".join(n.get("Index Cond", "") for n in nodes)
        for column in columns:
            self.assertIn(column, conditions, f"{column} is not an index condition: {conditions}")

    def test_duplicate_candidates_of_a_bill(self):
        bill = self.make_bill(self.make_po())
        self._grow(
            "account_move",
            bill.id,
            {
                "ref": "'R-' || i",
                "hc_ref_normalized": "i::text",
                "amount_total": "i",
                "hc_stated_total": "i",
                "name": "'/'",
            },
        )
        document = SimpleNamespace(
            number="INV-2026-0042", issue_date=date(2026, 11, 20), gross_total=Decimal("1234.50")
        )
        domain = self.env["hc.processor.invoice"]._duplicate_domain(
            self.env.company, self.vendor, "in_invoice", document
        )
        nodes = self._plan("account.move", domain, order="invoice_date desc, id desc")
        self._assert_indexed(
            nodes, "account_move", ("hc_ref_normalized", "amount_total", "hc_stated_total")
        )

    def test_purchase_order_by_number(self):
        self._grow(
            "purchase_order",
            self.make_po().id,
            {"name": "'P-' || i", "hc_source_ref": "NULL", "state": "'purchase'"},
        )
        domain = self.env["hc.reference.resolver"]._resolve_orders_domain(
            self.env.company, ["PO-2026-0042"], states=("purchase", "done")
        )
        nodes = self._plan("purchase.order", domain)
        self._assert_indexed(nodes, "purchase_order", ("hc_source_ref", "name"))

    def test_contract_prices_of_the_billed_items(self):
        """The match's contract prices, by variant or template (bench: 1.5 ms a batch at
        10,000 prices, a scan)."""
        templates = self.env["product.template"].create([{"name": f"Item {i}"} for i in range(100)])
        info = self.env["product.supplierinfo"].create(
            {
                "partner_id": self.vendor.id,
                "product_tmpl_id": self.product.product_tmpl_id.id,
                "product_id": self.product.id,
                "price": 10.0,
                "hc_contract_ref": "GPO-1",
            }
        )
        ids = ",".join(str(i) for i in templates.ids)
        self._grow(
            "product_supplierinfo",
            info.id,
            {"product_id": "NULL", "product_tmpl_id": f"(ARRAY[{ids}])[1 + mod(i, 100)]"},
        )
        domain = self.env["hc.three.way.match"]._contract_domain(self.vendor, self.product)
        nodes = self._plan("product.supplierinfo", domain)
        self._assert_indexed(nodes, "product_supplierinfo", ("product_id", "product_tmpl_id"))

    def test_the_claim_reads_the_batch_it_takes(self):
        """A lane worker's claim on an inbox of done messages and a backlog of due ones (the
        month-end spike: 44 ms a claim at 10,000 invoices, ordered by id, PostgreSQL walked
        the primary key past every done message)."""
        docs = [self.vendor_doc(gln="0614141000012", name="Medline Industries, Inc.")]
        message = self.Inbox.browse([m.id for m, _s in self.accept(docs)])
        lane = message.lane_id
        # a year's done messages first, then the backlog, as they arrive
        self._grow(
            "hc_inbox_message", message.id, {"state": "'done'", "idempotency_key": "'d' || i"}
        )
        self._grow("hc_inbox_message", message.id, {"idempotency_key": "'r' || i"})
        nodes = self._plan_sql(self.env["hc.lane.worker"]._claim_query(lane, lane.batch_size))
        scans = [n for n in nodes if n.get("Relation Name") == "hc_inbox_message"]
        outer = [n for n in scans if n.get("Alias") == "m"]
        self.assertEqual(
            [n.get("Index Name") for n in outer],
            ["hc_inbox_message_claim_idx"],
            "the due messages are read from the claim index",
        )
        self.assertFalse([n for n in nodes if n["Node Type"] == "Sort"], "in its order")

    def test_references_to_growing_tables_are_indexed(self):
        """A row deleted from a table that grows all year (a journal item Odoo recomputes,
        an inbox message the retention purges, an order line) makes PostgreSQL look for
        the module's rows referring to it: without an index on the referring column,
        a scan of that table per row (the native UBL import of the bench: 318 ms a bill,
        scanning 200,000 match lines for each journal item Odoo deleted)."""
        growing = (
            "account_move",
            "account_move_line",
            "purchase_order",
            "purchase_order_line",
            "stock_move",
            "hc_inbox_message",
        )
        tables = [
            model._table
            for name, model in self.env.registry.items()
            if name.startswith("hc.") and model._auto and not model._transient
        ]
        self.env.cr.execute(
            """SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
                 FROM pg_constraint c
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
                  AND c.confrelid::regclass::text = ANY(%s)
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_index i
                       WHERE i.indrelid = c.conrelid AND i.indkey[0] = a.attnum)
                ORDER BY 1, 2""",
            [tables, list(growing)],
        )
        self.assertEqual(self.env.cr.fetchall(), [], "foreign keys without an index")
