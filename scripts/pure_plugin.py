"""pytest plugin: run the addon's pure-Python tests with neither Odoo's ORM nor a database.

The addon's ``__init__`` imports its Odoo models; the pure packages (formats, canonical,
normalize, matching, pipeline) must not need them.  This plugin registers the addon
directory as a bare package, so ``tests/test_pure_*.py`` and their relative imports
(``from ..formats import x12``) resolve without executing the addon's ``__init__``.
It registers at import time, before pytest loads ``tests/conftest.py``.
"""

import sys
import types
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent.parent


def _register(name, path):
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        module.__package__ = name
        sys.modules[name] = module


# pytest names test modules after the directory holding the manifest (resolved through
# symlinks): the clone's directory name, whatever it is.
_register(ADDON_DIR.name, ADDON_DIR)
