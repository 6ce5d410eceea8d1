"""The notebooks that ship in notebooks/: the quickstart runs headless (nbclient) against a real demo server."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from bulkassist.dashboard.launch import URL_ENV

TOKEN_ENV = "BULKASSIST_TOKEN"  # what the quickstart notebook reads its API token from

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _output_of(notebook: nbformat.NotebookNode, source_part: str) -> str:
    """The text a cell showed (its result and what it printed), found by a piece of its source."""
    cell = next(c for c in notebook.cells if c.cell_type == "code" and source_part in c.source)
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", "") + output.data.get("text/html", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_quickstart_validates_fixes_submits_and_reads_results(sqlite_server: object, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, sqlite_server.url)
    monkeypatch.setenv(TOKEN_ENV, sqlite_server.tokens["importer"])
    notebook = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    assert "'errors': 4" in _output_of(notebook, 'report = bulkassist.validate(clients')
    styled = _output_of(notebook, "report.styled()")
    assert "#FFC7CE" in styled.upper()  # invalid cells are painted red in the Styler
    chart = next(c for c in notebook.cells if c.cell_type == "code" and c.source == "report.plot()")
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in chart.outputs)
    assert "ProblemChart" in _output_of(notebook, "report.plot()")
    assert "'errors': 1" in _output_of(notebook, "fixed.loc[to_row(3)")
    assert "after the edit: Insert" in _output_of(notebook, "imp.edit_row(")
    assert "'Committed'" in _output_of(notebook, "final = imp.commit(")
    results = _output_of(notebook, "results = imp.results()")
    assert results.count("Success") >= 5 and "Failed" not in results
    assert "Successful: 100.0%  Errors: 0" in _output_of(notebook, "imp.successful_percent")
    assert "/api/v1/records/client/" in _output_of(notebook, "records = imp.records()")
    assert "'First Name'" in _output_of(notebook, 'client.record("client"')
    assert "clients-from-notebook.csv" in _output_of(notebook, "client.history(")
