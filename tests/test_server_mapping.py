"""Column mapping on the server over HTTP, on SQLite and PostgreSQL (issue 9, seed 001 steps 3-5): a case file
with non-standard headers mapped, saved and reused on shuffled columns; Custom.* and Do not import; unmapped
columns block the confirm; bulk fix and value memory; organisations never see each other's mappings."""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest
from click.testing import CliRunner

from bulkassist.cli import main
from bulkassist.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from bulkassist.status import ImportStatus


def case_file(tag: str, status: str = "ACTIVE") -> pl.DataFrame:
    """A seed-001 case file whose headers are not the template's ("Student Number", "Mobile", ...). `tag` makes the
    header set unique to the test: the servers are shared, and a saved mapping belongs to one header set."""
    ident = uuid.uuid4().hex[:6]
    return pl.DataFrame({
        "Student Number": [f"s{ident}1", f"s{ident}2", f"s{ident}3"],
        "FirstName": ["John", "Jane", "Ann"],
        "LastName": ["Doe", "Smith", "Lee"],
        "Mobile": ["333-333-4444", "333-333-5555", "333-333-6666"],
        f"Notes {tag}": ["met at orientation", "", "late"],
        "Deadline": ["01/02/2027", "02/03/2027", "03/04/2027"],
        "Status": [status, status, "ACTIVE"],
    })


def chosen(tag: str) -> dict[str, str]:
    return {"Student Number": "Identifier", "Mobile": "CellPhoneNumber", f"Notes {tag}": "-",
            "Deadline": "Custom.SANCTION_DEADLINE"}


def test_case_file_mapped_by_hand_is_saved_and_maps_the_next_file_with_shuffled_columns(client):
    # Proposals come first from the organisation's saved mappings: start from none (other tests of this
    # worker's shared server, the dashboard's and Excel's, save mappings of the same headers).
    for saved in client.mappings("case"):
        client.delete_mapping("case", saved["id"])
    tag = uuid.uuid4().hex[:8]
    imp = client.start_import(case_file(tag), "case", "add", name="cases.csv")
    assert imp.info["unmapped"] == ["Student Number", "Mobile", f"Notes {tag}", "Deadline"]
    with pytest.raises(Conflict, match="'Student Number', 'Mobile'"):
        imp.confirm()
    with pytest.raises(Conflict, match="not mapped"):
        imp.commit()
    proposal = imp.mapping().set_index("column")
    assert proposal.loc["Mobile", "target"] == "CellPhoneNumber" and proposal.loc["Mobile", "method"] == "values"
    assert proposal.loc["FirstName", "method"] == "exact" and proposal.loc["Student Number", "target"] is None
    assert proposal.loc["Deadline", "samples"][:2] == ["01/02/2027", "02/03/2027"]

    answer = imp.set_mapping(chosen(tag), save=True, name=f"Cases {tag}")
    assert answer["complete"] and answer["unmapped"] == [] and answer["saved_mapping"] == f"Cases {tag}"
    targets = {c["column"]: c["target"] for c in answer["columns"]}
    assert targets["Deadline"] == "Custom.SANCTION_DEADLINE" and targets[f"Notes {tag}"] == "-"
    issues = imp.issues
    assert issues.filter(pl.col("code") == "not_imported")["column"].to_list() == [f"Notes {tag}"]
    assert imp.confirm()["Rows to Import"] == 3
    assert imp.commit()["status"] == ImportStatus.COMMITTED

    second = case_file(tag)
    shuffled = second.select(list(reversed(second.columns)))
    again = client.start_import(shuffled, "case", "add", name="cases2.csv")
    assert again.info["saved_mapping"] == f"Cases {tag}" and again.info["unmapped"] == []
    mapped = again.mapping().set_index("column")
    assert set(mapped["method"]) == {"saved"}
    assert mapped.loc["Student Number", "target"] == "Identifier"
    assert again.summary["valid"] == 3 and again.commit()["committed"]["inserted"] == 3

    saved = [m for m in client.mappings("case") if m["name"] == f"Cases {tag}"]
    assert len(saved) == 1 and saved[0]["columns"]["Mobile"] == "CellPhoneNumber"
    renamed = client.rename_mapping("case", saved[0]["id"], f"Renamed {tag}")
    assert renamed["name"] == f"Renamed {tag}"
    client.delete_mapping("case", saved[0]["id"])
    assert not [m for m in client.mappings("case") if m["id"] == saved[0]["id"]]
    third = client.start_import(case_file(tag), "case", "add")
    assert third.info["unmapped"] and third.info["saved_mapping"] is None


def test_a_saved_mapping_for_other_headers_is_offered_as_partial_naming_the_missing_ones(client):
    tag = uuid.uuid4().hex[:8]
    imp = client.start_import(case_file(tag), "case", "add")
    imp.set_mapping(chosen(tag), save=True, name=f"Partial {tag}")
    fewer = case_file(tag).drop("Deadline").rename({"Mobile": "Mobile"})
    later = client.start_import(fewer.with_columns(pl.lit("x").alias(f"Room {tag}")), "case", "add")
    answer = later.mapping_answer()
    assert answer["saved_mapping"] is None and not answer["complete"]
    assert answer["partial"]["name"] == f"Partial {tag}" and answer["partial"]["missing"] == ["Deadline"]
    offered = {c["column"]: (c["target"], c["method"]) for c in answer["columns"]}
    assert offered["Student Number"] == ("Identifier", "saved")
    assert f"Room {tag}" in answer["unmapped"] and "Student Number" in answer["unmapped"]  # offered, not applied


def test_bad_mappings_are_refused_naming_column_and_target(client):
    imp = client.start_import(case_file(uuid.uuid4().hex[:8]), "case", "add")
    with pytest.raises(InvalidRequest, match="'Student Number' -> 'Client ID'.*not of Case imports"):
        imp.set_mapping({"Student Number": "Client ID"})
    with pytest.raises(InvalidRequest, match="'Student Number' -> 'Nope': Case has no field 'Nope'"):
        imp.set_mapping({"Student Number": "Nope"})
    with pytest.raises(InvalidRequest, match="'Student Number' and 'FirstName' both map to 'FirstName'"):
        imp.set_mapping({"Student Number": "FirstName"})
    assert imp.mapping_answer()["unmapped"][0] == "Student Number"  # nothing was changed


def test_bulk_fix_revalidates_once_and_remembered_values_apply_next_time_until_deleted(client, client_for):
    tag = uuid.uuid4().hex[:8]
    imp = client.start_import(case_file(tag, status="Actve"), "case", "add", mapping=chosen(tag))
    assert imp.summary["errors"] == 2
    answer = imp.apply_to_all("Status", "Actve", "ACTIVE", remember=True)
    assert answer["cells_changed"] == 2 and answer["summary"]["errors"] == 0 and answer["summary"]["valid"] == 3
    assert answer["remembered_id"]

    later = client.start_import(case_file(tag, status="Actve"), "case", "add", mapping=chosen(tag))
    assert later.summary["errors"] == 0
    applied = later.issues.filter(pl.col("code") == "remembered_value")
    assert applied["row"].to_list() == [2, 3] and set(applied["suggestion"]) == {"ACTIVE"}
    assert set(applied["severity"]) == {"warning"}  # listed, never silent

    listed = [v for v in client_for("admin").remembered_values("case") if v["id"] == answer["remembered_id"]]
    assert listed == [{**listed[0], "field": "Status", "value": "Actve", "new_value": "ACTIVE"}]
    with pytest.raises(PermissionDenied):
        client.forget_value(answer["remembered_id"])
    client_for("admin").forget_value(answer["remembered_id"])
    after = client.start_import(case_file(tag, status="Actve"), "case", "add", mapping=chosen(tag))
    assert after.summary["errors"] == 2


def test_another_organisation_sees_no_mapping_no_import_and_no_remembered_value(client, client_for):
    tag = uuid.uuid4().hex[:8]
    imp = client.start_import(case_file(tag, status="Actve"), "case", "add")
    imp.set_mapping(chosen(tag), save=True, name=f"Ours {tag}")
    fixed = imp.apply_to_all("Status", "Actve", "ACTIVE", remember=True)
    ours = [m for m in client.mappings("case") if m["name"] == f"Ours {tag}"][0]
    other = client_for("other_org")
    assert not [m for m in other.mappings("case") if m["id"] == ours["id"] or m["name"] == ours["name"]]
    assert not [v for v in other.remembered_values() if v["id"] == fixed["remembered_id"]]
    with pytest.raises(NotFound):
        other.get_import(imp.id).mapping_answer()
    with pytest.raises(NotFound):
        other.request("GET", f"/imports/{imp.id}/mapping")
    with pytest.raises(NotFound):
        other.delete_mapping("case", ours["id"])
    with pytest.raises(NotFound):
        other.rename_mapping("case", ours["id"], "stolen")
    theirs = other.start_import(case_file(tag, status="Actve"), "case", "add")
    assert theirs.info["saved_mapping"] is None and theirs.info["unmapped"]  # our mapping is not theirs
    assert theirs.issues.filter(pl.col("code") == "remembered_value").height == 0


def test_cli_maps_with_map_and_mapping_file_and_lists_saved_mappings(server, tmp_path):
    tag = uuid.uuid4().hex[:8]
    path = tmp_path / "cases.csv"
    case_file(tag).write_csv(path)
    env = {"BULKASSIST_URL": server.url, "BULKASSIST_TOKEN": server.tokens["importer"]}
    run = CliRunner().invoke

    local = run(main, ["validate", str(path), "-d", "case"], env=env)
    assert local.exit_code == 1 and "Columns not mapped" in local.output
    assert "'Mobile': proposed CellPhoneNumber (values" in local.output

    maps = [x for column, target in chosen(tag).items() if column != "Deadline"
            for x in ("--map", f"{column}={target}")]
    (tmp_path / "mapping.json").write_text(json.dumps({"Deadline": "Custom.SANCTION_DEADLINE"}))
    checked = run(main, ["validate", str(path), "-d", "case", *maps, "--mapping", str(tmp_path / "mapping.json")],
                  env=env)
    assert checked.exit_code == 0, checked.output
    assert f"'Notes {tag}' is not imported" in checked.output

    refused = run(main, ["submit", str(path), "-d", "case", "-p", "add", "--yes"], env=env)
    assert refused.exit_code == 1 and "not committed: map every column first" in refused.output

    submitted = run(main, ["submit", str(path), "-d", "case", "-p", "add", "--yes", *maps, "--mapping",
                           str(tmp_path / "mapping.json"), "--save-mapping", f"CLI {tag}"], env=env)
    assert submitted.exit_code == 0, submitted.output
    assert "Records Inserted 3" in submitted.output

    listed = run(main, ["mappings", "case", "--format", "json"], env=env)
    saved = [m for m in json.loads(listed.output) if m["name"] == f"CLI {tag}"]
    assert saved and saved[0]["columns"]["Student Number"] == "Identifier"
    table = run(main, ["mappings", "case"], env=env)
    assert f"CLI {tag}" in table.output and "Mobile -> CellPhoneNumber" in table.output

    case_file(tag).write_csv(path)
    reused = run(main, ["submit", str(path), "-d", "case", "-p", "add", "--yes"], env=env)
    assert reused.exit_code == 0 and f"saved mapping 'CLI {tag}'" in reused.output


def test_a_mapping_saved_without_an_import_maps_the_next_upload_and_stays_in_its_organisation(client, client_for):
    tag = uuid.uuid4().hex[:8]
    file = case_file(tag)
    columns = {**chosen(tag), "FirstName": "FirstName"}
    saved = client.save_mapping("case", columns, f"Excel {tag}", headers=file.columns)
    assert saved["columns"]["Mobile"] == "CellPhoneNumber" and saved["columns"]["LastName"] == "LastName"
    assert sorted(saved["headers"]) == sorted(file.columns)
    assert [m["id"] for m in client.mappings("case") if m["name"] == f"Excel {tag}"] == [saved["id"]]
    again = client.save_mapping("case", {**columns, "Mobile": "AltPhoneNumber"}, f"Excel {tag}", headers=file.columns)
    assert again["id"] == saved["id"] and again["columns"]["Mobile"] == "AltPhoneNumber"  # same headers: replaced

    imp = client.start_import(file.select(list(reversed(file.columns))), "case", "add")
    assert imp.info["saved_mapping"] == f"Excel {tag}" and imp.info["unmapped"] == []

    with pytest.raises(InvalidRequest, match="'Student Number' -> 'Client ID'.*not of Case imports"):
        client.save_mapping("case", {"Student Number": "Client ID"}, f"Bad {tag}", headers=file.columns)
    with pytest.raises(InvalidRequest, match="'Student Number' and 'FirstName' both map to 'FirstName'"):
        client.save_mapping("case", {"Student Number": "FirstName"}, f"Bad {tag}", headers=file.columns)
    with pytest.raises(InvalidRequest, match="column 'Nope' is not one of the headers"):
        client.save_mapping("case", {"Nope": "-"}, f"Bad {tag}", headers=file.columns)
    assert not [m for m in client.mappings("case") if m["name"] == f"Bad {tag}"]

    other = client_for("other_org")
    assert not [m for m in other.mappings("case") if m["id"] == saved["id"]]
    theirs = other.start_import(file, "case", "add")
    assert theirs.info["saved_mapping"] is None and theirs.info["unmapped"]
    with pytest.raises(PermissionDenied):
        client_for("viewer").save_mapping("case", columns, f"Viewer {tag}", headers=file.columns)


def test_start_import_window_options_change_after_the_mapping_and_revalidate(client, client_for):
    """Seed 001 step 4: the Start Import window sets Run Workflow on Import and Duplicate Case Action after the
    job was created and mapped; Cancel keeps the job Validated, to be started later with the options."""
    tag = uuid.uuid4().hex[:8]
    cases = case_file(tag)
    first = client.start_import(cases, "case", "add", name="first.csv", mapping=chosen(tag))
    assert first.commit()["status"] == ImportStatus.COMMITTED
    imp = client.start_import(cases, "case", "add", name="again.csv", mapping=chosen(tag))
    assert imp.info["options"] == {"run_workflow": False, "duplicate_action": "create"}
    assert imp.info["summary"]["valid"] == 3  # duplicates are created as provided

    info = imp.set_options(run_workflow=True, duplicate_action="skip")
    assert info["options"] == {"run_workflow": True, "duplicate_action": "skip"}
    assert info["status"] == ImportStatus.VALIDATED and info["summary"]["valid"] == 0  # revalidated: all skipped
    assert client.get_import(imp.id).info["options"]["duplicate_action"] == "skip"
    assert imp.mapping_answer()["complete"]  # the mapping is kept

    with pytest.raises(InvalidRequest, match="duplicate_action|Duplicate Case Action"):
        imp.set_options(duplicate_action="sometimes")
    outsider = client_for("other_org")
    with pytest.raises(NotFound):
        outsider.get_import(imp.id).set_options(run_workflow=False)
    info = imp.set_options(duplicate_action="create")
    assert info["options"] == {"run_workflow": True, "duplicate_action": "create"} and info["summary"]["valid"] == 3
    assert imp.commit()["status"] == ImportStatus.COMMITTED
    with pytest.raises(Conflict, match="before the commit"):
        imp.set_options(run_workflow=False)
