"""What an implementation team configures before the first day (run inside Odoo).

Everything a hospital network sets up by hand, not through the API: the company and its
facilities (warehouses with their GLNs), the box unit, the purchase taxes its suppliers
state (one per standard rate, taxes rounded globally as EN 16931 and US sales tax do; the
company's default 15 % purchase tax stays in place, so a bill that took it instead of the
supplier's tax would show), the AP tolerances (charges included), the exception teams,
one connector per external system with its API key, and the OIG exclusion list loaded by
the compliance team.  Vendors, items and contract prices
then arrive through the API like any other document.
"""

import json

CONNECTORS = [
    # code, name, source system, document types
    (
        "mdm",
        "Item master / contract system",
        "Supply chain MDM",
        ["vendor", "item", "contract_price"],
    ),
    ("sourcing", "Sourcing platform", "Strategic sourcing suite", ["purchase_order"]),
    (
        "edi",
        "Supplier EDI network",
        "EDI VAN",
        ["po_ack", "ship_notice", "invoice", "functional_ack"],
    ),
    ("ap", "AP automation (invoice capture)", "AP capture platform", ["invoice"]),
    (
        "wms",
        "Facility receiving and inventory",
        "Dock receiving and inventory (3 facilities)",
        ["receipt", "stock_transfer", "stock_adjustment"],
    ),
    (
        "pou",
        "Point-of-use systems",
        "Supply cabinets and the OR case system",
        ["consumption"],
    ),
    ("quality", "Quality and recalls", "Recall management (FDA, manufacturers)", ["recall"]),
    ("bank", "Treasury / bank", "Bank status feed", ["payment"]),
    # outbound only: the suppliers' gateways each vendor's profile sends to
    ("suppliers", "Supplier gateways", "Suppliers' EDI and e-procurement gateways", []),
]
USERS = [
    # login, name, group xml id, queue xml id
    ("ap.clerk", "Alex Rivera (AP clerk)", "group_hc_ap_clerk", "queue_ap_match"),
    ("ap.clerk2", "Sam Chen (AP clerk)", "group_hc_ap_clerk", "queue_ap_match"),
    ("ap.manager", "Jordan Blake (AP manager)", "group_hc_ap_manager", None),
    ("supply.chain", "Casey Morgan (supply chain)", "group_hc_supply_chain", "queue_receiving"),
    (
        "data.steward",
        "Robin Park (data steward)",
        "group_hc_integration_admin",
        "queue_vendor_data",
    ),
    (
        "compliance",
        "Morgan Lee (vendor compliance)",
        "group_hc_vendor_compliance",
        "queue_vendor_data",
    ),
]

CODE = """
import json
world = json.loads(open(ARGS[0]).read())
config = json.loads(ARGS[1])
M = 'healthcare_p2p_integration.'
company = env.company
usd = env.ref('base.USD')
usd.active = True
company.write({'name': world['network']['name'], 'hc_autopost_matched': True,
               'hc_over_receipt_tolerance_pct': 0.0, 'hc_expiry_warning_days': 30})
company.partner_id.global_location_number = world['network']['gln']
# facilities: the main warehouse is the first one
Warehouse = env['stock.warehouse']
facility_warehouses = []
for i, fac in enumerate(world['facilities']):
    partner = env['res.partner'].create({
        'name': fac['name'], 'is_company': True, 'parent_id': company.partner_id.id,
        'type': 'delivery', 'city': fac['city'], 'global_location_number': fac['gln']})
    if i == 0:
        wh = Warehouse.search([('company_id', '=', company.id)], limit=1)
        wh.write({'name': fac['name'], 'partner_id': partner.id})
    else:
        wh = Warehouse.create({'name': fac['name'], 'code': fac['code'],
                               'partner_id': partner.id, 'company_id': company.id})
    facility_warehouses.append(wh)
# point-of-use locations inside a facility's stock room (a nursing station, an OR implant
# cabinet), known to the cabinets and the case system by barcode and GLN
for loc in world.get('point_of_use', {}).get('locations', []):
    env['stock.location'].create({
        'name': loc['name'], 'usage': 'internal', 'barcode': loc['barcode'],
        'hc_gln': loc['gln'], 'company_id': company.id,
        'location_id': facility_warehouses[loc['facility']].lot_stock_id.id})
# the box unit (items are bought by the each or by the box of 10)
unit = env.ref('uom.product_uom_unit')
if not env['uom.uom'].search([('hc_code', '=', 'BX')]):
    env['uom.uom'].create({'name': 'Box of 10', 'relative_factor': 10.0,
                           'relative_uom_id': unit.id, 'hc_code': 'BX'})
# purchase taxes: one per standard rate the suppliers state (price excluded); the default
# purchase tax (15 %) is kept as it is: no bill may take it instead of the supplier's tax
company.tax_calculation_rounding_method = 'round_globally'
Tax = env['account.tax']
rates = sorted({float(v['tax']['rate']) for v in world['vendors']
                if v['tax'] and v['tax']['category'] == 'S'})
for rate in rates:
    domain = [('company_id', '=', company.id), ('type_tax_use', '=', 'purchase'),
              ('amount_type', '=', 'percent'), ('amount', '=', rate)]
    if not Tax.search(domain):
        Tax.create({'name': f'Purchase sales tax {rate:g}%', 'company_id': company.id,
                    'type_tax_use': 'purchase', 'amount_type': 'percent', 'amount': rate,
                    'price_include_override': 'tax_excluded',
                    'description': f'{rate:g}%', 'invoice_label': f'Sales tax {rate:g}%'})
default_tax = company.account_purchase_tax_id
print('TAXES default purchase tax: %s; supplier rates: %s' % (
    default_tax.name or 'none', ', '.join(f'{r:g}%' for r in rates)))
# AP tolerances (company default), the charge tolerance (freight...) included
tol = world['tolerance']
Rule = env['hc.tolerance.rule']
missing = sorted(set(tol) - set(Rule._fields))
if missing:
    print('WARNING hc.tolerance.rule has no field %s: not configured' % ', '.join(missing))
Rule.search([('company_id', '=', company.id)]).unlink()
Rule.create({'name': 'Network default', 'company_id': company.id,
             **{k: v for k, v in tol.items() if k not in missing}})
# lanes: one worker each is plenty for a day
# teams
for login, name, group, queue in config['users']:
    user = env['res.users'].with_context(no_reset_password=True).create({
        'name': name, 'login': login, 'password': login,
        'group_ids': [(4, env.ref(M + group).id)],
        'company_ids': [(6, 0, [company.id])], 'company_id': company.id})
    if queue:
        env.ref(M + queue).member_ids = [(4, user.id)]
manager = env['res.users'].search([('login', '=', 'ap.manager')])
env.ref(M + 'queue_ap_match').manager_id = manager
env.ref('base.user_admin').group_ids = [(4, env.ref(M + 'group_hc_integration_admin').id)]
# connectors and their keys
types = {t.code: t for t in env['hc.document.type'].search([])}
keys = {}
for code, name, source, doc_types in config['connectors']:
    connector = env['hc.connector'].create({
        'name': name, 'code': code, 'source_system': source, 'target_system': 'Odoo',
        'purpose': 'Demo day: ' + name, 'max_batch_documents': 1000,
        'allowed_doc_type_ids': [(6, 0, [types[t].id for t in doc_types])]})
    keys[code] = connector._generate_api_key(expiration_days=30, overlap_hours=0)
# the exclusion list the compliance team loaded (OIG LEIE UPDATED.csv layout): vendors
# are screened against it as they arrive
import io
excl = world.get('exclusion_list')
if excl:
    version = env['hc.exclusion.list']._hc_load(
        io.BytesIO(excl['csv'].encode()), file_name=excl['file_name'])
    print('EXCLUSIONS %s: %s entries' % (version.name, len(version.entry_ids)))
# the scorer reads results back as the administrator, with an API key
from datetime import timedelta
from odoo import fields
admin = env.ref('base.user_admin')
keys['_admin'] = env['res.users.apikeys'].with_user(admin)._generate(
    None, 'Demo scorer', fields.Datetime.now() + timedelta(days=30))
# the AP clerk works the queues at the end of the day with a key of her own
clerk = env['res.users'].search([('login', '=', 'ap.clerk')])
keys['_clerk'] = env['res.users.apikeys'].with_user(clerk)._generate(
    None, 'Demo clerk', fields.Datetime.now() + timedelta(days=30))
# the supply chain user sets par levels and receives consignments with a key of her own
supply = env['res.users'].search([('login', '=', 'supply.chain')])
keys['_supply'] = env['res.users.apikeys'].with_user(supply)._generate(
    None, 'Demo supply chain', fields.Datetime.now() + timedelta(days=30))
print('KEYS ' + json.dumps(keys))
"""


def setup_database(odoo_env, db, world_path, say=None):
    """Configure ``db`` for the demo; return ``{connector code: API key}``.

    ``_admin`` is the administrator's API key, for reading the results back; ``say``
    receives what the set-up reports (the taxes, a missing setting).
    """
    config = {"connectors": CONNECTORS, "users": USERS}
    out = odoo_env.run_code(db, CODE, world_path, json.dumps(config))
    for row in out.splitlines():
        if row.startswith(("WARNING ", "TAXES ", "EXCLUSIONS ")):
            if say:
                say(row if row.startswith("WARNING ") else row.split(" ", 1)[1])
    line = [row for row in out.splitlines() if row.startswith("KEYS ")][-1]
    return json.loads(line[len("KEYS ") :])
