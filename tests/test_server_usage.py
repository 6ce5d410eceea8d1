"""Import usage per day (`GET /usage/daily`, the Import History chart): counted per UTC day, for users who
import and administrators only, each organisation its own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from bulkassist.client import Client
from bulkassist.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes


def _commit(client: Client, rows: int) -> None:
    data = [["", f"Day{i}", "Usage", "", "", ""] for i in range(rows)]
    client.start_import(csv_bytes(CLIENT_HEADER, data), "client", "add", name="daily.csv").commit(timeout=60)


def test_rows_committed_today_are_counted_on_todays_bar_and_older_days_are_zero_filled(client_for):
    importer, other = client_for("importer"), client_for("other_org")
    before, other_before = importer.daily_usage(7), other.daily_usage(7)
    _commit(importer, 3)
    after = importer.daily_usage(7)
    today = datetime.now(timezone.utc).date()
    assert after["day"].to_list() == [today - timedelta(days=6 - i) for i in range(7)]
    assert after["rows"][-1] == before["rows"][-1] + 3
    assert after["rows"][-1] == importer.usage()["today"]  # the same count as the usage table's Today
    assert other.daily_usage(7).equals(other_before)  # another organisation's import is not theirs


def test_the_answer_carries_the_limits_and_the_number_of_days_is_bounded(server):
    answer = requests.get(f"{server.url}/api/v1/usage/daily", params={"days": 3},
                          headers={"Authorization": f"Bearer {server.tokens['limited']}"}, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["days"]) == 3 and body["limits"]["today"] == 5
    assert body["today"] == body["days"][-1]["rows"]
    with pytest.raises(InvalidRequest):
        Client(server.url, server.tokens["importer"]).daily_usage(367)


def test_usage_per_day_needs_a_token_and_the_import_permission(server, client_for):
    with pytest.raises(AuthenticationFailed):
        Client(server.url, "ba_not-a-token").daily_usage()
    assert requests.get(f"{server.url}/api/v1/usage/daily", timeout=10).status_code == 401
    with pytest.raises(PermissionDenied, match="may not import"):
        client_for("viewer").daily_usage()
    assert client_for("admin").daily_usage(2).height == 2
