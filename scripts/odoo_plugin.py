"""pytest plugin: import this repository as ``odoo.addons.healthcare_p2p_integration``.

pytest-odoo maps a test file to ``odoo.addons.<dir>`` only when the directory holding the
manifest is named after the addon; a clone (``main``, ``ci-check-123``...) is not, and
pytest resolves the build folder's symlink back to the clone.  This plugin names the
modules after the technical name whatever the directory is called, and puts the build
folder on Odoo's addons path before pytest loads ``tests/conftest.py`` (which happens
before pytest-odoo reads the Odoo configuration).
"""

import os
from pathlib import Path

import _pytest.pathlib

import odoo.addons

ADDON_DIR = Path(__file__).resolve().parent.parent
TECHNICAL_NAME = "healthcare_p2p_integration"

_original = _pytest.pathlib.resolve_pkg_root_and_module_name


def resolve_pkg_root_and_module_name(path, *, consider_namespace_packages=False):
    resolved = Path(path).resolve()
    if resolved.is_relative_to(ADDON_DIR):
        parts = resolved.relative_to(ADDON_DIR).with_suffix("").parts
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ADDON_DIR.parent, ".".join(("odoo.addons", TECHNICAL_NAME, *parts))
    return _original(path, consider_namespace_packages=consider_namespace_packages)


_pytest.pathlib.resolve_pkg_root_and_module_name = resolve_pkg_root_and_module_name

_build_addons = os.environ.get("HC_BUILD_ADDONS")
if _build_addons and _build_addons not in odoo.addons.__path__:
    odoo.addons.__path__.append(_build_addons)

# Odoo's own addons (web, account...) importable as soon as the addon is: its controllers
# extend web's (controllers/export.py) and conftest.py imports the addon first.
for _base in list(odoo.addons.__path__):
    # <odoo source>/odoo/addons (base) -> <odoo source>/addons
    _odoo_addons = str(Path(_base).resolve().parent.parent / "addons")
    if os.path.isdir(_odoo_addons) and _odoo_addons not in odoo.addons.__path__:
        odoo.addons.__path__.append(_odoo_addons)
