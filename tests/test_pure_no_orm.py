"""The pure packages must import without Odoo: parsers and the match engine are
unit-tested with neither ORM nor database, and reused outside Odoo (benchmarks, tools)."""

import importlib
import sys


def test_pure_packages_import_without_odoo():
    package = __name__.rsplit(".tests.", 1)[0]
    for name in (
        "canonical",
        "formats.registry",  # imports every reader
        "normalize",
        "matching",
        "api_contract.errors",
        "api_contract.intake",
        "api_contract.openapi",
        "api_contract.rate_limit",
        "api_contract.signature",
        "delivery.backoff",
        "delivery.outbound",
        "trust.crypto",
        "trust.trusted",
    ):
        importlib.import_module(f"{package}.{name}")
    assert not [m for m in sys.modules if m == "odoo" or m.startswith("odoo.")]
