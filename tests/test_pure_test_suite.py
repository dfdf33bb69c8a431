"""Odoo's own test runner sees the whole Odoo test suite, and only it.

``odoo-bin --test-enable`` (OCA CI, runboat, Odoo.sh) runs the test modules that
``tests/__init__.py`` imports, nothing else: a test file left out of it would pass
``make test`` (pytest-odoo collects files) and never run there.  The pure tests (plain
pytest functions, no ORM) stay out of it: Odoo's runner has nothing to run in them.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(source):
    """The names ``from . import x`` brings in, in a package's ``__init__`` source."""
    return {
        alias.name
        for node in ast.parse(source).body
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None
        for alias in node.names
    }


def odoo_test_modules(folder):
    return {
        path.stem for path in folder.glob("test_*.py") if not path.name.startswith("test_pure_")
    }


def test_init_imports_every_odoo_test_module_and_no_pure_one():
    imported = imported_modules((TESTS / "__init__.py").read_text(encoding="utf-8"))
    expected = odoo_test_modules(TESTS)
    assert len(expected) > 30  # the folder really was read
    assert sorted(expected - imported) == [], "add them to tests/__init__.py"
    assert sorted(imported - expected) == [], "tests/__init__.py imports what is not there"
    assert not [name for name in imported if name.startswith("test_pure_")]


def test_a_missing_import_is_noticed(tmp_path):
    # the positive control: a test file not imported by __init__ shows up as missing
    (tmp_path / "test_alpha.py").write_text("")
    (tmp_path / "test_beta.py").write_text("")
    (tmp_path / "test_pure_gamma.py").write_text("")
    imported = imported_modules("from . import test_alpha\n")
    assert odoo_test_modules(tmp_path) - imported == {"test_beta"}
