"""The wheel `python -m build` makes is self-sufficient: it carries every file of the package's sources
(the add-in, the dashboard's template, the migrations, py.typed), and installed in a new virtual environment
`bulkassist addin path` names a real .xlam inside that environment."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]  # the wheel is built once, on one xdist worker


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend comes from the dev extra (no index needed), as the README says
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (path,) = out.glob("bulkassist-*.whl")
    return path


def test_the_wheel_carries_every_file_of_the_package(wheel: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "bulkassist"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in tracked if name not in in_wheel]
    assert missing == [], f"{wheel.name} lacks files of the package: {missing}"


def test_the_wheel_installed_in_a_new_venv_names_a_real_xlam(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the wheel's package, not a checkout's
    # The dependencies come from this interpreter's site-packages (no index); the package from the wheel only.
    # A venv made by a venv's Python sees the base Python's packages, not that venv's (where scripts/test
    # installs them): a .pth file appends this interpreter's site-packages after the new venv's own. Lines of
    # a .pth only extend sys.path, so the checkout's editable install there (a .pth of its own) stays inert.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    (own,) = venv.glob("lib/python*/site-packages")
    (own / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index",
                                "--disable-pip-version-check", "--force-reinstall", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-2000:]
    where = subprocess.run([str(python), "-c", "import bulkassist; print(bulkassist.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120, env=clean)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr
    path = subprocess.run([str(venv / "bin" / "bulkassist"), "addin", "path"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=clean)
    assert path.returncode == 0, path.stderr
    xlam = Path(path.stdout.strip())
    assert xlam.is_relative_to(venv) and xlam.name == "BulkAssist.xlam"
    assert zipfile.ZipFile(xlam).read("customUI/customUI14.xml")  # a real add-in with its ribbon
