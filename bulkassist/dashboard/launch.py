"""Start the dashboard: Voila serving `notebooks/dashboard.ipynb`.

The notebook reads only the import server's URL from the environment
(`BULKASSIST_URL`): each visitor signs in on the page (`signin.Dashboard`),
so one Voila process serves every user of one server, each as themselves,
and no token or password is in a URL, a notebook file or Voila's environment.
Its kernels end when idle and are capped (`kernels.KernelCulling`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bulkassist
from bulkassist.errors import ServerError

# nbformat pulls in jsonschema's format checkers (~2 s of CPU, as much as all the rest): every page's
# kernel imports this module, and only an installed wheel writing its notebook needs nbformat.
if TYPE_CHECKING:
    import nbformat

URL_ENV = "BULKASSIST_URL"

# The whole dashboard notebook. `notebooks/dashboard.ipynb` holds exactly this
# cell (a test keeps them equal); an installed wheel has no `notebooks/`
# folder, so the launcher writes the same notebook to a temporary folder.
NOTEBOOK_SOURCE = "from bulkassist.dashboard import Dashboard\n\nDashboard.from_environment()"

# The upload widget sends the whole file in one websocket message; Tornado's
# default cap (10 MiB) would drop the connection instead of letting the
# dashboard say the file is too large.
WEBSOCKET_MAX_MESSAGE_BYTES = 256 * 1024 * 1024

# Voila refills its pool of pre-heated kernels this many seconds after a page takes one (its default: 1 s). A
# kernel start is some 2 s of CPU; on a small server, started 1 s in, it shares the CPU with the page that
# took the kernel while that page loads its scripts and the visitor signs in. A visitor arriving within these
# seconds of another waits that much longer for a kernel of their own.
REFILL_DELAY = 3

# Our Voila template (`share/voila/templates/bulkassist`, found through JUPYTER_PATH): Voila's lab template
# without the icon font it loads from a CDN, so the page loads nothing from outside 127.0.0.1.
SHARE = Path(__file__).resolve().parent / "share"
TEMPLATE = "bulkassist"

# Voila puts the scripts of every installed JupyterLab extension on the page, and the browser runs them
# before it shows the sign-in form. The grids' and charts' scripts (ipydatagrid imports bqplot's: some 2 MB, a
# quarter of the page's CPU) are first needed after sign-in, on the wizard's later steps and the other tabs, and
# anywidget's (the browser clock, the drop area) once signed in: our extension
# `share/labextensions/bulkassist-deferred-widgets` loads an extension's scripts when the page first shows one of
# its widgets. Pygments' styles colour code cells, which the dashboard hides.
DEFERRED_EXTENSION = "bulkassist-deferred-widgets"
DEFERRED_WIDGETS = ("ipydatagrid", "bqplot", "bqscales", "anywidget")
UNUSED_EXTENSIONS = ("jupyterlab_pygments",)


@dataclass(frozen=True)
class KernelCulling:
    """When the dashboard's kernels end (seconds) and how many may run at once (see `kernels.py`)."""

    idle_timeout: int = 1800
    cull_interval: int = 60
    cull_connected: bool = True
    max_kernels: int = 20

    def config(self) -> dict[str, dict[str, Any]]:
        """The traitlets configuration (Voila's config file) that applies these settings."""
        return {
            "VoilaConfiguration": {"multi_kernel_manager_class": "bulkassist.dashboard.kernels.CappedKernelManager"},
            "MappingKernelManager": {"cull_idle_timeout": self.idle_timeout, "cull_interval": self.cull_interval,
                                     "cull_connected": self.cull_connected},
            "CappedKernelManager": {"max_kernels": self.max_kernels},
        }


@dataclass
class RunningVoila:
    """A Voila process serving the dashboard; `stop()` ends it (and its kernels)."""

    url: str
    pid: int
    process: subprocess.Popen = field(repr=False)
    log_path: Path = field(repr=False)

    def kernels(self) -> list[int]:
        """PIDs of the kernel processes Voila is running now (Linux: read from /proc; [] elsewhere)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # The parent PID is the 2nd field after the ")" that ends the command name.
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if parent == self.pid and b"ipykernel" in (stat.parent / "cmdline").read_bytes():
                    found.append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):  # a process that ended while being read
                continue
        return found

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
    import nbformat  # not at the top: every page's kernel imports this module (see above)

    nbformat.write(dashboard_notebook(), path)
    return path


def dashboard_notebook() -> nbformat.NotebookNode:
    """The thin notebook Voila serves: it builds the app from `bulkassist.dashboard`."""
    import nbformat  # not at the top: every page's kernel imports this module (see above)

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(NOTEBOOK_SOURCE))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def jupyter_path(folder: Path) -> str:
    """JUPYTER_PATH for the dashboard's Voila, writing a kernelspec into `folder`.

    In order: a `python3` kernelspec that runs this interpreter (a kernel.json saying "python" would start
    whichever python comes first on PATH, which need not have bulkassist); our template; what the user set;
    then the Jupyter data folders of this interpreter's base installation. A venv made with
    --system-site-packages finds Voila, ipywidgets and their templates and widget assets in the base
    installation, but Jupyter looks only in the venv's own share/jupyter, so every page was an HTTP error.
    """
    kernel = folder / "share" / "kernels" / "python3"
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (bulkassist)", "language": "python",
    }))
    prefixes = dict.fromkeys([sys.prefix, sys.base_prefix])
    installed = [str(Path(p) / "share" / "jupyter") for p in prefixes if (Path(p) / "share" / "jupyter").is_dir()]
    return os.pathsep.join(filter(None, [str(folder / "share"), str(SHARE), os.environ.get("JUPYTER_PATH"),
                                         *installed]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def labextensions(search_path: str) -> dict[str, dict[str, Any]]:
    """The JupyterLab extensions Voila finds with JUPYTER_PATH set to `search_path` (`jupyter_path`), by name:
    their version, `jupyterlab._build` ("load": the container's script, "extension": its plugins) and
    whether every script in their static/ folder has a content hash in its name ("hashed")."""
    # Not at the top: every page's kernel imports this module, and only the launcher needs jupyterlab_server.
    from jupyter_core.paths import jupyter_path as searched
    from jupyterlab_server.config import get_federated_extensions  # (the same reason)

    roots = [*filter(None, search_path.split(os.pathsep)), *searched()]
    # Voila's order: Jupyter's labextensions folders, then its own (voila/labextensions: its widget manager).
    found = get_federated_extensions([*(str(Path(r) / "labextensions") for r in roots),
                                      *(str(Path(r) / "voila" / "labextensions") for r in roots)])
    return {name: {"version": ext["version"], **ext["jupyterlab"].get("_build", {}),
                   "hashed": _hashed(Path(ext["ext_path"]) / "static")} for name, ext in found.items()}


def _hashed(folder: Path) -> bool:
    """Every script of `folder` a page may load is named after its content's hash, as JupyterLab's build names
    them (`remoteEntry.5515fbe34d49b1d056e0.js`, `595.271a9ddf1bb242989eeb.js`); its `style.js` is for other
    bundlers (the page gets styles through the container)."""
    scripts = [script for script in folder.glob("*.js") if script.name != "style.js"]
    return bool(scripts) and all(re.search(r"\.[0-9a-f]{8,}\.js$", script.name) for script in scripts)


def voila_config(culling: KernelCulling, extensions: dict[str, dict[str, Any]] | None = None) -> dict:
    """Everything the dashboard's Voila needs beyond its defaults: the websocket message size, when the pool of
    pre-heated kernels refills, the kernel culling and the cap, and what the page loads of the JupyterLab
    `extensions` found (`labextensions`): the grids' and charts' scripts on first use, not Pygments' styles,
    and every hashed script from the browser's cache once it has it (what `start_voila` writes to Voila's
    config file)."""
    extensions = extensions or {}
    deferred = [{"name": name, **{key: extensions[name][key] for key in ("version", "load", "extension")}}
                for name in DEFERRED_WIDGETS if name in extensions]
    # Scripts named after their content's hash never change under that name: a returning browser need not ask
    # for them again. Voila has it ask for each (~60 requests to a server that may be busy).
    immutable = [f"/voila/labextensions/{name}/static/" for name, ext in extensions.items() if ext.get("hashed")]
    kernels = culling.config()
    return {"Voila": {"tornado_settings": {"websocket_max_message_size": WEBSOCKET_MAX_MESSAGE_BYTES,
                                           "static_immutable_cache": immutable}},
            "VoilaKernelManager": {"fill_delay": REFILL_DELAY},
            **kernels,
            "VoilaConfiguration": {**kernels["VoilaConfiguration"],
                                   "extension_denylist": [ext["name"] for ext in deferred] + list(UNUSED_EXTENSIONS),
                                   "extension_config": {DEFERRED_EXTENSION: {"extensions": deferred}}}}


def start_voila(
    server_url: str,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    culling: KernelCulling | None = None,
    open_browser: bool = False,
    preheat: bool = True,
    timeout: float = 60,
) -> RunningVoila:
    """Serve the dashboard for the import server at `server_url`; each visitor signs in as themselves.

    With `preheat`, Voila keeps one kernel that has already built the sign-in
    form, so a page shows its widgets in about 2 s instead of 4-5 s (the kernel
    start and imports happen before the user arrives); the pool refills after
    each page load. `culling` says when idle kernels end and how many may run
    (default: `KernelCulling()`). Returns once Voila accepts connections; the
    dashboard's URL is `RunningVoila.url`. Raises `ServerError` when Voila
    exits or does not answer within `timeout` seconds (its log is named in the
    message).
    """
    port = port or free_port()
    notebook = notebook_path()
    folder = Path(tempfile.mkdtemp(prefix="bulkassist-voila-"))
    search_path = jupyter_path(folder)
    env = {**os.environ, URL_ENV: server_url, "JUPYTER_PATH": search_path}
    log_path = folder / "voila.log"
    # Typed settings go through a config file: on the command line a dict value stays a string.
    config = voila_config(culling or KernelCulling(), labextensions(search_path))
    (folder / "voila.json").write_text(json.dumps(config))
    command = [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={host}",
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
    reach = "127.0.0.1" if host in ("0.0.0.0", "") else host  # where this process can connect to it
    url = f"http://{reach}:{port}/"
    running = RunningVoila(url=url, pid=process.pid, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while not _accepts_connections(reach, port):
        if process.poll() is not None or time.monotonic() > deadline:
            running.stop()
            raise ServerError(
                f"Voila did not start on {host}:{port} (exit code {process.returncode}); "
                f"see its log in {log_path}"
            )
        time.sleep(0.1)
    if open_browser:
        webbrowser.open(url)
    return running


def _accepts_connections(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
