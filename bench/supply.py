"""In-process benchmark of par-level replenishment planning (run by bench/run.py).

Creates (once per size, reused on later runs) ``count`` par levels in one par location
of the first warehouse, half of the items with stock in the stock room (internal
transfer) and half with a contract vendor only (draft purchase order), then times
``hc.replenishment.planner._plan`` on all of them and counts its SQL queries, the
decision (``_decide``) apart.  Nothing is committed: every run plans from the same state.

Usage: python bench/supply.py <odoo.conf> <database> <count>; prints ``RESULT {json}``.
"""

import json
import sys
import time

import odoo
import odoo.api
import odoo.tools
from odoo.modules.registry import Registry


def setup(env, count):
    """The par location and ``count`` items with their par levels (committed, once)."""
    tag = f"bench-par-{count}"
    warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
    location = env["stock.location"].search([("barcode", "=", tag)], limit=1)
    if location:
        return env["stock.warehouse.orderpoint"].search([("location_id", "=", location.id)])
    location = env["stock.location"].create(
        {"name": tag, "barcode": tag, "location_id": warehouse.lot_stock_id.id}
    )
    vendor = env["res.partner"].create({"name": f"Bench contract vendor {count}"})
    products = env["product.product"].create(
        [{"name": f"{tag} item {i}", "is_storable": True} for i in range(count)]
    )
    env["product.supplierinfo"].create(
        [
            {
                "partner_id": vendor.id,
                "product_tmpl_id": p.product_tmpl_id.id,
                "price": 2.5,
                "hc_contract_ref": "BENCH-GPO",
            }
            for p in products
        ]
    )
    Quant = env["stock.quant"]
    for product in products[: count // 2]:
        Quant._update_available_quantity(product, warehouse.lot_stock_id, 100)
    return env["stock.warehouse.orderpoint"].create(
        [
            {
                "product_id": p.id,
                "warehouse_id": warehouse.id,
                "location_id": location.id,
                "product_min_qty": 5,
                "product_max_qty": 20,
                "hc_par_level": True,
            }
            for p in products
        ]
    )


def main():
    conf, db, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])
    odoo.tools.config["log_db"] = False
    with Registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        orderpoints = setup(env, count)
        cr.commit()
        planner = env["hc.replenishment.planner"]
        env.invalidate_all()
        before, start = cr.sql_log_count, time.perf_counter()
        planner._decide(orderpoints)
        decide_s, decide_q = time.perf_counter() - start, cr.sql_log_count - before
        env.invalidate_all()
        # Odoo's own per-rule work, counted apart: purchase_stock's search of the buy
        # rules, once per reorder rule recomputed (stock.warehouse.orderpoint._compute_rules)
        rule_searches = []
        execute = type(cr).execute

        def counted(self, query, params=None, log_exceptions=True):
            text = str(getattr(query, "code", query))
            if 'FROM "stock_rule"' in text and '"stock_rule"."action" IN' in text:
                rule_searches.append(1)
            return execute(self, query, params, log_exceptions)

        type(cr).execute = counted
        try:
            before, start = cr.sql_log_count, time.perf_counter()
            result = planner._plan(orderpoints)
            env.flush_all()
            plan_s, plan_q = time.perf_counter() - start, cr.sql_log_count - before
        finally:
            type(cr).execute = execute
        out = {
            "item_locations": len(orderpoints),
            "decide_seconds": round(decide_s, 2),
            "decide_queries": decide_q,
            "plan_seconds": round(plan_s, 2),
            "plan_queries": plan_q,
            "plan_rule_searches": len(rule_searches),
            "transfer_moves": len(result["pickings"].move_ids),
            "order_lines": len(result["orders"].order_line),
        }
        cr.rollback()  # every run plans from the same state
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
