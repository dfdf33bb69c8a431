"""The addon's Odoo tests, for Odoo's own test runner.

``odoo-bin -i healthcare_p2p_integration --test-enable`` (OCA CI, runboat, Odoo.sh) runs the
test modules this package imports; ``make test`` runs the same modules through pytest-odoo.
The pure-Python tests (``test_pure_*``: plain pytest functions, no ORM) are not imported
here: Odoo's loader collects only ``unittest`` test cases, and they run under
``scripts/pure_plugin.py``, which does not execute this file.
"""

from . import test_accept_connection
from . import test_ap_supervision
from . import test_api
from . import test_api_accept_cost
from . import test_api_contract
from . import test_api_edi_refusals
from . import test_api_retry
from . import test_audit_concurrency
from . import test_audit_coverage
from . import test_audit_guard
from . import test_audit_log
from . import test_audit_rpc
from . import test_cii_invoices
from . import test_contract_catalog
from . import test_demo_day
from . import test_exception_actions
from . import test_inbox_pipeline
from . import test_intake_exact_bytes
from . import test_invoice_amounts
from . import test_invoice_refused
from . import test_key_rotation
from . import test_lane_time_budget
from . import test_lane_worker
from . import test_lookup_indexes
from . import test_match_documents
from . import test_match_explain
from . import test_metrics
from . import test_metric_rollups
from . import test_inbox_archive
from . import test_history_upgrade
from . import test_observability
from . import test_order_response_po_acks
from . import test_outbox
from . import test_peer_corpus_bills
from . import test_po_ack_control
from . import test_processor_account
from . import test_processor_purchase
from . import test_processor_stock
from . import test_readonly_routes
from . import test_reconciliation
from . import test_reference_resolver
from . import test_retention
from . import test_role_journeys
from . import test_security_bank
from . import test_security_cross_company
from . import test_security_hardening
from . import test_security_hostile
from . import test_security_log_secrets
from . import test_security_money_rpc
from . import test_security_rate_limit
from . import test_security_roles
from . import test_security_signature
from . import test_three_way_match
from . import test_units
from . import test_vendor_credentialing
from . import test_exclusion_screening
from . import test_vendor_credentials_api
from . import test_approval_rules
from . import test_stock_transfers
from . import test_recall
from . import test_trading_partner
from . import test_outbound_documents
from . import test_outbound_acks
from . import test_outbound_formats
from . import test_consumption
from . import test_par_replenishment
from . import test_bill_only
from . import test_monthend_invoices
from . import test_bill_create_equivalence
