"""The Bulk Data Import window: the New Import and Import History tabs over one server, the
Registration & Certification tab for users who manage those records, and Administration (importer locks,
webhooks) for administrators."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from bulkassist.dashboard.admin import Administration
from bulkassist.dashboard.clock import BrowserClock
from bulkassist.dashboard.failures import FailureBanner
from bulkassist.dashboard.history import History
from bulkassist.dashboard.notices import Notice
from bulkassist.dashboard.records import RegistrationPage
from bulkassist.dashboard.theme import STYLESHEET
from bulkassist.dashboard.wizard import Wizard
from bulkassist.errors import SessionExpired

NEW_IMPORT, HISTORY = 0, 1  # the tabs every user has; Registration and Administration follow when allowed
REGISTRATION_DOMAIN = "qualification"


class App(widgets.VBox):
    """The whole dashboard for one user of one import server (`client`: a `bulkassist.Client`).

    `on_sign_out` adds a Sign out button; `on_expired(exc)` is called instead of showing the banner when an
    action is refused because the sign-in session ended (`signin.Dashboard` shows its form again).
    """

    def __init__(self, client: Any, *, on_sign_out: Callable[[], None] | None = None,
                 on_expired: Callable[[SessionExpired], None] | None = None):
        self.client = client
        self.notice = Notice(on_expired=on_expired)
        self.clock = BrowserClock()  # the browser's time zone, for every date the page shows
        self.failures = FailureBanner(client, self.notice, self.clock)
        self.history = History(client, self.notice, self.clock)
        self.wizard = Wizard(client, self.notice, on_history=self.show_history)
        self.tabs = widgets.Tab(children=[self.wizard, self.history], titles=["New Import", "Import History"])
        self.tabs.add_class("ba-tabs")
        self.tabs.observe(self._on_tab, "selected_index")
        self.title = widgets.HTML(self._title())
        self.sign_out_button = widgets.Button(description="Sign out",
                                              layout=widgets.Layout(display=None if on_sign_out else "none"))
        self.sign_out_button.add_class("ba-signout")
        if on_sign_out is not None:
            self.sign_out_button.on_click(lambda _: on_sign_out())
        header = widgets.HBox([self.title, self.sign_out_button], layout=widgets.Layout(align_items="center",
                                                                                       gap="24px"))
        super().__init__([widgets.HTML(STYLESHEET), self.clock, header, self.notice, self.failures, self.tabs])
        self.add_class("ba-app")
        self.registration = RegistrationPage(client, self.notice, REGISTRATION_DOMAIN)
        me: dict | None = None
        with self.notice.guard():
            me = self.wizard.load_domains()
            self.title.value = self._title(me)
        pages: list[tuple[widgets.Widget, str]] = []
        if me and sees_records(me, REGISTRATION_DOMAIN):
            # Seed 002: the Registration & Certification screen, for the Manage R&C role.
            pages.append((self.registration, "Registration & Certification"))
            if me.get("licensed", True) and not me.get("admin") and not me.get("import_domains"):
                self.notice.show(f"{me.get('user')} may not import (no Bulk Upload role), but may manage "
                                 f"Registration & Certification records: open that tab to see and export them.",
                                 "info", "Registration & Certification")
        # Administrators also get the Administration tab (importer locks, webhooks); nobody else sees it.
        self.admin = Administration(client, self.notice, self.clock) if me and me.get("admin") else None
        if self.admin is not None:
            pages.append((self.admin, "Administration"))
        if pages:
            self.tabs.children = (*self.tabs.children, *(page for page, _ in pages))
            self.tabs.titles = ("New Import", "Import History", *(title for _, title in pages))
        self.failures.refresh()

    def _title(self, me: dict | None = None) -> str:
        who = f" · signed in as {html.escape(str(me.get('user')))} ({html.escape(str(me.get('organisation')))})" \
            if me else ""
        return f"<h1>Bulk Data Import</h1><div class='ba-hint'>Server: {html.escape(self.client.url)}{who}</div>"

    def show_history(self) -> None:
        self.tabs.selected_index = HISTORY

    def show_registration(self) -> None:
        self.tabs.selected_index = self.tabs.children.index(self.registration)

    def _on_tab(self, change: dict) -> None:
        if change["new"] == HISTORY:
            self.history.refresh(1)
            self.failures.refresh()
        elif self.tabs.children[change["new"]] is self.registration:
            self.registration.refresh(1)
        elif self.tabs.children[change["new"]] is self.admin:
            self.admin.refresh()


def sees_records(me: dict, domain: str) -> bool:
    """The user has the permission to see the domain's screen (administrators see every one)."""
    return bool(me.get("admin")) or bool({"*", domain} & set(me.get("record_domains") or []))
