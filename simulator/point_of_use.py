"""Point of use in the demo day (issue 18): consumption, par levels, bill-only implants.

:func:`plan` adds to a generated day, with its own random stream (the rest of the day
of a seed is unchanged by it), what the point-of-use systems of the first facility post
and what the supply chain team configures, and the truth it must lead to:

* **set-up** (``odoo_setup``, from ``world["point_of_use"]``): two locations inside the
  first facility's stock room, a nursing station and an OR implant cabinet, each with a
  barcode and a GLN; a connector for the point-of-use systems (``consumption`` only);
* **master data**: four stocked items of two world vendors (one of them critical and
  lot-tracked) and a consignment vendor with its serial-tracked implant, each with a
  contract price;
* **opening** (posted with the opening count): the nursing station's count of the four
  items, and the stock room's count of the two that are also held there;
* **configured over RPC as the supply chain user** once the count is processed
  (:func:`configure`): a par level (min 15 / max 25, resupplied from the stock room) per
  item at the nursing station, and the consignment vendor's delivery of three implants
  into the OR cabinet, received as the vendor's stock (a receipt with an owner);
* **day**: the nursing station's cabinet posts consumption (one document per event, a
  patient-free case reference each; the critical item's by GS1 UDI once and by lot
  once), which drives every item below its minimum; the OR case system posts the use of
  one consigned implant (its UDI: GTIN and serial);
* **evening** (:func:`plan_replenishment`, :func:`bill_only_invoices`): the supply chain
  user runs *Plan replenishment* on the par levels (it adds nothing: consumption
  already planned them), and the implant vendor invoices the bill-only purchase order the
  hospital gave its representative (UBL, matched like any other bill).

The truth (``truth["supply_chain"]["point_of_use"]``): stock on hand at each location
after consumption (opening minus consumed, exactly); the internal transfers (item,
quantity = max - on hand, from the stock room), the draft purchase order lines (vendor,
quantity, contract price) and their amount per vendor, one order per vendor and lane;
the critical item's starred transfer and order and its signal; the bill-only order's
vendor and amount; the implant invoice's total, matched and released.
"""

import json
import random
from datetime import timedelta
from decimal import Decimal

from . import supply_chain
from .generator import TAX_REGIMES
from .generator import _amounts
from .generator import _party
from .generator import gln
from .generator import gtin14
from .generator import writers
from .supply_chain import _facility

FACILITY = 0  # the first facility: its stock room resupplies the nursing station
PAR_MIN, PAR_MAX = 15, 25
CONSIGNMENT_VENDOR = "Cascade Spine Implants Inc."
# (key, description, critical, lot tracked, opening at the nursing station, in the stock
# room, consumed in events): below the minimum after the day, each for its own reason
ITEMS = (
    # on hand elsewhere (the stock room): an internal transfer of max - on hand
    ("flush", "Saline flush syringe 10 mL prefilled", False, False, 22, 120, (4, 3, 3)),
    # none elsewhere: a draft order from the contract vendor, both on one order
    ("foley", "Foley catheter tray 16 Fr", False, False, 18, 0, (8,)),
    ("iv", "IV start kit with chlorhexidine", False, False, 16, 0, (5,)),
    # critical, partly in the stock room: a starred transfer and a starred order
    ("cvc", "Central venous catheter kit triple lumen", True, True, 17, 6, (2, 7)),
)


def _doc(seed, connector, endpoint, doc_type, key, body, label):
    """A document of the day, without its minute (``supply_chain._doc``'s)."""
    return supply_chain._doc(seed, None, connector, endpoint, doc_type, key, body, label)[1]


def consignment_vendor(day):
    """The implant vendor whose stock sits in the OR cabinet until used (credentials
    valid: a licence, as for every implants vendor, and a W-9)."""
    return {
        "index": 902,
        "name": CONSIGNMENT_VENDOR,
        "gln": gln("086090200001"),
        "prefix": "0869020",
        "category": "implants",
        "city": "Bend",
        "zip": "97701",
        "phone": "+1 555 300 3000",
        "tax": TAX_REGIMES[2],  # medical supplies exempt from sales tax
    }


def plan(world, day, seed):
    """The point-of-use part of the day: ``{"locations", "master", "opening", "day",
    "truth"}`` (see the module doc); ``day`` is ``[(minute, document)]``."""
    rng = random.Random(f"hc-demo-pou:{seed}")
    fac = world["facilities"][FACILITY]
    code = fac["code"]
    station = {
        "facility": FACILITY,
        "name": "4 West nursing station",
        "barcode": f"{code}-4W",
        "gln": gln(f"{fac['gln'][:9]}941"),
    }
    cabinet = {
        "facility": FACILITY,
        "name": "OR 2 implant cabinet",
        "barcode": f"{code}-OR2-IMPL",
        "gln": gln(f"{fac['gln'][:9]}942"),
    }
    vendors = rng.sample(world["vendors"], k=2)
    supplies_vendor, critical_vendor = vendors
    items, contracts = [], []
    par, events, opening_lines, consumed_truth = [], [], [], []
    minute = 8 * 60
    for n, (key, description, critical, tracked, at_station, in_room, used) in enumerate(ITEMS):
        vendor = critical_vendor if critical else supplies_vendor
        item = {
            "index": 9100 + n,
            "vendor": vendor["index"],
            "gtin": gtin14(f"0{vendor['prefix']}{9100 + n:05d}"),
            "vendor_part_number": f"{vendor['name'][:3].upper()}-{9100 + n}",
            "description": description,
            "uom": "EA",
            "price": f"{Decimal(rng.randint(300, 4800)) / 100:.2f}",
            "critical": critical,
            "lot_tracked": tracked,
        }
        items.append((item, vendor))
        contracts.append((item, vendor))
        lot = expiry = None
        if tracked:
            lot = f"CV{rng.randint(10000, 99999)}"
            expiry = day + timedelta(days=rng.randint(300, 700))
        for location, qty in ((station["barcode"], at_station), (None, in_room)):
            if not qty:
                continue
            line = {
                "line_number": str(len(opening_lines) + 1),
                "item": {"gtin": item["gtin"]},
                "quantity": str(qty),
                "uom": "EA",
                "reason": "count",
            }
            if location:
                line["location"] = location
            if lot:
                line["lot"], line["expiry_date"] = lot, expiry.isoformat()
            opening_lines.append(line)
        keys = []
        for k, qty in enumerate(used, start=1):
            minute += rng.randint(25, 50)
            ref = f"4W-{day:%m%d}-{key.upper()}-{k}"
            doc = {
                "consumption_id": ref,
                "source_system": "cabinet",
                "source_name": f"Supply cabinet {station['name']}",
                "location": station["barcode"],
                "item": {"gtin": item["gtin"]},
                "quantity": str(qty),
                "uom": "EA",
                "case_reference": f"ENC-{rng.randint(100000, 999999)}",
                "consumed_at": f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00Z",
            }
            if tracked and k == 1:  # the cabinet scanned the pack's GS1 UDI
                doc["udi"] = f"(01){item['gtin']}(17){expiry:%y%m%d}(10){lot}"
            elif tracked:  # keyed in by lot
                doc["lot"] = lot
            events.append(
                (
                    minute,
                    _doc(seed, "pou", "consumption", "consumption", f"pou-{ref}", doc,
                         f"Consumption {ref}"),
                )
            )  # fmt: skip
            keys.append(events[-1][1]["idempotency_key"])
        on_hand = at_station - sum(used)
        # what the planner decides after each use: below the minimum, up to the maximum
        # counting what is already on its way (a transfer from the stock room first)
        planned, room, transfer, purchase, plannings = 0, in_room, 0, 0, 0
        left = at_station
        for qty in used:
            left -= qty
            if left + planned < PAR_MIN:
                need = PAR_MAX - (left + planned)
                take = min(need, room)
                room -= take
                transfer += take
                purchase += need - take
                planned += need
                plannings += 1
        consumed_truth.append(
            {
                "key": key,
                "gtin": item["gtin"],
                "description": description,
                "location": station["barcode"],
                "opening": at_station,
                "consumed": sum(used),
                "documents": len(used),
                "on_hand": on_hand,
                "critical": critical,
                "lot": lot,
                "idempotency_keys": keys,
            }
        )
        par.append(
            {
                "key": key,
                "gtin": item["gtin"],
                "location": station["barcode"],
                "min": PAR_MIN,
                "max": PAR_MAX,
                "critical": critical,
                "transfer": transfer,
                "purchase": purchase,
                "plannings": plannings,
                "vendor_gln": vendor["gln"],
                "price": item["price"],
            }
        )
    # the two non-critical items none of which is held elsewhere: one order, grouped
    # (the same case reference orders their processing: the second finds the draft)
    grouped = {
        k
        for row in consumed_truth
        if row["key"] in ("foley", "iv")
        for k in row["idempotency_keys"]
    }
    case = f"ENC-{rng.randint(100000, 999999)}"
    for _minute, doc in events:
        if doc["idempotency_key"] not in grouped:
            continue
        body = json.loads(doc["body"])
        body["case_reference"] = case
        doc["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
    # ------------------------------------------------------------------ consignment
    vendor = consignment_vendor(day)
    implant = {
        "index": 9200,
        "vendor": vendor["index"],
        "gtin": gtin14(f"0{vendor['prefix']}09200"),
        "vendor_part_number": "CSI-PS6545",
        "description": "Titanium pedicle screw 6.5 x 45 mm",
        "uom": "EA",
        "price": f"{rng.randint(900, 1900)}.00",
        "critical": False,
        "lot_tracked": False,
        "serial_tracked": True,
    }
    items.append((implant, vendor))
    contracts.append((implant, vendor))
    serials = [f"PS{rng.randint(1000000, 9999999)}" for _n in range(3)]
    used_serial = serials[1]
    case_ref = f"OR-{day:%Y%m%d}-{rng.randint(10, 99)}"
    minute = 13 * 60 + rng.randint(0, 90)
    use = {
        "consumption_id": f"ORC-{case_ref}-1",
        "source_system": "or",
        "source_name": "OR case system",
        "location": cabinet["barcode"],
        "item": {"gtin": implant["gtin"]},
        "udi": f"(01){implant['gtin']}(21){used_serial}",
        "quantity": "1",
        "uom": "EA",
        "case_reference": case_ref,
        "consumed_at": f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00Z",
    }
    events.append(
        (minute, _doc(seed, "pou", "consumption", "consumption", f"pou-{use['consumption_id']}",
                      use, f"Consumption {use['consumption_id']} (consigned implant)"))
    )  # fmt: skip
    invoice_number = f"CSI{rng.randint(100000, 999999)}"
    opening = _doc(
        seed,
        "wms",
        "stock-adjustments",
        "stock_adjustment",
        "adj-opening-pou",
        {
            "adjustment_id": f"OPEN-{station['barcode']}-{day:%Y%m%d}",
            "facility": _facility(fac),
            "adjustment_date": day.isoformat(),
            "counted_by": "nurse.manager",
            "lines": opening_lines,
        },
        f"Opening count {station['name']}",
    )
    by_vendor = {}
    for row in par:
        if row["purchase"] and not row["critical"]:
            amount = Decimal(row["price"]) * row["purchase"]
            by_vendor[row["vendor_gln"]] = by_vendor.get(row["vendor_gln"], Decimal(0)) + amount
    truth = {
        "day": day.isoformat(),
        "station": station,
        "cabinet": cabinet,
        "consumed": consumed_truth,
        "consumption_documents": len(events),
        "par_levels": par,
        "draft_orders": [
            {"vendor_gln": g, "critical": False, "amount": str(a.quantize(Decimal("0.01")))}
            for g, a in sorted(by_vendor.items())
        ]
        + [
            {
                "vendor_gln": row["vendor_gln"],
                "critical": True,
                "amount": str((Decimal(row["price"]) * row["purchase"]).quantize(Decimal("0.01"))),
            }
            for row in par
            if row["purchase"] and row["critical"]
        ],
        "consignment": {
            "vendor_gln": vendor["gln"],
            "vendor": vendor["name"],
            "gtin": implant["gtin"],
            "serials": serials,
            "used_serial": used_serial,
            "left": len(serials) - 1,
            "location": cabinet["barcode"],
        },
        "bill_only": {
            "case_reference": case_ref,
            "vendor_gln": vendor["gln"],
            "gtin": implant["gtin"],
            "quantity": 1,
            "price": implant["price"],
            "amount": implant["price"],
            "invoice_number": invoice_number,
            "idempotency_key": f"demo-{seed}-inv-billonly-{case_ref}",
            "total": implant["price"],  # exempt: no tax
        },
    }
    return {
        "locations": [station, cabinet],
        "master": {"vendors": [vendor], "items": items, "contract_prices": contracts},
        "opening": [opening],
        "day": events,
        "truth": truth,
    }


# --------------------------------------------------------------------------- over RPC


def _one(rpc, model, domain, fields=("id",)):
    rows = rpc(model, "search_read", domain=domain, fields=list(fields), limit=2)
    if len(rows) != 1:
        raise RuntimeError(f"{model} {domain}: {len(rows)} record(s), expected one")
    return rows[0]


def _product(rpc, gtin):
    return _one(rpc, "product.product", [("barcode", "=", gtin)], ["id", "uom_id"])


def configure(rpc, truth):
    """What the supply chain user sets up once the opening count is processed (her own
    API key, ``rpc``): the par levels of the nursing station, resupplied from the stock
    room, and the consignment vendor's delivery into the OR cabinet, received as the
    vendor's stock.  Returns ``{"par_levels": n, "consigned": n}``."""
    station = _one(
        rpc, "stock.location", [("barcode", "=", truth["station"]["barcode"])],
        ["id", "warehouse_id", "location_id"],
    )  # fmt: skip
    warehouse = _one(
        rpc, "stock.warehouse", [("id", "=", station["warehouse_id"][0])],
        ["id", "lot_stock_id", "in_type_id"],
    )  # fmt: skip
    vals = [
        {
            "product_id": _product(rpc, row["gtin"])["id"],
            "warehouse_id": warehouse["id"],
            "location_id": station["id"],
            "product_min_qty": row["min"],
            "product_max_qty": row["max"],
            "hc_par_level": True,
            "hc_source_location_id": warehouse["lot_stock_id"][0],
        }
        for row in truth["par_levels"]
    ]
    rpc("stock.warehouse.orderpoint", "create", vals_list=vals)
    # the consignment delivery: a receipt of the vendor's stock (owner = the vendor)
    consigned = truth["consignment"]
    cabinet = _one(rpc, "stock.location", [("barcode", "=", consigned["location"])])
    vendor = _one(rpc, "res.partner", [("global_location_number", "=", consigned["vendor_gln"])])
    supplier = rpc(
        "stock.location", "search_read", domain=[("usage", "=", "supplier")], fields=["id"],
        limit=1,
    )[0]  # fmt: skip
    product = _product(rpc, consigned["gtin"])
    common = {"location_id": supplier["id"], "location_dest_id": cabinet["id"]}
    [picking] = rpc(
        "stock.picking",
        "create",
        vals_list=[
            {
                **common,
                "picking_type_id": warehouse["in_type_id"][0],
                "partner_id": vendor["id"],
                "owner_id": vendor["id"],
                "origin": f"Consignment delivery {consigned['vendor']}",
                "move_ids": [
                    [0, 0, {**common, "product_id": product["id"],
                            "product_uom": product["uom_id"][0],
                            "product_uom_qty": len(consigned["serials"])}],
                ],
            }
        ],
    )  # fmt: skip
    rpc("stock.picking", "action_confirm", ids=[picking])
    [move] = rpc(
        "stock.move",
        "search_read",
        domain=[("picking_id", "=", picking)],
        fields=["id", "move_line_ids"],
    )
    # one line per serial, on the receipt, owned by the vendor (Odoo's consignment)
    line = {**common, "product_id": product["id"], "product_uom_id": product["uom_id"][0],
            "quantity": 1, "picking_id": picking, "owner_id": vendor["id"]}  # fmt: skip
    commands = [[2, line_id, 0] for line_id in move["move_line_ids"]]
    commands += [[0, 0, dict(line, lot_name=serial)] for serial in consigned["serials"]]
    rpc("stock.move", "write", ids=[move["id"]], vals={"move_line_ids": commands, "picked": True})
    result = rpc("stock.picking", "button_validate", ids=[picking])
    state = rpc("stock.picking", "read", ids=[picking], fields=["state"])[0]["state"]
    if state != "done":
        raise RuntimeError(f"the consignment receipt is {state}, not done: {result}")
    return {"par_levels": len(vals), "consigned": len(consigned["serials"])}


def plan_replenishment(rpc):
    """The supply chain user's *Plan replenishment* on every par level (the list view's
    button); returns the notification's message."""
    ids = rpc("stock.warehouse.orderpoint", "search", domain=[("hc_par_level", "=", True)])
    action = rpc("stock.warehouse.orderpoint", "action_hc_plan_replenishment", ids=ids)
    return (action or {}).get("params", {}).get("message", "")


def bill_only_invoices(rpc, truth, world):
    """The implant vendor's invoice of the bill-only order for the case (the order number
    the hospital gives the vendor's representative after the case), as a UBL document to
    post: ``[document]``, empty when there is no such order (the score says so)."""
    bill = truth["bill_only"]
    orders = rpc(
        "purchase.order",
        "search_read",
        domain=[("hc_bill_only", "=", True), ("hc_case_reference", "=", bill["case_reference"])],
        fields=["name", "state"],
    )
    if not orders:
        return []
    vendor = world["point_of_use"]["vendor"]
    buyer = {
        "identifiers": [{"scheme": "GLN", "value": world["network"]["gln"]}],
        "name": world["network"]["name"],
    }
    lines = [
        {
            "line_number": "1",
            "po_line_ref": "1",
            "item": {"gtin": bill["gtin"], "description": "Titanium pedicle screw 6.5 x 45 mm"},
            "quantity": str(bill["quantity"]),
            "uom": "EA",
            "unit_price": bill["price"],
        }
    ]
    fields, _totals = _amounts(random.Random(0), "clean", vendor["tax"], lines)
    day = truth["day"]
    invoice = {
        "number": bill["invoice_number"],
        "issue_date": day,
        "due_date": day,
        "currency": "USD",
        "vendor": _party(vendor),
        "buyer": buyer,
        "po_numbers": [orders[0]["name"]],
        "lines": lines,
        **fields,
    }
    return [
        {
            "connector": "ap",
            "endpoint": "invoices",
            "doc_type": "invoice",
            "idempotency_key": bill["idempotency_key"],
            "content_type": "application/xml",
            "label": f"Invoice {bill['invoice_number']} (ubl, bill-only {orders[0]['name']})",
            "body": writers.ubl_invoice(invoice).decode(),
        }
    ]


# --------------------------------------------------------------------------- the score


def read(rpc, truth):
    """What the point-of-use part of the day left in Odoo."""
    gtins = [row["gtin"] for row in truth["par_levels"]] + [truth["consignment"]["gtin"]]
    barcodes = [truth["station"]["barcode"], truth["cabinet"]["barcode"]]
    glns = sorted({row["vendor_gln"] for row in truth["par_levels"]} | {
        truth["bill_only"]["vendor_gln"]})  # fmt: skip
    bill_only = rpc(
        "purchase.order",
        "search_read",
        domain=[("hc_bill_only", "=", True)],
        fields=["name", "state", "partner_id", "amount_untaxed", "hc_case_reference"],
    )
    return {
        "products": rpc("product.product", "search_read", domain=[("barcode", "in", gtins)],
                        fields=["barcode"]),
        "locations": rpc("stock.location", "search_read", domain=[("barcode", "in", barcodes)],
                         fields=["barcode", "complete_name"]),
        "stock_rooms": rpc("stock.warehouse", "search_read", domain=[],
                           fields=["lot_stock_id"]),
        "vendors": rpc("res.partner", "search_read",
                       domain=[("global_location_number", "in", glns)],
                       fields=["global_location_number"]),
        "messages": rpc("hc.inbox.message", "search_read",
                        domain=[("doc_type", "=", "consumption")],
                        fields=["idempotency_key", "state", "lane_id"]),
        "quants": rpc("stock.quant", "search_read",
                      domain=[("location_id.barcode", "in", barcodes),
                              ("product_id.barcode", "in", gtins)],
                      fields=["product_id", "location_id", "quantity", "owner_id", "lot_id"]),
        "orderpoints": rpc("stock.warehouse.orderpoint", "search_read",
                           domain=[("hc_par_level", "=", True)],
                           fields=["product_id", "location_id", "product_min_qty",
                                   "product_max_qty"]),
        "moves": rpc("stock.move", "search_read",
                     domain=[("orderpoint_id.hc_par_level", "=", True),
                             ("state", "not in", ["cancel"])],
                     fields=["product_id", "product_uom_qty", "location_id", "location_dest_id",
                             "picking_id", "priority", "state"]),
        "orders": rpc("purchase.order", "search_read",
                      domain=[("hc_par_replenishment", "=", True)],
                      fields=["name", "state", "partner_id", "priority", "amount_untaxed"]),
        "order_lines": rpc("purchase.order.line", "search_read",
                           domain=[("order_id.hc_par_replenishment", "=", True)],
                           fields=["order_id", "product_id", "product_qty", "price_unit"]),
        "signals": rpc("hc.replenishment.signal", "search_read", domain=[],
                       fields=["product_id", "state", "planned_picking_id",
                               "purchase_order_id"]),
        "bill_only": bill_only,
        "bills": rpc("account.move", "search_read",
                     domain=[("hc_message_id.idempotency_key", "=",
                              truth["bill_only"]["idempotency_key"])],
                     fields=["name", "hc_match_state", "hc_released", "amount_total",
                             "invoice_origin"]),
    }  # fmt: skip


def _dec(value, places="0.001"):
    return Decimal(str(value or 0)).quantize(Decimal(places))


def checks(truth, outcome, check):
    """Add the point-of-use checks to ``check(area, what, expected, actual)``; return the
    figures the summary prints."""
    product = {p["barcode"]: p["id"] for p in outcome["products"]}
    location = {loc["barcode"]: loc["id"] for loc in outcome["locations"]}
    vendor = {v["global_location_number"]: v["id"] for v in outcome["vendors"]}
    stock_rooms = {w["lot_stock_id"][0] for w in outcome["stock_rooms"] if w["lot_stock_id"]}

    def on_hand(gtin, barcode, owner=None):
        return sum(
            (
                _dec(q["quantity"])
                for q in outcome["quants"]
                if q["product_id"][0] == product.get(gtin)
                and q["location_id"][0] == location.get(barcode)
                and (owner is None or (q["owner_id"] or [False])[0] == owner)
            ),
            Decimal(0).quantize(Decimal("0.001")),
        )

    # consumption: every document applied, stock down by exactly what was used
    keys = {m["idempotency_key"]: m for m in outcome["messages"]}
    done = sum(1 for m in outcome["messages"] if m["state"] == "done")
    check("consumption", "consumption documents applied", truth["consumption_documents"], done)
    for row in truth["consumed"]:
        check(
            "consumption",
            f"{row['description'][:30]} at {row['location']} ({row['opening']} - "
            f"{row['consumed']})",
            _dec(row["on_hand"]),
            on_hand(row["gtin"], row["location"]),
        )
    consigned = truth["consignment"]
    owner = vendor.get(consigned["vendor_gln"])
    check(
        "consumption",
        f"consigned implants left at {consigned['location']}",
        _dec(consigned["left"]),
        on_hand(consigned["gtin"], consigned["location"], owner=owner or -1),
    )
    critical_keys = [k for r in truth["consumed"] if r["critical"] for k in r["idempotency_keys"]]
    check(
        "consumption",
        "critical item's consumption in the critical lane",
        [True] * len(critical_keys),
        [
            bool(keys.get(k) and keys[k]["lane_id"]) and "critical" in keys[k]["lane_id"][1].lower()
            for k in critical_keys
        ],
    )
    # par levels: the planner's transfers and draft orders
    check("par levels", "par levels configured", len(truth["par_levels"]),
          len(outcome["orderpoints"]))  # fmt: skip
    order_by_id = {o["id"]: o for o in outcome["orders"]}
    gln_of = {i: g for g, i in vendor.items()}
    transferred = Decimal(0)

    def starred(critical):
        return " starred" if critical else ""

    for row in truth["par_levels"]:
        pid, dest = product.get(row["gtin"]), location.get(row["location"])
        from_room = [
            m for m in outcome["moves"]
            if m["product_id"][0] == pid and m["location_id"][0] in stock_rooms
            and m["location_dest_id"][0] == dest
        ]  # fmt: skip
        qty = sum((_dec(m["product_uom_qty"]) for m in from_room), _dec(0))
        transferred += qty
        lane = all(m["priority"] == "1" for m in from_room) if from_room else False
        check(
            "par levels",
            f"{row['key']}: transfer from the stock room{starred(row['critical'])}",
            f"{_dec(row['transfer'])}{starred(row['critical'] and row['transfer'])}",
            f"{qty}{starred(lane)}",
        )
        expected = "none"
        if row["purchase"]:
            expected = (
                f"{_dec(row['purchase'])} x {_dec(row['price'], '0.01')} from "
                f"{row['vendor_gln']}, draft{starred(row['critical'])}"
            )
        actual = [
            f"{_dec(ln['product_qty'])} x {_dec(ln['price_unit'], '0.01')} from "
            f"{gln_of.get(order['partner_id'][0], '?')}, {order['state']}"
            f"{starred(order['priority'] == '1')}"
            for ln in outcome["order_lines"]
            if ln["product_id"][0] == pid and (order := order_by_id.get(ln["order_id"][0]))
        ]
        check(
            "par levels",
            f"{row['key']}: ordered at contract price{starred(row['critical'])}",
            expected,
            "; ".join(actual) or "none",
        )
    for order in truth["draft_orders"]:
        prio = "1" if order["critical"] else "0"
        found = [
            o for o in outcome["orders"]
            if o["partner_id"][0] == vendor.get(order["vendor_gln"]) and o["priority"] == prio
        ]  # fmt: skip
        check(
            "par levels",
            f"{order['vendor_gln']}{starred(order['critical'])}: one draft order, amount",
            f"1 order {_dec(order['amount'], '0.01')}",
            f"{len(found)} order{'s' if len(found) != 1 else ''} "
            + ", ".join(str(_dec(o["amount_untaxed"], "0.01")) for o in found),
        )
    for row in truth["par_levels"]:
        if not row["critical"]:
            continue
        signals = [s for s in outcome["signals"] if s["product_id"][0] == product.get(row["gtin"])]
        check(
            "par levels",
            f"{row['key']}: critical signal, with its transfer and order",
            "1 signal, both linked",
            f"{len(signals)} signal{'s' if len(signals) != 1 else ''}, "
            + ("both linked" if signals and all(
                s["planned_picking_id"] and s["purchase_order_id"] for s in signals
            ) else "not linked"),
        )  # fmt: skip
    # bill-only: the consigned implant used in the case is bought, billed and matched
    bill = truth["bill_only"]
    orders = [o for o in outcome["bill_only"] if o["hc_case_reference"] == bill["case_reference"]]
    check(
        "bill-only",
        f"order for case {bill['case_reference']}",
        f"{bill['vendor_gln']}, purchase, {_dec(bill['amount'], '0.01')}",
        "; ".join(
            f"{gln_of.get(o['partner_id'][0], '?')}, {o['state']}, "
            f"{_dec(o['amount_untaxed'], '0.01')}"
            for o in orders
        ) or "none",
    )  # fmt: skip
    bills = outcome["bills"]
    check(
        "bill-only",
        f"invoice {bill['invoice_number']} billed on it and matched",
        f"{orders[0]['name'] if orders else '?'} matched",
        "; ".join(f"{b['invoice_origin']} {b['hc_match_state']}" for b in bills) or "no bill",
    )
    released = [b for b in bills if b["hc_released"]]
    check(
        "bill-only",
        "released amount = the vendor's total",
        str(_dec(bill["total"], "0.01")),
        "; ".join(str(_dec(b["amount_total"], "0.01")) for b in released) or "not released",
    )
    drafts = sum((_dec(o["amount_untaxed"], "0.01") for o in outcome["orders"]), Decimal(0))
    return {
        "transferred": str(transferred),
        "draft_orders": len(outcome["orders"]),
        "draft_amount": str(drafts),
        "bill_only_amount": str(
            sum((_dec(o["amount_untaxed"], "0.01") for o in orders), Decimal(0))
        ),
        "bill_only_released": str(
            sum((_dec(b["amount_total"], "0.01") for b in released), Decimal(0))
        ),
    }


# what :func:`read` returns when nothing was read (the scorer then reports every miss)
EMPTY = {
    key: []
    for key in (
        "products", "locations", "stock_rooms", "vendors", "messages", "quants",
        "orderpoints", "moves", "orders", "order_lines", "signals", "bill_only", "bills",
    )
}  # fmt: skip
