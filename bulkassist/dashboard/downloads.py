"""Downloads in the browser: an HTML widget holding a `data:` link.

Voila has no file endpoint for the kernel's bytes, so the file travels inside
the link; the browser saves it under the given name when clicked.
"""

from __future__ import annotations

import base64
import html
import mimetypes

import ipywidgets as widgets

MIME_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def data_link(content: bytes, filename: str, label: str, css_class: str = "") -> str:
    """An `<a download>` whose href carries `content` base64-encoded."""
    suffix = filename[filename.rfind("."):].lower() if "." in filename else ""
    mime = MIME_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    payload = base64.b64encode(content).decode("ascii")
    return (
        f'<a class="ba-link {css_class}" download="{html.escape(filename, quote=True)}" '
        f'href="data:{mime};base64,{payload}">{html.escape(label)}</a>'
    )


class DownloadLink(widgets.HTML):
    """A download link that is hidden until it has something to offer."""

    def __init__(self, css_class: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.css_class = css_class
        self.add_class(css_class)
        self.layout.display = "none"

    def offer(self, content: bytes, filename: str, label: str) -> None:
        self.value = data_link(content, filename, label, self.css_class + "-a")
        self.layout.display = None

    def withdraw(self) -> None:
        self.value = ""
        self.layout.display = "none"
