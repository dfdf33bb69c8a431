"""The official validator of ../shared/validation for the outbound tests (no Odoo).

The folder is ``<worktree>/../shared/validation`` unless ``HC_VALIDATION_DIR`` names
another; tests that need it skip with the reason when it is absent.
"""

import os
import sys
from pathlib import Path

import pytest

VALIDATION_DIR = Path(
    os.environ.get("HC_VALIDATION_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "validation"
)


def validator():
    """``validate.validate_file``, or a skip naming the missing folder or dependency."""
    if not (VALIDATION_DIR / "validate.py").is_file():
        pytest.skip(f"no validation folder at {VALIDATION_DIR} (set HC_VALIDATION_DIR)")
    pytest.importorskip("saxonche", reason="saxonche runs the Peppol Schematron")
    if str(VALIDATION_DIR) not in sys.path:
        sys.path.insert(0, str(VALIDATION_DIR))
    from validate import validate_file

    return validate_file


def assert_valid(body, *, rules_expected):
    """Validate ``body`` (XSD or DTD, and Schematron): no fatal issue, the rule set run."""
    report = validator()(body)
    assert report.ok, report.format()
    assert not report.fatal_ids(), report.format()
    text = report.format()
    for expected in rules_expected:
        assert expected in text, text
    return report
