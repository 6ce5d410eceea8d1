"""Import usage per day (`GET /usage/daily`, the Import History chart): counted per UTC day, for users who
import and administrators only, each organisation its own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from bulkassist.client import Client
from bulkassist.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from bulkassist.server import admin
from bulkassist.server.committer import start_commit
from bulkassist.server.db import make_engine, migrate, sessions
from bulkassist.server.models import Import, UsageEvent
from bulkassist.status import ImportStatus
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


@pytest.mark.postgres
def test_a_chunk_that_commits_while_a_commit_starts_counts_once_against_the_limit(pg_database_url):
    """A running commit records a chunk's usage and lowers its reservation in one transaction. A commit start
    that read the two in separate statements, with the chunk committing in between (READ COMMITTED), counted
    the chunk twice and refused rows that fit: seen as a spurious 429 when eight imports committed at once."""
    engine = make_engine(pg_database_url)
    migrate(engine)
    factory = sessions(engine)
    with factory.begin() as session:
        org = admin.create_org(session, "Limited", limit_day=800)
        admin.create_group(session, org, "Importers", import_domains=["client"])
        user = admin.create_user(session, org, "importer", groups=["Importers"])
        running = Import(org_id=org.id, user_id=user.id, domain="client", operation="add",
                         status=ImportStatus.COMMITTING, progress_total=400)
        starting = Import(org_id=org.id, user_id=user.id, domain="client", operation="add",
                          status=ImportStatus.VALIDATED, to_insert=400)
        session.add_all([running, starting])
    reads = []

    def chunk_commits_after_the_first_read(conn, cursor, statement, parameters, context, executemany):
        if "progress_total" in statement and not reads:  # the reservation is read: now the running commit's
            reads.append(statement)  # chunk writes its usage and its progress, in one transaction
            with engine.connect() as other:
                other.execute(sa.insert(UsageEvent).values(org_id=org.id, import_id=running.id, rows=400))
                other.execute(sa.update(Import).where(Import.id == running.id).values(progress_done=400))
                other.commit()

    try:
        with factory.begin() as session:
            imp = session.get_one(Import, starting.id)
            sa.event.listen(engine, "after_cursor_execute", chunk_commits_after_the_first_read)
            try:  # 400 used + 0 still reserved + 400 asked = the limit of 800: the commit starts
                assert start_commit(session, imp, None)
            finally:
                sa.event.remove(engine, "after_cursor_execute", chunk_commits_after_the_first_read)
            assert imp.status == ImportStatus.COMMITTING
    finally:
        engine.dispose()
    assert reads  # the chunk did commit while the start was reading
