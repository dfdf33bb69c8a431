"""pytest plugin: run the addon's pure-Python tests with neither Odoo's ORM nor a database.

The addon's ``__init__`` imports its Odoo models; the pure packages (formats, canonical,
normalize, matching, api_contract, delivery, trust) must not need them.  This plugin
registers the addon directory and its ``tests`` folder as bare packages named after the
addon's technical name and makes pytest name test modules inside them accordingly, so
``tests/test_pure_*.py`` and their relative imports (``from ..formats.x12 import
envelope``) resolve without executing the addon's ``__init__`` (nor ``tests/__init__``),
whatever the clone's directory is called.  It acts at import time, before pytest loads
``tests/conftest.py``.
"""

import sys
import types
from pathlib import Path

import _pytest.pathlib

ADDON_DIR = Path(__file__).resolve().parent.parent
TECHNICAL_NAME = "healthcare_p2p_integration"

# The addon and its tests package, both bare: ``tests/__init__.py`` imports the Odoo test
# modules for Odoo's own runner (odoo-bin --test-enable), which need the ORM.
for _name, _path in ((TECHNICAL_NAME, ADDON_DIR), (f"{TECHNICAL_NAME}.tests", ADDON_DIR / "tests")):
    if _name not in sys.modules:
        _package = types.ModuleType(_name)
        _package.__path__ = [str(_path)]
        _package.__package__ = _name
        sys.modules[_name] = _package

_original = _pytest.pathlib.resolve_pkg_root_and_module_name


def resolve_pkg_root_and_module_name(path, *, consider_namespace_packages=False):
    resolved = Path(path).resolve()
    if resolved.is_relative_to(ADDON_DIR):
        parts = resolved.relative_to(ADDON_DIR).with_suffix("").parts
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ADDON_DIR.parent, ".".join((TECHNICAL_NAME, *parts))
    return _original(path, consider_namespace_packages=consider_namespace_packages)


_pytest.pathlib.resolve_pkg_root_and_module_name = resolve_pkg_root_and_module_name

# Property tests check behaviour, not speed: no per-example deadline (these machines are
# shared and a loaded core once took 1.3 s for an example that usually takes 20 ms).
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # pragma: no cover - hypothesis is in requirements-dev.txt
    pass
else:
    _hypothesis_settings.register_profile("hc_p2p", deadline=None)
    _hypothesis_settings.load_profile("hc_p2p")
