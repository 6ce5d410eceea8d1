"""Build BulkAssist.xlam from the text sources in this folder, on any OS, without Excel.

    python addin/build.py [-o bulkassist/data/BulkAssist.xlam]

The default output is the copy the wheel carries (`bulkassist addin path` / `bulkassist addin
install`): it is checked in, and `tests/test_excel_addin.py` fails when it no longer matches what this
script builds from the sources here — rebuild and commit it after changing them.

Start: the ribbon add-in template that xlwings ships (`xlwings quickstart
--addin --ribbon` copies the same file): a macro-enabled add-in whose VBA
project already holds xlwings' `RunPython` (module `xlwings`), its
`Dictionary` class and one ribbon callback module.

Changes, all from text:

- the callback module is replaced by `BulkAssistRibbon.bas` (pure-Python VBA
  writer `pyopenvba`), one `OnButton` callback that hands the button's tag to
  `bulkassist.excel.dispatch`;
- `PROJECT_NAME` in the xlwings module becomes "bulkassist", so the add-in
  reads its settings (interpreter, PYTHONPATH) from `~/.bulkassist/bulkassist.conf`
  or an active "bulkassist.conf" sheet instead of "myaddin";
- the ribbon is `customUI14.xml` (Office 2010+ namespace), replacing the
  template's `customUI/customUI.xml`; the add-in's config sheet is renamed
  "_bulkassist.conf" (inactive until renamed without the underscore).

The output is byte-for-byte reproducible: zip entries are written in a fixed
order with a fixed timestamp.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RIBBON = HERE / "customUI14.xml"
CALLBACK = HERE / "BulkAssistRibbon.bas"
DEFAULT_OUT = HERE.parent / "bulkassist" / "data" / "BulkAssist.xlam"

TEMPLATE_CALLBACK_MODULE = "RibbonMyAddin"
CALLBACK_MODULE = "BulkAssistRibbon"
RIBBON_PART = "customUI/customUI14.xml"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def template_path() -> Path:
    """xlwings' ribbon add-in template, from the installed xlwings package."""
    import xlwings

    path = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: install xlwings (pip install 'bulkassist[excel]')")
    return path


def _vba_source(path: Path) -> str:
    """A .bas file as VBA stores it: CRLF line ends, without the VB_Name attribute the writer adds."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("Attribute VB_Name")]
    return "\r\n".join(lines) + "\r\n"


def _edit_vba(xlam: Path) -> None:
    from pyopenvba import ExcelFile

    with ExcelFile(str(xlam)) as wb:
        project = wb.vba_project()
        project.rename_module(TEMPLATE_CALLBACK_MODULE, CALLBACK_MODULE)
        wb.set_module(CALLBACK_MODULE, _vba_source(CALLBACK))
        main = wb.get_module("xlwings")
        renamed = re.sub(r'(Public Const PROJECT_NAME As String = )"[^"]*"', r'\1"bulkassist"', main)
        if renamed == main:
            raise SystemExit("the xlwings module of the template has no PROJECT_NAME constant to set")
        wb.set_module("xlwings", renamed)
        wb.save()


def _rewrite_package(source: Path, target: Path) -> None:
    """Swap the ribbon part and rename the config sheet; fixed entry order and timestamps."""
    with zipfile.ZipFile(source) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    parts.pop("customUI/customUI.xml", None)
    parts[RIBBON_PART] = RIBBON.read_bytes()
    rels = parts["_rels/.rels"].decode("utf-8")
    rels = re.sub(r'<Relationship [^>]*ui/extensibility"[^>]*/>', "", rels)
    rels = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdBulkAssistRibbon" Type="{RIBBON_REL_TYPE}" Target="{RIBBON_PART}" /></Relationships>',
    )
    parts["_rels/.rels"] = rels.encode("utf-8")
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    workbook = workbook.replace('name="_myaddin.conf"', 'name="_bulkassist.conf"')
    workbook = re.sub(r"<mc:AlternateContent.*?</mc:AlternateContent>", "", workbook)  # the template's build path
    parts["xl/workbook.xml"] = workbook.encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
        order = ["[Content_Types].xml", "_rels/.rels"] + sorted(n for n in parts if n not in
                                                               ("[Content_Types].xml", "_rels/.rels"))
        for name in order:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, parts[name])
    target.write_bytes(buffer.getvalue())


def build(out: Path = DEFAULT_OUT) -> Path:
    """Build the add-in at `out` and return its path."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "BulkAssist.xlam"
        shutil.copyfile(template_path(), work)
        _edit_vba(work)
        _rewrite_package(work, Path(out))
    return Path(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help="where to write the .xlam")
    args = parser.parse_args()
    print(build(args.out))


if __name__ == "__main__":
    main()
