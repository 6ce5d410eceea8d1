"""Who may do what: tokens, licence, permission groups, enabled domains, organisations' isolation, limits."""

from __future__ import annotations

import pytest
import requests

from bulkassist.client import Client
from bulkassist.errors import (
    AuthenticationFailed,
    Conflict,
    DomainNotEnabled,
    NotFound,
    NotLicensed,
    PermissionDenied,
    UnknownDomain,
    UsageLimitExceeded,
)
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes, new_clients


def test_wrong_or_missing_token_is_401(server):
    with pytest.raises(AuthenticationFailed, match="token"):
        Client(server.url, "ba_not-a-token").domains()
    answer = requests.get(f"{server.url}/api/v1/domains", timeout=10)
    assert answer.status_code == 401 and "Authorization: Bearer" in answer.json()["error"]["message"]


def test_unlicensed_organisation_cannot_import(client_for):
    with pytest.raises(NotLicensed, match="licensed feature"):
        client_for("unlicensed").start_import(csv_bytes(CLIENT_HEADER, [["", "A", "B", "", "", ""]]),
                                              "client", "add", name="x.csv")


def test_viewer_without_import_permission_is_refused(client_for):
    viewer = client_for("viewer")
    assert viewer.domain("client").name == "client"  # reading specs is allowed
    with pytest.raises(PermissionDenied, match="permission group"):
        viewer.start_import(csv_bytes(CLIENT_HEADER, [["", "A", "B", "", "", ""]]), "client", "add", name="x.csv")


def test_payment_is_not_enabled_and_unknown_domains_are_named(client):
    with pytest.raises(DomainNotEnabled, match="not enabled"):
        client.domain("payment")
    listed = {d["name"]: d for d in client.domains()}
    assert listed["payment"]["enabled"] is False and listed["client"]["importable"] is True
    with pytest.raises(UnknownDomain, match="unknown domain"):
        client.domain("spaceships")


def test_usage_limit_refuses_the_commit_and_writes_nothing(client_for):
    limited = client_for("limited")
    rows = [["", f"F{i}", "Limit", "", "", ""] for i in range(6)]
    imp = limited.start_import(csv_bytes(CLIENT_HEADER, rows), "client", "add", name="six.csv")
    confirm = imp.confirm()
    assert confirm["Import Usage"]["limits"]["today"] == 5
    with pytest.raises(UsageLimitExceeded, match="limit today"):
        imp.commit()
    info = imp.status()
    assert info["status"] == "Validated" and info["committed"]["inserted"] == 0
    assert limited.usage()["today"] == confirm["Import Usage"]["today"]


def test_other_organisation_cannot_read_or_change_anything(client_for, server):
    owner = client_for("importer")
    cid = new_clients(owner, 1)[0]
    imp = owner.start_import(csv_bytes(CLIENT_HEADER, [["", "Secret", "Person", "", "", ""]]), "client", "add",
                             name="secret.csv")
    other = client_for("other_org")
    path = f"/imports/{imp.id}"
    calls = [
        ("GET", path, {}), ("GET", f"{path}/review", {}), ("GET", f"{path}/confirmation", {}),
        ("GET", f"{path}/results", {}), ("GET", f"{path}/errors", {}),
        ("POST", f"{path}/validate", {}), ("POST", f"{path}/commit", {}), ("POST", f"{path}/retry", {}),
        ("POST", f"{path}/cancel", {}), ("GET", f"{path}/undo", {}), ("GET", f"{path}/undo/results", {}),
        ("POST", f"{path}/undo", {"json": {"force": True}}),
        ("PATCH", f"{path}/rows/2", {"json": {"values": {"First Name": "Hacked"}}}),
        ("POST", f"{path}/batches", {"json": {"batch_id": "x", "first_row": 0, "headers": CLIENT_HEADER,
                                              "rows": []}}),
    ]
    for method, url, kwargs in calls:
        with pytest.raises(NotFound):
            other.request(method, url, idempotent=False, **kwargs)
    assert imp.id not in [i["id"] for i in other.imports()["items"]]
    # records: updating A's client from B is "Client ID does not exist"
    attempt = other.start_import(csv_bytes(CLIENT_HEADER, [[str(cid), "Hacked", "Name", "", "", ""]]),
                                 "client", "update", name="steal.csv")
    assert attempt.review()["issues"][0]["code"] == "not_found"
    # admin endpoints of A are not B's either
    with pytest.raises(PermissionDenied):
        other.request("GET", "/admin/users")
    assert imp.status()["status"] == "Validated"
    assert imp.review()["summary"]["valid"] == 1


def _refused_everywhere(reader: Client, import_id: int) -> None:
    """Every read of the import answers 403, and the history does not list it."""
    path = f"/imports/{import_id}"
    for url in (path, f"{path}/review", f"{path}/confirmation", f"{path}/results", f"{path}/errors",
                f"{path}/results?format=json", f"{path}/errors?format=xlsx", f"{path}/undo", f"{path}/undo/results"):
        with pytest.raises(PermissionDenied, match="import permission"):
            reader.request("GET", url)
    assert import_id not in [i["id"] for i in reader.imports()["items"]]


def test_a_viewer_reads_no_import_of_its_organisation(client_for):
    """The review and the errors file hold every value of the file, bad SSNs included."""
    owner = client_for("importer")
    imp = owner.start_import(csv_bytes(CLIENT_HEADER + ["SSN"], [["", "Private", "Person", "", "", "", "12345"]]),
                             "client", "add", name="ssn.csv")
    assert "12345" in owner.request("GET", f"/imports/{imp.id}/errors").text
    _refused_everywhere(client_for("viewer"), imp.id)
    assert client_for("viewer").imports()["total"] == 0


def test_an_importer_reads_only_imports_of_domains_it_may_import(client_for, server):
    import uuid

    admin = client_for("admin")
    group = f"Assignments only {uuid.uuid4().hex[:6]}"
    admin.request("POST", "/admin/groups", json={"name": group, "import_domains": ["client_assignment"]},
                  idempotent=False)
    created = admin.request("POST", "/admin/users", json={"name": f"u_{uuid.uuid4().hex[:6]}", "groups": [group]},
                            idempotent=False).json()
    narrow = Client(server.url, created["token"])
    theirs = admin.start_import(csv_bytes(CLIENT_HEADER, [["", "Admin", "Only", "", "", ""]]), "client", "add",
                                name="admin.csv")
    _refused_everywhere(narrow, theirs.id)
    mine = narrow.create_import("client_assignment", "add", file_name="mine.csv")
    assert mine.status()["status"] == "Created"
    readable = narrow.imports(page_size=500)["items"]
    assert mine.id in [i["id"] for i in readable] and {i["domain"] for i in readable} == {"client_assignment"}
    assert {theirs.id, mine.id} <= {i["id"] for i in admin.imports(page_size=500)["items"]}


def test_an_unlicensed_organisation_gets_no_template(client_for):
    unlicensed = client_for("unlicensed")
    for fmt in ("xlsx", "csv"):
        with pytest.raises(NotLicensed, match="licensed feature"):
            unlicensed.template("client", fmt=fmt)
    assert b"Client ID" in client_for("importer").template("client", fmt="csv")


def test_user_names_are_unique_within_an_organisation_only(client_for, server):
    """Creating a user named like another organisation's user works: a 409 would tell that it exists."""
    admin = client_for("admin")
    created = admin.request("POST", "/admin/users", json={"name": "other_org", "groups": ["Importers"]},
                            idempotent=False).json()
    namesake = Client(server.url, created["token"])
    assert namesake.me()["organisation"] == "Demo Organisation"
    assert client_for("other_org").me()["organisation"] == "Other Organisation"
    with pytest.raises(Conflict, match="'viewer' already exists"):
        admin.request("POST", "/admin/users", json={"name": "viewer"}, idempotent=False)


def test_other_organisation_has_its_own_select_lists(client_for):
    admin_b = client_for("other_org")
    with pytest.raises(PermissionDenied):
        admin_b.request("PUT", "/admin/lists/language", json=[{"value": "Klingon"}])
    admin_a = client_for("admin")
    before = admin_a.lists("client").options("language")
    admin_a.request("PUT", "/admin/lists/marketing_source",
                    json=[{"value": v, "label": lbl} for v, lbl in
                          admin_a.lists("client_assignment").options("marketing_source")] + [{"value": "Podcast"}])
    assert "Podcast" in [v for v, _ in admin_a.lists("client_assignment").options("marketing_source")]
    assert "Podcast" not in [v for v, _ in admin_b.lists("client_assignment").options("marketing_source")]
    assert admin_a.lists("client").options("language") == before


def test_admin_creates_a_user_whose_token_works(client_for, server):
    admin = client_for("admin")
    import uuid

    name = f"user_{uuid.uuid4().hex[:6]}"
    created = admin.request("POST", "/admin/users", json={"name": name, "groups": ["Importers"]},
                            idempotent=False).json()
    me = Client(server.url, created["token"]).me()
    assert me["user"] == name and "client" in me["import_domains"] and me["admin"] is False
    with pytest.raises(PermissionDenied):
        client_for("importer").request("POST", "/admin/users", json={"name": name + "x"}, idempotent=False)


def test_permission_groups_grant_import_per_domain(client_for, server):
    import uuid

    admin = client_for("admin")
    group = f"Assignments {uuid.uuid4().hex[:6]}"
    admin.request("POST", "/admin/groups", json={"name": group, "import_domains": ["client_assignment"]},
                  idempotent=False)
    created = admin.request("POST", "/admin/users", json={"name": f"u_{uuid.uuid4().hex[:6]}", "groups": [group]},
                            idempotent=False).json()
    user = Client(server.url, created["token"])
    assert {d["name"]: d["importable"] for d in user.domains()}["client"] is False
    with pytest.raises(PermissionDenied, match="'client'"):
        user.create_import("client", "add")
    assert user.create_import("client_assignment", "add").info["status"] == "Created"


def test_prefilled_templates_only_hold_the_organisations_own_clients(client_for):
    import io

    import polars as pl

    from tests.test_server_lifecycle import assignment_header

    owner, other = client_for("importer"), client_for("other_org")
    cid = new_clients(owner, 1)[0]
    owner.start_import(csv_bytes(assignment_header(), [[str(cid), "SCI110", "01", "Enrolled"]]),
                       "client_assignment", "add", name="s.csv").commit(timeout=60)
    mine = pl.read_csv(io.BytesIO(owner.template("client", course_code="SCI110", fmt="csv")), infer_schema=False)
    theirs = pl.read_csv(io.BytesIO(other.template("client", course_code="SCI110", fmt="csv")), infer_schema=False)
    assert str(cid) in mine["Client ID"].to_list()
    assert str(cid) not in theirs["Client ID"].to_list()


def test_cors_allows_only_the_origins_the_administrator_names(tmp_path):
    """Excel on the web (xlwings Lite) calls the API from the add-in's origin; nobody else's page may."""
    from bulkassist.server.launch import start_server_process

    allowed = "https://addin.xlwings.org"
    server = start_server_process(data_dir=tmp_path, env={"BULKASSIST_CORS_ORIGINS": allowed})
    try:
        def preflight(origin: str) -> requests.Response:
            return requests.options(f"{server.url}/api/v1/domains", timeout=10, headers={
                "Origin": origin, "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization"})

        assert preflight(allowed).headers.get("access-control-allow-origin") == allowed
        assert "access-control-allow-origin" not in preflight("https://evil.example").headers
        answer = requests.get(f"{server.url}/api/v1/domains", timeout=10, headers={
            "Origin": allowed, "Authorization": f"Bearer {server.tokens['importer']}"})
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == allowed
        assert requests.get(f"{server.url}/api/v1/domains", timeout=10, headers={"Origin": allowed}).status_code == 401
    finally:
        server.stop()
