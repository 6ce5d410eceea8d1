"""With BULKASSIST_REQUIRE_ALL=1 (set by .ci/run), a PostgreSQL, xlwings-engine, browser or LibreOffice
test that skips is reported as a failure: CI must never go green by silently not running them."""

from __future__ import annotations

import os

import pytest

MUST_RUN = ("postgres", "browser", "xlwings_engine", "libreoffice")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not os.environ.get("BULKASSIST_REQUIRE_ALL") or not report.skipped:
        return
    markers = [m for m in MUST_RUN if item.get_closest_marker(m)]
    if markers:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} is a {'/'.join(markers)} test and must run here, but it skipped: {reason}"
