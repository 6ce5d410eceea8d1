"""Start the dashboard: Voila serving `notebooks/dashboard.ipynb` on 127.0.0.1.

The notebook reads the server's URL and token from the environment
(`BULKASSIST_URL`, `BULKASSIST_TOKEN`), so one Voila process serves one
server and the token never appears in a URL or a notebook file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

import bulkassist
from bulkassist.errors import ServerError

URL_ENV, TOKEN_ENV = "BULKASSIST_URL", "BULKASSIST_TOKEN"

# The whole dashboard notebook. `notebooks/dashboard.ipynb` holds exactly this
# cell (a test keeps them equal); an installed wheel has no `notebooks/`
# folder, so the launcher writes the same notebook to a temporary folder.
NOTEBOOK_SOURCE = "from bulkassist.dashboard import App\n\nApp.from_environment()"

# The upload widget sends the whole file in one websocket message; Tornado's
# default cap (10 MiB) would drop the connection instead of letting the
# dashboard say the file is too large.
WEBSOCKET_MAX_MESSAGE_BYTES = 256 * 1024 * 1024

# Our Voila template (`share/voila/templates/bulkassist`, found through JUPYTER_PATH): Voila's lab template
# without the icon font it loads from a CDN, so the page loads nothing from outside 127.0.0.1.
SHARE = Path(__file__).resolve().parent / "share"
TEMPLATE = "bulkassist"


@dataclass
class RunningVoila:
    """A Voila process serving the dashboard; `stop()` ends it (and its kernels)."""

    url: str
    pid: int
    process: subprocess.Popen = field(repr=False)
    log_path: Path = field(repr=False)

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self) -> RunningVoila:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def notebook_path() -> Path:
    """The dashboard notebook: the repository's copy, else one written to a temporary folder."""
    repo_copy = Path(bulkassist.__file__).resolve().parent.parent / "notebooks" / "dashboard.ipynb"
    if repo_copy.is_file():
        return repo_copy
    folder = Path(tempfile.mkdtemp(prefix="bulkassist-dashboard-"))
    path = folder / "dashboard.ipynb"
    nbformat.write(dashboard_notebook(), path)
    return path


def dashboard_notebook() -> nbformat.NotebookNode:
    """The thin notebook Voila serves: it builds the app from `bulkassist.dashboard`."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(NOTEBOOK_SOURCE))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_voila(
    server_url: str,
    token: str,
    *,
    port: int | None = None,
    open_browser: bool = False,
    preheat: bool = True,
    timeout: float = 60,
) -> RunningVoila:
    """Serve the dashboard for the import server at `server_url`, authenticated with `token`.

    With `preheat`, Voila keeps one kernel that has already built the app, so
    a page shows its widgets in about 2 s instead of 4-5 s (the kernel start
    and imports happen before the user arrives); the pool refills after each
    page load. Returns once Voila accepts connections; the dashboard's URL is
    `RunningVoila.url`. Raises `ServerError` when Voila exits or does not
    answer within `timeout` seconds (its log is named in the message).
    """
    port = port or free_port()
    notebook = notebook_path()
    env = {**os.environ, URL_ENV: server_url, TOKEN_ENV: token,
           "JUPYTER_PATH": os.pathsep.join(filter(None, [str(SHARE), os.environ.get("JUPYTER_PATH")]))}
    folder = Path(tempfile.mkdtemp(prefix="bulkassist-voila-"))
    log_path = folder / "voila.log"
    # Typed settings go through a config file: on the command line a dict value stays a string.
    (folder / "voila.json").write_text(json.dumps(
        {"Voila": {"tornado_settings": {"websocket_max_message_size": WEBSOCKET_MAX_MESSAGE_BYTES}}}))
    command = [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        f"--Voila.config_file_paths={folder}",
        f"--template={TEMPLATE}",
    ]
    if preheat:
        command += ["--preheat_kernel=True", "--pool_size=1"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    running = RunningVoila(url=url, pid=process.pid, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while not _accepts_connections(port):
        if process.poll() is not None or time.monotonic() > deadline:
            running.stop()
            raise ServerError(
                f"Voila did not start on 127.0.0.1:{port} (exit code {process.returncode}); "
                f"see its log in {log_path}"
            )
        time.sleep(0.1)
    if open_browser:
        webbrowser.open(url)
    return running


def _accepts_connections(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0
