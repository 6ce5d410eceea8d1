"""Registration & Certification records (seed 002_fc10a34e7011b16f).

The CSV holds exactly the listed columns in exactly this order, is under 2 MB,
uses a chosen separator (comma by default). Records match on ULN +
Qualification Number, and on Registration Number once one has been given.
"""

from bulkassist.spec import ADD_UPDATE, Domain, Field, Kind, Rule

SEED = "002_fc10a34e7011b16f.txt"
_MANDATORY = frozenset({ADD_UPDATE})
_DATE = ("%d/%m/%Y",)

# "The exported information has the following columns" (seed 002), for the Awarding Organisation.
# The learner's profile (name, address, programme...) lives elsewhere in that system; the import
# carries the qualification columns only, so the others export blank.
_LEARNER_COLUMNS = ("Title", "First Name", "Last Name", "Full Name", "Address Line 1", "Address Line 2",
                    "Address Town/City", "County", "Post Code", "Country", "Date of Birth", "Gender",
                    "Email address", "Ethnicity", "Start Date", "Planned Achievement Date", "Primary Tutor",
                    "Employer")
EXPORT_COLUMNS = (
    *((name, None) for name in _LEARNER_COLUMNS),
    ("ULN", "ULN"),
    ("Programme Name", None),
    ("Qualification Name", None),
    ("Qualification number", "Qualification Number"),
    ("Awarding Organisation", None),
    ("Status", "Status"),
    ("Registration number", "Registration number"),
    ("Registered Date", "Registration date"),
    ("Certificate Received Date", "Certificate received Date"),
    ("Certificate Claimed Date", "Certificate claimed date"),
    ("Achieved Date", "Achieved date"),
    ("Certificate Sent Date", "Certificate Sent Date"),
    ("Postal Tracking Reference", "Postal Tracking Reference"),
    ("QA Verified", None),
)

DOMAIN = Domain(
    name="qualification",
    title="Registration & Certification",
    seed=SEED,
    description="Create and update learners' qualification registrations and certificates.",
    operations=(ADD_UPDATE,),
    match_key=("ULN", "Qualification Number", "Registration number"),
    id_field="Record ID",
    name_fields=("ULN", "Qualification Number"),
    strict_column_order=True,
    max_file_bytes=2 * 1024 * 1024,
    export_columns=EXPORT_COLUMNS,
    fields=(
        Field("Qualification Number", required_for=_MANDATORY, max_length=128, example="60312345"),
        Field("ULN", required_for=_MANDATORY, max_length=128, example="1234567890"),
        Field("Status", Kind.SELECT, select_list="qualification_status", required_for=_MANDATORY, max_length=128,
              example="Registered"),
        Field("Registration number", max_length=128, example="REG-2026-0001"),
        Field("Registration date", Kind.DATE, formats=_DATE, example="15/09/2026"),
        Field("Certificate claimed date", Kind.DATE, formats=_DATE),
        Field("Achieved date", Kind.DATE, formats=_DATE),
        Field("Certificate received Date", Kind.DATE, formats=_DATE),
        Field("Certificate Sent Date", Kind.DATE, formats=_DATE),
        Field("Postal Tracking Reference", max_length=128),
    ),
    rules=(
        Rule("requires_when", ("Status", "Registration number"),
             "Status '{value}' is not permitted without a Registration number; the status will revert (to the "
             "record's previous status, or 'Not registered' for a new record). Add the Registration number or "
             "choose another status.",
             severity="warning",
             # Note 4: the server keeps the previous status, or `revert_to` for a new record.
             params={"values": ["Registered", "Achieved", "Certificate Claimed", "Certificate Received",
                                "Certificate Sent"], "revert_to": "Not registered"}),
    ),
)
