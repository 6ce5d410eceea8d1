"""The type checker over the package, as part of the test command: `python -m mypy bulkassist` is clean
(its settings are `[tool.mypy]` in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_mypy_finds_no_error_in_bulkassist():
    checked = subprocess.run([sys.executable, "-m", "mypy", "bulkassist"], cwd=ROOT, capture_output=True,
                             text=True, timeout=900)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found" in checked.stdout
