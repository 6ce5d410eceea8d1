"""Sign-in per browser in a real Chromium: one Voila serves every visitor, each signs in with a user name and
password (set by an administrator through the API) and then works as that user; a wrong password is refused
on the form, sign-out brings the form back, an ended session does too, and two users of two organisations
signed in at the same time each see only their own history."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bulkassist.client import Client
from bulkassist.dashboard.browser import CHROMIUM, VIEWPORT, DashboardPage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("dashboard-signin"),  # its own group: the other worker may take it (a Voila each)
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM}"),
]

SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "dashboard-signin"
CLIENTS_CSV = b"First Name,Last Name,Email Address\r\nAda,Lovelace,ada@example.org\r\n"


def _analyst(server: object, org_admin: str) -> tuple[str, str, int]:
    """A new importer in the admin's organisation with a password set through the admin API."""
    admin = Client(server.url, server.tokens[org_admin])
    name, password = f"analyst-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex[:12]}"
    user_id = admin._json("POST", "/admin/users", json={"name": name, "groups": ["Importers"]})["id"]
    admin._json("PUT", f"/admin/users/{user_id}/password", json={"password": password})
    return name, password, user_id


def _tab(browser: object, url: str, shots: str) -> DashboardPage:
    return DashboardPage(browser.new_context(viewport=VIEWPORT).new_page(), url, SHOTS / shots)


def _history_ids(ui: DashboardPage) -> set[str]:
    ui.page.get_by_role("tab", name="Import History").click()
    options = ui.page.locator(".ba-history-select select option")
    options.first.wait_for(state="attached", timeout=60_000)
    return set(options.all_inner_texts())


def test_wrong_password_then_sign_in_then_sign_out(browser: object, dashboard_url: str,
                                                   sqlite_server: object) -> None:
    name, password, _ = _analyst(sqlite_server, "admin")
    ui = _tab(browser, dashboard_url, "one")
    try:
        ui.load()
        assert ui.page.locator(".ba-domain").count() == 0  # nothing of the app before signing in
        ui.sign_in(name, "not-" + password, wait=False)
        text = ui.wait_notice("user name or password is wrong")
        assert "Sign-in failed" in text
        assert ui.page.locator(".ba-signin-password input").input_value() == ""  # the secret is not kept
        ui.shot("01-wrong-password")
        ui.sign_in(name, password)
        assert f"signed in as {name} (Demo Organisation)" in ui.page.locator(".ba-app").first.inner_text()
        assert password not in ui.page.content() and password not in ui.page.url
        ui.shot("02-signed-in")
        ui.sign_out()
        assert "You have signed out" in ui.notice()
        assert ui.page.locator(".ba-domain").count() == 0
        ui.shot("03-signed-out")
    finally:
        ui.page.context.close()


def test_an_ended_session_brings_the_sign_in_form_back_with_a_message(browser: object, dashboard_url: str,
                                                                     sqlite_server: object) -> None:
    name, password, user_id = _analyst(sqlite_server, "admin")
    ui = _tab(browser, dashboard_url, "ended")
    try:
        ui.load()
        ui.sign_in(name, password)
        # The administrator sets a new password: the user's open sessions end at once, like an expiry.
        Client(sqlite_server.url, sqlite_server.tokens["admin"])._json(
            "PUT", f"/admin/users/{user_id}/password", json={"password": "a-brand-new-password"})
        ui.page.get_by_role("tab", name="Import History").click()
        ui.page.locator(".ba-signin-button").wait_for(state="visible", timeout=60_000)
        text = ui.wait_notice("session")
        assert "Your session has ended" in text and "sign in again" in text
        ui.shot("01-session-ended")
        ui.sign_in(name, "a-brand-new-password")
    finally:
        ui.page.context.close()


def test_two_users_of_two_organisations_at_once_each_see_only_their_history(
        browser: object, dashboard_url: str, sqlite_server: object) -> None:
    ours, theirs = _analyst(sqlite_server, "admin"), _analyst(sqlite_server, "other_admin")
    our_import = Client.sign_in(sqlite_server.url, ours[0], ours[1]).start_import(
        CLIENTS_CSV, "client", "add", name="ours.csv").id
    their_import = Client.sign_in(sqlite_server.url, theirs[0], theirs[1]).start_import(
        CLIENTS_CSV, "client", "add", name="theirs.csv").id
    first, second = _tab(browser, dashboard_url, "ours"), _tab(browser, dashboard_url, "theirs")
    try:
        first.load()
        second.load()
        first.sign_in(ours[0], ours[1])
        second.sign_in(theirs[0], theirs[1])  # both pages signed in, in one Voila, at the same time
        assert "(Other Organisation)" in second.page.locator(".ba-app").first.inner_text()
        seen_by_us, seen_by_them = _history_ids(first), _history_ids(second)
        assert str(our_import) in seen_by_us and str(their_import) not in seen_by_us
        assert str(their_import) in seen_by_them and str(our_import) not in seen_by_them
        first.shot("01-our-history")
        second.shot("01-their-history")
    finally:
        first.page.context.close()
        second.page.context.close()
