"""The official validator of ../shared/validation for the outbound tests (no Odoo).

The folder is ``<worktree>/../shared/validation`` unless ``HC_VALIDATION_DIR`` names
another; tests that need it skip with the reason when it is absent.
"""

import importlib.util
import json
import os
import resource
import subprocess
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


_SUBPROCESS_CODE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from validate import validate_file
report = validate_file(sys.stdin.buffer.read())
print(json.dumps({"ok": report.ok, "fatal": sorted(report.fatal_ids()), "text": report.format()}))
"""


def _lift_address_space_limit():
    # Odoo's limit_memory_hard caps the address space (soft RLIMIT_AS); Saxon's native
    # image needs more to start.  The soft limit may go back up to the hard one.
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def validate_out_of_process(body):
    """Validate ``body`` in a child Python (from Odoo tests: Saxon's native image cannot
    start inside an Odoo process).  Returns ``(report_dict, None)`` or ``(None, reason)``
    when the folder or saxonche is absent."""
    if not (VALIDATION_DIR / "validate.py").is_file():
        return None, f"no validation folder at {VALIDATION_DIR} (set HC_VALIDATION_DIR)"
    if importlib.util.find_spec("saxonche") is None:
        return None, "saxonche (runs the Peppol Schematron) is not installed"
    done = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS_CODE, str(VALIDATION_DIR)],
        input=body,
        capture_output=True,
        timeout=120,
        check=False,
        preexec_fn=_lift_address_space_limit,
    )
    if done.returncode:
        raise AssertionError(f"the validator failed: {done.stderr.decode()[-2000:]}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1]), None
