"""Seed 001's Run Workflow on Import, made real: case-created events written to an outbox with the case,
delivered to the organisation's webhooks signed with HMAC-SHA256, retried with exponential backoff and
logged; the import's Successful % and Errors; the Records tab and one record."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bulkassist.errors import NotFound, PermissionDenied
from tests.receiver import Receiver
from tests.test_server_lifecycle import csv_bytes

CASE = ["Identifier", "FirstName", "LastName", "Status", "TreatmentPeriod"]
SECRET = "test-secret-0123456789abcdef"


def ident() -> str:
    return f"ev{uuid.uuid4().hex[:8]}"


def import_cases(client, rows: list[list[str]], run_workflow: bool):
    imp = client.start_import(csv_bytes(CASE, rows), "case", "add", name="cases.csv",
                              options={"run_workflow": run_workflow})
    final = imp.commit(timeout=60)
    return imp, final


def signature_ok(received, secret: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["x-bulkassist-signature"], expected)


@pytest.fixture
def webhook(client_for):
    """A receiver registered as a webhook of the demo organisation (removed afterwards)."""
    admin = client_for("admin")
    with Receiver() as receiver:
        hook = admin.add_webhook(receiver.url, SECRET)
        try:
            yield receiver, hook
        finally:
            admin.delete_webhook(hook["id"])


def test_run_workflow_delivers_a_signed_case_created_event_per_inserted_case(client_for, webhook):
    receiver, hook = webhook
    admin, importer = client_for("admin"), client_for("importer")
    assert hook["secret"] == SECRET and hook["url"] == receiver.url
    assert [h["id"] for h in admin.webhooks() if h["id"] == hook["id"]] and "secret" not in admin.webhooks()[0]
    a, b = ident(), ident()
    imp, final = import_cases(importer, [[a, "John", "Doe", "ACTIVE", "1"], [b, "Jane", "Roe", "ACTIVE", "2"],
                                         ["", "No", "Identifier", "WRONG", "x"]], run_workflow=True)
    assert final["status"] == "Committed"
    got = receiver.wait_for(imp.id, 2)
    assert all(signature_ok(r, SECRET) for r in got)
    assert not signature_ok(got[0], "another secret")
    events = sorted((r.event for r in got), key=lambda e: e["record_id"])
    ids = sorted(int(i) for i in imp.results().filter(imp.results()["Status"] == "Success")["Created/Updated ID"])
    assert [e["record_id"] for e in events] == ids
    assert {e["event"] for e in events} == {"case.created"} and {r.headers["x-bulkassist-event"] for r in got} == {
        "case.created"}
    assert [e["record"]["Identifier"] for e in events] == [a, b] and events[0]["record"]["FirstName"] == "John"
    log = [d for d in admin.deliveries(webhook_id=hook["id"]) if d["import_id"] == imp.id]
    assert len(log) == 2 and {d["status"] for d in log} == {"delivered"}
    assert all(len(d["log"]) == 1 and d["log"][0]["status_code"] == 204 for d in log)


def test_a_failing_receiver_is_retried_with_backoff_until_it_accepts(client_for):
    admin, importer = client_for("admin"), client_for("importer")
    with Receiver(answers=[500, 503, 200]) as receiver:
        hook = admin.add_webhook(receiver.url)
        try:
            imp, _ = import_cases(importer, [[ident(), "Retry", "Me", "ACTIVE", "1"]], run_workflow=True)
            got = receiver.wait_for(imp.id, 3)
            assert all(signature_ok(r, hook["secret"]) for r in got)
            assert len({r.body for r in got}) == 1  # the same event each time
            delivery = next(d for d in admin.deliveries(webhook_id=hook["id"]) if d["import_id"] == imp.id)
            for _ in range(100):  # the third attempt's outcome is written just after the receiver answered
                if delivery["status"] != "pending":
                    break
                time.sleep(0.1)
                delivery = next(d for d in admin.deliveries(webhook_id=hook["id"]) if d["import_id"] == imp.id)
            assert delivery["status"] == "delivered" and delivery["attempts"] == 3
            assert [a["status_code"] for a in delivery["log"]] == [500, 503, 200]
            assert "answered 500" in delivery["log"][0]["error"] and delivery["log"][2]["error"] == ""
            times = [_time(a["at"]) for a in delivery["log"]]
            # The servers under test back off 0.3 s, then 0.6 s: each retry waits at least twice as long.
            assert times[1] - times[0] >= timedelta(seconds=0.3)
            assert times[2] - times[1] >= timedelta(seconds=0.6)
        finally:
            admin.delete_webhook(hook["id"])


def _time(stamp: str):
    from datetime import datetime

    return datetime.fromisoformat(stamp.rstrip("Z"))


def test_without_run_workflow_no_event_is_written_or_sent(client_for, webhook, server):
    receiver, hook = webhook
    admin, importer = client_for("admin"), client_for("importer")
    quiet, final = import_cases(importer, [[ident(), "Quiet", "Case", "ACTIVE", "1"]], run_workflow=False)
    assert final["status"] == "Committed"
    marker, _ = import_cases(importer, [[ident(), "Loud", "Case", "ACTIVE", "1"]], run_workflow=True)
    receiver.wait_for(marker.id, 1)  # events go out in order: the quiet import's would have gone first
    assert receiver.events_of(quiet.id) == []
    assert [d for d in admin.deliveries(limit=1000) if d["import_id"] == quiet.id] == []
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            written = conn.execute(sa.text("SELECT count(*) FROM outbox_events WHERE import_id = :i"),
                                   {"i": quiet.id}).scalar()
    finally:
        engine.dispose()
    assert written == 0


def test_another_organisations_webhooks_never_receive_its_events(client_for, webhook):
    receiver, hook = webhook
    other_admin = client_for("other_admin")
    with Receiver() as theirs:
        their_hook = other_admin.add_webhook(theirs.url, SECRET)
        try:
            imp, _ = import_cases(client_for("importer"), [[ident(), "Private", "Case", "ACTIVE", "1"]],
                                  run_workflow=True)
            receiver.wait_for(imp.id, 1)
            mine, _ = import_cases(client_for("other_org"), [[ident(), "Their", "Case", "ACTIVE", "1"]],
                                   run_workflow=True)
            assert [r.event["record"]["FirstName"] for r in theirs.wait_for(mine.id, 1)] == ["Their"]
            assert theirs.events_of(imp.id) == [] and receiver.events_of(mine.id) == []
            assert [d for d in other_admin.deliveries(limit=1000) if d["import_id"] == imp.id] == []
            assert hook["id"] not in {h["id"] for h in other_admin.webhooks()}
            with pytest.raises(NotFound):
                other_admin.delete_webhook(hook["id"])
        finally:
            other_admin.delete_webhook(their_hook["id"])


def test_webhooks_are_for_administrators_and_need_an_http_url(client_for):
    with pytest.raises(PermissionDenied, match="not an administrator"):
        client_for("importer").add_webhook("http://127.0.0.1:9/hooks")
    with pytest.raises(PermissionDenied):
        client_for("importer").deliveries()
    from bulkassist.errors import BulkAssistError

    with pytest.raises(BulkAssistError, match="url: String should match pattern"):
        client_for("admin").add_webhook("ftp://example.org/hooks")


# ----------------------------------------------------------- deliver_pending
def test_deliver_pending_backs_off_exponentially_and_gives_up(tmp_path):
    """The job function on its own, at chosen times: attempts at t, t+B, t+3B, t+7B ... then failed."""
    from bulkassist.server import admin, events
    from bulkassist.server.db import make_engine, migrate, sessions
    from bulkassist.server.models import WebhookDelivery

    engine = make_engine(f"sqlite:///{tmp_path / 'events.sqlite'}")
    migrate(engine)
    maker = sessions(engine)
    with Receiver(answers=[500]) as receiver:
        with maker.begin() as session:
            org = admin.create_org(session, "Acme")
            events.add_webhook(session, org.id, receiver.url, SECRET)
            events.write_events(session, org.id, 1, events.CASE_CREATED, [(100001, {"Identifier": "x"})])
            org_id = org.id
        start = events.utcnow()
        when, attempts = start, []
        for number in range(1, events.MAX_ATTEMPTS + 1):
            if number > 1:
                delay = timedelta(seconds=events.retry_delay(number - 1))
                assert events.deliver_pending(maker, when + delay - timedelta(seconds=1)) == 0  # not due yet
                when += delay
            assert events.deliver_pending(maker, when) == 1
            attempts.append(when)
        assert events.deliver_pending(maker, when + timedelta(days=30)) == 0  # out of attempts
        gaps = [(b - a).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
        assert gaps == [events.BACKOFF * 2 ** i for i in range(events.MAX_ATTEMPTS - 1)]
        assert len(receiver.received) == events.MAX_ATTEMPTS
        with maker() as session:
            log = events.delivery_log(session, org_id)
            assert session.scalar(sa.select(WebhookDelivery.status)) == "failed"
        assert log[0]["attempts"] == events.MAX_ATTEMPTS and [a["status_code"] for a in log[0]["log"]] == [500] * events.MAX_ATTEMPTS
        assert json.loads(receiver.received[0].body)["record"] == {"Identifier": "x"}
    engine.dispose()
