"""The message banner: server and file errors as sentences a person can act on.

Every action in the dashboard runs inside `Notice.guard()`, so a refused
permission, a usage limit or a stopped server becomes a message in the page
while the wizard keeps the user's upload and edits.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import ipywidgets as widgets

from bulkassist import errors

# Most specific first: the first matching class gives the title.
TITLES: tuple[tuple[type[BaseException], str], ...] = (
    (errors.NotLicensed, "Bulk Data Import is not licensed"),
    (errors.DomainNotEnabled, "This domain is not enabled"),
    (errors.PermissionDenied, "Permission denied"),
    (errors.SessionExpired, "Your session has expired"),
    (errors.TooManySignInAttempts, "Too many failed sign-ins"),
    (errors.AuthenticationFailed, "Sign-in failed"),
    (errors.UsageLimitExceeded, "Import usage limit reached"),
    (errors.ServerUnreachable, "The import server cannot be reached"),
    (errors.PayloadTooLarge, "File too large"),
    (errors.NotFound, "Not found"),
    (errors.Conflict, "Not possible now"),
    (errors.FileFormatError, "The file cannot be read"),
    (errors.SchemaError, "The file does not fit this domain"),
    (errors.ServerError, "The import server reported a problem"),
    (errors.BulkAssistError, "Import problem"),
)

# What the dashboard adds to the client's message (which already says how to fix the cause).
ADVICE: dict[type[BaseException], str] = {
    errors.ServerUnreachable: "Your file and edits are kept here; try again when the server is back.",
    errors.UsageLimitExceeded: "Nothing was imported; your file and edits are kept here.",
}


def describe(exc: BaseException) -> tuple[str, str]:
    """(title, text) for an exception; unexpected ones keep their type so a report is useful."""
    for cls, title in TITLES:
        if isinstance(exc, cls):
            advice = next((a for c, a in ADVICE.items() if isinstance(exc, c)), "")
            text = str(exc).strip()
            if advice:
                text = f"{text}{'' if text.endswith(('.', '!', '?')) else '.'} {advice}"
            return title, text
    return "Unexpected error", f"{type(exc).__name__}: {exc}"


class Notice(widgets.HTML):
    """One banner at the top of a page: error (red), warning (amber), info or success."""

    def __init__(self, *, on_expired: Callable[[errors.SessionExpired], None] | None = None,
                 **kwargs: object) -> None:
        # Classes and layout given to the constructor go to the browser with the widget, not as updates after it.
        super().__init__(_dom_classes=("ba-notice",), layout=widgets.Layout(display="none"), **kwargs)
        self.on_expired = on_expired  # the page's sign-in form takes over when the session has ended

    def show(self, text: str, kind: str = "info", title: str = "") -> None:
        heading = f"<b>{html.escape(title)}</b> " if title else ""
        self.value = f'<div class="ba-notice-{kind}">{heading}{html.escape(text)}</div>'
        self.layout.display = None

    def show_error(self, exc: BaseException) -> None:
        title, text = describe(exc)
        self.show(text, "error", title)

    def clear(self) -> None:
        self.value = ""
        self.layout.display = "none"

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run a user action; any error becomes the banner instead of a lost traceback."""
        try:
            yield
        except errors.SessionExpired as exc:
            if self.on_expired is None:
                self.show_error(exc)
            else:
                self.on_expired(exc)
        except errors.BulkAssistError as exc:
            self.show_error(exc)
        except Exception as exc:  # the page must survive anything a handler raises
            traceback.print_exc()
            self.show_error(exc)
