"""Organisation administration over HTTP (admins only): users, tokens, groups, select lists, locks."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from bulkassist.errors import NotFound
from bulkassist.server import admin
from bulkassist.server.models import DomainLock, Organisation, PermissionGroup, User
from bulkassist.server.orgdata import domain_for
from bulkassist.server.routes.deps import CallerDep, SessionDep

router = APIRouter(prefix="/admin", tags=["admin"])


class NewUser(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    groups: list[str] = Field(default_factory=list)


class NewGroup(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)
    is_admin: bool = False
    import_domains: list[str] = Field(default_factory=list, description='domain names, or "*" for all')


class ListOption(BaseModel):
    value: str = Field(..., min_length=1, max_length=400)
    label: str | None = Field(None, max_length=400)


@router.get("/users")
def users(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(User).where(User.org_id == caller.org_id).order_by(User.id)).all()
    return [{"id": u.id, "name": u.name, "email": u.email, "active": u.active} for u in found]


@router.post("/users", status_code=201)
def create_user(body: NewUser, caller: CallerDep, session: SessionDep) -> dict:
    caller.require_admin()
    org = session.get(Organisation, caller.org_id)
    user = admin.create_user(session, org, body.name, email=body.email, groups=body.groups)
    return {"id": user.id, "name": user.name, "token": admin.create_token(session, user)}


@router.post("/users/{user_id}/tokens", status_code=201)
def create_token(caller: CallerDep, session: SessionDep, user_id: int = Path(..., ge=1, le=2**31 - 1)) -> dict:
    """A new API token for a user of your organisation (shown once)."""
    caller.require_admin()
    user = session.get(User, user_id)
    if user is None or user.org_id != caller.org_id:
        raise NotFound(f"user {user_id} not found in your organisation")
    return {"user": user.name, "token": admin.create_token(session, user)}


@router.get("/groups")
def groups(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(PermissionGroup).where(PermissionGroup.org_id == caller.org_id)).all()
    return [{"id": g.id, "name": g.name, "is_admin": g.is_admin, "import_domains": g.import_domains}
            for g in found]


@router.post("/groups", status_code=201)
def create_group(body: NewGroup, caller: CallerDep, session: SessionDep) -> dict:
    caller.require_admin()
    for d in body.import_domains:
        if d != "*":
            domain_for(session, caller.org_id, d)
    org = session.get(Organisation, caller.org_id)
    g = admin.create_group(session, org, body.name, import_domains=body.import_domains, is_admin=body.is_admin)
    return {"id": g.id, "name": g.name}


@router.put("/lists/{list_name}")
def put_list(body: list[ListOption], caller: CallerDep, session: SessionDep,
             list_name: str = Path(..., min_length=1, max_length=64)) -> dict:
    """Replace one select list of your organisation (clients see the new ETag)."""
    caller.require_admin()
    org = session.get(Organisation, caller.org_id)
    admin.set_list(session, org, list_name, [(o.value, o.label or o.value) for o in body])
    return {"list": list_name, "values": len(body)}


@router.get("/locks")
def locks(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(DomainLock).where(DomainLock.org_id == caller.org_id)).all()
    return [{"domain": lk.domain, "import_id": lk.import_id, "reason": lk.reason,
             "locked_at": lk.locked_at.isoformat(timespec="seconds") + "Z"} for lk in found]


@router.post("/locks/{domain}/unlock")
def unlock(caller: CallerDep, session: SessionDep, domain: str = Path(..., max_length=64)) -> dict:
    """Unlock a hung importer (seed 004: Log in as a site admin, Course record import, Unlock)."""
    caller.require_admin()
    dom = domain_for(session, caller.org_id, domain)
    return {"domain": dom.name, "unlocked": admin.unlock(session, caller.org_id, dom.name)}
