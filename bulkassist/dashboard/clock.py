"""Dates and times as the person reads them: in the browser's time zone, "30 Nov 2026, 18:30".

The server stores and sends UTC (`2026-11-30T23:30:41Z`); the kernel does not know where the person
is. `BrowserClock` is an invisible widget whose browser side reports the time zone the browser runs
in (`Intl.DateTimeFormat().resolvedOptions().timeZone`); until it has, and for a zone Python does not
know, times are shown in UTC and say so. Its script loads once the page is idle (the deferred extension, see
`launch.py`), and it reports once the browser is idle again, so its first report (`shown`) also says the browser
has finished showing the page it came with. Formatting is one vectorised polars expression, so the history
grid's Date column costs no Python call per row.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anywidget
import polars as pl
import traitlets

UTC = "UTC"
FORMAT = "%-d %b %Y, %H:%M"  # 30 Nov 2026, 18:30

_ESM = r"""
function render({ model, el }) {
  el.style.display = "none";
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const report = () => {
    if (model.get("time_zone") !== zone || !model.get("shown")) {
      model.set("time_zone", zone);
      model.set("shown", true);
      model.save_changes();
    }
  };
  // Once the browser has nothing else to do: it is still showing the page the clock came with.
  if (window.requestIdleCallback) {
    window.requestIdleCallback(report, { timeout: 2000 });
  } else {
    setTimeout(report, 0);
  }
}
export default { render };
"""


class BrowserClock(anywidget.AnyWidget):
    """Knows the browser's time zone once the page has shown it (`time_zone`, an IANA name)."""

    _esm = _ESM
    time_zone = traitlets.Unicode(UTC).tag(sync=True)
    shown = traitlets.Bool(False).tag(sync=True)  # set by the browser once it has shown the clock

    @property
    def zone(self) -> str:
        """The browser's time zone when Python knows it, else UTC."""
        return known_zone(self.time_zone)


def known_zone(name: str | None) -> str:
    try:
        ZoneInfo(name or UTC)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
    return name or UTC


def local_times(stamps: pl.Expr | pl.Series, zone: str) -> pl.Expr | pl.Series:
    """UTC timestamps as text (ISO 8601, with or without `Z`) -> "30 Nov 2026, 18:30" in `zone`."""
    return (stamps.str.replace(r"(Z|[+-]00:?00)$", "").str.to_datetime(strict=False)
            .dt.replace_time_zone(UTC).dt.convert_time_zone(known_zone(zone)).dt.strftime(FORMAT))


def local_time(stamp: str | datetime | None, zone: str) -> str:
    """One timestamp as `local_times` shows it ("" for none; the text itself when it is no timestamp)."""
    if stamp is None or stamp == "":
        return ""
    text = stamp.isoformat() if isinstance(stamp, datetime) else str(stamp)
    shown = cast(pl.Series, local_times(pl.Series([text], dtype=pl.String), zone))[0]
    return shown if shown is not None else text


def zone_note(zone: str) -> str:
    """The words that say which zone the times are in."""
    zone = known_zone(zone)
    return "Times in UTC" if zone == UTC else f"Times in your time zone ({zone})"
