"""Built-in domain specs, one module per seed system. A new domain is a new module listed here."""

from __future__ import annotations

from bulkassist.errors import UnknownDomain
from bulkassist.spec import Domain

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


def get_domain(name: str | Domain) -> Domain:
    """The built-in domain called `name` (a Domain passes through unchanged)."""
    if isinstance(name, Domain):
        return name
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return BUILTIN[key]
    except KeyError:
        raise UnknownDomain(
            f"unknown domain {name!r}; choose one of: {', '.join(BUILTIN)}"
        ) from None


def all_domains() -> list[Domain]:
    return list(BUILTIN.values())
