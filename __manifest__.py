# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Healthcare Procure-to-Pay Integration",
    "summary": "Inbound procure-to-pay documents (EDI, UBL/PEPPOL, cXML, JSON) "
    "applied to purchase, stock and accounting, with three-way match and AP exception queues",
    "version": "19.0.1.0.0",
    "category": "Inventory/Purchase",
    "website": "https://github.com/healthcare-p2p/healthcare_p2p_integration",
    "author": "healthcare_p2p_integration contributors",
    "maintainers": [],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": True,
    "installable": True,
    "depends": [
        "purchase_stock",
        "account",
        "product_expiry",
        "account_add_gln",
    ],
    "external_dependencies": {
        "python": [
            "lxml",
            "requests",
            "cryptography",
            "python-stdnum",
            "biip",
            "rapidfuzz",
            "prometheus-client",
        ],
    },
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "data/hc_lane_data.xml",
        "data/uom_data.xml",
        "data/hc_exception_data.xml",
        "data/hc_reconciliation_data.xml",
        "views/hc_connector_views.xml",
        "views/hc_inbox_message_views.xml",
        "views/hc_lane_views.xml",
        "views/hc_exception_views.xml",
        "wizards/hc_exception_views.xml",
        "views/account_move_views.xml",
        "views/purchase_order_views.xml",
        "views/stock_picking_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/hc_inbox_replay_views.xml",
        "wizards/hc_connector_key_views.xml",
        "views/menus.xml",
        "views/hc_observability_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "healthcare_p2p_integration/static/src/dashboard/*",
        ],
        "web.assets_tests": [
            "healthcare_p2p_integration/static/src/tours/*.js",
        ],
    },
    "demo": [],
}
