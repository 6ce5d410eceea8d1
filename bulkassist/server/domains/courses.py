"""Course templates (seed 000): a blank template pre-filled with the records of one course.

Found from the specs: the domain whose `course_link` names a course section holds the enrolments,
and its `ParentLink` leads to the records enrolled (Client Assignment → Client). Either domain's
template can be pre-filled: with the course's enrolments, or with their parents.
"""

from __future__ import annotations

from bulkassist.domains import BUILTIN
from bulkassist.server.domains.base import RecordStore
from bulkassist.spec import Domain, ParentLink


def enrolments_for(dom: Domain) -> tuple[Domain, ParentLink] | None:
    """The domain of the course enrolments that pre-fill `dom`'s template (`dom` itself, or the domain of
    its children) and the enrolments' link to their parent; None when `dom` has no course template."""
    for enrolments in BUILTIN.values():
        if enrolments.course_link is None:
            continue
        for link in enrolments.parents:
            if dom.name in (enrolments.name, link.parent_domain):
                return enrolments, link
    return None


def prefilled_domains() -> list[Domain]:
    """Every domain whose template can be pre-filled from a course."""
    return [d for d in BUILTIN.values() if enrolments_for(d) is not None]


def course_rows(store: RecordStore, dom: Domain, course_code: str) -> list[dict[str, str]] | None:
    """`dom`'s template rows for the course: its enrolments in one of the course's sections, or their parents,
    each with its ID (the enrolment's parent ID, or the parent's own ID) so Submit updates it; None when
    `dom`'s template cannot be pre-filled."""
    found = enrolments_for(dom)
    if found is None:
        return None
    enrolments, link = found
    course = enrolments.course_link
    assert course is not None  # `enrolments_for` chose a domain with a course link
    sections = {s for c, s in store.sections() if c == course_code}
    enrolled = [r for r in store.with_key_part(enrolments, course.course_field, course_code)
                if (r.data or {}).get(course.section_field) in sections]
    if dom.name == enrolments.name:
        records, id_field = [(r.parent_id, r.data) for r in enrolled], link.field
    else:
        parents = store.data_by_id(dom.name, {r.parent_id for r in enrolled if r.parent_id is not None})
        records, id_field = sorted(parents.items()), link.parent_field
    names = set(dom.field_names)
    return [{**{k: str(v) for k, v in (data or {}).items() if k in names}, id_field: str(record_id)}
            for record_id, data in records]
