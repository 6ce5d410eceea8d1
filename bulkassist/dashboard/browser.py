"""Drive the dashboard in Chromium through Playwright, as a person would.

Used by the browser tests and `bench/dashboard.py`, so both act on the page
through the same steps. The grids are canvases: a cell is reached by its
position, computed from the grid's box and the fixed sizes in `grids.py`.
Needs the `playwright` Python package and Debian's Chromium (never
`playwright install`).
"""

from __future__ import annotations

import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any

from bulkassist.dashboard import grids
from bulkassist.dashboard.review_data import INVALID, STATUS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 1000}
ISSUE_COLUMNS = ["Column", "Value", "Severity", "Problem", "Suggested value", "Accept"]


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium with the flags this machine needs."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def column_centre(columns: list[str], name: str, widths: dict[str, int]) -> float:
    """x of the middle of column `name`, from the grid's left edge (after the row header)."""
    x = grids.ROW_HEADER_WIDTH
    for column in columns:
        width = widths.get(column, grids.COLUMN_WIDTH)
        if column == name:
            return x + width / 2
        x += width
    raise KeyError(f"the grid has no column {name!r}; columns are {columns}")


class DashboardPage:
    """One browser tab on the dashboard; screenshots go to `shots` when given.

    `sign_in`: how `open()` signs in, `{"name": ..., "password": ...}` or `{"token": ...}`.
    """

    def __init__(self, page: Any, url: str, shots: Path | None = None, *, sign_in: dict[str, str] | None = None):
        self.page = page
        self.url = url
        self.shots = shots
        self.credentials = sign_in or {}
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ basics
    def open(self, timeout: float = 120) -> float:
        """Sign in on a fresh dashboard; seconds until the wizard's widgets are visible.

        A tab already showing this dashboard signed in signs out and in again, as a visitor can: the page's
        kernel builds a new app, with nothing of the last one, without loading the page and starting a kernel
        again. Any other tab (or one where signing out fails) loads the page.
        """
        start = time.perf_counter()
        if not self._signed_out_here():
            self.load(timeout)
        given = self.credentials
        self.sign_in(given.get("name", ""), given.get("password", ""), given.get("token", ""), timeout=timeout)
        return time.perf_counter() - start

    def _signed_out_here(self, timeout: float = 30) -> bool:
        """Sign out if this tab shows this dashboard signed in; whether its sign-in form is now showing."""
        # Not at the top: this module is imported where no browser is driven (tests/test_dashboard.py).
        from playwright.sync_api import Error

        if self.page.url != self.url or not self.page.locator(".ba-signout").is_visible():
            return False
        try:
            self.sign_out(timeout)
        except Error:  # a page left half-way (a dialog, a dropped websocket): loading it again is the way out
            return False
        return True

    def load(self, timeout: float = 120) -> float:
        """Load the page; seconds until the sign-in form is visible."""
        start = time.perf_counter()
        self.page.goto(self.url, timeout=timeout * 1000)
        self.page.wait_for_selector(".ba-signin-button", state="visible", timeout=timeout * 1000)
        return time.perf_counter() - start

    def sign_in(self, name: str = "", password: str = "", token: str = "", *, wait: bool = True,
                timeout: float = 120) -> float:
        """Fill in the sign-in form (a token when given) and press Sign in; with `wait`, seconds until the
        wizard's widgets are visible."""
        self.page.locator(".ba-signin-use-token input").set_checked(bool(token))  # as a signed-out form left it
        if token:
            self.page.locator(".ba-signin-token input").fill(token)
        else:
            self.page.locator(".ba-signin-name input").fill(name)
            self.page.locator(".ba-signin-password input").fill(password)
        start = time.perf_counter()
        self.click(".ba-signin-button")
        if wait:
            self.page.wait_for_selector(".ba-domain", state="visible", timeout=timeout * 1000)
        return time.perf_counter() - start

    def sign_out(self, timeout: float = 30) -> None:
        self.click(".ba-signout")
        self.page.wait_for_selector(".ba-signin-button", state="visible", timeout=timeout * 1000)

    def shot(self, name: str) -> Path | None:
        if self.shots is None:
            return None
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def notice(self) -> str:
        box = self.page.locator(".ba-notice")
        return box.inner_text() if box.is_visible() else ""

    def wait_notice(self, pattern: str, timeout: float = 30) -> str:
        self.page.locator(".ba-notice").filter(has_text=re.compile(pattern, re.I)).wait_for(
            state="visible", timeout=timeout * 1000)
        return self.notice()

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()

    def step_visible(self, css_class: str, timeout: float = 30) -> None:
        self.page.locator(f".{css_class}").wait_for(state="visible", timeout=timeout * 1000)

    # ------------------------------------------------------------ wizard
    def choose(self, domain: str, operation: str) -> None:
        """Step 1: a domain and an operation label ("Add", "Update", "Add & Update")."""
        self.click(f".ba-domain-{domain}")
        self.page.locator(".ba-operation button", has_text=re.compile(f"^{re.escape(operation)}$")).click()

    def to_upload(self, domain: str, operation: str) -> None:
        """Open the page, choose a domain and operation, skip the template: Step 3 is showing."""
        self.open()
        self.choose(domain, operation)
        self.click(".ba-next-domain")
        self.click(".ba-next-template")
        self.step_visible("ba-step-upload")

    def upload(self, path: Path) -> None:
        """Step 3 through Browse Files (the file chooser), then wait for the name below the area."""
        self.page.locator(".ba-drop-area").wait_for(state="visible")
        with self.page.expect_file_chooser() as chooser:
            self.click(".ba-drop-area")
        chooser.value.set_files(str(path))
        self.page.locator(".ba-file-name").filter(has_text=path.name).wait_for(timeout=60_000)

    def drop(self, name: str, text: str) -> None:
        """Step 3 by drag and drop: a file made in the page is dropped on the area."""
        self.page.locator(".ba-drop-area").wait_for(state="visible")
        self.page.evaluate(
            """([name, text]) => {
                const dt = new DataTransfer();
                dt.items.add(new File([text], name, {type: "text/csv"}));
                const area = document.querySelector(".ba-drop-area");
                area.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true}));
                area.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
            }""",
            [name, text],
        )

    def review(self, timeout: float = 120) -> None:
        self.click(".ba-review-button")
        self.step_visible("ba-step-review", timeout)

    def counts(self, scope: str = ".ba-counts") -> dict[str, int]:
        """The count tiles of a section, e.g. {"total": 12, "valid": 8, ...}."""
        values = {}
        for tile in self.page.locator(f"{scope} .ba-count").all():
            key = next(c[len("ba-count-"):] for c in tile.get_attribute("class").split() if c.startswith("ba-count-"))
            values[key] = int(tile.locator(".ba-count-value").inner_text().replace(",", ""))
        return values

    # ------------------------------------------------------------- grids
    def _cell_point(self, grid_class: str, columns: list[str], column: str, row: int,
                    widths: dict[str, int]) -> tuple[float, float]:
        grid = self.page.locator(f".{grid_class}")
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        x = box["x"] + column_centre(columns, column, widths)
        y = box["y"] + grids.HEADER_HEIGHT + row * grids.ROW_HEIGHT + grids.ROW_HEIGHT / 2
        return x, y

    def error_cell_colour(self, headers: list[str], row: int, column: str) -> tuple[int, int, int]:
        """The background colour (RGB) the user sees in a cell of the Errors grid."""
        columns = [STATUS, *headers, INVALID]
        widths = {STATUS: grids.NARROW_WIDTH, INVALID: grids.WIDE_WIDTH}
        x, y = self._cell_point("ba-error-grid", columns, column, row, widths)
        # Just inside the cell's top-right corner: clear of the text and the grid lines.
        half_w = widths.get(column, grids.COLUMN_WIDTH) / 2
        return self.pixel(x + half_w - 4, y - grids.ROW_HEIGHT / 2 + 3)

    def pixel(self, x: float, y: float) -> tuple[int, int, int]:
        """RGB of one screen pixel (a 1×1 screenshot, decoded here: no imaging library needed)."""
        png = self.page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
        return _first_pixel(png)

    def edit_error_cell(self, headers: list[str], row: int, column: str, value: str) -> None:
        """Double-click the cell of the Errors grid (page row `row`, 0-based), type `value`, press Enter."""
        columns = [STATUS, *headers, INVALID]
        widths = {STATUS: grids.NARROW_WIDTH, INVALID: grids.WIDE_WIDTH}
        x, y = self._cell_point("ba-error-grid", columns, column, row, widths)
        self.page.mouse.dblclick(x, y)
        editor = self.page.locator(".ba-error-grid input").first
        editor.wait_for(state="visible", timeout=5_000)
        editor.fill(value)
        editor.press("Enter")

    def accept_suggestion(self, index: int) -> None:
        """Click "✔ Accept" on line `index` (0-based) of the issues grid."""
        x, y = self._cell_point("ba-issues-grid", ISSUE_COLUMNS, "Accept", index, grids.ISSUE_WIDTHS)
        self.page.mouse.click(x, y)

    def wait_edit(self, pattern: str, timeout: float = 30) -> str:
        status = self.page.locator(".ba-edit-status").filter(has_text=re.compile(pattern))
        status.wait_for(timeout=timeout * 1000)
        return status.inner_text()


def _first_pixel(png: bytes) -> tuple[int, int, int]:
    """RGB of the first pixel of an 8-bit RGB/RGBA PNG; for one pixel every PNG filter leaves it as stored."""
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return raw[1], raw[2], raw[3]
