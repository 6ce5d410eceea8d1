"""Run Workflow on Import (seed 001) made real: a transactional outbox and signed webhook deliveries.

- `write_events`: called by a domain behaviour inside the commit's chunk transaction, so an event
  exists exactly when its record does (a rolled-back chunk leaves neither).
- `deliver_pending(session_factory, now)`: one pass of the delivery job. It fans new events out to
  the organisation's active webhooks (one delivery per event and webhook), claims the deliveries
  that are due, POSTs each signed body, and logs every attempt. A failed attempt is retried after
  BACKOFF * 2**(attempts-1) seconds, up to MAX_ATTEMPTS; SENDERS POSTs run at a time. It is the
  delivery job (`jobs.py`): run every POLL seconds, and at once after a commit.

The body is the event as JSON; `X-BulkAssist-Signature: sha256=<hex HMAC-SHA256 of the body with the
webhook's secret>` lets the receiver check it came from the server and was not changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bulkassist.errors import InvalidRequest
from bulkassist.server.bulk import insert_rows
from bulkassist.server.db import rows_changed
from bulkassist.server.models import DeliveryAttempt, OutboxEvent, Webhook, WebhookDelivery, utcnow

log = logging.getLogger("bulkassist.server")
CASE_CREATED = "case.created"
SIGNATURE_HEADER = "X-BulkAssist-Signature"
EVENT_HEADER = "X-BulkAssist-Event"
DELIVERY_HEADER = "X-BulkAssist-Delivery"
MAX_ATTEMPTS = int(os.environ.get("BULKASSIST_WEBHOOK_ATTEMPTS", "6"))
BACKOFF = float(os.environ.get("BULKASSIST_WEBHOOK_BACKOFF", "30"))  # seconds before the first retry
POLL = float(os.environ.get("BULKASSIST_WEBHOOK_POLL", "2"))  # seconds between passes of the delivery job
TIMEOUT = float(os.environ.get("BULKASSIST_WEBHOOK_TIMEOUT", "10"))
LEASE = timedelta(seconds=max(60.0, TIMEOUT * 3))  # a claimed delivery is not claimed again meanwhile
SENDERS = int(os.environ.get("BULKASSIST_WEBHOOK_SENDERS", "8"))  # POSTs at a time
_BATCH = 100
_EVENT_COLUMNS = ("org_id", "event", "import_id", "record_id", "payload", "fanned_out", "created_at")


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`: `sha256=` + hex HMAC-SHA256 with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def check_url(url: str) -> str:
    """A webhook URL must be absolute http(s) with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"webhook URL {url!r} is not an absolute http:// or https:// URL; give the full "
                             f"address of the receiver, e.g. https://example.org/hooks/bulkassist")
    return url.strip()


# ------------------------------------------------------------------ outbox
def write_events(session: Session, org_id: int, import_id: int, event: str,
                 records: Sequence[tuple[int, dict[str, Any] | None]]) -> None:
    """One outbox event per (record id, record fields), in the caller's transaction."""
    now = utcnow()
    stamp = now.isoformat(timespec="seconds") + "Z"
    insert_rows(session, OutboxEvent.__table__, _EVENT_COLUMNS, [
        (org_id, event, import_id, record_id,
         {"event": event, "import_id": import_id, "record_id": record_id, "created_at": stamp, "record": data},
         False, now)
        for record_id, data in records])


# --------------------------------------------------------------- delivery
def deliver_pending(session_factory: sessionmaker[Session], now: datetime | None = None, *,
                    limit: int = _BATCH) -> int:
    """One pass of the delivery job at time `now` (UTC, naive; default: now); how many attempts it made.

    The due deliveries are POSTed in parallel (SENDERS at a time) and their outcomes written in one
    transaction."""
    now = now or utcnow()
    if not _work_waiting(session_factory, now):
        return 0
    _fan_out(session_factory, now)
    claimed = _claim_due(session_factory, now, limit)
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(claimed))) as pool:
        answers = list(pool.map(_post, claimed))
    _record(session_factory, claimed, answers, now)
    return len(claimed)


def deliver_all(session_factory: sessionmaker[Session]) -> int:
    """Passes of `deliver_pending` until no full batch is due (the delivery job); how many attempts."""
    made = total = deliver_pending(session_factory)
    while made >= _BATCH:
        made = deliver_pending(session_factory)
        total += made
    return total


def _work_waiting(session_factory: sessionmaker[Session], now: datetime) -> bool:
    """Whether an event waits to be fanned out or a delivery is due. SQLite: asked outside a transaction,
    because every session there begins IMMEDIATE (the database's one write lock): an idle pass every
    POLL seconds would otherwise queue the commit worker's chunks behind it (and it behind them).
    PostgreSQL: always True (its passes lock nothing a commit needs)."""
    engine = session_factory.kw.get("bind")
    if engine is None or engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()  # the driver's connection is in autocommit mode: this SELECT takes no lock
    try:
        cursor = raw.cursor()
        found = cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {OutboxEvent.__tablename__} WHERE fanned_out = 0) OR EXISTS "
            f"(SELECT 1 FROM {WebhookDelivery.__tablename__} WHERE status = 'pending' AND next_attempt_at <= ?)",
            (now.strftime("%Y-%m-%d %H:%M:%S.%f"),)).fetchone()[0]
        cursor.close()
    finally:
        raw.close()
    return bool(found)


def _fan_out(session_factory: sessionmaker[Session], now: datetime) -> None:
    """New events become one delivery per active webhook of their organisation (webhooks added later do
    not receive older events)."""
    with session_factory.begin() as session:
        query = sa.select(OutboxEvent.id, OutboxEvent.org_id).where(
            OutboxEvent.fanned_out.is_(False)).order_by(OutboxEvent.id).limit(5000)
        if session.get_bind().dialect.name == "postgresql":
            # Two servers fanning out together take different events (SQLite: BEGIN IMMEDIATE serialises).
            query = query.with_for_update(skip_locked=True)
        events = session.execute(query).all()
        if not events:
            return
        orgs = {org for _, org in events}
        hooks: dict[int, list[int]] = {}
        for hook_id, org in session.execute(sa.select(Webhook.id, Webhook.org_id).where(
                Webhook.org_id.in_(orgs), Webhook.active.is_(True))).all():
            hooks.setdefault(org, []).append(hook_id)
        ids = [event_id for event_id, _ in events]
        session.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(fanned_out=True))
        insert_rows(session, WebhookDelivery.__table__,
                    ("org_id", "event_id", "webhook_id", "status", "attempts", "next_attempt_at", "created_at"),
                    [(org, event_id, hook, "pending", 0, now, now) for event_id, org in events
                     for hook in hooks.get(org, [])])


def _claim_due(session_factory: sessionmaker[Session], now: datetime, limit: int) -> list[dict[str, Any]]:
    """Due pending deliveries, each claimed for LEASE with a conditional UPDATE (so another worker
    does not send it at the same time)."""
    claimed = []
    with session_factory.begin() as session:
        due = session.execute(
            sa.select(WebhookDelivery.id, WebhookDelivery.next_attempt_at, WebhookDelivery.attempts,
                      Webhook.url, Webhook.secret, OutboxEvent.event, OutboxEvent.payload)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                   Webhook.active.is_(True))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).all()
        for d in due:
            got = rows_changed(session, sa.update(WebhookDelivery).where(
                WebhookDelivery.id == d.id, WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at == d.next_attempt_at).values(next_attempt_at=now + LEASE))
            if got:
                claimed.append({"id": d.id, "attempts": d.attempts, "url": d.url, "secret": d.secret,
                                "event": d.event, "payload": d.payload})
    return claimed


def _post(d: dict[str, Any]) -> tuple[int | None, str]:
    """POST one delivery: (the receiver's HTTP status or None, the error or "")."""
    body = json.dumps({**d["payload"], "delivery_id": d["id"]}, sort_keys=True, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(d["secret"], body),
               EVENT_HEADER: d["event"], DELIVERY_HEADER: str(d["id"]), "User-Agent": "BulkAssist-Webhooks/1"}
    try:
        answer = requests.post(d["url"], data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        return None, f"could not reach the receiver: {type(exc).__name__}: {str(exc)[:300]}"
    if 200 <= answer.status_code < 300:
        return answer.status_code, ""
    return answer.status_code, f"the receiver answered {answer.status_code} {answer.reason}"


def _record(session_factory: sessionmaker[Session], claimed: list[dict[str, Any]],
            answers: list[tuple[int | None, str]], now: datetime) -> None:
    """Log every attempt and move each delivery on: delivered, failed (out of attempts) or due again later."""
    attempts, changes = [], []
    for d, (code, error) in zip(claimed, answers, strict=True):
        number = d["attempts"] + 1
        attempts.append({"delivery_id": d["id"], "number": number, "at": now, "status_code": code, "error": error})
        status = "delivered" if not error else "failed" if number >= MAX_ATTEMPTS else "pending"
        changes.append({"id": d["id"], "attempts": number, "status": status,
                        "delivered_at": now if status == "delivered" else None,
                        "next_attempt_at": now + timedelta(seconds=retry_delay(number)) if error else now})
        if error:
            log.warning("webhook delivery %s, attempt %s: %s", d["id"], number, error)
    with session_factory.begin() as session:
        session.execute(sa.insert(DeliveryAttempt), attempts)
        session.execute(sa.update(WebhookDelivery), changes)


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: BACKOFF, 2x, 4x, ..."""
    return BACKOFF * 2 ** (attempts - 1)


# ------------------------------------------------------------------- admin
def add_webhook(session: Session, org_id: int, url: str, secret: str | None) -> Webhook:
    hook = Webhook(org_id=org_id, url=check_url(url), secret=secret or new_secret())
    session.add(hook)
    session.flush()
    return hook


def describe_webhook(hook: Webhook) -> dict[str, Any]:
    return {"id": hook.id, "url": hook.url, "active": hook.active, "secret_hint": hook.secret[:4] + "…",
            "created_at": hook.created_at.isoformat(timespec="seconds") + "Z"}


def delivery_log(session: Session, org_id: int, *, webhook_id: int | None = None, status: str | None = None,
                 limit: int = 100) -> list[dict[str, Any]]:
    """The organisation's deliveries, newest first, each with its attempts."""
    query = (sa.select(WebhookDelivery, Webhook.url, OutboxEvent.event, OutboxEvent.import_id, OutboxEvent.record_id)
             .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
             .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
             .where(WebhookDelivery.org_id == org_id))
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    rows = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all()
    attempts: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for a in session.scalars(sa.select(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id.in_([r[0].id for r in rows])).order_by(DeliveryAttempt.number)):
            attempts.setdefault(a.delivery_id, []).append({
                "number": a.number, "at": a.at.isoformat(timespec="milliseconds") + "Z",
                "status_code": a.status_code, "error": a.error})

    def stamp(t: datetime | None) -> str | None:
        return t.isoformat(timespec="milliseconds") + "Z" if t else None

    return [{"id": d.id, "webhook_id": d.webhook_id, "url": url, "event": event, "import_id": import_id,
             "record_id": record_id, "status": d.status, "attempts": d.attempts,
             "next_attempt_at": stamp(d.next_attempt_at) if d.status == "pending" else None,
             "delivered_at": stamp(d.delivered_at), "log": attempts.get(d.id, [])}
            for d, url, event, import_id, record_id in rows]
