"""Cases (seed 001_9e41d55abf48a22b: Bulk Case Import).

Headers exactly as listed, in any order, any subset; `Custom.<NAME>` columns
fill custom fields. Cases are created (the import action is Create); the
duplicate action decides what happens when the Identifier already exists.
"""

from bulkassist.spec import ADD, Domain, Field, Kind, Option, Rule

SEED = "001_9e41d55abf48a22b.txt"
_USER_ID = r"^user_[A-Za-z0-9]+$"

DOMAIN = Domain(
    name="case",
    title="Case",
    seed=SEED,
    description="Create cases, with custom fields, optionally running the organisation's workflow.",
    operations=(ADD,),
    match_key=("Identifier",),
    id_field="Case ID",
    name_fields=("FirstName", "LastName", "Identifier"),
    sequence_field="TreatmentPeriod",
    custom_prefix="Custom.",
    default_separator=",",
    fields=(
        Field("Identifier", max_length=64, example="jd123"),
        Field("FirstName", max_length=64, example="John"),
        Field("LastName", max_length=64, example="Doe"),
        Field("Email", Kind.EMAIL, max_length=254, example="jd1@example.edu"),
        Field("CellPhoneNumber", Kind.PHONE, formats=("555-555-5555", "555.555.5555", "(555) 555-5555"),
              example="333-333-4444"),
        Field("AltPhoneNumber", Kind.PHONE, formats=("555-555-5555", "555.555.5555", "(555) 555-5555"),
              example="333-333-5555"),
        Field("ReferralSource", Kind.SELECT, select_list="referral_source", match_labels=True, example="HOUSING"),
        Field("ReferralType", Kind.SELECT, select_list="referral_type", match_labels=True, example="BASICS"),
        Field("Flags", Kind.MULTI_SELECT, select_list="flag", separator=",", example="BLACK,YELLOW"),
        Field("Status", Kind.SELECT, select_list="case_status", example="ACTIVE"),
        Field("TreatmentPeriod", Kind.INTEGER, minimum=1, example="1"),
        Field("ProviderUserID", Kind.ID, pattern=_USER_ID, pattern_hint="a User ID such as user_FJE3892JIE2141E",
              example="user_FJE3892JIE2141E", names_user="user"),
        Field("LegacyID", max_length=64, description="Import of legacy records only."),
        Field("CreatedAt", Kind.DATE, formats=("%m/%d/%Y", "%Y-%m-%d"),
              description="Date Created; import of legacy records only."),
        Field("CreatedByID", Kind.ID, pattern=_USER_ID, pattern_hint="a User ID such as user_AES3903FEIWJF1",
              example="user_AES3903FEIWJF1", names_user="importer"),
    ),
    rules=(
        Rule("unique_together", ("Identifier",),
             "Identifier '{value}' appears on rows {rows}; each row creates a case, so this person gets several "
             "cases (the import shows no duplicate warning).", severity="warning"),
    ),
    options=(
        Option("run_workflow", "Run Workflow on Import", default=False,
               description="Trigger the organisation's automated case-created events (survey invitations, notices)."),
        Option("duplicate_action", "Duplicate Case Action", kind="choice", default="create",
               choices=(("create", "Create case as provided"),
                        ("create_increment", "Create case and increment treatment period"),
                        ("skip", "Skip/Do not create")),
               description="What to do when a case with the same Identifier already exists."),
    ),
)
