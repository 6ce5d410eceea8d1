"""Administration: organisations, users, tokens, passwords, permission groups, limits, domains, select lists,
unlock.

Used by `bulkassist admin ...` (directly on the database), by the org-admin
routes (`/api/v1/admin/...`) and by the demo data.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.errors import Conflict, InvalidRequest, NotFound
from bulkassist.server.auth import issue_token
from bulkassist.server.db import rows_changed
from bulkassist.server.models import (
    ApiToken,
    DomainLock,
    GroupMember,
    Organisation,
    OrgDomain,
    PermissionGroup,
    User,
    utcnow,
)
from bulkassist.server.orgdata import builtin_domain, replace_list
from bulkassist.server.signin import end_sessions
from bulkassist.server.signin import set_password as _set_password


def organisation(session: Session, name: str) -> Organisation:
    org = session.scalars(sa.select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        raise NotFound(f"no organisation named {name!r}")
    return org


def create_org(session: Session, name: str, *, licensed: bool = True, limit_day: int | None = None,
               limit_week: int | None = None, limit_month: int | None = None) -> Organisation:
    if session.scalars(sa.select(Organisation).where(Organisation.name == name)).first() is not None:
        raise Conflict(f"an organisation named {name!r} already exists")
    org = Organisation(name=name, licensed=licensed, limit_day=limit_day, limit_week=limit_week,
                       limit_month=limit_month)
    session.add(org)
    session.flush()
    return org


def set_limits(session: Session, org: Organisation, *, day: int | None, week: int | None,
               month: int | None) -> None:
    org.limit_day, org.limit_week, org.limit_month = day, week, month


def enable_domain(session: Session, org: Organisation, domain: str, enabled: bool = True) -> None:
    builtin_domain(domain)
    session.merge(OrgDomain(org_id=org.id, domain=domain, enabled=enabled))


def create_group(session: Session, org: Organisation, name: str, *, import_domains: Iterable[str] = (),
                 is_admin: bool = False, record_domains: Iterable[str] = (),
                 export_domains: Iterable[str] = ()) -> PermissionGroup:
    """A permission group: Bulk Upload (`import_domains`), Manage records (`record_domains`), Data Export
    (`export_domains`) per domain ("*": all), or an administrator group (all of them)."""
    if session.scalars(sa.select(PermissionGroup).where(PermissionGroup.org_id == org.id,
                                                        PermissionGroup.name == name)).first() is not None:
        raise Conflict(f"a permission group named {name!r} already exists")
    grants = [list(dict.fromkeys(d)) for d in (import_domains, record_domains, export_domains)]
    for d in (d for grant in grants for d in grant):
        if d != "*":
            builtin_domain(d)
    group = PermissionGroup(org_id=org.id, name=name, is_admin=is_admin, import_domains=grants[0],
                            record_domains=grants[1], export_domains=grants[2])
    session.add(group)
    session.flush()
    return group


def group(session: Session, org_id: int, name: str) -> PermissionGroup:
    found = session.scalars(sa.select(PermissionGroup).where(PermissionGroup.org_id == org_id,
                                                             PermissionGroup.name == name)).first()
    if found is None:
        raise NotFound(f"no permission group named {name!r} in your organisation")
    return found


def create_user(session: Session, org: Organisation, name: str, *, email: str | None = None,
                groups: Iterable[str] = ()) -> User:
    if session.scalars(sa.select(User).where(User.org_id == org.id, User.name == name)).first() is not None:
        raise Conflict(f"a user named {name!r} already exists in {org.name!r}")
    user = User(org_id=org.id, name=name, email=email)
    session.add(user)
    session.flush()
    for g in dict.fromkeys(groups):
        session.add(GroupMember(group_id=group(session, org.id, g).id, user_id=user.id))
    return user


def user(session: Session, name: str, org: Organisation | None = None) -> User:
    """The user named `name` (of `org`; without one, the name must be unique across organisations)."""
    query = sa.select(User).where(User.name == name)
    if org is not None:
        query = query.where(User.org_id == org.id)
    found = session.scalars(query.limit(2)).all()
    if not found:
        raise NotFound(f"no user named {name!r}" + (f" in {org.name!r}" if org is not None else ""))
    if len(found) > 1:
        raise InvalidRequest(f"several organisations have a user named {name!r}; name the organisation too (--org)")
    return found[0]


def create_token(session: Session, user: User, name: str = "token") -> str:
    return issue_token(session, user.id, name)


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every live token of `user`, and end their sign-in sessions; how many tokens were revoked."""
    end_sessions(session, user.id)
    return rows_changed(session, sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))


def set_password(session: Session, user: User, password: str) -> int:
    """Give `user` a password to sign in to the dashboard with (stored as an argon2id hash); ends their open
    sign-in sessions (how many)."""
    return _set_password(session, user, password)


def set_list(session: Session, org: Organisation, name: str, options: list[tuple[str, str]]) -> None:
    replace_list(session, org.id, name, options)


def unlock(session: Session, org_id: int, domain: str) -> bool:
    """Release an importer lock (seed 004: a site admin unlocks a hung course record import)."""
    lock = session.get(DomainLock, (org_id, domain))
    if lock is None:
        return False
    session.delete(lock)
    return True
