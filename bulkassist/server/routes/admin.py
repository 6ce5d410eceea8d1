"""Organisation administration over HTTP (admins only): users, tokens, groups, select lists, locks, webhooks."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query

from bulkassist.errors import NotFound
from bulkassist.server import admin, events
from bulkassist.server.domains.course_record import (
    credit_types,
    describe_credit_type,
    set_credit_type,
)
from bulkassist.server.models import (
    DomainLock,
    Organisation,
    PermissionGroup,
    User,
    Webhook,
    user_ref,
)
from bulkassist.server.orgdata import domain_for
from bulkassist.server.routes.deps import CallerDep, SessionDep
from bulkassist.server.schemas import (
    NO_NUL,
    CreditTypeInfo,
    CreditTypeSettings,
    DeliveryInfo,
    GroupCreated,
    GroupInfo,
    ListOption,
    ListReplaced,
    LockInfo,
    NewCreditType,
    NewGroup,
    NewPassword,
    NewUser,
    NewWebhook,
    OrgSettings,
    PasswordSet,
    TokenIssued,
    Unlocked,
    UserCreated,
    UserInfo,
    WebhookCreated,
    WebhookDeleted,
    WebhookInfo,
    error_responses,
)

router = APIRouter(prefix="/admin", tags=["admin"], responses=error_responses(400, 401, 403, 404, 409, 422))


@router.get("/settings", response_model=OrgSettings)
def settings(caller: CallerDep, session: SessionDep) -> dict:
    """Your organisation's settings: how many days after its commit an import can be undone."""
    caller.require_admin()
    return {"undo_retention_days": session.get_one(Organisation, caller.org_id).undo_retention_days}


@router.put("/settings", response_model=OrgSettings)
def put_settings(body: OrgSettings, caller: CallerDep, session: SessionDep) -> dict:
    """Change your organisation's settings (the undo retention period, in days)."""
    caller.require_admin()
    session.get_one(Organisation, caller.org_id).undo_retention_days = body.undo_retention_days
    return {"undo_retention_days": body.undo_retention_days}


@router.get("/users", response_model=list[UserInfo])
def users(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(User).where(User.org_id == caller.org_id).order_by(User.id)).all()
    return [{"id": u.id, "user_ref": user_ref(u.id), "name": u.name, "email": u.email, "active": u.active}
            for u in found]


@router.post("/users", status_code=201, response_model=UserCreated)
def create_user(body: NewUser, caller: CallerDep, session: SessionDep) -> dict:
    caller.require_admin()
    org = session.get_one(Organisation, caller.org_id)
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


@router.put("/users/{user_id}/password", response_model=PasswordSet)
def set_password(body: NewPassword, caller: CallerDep, session: SessionDep,
                 user_id: int = Path(..., ge=1, le=2**31 - 1)) -> dict:
    """Give a user of your organisation a password to sign in with (POST /sessions); ends their open sessions.
    Stored as an argon2id hash, never answered or logged."""
    caller.require_admin()
    user = session.get(User, user_id)
    if user is None or user.org_id != caller.org_id:
        raise NotFound(f"user {user_id} not found in your organisation")
    return {"user": user.name, "sessions_ended": admin.set_password(session, user, body.password)}


@router.get("/groups", response_model=list[GroupInfo])
def groups(caller: CallerDep, session: SessionDep) -> list[dict]:
    caller.require_admin()
    found = session.scalars(sa.select(PermissionGroup).where(PermissionGroup.org_id == caller.org_id)).all()
    return [{"id": g.id, "name": g.name, "is_admin": g.is_admin, "import_domains": g.import_domains,
             "record_domains": g.record_domains or [], "export_domains": g.export_domains or []} for g in found]


@router.post("/groups", status_code=201, response_model=GroupCreated)
def create_group(body: NewGroup, caller: CallerDep, session: SessionDep) -> dict:
    caller.require_admin()
    for d in [*body.import_domains, *body.record_domains, *body.export_domains]:
        if d != "*":
            domain_for(session, caller.org_id, d)
    org = session.get_one(Organisation, caller.org_id)
    g = admin.create_group(session, org, body.name, import_domains=body.import_domains, is_admin=body.is_admin,
                           record_domains=body.record_domains, export_domains=body.export_domains)
    return {"id": g.id, "name": g.name}


@router.put("/lists/{list_name}", response_model=ListReplaced)
def put_list(body: list[ListOption], caller: CallerDep, session: SessionDep,
             list_name: str = Path(..., min_length=1, max_length=64, pattern=NO_NUL)) -> dict:
    """Replace one select list of your organisation (clients see the new ETag)."""
    caller.require_admin()
    org = session.get_one(Organisation, caller.org_id)
    admin.set_list(session, org, list_name, [(o.value, o.label or o.value) for o in body])
    return {"list": list_name, "values": len(body)}


@router.get("/credit-types", response_model=list[CreditTypeInfo])
def list_credit_types(caller: CallerDep, session: SessionDep) -> list[dict]:
    """The organisation's credit types (seed 004): name, maximum credits, Variable."""
    caller.require_admin()
    return [describe_credit_type(t) for _, t in sorted(credit_types(session, caller.org_id).items())]


@router.post("/credit-types", status_code=201, response_model=CreditTypeInfo)
def create_credit_type(body: NewCreditType, caller: CallerDep, session: SessionDep) -> dict:
    """Add a credit type; course records are checked against it (409 when the name exists)."""
    caller.require_admin()
    org = session.get_one(Organisation, caller.org_id)
    return describe_credit_type(set_credit_type(session, org, body.name, body.max_credits, body.variable,
                                                replace=False))


@router.put("/credit-types/{name}", response_model=CreditTypeInfo)
def put_credit_type(body: CreditTypeSettings, caller: CallerDep, session: SessionDep,
                    name: str = Path(..., min_length=1, max_length=64, pattern=NO_NUL)) -> dict:
    """Create or change a credit type, e.g. enable Variable before importing partial credit."""
    caller.require_admin()
    org = session.get_one(Organisation, caller.org_id)
    return describe_credit_type(set_credit_type(session, org, name, body.max_credits, body.variable))


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


# ---------------------------------------------------------------- webhooks
@router.get("/webhooks", response_model=list[WebhookInfo])
def webhooks(caller: CallerDep, session: SessionDep) -> list[dict]:
    """The organisation's webhook URLs (Run Workflow on Import sends case-created events to each)."""
    caller.require_admin()
    found = session.scalars(sa.select(Webhook).where(Webhook.org_id == caller.org_id).order_by(Webhook.id)).all()
    return [events.describe_webhook(h) for h in found]


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
def add_webhook(body: NewWebhook, caller: CallerDep, session: SessionDep) -> dict:
    """Add a webhook URL; every body sent to it is signed with `secret` (HMAC-SHA256, header
    X-BulkAssist-Signature: sha256=<hex>). The secret is answered here once."""
    caller.require_admin()
    hook = events.add_webhook(session, caller.org_id, body.url, body.secret)
    return {**events.describe_webhook(hook), "secret": hook.secret}


@router.delete("/webhooks/{webhook_id}", response_model=WebhookDeleted)
def delete_webhook(caller: CallerDep, session: SessionDep,
                   webhook_id: int = Path(..., ge=1, le=2**31 - 1)) -> dict:
    """Remove a webhook URL: its pending deliveries are dropped with it."""
    caller.require_admin()
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.org_id != caller.org_id:
        raise NotFound(f"webhook {webhook_id} not found in your organisation")
    session.delete(hook)
    return {"id": webhook_id, "deleted": True}


@router.get("/webhooks/deliveries", response_model=list[DeliveryInfo])
def deliveries(caller: CallerDep, session: SessionDep,
               webhook_id: int | None = Query(None, ge=1, le=2**31 - 1),
               status: Literal["pending", "delivered", "failed"] | None = None,
               limit: int = Query(100, ge=1, le=1000)) -> list[dict]:
    """The delivery log, newest first: each event sent to each webhook with every attempt (time, the
    receiver's HTTP status or the error) and, while pending, when the next attempt is due."""
    caller.require_admin()
    return events.delivery_log(session, caller.org_id, webhook_id=webhook_id, status=status, limit=limit)
