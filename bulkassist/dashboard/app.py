"""The Bulk Data Import window: the New Import and Import History tabs over one server, the
Registration & Certification tab for users who manage those records, and Administration (importer locks,
webhooks) for administrators."""

from __future__ import annotations

import asyncio
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
REGISTRATION_TITLE, ADMIN_TITLE = "Registration & Certification", "Administration"
BUILD_AT_THE_LATEST = 5  # seconds after sign-in (see `App.__init__`)


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
        self.wizard = Wizard(client, self.notice, on_history=self.show_history)
        # The tabs this user has are known after `load_domains`. Classes given to a constructor go to the browser
        # with the widget; `add_class` afterwards is one more message each.
        self.tabs = widgets.Tab(children=[self.wizard], _dom_classes=("ba-tabs",))
        self.tabs.observe(self._on_tab, "selected_index")
        self.title = widgets.HTML(self._title())
        self.sign_out_button = widgets.Button(description="Sign out", _dom_classes=("ba-signout",),
                                              layout=widgets.Layout(display=None if on_sign_out else "none"))
        if on_sign_out is not None:
            self.sign_out_button.on_click(lambda _: on_sign_out())
        header = widgets.HBox([self.title, self.sign_out_button], layout=widgets.Layout(align_items="center",
                                                                                       gap="24px"))
        # The clock goes into a box of its own once the page has gone to the browser (the loop's next turn): a
        # box's model waits for all of its children's, and the clock's script loads once the page is idle, so the
        # page would wait for it; and its first report then comes after the page (see `build`).
        clock_place = widgets.Box()
        super().__init__([widgets.HTML(STYLESHEET), clock_place, header, self.notice, self.failures, self.tabs],
                         _dom_classes=("ba-app",))
        later(0, lambda: setattr(clock_place, "children", [self.clock]))
        me: dict | None = None
        with self.notice.guard():
            me = self.wizard.load_domains()
            self.title.value = self._title(me)
        titles = ["New Import", "Import History"]
        if me and sees_records(me, REGISTRATION_DOMAIN):
            # Seed 002: the Registration & Certification screen, for the Manage R&C role.
            titles.append(REGISTRATION_TITLE)
            if me.get("licensed", True) and not me.get("admin") and not me.get("import_domains"):
                self.notice.show(f"{me.get('user')} may not import (no Bulk Upload role), but may manage "
                                 f"Registration & Certification records: open that tab to see and export them.",
                                 "info", "Registration & Certification")
        # Administrators also get the Administration tab (importer locks, webhooks); nobody else sees it.
        if me and me.get("admin"):
            titles.append(ADMIN_TITLE)
        # The other tabs' pages come from `build()`, after Select Domain has gone to the browser (see `Wizard`),
        # into a box holding each place.
        self.tabs.children = [self.wizard, *(widgets.VBox() for _ in titles[1:])]
        self.tabs.titles = titles
        self.failures.refresh()
        self._built = False
        # Set by `build()`; None until then, and for good if it failed (the banner said why): a tab without its
        # page then shows nothing instead of raising AttributeError on every click.
        self.history: History | None = None
        self.registration: RegistrationPage | None = None
        self.admin: Administration | None = None
        self._retired = False
        # Built once the browser has shown this page: its messages would otherwise reach the browser with the
        # page's and hold up Select Domain. The clock reports once the browser has shown it, which is after the
        # page and once the page has been idle (see `BrowserClock`); a choice of domain or a tab builds what it
        # needs at once, and `BUILD_AT_THE_LATEST` seconds build it all if the clock never reports.
        self.clock.observe(lambda _: self.build(), "shown")
        later(BUILD_AT_THE_LATEST, self.build)

    def build(self) -> None:
        """The pages not shown at sign-in: the wizard's later steps and the other tabs (once)."""
        if self._built or self._retired:
            return
        self._built = True
        with self.notice.guard():
            self.wizard.build()
            self.history = History(self.client, self.notice, self.clock)
            titles = self.tabs.titles
            self.registration = (RegistrationPage(self.client, self.notice, REGISTRATION_DOMAIN)
                                 if REGISTRATION_TITLE in titles else None)
            self.admin = Administration(self.client, self.notice, self.clock) if ADMIN_TITLE in titles else None
            pages = [page for page in (self.history, self.registration, self.admin) if page is not None]
            # Into the boxes holding their places: a Tab whose children are replaced once shown keeps the new
            # pages hidden in the browser.
            for place, page in zip(self.tabs.children[1:], pages, strict=True):
                place.children = [page]

    def retire(self) -> None:
        """The page shows this app no more (its user signed out): what it has not built, it never builds."""
        self._retired = True

    def _title(self, me: dict | None = None) -> str:
        who = f" · signed in as {html.escape(str(me.get('user')))} ({html.escape(str(me.get('organisation')))})" \
            if me else ""
        return f"<h1>Bulk Data Import</h1><div class='ba-hint'>Server: {html.escape(self.client.url)}{who}</div>"

    def show_history(self) -> None:
        self.tabs.selected_index = HISTORY

    def show_registration(self) -> None:
        self.tabs.selected_index = self.tabs.titles.index(REGISTRATION_TITLE)

    def _on_tab(self, change: dict) -> None:
        self.build()
        title = self.tabs.titles[change["new"]]
        if change["new"] == HISTORY and self.history is not None:
            self.history.refresh(1)
            self.failures.refresh()
        elif title == REGISTRATION_TITLE and self.registration is not None:
            self.registration.refresh(1)
        elif title == ADMIN_TITLE and self.admin is not None:
            self.admin.refresh()


def later(delay: float, action: Callable[[], None]) -> None:
    """Run `action` in `delay` seconds in a page's kernel (its event loop runs); at once outside an event loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        action()
    else:
        loop.call_later(delay, action)


def sees_records(me: dict, domain: str) -> bool:
    """The user has the permission to see the domain's screen (administrators see every one)."""
    return bool(me.get("admin")) or bool({"*", domain} & set(me.get("record_domains") or []))
