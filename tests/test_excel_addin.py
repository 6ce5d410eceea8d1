"""The desktop add-in built from text: its ribbon buttons all reach a Python command, and the copy the
package ships (`bulkassist addin path` / `install`) is exactly what the sources build."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from bulkassist.addin import addin_path
from bulkassist.excel import COMMANDS
from tests.commands import bulkassist

ADDIN = Path(__file__).resolve().parents[1] / "addin"
pytestmark = [pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning"),
              pytest.mark.xdist_group("excel_addin")]  # the add-in is built once, on one xdist worker
NS = {"ui": "http://schemas.microsoft.com/office/2009/07/customui"}


def _load_build():
    spec = importlib.util.spec_from_file_location("addin_build", ADDIN / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pyopenvba")
    return _load_build().build(tmp_path_factory.mktemp("addin") / "BulkAssist.xlam")


def _buttons(xlam: Path) -> list[ET.Element]:
    with zipfile.ZipFile(xlam) as z:
        root = ET.fromstring(z.read("customUI/customUI14.xml"))
        rels = z.read("_rels/.rels").decode()
    assert 'Target="customUI/customUI14.xml"' in rels
    return root.findall(".//ui:button", NS)


def _vba_modules(xlam: Path) -> dict[str, str]:
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(xlam))
    try:
        return {Path(name).stem: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_every_ribbon_tag_maps_to_a_dispatcher_command(xlam):
    tags = [b.get("tag") for b in _buttons(xlam)]
    assert sorted(tags) == sorted(COMMANDS)  # each command has a button and each button a command


def test_every_button_calls_the_one_vba_callback_which_passes_the_tag_to_python(xlam):
    assert {b.get("onAction") for b in _buttons(xlam)} == {"BulkAssistRibbon.OnButton"}
    modules = _vba_modules(xlam)
    callback = modules["BulkAssistRibbon"]
    assert re.search(r"Sub OnButton\(control As IRibbonControl\)", callback)
    assert "b.dispatch('\" & Replace(control.Tag" in callback
    assert 'PROJECT_NAME As String = "bulkassist"' in modules["xlwings"]
    assert "RibbonMyAddin" not in modules
    # the binary carries exactly the text kept in addin/
    source = (ADDIN / "BulkAssistRibbon.bas").read_text(encoding="utf-8")
    body = [ln for ln in source.splitlines() if ln.strip() and not ln.startswith("Attribute")]
    assert [ln for ln in callback.splitlines() if ln.strip() and not ln.startswith("Attribute")] == body


def test_the_build_is_reproducible(xlam, tmp_path):
    again = _load_build().build(tmp_path / "again.xlam")
    assert again.read_bytes() == xlam.read_bytes()


def test_the_packaged_addin_is_what_the_sources_build(xlam):
    assert addin_path().read_bytes() == xlam.read_bytes(), (
        "bulkassist/data/BulkAssist.xlam is out of date: run `python addin/build.py` and commit it")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return bulkassist("addin", *args)


def test_addin_path_prints_the_packaged_xlam():
    result = _cli("path")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == addin_path()
    assert zipfile.ZipFile(addin_path()).read("customUI/customUI14.xml")


def test_addin_install_copies_the_xlam_into_the_named_folder(tmp_path):
    dest = tmp_path / "XLSTART"
    (dest).mkdir()
    (dest / "BulkAssist.xlam").write_bytes(b"an older add-in")
    result = _cli("install", "--dest", str(dest))
    assert result.returncode == 0, result.stderr
    assert (dest / "BulkAssist.xlam").read_bytes() == addin_path().read_bytes()  # the old copy is replaced
    assert f"installed {dest / 'BulkAssist.xlam'}" in result.stdout
    assert "Restart Excel" in result.stdout


def test_addin_install_into_a_file_is_refused():
    result = _cli("install", "--dest", str(addin_path()))
    assert result.returncode == 2
    assert "is a file" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has an XLSTART folder to install into")
def test_addin_install_without_dest_off_windows_says_where_the_addin_is_and_what_to_do():
    result = _cli("install")
    assert result.returncode == 2
    assert "XLSTART" in result.stderr and "not Windows" in result.stderr
    assert str(addin_path()) in result.stderr and "--dest FOLDER" in result.stderr


def test_the_lite_scripts_wrap_every_command():
    text = (ADDIN / "lite" / "main.py").read_text(encoding="utf-8")
    scripts = re.findall(r"@xw\.script[^\n]*\n(?:async )?def (\w+)\(book: xw\.Book\)", text)
    assert sorted(scripts) == sorted(COMMANDS)
    requirements = (ADDIN / "lite" / "requirements.txt").read_text(encoding="utf-8")
    assert "bulkassist" in requirements
