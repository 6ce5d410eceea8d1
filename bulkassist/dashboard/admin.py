"""The Administration tab (administrators only): importer locks and Unlock (seed 004), and webhooks.

An import in progress locks its domain's importer for the organisation; an import that
hangs or fails keeps it locked. The seed's steps — log in as a site admin, open the
importer, click *Unlock* in the header, then the *Unlock* button — are here: each lock
has an *Unlock* button, which asks once more before releasing the lock.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from bulkassist.dashboard.clock import BrowserClock, local_time
from bulkassist.dashboard.notices import Notice
from bulkassist.dashboard.webhooks import Webhooks
from bulkassist.domains import all_domains

ADVICE = ("An import that hangs or fails locks its importer. Before unlocking, review the import file: no special "
          "characters in the data, no additional spaces in the headers. Then unlock to re-import.")


def _title(domain: str) -> str:
    return next((d.title for d in all_domains() if d.name == domain), domain)


class Locks(widgets.VBox):
    """The organisation's importer locks, each with Unlock (and a confirmation)."""

    def __init__(self, client: Any, notice: Notice, clock: BrowserClock):
        self.client = client
        self.notice = notice
        self.clock = clock
        self.found: list[dict[str, Any]] = []
        self.rows = widgets.VBox()
        self.rows.add_class("ba-locks")
        self.confirm = widgets.VBox()
        self.confirm.add_class("ba-unlock-confirm-box")
        self.status = widgets.HTML()
        self.status.add_class("ba-locks-status")
        refresh = widgets.Button(description="⟳ Refresh")
        refresh.add_class("ba-locks-refresh")
        refresh.on_click(lambda _: self.refresh())
        super().__init__([widgets.HTML(f"<h2>Importer locks</h2><div class='ba-hint'>{html.escape(ADVICE)}</div>"),
                          refresh, self.rows, self.confirm, self.status])
        self.add_class("ba-admin-locks")

    def refresh(self) -> None:
        """Fetch the locks from the server."""
        with self.notice.guard():
            self.found = self.client.locks()
            self.confirm.children = []
            if not self.found:
                empty = widgets.HTML("<div class='ba-hint'>No importer is locked.</div>")
                empty.add_class("ba-locks-empty")
                self.rows.children = [empty]
                return
            self.rows.children = [self._row(lock) for lock in self.found]

    def _row(self, lock: dict[str, Any]) -> widgets.HBox:
        held = f"import {lock['import_id']}" if lock.get("import_id") else "an import"
        text = widgets.HTML(
            f"<b>{html.escape(_title(lock['domain']))}</b> importer — locked by {html.escape(held)} since "
            f"{html.escape(local_time(lock['locked_at'], self.clock.zone))}: {html.escape(str(lock.get('reason') or ''))}")
        button = widgets.Button(description="Unlock", button_style="warning")
        button.add_class("ba-unlock")
        button.add_class(f"ba-unlock-{lock['domain']}")
        button.on_click(lambda _, d=lock["domain"]: self.ask(d))
        row = widgets.HBox([button, text])
        row.add_class("ba-lock-row")
        row.add_class(f"ba-lock-{lock['domain']}")
        return row

    def ask(self, domain: str) -> None:
        """The seed's second step: say what unlocking does, then Unlock (or keep the lock)."""
        question = widgets.HTML(f"Unlock the <b>{html.escape(_title(domain))}</b> importer? New imports of this "
                                f"domain can start again at once.")
        yes = widgets.Button(description="Unlock", button_style="danger")
        yes.add_class("ba-unlock-confirm")
        yes.on_click(lambda _: self.unlock(domain))
        keep = widgets.Button(description="Keep locked")
        keep.add_class("ba-unlock-keep")
        keep.on_click(lambda _: setattr(self.confirm, "children", []))
        self.confirm.children = [widgets.HBox([question, yes, keep])]

    def unlock(self, domain: str) -> None:
        with self.notice.guard():
            done = self.client.unlock(domain)
            self.status.value = (f"The {html.escape(_title(domain))} importer is unlocked: you can re-import."
                                 if done else f"The {html.escape(_title(domain))} importer was not locked.")
            self.notice.clear()
        self.refresh()


class Administration(widgets.VBox):
    """Everything an administrator of the organisation manages in the dashboard."""

    def __init__(self, client: Any, notice: Notice, clock: BrowserClock | None = None):
        clock = clock or BrowserClock()
        self.locks = Locks(client, notice, clock)
        self.webhooks = Webhooks(client, notice, clock)
        super().__init__([self.locks, self.webhooks])
        self.add_class("ba-admin")

    def refresh(self) -> None:
        self.locks.refresh()
        self.webhooks.refresh()
