"""pytest glue for the Odoo tests.

Odoo skips a browser test silently when Chromium or ``websocket-client`` is missing;
here such a skip is a failure, so a green run always means the tours really ran.
"""

import pytest

BROWSER_SKIP_HINTS = ("chrome", "chromium", "websocket", "browser", "devtools")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
    cls = getattr(item, "cls", None)
    is_http_case = cls is not None and any(
        base.__name__ == "HttpCase" for base in getattr(cls, "__mro__", ())
    )
    if is_http_case and any(hint in reason.lower() for hint in BROWSER_SKIP_HINTS):
        report.outcome = "failed"
        report.longrepr = f"Browser test skipped ({reason}): install chromium and websocket-client."
