# healthcare_p2p_integration: set-up, tests, lint, run.
# Everything installs outside the clone (see scripts/env.sh): a fresh clone reuses it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup test test-pure test-odoo test-odoo-native test-faults fuzz lint run demo bench clean-db audit-verify audit-guard

help:
	@echo "make setup     install PostgreSQL, a virtualenv with Odoo 19.0 and the requirements"
	@echo "make test      set up if needed, then run every test (pure-Python and Odoo)"
	@echo "make test-pure run the ORM-free unit tests only (no database)"
	@echo "make test-odoo-native the Odoo tests through odoo-bin --test-enable (as OCA CI, Odoo.sh)"
	@echo "make lint      ruff and pylint-odoo on the addon"
	@echo "make run       Odoo with the addon on http://localhost:8069 (database hc_p2p)"
	@echo "make demo      a generated hospital day (simulator/) replayed over HTTP, scored; Odoo left running"
	@echo "               (SIZE=small for a shorter run, SEED=n for another day)"
	@echo "make test-faults the fault suite: worker kills, PostgreSQL crash-restarts, two servers"
	@echo "               racing, shuffled/duplicated/reversed deliveries (DOCS=n, SCENARIOS=a,b)"
	@echo "make fuzz      schemathesis against the API's OpenAPI document on a live server"
	@echo "make audit-verify DB=<db>  verify the hash-chained audit log (exit 1 if broken)"
	@echo "make audit-guard DB=<db>   install the audit log's guard (as the PostgreSQL superuser)"

setup:
	@bash scripts/setup.sh

test: setup
	@bash scripts/test.sh

test-pure: setup
	@bash scripts/test.sh --pure-only

test-odoo: setup
	@bash scripts/test.sh --odoo-only

test-odoo-native: setup
	@bash scripts/test_native.sh

test-faults: setup
	@bash scripts/faults.sh $(if $(DOCS),--docs $(DOCS)) $(if $(SCENARIOS),--scenarios $(SCENARIOS))

fuzz: setup
	@bash scripts/fuzz.sh

lint: setup
	@bash scripts/lint.sh

run: setup
	@bash scripts/run.sh

demo: setup
	@bash scripts/demo.sh

clean-db:
	@bash scripts/test.sh --drop-templates

bench: setup
	@bash scripts/bench.sh

audit-verify: setup
	@bash scripts/audit_verify.sh

audit-guard: setup
	@bash scripts/audit_guard.sh
