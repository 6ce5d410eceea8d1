"""The API as FastAPI and OpenAPI users expect it: every answer has a declared shape, real answers match
it, and the document is browsable with Swagger UI and ReDoc, offline, in a real browser."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Iterator

import openpyxl
import pytest
import requests
from jsonschema import Draft202012Validator

from tests.test_server_lifecycle import CLIENT_HEADER

API = "/api/v1"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory, request) -> Iterator[object]:
    """A server of this module's own (the walk changes settings, users and lists), on each database."""
    from bulkassist.server.launch import start_server_process
    from tests.conftest import SERVER_ENV

    url = None
    if request.param == "postgres":
        from tests.conftest import _pg_available, drop_pg_schema, fresh_pg_schema

        if not _pg_available():
            pytest.skip("PostgreSQL is not reachable")
        url, schema = fresh_pg_schema()
    server = start_server_process(url, data_dir=tmp_path_factory.mktemp("openapi"), env=SERVER_ENV)
    yield server
    server.stop()
    if url:
        drop_pg_schema(schema)


def operations(doc: dict) -> Iterator[tuple[str, str, dict]]:
    for path, ops in doc["paths"].items():
        for method, operation in ops.items():
            yield method.upper(), path, operation


def test_every_operation_declares_the_shape_of_its_success_answer(sqlite_server):
    """No bare `{}` and no "any object": each success answer of each content type has a schema, JSON
    ones a model (`$ref`) and files a string."""
    doc = requests.get(f"{sqlite_server.url}{API}/openapi.json", timeout=30).json()
    shapeless = []
    for method, path, operation in operations(doc):
        success = [status for status in operation["responses"] if status.startswith("2")]
        assert success, f"{method} {path} declares no success answer"
        for status in success:
            content = operation["responses"][status].get("content")
            if not content:
                shapeless.append(f"{method} {path} {status}: no content")
            for media, body in (content or {}).items():
                schema = body.get("schema") or {}
                described = ("$ref" in json.dumps(schema) if media == "application/json"
                             else schema.get("type") == "string")
                if not described:
                    shapeless.append(f"{method} {path} {status} {media}: {schema}")
    assert shapeless == []
    ids = [operation["operationId"] for _, _, operation in operations(doc)]
    assert len(ids) >= 59 and len(set(ids)) == len(ids)
    assert "imports_commit" in ids  # tag_function: the method name a generated client gets


def test_answer_models_refuse_fields_they_do_not_declare(sqlite_server):
    """A model that silently dropped a service's field would change the answer: the document says
    `additionalProperties: false` for every answer object, and the server keeps to it."""
    doc = requests.get(f"{sqlite_server.url}{API}/openapi.json", timeout=30).json()
    schemas = doc["components"]["schemas"]
    open_models = [name for name, schema in schemas.items()
                   if schema.get("type") == "object" and "properties" in schema and name not in {"ErrorDetail"}
                   and "additionalProperties" not in schema and not _is_request(name, doc)]
    assert open_models == [], "answer models subclass bulkassist.server.schemas.Answer"


def _is_request(name: str, doc: dict) -> bool:
    ref = f'"#/components/schemas/{name}"'
    return any(ref in json.dumps(op.get("requestBody", {})) for _, _, op in operations(doc)) or name.startswith(
        ("HTTPValidationError", "ValidationError", "Body_"))


class Walk:
    """Real calls to every operation; each answer is checked against the schema the document declares
    for its operation, status and content type."""

    def __init__(self, server: object):
        self.server = server
        self.doc = requests.get(f"{server.url}{API}/openapi.json", timeout=30).json()
        self.called: set[tuple[str, str]] = set()
        self.patterns = [(method, path, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"))
                         for method, path, _ in operations(self.doc)]

    def __call__(self, method: str, path: str, role: str = "admin", expect: int | None = None, **kwargs) -> object:
        headers = {"Authorization": f"Bearer {self.server.tokens[role]}", **kwargs.pop("headers", {})}
        answer = requests.request(method, f"{self.server.url}{API}{path}", headers=headers, timeout=60, **kwargs)
        assert answer.status_code < 300 and (expect is None or answer.status_code == expect), \
            f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        template = next(t for m, t, rx in self.patterns if m == method and rx.match(f"{API}{path.split('?')[0]}"))
        declared = self.doc["paths"][template][method.lower()]["responses"][str(answer.status_code)]["content"]
        media = answer.headers["content-type"].split(";")[0]
        assert media in declared, f"{method} {template} answered {media}; the document says {list(declared)}"
        self.called.add((method, template))
        if media == "application/json":
            body = answer.json()
            schema = {**declared[media]["schema"], "components": self.doc["components"]}
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in Draft202012Validator(schema).iter_errors(body)]
            assert errors == [], f"{method} {template}: the answer does not match its schema: {errors[:5]}"
            return body
        return answer.content

    def imported(self, domain: str, header: list[str], rows: list[list[str]], operation: str = "add",
                 role: str = "admin") -> int:
        """An import of `rows`, uploaded and validated; its id."""
        imp = self("POST", "/imports", role, json={"domain": domain, "operation": operation, "file_name": "f.csv"})
        self("POST", f"/imports/{imp['id']}/batches", role,
             json={"batch_id": "1", "first_row": 0, "headers": header, "rows": rows})
        info = self("POST", f"/imports/{imp['id']}/validate", role)
        deadline = time.monotonic() + 60
        while info["status"] == "Validating":  # the validation job runs; the client polls
            assert time.monotonic() < deadline, f"import {imp['id']} is still Validating"
            time.sleep(0.05)
            info = self("GET", f"/imports/{imp['id']}", role)
        return imp["id"]

    def finished(self, import_id: int, role: str = "admin") -> dict:
        deadline = time.monotonic() + 60
        while True:
            info = self("GET", f"/imports/{import_id}", role)
            if info["status"] not in ("Committing", "Reverting") or time.monotonic() > deadline:
                return info
            time.sleep(0.2)


@pytest.mark.parametrize("own_server", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_real_answers_of_every_operation_match_the_document(own_server):
    call = Walk(own_server)
    tag = uuid.uuid4().hex[:8].upper()

    # catalog
    call("GET", "/health")
    me = call("GET", "/me")
    assert me["admin"] is True
    call("GET", "/domains")
    spec = call("GET", "/domains/client")
    assert [f["name"] for f in spec["fields"]][:2] == ["Client ID", "First Name"]
    call("GET", "/domains/client/lists")
    call("GET", "/lists/language")
    assert call("GET", "/lists/language/suggest?q=Englsh")["candidates"][0]["value"] == "English"
    assert call("GET", "/courses?search=MA")["courses"]
    assert call("GET", "/domains/client/template?format=csv").decode("utf-8-sig").startswith("Client ID")
    book = openpyxl.load_workbook(io.BytesIO(call("GET", "/domains/client/template")))
    assert book.active["A1"].value == "Client ID"
    call("GET", "/usage")
    assert len(call("GET", "/usage/daily?days=7")["days"]) == 7

    # an import through its life
    header = CLIENT_HEADER
    imp = call.imported("client", header, [["", "Maria", f"L{tag}", "02/03/1990", "English", ""],
                                           ["", "Bad", "List", "01/01/1990", "Englsh", ""]])
    spare = call("POST", "/imports", json={"domain": "client", "operation": "add", "file_name": "spare.csv"})["id"]
    call("POST", f"/imports/{spare}/batches", json={"batch_id": "b1", "first_row": 0, "headers": header,
                                                     "rows": [["", "A", "B", "", "", ""]]})
    assert call("DELETE", f"/imports/{spare}/batches/b1")["rows"] == 1
    call("PATCH", f"/imports/{imp}", json={"options": {}})
    call("GET", f"/imports/{imp}/review")
    call("GET", f"/imports/{imp}/changes")
    call("GET", f"/imports/{imp}/mapping")
    call("PUT", f"/imports/{imp}/mapping", json={"mapping": {}})
    fixed = call("POST", f"/imports/{imp}/fix", json={"column": "Language", "value": "Englsh",
                                                      "new_value": "English", "remember": True})
    assert fixed["cells_changed"] == 1
    call("PATCH", f"/imports/{imp}/rows/3", json={"values": {"First Name": "Good"}})
    call("GET", f"/imports/{imp}/confirmation")
    assert call("POST", f"/imports/{imp}/commit", expect=202)["id"] == imp
    assert call.finished(imp)["status"] == "Committed"
    call("GET", f"/imports/{imp}/results?format=json")
    assert call("GET", f"/imports/{imp}/results").decode("utf-8-sig").startswith("Row Number")
    call("GET", f"/imports/{imp}/errors?format=json")
    call("GET", f"/imports/{imp}/errors?format=xlsx")
    call("GET", "/imports?domain=client")
    rows = call("GET", f"/imports/{imp}/records")["items"]
    record_id = rows[0]["record_id"]
    call("GET", "/records/client?page_size=5")
    call("GET", f"/records/client/{record_id}")
    assert call("GET", "/domains/qualification/export?format=xlsx")[:2] == b"PK"
    call("GET", f"/imports/{imp}/undo")
    call("POST", f"/imports/{imp}/undo", expect=202, json={"force": False})
    assert call.finished(imp)["status"] == "Reverted"
    call("GET", f"/imports/{imp}/undo/results?format=json")
    cancelled = call.imported("client", header, [["", "C", f"L{tag}", "", "", ""]])
    assert call("POST", f"/imports/{cancelled}/cancel")["status"] == "Cancelled"

    # a commit that fails (the contact's business client does not exist), then a retry
    orphan = call.imported("contact", ["Contact Reference", "Client Reference", "First Name", "Last Name"],
                           [[f"C{tag}", f"NO-{tag}", "Ann", "Lee"]])
    call("POST", f"/imports/{orphan}/commit", expect=202)
    assert call.finished(orphan)["status"] == "CommitFailed"
    call("POST", f"/imports/{orphan}/retry", expect=202)
    call.finished(orphan)

    # mappings and remembered values
    saved = call("POST", "/mappings/client", json={"name": f"m{tag}", "columns": {"Given": "First Name"},
                                                   "headers": ["Given", "Surname"]})
    call("GET", "/mappings/client")
    call("PATCH", f"/mappings/client/{saved['id']}", json={"name": f"n{tag}"})
    assert call("DELETE", f"/mappings/client/{saved['id']}")["deleted"] is True
    remembered = call("GET", "/remembered-values?domain=client")
    assert call("DELETE", f"/remembered-values/{remembered[0]['id']}")["deleted"] is True

    # administration
    call("GET", "/admin/settings")
    call("PUT", "/admin/settings", json={"undo_retention_days": 30})
    user = call("POST", "/admin/users", expect=201, json={"name": f"U{tag}"})
    call("GET", "/admin/users")
    call("POST", f"/admin/users/{user['id']}/tokens", expect=201)
    assert call("PUT", f"/admin/users/{user['id']}/password", json={"password": f"pw-{tag}-long"})["user"] == f"U{tag}"
    signed_in = call("POST", "/sessions", expect=201, json={"name": f"U{tag}", "password": f"pw-{tag}-long"})
    assert call("DELETE", "/sessions/current", headers={"Authorization": f"Bearer {signed_in['token']}"}
                )["signed_out"] is True
    call("POST", "/admin/groups", expect=201, json={"name": f"G{tag}", "import_domains": ["client"]})
    call("GET", "/admin/groups")
    call("PUT", f"/admin/lists/L{tag}", json=[{"value": "a", "label": "A"}])
    call("POST", "/admin/credit-types", expect=201, json={"name": f"T{tag}", "max_credits": 1.0})
    call("PUT", f"/admin/credit-types/T{tag}", json={"max_credits": 2.0, "variable": True})
    call("GET", "/admin/credit-types")
    call("GET", "/admin/locks")
    call("POST", "/admin/locks/course_record/unlock")
    hook = call("POST", "/admin/webhooks", expect=201, json={"url": "http://127.0.0.1:9/hook"})
    call("GET", "/admin/webhooks")
    call("GET", "/admin/webhooks/deliveries")
    call("DELETE", f"/admin/webhooks/{hook['id']}")

    missed = sorted(f"{m} {p}" for m, p, _ in operations(call.doc) if (m, p) not in call.called)
    assert missed == [], "call these operations in this test, so their real answers are checked too"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    from bulkassist.dashboard.browser import launch_chromium

    with playwright.sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.mark.xdist_group("openapi_docs")  # one Chromium for both pages, on one xdist worker
@pytest.mark.parametrize("page_path, shows", [
    ("/docs", "/api/v1/imports/{import_id}/commit"),  # Swagger UI: the list of operations
    ("/redoc", "Confirm & Import: write the valid rows"),  # ReDoc: an operation's description
])
def test_docs_pages_render_the_api_offline(sqlite_server, browser, page_path, shows):
    """Swagger UI and ReDoc draw the document in a real browser without any request leaving the server."""
    page = browser.new_page()
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(sqlite_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    try:
        page.goto(f"{sqlite_server.url}{API}{page_path}")
        page.get_by_text(shows, exact=False).first.wait_for(timeout=30_000)
    finally:
        page.close()
    assert outside == []


def test_redoc_page_names_its_document(sqlite_server):
    answer = requests.get(f"{sqlite_server.url}{API}/redoc", timeout=30)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert f'spec-url="{API}/openapi.json"' in answer.text
    script = re.search(r'<script src="([^"]+)"', answer.text).group(1)
    assert requests.get(f"{sqlite_server.url}{script}", timeout=30).status_code == 200



def test_a_domains_spec_is_answered_exactly_as_the_spec_writes_it(sqlite_server):
    """The spec's model describes `Domain.to_dict` and changes nothing in it (no field dropped, no 0
    turned into 0.0), so `Domain.from_dict` rebuilds the very spec the server enforces."""
    from bulkassist.domains import BUILTIN
    from bulkassist.spec import Domain

    headers = {"Authorization": f"Bearer {sqlite_server.tokens['admin']}"}
    enabled = [d["name"] for d in requests.get(f"{sqlite_server.url}{API}/domains", headers=headers, timeout=30
                                               ).json() if d["enabled"]]
    assert len(enabled) >= 5
    for name in enabled:
        answer = requests.get(f"{sqlite_server.url}{API}/domains/{name}", headers=headers, timeout=30)
        # as JSON text: 0 and 0.0 are equal in Python, not to a client that reads types
        assert json.dumps(answer.json(), sort_keys=True) == json.dumps(BUILTIN[name].to_dict(), sort_keys=True), name
        assert Domain.from_dict(answer.json()) == BUILTIN[name]
