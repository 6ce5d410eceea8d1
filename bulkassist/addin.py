"""The Excel add-in shipped inside the package, and where Excel loads add-ins from.

The wheel carries `data/BulkAssist.xlam`, built from `addin/` by `addin/build.py` and checked in
(`tests/test_excel_addin.py` fails when it no longer matches its sources), so a Windows user who has only
the wheel installs the add-in with `bulkassist addin install` — no checkout, no build tools, no
xlwings command. Nothing here imports xlwings: `bulkassist addin path` works with the base install.

Installing is a copy into the user's XLSTART folder, which Excel for Windows opens at every start
(the same folder `xlwings addin install` uses). Excel for Mac has no folder it loads add-ins from
without asking, and Excel does not run on Linux: there the caller names the folder (`dest`).
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib import resources
from pathlib import Path

from bulkassist.errors import BulkAssistError

ADDIN_NAME = "BulkAssist.xlam"


def addin_path() -> Path:
    """The packaged BulkAssist.xlam."""
    path = Path(str(resources.files("bulkassist") / "data" / ADDIN_NAME))
    if not path.is_file():
        raise BulkAssistError(f"{path} is missing from this installation of bulkassist; reinstall it "
                              f"(pip install --force-reinstall bulkassist-*.whl) or build the add-in from a "
                              f"checkout with `python addin/build.py`")
    return path


def xlstart_folder() -> Path:
    """The current user's Excel start-up folder on Windows (%APPDATA%\\Microsoft\\Excel\\XLSTART)."""
    if sys.platform != "win32":
        where = ("Excel for Mac: in Excel choose Tools > Excel Add-ins > Browse and pick it"
                 if sys.platform == "darwin" else "Excel does not run on this system: copy it to a Windows PC")
        raise BulkAssistError(
            f"`bulkassist addin install` copies the add-in into Excel for Windows' XLSTART folder, and this is "
            f"not Windows ({sys.platform}). The add-in is {addin_path()}; {where}, or name a folder with "
            f"`bulkassist addin install --dest FOLDER`.")
    appdata = os.environ.get("APPDATA")
    if not appdata:
        raise BulkAssistError("APPDATA is not set, so the XLSTART folder is unknown; name it with "
                              "`bulkassist addin install --dest %APPDATA%\\Microsoft\\Excel\\XLSTART`")
    return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"


def install_addin(dest: Path | None = None) -> Path:
    """Copy the packaged add-in into `dest` (default: the XLSTART folder) and return the copy's path.

    An older copy there is replaced (that is how the add-in is upgraded after a new wheel)."""
    source = addin_path()
    folder = Path(dest) if dest is not None else xlstart_folder()
    if folder.exists() and not folder.is_dir():
        raise BulkAssistError(f"{folder} is a file, not a folder: --dest names the folder the add-in goes into")
    target = folder / ADDIN_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except PermissionError as exc:
        raise BulkAssistError(f"could not write {target} ({exc.strerror}); if Excel is open, close it (it "
                              f"locks a loaded add-in) and run `bulkassist addin install` again") from None
    except OSError as exc:
        raise BulkAssistError(f"could not copy the add-in to {target}: {exc.strerror or exc}") from None
    return target
