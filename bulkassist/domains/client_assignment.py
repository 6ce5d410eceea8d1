"""Client Assignment records — enrolments (seed 000_abcd5cbd6f8e3c0a).

Assignments are identified by Client ID + CourseID + SectionID; a changed
SectionID is a new assignment (an Add), never a transfer. The client (by its
Client ID) and the course section must exist. Auto Create Invoices (Add,
Add & Update) creates an invoice for each inserted assignment only.
"""

from bulkassist.spec import (
    ADD,
    ADD_UPDATE,
    UPDATE,
    CourseLink,
    Domain,
    Field,
    Kind,
    Option,
    ParentLink,
)

SEED = "000_abcd5cbd6f8e3c0a.txt"
_KEY = frozenset({ADD, UPDATE, ADD_UPDATE})

DOMAIN = Domain(
    name="client_assignment",
    title="Client Assignment",
    seed=SEED,
    description="Import or update client enrollments and assignment information.",
    match_key=("Client ID", "CourseID", "SectionID"),
    id_field="Assignment ID",
    name_fields=("Client ID", "CourseID", "SectionID"),
    parents=(ParentLink("Client ID", "client", "Client ID"),),
    course_link=CourseLink("CourseID", "SectionID"),
    fields=(
        Field("Client ID", Kind.ID, aliases=("ClientID",), required_for=_KEY, pattern=r"^[0-9]{1,12}$",
              pattern_hint="a whole-number Client ID such as 100234", example="100234"),
        Field("CourseID", Kind.ID, aliases=("Course ID", "Course"), required_for=_KEY,
              pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$", pattern_hint="a course identifier such as MATH101",
              example="MATH101"),
        Field("SectionID", Kind.ID, aliases=("Section ID", "Section"), required_for=_KEY,
              pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$", pattern_hint="a section identifier such as 01",
              example="01"),
        Field("Enrollment Status", Kind.SELECT, select_list="enrollment_status", required_for=frozenset({ADD}),
              aliases=("Enrolment Status", "Status")),
        Field("Registered By", Kind.SELECT, select_list="staff_name"),
        Field("Transcript Status", Kind.SELECT, select_list="transcript_status"),
        Field("Sponsor (Company)", Kind.SELECT, select_list="sponsor_company", aliases=("Sponsor Company", "Sponsor")),
        Field("Marketing Source", Kind.SELECT, select_list="marketing_source"),
        Field("Enrollment Date", Kind.DATE, formats=("%m/%d/%Y",), aliases=("Enrolment Date",), example="09/01/2026"),
    ),
    options=(
        Option("auto_create_invoices", "Auto Create Invoices", default=False, operations=(ADD, ADD_UPDATE),
               description="Create an invoice for each newly added assignment; updated assignments get none."),
    ),
)
