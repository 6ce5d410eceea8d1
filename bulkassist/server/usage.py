"""Import usage per organisation (rows committed today / this week / this month, and per day) against its limits.

Days are UTC days, the days the daily limit counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.errors import PermissionDenied, UsageLimitExceeded
from bulkassist.server.auth import Caller
from bulkassist.server.models import Organisation, UsageEvent, utcnow

PERIODS = ("today", "week", "month")


def period_starts(now: datetime | None = None) -> dict[str, datetime]:
    """Start of today, of this week (Monday) and of this month, in UTC."""
    now = now or utcnow()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"today": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}


def usage_for(session: Session, org_id: int, *, reserved: sa.ScalarSelect[Any] | None = None) -> dict[str, Any]:
    """`{today, week, month, limits: {today, week, month}}` (a limit of null means unlimited), read in one
    statement, so from one snapshot of the database; with `reserved` (a scalar query), its value too."""
    used = [sa.select(sa.func.coalesce(sa.func.sum(UsageEvent.rows), 0)).where(
        UsageEvent.org_id == org_id, UsageEvent.at >= start).scalar_subquery().label(name)
        for name, start in period_starts().items()]
    extra = [reserved.label("reserved")] if reserved is not None else []
    row = session.execute(sa.select(*used, *extra, Organisation.limit_day, Organisation.limit_week,
                                    Organisation.limit_month).where(Organisation.id == org_id)).one()
    usage: dict[str, Any] = {name: int(row._mapping[name] or 0) for name in PERIODS}
    if reserved is not None:
        usage["reserved"] = int(row.reserved or 0)
    usage["limits"] = {"today": row.limit_day, "week": row.limit_week, "month": row.limit_month}
    return usage


def daily_usage(session: Session, caller: Caller, days: int) -> dict[str, Any]:
    """Rows committed per UTC day over the last `days` days (oldest first, today last, days without an
    import at 0), with the usage and limits of `usage_for`. For users who import and administrators."""
    if not (caller.is_admin or caller.import_domains):
        raise PermissionDenied(f"user {caller.user_name!r} may not import, so has no import usage to see; ask your "
                               f"administrator to add you to a permission group that allows Bulk Data Import")
    today = period_starts()["today"]
    first = today - timedelta(days=days - 1)
    day = sa.func.date(UsageEvent.at)  # 'YYYY-MM-DD' on SQLite, a date on PostgreSQL
    counted = session.execute(
        sa.select(day, sa.func.sum(UsageEvent.rows)).where(UsageEvent.org_id == caller.org_id, UsageEvent.at >= first)
        .group_by(day)).all()
    per_day = {str(when)[:10]: int(rows or 0) for when, rows in counted}
    dates = [(first + timedelta(days=i)).date() for i in range(days)]
    return {"days": [{"day": d.isoformat(), "rows": per_day.get(d.isoformat(), 0)} for d in dates],
            **usage_for(session, caller.org_id)}


def check_allowance(session: Session, org_id: int, rows: int, *, reserved: sa.ScalarSelect[Any]) -> None:
    """Refuse (429, nothing written) a commit of `rows` that would exceed a usage limit.

    `reserved` counts the rows of the organisation's commits still running: not yet in the usage
    records, but about to be. It is read in the same statement as the usage: a running commit records a
    chunk's usage and lowers its reservation in one transaction, and two statements could see the chunk
    twice (reservation before it, usage after it) and refuse a commit that fits.
    """
    usage = usage_for(session, org_id, reserved=reserved)
    held = usage.pop("reserved")
    for period in PERIODS:
        limit = usage["limits"][period]
        used = usage[period] + held
        if limit is not None and used + rows > limit:
            label = {"today": "today", "week": "this week", "month": "this month"}[period]
            running = f" (including {held} rows of imports still committing)" if held else ""
            raise UsageLimitExceeded(
                f"committing {rows} rows would exceed your organisation's import limit {label}: "
                f"{used} of {limit} rows used{running}; import at most {max(limit - used, 0)} rows now, "
                f"wait for the limit to reset, or ask for a higher limit",
                usage=usage)


def record_usage(session: Session, org_id: int, import_id: int, rows: int) -> None:
    if rows:
        session.add(UsageEvent(org_id=org_id, import_id=import_id, rows=rows))
