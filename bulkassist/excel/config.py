"""Where the add-in finds the import server: the user's config file or the environment.

The server URL and the API token belong to a person, not to a workbook: a
workbook gets mailed around and shared, so nothing secret is ever written
into it. Lookup order (first hit wins, per key):

1. the environment: ``BULKASSIST_URL`` and ``BULKASSIST_TOKEN``;
2. the file named by ``BULKASSIST_CONFIG``, else ``~/.bulkassist/config.toml``,
   else ``config.toml`` in the platform's user config folder
   (``platformdirs.user_config_dir("bulkassist")``)::

       [server]
       url = "https://imports.example.org"
       token = "..."
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from bulkassist.client import Client
from bulkassist.errors import AuthenticationFailed, BulkAssistError

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ENV_URL = "BULKASSIST_URL"
ENV_TOKEN = "BULKASSIST_TOKEN"
ENV_CONFIG = "BULKASSIST_CONFIG"


class ConfigError(BulkAssistError):
    """The user's BulkAssist config file cannot be read."""


@dataclass(frozen=True)
class ServerConfig:
    """The server a user talks to; `url` is None when none is configured (offline)."""

    url: str | None
    token: str | None
    source: str  # where it came from, for messages ("environment", a file path, "nowhere")

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def client(self):
        """A `bulkassist.Client` for this server; raises with the fix when the URL or token is missing."""
        if not self.url:
            raise ConfigError(
                f"No import server is configured. Set {ENV_URL} and {ENV_TOKEN}, or write them to "
                f"{config_paths()[0]} as [server] url = \"...\" and token = \"...\"."
            )
        if not self.token:
            raise AuthenticationFailed(
                f"No API token for {self.url} (looked in {self.source}). Set {ENV_TOKEN} or add "
                f"token = \"...\" under [server] in {config_paths()[0]}; ask your administrator for a token."
            )
        return Client(self.url, self.token)


def config_paths() -> list[Path]:
    """The config files looked at, in order."""
    if os.environ.get(ENV_CONFIG):
        return [Path(os.environ[ENV_CONFIG]).expanduser()]
    return [Path.home() / ".bulkassist" / "config.toml",
            Path(platformdirs.user_config_dir("bulkassist")) / "config.toml"]


def load_config() -> ServerConfig:
    """The server URL and token from the environment, then the first config file that exists."""
    url, token = os.environ.get(ENV_URL) or None, os.environ.get(ENV_TOKEN) or None
    source = "environment" if url or token else "nowhere"
    for path in config_paths():
        if url and token:
            break
        if not path.is_file():
            continue
        try:
            server = tomllib.loads(path.read_text(encoding="utf-8")).get("server", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the BulkAssist config ({exc}); fix or delete the file.") from exc
        url = url or server.get("url") or None
        token = token or server.get("token") or None
        source = str(path) if source == "nowhere" else f"{source} and {path}"
        break
    return ServerConfig(url=url, token=token, source=source)
