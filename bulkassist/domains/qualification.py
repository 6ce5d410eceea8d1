"""Registration & Certification records (seed 002_fc10a34e7011b16f).

The CSV holds exactly the listed columns in exactly this order, is under 2 MB,
uses a chosen separator (comma by default). Records match on ULN +
Qualification Number, and on Registration Number once one has been given.
"""

from bulkassist.spec import ADD_UPDATE, Domain, Field, Kind, Rule

SEED = "002_fc10a34e7011b16f.txt"
_MANDATORY = frozenset({ADD_UPDATE})
_DATE = ("%d/%m/%Y",)

DOMAIN = Domain(
    name="qualification",
    title="Registration & Certification",
    seed=SEED,
    description="Create and update learners' qualification registrations and certificates.",
    operations=(ADD_UPDATE,),
    match_key=("ULN", "Qualification Number", "Registration number"),
    id_field="Record ID",
    strict_column_order=True,
    max_file_bytes=2 * 1024 * 1024,
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
             "Status '{value}' is not permitted without a Registration number; the status will revert. "
             "Add the Registration number or choose another status.",
             severity="warning",
             params={"values": ["Registered", "Achieved", "Certificate Claimed", "Certificate Received",
                                "Certificate Sent"]}),
    ),
)
