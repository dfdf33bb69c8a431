"""The shared sample documents, read in place (never copied into the repository).

One place says where they are: ``$HC_SAMPLES_DIR`` when it is set, otherwise the
``shared/samples`` folder beside the clone (``<clone>/../shared/samples``).  A test that
needs a sample it cannot find is skipped with a reason that names the folder and the
variable (``unittest.SkipTest``: pytest and Odoo's test runner both report it as a skip).

Plain Python, no ORM: the pure tests import it directly, the Odoo tests through
``tests/common.py``.
"""

import os
import unittest
from pathlib import Path

SAMPLES_ENV = "HC_SAMPLES_DIR"


def samples_dir():
    """The samples folder (it may be absent: see :func:`sample_path`)."""
    configured = os.environ.get(SAMPLES_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "samples"


def sample_path(name):
    """The path of sample ``name``; the calling test is skipped when it is absent."""
    path = samples_dir() / name
    if not path.is_file():
        raise unittest.SkipTest(f"sample {name} not found in {samples_dir()} (set {SAMPLES_ENV})")
    return path


def read_sample(name):
    """The bytes of sample ``name``, as received; the calling test is skipped when absent."""
    return sample_path(name).read_bytes()
