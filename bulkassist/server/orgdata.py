"""What an organisation has configured: enabled domains and select lists (with their ETag)."""

from __future__ import annotations

import hashlib
import json
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.domains import BUILTIN, get_domain
from bulkassist.engine.selectlists import StaticLists
from bulkassist.errors import DomainNotEnabled, UnknownDomain
from bulkassist.server.models import OrgDomain, SelectList, SelectValue
from bulkassist.spec import Domain


def enabled_domains(session: Session, org_id: int) -> dict[str, bool]:
    """Every built-in domain -> enabled for this organisation."""
    overrides = dict(session.execute(
        sa.select(OrgDomain.domain, OrgDomain.enabled).where(OrgDomain.org_id == org_id)).all())
    return {name: overrides.get(name, d.available_by_default) for name, d in BUILTIN.items()}


def domain_for(session: Session, org_id: int, name: str) -> Domain:
    """The domain `name` if it exists and the organisation has it enabled; else 404 / 403."""
    domain = get_domain(name)
    if not enabled_domains(session, org_id)[domain.name]:
        raise DomainNotEnabled(f"the {domain.title} domain is not enabled for your organisation "
                               f"({domain.description}); ask your administrator to enable it")
    return domain


def lists_for(session: Session, org_id: int, names: list[str] | None = None) -> StaticLists:
    """The organisation's select lists (all, or only `names`), values in their configured order."""
    query = sa.select(SelectValue.list_name, SelectValue.value, SelectValue.label).where(
        SelectValue.org_id == org_id).order_by(SelectValue.list_name, SelectValue.position, SelectValue.id)
    if names is not None:
        query = query.where(SelectValue.list_name.in_(names))
    lists: dict[str, list[tuple[str, str]]] = {name: [] for name in names or []}
    for list_name, value, label in session.execute(query):
        lists.setdefault(list_name, []).append((value, label))
    return StaticLists(lists)


def etag_of(payload: object) -> str:
    """A strong ETag of a JSON payload: clients revalidate their cache with If-None-Match."""
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    return f'"{digest}"'


def list_version(session: Session, org_id: int, name: str) -> str | None:
    """The list's current version (None: the organisation has no such list)."""
    return session.scalar(sa.select(SelectList.version).where(SelectList.org_id == org_id,
                                                              SelectList.list_name == name))


def replace_list(session: Session, org_id: int, name: str, options: list[tuple[str, str]]) -> None:
    """Replace the list's values (none: delete the list); its version changes in the same transaction."""
    session.execute(sa.delete(SelectValue).where(SelectValue.org_id == org_id, SelectValue.list_name == name))
    session.execute(sa.delete(SelectList).where(SelectList.org_id == org_id, SelectList.list_name == name))
    if not options:
        return
    session.execute(sa.insert(SelectList).values(org_id=org_id, list_name=name, version=uuid.uuid4().hex))
    session.execute(sa.insert(SelectValue), [
        {"org_id": org_id, "list_name": name, "position": i, "value": v, "label": lbl}
        for i, (v, lbl) in enumerate(options)
    ])


def builtin_domain(name: str) -> Domain:
    try:
        return BUILTIN[name]
    except KeyError:
        raise UnknownDomain(f"unknown domain {name!r}") from None
