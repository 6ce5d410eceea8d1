"""Organisation administration over HTTP (admins only): users, tokens, groups, select lists, locks."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Path

from bulkassist.errors import NotFound
from bulkassist.server import admin
from bulkassist.server.models import DomainLock, Organisation, PermissionGroup, User
from bulkassist.server.orgdata import domain_for
from bulkassist.server.routes.deps import CallerDep, SessionDep
from bulkassist.server.schemas import (
    NO_NUL,
    GroupCreated,
    GroupInfo,
    ListOption,
    ListReplaced,
    LockInfo,
    NewGroup,
    NewUser,
    OrgSettings,
    TokenIssued,
    Unlocked,
    UserCreated,
    UserInfo,
    error_responses,
)

router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(400, 401, 403, 404, 409, 422))


@router.get("/settings", response_model=OrgSettings)
def settings(caller: CallerDep, session: SessionDep) -> dict:
    """Your organisation's settings: how many days after its commit an import can be undone."""
    caller.require_admin()
    return {"undo_retention_days": session.get(Organisation, caller.org_id).undo_retention_days}


@router.put("/settings", response_model=OrgSettings)
def put_settings(body: OrgSettings, caller: CallerDep, session: SessionDep) -> dict:
    """Change your organisation's settings (the undo retention period, in days)."""
    caller.require_admin()
    session.get(Organisation, caller.org_id).undo_retention_days = body.undo_retention_days
    return {"undo_retention_days": body.undo_retention_days}


@router.get("/users", response_model=list[UserInfo])
def users(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(User).where(User.org_id == caller.org_id).order_by(User.id)).all()
    return [{"id": u.id, "name": u.name, "email": u.email, "active": u.active} for u in found]


@router.post("/users", status_code=201, response_model=UserCreated)
def create_user(body: NewUser, caller: CallerDep, session: SessionDep) -> dict:
    caller.require_admin()
    org = session.get(Organisation, caller.org_id)
    user = admin.create_user(session, org, body.name, email=body.email, groups=body.groups)
    return {"id": user.id, "name": user.name, "token": admin.create_token(session, user)}


@router.post("/users/{user_id}/tokens", status_code=201, response_model=TokenIssued)
def create_token(caller: CallerDep, session: SessionDep, user_id: int = Path(..., ge=1, le=2**31 - 1)) -> dict:
    """A new API token for a user of your organisation (shown once)."""
    caller.require_admin()
    user = session.get(User, user_id)
    if user is None or user.org_id != caller.org_id:
        raise NotFound(f"user {user_id} not found in your organisation")
    return {"user": user.name, "token": admin.create_token(session, user)}


@router.get("/groups", response_model=list[GroupInfo])
def groups(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(PermissionGroup).where(PermissionGroup.org_id == caller.org_id)).all()
    return [{"id": g.id, "name": g.name, "is_admin": g.is_admin, "import_domains": g.import_domains}
            for g in found]


@router.post("/groups", status_code=201, response_model=GroupCreated)
def create_group(body: NewGroup, caller: CallerDep, session: SessionDep) -> dict:
    caller.require_admin()
    for d in body.import_domains:
        if d != "*":
            domain_for(session, caller.org_id, d)
    org = session.get(Organisation, caller.org_id)
    g = admin.create_group(session, org, body.name, import_domains=body.import_domains, is_admin=body.is_admin)
    return {"id": g.id, "name": g.name}


@router.put("/lists/{list_name}", response_model=ListReplaced)
def put_list(body: list[ListOption], caller: CallerDep, session: SessionDep,
             list_name: str = Path(..., min_length=1, max_length=64, pattern=NO_NUL)) -> dict:
    """Replace one select list of your organisation (clients see the new ETag)."""
    caller.require_admin()
    org = session.get(Organisation, caller.org_id)
    admin.set_list(session, org, list_name, [(o.value, o.label or o.value) for o in body])
    return {"list": list_name, "values": len(body)}


@router.get("/locks", response_model=list[LockInfo])
def locks(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(DomainLock).where(DomainLock.org_id == caller.org_id)).all()
    return [{"domain": lk.domain, "import_id": lk.import_id, "reason": lk.reason,
             "locked_at": lk.locked_at.isoformat(timespec="seconds") + "Z"} for lk in found]


@router.post("/locks/{domain}/unlock", response_model=Unlocked)
def unlock(caller: CallerDep, session: SessionDep, domain: str = Path(..., max_length=64)) -> dict:
    """Unlock a hung importer (seed 004: Log in as a site admin, Course record import, Unlock)."""
    caller.require_admin()
    dom = domain_for(session, caller.org_id, domain)
    return {"domain": dom.name, "unlocked": admin.unlock(session, caller.org_id, dom.name)}
