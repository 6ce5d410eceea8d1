"""The dashboard page: each visitor signs in, then works as themselves.

Voila runs one kernel per browser page, so the identity lives in the page's kernel, not in the Voila
process: `Dashboard` first shows the sign-in form (user name and password, or an API token), signs in
to the import server (`Client.sign_in`: a session credential that expires) and then shows that user's
`App`. Signing out ends the session on the server and brings the form back; so does an expired session
(any action answered `SessionExpired`), with a message saying why. The password and the credential
travel only over the page's websocket and the API's request bodies and headers, never in a URL.
"""

from __future__ import annotations

import html
import os

import ipywidgets as widgets

from bulkassist.client import Client
from bulkassist.dashboard.app import App
from bulkassist.dashboard.launch import URL_ENV
from bulkassist.dashboard.notices import Notice
from bulkassist.dashboard.theme import STYLESHEET
from bulkassist.errors import BulkAssistError, InvalidRequest, SessionExpired


class SignInForm(widgets.VBox):
    """User name and password, or (ticked) an API token; `on_signed_in(client)` once the server accepts."""

    def __init__(self, server_url: str, on_signed_in) -> None:
        self.server_url = server_url
        self.on_signed_in = on_signed_in
        self.notice = Notice()
        self.name = widgets.Text(description="User name", placeholder="e.g. importer")
        self.password = widgets.Password(description="Password")
        self.use_token = widgets.Checkbox(description="Sign in with an API token instead", indent=False)
        self.token = widgets.Password(description="API token", placeholder="ba_...")
        self.button = widgets.Button(description="Sign in", button_style="primary")
        for widget, name in ((self.name, "name"), (self.password, "password"), (self.use_token, "use-token"),
                             (self.token, "token"), (self.button, "button")):
            widget.add_class(f"ba-signin-{name}")
        self.token.layout.display = "none"
        self.use_token.observe(self._on_use_token, "value")
        self.button.on_click(lambda _: self.submit())
        super().__init__([widgets.HTML(f"<h1>Bulk Data Import</h1><div class='ba-hint'>Sign in to "
                                       f"{html.escape(server_url)}</div>"),
                          self.notice, self.name, self.password, self.use_token, self.token, self.button])
        self.add_class("ba-signin")

    def _on_use_token(self, change: dict) -> None:
        self.token.layout.display = None if change["new"] else "none"
        for field in (self.name, self.password):
            field.layout.display = "none" if change["new"] else None

    def show(self, text: str, kind: str, title: str) -> None:
        self.notice.show(text, kind, title)

    def submit(self) -> None:
        """Sign in with what the form holds; the secret fields are emptied whatever the outcome."""
        self.notice.clear()
        self.button.disabled = True
        try:
            with self.notice.guard():
                if self.use_token.value:
                    if not self.token.value.strip():
                        raise InvalidRequest("paste your API token, or untick 'Sign in with an API token'")
                    client = Client.sign_in(self.server_url, token=self.token.value.strip())
                else:
                    if not self.name.value.strip() or not self.password.value:
                        raise InvalidRequest("enter your user name and password")
                    client = Client.sign_in(self.server_url, self.name.value.strip(), self.password.value)
                self.on_signed_in(client)
        finally:
            self.password.value = self.token.value = ""
            self.button.disabled = False


class Dashboard(widgets.VBox):
    """The whole page for one browser: the sign-in form, then the signed-in user's `App`."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.client: Client | None = None
        self.app: App | None = None
        self.form = SignInForm(server_url, self._signed_in)
        self.style = widgets.HTML(STYLESHEET)
        super().__init__([self.style, self.form])
        self.add_class("ba-app")

    @classmethod
    def from_environment(cls) -> Dashboard:
        """The page for the server named by BULKASSIST_URL (set by `start_voila`); each visitor signs in."""
        url = os.environ.get(URL_ENV)
        if not url:
            raise InvalidRequest(f"set {URL_ENV} to the import server's URL (`bulkassist demo` and "
                                 f"`bulkassist dashboard --server URL` do this for you)")
        return cls(url)

    def _signed_in(self, client: Client) -> None:
        self.client = client
        self.app = App(client, on_sign_out=self.sign_out, on_expired=self.expired)
        self.children = [self.style, self.app]

    def sign_out(self) -> None:
        """End the session on the server and show the form again."""
        if self.client is not None:
            try:
                self.client.sign_out()
            except BulkAssistError as exc:  # a server that is down: the page still forgets the session
                self._show_form(f"You are signed out here; the server could not be told ({exc}).", "warning",
                                "Signed out")
                return
        self._show_form("Sign in again to continue.", "info", "You have signed out.")

    def expired(self, exc: SessionExpired) -> None:
        """An action was refused because the session ended: the form, saying why (the work in the page is lost
        with the kernel's state only if the visitor leaves; signing in again starts a fresh page state)."""
        self._show_form(str(exc), "error", "Your session has ended.")

    def _show_form(self, text: str, kind: str, title: str) -> None:
        if self.app is not None:
            self.app.retire()
        self.client = self.app = None
        self.form.show(text, kind, title)
        self.children = [self.style, self.form]
