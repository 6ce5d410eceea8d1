"""Import History (seed 000): the organisation's imports, newest first, filtered and paged.

A user sees the imports of the domains they may import (all of them for administrators): reading
an import needs the permission to import its domain.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.server.auth import Caller
from bulkassist.server.models import Import, User
from bulkassist.server.undo import described


def import_history(session: Session, caller: Caller, *, domain: str | None = None, status: str | None = None,
                   user: str | None = None, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    """One page of the caller's organisation's imports that the caller may read: `{items, total, page,
    page_size}` (`total`: on every page)."""
    query = sa.select(Import).where(Import.org_id == caller.org_id)
    if not caller.licensed:
        query = query.where(sa.false())
    elif not caller.imports_every_domain:
        query = query.where(Import.domain.in_(sorted(caller.import_domains)))
    if domain:
        query = query.where(Import.domain == domain)
    if status:
        query = query.where(Import.status == status)
    if user:
        query = query.join(User, User.id == Import.user_id).where(User.name == user)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(Import.id.desc()).offset((page - 1) * page_size).limit(page_size)).all()
    return {"items": [described(session, i) for i in items], "total": total, "page": page, "page_size": page_size}
