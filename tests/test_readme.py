"""The README's examples run as written, on the files shipped in `examples/`, against a real server.

Each test takes a code block out of README.md by a line it holds, runs it (shell lines through the real
`bulkassist` command in a subprocess, Python blocks in a fresh interpreter) in a copy of `examples/`,
and compares what it prints or returns with what the README shows. Blocks with a server's URL and a
placeholder token ("ba_...", "URL and token printed by `demo`") get the test server's.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCED = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def block(lang: str, holding: str) -> str:
    """The one fenced block of language `lang` ("" for plain) holding the text `holding`."""
    found = [body for kind, body in FENCED.findall(README) if kind == lang and holding in body]
    assert len(found) == 1, f"{len(found)} README {lang or 'plain'} blocks hold {holding!r}"
    return found[0]


def indented(holding: str) -> list[str]:
    """The lines of the README's indented (4-space) block holding `holding`."""
    for part in re.split(r"\n\n", README):
        lines = part.split("\n")
        if all(line.startswith("    ") for line in lines if line) and holding in part:
            return [line[4:] for line in lines if line.strip()]
    raise AssertionError(f"no indented README block holds {holding!r}")


@pytest.fixture
def examples(tmp_path) -> Path:
    """A copy of examples/, so the commands' output files land in a fresh folder."""
    return Path(shutil.copytree(ROOT / "examples", tmp_path / "examples"))


def shell(line: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """One README command line (its `# comment` dropped), `bulkassist` being this checkout's command."""
    argv = shlex.split(line, comments=True)
    assert argv[0] == "bulkassist", line
    return run_bulkassist(argv, cwd, env)


def run_bulkassist(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
                   answer: str | None = None) -> subprocess.CompletedProcess:
    """`bulkassist ARGS...` through this checkout's command; `answer` is typed at its prompts (none: no stdin)."""
    stdin = {"input": answer} if answer is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run([sys.executable, "-m", "bulkassist", *argv[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})}, **stdin)


def python(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    ran = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=600,
                         env={**os.environ, **(env or {})})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran


def with_server(code: str, server, role: str = "importer") -> str:
    """`code` with the README's demo URL and placeholder token replaced by the test server's."""
    assert '"ba_..."' in code and '"http://127.0.0.1:8000"' in code
    return code.replace('"http://127.0.0.1:8000"', repr(server.url)).replace('"ba_..."', repr(server.tokens[role]))


def shown_value(code: str, statement: str) -> object:
    """The value the README's comment after `statement` shows (`report.summary  # {...}`)."""
    line = next(x for x in code.splitlines() if x.startswith(statement))
    return ast.literal_eval(line.split("#", 1)[1].strip())


def test_examples_clients_xlsx_has_the_damage_the_readme_describes():
    """A number cell that lost an SSN's leading zero, a phone typed as a number, an ISO date, a header with a
    trailing space."""
    sheet = openpyxl.load_workbook(ROOT / "examples" / "clients.xlsx").active
    assert sheet["C1"].value == "Last Name " and sheet["D5"].value == 12345678 and sheet["F3"].value == 7271231234
    assert sheet["E3"].value == "1990-02-03"


def test_validate_prints_exactly_what_the_readme_shows(examples):
    commands = [x for x in block("bash", "bulkassist validate clients.xlsx").splitlines() if x.strip()]
    assert commands[0].startswith("cd examples")
    result = shell(commands[1], examples)
    assert result.stdout == block("", "clients.xlsx · Client · add"), result.stderr
    assert result.returncode == 1  # the file has errors, as the README's exit codes say
    assert (examples / "clients.checked.xlsx").exists() and (examples / "errors.csv").exists()


def test_fix_template_domains_and_lists_run_as_written(examples):
    outcomes = {}
    for line in block("bash", "bulkassist fix clients.xlsx").splitlines():
        result = shell(line, examples)
        outcomes[shlex.split(line)[1]] = result
    fixed = outcomes["fix"]
    assert fixed.returncode == 1, fixed.stderr  # written; the errors left need a person (exit codes of fix)
    assert "fixed row 3 Ethnicity: 'asian' -> 'Asian'" in fixed.stdout and (examples / "clients.fixed.xlsx").exists()
    assert outcomes["template"].returncode == 0 and (examples / "assignments.xlsx").exists()
    assert outcomes["domains"].returncode == 0 and "client_assignment" in outcomes["domains"].stdout
    assert "Language" in json.loads(outcomes["lists"].stdout)


def test_the_notebook_api_block_runs_and_its_summary_is_the_one_shown(examples):
    code = block("python", 'report = bulkassist.validate("clients.xlsx"')
    summary = shown_value(code, "report.summary")
    python(code + f"\nassert report.summary == {summary!r}, report.summary\n", examples)
    assert (examples / "errors.csv").read_text(encoding="utf-8-sig").startswith("Row")


def test_the_dataframe_blocks_run_against_a_real_server(sqlite_server, examples):
    local = block("python", "people = pd.DataFrame(")
    remote = block("python", 'client = bulkassist.Client(os.environ["BULKASSIST_URL"]')
    checks = """
import pandas, pyarrow
assert isinstance(report.errors_frame(), pandas.DataFrame) and isinstance(arrow.results_frame(), pyarrow.Table)
assert isinstance(lazy.errors_frame(), pl.DataFrame) and isinstance(imp.results(), pandas.DataFrame)
assert ("english", "English") in list(zip(changes["value"], changes["suggestion"]))
"""
    python(local + remote + checks, examples,
           env={"BULKASSIST_URL": sqlite_server.url, "BULKASSIST_TOKEN": sqlite_server.tokens["importer"]})


def test_the_notebook_walkthrough_runs_against_a_real_server(sqlite_server, examples):
    code = with_server(block("python", 'imp = client.start_import("clients.xlsx", domain="client", '
                                       'operation="add_update")\nimp.review()'), sqlite_server, "admin")
    checks = """
assert imp.status()["status"] == "Committed", imp.info
statuses = dict(zip(imp.results()["Row Number"].to_list(), imp.results()["Status"].to_list()))
assert statuses[2] == "Success" and statuses[5] == "Failed", statuses  # Ann's SSN still needs a person
assert not [i for i in imp.review()["issues"] if i["row"] == 5 and i["column"] == "Date of Birth"]  # edited
"""
    python(code + checks, examples)


def run_in_order(lines: list[str], cwd: Path, env: dict[str, str]) -> list[tuple[str, subprocess.CompletedProcess]]:
    """The README's command lines one after another; "42" stands for the import the last `--validate-only`
    created ("Import 42: ..."), as the README says. A confirmation prompt is answered as a person would (y)."""
    ran, import_id = [], None
    for line in lines:
        argv = shlex.split(line, comments=True)
        if argv[0] == "export":  # export BULKASSIST_URL=... BULKASSIST_TOKEN=...: given as `env`
            assert "BULKASSIST_TOKEN=ba_..." in line
            continue
        assert argv[0] == "bulkassist", line
        if "42" in argv:
            assert import_id, f"{line!r} comes before a --validate-only line that creates the import"
            argv = [import_id if a == "42" else a for a in argv]
        target = None
        if ">" in argv:  # `... > history.json`: the shell's redirection of stdout
            argv, target = argv[: argv.index(">")], argv[argv.index(">") + 1]
        done = run_bulkassist(argv, cwd, env, answer="y\n")
        if target:
            (cwd / target).write_text(done.stdout, encoding="utf-8")
        if "--validate-only" in argv:
            import_id = re.search(r"^Import (\d+): ", done.stdout, re.M).group(1)  # type: ignore[union-attr]
        ran.append((line, done))
    return ran


def test_the_column_mapping_commands_run_on_the_shipped_case_files(sqlite_server, examples):
    env = {"BULKASSIST_URL": sqlite_server.url, "BULKASSIST_TOKEN": sqlite_server.tokens["importer"]}
    lines = indented("bulkassist validate cases.csv -d case")
    shipped = {p.name for p in examples.iterdir()}
    for line in lines:
        assert {a for a in shlex.split(line, comments=True) if a.endswith((".csv", ".json"))} - {"cases.fixed.csv"} \
            <= shipped, line
    ran = dict(run_in_order(lines, examples, env))
    assert len(ran) == 9, list(ran)
    first, mapped, fixed, submitted, reused, typo, page, listed, applied = ran.values()
    assert first.returncode == 1 and "'Mobile': proposed CellPhoneNumber" in first.stdout
    assert mapped.returncode == 0 and "'Notes' is not imported" in mapped.stdout, mapped.stdout + mapped.stderr
    assert fixed.returncode == 0 and (examples / "cases.fixed.csv").exists(), fixed.stderr
    assert submitted.returncode == 0 and "Committed" in submitted.stdout, submitted.stdout + submitted.stderr
    assert reused.returncode == 0 and "Committed" in reused.stdout, reused.stdout + reused.stderr
    assert "Columns mapped with your saved mapping 'Orientation cases'" in reused.stdout
    assert typo.returncode == 1 and "'Actve'" in typo.stdout, typo.stdout + typo.stderr  # the typo is an error
    assert page.returncode == 0 and "CellPhoneNumber" in page.stdout, page.stdout + page.stderr
    assert "Orientation cases" in listed.stdout
    assert applied.returncode == 0 and "1 cell" in applied.stdout, applied.stdout + applied.stderr


def test_the_column_mapping_notebook_block_runs_on_the_shipped_case_files(sqlite_server, examples):
    code = block("python", 'report = bulkassist.validate("cases.csv", "case", "add"')
    checks = """
assert report.unmapped == [] and report.mapping['Notes'] == '-'
assert "Short cases" not in [m["name"] for m in client.mappings("case")]   # saved, then deleted
assert remembered[0]["id"] not in [r["id"] for r in client.remembered_values("case")]   # forgotten
assert imp.review()["summary"]["errors"] == 0, imp.review()["summary"]   # 'Actve' fixed by apply_to_all
"""
    python(with_server(code, sqlite_server, "admin") + checks, examples)


def test_the_terminal_block_runs_in_order_on_the_shipped_files(sqlite_server, examples):
    """`submit` ... `export`, as written: 42 is the import `--validate-only` prints; failures say why."""
    env = {"BULKASSIST_URL": sqlite_server.url, "BULKASSIST_TOKEN": sqlite_server.tokens["admin"]}
    lines = indented("bulkassist submit clients.xlsx --domain client --operation add_update")
    review_only = next(line for line in lines if "--validate-only" in line)
    # The --format json lines, on an import still in review (the block above ends with it committed).
    ran = run_in_order(lines + [review_only] + indented("bulkassist history --format json > history.json"),
                       examples, env)
    by_command = {}
    for line, done in ran:
        by_command.setdefault(shlex.split(line, comments=True)[1], []).append(done)
        assert "Traceback" not in done.stderr, line + done.stderr
        assert done.returncode in (0, 1) or done.stderr.startswith("error: "), line + done.stderr
    submitted = by_command["submit"]
    assert [s.returncode for s in submitted] == [1, 0, 1, 1]  # errors skipped after asking; assigned; review
    assert "Records Inserted 3" in submitted[1].stdout and "Committed" in submitted[0].stdout
    edit, edit_json = by_command["edit"]
    assert edit.returncode == 1 and "row 3" in edit.stdout.lower(), edit.stdout + edit.stderr  # the phone remains
    assert json.loads(edit_json.stdout)["row"] == 3, edit_json.stdout + edit_json.stderr
    assert {h["status"] for h in json.loads((examples / "history.json").read_text())["items"]} >= {"Committed"}
    start, = by_command["start"]
    assert "Committed" in start.stdout, start.stdout + start.stderr
    cancel, = by_command["cancel"]
    assert cancel.returncode == 2 and "already Committed" in cancel.stderr  # too late to cancel: says so
    retry, = by_command["retry"]
    assert retry.returncode == 2 and "only an import that ended CommitFailed" in retry.stderr
    assert all(s.returncode == 0 and "Committed" in s.stdout for s in by_command["status"])
    assert by_command["results"][0].returncode == 0 and (examples / "results.xlsx").exists()
    assert "Import Usage: today" in by_command["usage"][0].stdout
    assert by_command["records"][0].returncode == 0 and "row 5: Failed" in by_command["records"][0].stdout
    chosen, everything = by_command["export"]
    assert chosen.returncode == 0 and len(openpyxl.load_workbook(examples / "chosen.xlsx").active["A"]) == 3
    assert everything.returncode == 0 and (examples / "everything.csv").exists()
    assert [done.returncode for _, done in ran if "locks" in _ or "unlock" in _] == [0, 0]


def test_the_undo_block_runs_on_the_shipped_workbook(sqlite_server, examples):
    code = block("python", "imp.undo_plan()")
    assert 'client.start_import("clients.xlsx"' in code
    client = f"import bulkassist\nclient = bulkassist.Client({sqlite_server.url!r}, {sqlite_server.tokens['importer']!r})\n"
    checks = """
assert imp.status()["status"] == "Reverted", imp.info
assert imp.undo_results()["Outcome"].to_list() == ["Removed"]  # the one client the import added
"""
    python(client + code + checks, examples)
