"""The hospital supply chain of the demo day (issue 18): stock, transfers, recalls, vendors.

:func:`plan` adds to a generated day, with its own random stream (the invoice day of a
seed is unchanged by it), what the facility systems, the quality system and the item
master post besides the procure-to-pay documents, and the truth they must lead to:

* **opening** (posted once the master data is processed, drained before the day): the
  first facility's opening count of a few lot-tracked items (lots with their expiry);
* **day**: two inter-facility transfers of those lots (requested, shipped, received): one
  received in full, one short (a ``transfer_discrepancy`` exception, the rest still in
  transit); the first facility's stock adjustments (a recount, wastage, an expired lot
  written off, and a damaged write-off of more than is on hand, refused into a
  ``stock_adjustment`` exception); two purchase orders receiving one item's lots at two
  facilities; an approved purchase order for each of two vendors on hold (an expired
  credential, an exclusion list match), kept as RFQs with a ``vendor_hold`` exception;
* **evening** (posted once the day is processed): the recall notice of the lots received
  that day, which the product traces, quarantines where they are held and routes (one
  ``recall`` exception per facility).

The vendor master of every vendor carries credentials (a W-9, and a state licence for
the clinical categories); the two compliance vendors, their items and contract prices
join the morning master sync; the world carries a small OIG LEIE ``UPDATED.csv`` the
implementation team loads (``odoo_setup``).  Consumption, par levels and bill-only
implants are planned by :mod:`simulator.point_of_use` (``truth["point_of_use"]``).
"""

import random
from datetime import timedelta

from .generator import _party
from .generator import gln
from .generator import gtin14

FACILITY_MAIN, FACILITY_NORTH, FACILITY_LAKE = 0, 1, 2
LICENSED_CATEGORIES = ("pharmacy", "laboratory", "implants")
LEIE_HEADER = (
    "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,"
    "ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE"
)
# the two vendors of the compliance scenarios (names no world vendor can take)
EXPIRED_VENDOR = "Northwind Clinical Laboratories Inc."
EXCLUDED_VENDOR = "Blackthorn Orthopedic Devices LLC"


def credentials(vendor, day):
    """The credentials a world vendor's master states: a W-9, and a state licence valid
    two more years for the clinical categories."""
    creds = [{"credential_type": "tax_form", "number": f"W9-{vendor['prefix']}"}]
    if vendor["category"] in LICENSED_CATEGORIES:
        creds.append(
            {
                "credential_type": "licence",
                "number": f"SL-{vendor['prefix']}",
                "issuer": "State Board of Pharmacy",
                "valid_from": (day - timedelta(days=300)).isoformat(),
                "valid_to": (day + timedelta(days=730)).isoformat(),
            }
        )
    return creds


def compliance_vendors(day):
    """The vendor whose licence expired (a valid insurance does not help) and the vendor
    on the exclusion list (credentials all valid)."""
    valid = {
        "valid_from": (day - timedelta(days=200)).isoformat(),
        "valid_to": (day + timedelta(days=900)).isoformat(),
    }
    expired = {
        "index": 900,
        "name": EXPIRED_VENDOR,
        "gln": gln("086090000001"),
        "prefix": "0869000",
        "category": "laboratory",
        "city": "Riverton",
        "zip": "40100",
        "phone": "+1 555 300 1000",
        "tax": None,
        "credentials": [
            {
                "credential_type": "licence",
                "number": "CLIA-44D0998877",
                "issuer": "CMS CLIA program",
                "valid_from": (day - timedelta(days=1100)).isoformat(),
                "valid_to": (day - timedelta(days=400)).isoformat(),
            },
            {"credential_type": "insurance", "number": "COI-77120", "issuer": "Mutual", **valid},
        ],
    }
    excluded = {
        "index": 901,
        "name": EXCLUDED_VENDOR,
        "gln": gln("086090100001"),
        "prefix": "0869010",
        "category": "implants",
        "city": "Fairview",
        "zip": "40200",
        "phone": "+1 555 300 2000",
        "tax": None,
        "credentials": [
            {"credential_type": "tax_form", "number": "W9-0869010"},
            {"credential_type": "quality", "number": "ISO13485-5521", "issuer": "BSI", **valid},
        ],
    }
    return [expired, excluded]


def exclusion_csv(day):
    """A small OIG LEIE ``UPDATED.csv``: the excluded vendor's business entry, two
    individuals, and a business entry with the expired vendor's name that was reinstated
    (a reinstated entry never matches)."""
    rows = [
        f',,,"{EXCLUDED_VENDOR.upper().replace(".", "")}",DME COMPANY,,,0000000000,,'
        '"12 Quarry Rd",FAIRVIEW,OH,44101,1128b7,20220310,00000000,00000000,',
        "HOLLOWAY,DENNIS,R,,IND- LIC HC SERV PRO,NURSE/NURSES AIDE,,1234567893,19700101,"
        '"4 Elm St",SALEM,OR,97301,1128a1,20190601,00000000,00000000,',
        'VARGA,ILONA,,,IND- LIC HC SERV PRO,PHARMACIST,,,19650412,"77 Birch Ave",MADISON,WI,'
        "53703,1128b4,20210115,00000000,00000000,",
        f',,,"{EXPIRED_VENDOR.upper().replace(".", "")}",LABORATORY,,,,,"9 Lab Way",RIVERTON,'
        f"KY,40100,1128b7,20150101,{(day - timedelta(days=900)):%Y%m%d},00000000,",
    ]
    return "\n".join([LEIE_HEADER, *rows]) + "\n"


def _doc(seed, minute, connector, endpoint, doc_type, key, body, label):
    import json

    return (
        minute,
        {
            "connector": connector,
            "endpoint": endpoint,
            "doc_type": doc_type,
            "idempotency_key": f"demo-{seed}-{key}",
            "content_type": "application/json",
            "label": label,
            "body": json.dumps(body, sort_keys=True, separators=(",", ":")),
        },
    )


def _facility(fac):
    return {"identifiers": [{"scheme": "GLN", "value": fac["gln"]}], "name": fac["name"]}


def _line(n, item, qty, lot, expiry, **extra):
    return {
        "line_number": str(n),
        "item": {"gtin": item["gtin"]},
        "quantity": str(qty),
        "uom": item["uom"],
        "lot": lot,
        "expiry_date": expiry.isoformat(),
        **extra,
    }


def plan(world, day, seed, size, buyer):
    """The supply chain part of the day: ``{"opening", "day", "evening", "master",
    "truth"}`` (see the module doc); ``day`` is ``[(minute, document)]`` to merge with the
    day's other documents, the others are lists of documents in posting order;
    ``master`` is ``{"vendors", "items", "contract_prices"}`` to add to the master sync."""
    rng = random.Random(f"hc-demo-supply:{seed}:{size}")
    facilities = world["facilities"]
    main, north, lake = (facilities[i] for i in (FACILITY_MAIN, FACILITY_NORTH, FACILITY_LAKE))
    tracked = [i for i in world["items"] if i["lot_tracked"]]
    if not tracked:
        raise ValueError("the world has no lot-tracked item for the supply chain day")

    def pick(n):  # distinct items when there are enough, else reused (lots differ)
        chosen = rng.sample(tracked, k=min(n, len(tracked)))
        return [chosen[k % len(chosen)] for k in range(n)]

    item_a, item_b, item_c, item_d, item_x = pick(5)

    def lot(tag):
        return f"{tag}{rng.randint(10000, 99999)}"

    def expiry(low=240, high=900):
        return day + timedelta(days=rng.randint(low, high))

    lots = {
        "A": (item_a, lot("TA"), expiry(), 100),
        "B": (item_b, lot("TB"), expiry(), 60),
        "C1": (item_c, lot("CC"), expiry(), 50),
        "C2": (item_c, lot("CE"), day - timedelta(days=rng.randint(3, 40)), 12),
        "D": (item_d, lot("WD"), expiry(), 40),
    }
    truth_on_hand = []  # (facility code, gtin, lot, quantity) expected on hand
    # ------------------------------------------------------------------ opening count
    opening = {
        "adjustment_id": f"OPEN-{main['code']}-{day:%Y%m%d}",
        "facility": _facility(main),
        "adjustment_date": day.isoformat(),
        "counted_by": "inventory.lead",
        "lines": [
            _line(n, item, qty, name, exp, reason="count")
            for n, (item, name, exp, qty) in enumerate(lots.values(), start=1)
        ],
    }
    opening_docs = [
        _doc(
            seed,
            5 * 60,
            "wms",
            "stock-adjustments",
            "stock_adjustment",
            "adj-opening",
            opening,
            f"Opening count {main['code']}",
        )[1],
    ]
    events = []
    # ------------------------------------------------------------------ transfers
    transfers = []
    for tid, key, dest, qty, received, start in (
        (f"TR-{day:%y%m%d}-001", "A", north, 20, 20, 7 * 60),
        (f"TR-{day:%y%m%d}-002", "B", lake, 30, 25, 7 * 60 + 30),
    ):
        item, name, exp, counted = lots[key]
        for event, minute, q in (
            ("requested", start, qty),
            ("shipped", start + 120, qty),
            ("received", start + 360, received),
        ):
            doc = {
                "transfer_id": tid,
                "event": event,
                "event_date": day.isoformat(),
                "from_facility": _facility(main),
                "to_facility": _facility(dest),
                "reference": f"{main['code']}-REQ-{tid[-3:]}",
                "lines": [_line(1, item, q, name, exp)],
            }
            if event == "shipped":
                doc["carrier"] = "Network courier"
                doc["tracking_number"] = f"NC{rng.randint(100000, 999999)}"
            events.append(
                _doc(
                    seed,
                    minute,
                    "wms",
                    "stock-transfers",
                    "stock_transfer",
                    f"tr-{tid}-{event}",
                    doc,
                    f"Transfer {tid} {event}",
                )
            )
        transfers.append(
            {
                "transfer_id": tid,
                "from": main["code"],
                "to": dest["code"],
                "gtin": item["gtin"],
                "lot": name,
                "expiry": exp.isoformat(),
                "shipped": qty,
                "received": received,
                "in_transit": qty - received,
                "discrepancy": received < qty,
            }
        )
        truth_on_hand += [
            (main["code"], item["gtin"], name, counted - qty),
            (dest["code"], item["gtin"], name, received),
        ]
    # ------------------------------------------------------------------ adjustments
    c1, c2, d = lots["C1"], lots["C2"], lots["D"]
    recount = c1[3] - rng.randint(1, 5)
    wasted = rng.randint(1, 4)
    adjustment = {
        "adjustment_id": f"ADJ-{main['code']}-{day:%Y%m%d}-1",
        "facility": _facility(main),
        "adjustment_date": day.isoformat(),
        "counted_by": "inventory.lead",
        "lines": [
            _line(1, c1[0], recount, c1[1], c1[2], reason="count"),
            _line(2, d[0], wasted, d[1], d[2], reason="wastage", note="dropped, sterility lost"),
            _line(3, c2[0], c2[3], c2[1], c2[2], reason="expired"),
            _line(4, d[0], 500, d[1], d[2], reason="damaged", note="water damage"),
        ],
    }
    events.append(
        _doc(
            seed,
            15 * 60,
            "wms",
            "stock-adjustments",
            "stock_adjustment",
            "adj-day-1",
            adjustment,
            f"Stock adjustment {adjustment['adjustment_id']}",
        )
    )
    truth_on_hand += [
        (main["code"], c1[0]["gtin"], c1[1], recount),
        (main["code"], c2[0]["gtin"], c2[1], 0),
        (main["code"], d[0]["gtin"], d[1], d[3] - wasted),
    ]
    adjustments = {
        "adjustment_id": adjustment["adjustment_id"],
        "facility": main["code"],
        "lines": [
            {"reason": "count", "lot": c1[1], "before": c1[3], "after": recount},
            {"reason": "wastage", "lot": d[1], "quantity": wasted},
            {"reason": "expired", "lot": c2[1], "quantity": c2[3]},
            {"reason": "damaged", "lot": d[1], "quantity": 500, "refused": True},
        ],
        "expected_exceptions": 1,
    }
    # ------------------------------------------------------------------ recalled lots
    vendor_x = next(v for v in world["vendors"] if v["index"] == item_x["vendor"])
    recall_lots = []
    for n, (fac, qty, minute) in enumerate(
        ((main, rng.choice([20, 30, 40]), 8 * 60), (north, rng.choice([10, 15, 25]), 9 * 60)),
        start=1,
    ):
        number = f"PO-{day:%y%m}-R{n:04d}"
        name, exp = lot("RX"), expiry()
        po = {
            "number": number,
            "order_date": (day - timedelta(days=2)).isoformat(),
            "currency": "USD",
            "approval_status": "approved",
            "vendor": _party(vendor_x),
            "buyer": buyer,
            "ship_to": _facility(fac),
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": item_x["gtin"], "description": item_x["description"]},
                    "quantity": str(qty),
                    "uom": item_x["uom"],
                    "unit_price": item_x["price"],
                }
            ],
        }
        receipt = {
            "receipt_id": f"GR-{number}",
            "po_number": number,
            "facility": _facility(fac),
            "received_date": day.isoformat(),
            "received_by": "receiving.lead",
            "lines": [
                {
                    "line_number": "1",
                    "po_line_ref": "1",
                    "item": {"gtin": item_x["gtin"]},
                    "quantity_received": str(qty),
                    "uom": item_x["uom"],
                    "lot": name,
                    "expiry_date": exp.isoformat(),
                }
            ],
        }
        events += [
            _doc(seed, minute, "sourcing", "purchase-orders", "purchase_order", f"po-{number}",
                 po, f"PO {number}"),
            _doc(seed, minute + 90, "wms", "receipts", "receipt", f"gr-{number}", receipt,
                 f"Receipt {number}"),
        ]  # fmt: skip
        recall_lots.append({"facility": fac["code"], "lot": name, "quantity": qty})
        truth_on_hand.append((fac["code"], item_x["gtin"], name, qty))
    recall = {
        "recall_id": f"RCL-{day:%Y}-{rng.randint(1000, 9999)}",
        "item": {"gtin": item_x["gtin"]},
        "manufacturer": {"name": vendor_x["name"]},
        "classification": "class_ii",
        "reason": "Sterile barrier may be compromised (seal defect found in retained samples).",
        "issued_date": day.isoformat(),
        "lots": sorted(x["lot"] for x in recall_lots),
    }
    evening_docs = [
        _doc(
            seed,
            20 * 60,
            "quality",
            "recalls",
            "recall",
            f"recall-{recall['recall_id']}",
            recall,
            f"Recall {recall['recall_id']}",
        )[1],
    ]
    quarantined = {}
    for x in recall_lots:
        quarantined[x["facility"]] = quarantined.get(x["facility"], 0) + x["quantity"]
    # ------------------------------------------------------------------ vendors on hold
    vendors = compliance_vendors(day)
    items, contracts, held = [], [], []
    for n, vendor in enumerate(vendors):
        item = {
            "index": 9000 + n,
            "vendor": vendor["index"],
            "gtin": gtin14(f"0{vendor['prefix']}{n + 1:05d}"),
            "vendor_part_number": f"{vendor['name'][:3].upper()}-{9000 + n}",
            "description": ["Reagent control kit, level 2", "Cortical bone screw 3.5 mm"][n],
            "uom": "EA",
            "price": ["64.00", "148.00"][n],
            "critical": False,
            "lot_tracked": False,
        }
        items.append((item, vendor))
        contracts.append((item, vendor))
        number = f"PO-{day:%y%m}-H{n + 1:04d}"
        qty = rng.choice([4, 6, 10])
        po = {
            "number": number,
            "order_date": (day - timedelta(days=1)).isoformat(),
            "currency": "USD",
            "approval_status": "approved",
            "vendor": _party(vendor),
            "buyer": buyer,
            "ship_to": _facility(lake),
            "lines": [
                {
                    "line_number": "1",
                    "item": {"gtin": item["gtin"], "description": item["description"]},
                    "quantity": str(qty),
                    "uom": "EA",
                    "unit_price": item["price"],
                }
            ],
        }
        events.append(
            _doc(
                seed,
                10 * 60 + 15 * n,
                "sourcing",
                "purchase-orders",
                "purchase_order",
                f"po-{number}",
                po,
                f"PO {number}",
            )
        )
        held.append(
            {
                "po_number": number,
                "vendor_gln": vendor["gln"],
                "vendor": vendor["name"],
                "reason": "expired_credential" if n == 0 else "exclusion_match",
                "amount": f"{int(qty) * float(item['price']):.2f}",
            }
        )
    truth = {
        "facilities": {f["code"]: f["name"] for f in facilities},
        "transfers": transfers,
        "adjustments": adjustments,
        "on_hand": [
            {"facility": f, "gtin": g, "lot": lot_, "quantity": q}
            for f, g, lot_, q in truth_on_hand
        ],
        "recall": {
            "recall_id": recall["recall_id"],
            "gtin": item_x["gtin"],
            "lots": recall_lots,
            "quarantined": quarantined,
            "expected_exceptions": len(quarantined),
        },
        "vendor_holds": held,
        "exclusion_matches": [vendors[1]["gln"]],
        "expired_credential_vendors": [vendors[0]["gln"]],
        "credentials": sum(len(credentials(v, day)) for v in world["vendors"])
        + sum(len(v["credentials"]) for v in vendors),
        "expected_exceptions": {
            "transfer_discrepancy": sum(t["discrepancy"] for t in transfers),
            "stock_adjustment": adjustments["expected_exceptions"],
            "recall": len(quarantined),
            "vendor_hold": len(held),
        },
    }
    return {
        "opening": opening_docs,
        "day": events,
        "evening": evening_docs,
        "master": {"vendors": vendors, "items": items, "contract_prices": contracts},
        "exclusion_csv": exclusion_csv(day),
        "truth": truth,
    }
