"""What each domain does on the server beyond its spec, one module per domain that needs more than
`base.RecordBehaviour` reads from the spec. A new domain with server behaviour is a new module
listed here (as `bulkassist.domains` lists the specs)."""

from __future__ import annotations

from bulkassist.server.domains import case, client_assignment, course_record, qualification
from bulkassist.server.domains.base import (
    OUTCOME_SCHEMA,
    Context,
    RecordBehaviour,
    RecordStore,
    outcomes,
)
from bulkassist.spec import Domain

BEHAVIOURS: dict[str, type[RecordBehaviour]] = {
    m.DOMAIN.name: m.BEHAVIOUR for m in (client_assignment, case, qualification, course_record)
}


def behaviour_for(domain: Domain) -> RecordBehaviour:
    """The server behaviour of `domain`: its module's, or the generic one its spec defines."""
    return BEHAVIOURS.get(domain.name, RecordBehaviour)(domain)


__all__ = ["BEHAVIOURS", "OUTCOME_SCHEMA", "Context", "RecordBehaviour", "RecordStore", "behaviour_for", "outcomes"]
