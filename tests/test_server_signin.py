"""Passwords and sign-in sessions on a real server (SQLite and PostgreSQL): an administrator sets a password,
the user signs in for a session that expires, signs out; a wrong name and a wrong password get one answer;
a name is refused after repeated failures; no password or credential reaches the URL or the server's log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from bulkassist.client import Client
from bulkassist.errors import (
    InvalidRequest,
    PermissionDenied,
    SessionExpired,
    SignInFailed,
    TooManySignInAttempts,
)
from tests.conftest import SERVER_ENV, _pg_available, drop_pg_schema, fresh_pg_schema

pytestmark = pytest.mark.xdist_group("signin")  # its servers start once, on one xdist worker

SESSION_SECONDS, MAX_FAILURES = 4, 3
SIGNIN_ENV = {**SERVER_ENV, "BULKASSIST_SESSION_SECONDS": str(SESSION_SECONDS),
              "BULKASSIST_SIGNIN_MAX_FAILURES": str(MAX_FAILURES), "BULKASSIST_SIGNIN_LOCK_SECONDS": "600"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request, tmp_path_factory) -> Iterator[object]:
    """A server whose sessions last SESSION_SECONDS and whose names lock after MAX_FAILURES failures."""
    from bulkassist.server.launch import start_server_process

    url = schema = None
    if request.param == "postgres":
        if not _pg_available():
            pytest.skip("PostgreSQL is not reachable")
        url, schema = fresh_pg_schema()
    # At debug level the log holds every request line and more: the place a secret would leak to.
    running = start_server_process(url, data_dir=tmp_path_factory.mktemp("signin"), env=SIGNIN_ENV,
                                   log_level="debug")
    yield running
    running.stop()
    if schema:
        drop_pg_schema(schema)


def _user(server: object, org_admin: str = "admin", password: str | None = None) -> tuple[str, str]:
    """A new user of the admin's organisation with a password, set through the admin API: (name, password)."""
    admin = Client(server.url, server.tokens[org_admin])
    name = f"analyst-{uuid.uuid4().hex[:8]}"
    created = admin._json("POST", "/admin/users", json={"name": name, "groups": ["Importers"]})
    password = password or f"pw-{uuid.uuid4().hex}"
    answer = admin._json("PUT", f"/admin/users/{created['id']}/password", json={"password": password})
    assert answer == {"user": name, "sessions_ended": 0}
    return name, password


def test_sign_in_acts_as_the_user_until_sign_out(server: object) -> None:
    name, password = _user(server)
    client = Client.sign_in(server.url, name, password)
    me = client.me()
    assert (me["user"], me["organisation"]) == (name, "Demo Organisation")
    assert client.expires_at and client.expires_at.endswith("Z")
    client.history()  # an ordinary endpoint answers to the session credential
    client.sign_out()
    with pytest.raises(SessionExpired, match="ended"):
        client.me()


def test_wrong_name_and_wrong_password_get_the_same_answer(server: object) -> None:
    name, password = _user(server)
    answers = []
    for body in ({"name": name, "password": password + "x"}, {"name": f"nobody-{uuid.uuid4().hex}",
                                                               "password": password}):
        response = requests.post(f"{server.url}/api/v1/sessions", json=body, timeout=30)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and answers[0][1]["error"]["code"] == "sign_in_failed"
    with pytest.raises(SignInFailed, match="user name or password is wrong"):
        Client.sign_in(server.url, name, "not-the-password")


def test_a_session_expires(server: object) -> None:
    name, password = _user(server)
    client = Client.sign_in(server.url, name, password)
    assert client.me()["user"] == name
    time.sleep(SESSION_SECONDS + 1)
    with pytest.raises(SessionExpired, match="expired; sign in again"):
        client.me()


def test_a_name_is_refused_after_repeated_failures_even_with_the_right_password(server: object) -> None:
    name, password = _user(server)
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            Client.sign_in(server.url, name, "wrong-password")
    with pytest.raises(TooManySignInAttempts, match="too many failed sign-ins"):
        Client.sign_in(server.url, name, password)
    # Another name is not affected; nor is a name nobody has (its failures count the same way).
    other, other_password = _user(server)
    assert Client.sign_in(server.url, other, other_password).me()["user"] == other


def test_failures_are_cleared_by_a_success(server: object) -> None:
    name, password = _user(server)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(SignInFailed):
            Client.sign_in(server.url, name, "wrong-password")
    Client.sign_in(server.url, name, password)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(SignInFailed):
            Client.sign_in(server.url, name, "wrong-password")
    assert Client.sign_in(server.url, name, password).me()["user"] == name


def test_sign_in_with_an_api_token(server: object) -> None:
    client = Client.sign_in(server.url, token=server.tokens["other_org"])
    assert client.me()["organisation"] == "Other Organisation"
    with pytest.raises(SignInFailed, match="API token is unknown"):
        Client.sign_in(server.url, token="ba_not-a-token")


def test_a_new_password_ends_open_sessions(server: object) -> None:
    name, password = _user(server)
    client = Client.sign_in(server.url, name, password)
    admin = Client(server.url, server.tokens["admin"])
    user_id = next(u["id"] for u in admin._json("GET", "/admin/users") if u["name"] == name)
    answer = admin._json("PUT", f"/admin/users/{user_id}/password", json={"password": "a-new-password"})
    assert answer["sessions_ended"] == 1
    with pytest.raises(SessionExpired):
        client.me()
    with pytest.raises(SignInFailed):
        Client.sign_in(server.url, name, password)
    assert Client.sign_in(server.url, name, "a-new-password").me()["user"] == name


def test_passwords_are_set_by_admins_of_the_users_organisation_only(server: object) -> None:
    name, _ = _user(server)
    admin = Client(server.url, server.tokens["admin"])
    user_id = next(u["id"] for u in admin._json("GET", "/admin/users") if u["name"] == name)
    with pytest.raises(PermissionDenied):
        Client(server.url, server.tokens["importer"])._json("PUT", f"/admin/users/{user_id}/password",
                                                            json={"password": "long-enough-1"})
    other_admin = Client(server.url, server.tokens["other_admin"])
    with pytest.raises(Exception, match="not found in your organisation"):
        other_admin._json("PUT", f"/admin/users/{user_id}/password", json={"password": "long-enough-1"})
    with pytest.raises(InvalidRequest, match="at least 8|8 characters"):
        admin._json("PUT", f"/admin/users/{user_id}/password", json={"password": "short"})


def test_sessions_see_only_their_organisation(server: object) -> None:
    mine, my_password = _user(server)
    theirs, their_password = _user(server, "other_admin")
    me = Client.sign_in(server.url, mine, my_password)
    them = Client.sign_in(server.url, theirs, their_password)
    ours = me.start_import(_clients_csv(), "client", "add", name="ours.csv")
    assert ours.id in set(me.history()["Import ID"].to_list())
    assert ours.id not in set(them.history()["Import ID"].to_list())
    with pytest.raises(Exception, match="not found"):
        them.request("GET", f"/imports/{ours.id}")


def _clients_csv() -> bytes:
    return (b"First Name,Last Name,Email Address,Date of Birth,Language\r\n"
            b"Ada,Lovelace,ada@example.org,12/10/1990,English\r\n")


def test_no_password_or_credential_in_a_url_or_the_log(server: object) -> None:
    name, password = _user(server)
    client = Client.sign_in(server.url, name, password)
    session_credential = client._http.headers["Authorization"].partition(" ")[2]
    client.me()
    with pytest.raises(SignInFailed):
        Client.sign_in(server.url, name, password + "-wrong")
    client.sign_out()
    requests.post(f"{server.url}/api/v1/sessions", json={"name": name, "password": 12345}, timeout=30)  # 422
    log = server.log()
    assert "POST /api/v1/sessions" in log  # the access log is on: the requests were logged, without secrets
    for secret in (password, password + "-wrong", session_credential, server.tokens["admin"]):
        assert secret not in log
