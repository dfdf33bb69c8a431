"""pytest plugin: import this repository as ``odoo.addons.healthcare_p2p_integration``.

pytest-odoo maps a test file to ``odoo.addons.<dir>`` only when the directory holding the
manifest is named after the addon; a clone (``main``, ``ci-check-123``...) is not, and
pytest resolves the build folder's symlink back to the clone.  This plugin names the
modules after the technical name whatever the directory is called.
"""

import os
from pathlib import Path

import _pytest.pathlib

ADDON_DIR = Path(__file__).resolve().parent.parent
TECHNICAL_NAME = "healthcare_p2p_integration"

_original = _pytest.pathlib.resolve_pkg_root_and_module_name


def resolve_pkg_root_and_module_name(path, *, consider_namespace_packages=False):
    pkg_root, module_name = _original(path, consider_namespace_packages=consider_namespace_packages)
    head, _sep, tail = module_name.partition(".")
    if Path(path).resolve().is_relative_to(ADDON_DIR) and head == ADDON_DIR.name:
        module_name = f"odoo.addons.{TECHNICAL_NAME}" + (f".{tail}" if tail else "")
    return pkg_root, module_name


_pytest.pathlib.resolve_pkg_root_and_module_name = resolve_pkg_root_and_module_name

# pytest loads tests/conftest.py before pytest-odoo reads the Odoo configuration, so the
# build folder must already be on the addons path for the addon's package to import.
_build_addons = os.environ.get("HC_BUILD_ADDONS")
if _build_addons:
    import odoo.addons

    if _build_addons not in odoo.addons.__path__:
        odoo.addons.__path__.append(_build_addons)
