"""Deterministic generator of a hospital network and one day of its inbound documents.

:func:`generate` returns ``{"world", "documents", "truth"}``; the same seed and size always
give the same bytes (no clock, no unordered iteration, one ``random.Random(seed)``).

* ``world``: the network (3 facilities with GLNs), vendors (GLN with a valid GS1 check
  digit, category, the tax their invoices state: a standard rate, exempt or none), items
  (GTIN-14 with valid check digit, vendor part number, unit EA or BX, critical flag,
  lot/expiry tracking), contract prices and the AP tolerances (charges included);
* ``documents``: what the systems around Odoo post over the day, in posting order, each
  with the endpoint, content type, ``Idempotency-Key``, the connector that sends it, its
  simulated time of day and the raw body;
* ``truth``: one entry per supplier invoice *document* (resubmissions included) saying
  whether it is clean or faulty, the faults, the exception types the product should
  raise, and the totals as the supplier stated them (untaxed, tax, total).

Scenarios per purchase order (weights in :data:`SCENARIOS`): clean bills of every kind
(plain, short receipt billed as received, receipt arriving after the invoice, receipt
and ship notice arriving before their PO, price within tolerance, line and document
allowances, freight within the charge tolerance) and faulty ones (price variance, billed
more than received, billed with nothing received, unknown item added, PO priced above
contract, lot expired at receipt, freight beyond the charge tolerance, an acknowledgment
that raised a confirmed PO's price followed by an invoice at that price, and the amount
faults of :data:`AMOUNT_FAULTS`: a stated total that does not add up, a stated tax that
is not rate x base, a line amount that is not quantity x price), plus duplicate
resubmissions (the same file again, or the same invoice re-keyed in another format) and
an invoice from a vendor nobody knows.  Every invoice carries its vendor's tax: taxed
vendors state a standard rate (category S, 8 or 10 %), exempt ones category E at 0 %,
others no tax at all.  Invoices are written in UBL 2.1, X12 810 (item-level, or the
summary shape: IT1 lines naming only the PO and its line, tax in a header TXI, freight
and allowances in header SACs), cXML and canonical JSON, each scenario only in the formats
that can state it (:data:`FORMAT_CANNOT`).  From the small size on, every scenario added
for amounts appears at least twice, in two formats (:data:`COVERAGE`); the tiny day has
four of them once (:data:`COVERAGE_TINY`).
"""

import json
import random
from datetime import date
from datetime import timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal

from stdnum import ean

from . import trading
from . import writers

DEFAULT_DAY = date(2026, 11, 23)
SIZES = {
    # vendors, items, purchase orders
    "tiny": (3, 15, 8),
    "small": (10, 80, 40),
    "full": (50, 500, 200),
}
FACILITIES = [
    ("Riverside General Hospital", "Springfield", "WH"),
    ("Northside Medical Center", "Shelbyville", "NS"),
    ("Lakeview Surgical Center", "Capital City", "LV"),
]
NETWORK_NAME = "Riverside Health Network"
NETWORK_GLN_BASE = "086099900000"  # 12 digits: GS1 company prefix + location reference
VENDOR_CATEGORIES = ["medical_surgical", "pharmacy", "laboratory", "implants", "facilities"]

# scenario: (weight, clean?, faults, expected exception types)
SCENARIOS = {
    "clean": (60, True, [], []),
    "clean_short_billed_as_received": (5, True, [], []),
    "clean_receipt_after_invoice": (5, True, [], []),
    "clean_receipt_before_po": (4, True, [], []),
    "clean_price_within_tolerance": (4, True, [], []),
    "not_invoiced_today": (4, None, [], []),
    "price_variance": (5, False, ["price_variance"], ["price_variance"]),
    "billed_more_than_received": (4, False, ["qty_variance"], ["qty_variance"]),
    "nothing_received": (3, False, ["missing_receipt"], ["missing_receipt"]),
    "unknown_item_line": (3, False, ["unknown_item"], ["unknown_item", "no_po"]),
    "po_above_contract": (2, False, ["contract_price"], ["contract_price_mismatch"]),
    # the refused line is not received: billed beyond receipt, or nothing received at all
    "lot_expired_at_receipt": (
        2,
        False,
        ["goods_refused"],
        ["lot_expiry", "qty_variance", "missing_receipt"],
    ),
    # amounts
    "clean_line_allowance": (4, True, [], []),
    "clean_document_allowance": (4, True, [], []),
    "clean_freight_within_tolerance": (5, True, [], []),
    "freight_beyond_tolerance": (2, False, ["charge_beyond_tolerance"], ["charge_variance"]),
    "ack_price_raised": (2, False, ["ack_price_change"], ["price_variance", "po_ack_change"]),
    "total_not_adding_up": (
        2,
        False,
        ["stated_total_wrong"],
        ["total_mismatch", "document_inconsistent"],
    ),
    "tax_not_rate_times_base": (2, False, ["stated_tax_wrong"], ["tax_variance", "total_mismatch"]),
    "line_amount_not_qty_times_price": (
        2,
        False,
        ["line_amount_wrong"],
        ["document_inconsistent", "total_mismatch"],
    ),
}
# scenarios whose fault is in the invoice's own amounts ("faulty amounts caught")
AMOUNT_FAULTS = (
    "freight_beyond_tolerance",
    "total_not_adding_up",
    "tax_not_rate_times_base",
    "line_amount_not_qty_times_price",
)
# what an invoice format cannot state: X12 810 has no line amount (IT1 is quantity and
# price), the summary 810 states allowances at the header only, the cXML writer states
# discounts at the summary only
FORMAT_CANNOT = {
    "x12": {"line_amount"},
    "x12_summary": {"line_amount", "line_allowance"},
    "cxml": {"line_allowance"},
    "json": set(),
    "ubl": set(),
}
SCENARIO_NEEDS = {
    "clean_line_allowance": {"line_allowance"},
    "line_amount_not_qty_times_price": {"line_amount"},
}
# scenarios (and the summary 810) shown at least twice, in two formats, from "small" on
COVERAGE = [
    "clean_line_allowance",
    "clean_document_allowance",
    "clean_freight_within_tolerance",
    "freight_beyond_tolerance",
    "ack_price_raised",
    "total_not_adding_up",
    "tax_not_rate_times_base",
    "line_amount_not_qty_times_price",
]
COVERAGE_TINY = [
    "clean_line_allowance",
    "clean_freight_within_tolerance",
    "total_not_adding_up",
    "tax_not_rate_times_base",
]
# the tax each vendor's invoices state, by vendor index modulo 4: category S at a
# standard rate, category E at 0 %, or no tax at all (the demo company also has a 15 %
# default purchase tax that must never reach these bills)
TAX_REGIMES = [
    {"category": "S", "rate": "8"},
    None,
    {"category": "E", "rate": "0", "exemption_reason": "Medical supplies exempt from sales tax"},
    {"category": "S", "rate": "10"},
]
INVOICE_FORMATS = [("ubl", 35), ("x12", 17), ("x12_summary", 8), ("cxml", 20), ("json", 20)]
CONTENT_TYPES = {
    "json": "application/json",
    "ubl": "application/xml",
    "cxml": "application/xml",
    "x12": "application/edi-x12",
    "x12_summary": "application/edi-x12",
}
# AP tolerances of the network; a charge (freight...) passes within 5 % of the goods'
# net amount or 25.00, whichever is larger
TOLERANCE = {
    "price_pct": 2.0,
    "qty_pct": 0.0,
    "total_pct": 2.0,
    "charge_pct": 5.0,
    "charge_abs": 25.0,
}

_ADJ = "Allied Apex Beacon Cardinal Summit Harbor Keystone Liberty Meridian Pinnacle Prairie Sterling Trident Unity Vantage Crescent Evergreen Granite Horizon Lakeshore".split()
_NOUN = "Medical Surgical Healthcare Diagnostics Pharma Biologics Scientific Orthopedics Supply Labs".split()
_SUFFIX = ["Inc.", "LLC", "Corp.", "Co.", "Group"]
_CITIES = "Springfield Riverton Fairview Madison Georgetown Franklin Clinton Salem Arlington Ashland".split()
_ITEMS = {
    "medical_surgical": [
        ("Nitrile exam gloves, size {s}", "EA", (0.08, 0.30)),
        ("Syringe {v} ml luer lock", "EA", (0.12, 0.60)),
        ("Gauze sponge 4x4 in, sterile", "BX", (4.0, 12.0)),
        ("IV catheter {g}G", "EA", (1.2, 4.5)),
        ("Surgical mask, level {l}", "BX", (6.0, 18.0)),
        ("Wound dressing {d} cm", "EA", (1.5, 9.0)),
    ],
    "pharmacy": [
        ("Sodium chloride 0.9% {v} ml bag", "EA", (1.1, 3.5)),
        ("Heparin {u} units/ml vial", "EA", (2.5, 14.0)),
        ("Ondansetron {m} mg tablets", "BX", (8.0, 35.0)),
        ("Lidocaine {p}% injection", "EA", (3.0, 11.0)),
    ],
    "laboratory": [
        ("Blood collection tube {v} ml", "BX", (18.0, 45.0)),
        ("Reagent cartridge lot-controlled, test {t}", "EA", (40.0, 180.0)),
        ("Pipette tips {v} ul", "BX", (9.0, 30.0)),
    ],
    "implants": [
        ("Bone screw {d} mm titanium", "EA", (45.0, 190.0)),
        ("Suture anchor {d} mm", "EA", (120.0, 380.0)),
    ],
    "facilities": [
        ("Disinfectant wipes canister", "BX", (20.0, 60.0)),
        ("Biohazard bag {v} l", "BX", (15.0, 40.0)),
    ],
}
TRACKED_CATEGORIES = ("pharmacy", "laboratory", "implants")


def check_digit_gs1(digits):
    """The GS1 mod-10 check digit for ``digits`` (GLN, GTIN)."""
    return ean.calc_check_digit(digits)


def gln(base12):
    return base12 + check_digit_gs1(base12)


def gtin14(base13):
    return base13 + check_digit_gs1(base13)


def _money(value):
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _pick(rng, weighted):
    return rng.choices([name for name, _w in weighted], weights=[w for _n, w in weighted])[0]


def _fill(rng, template):
    return template.format(
        s=rng.choice("S M L XL".split()),
        v=rng.choice([3, 5, 10, 20, 50, 100, 250, 500, 1000]),
        g=rng.choice([14, 16, 18, 20, 22, 24]),
        l=rng.choice([1, 2, 3]),
        d=rng.choice([2, 3, 4, 5, 6, 8, 10, 12]),
        u=rng.choice([1000, 5000, 10000]),
        m=rng.choice([4, 8]),
        p=rng.choice([1, 2]),
        t=rng.choice(["CBC", "BMP", "CMP", "TSH", "HbA1c", "Troponin"]),
    )


# --------------------------------------------------------------------------- the world


def make_world(rng, size):
    n_vendors, n_items, _n_pos = SIZES[size]
    facilities = [
        {
            "name": name,
            "city": city,
            "code": code,
            "gln": gln(f"{NETWORK_GLN_BASE[:-2]}{i + 1:02d}"),
        }
        for i, (name, city, code) in enumerate(FACILITIES)
    ]
    vendors = []
    names = set()
    for v in range(n_vendors):
        while True:
            name = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_SUFFIX)}"
            if name.split(maxsplit=1)[0] + name.split()[1] not in names:
                names.add(name.split(maxsplit=1)[0] + name.split()[1])
                break
        prefix = f"086{v + 100:04d}"
        vendors.append(
            {
                "index": v,
                "name": name,
                "gln": gln(prefix + "00001"),
                "prefix": prefix,
                "category": VENDOR_CATEGORIES[v % len(VENDOR_CATEGORIES)],
                "city": rng.choice(_CITIES),
                "zip": f"{rng.randint(10000, 99999)}",
                "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "tax": TAX_REGIMES[v % len(TAX_REGIMES)],
            }
        )
    items = []
    seen = set()
    for i in range(n_items):
        vendor = vendors[i % n_vendors]
        template, uom, (low, high) = rng.choice(_ITEMS[vendor["category"]])
        description = _fill(rng, template)
        while (vendor["index"], description) in seen:
            description = f"{description} ({rng.randint(2, 99)})"
        seen.add((vendor["index"], description))
        price = _money(rng.uniform(low, high))
        tracked = vendor["category"] in TRACKED_CATEGORIES and rng.random() < 0.6
        items.append(
            {
                "index": i,
                "vendor": vendor["index"],
                "gtin": gtin14(f"0{vendor['prefix']}{i:05d}"),
                "vendor_part_number": f"{vendor['name'][:3].upper()}-{1000 + i}",
                "description": description,
                "uom": uom,
                "price": str(price),
                "critical": rng.random() < 0.12,
                "lot_tracked": tracked,
            }
        )
    return {
        "network": {"name": NETWORK_NAME, "gln": gln(NETWORK_GLN_BASE)},
        "facilities": facilities,
        "vendors": vendors,
        "items": items,
        "tolerance": TOLERANCE,
    }


def _party(vendor):
    return {"identifiers": [{"scheme": "GLN", "value": vendor["gln"]}], "name": vendor["name"]}


def vendor_doc(vendor, phone=None, credentials=None):
    doc = {
        "identifiers": [{"scheme": "GLN", "value": vendor["gln"]}],
        "name": vendor["name"],
        "address": {
            "street": "1 Commerce Way",
            "city": vendor["city"],
            "zip": vendor["zip"],
            "country_code": "US",
        },
        "phone": phone or vendor["phone"],
        "currency": "USD",
        "category": vendor["category"],
    }
    if credentials:
        doc["credentials"] = credentials
    return doc


def item_doc(item, vendor, description=None):
    return {
        "gtin": item["gtin"],
        "vendor_part_number": item["vendor_part_number"],
        "description": description or item["description"],
        "vendor": _party(vendor),
        "uom": item["uom"],
        "category": vendor["category"],
        "critical": item["critical"],
        "lot_tracked": item["lot_tracked"],
    } | ({"serial_tracked": True} if item.get("serial_tracked") else {})


def contract_doc(item, vendor, day):
    """A three-year GPO contract from the demo day's year: Odoo's replenishment planner
    prices its draft orders at today's date, which must fall inside the contract for a
    demo day replayed later (the default day is fixed)."""
    return {
        "contract_reference": f"GPO-{vendor['prefix']}-2026",
        "vendor": _party(vendor),
        "item": {"gtin": item["gtin"]},
        "price": item["price"],
        "currency": "USD",
        "uom": item["uom"],
        "date_start": date(day.year, 1, 1).isoformat(),
        "date_end": date(day.year + 2, 12, 31).isoformat(),
    }


# --------------------------------------------------------------------------- the day


class _Day:
    def __init__(self, rng, world, day, seed):
        self.rng = rng
        self.world = world
        self.day = day
        self.seed = seed
        self.events = []  # (minute of day, order, document)
        self.truth = []
        self.x12_control = 1000
        self.buyer = {
            "identifiers": [{"scheme": "GLN", "value": world["network"]["gln"]}],
            "name": world["network"]["name"],
        }

    def add(self, minute, connector, endpoint, doc_type, key, body, content_type, label):
        self.events.append(
            (
                minute,
                len(self.events),
                {
                    "connector": connector,
                    "endpoint": endpoint,
                    "doc_type": doc_type,
                    "idempotency_key": f"demo-{self.seed}-{key}",
                    "content_type": content_type,
                    "label": label,
                    "body": body,
                },
            )
        )

    def add_json(self, minute, connector, endpoint, doc_type, key, doc, label):
        body = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        self.add(minute, connector, endpoint, doc_type, key, body, "application/json", label)


def _qty(rng, item):
    return rng.randint(1, 12) if item["uom"] == "BX" else rng.choice([10, 20, 25, 50, 100, 200])


def _invoice_body(day, fmt, invoice):
    if fmt == "json":
        return json.dumps(invoice, sort_keys=True, separators=(",", ":")).encode()
    if fmt == "ubl":
        return writers.ubl_invoice(invoice)
    if fmt == "cxml":
        return writers.cxml_invoice(invoice, f"{invoice['number']}@demo")
    day.x12_control += 1
    return writers.x12_810(invoice, day.x12_control, summary=fmt == "x12_summary")


def _formats_for(scenario):
    """The invoice formats able to state what ``scenario`` needs (in a fixed order)."""
    needs = SCENARIO_NEEDS.get(scenario, set())
    return [f for f, _w in INVOICE_FORMATS if not needs & FORMAT_CANNOT[f]]


def _pick_format(rng, scenario):
    allowed = set(_formats_for(scenario))
    return _pick(rng, [(f, w) for f, w in INVOICE_FORMATS if f in allowed])


def _tax_lines(regime):
    """The tax category and rate a line or an allowance/charge states (none when untaxed)."""
    if regime is None:
        return []
    return [{k: v for k, v in regime.items() if k != "exemption_reason"}]


def _amounts(rng, scenario, regime, lines):
    """Allowances, charges, taxes and totals of an invoice, as its supplier states them.

    ``lines`` (with ``quantity`` and ``unit_price``) get their allowances, stated
    ``line_total`` and tax category; returns ``(header fields, truth totals)``.  Tax is
    the rate applied to the tax-exclusive amount (lines - allowances + charges), rounded
    once (EN 16931's rule; the demo company rounds taxes globally, the same way).
    """
    for ln in lines:
        ln["line_total"] = str(_money(Decimal(ln["quantity"]) * Decimal(ln["unit_price"])))
        ln["taxes"] = _tax_lines(regime)
    if scenario == "clean_line_allowance":
        candidates = [ln for ln in lines if Decimal(ln["line_total"]) >= 2]
        for ln in rng.sample(candidates or lines, k=min(len(candidates or lines), 2)):
            gross = Decimal(ln["line_total"])
            allowance = max(Decimal("0.01"), _money(gross * rng.choice([2, 5, 10]) / 100))
            ln["allowance_charges"] = [
                {
                    "is_charge": False,
                    "amount": str(allowance),
                    "reason_code": "95",
                    "reason": "Promotional allowance",
                }
            ]
            ln["line_total"] = str(gross - allowance)
    if scenario == "line_amount_not_qty_times_price":
        wrong = lines[0]
        delta = max(Decimal("1.00"), Decimal(wrong["unit_price"]))
        wrong["line_total"] = str(Decimal(wrong["line_total"]) + delta)
    goods = sum(Decimal(ln["quantity"]) * Decimal(ln["unit_price"]) for ln in lines)
    net = sum(Decimal(ln["line_total"]) for ln in lines)
    header = []
    if scenario == "clean_document_allowance":
        amount = max(Decimal("0.01"), _money(net * rng.choice([1, 2, 3]) / 100))
        header.append(
            {
                "is_charge": False,
                "amount": str(amount),
                "reason_code": "95",
                "reason": "Volume discount",
                "taxes": _tax_lines(regime),
            }
        )
    allowances = sum(Decimal(a["amount"]) for a in header)
    # freight against the charge tolerance (5 % of the goods or 25.00, the larger): well
    # inside it on the smallest base, well beyond it on the largest
    if scenario == "clean_freight_within_tolerance":
        limit = max(Decimal(TOLERANCE["charge_pct"]) / 100 * (net - allowances), Decimal(25))
        freight = _money(limit * Decimal(str(rng.uniform(0.2, 0.8))))
    elif scenario == "freight_beyond_tolerance":
        limit = max(Decimal(TOLERANCE["charge_pct"]) / 100 * goods, Decimal(25))
        freight = _money(limit * Decimal(str(rng.uniform(1.6, 3.0))))
    else:
        freight = None
    if freight is not None:
        header.append(
            {
                "is_charge": True,
                "amount": str(freight),
                "reason_code": "FC",
                "reason": "Freight",
                "taxes": _tax_lines(regime),
            }
        )
    charges = freight or Decimal(0)
    untaxed = net - allowances + charges
    fields = {
        "net_total": str(net),
        "tax_exclusive_total": str(untaxed),
    }
    if header:
        fields["allowance_charges"] = header
    if allowances:
        fields["allowance_total"] = str(allowances)
    if charges:
        fields["charge_total"] = str(charges)
    tax = Decimal("0.00")
    if regime is not None:
        tax = _money(untaxed * Decimal(regime["rate"]) / 100)
        if scenario == "tax_not_rate_times_base":
            # the supplier applied one point more than the rate it states
            tax += max(Decimal("1.00"), _money(untaxed / 100))
        fields["taxes"] = [
            dict(_tax_lines(regime)[0], taxable_amount=str(untaxed), amount=str(tax))
            | (
                {"exemption_reason": regime["exemption_reason"]}
                if "exemption_reason" in regime
                else {}
            )
        ]
        fields["tax_total"] = str(tax)
    total = untaxed + tax
    if scenario == "total_not_adding_up":
        total += _money(Decimal(str(rng.uniform(1, 40))))
    fields["gross_total"] = str(total)
    fields["payable_amount"] = str(total)
    truth = {"untaxed": str(untaxed), "tax": str(tax), "total": str(total)}
    return fields, truth


def _connector(fmt):
    return "edi" if fmt.startswith("x12") else "ap"


def _post_invoice(day, minute, fmt, invoice, key, label):
    body = _invoice_body(day, fmt, invoice)
    day.add(minute, _connector(fmt), "invoices", "invoice", key, body.decode(),
            CONTENT_TYPES[fmt], label)  # fmt: skip
    return body


def _plan_po(day, number, vendor, vendor_items, scenario):
    rng = day.rng
    facility = rng.choice(day.world["facilities"])
    chosen = rng.sample(vendor_items, k=min(len(vendor_items), rng.randint(1, 4)))
    if scenario == "lot_expired_at_receipt":
        tracked = [i for i in vendor_items if i["lot_tracked"]]
        if not tracked:
            return None
        # the expired lot goes on line 1: a lot-tracked item must be there
        if tracked[0] in chosen:
            index = chosen.index(tracked[0])
            chosen[0], chosen[index] = chosen[index], chosen[0]
        else:
            chosen[0] = tracked[0]
    lines = []
    for n, item in enumerate(chosen, start=1):
        price = Decimal(item["price"])
        if scenario == "po_above_contract" and n == 1:
            price = _money(price * Decimal("1.08"))
        lines.append(
            {
                "line_number": str(n),
                "item": item,
                "quantity": _qty(rng, item),
                "price": price,
            }
        )
    return {"number": number, "vendor": vendor, "facility": facility, "lines": lines}


def _po_doc(day, po, order_date):
    return {
        "number": po["number"],
        "order_date": order_date.isoformat(),
        "currency": "USD",
        "approval_status": "approved",
        "vendor": _party(po["vendor"]),
        "buyer": day.buyer,
        "ship_to": {
            "identifiers": [{"scheme": "GLN", "value": po["facility"]["gln"]}],
            "name": po["facility"]["name"],
        },
        "lines": [
            {
                "line_number": ln["line_number"],
                "item": {"gtin": ln["item"]["gtin"], "description": ln["item"]["description"]},
                "quantity": str(ln["quantity"]),
                "uom": ln["item"]["uom"],
                "unit_price": str(ln["price"]),
                "critical": ln["item"]["critical"],
            }
            for ln in po["lines"]
        ],
    }


def _lot(day, po, line, expired=False):
    expiry = day.day + timedelta(days=day.rng.randint(180, 720))
    if expired:
        expiry = day.day - timedelta(days=day.rng.randint(5, 60))
    return f"L{po['number'][-5:]}{line['line_number']}{day.rng.randint(10, 99)}", expiry


def _scenario_day(day, po, scenario, minute, fmt=None):
    """Post the PO's documents over the day; return the invoice truth entries.

    ``fmt`` is the invoice's format (picked by weight among those able to state the
    scenario when not given).
    """
    rng = day.rng
    number = po["number"]
    order_date = day.day - timedelta(days=rng.randint(1, 6))
    received = {}
    for ln in po["lines"]:
        qty = ln["quantity"]
        if scenario in ("clean_short_billed_as_received", "billed_more_than_received"):
            if ln is po["lines"][0]:
                qty = max(0, qty - max(1, qty // 4))
        received[ln["line_number"]] = qty
    po_minute = minute
    receipt_minute = minute + rng.randint(60, 240)
    invoice_minute = receipt_minute + rng.randint(30, 240)
    if scenario == "clean_receipt_before_po":
        po_minute = receipt_minute + rng.randint(20, 60)
    if scenario == "clean_receipt_after_invoice":
        receipt_minute = invoice_minute + rng.randint(30, 90)
    # the purchase order, from the sourcing platform
    day.add_json(po_minute, "sourcing", "purchase-orders", "purchase_order", f"po-{number}",
                 _po_doc(day, po, order_date), f"PO {number}")  # fmt: skip
    # the supplier's acknowledgment (one raises the price of the PO's first line)
    acked_price = None
    if scenario == "ack_price_raised":
        first = po["lines"][0]
        acked_price = _money(first["price"] * Decimal(str(1 + rng.uniform(0.10, 0.20))))
    if acked_price is not None or rng.random() < 0.7:
        ack = {
            "po_number": number,
            "ack_number": f"ACK-{number}",
            "ack_date": day.day.isoformat(),
            "status": "accepted",
            "vendor": _party(po["vendor"]),
            "lines": [{"line_number": ln["line_number"], "status": "accept"} for ln in po["lines"]],
        }
        if acked_price is not None:
            ack["status"] = "accepted_with_changes"
            ack["lines"][0] = {
                "line_number": first["line_number"],
                "status": "change",
                "ordered_quantity": str(first["quantity"]),
                "quantity": str(first["quantity"]),
                "uom": first["item"]["uom"],
                "unit_price": str(acked_price),
                "reason": "Manufacturer price increase",
            }
        ack_minute = max(po_minute, minute) + rng.randint(5, 40)
        day.add_json(ack_minute, "edi", "po-acks", "po_ack", f"ack-{number}", ack,
                     f"PO ack {number}")  # fmt: skip
    lots = {}
    expired_line = po["lines"][0]["line_number"] if scenario == "lot_expired_at_receipt" else None
    for ln in po["lines"]:
        if ln["item"]["lot_tracked"]:
            lots[ln["line_number"]] = _lot(day, po, ln, ln["line_number"] == expired_line)
    if scenario != "nothing_received":
        asn = {
            "asn_number": f"ASN-{number}",
            "po_number": number,
            "ship_date": (day.day - timedelta(days=1)).isoformat(),
            "expected_delivery_date": day.day.isoformat(),
            "vendor": _party(po["vendor"]),
            "carrier": rng.choice(["UPS", "FedEx", "Medline Fleet", "Cardinal Logistics"]),
            "tracking_number": f"1Z{rng.randint(10**9, 10**10 - 1)}",
            "lines": [],
        }
        for ln in po["lines"]:
            line = {
                "line_number": ln["line_number"],
                "po_line_ref": ln["line_number"],
                "item": {"gtin": ln["item"]["gtin"]},
                "quantity": str(received[ln["line_number"]]),
                "uom": ln["item"]["uom"],
                "ordered_quantity": str(ln["quantity"]),
            }
            if ln["line_number"] in lots:
                line["lot"], expiry = lots[ln["line_number"]]
                line["expiry_date"] = expiry.isoformat()
            if received[ln["line_number"]]:
                asn["lines"].append(line)
        if asn["lines"]:
            day.add_json(receipt_minute - rng.randint(10, 50), "edi", "ship-notices",
                         "ship_notice", f"asn-{number}", asn, f"ASN {number}")  # fmt: skip
        receipt = {
            "receipt_id": f"GR-{number}",
            "po_number": number,
            "asn_number": asn["asn_number"],
            "facility": {
                "identifiers": [{"scheme": "GLN", "value": po["facility"]["gln"]}],
                "name": po["facility"]["name"],
            },
            "received_date": day.day.isoformat(),
            "received_by": rng.choice(["dock.clerk1", "dock.clerk2", "receiving.lead"]),
            "lines": [],
        }
        for ln in po["lines"]:
            line = {
                "line_number": ln["line_number"],
                "po_line_ref": ln["line_number"],
                "item": {"gtin": ln["item"]["gtin"]},
                "quantity_received": str(received[ln["line_number"]]),
                "uom": ln["item"]["uom"],
                "critical": ln["item"]["critical"],
            }
            # half the receiving systems capture lots, the others rely on the ASN's
            if ln["line_number"] in lots and rng.random() < 0.5:
                line["lot"], expiry = lots[ln["line_number"]]
                line["expiry_date"] = expiry.isoformat()
            receipt["lines"].append(line)
        day.add_json(receipt_minute, "wms", "receipts", "receipt", f"gr-{number}", receipt,
                     f"Receipt {number}")  # fmt: skip
    if scenario == "not_invoiced_today":
        return []
    # the invoice
    vendor = po["vendor"]
    lines = []
    for ln in po["lines"]:
        qty = ln["quantity"]
        if scenario == "clean_short_billed_as_received":
            qty = received[ln["line_number"]]
        if qty == 0:
            continue
        price = ln["price"]
        if scenario == "price_variance" and ln is po["lines"][0]:
            price = _money(price * Decimal(str(1 + rng.uniform(0.05, 0.15))))
        if scenario == "clean_price_within_tolerance" and ln is po["lines"][0]:
            price = _money(price * Decimal(str(1 + rng.uniform(0.002, 0.012))))
            if price > _money(ln["price"] * Decimal("1.015")):
                price = ln["price"]
        if scenario == "po_above_contract" and ln is po["lines"][0]:
            price = ln["price"]
        if acked_price is not None and ln is po["lines"][0]:
            price = acked_price  # billed at the acknowledged price, not the agreed one
        lines.append(
            {
                "line_number": str(len(lines) + 1),
                "po_line_ref": ln["line_number"],
                "item": {
                    "gtin": ln["item"]["gtin"],
                    "vendor_part_number": ln["item"]["vendor_part_number"],
                    "description": ln["item"]["description"],
                },
                "quantity": str(qty),
                "uom": ln["item"]["uom"],
                "unit_price": str(price),
            }
        )
    if scenario == "unknown_item_line":
        unknown = gtin14(f"08699999{rng.randint(10000, 99999)}")
        lines.append(
            {
                "line_number": str(len(lines) + 1),
                "item": {
                    "gtin": unknown,
                    "vendor_part_number": f"NEW-{rng.randint(100, 999)}",
                    "description": "Substitute item shipped without order",
                },
                "quantity": str(rng.randint(1, 5)),
                "uom": "EA",
                "unit_price": str(_money(rng.uniform(5, 60))),
            }
        )
    fields, totals = _amounts(rng, scenario, vendor.get("tax"), lines)
    invoice = {
        "number": f"{vendor['name'][:2].upper()}{rng.randint(100000, 999999)}",
        "issue_date": day.day.isoformat(),
        "due_date": (day.day + timedelta(days=30)).isoformat(),
        "currency": "USD",
        "vendor": _party(vendor),
        "buyer": day.buyer,
        "po_numbers": [number],
        "lines": lines,
        **fields,
    }
    fmt = fmt or _pick_format(rng, scenario)
    _weight, clean, faults, expected = SCENARIOS[scenario]
    key = f"inv-{number}"
    body = _post_invoice(
        day, invoice_minute, fmt, invoice, key, f"Invoice {invoice['number']} ({fmt})"
    )
    entries = [
        {
            "idempotency_key": f"demo-{day.seed}-{key}",
            "invoice_number": invoice["number"],
            "vendor_gln": vendor["gln"],
            "po_number": number,
            "format": fmt,
            "scenario": scenario,
            "clean": clean,
            "faults": faults,
            "expected_exceptions": expected,
            "amount_fault": scenario in AMOUNT_FAULTS,
            "tax": vendor.get("tax"),
            "expected_totals": totals,
            "amount": totals["total"],
        }
    ]
    # resubmissions of clean invoices: never a second bill
    if clean and rng.random() < 0.06:
        again = rng.random() < 0.5
        others = [f for f in _formats_for(scenario) if f[:3] != fmt[:3]]
        dup_fmt = fmt if again else rng.choice(others)
        dup_key = f"inv-{number}-again"
        minute2 = invoice_minute + rng.randint(30, 180)
        if again:  # the very same file, under a new idempotency key
            day.add(minute2, _connector(fmt), "invoices", "invoice", dup_key,
                    body.decode(), CONTENT_TYPES[fmt],
                    f"Invoice {invoice['number']} sent again")  # fmt: skip
        else:  # re-keyed by the vendor's other channel, in another format
            _post_invoice(day, minute2, dup_fmt, invoice, dup_key,
                          f"Invoice {invoice['number']} re-keyed ({dup_fmt})")  # fmt: skip
        entries.append(
            dict(
                entries[0],
                idempotency_key=f"demo-{day.seed}-{dup_key}",
                format=dup_fmt,
                scenario="duplicate_resent" if again else "duplicate_rekeyed",
                clean=False,
                faults=["duplicate"],
                expected_exceptions=[] if again else ["duplicate_invoice"],
                duplicate_of=f"demo-{day.seed}-{key}",
            )
        )
    if clean and rng.random() < 0.4:
        payment = {
            "payment_id": f"PAY-{invoice['number']}",
            "status": "scheduled",
            "vendor": _party(vendor),
            "amount": totals["total"],
            "currency": "USD",
            "payment_date": (day.day + timedelta(days=30)).isoformat(),
            "method": "ach",
            "invoices": [
                {
                    "invoice_number": invoice["number"],
                    "amount_paid": totals["total"],
                    "amount_invoiced": totals["total"],
                    "po_number": number,
                }
            ],
        }
        day.add_json(max(invoice_minute, receipt_minute) + 240, "bank", "payments", "payment",
                     f"pay-{number}", payment, f"Payment status {invoice['number']}")  # fmt: skip
    return entries


def generate(seed=42, size="small", day=DEFAULT_DAY):
    """The network, the day's documents in posting order, and the truth (see module doc)."""
    from . import point_of_use
    from . import supply_chain

    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    rng = random.Random(f"hc-demo:{seed}:{size}")
    world = make_world(rng, size)
    d = _Day(rng, world, day, seed)
    # the supply chain day (its own random stream: the invoice day is unchanged by it)
    sc = supply_chain.plan(world, day, seed, size, d.buyer)
    # point of use (consumption, par levels, bill-only implants): its own stream too
    world["compliance_vendors"] = list(sc["master"]["vendors"])
    pou = point_of_use.plan(world, day, seed)
    for part in ("vendors", "items", "contract_prices"):
        sc["master"][part] += pou["master"][part]
    sc["opening"] += pou["opening"]
    sc["day"] += pou["day"]
    sc["truth"]["point_of_use"] = pou["truth"]
    sc["truth"]["credentials"] += sum(
        len(supply_chain.credentials(v, day)) for v in pou["master"]["vendors"]
    )
    world["point_of_use"] = {"locations": pou["locations"], "vendor": pou["master"]["vendors"][0]}
    world["exclusion_list"] = {"file_name": "UPDATED.csv", "csv": sc["exclusion_csv"]}
    vendors = world["vendors"]
    items_by_vendor = {v["index"]: [] for v in vendors}
    for item in world["items"]:
        items_by_vendor[item["vendor"]].append(item)
    # master data: the morning sync from the item master / contract system (batches)
    master = [
        (
            "vendors",
            "vendor",
            [vendor_doc(v, credentials=supply_chain.credentials(v, day)) for v in vendors]
            + [
                vendor_doc(v, credentials=v.get("credentials") or supply_chain.credentials(v, day))
                for v in sc["master"]["vendors"]
            ],
        ),
        (
            "items",
            "item",
            [item_doc(i, vendors[i["vendor"]]) for i in world["items"]]
            + [item_doc(i, v) for i, v in sc["master"]["items"]],
        ),
        (
            "contract-prices",
            "contract_price",
            [contract_doc(i, vendors[i["vendor"]], day) for i in world["items"]]
            + [contract_doc(i, v, day) for i, v in sc["master"]["contract_prices"]],
        ),
    ]
    master_docs = []
    for endpoint, doc_type, docs in master:
        for start in range(0, len(docs), 250):
            chunk = docs[start : start + 250]
            master_docs.append(
                {
                    "connector": "mdm",
                    "endpoint": endpoint,
                    "doc_type": doc_type,
                    "idempotency_key": f"demo-{seed}-{endpoint}-{start}",
                    "content_type": "application/json",
                    "label": f"{len(chunk)} {endpoint} (batch)",
                    "body": json.dumps(chunk, sort_keys=True, separators=(",", ":")),
                    "batch": len(chunk),
                }
            )
    # the day: purchase orders with what follows them
    names = list(SCENARIOS)
    weights = [SCENARIOS[n][0] for n in names]
    n_pos = SIZES[size][2]
    plan = []
    if size == "tiny":  # a few amount scenarios, once each
        plan += [(scenario, None) for scenario in COVERAGE_TINY]
    else:  # every amount scenario twice, in two formats; two summary 810s
        for scenario in COVERAGE:
            plan += [(scenario, f) for f in rng.sample(_formats_for(scenario), 2)]
        plan += [("clean", "x12_summary"), ("clean_freight_within_tolerance", "x12_summary")]
    plan += [(rng.choices(names, weights=weights)[0], None) for _p in range(n_pos - len(plan))]
    rng.shuffle(plan)
    taxed = [v for v in vendors if v["tax"] and Decimal(v["tax"]["rate"])]
    for p, (scenario, fmt) in enumerate(plan):
        vendor = vendors[rng.randrange(len(vendors))]
        if scenario == "tax_not_rate_times_base" and vendor not in taxed:
            vendor = taxed[rng.randrange(len(taxed))]  # a wrong tax needs a rate to miss
        number = f"PO-{day:%y%m}-{p + 1:05d}"
        po = _plan_po(d, number, vendor, items_by_vendor[vendor["index"]], scenario)
        if po is None:
            scenario = "clean"
            po = _plan_po(d, number, vendor, items_by_vendor[vendor["index"]], scenario)
        minute = 6 * 60 + int(p * (10 * 60) / n_pos)
        d.truth += _scenario_day(d, po, scenario, minute, fmt)
    # vendor and item master updates during the day
    for v in vendors[:: max(1, len(vendors) // 4)]:
        d.add_json(rng.randint(480, 1000), "mdm", "vendors", "vendor", f"vendor-upd-{v['gln']}",
                   vendor_doc(v, phone=f"+1 555 {rng.randint(100, 999)} 0000",
                              credentials=supply_chain.credentials(v, day)),
                   f"Vendor update {v['name']}")  # fmt: skip
    for item in world["items"][:: max(1, len(world["items"]) // 8)]:
        d.add_json(rng.randint(480, 1000), "mdm", "items", "item", f"item-upd-{item['gtin']}",
                   item_doc(item, vendors[item["vendor"]], item["description"] + " (new pack)"),
                   f"Item update {item['gtin']}")  # fmt: skip
    # an invoice from a vendor nobody registered
    stranger = {"name": "Unregistered Surgical Supply LLC", "gln": gln("086999800001")}
    lines = [
        {
            "line_number": "1",
            "item": {"description": "Surgical drape pack", "vendor_part_number": "USS-1"},
            "quantity": "10",
            "uom": "EA",
            "unit_price": "18.40",
        }
    ]
    fields, totals = _amounts(rng, "unknown_vendor", None, lines)
    inv = {
        "number": f"US{rng.randint(100000, 999999)}",
        "issue_date": day.isoformat(),
        "due_date": (day + timedelta(days=30)).isoformat(),
        "currency": "USD",
        "vendor": _party(stranger),
        "buyer": d.buyer,
        "po_numbers": [],
        "lines": lines,
        **fields,
    }
    _post_invoice(d, 900, "ubl", inv, "inv-unknown-vendor", f"Invoice {inv['number']} (ubl)")
    d.truth.append(
        {
            "idempotency_key": f"demo-{seed}-inv-unknown-vendor",
            "invoice_number": inv["number"],
            "vendor_gln": stranger["gln"],
            "po_number": None,
            "format": "ubl",
            "scenario": "unknown_vendor",
            "clean": False,
            "faults": ["unknown_vendor"],
            "expected_exceptions": ["unknown_vendor"],
            "amount_fault": False,
            "tax": None,
            "expected_totals": totals,
            "amount": totals["total"],
        }
    )
    for minute, doc in sc["day"]:
        d.events.append((minute, len(d.events), doc))
    d.events.sort(key=lambda e: (e[0], e[1]))
    documents = []
    for minute, _order, doc in d.events:
        doc = dict(doc, at=f"{minute // 60:02d}:{minute % 60:02d}")
        documents.append(doc)
    truth = {
        "seed": seed,
        "size": size,
        "day": day.isoformat(),
        "invoices": d.truth,
        "counts": _truth_counts(d.truth),
        "supply_chain": sc["truth"],
    }
    # what leaves Odoo for the suppliers (trading-partner profiles, see trading.py)
    truth["outbound"] = trading.truth(
        world,
        documents,
        {hold["po_number"] for hold in sc["truth"].get("vendor_holds", [])},
    )

    def timed(docs):
        return [dict(doc, at=doc.get("at", "05:00" if docs is sc["opening"] else "20:00"))
                for doc in docs]  # fmt: skip

    return {
        "world": world,
        "master": master_docs,
        # posted once the master data is processed, and drained before the day
        "opening": timed(sc["opening"]),
        "documents": documents,
        # posted once the day is processed (a recall traces what the day received)
        "evening": timed(sc["evening"]),
        "truth": truth,
    }


def _truth_counts(entries):
    counts = {
        "invoices": len(entries),
        "clean": 0,
        "faulty": 0,
        "faulty_amounts": 0,
        "by_scenario": {},
    }
    for entry in entries:
        counts["clean" if entry["clean"] else "faulty"] += 1
        counts["faulty_amounts"] += bool(entry["amount_fault"])
        counts["by_scenario"][entry["scenario"]] = (
            counts["by_scenario"].get(entry["scenario"], 0) + 1
        )
    counts["by_scenario"] = dict(sorted(counts["by_scenario"].items()))
    return counts


def write(result, folder):
    """Write the generated day to ``folder`` (documents as files + manifest + truth)."""
    import os

    os.makedirs(os.path.join(folder, "documents"), exist_ok=True)
    ext = {"application/json": "json", "application/xml": "xml", "application/edi-x12": "edi"}
    manifest = []
    everything = result["master"] + result.get("opening", []) + result["documents"]
    for n, doc in enumerate(everything + result.get("evening", [])):
        name = f"{n:05d}-{doc['endpoint']}.{ext[doc['content_type']]}"
        with open(os.path.join(folder, "documents", name), "w", encoding="utf-8") as f:
            f.write(doc["body"])
        manifest.append({k: v for k, v in doc.items() if k != "body"} | {"file": name})
    with open(os.path.join(folder, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(folder, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(result["truth"], f, indent=1)
    with open(os.path.join(folder, "world.json"), "w", encoding="utf-8") as f:
        json.dump(result["world"], f, indent=1)
