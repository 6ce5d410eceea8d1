"""Course record imports — enrolments, completions and credit (seed 004_d848608b8857bd94).

One credit type per row; no credits on a record that is not complete
(complete=0); the same learner + course + credit type twice in one file is an
error. The importer cannot update enrolments or credit already assigned, so
its only operation is Add. A hung import is locked until a site admin unlocks it.

The importer is course-level (its records are reported in PARS) or the global
course report importer (legacy data, not in PARS): an option, kept on every
record and shown in the results. A record names an existing course unless the
import may create course shells (which have no certificates).
"""

from bulkassist.spec import ADD, Domain, Field, Kind, Option, Rule

SEED = "004_d848608b8857bd94.txt"
_ADD = frozenset({ADD})

DOMAIN = Domain(
    name="course_record",
    title="Course Record",
    seed=SEED,
    description="Import course enrolments, completions and credit records (legacy data).",
    operations=(ADD,),
    match_key=("username", "course_code", "credit_type"),
    id_field="Record ID",
    name_fields=("username", "course_code", "credit_type"),
    fields=(
        Field("username", required_for=_ADD, max_length=100, aliases=("user", "learner", "email"),
              example="jsmith@example.org"),
        Field("course_code", Kind.ID, required_for=_ADD, aliases=("course", "course id"),
              pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$", pattern_hint="a course code such as PHARM-101",
              example="PHARM-101"),
        Field("complete", Kind.BOOLEAN, required_for=_ADD, aliases=("completed",), example="1",
              description="1 when the learner completed the course, 0 otherwise."),
        Field("completion_date", Kind.DATE, formats=("%m/%d/%Y", "%Y-%m-%d")),
        Field("credit_type", Kind.SELECT, select_list="credit_type", aliases=("credit type",), example="CPE"),
        Field("credits", Kind.NUMBER, minimum=0, example="1.5"),
        Field("score", Kind.NUMBER, minimum=0),
    ),
    options=(
        Option("importer", "Importer", kind="choice", default="course",
               choices=(("course", "Course-level importer (reported in PARS)"),
                        ("global", "Global course report importer (legacy data, not in PARS)")),
               in_results=True,
               description="The global course report importer is for legacy data only: its records are not "
                           "included in PARS reports. To include them in PARS, use the course-level importer."),
        Option("create_course_shells", "Create course shells", default=False,
               description="A course_code that names no course creates a course shell. Imported shells have no "
                           "certificates: if a certificate is needed, create the course first and import into it."),
    ),
    rules=(
        Rule("single_value", ("credit_type",),
             "One credit type per row: '{value}' names several. Put each credit type on its own row."),
        Rule("forbidden_unless", ("credits", "complete"),
             "Credits {value} on a record that is not complete (complete=0): the imported credit record is the one "
             "that remains. Set complete=1 or leave credits blank.",
             params={"when_true": "complete"}),
        Rule("requires_when", ("credits", "credit_type"),
             "Credits need a credit_type on the same row.", params={"any_value": True}),
        Rule("unique_together", ("username", "course_code", "credit_type"),
             "The same learner, course and credit type appear more than once in this file (rows {rows}); "
             "enter only one row per credit type awarded."),
    ),
)
