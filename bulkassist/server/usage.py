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


def usage_for(session: Session, org_id: int) -> dict[str, Any]:
    """`{today, week, month, limits: {today, week, month}}` (a limit of null means unlimited)."""
    starts = period_starts()
    used = {
        name: int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(UsageEvent.rows), 0)).where(
            UsageEvent.org_id == org_id, UsageEvent.at >= start)) or 0)
        for name, start in starts.items()
    }
    org = session.get_one(Organisation, org_id)
    limits = {"today": org.limit_day, "week": org.limit_week, "month": org.limit_month}
    return {**used, "limits": limits}


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


def check_allowance(session: Session, org_id: int, rows: int, *, reserved: int = 0) -> None:
    """Refuse (429, nothing written) a commit of `rows` that would exceed a usage limit.

    `reserved` rows belong to commits of the organisation still running: not yet in the usage
    records, but about to be.
    """
    usage = usage_for(session, org_id)
    for period in PERIODS:
        limit = usage["limits"][period]
        used = usage[period] + reserved
        if limit is not None and used + rows > limit:
            label = {"today": "today", "week": "this week", "month": "this month"}[period]
            running = f" (including {reserved} rows of imports still committing)" if reserved else ""
            raise UsageLimitExceeded(
                f"committing {rows} rows would exceed your organisation's import limit {label}: "
                f"{used} of {limit} rows used{running}; import at most {max(limit - used, 0)} rows now, "
                f"wait for the limit to reset, or ask for a higher limit",
                usage=usage)


def record_usage(session: Session, org_id: int, import_id: int, rows: int) -> None:
    if rows:
        session.add(UsageEvent(org_id=org_id, import_id=import_id, rows=rows))
