"""Built-in domain specs, one module per seed system. A new domain is a new module listed here."""

from __future__ import annotations

from bulkassist.errors import UnknownDomain
from bulkassist.spec import Domain, name_key

from . import (
    address_history,
    business_client,
    case,
    client,
    client_assignment,
    contact,
    course_record,
    payment,
    qualification,
)

BUILTIN: dict[str, Domain] = {
    m.DOMAIN.name: m.DOMAIN
    for m in (client, client_assignment, payment, case, qualification, business_client, contact,
              address_history, course_record)
}


_BY_KEY = {name_key(name): domain for name, domain in BUILTIN.items()}


def get_domain(name: str | Domain) -> Domain:
    """The built-in domain `name` names, in any case and spelling ("Client Assignment", "client-assignment");
    a Domain passes through unchanged."""
    if isinstance(name, Domain):
        return name
    domain = _BY_KEY.get(name_key(name))
    if domain is None:
        raise UnknownDomain(f"unknown domain {name!r}; choose one of: {', '.join(BUILTIN)}")
    return domain


def all_domains() -> list[Domain]:
    return list(BUILTIN.values())
