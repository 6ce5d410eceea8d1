"""The banner of recent imports that had failures (seed 003).

It stays at the top of the page while an import of the last week ended
CommitFailed, with each import's error file one click away, so a person can
come back later, fix the records at the source and retry from Import History.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from typing import Any

import ipywidgets as widgets

from bulkassist.client import Import
from bulkassist.dashboard.clock import BrowserClock, local_time
from bulkassist.dashboard.downloads import data_link
from bulkassist.dashboard.notices import Notice
from bulkassist.status import ImportStatus

RECENT = timedelta(days=7)
SHOWN = 5


class FailureBanner(widgets.HTML):
    """Recent imports with failed records, each with a link to download its error file."""

    def __init__(self, client: Any, notice: Notice, clock: BrowserClock | None = None):
        super().__init__(_dom_classes=("ba-failures",), layout=widgets.Layout(display="none"))
        self.client = client
        self.notice = notice
        self.clock = clock or BrowserClock()
        self.clock.observe(lambda _: self.refresh() if self.value else None, "time_zone")

    def refresh(self) -> None:
        with self.notice.guard():
            items = self.client.imports(status=ImportStatus.COMMIT_FAILED, page_size=SHOWN)["items"]
            since = datetime.now(timezone.utc) - RECENT
            recent = [i for i in items if _when(i["created_at"]) >= since]
            if not recent:
                self.value = ""
                self.layout.display = "none"
                return
            lines = []
            for item in recent:
                failed = (item.get("committed") or {}).get("failed", 0)
                errors = Import(self.client, item).errors_file()
                link = data_link(errors, f"import-{item['id']}-errors.csv", "Download the error file",
                                 "ba-failures-link")
                lines.append(
                    f"<li>Import {item['id']} · {html.escape(str(item['file_name']))} · "
                    f"{html.escape(local_time(item['created_at'], self.clock.zone))}: {failed} record{'s' if failed != 1 else ''} "
                    f"failed — {link}</li>")
            self.value = (
                '<div class="ba-notice-warning"><b>Recent imports with failures</b><ul>' + "".join(lines)
                + "</ul>Fix the records named in the error file, then choose Retry in Import History: "
                  "only the failed records are imported again.</div>")
            self.layout.display = None


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
