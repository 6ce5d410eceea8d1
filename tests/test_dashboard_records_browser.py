"""The Registration & Certification export page in a real browser (seed 002): Voila serving the dashboard
as a user with the Manage R&C and Data Export roles, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

from bulkassist.client import Client
from bulkassist.dashboard.browser import CHROMIUM, VIEWPORT, DashboardPage
from bulkassist.server.records import LEARNER_EXPORT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("dashboard-records"),  # its own group: the other worker may take it (a Voila each)
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]

SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "dashboard-registration"


def test_registrar_selects_records_and_exports_them(browser: object, dashboard_url: str,
                                                     sqlite_server: object) -> None:
    registrar = Client(sqlite_server.url, sqlite_server.tokens["registrar"])
    first, second = (r["id"] for r in registrar.records("qualification", page_size=2)["items"])
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    try:
        ui = DashboardPage(page, dashboard_url, SHOTS, sign_in={"token": sqlite_server.tokens["registrar"]})
        ui.open()
        page.locator(".ba-tabs .lm-TabBar-tab", has_text="Registration & Certification").click()
        page.locator(f".ba-record-check-{first} input").wait_for(state="visible", timeout=60_000)
        assert page.locator(".ba-export-button").is_disabled()
        page.locator(f".ba-record-check-{first} input").check()
        page.locator(f".ba-record-check-{second} input").check()
        page.locator(".ba-selected-count", has_text="2 selected").wait_for(timeout=30_000)
        ui.shot("01-two-selected")
        page.locator(".ba-export-button").click()
        link = page.locator(".ba-export-link-a")
        link.wait_for(state="visible", timeout=60_000)
        with page.expect_download() as download:
            link.click()
        saved = Path(download.value.path()).read_bytes()
        ui.shot("02-exported")
    finally:
        context.close()
    exported = pl.read_csv(io.BytesIO(saved), infer_schema=False)
    assert exported.height == 2 and len(exported.columns) == 32
    assert exported.equals(pl.read_csv(io.BytesIO(registrar.export("qualification", [first, second])),
                                       infer_schema=False))
    for column in LEARNER_EXPORT:
        assert exported[column].null_count() == 0, column
