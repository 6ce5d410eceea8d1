"""Client records (seed 000_abcd5cbd6f8e3c0a: Bulk Data Import, Client domain).

Add needs First Name and Last Name; Update needs Client ID; Add & Update
decides by Client ID. A populated Client ID under Add is treated as an Update.
No duplicate checking on names, email, phone, SSN or date of birth.
"""

from bulkassist.spec import ADD, UPDATE, Domain, Field, Kind, Rule

SEED = "000_abcd5cbd6f8e3c0a.txt"

DOMAIN = Domain(
    name="client",
    title="Client",
    seed=SEED,
    description="Import new client records or update existing client demographic and contact information.",
    match_key=("Client ID",),
    id_field="Client ID",
    name_fields=("First Name", "Last Name"),
    fields=(
        Field("Client ID", Kind.ID, aliases=("ClientID", "Client Id", "ID"), required_for=frozenset({UPDATE}),
              pattern=r"^[0-9]{1,12}$", pattern_hint="a whole-number Client ID such as 100234",
              description="Blank creates a new client; a Client ID updates that client.", example="100234"),
        Field("First Name", required_for=frozenset({ADD}), aliases=("FirstName", "Given Name"), max_length=50,
              example="Maria"),
        Field("Last Name", required_for=frozenset({ADD}), aliases=("LastName", "Surname", "Family Name"),
              max_length=50, example="Lopez"),
        Field("Email Address", Kind.EMAIL, aliases=("Email", "E-mail", "Email Addr"), max_length=254,
              example="maria.lopez@example.org"),
        Field("Phone Number", Kind.PHONE, aliases=("Phone", "Telephone", "Phone No"), formats=("(999) 999-9999",),
              example="(727) 123-1234"),
        Field("SSN", Kind.SSN, aliases=("Social Security Number", "SSN Number"), example="123456789",
              description="Nine digits, no dashes."),
        Field("Date of Birth", Kind.DATE, aliases=("DOB", "Birth Date", "Birthdate"), formats=("%m/%d/%Y",),
              example="02/03/1990"),
        Field("Sponsor Name", Kind.SELECT, select_list="sponsor_name", aliases=("Sponsor",)),
        Field("Ethnicity", Kind.SELECT, select_list="ethnicity"),
        Field("Language", Kind.SELECT, select_list="language", aliases=("Primary Language",)),
        Field("Funding Source", Kind.SELECT, select_list="funding_source"),
        Field("Staff Name", Kind.SELECT, select_list="staff_name", aliases=("Staff", "Case Manager")),
        Field("Diploma Status", Kind.SELECT, select_list="diploma_status"),
        Field("Job Status", Kind.SELECT, select_list="job_status", aliases=("Employment Status",)),
        Field("Adult Client", Kind.SELECT, select_list="adult_client"),
        Field("Client Type", Kind.SELECT, select_list="client_type"),
    ),
    rules=(
        Rule("not_future", ("Date of Birth",), "Date of Birth {value} is in the future."),
        # The system does no duplicate checking on names or birth dates: warn before it creates two clients.
        Rule("unique_together", ("First Name", "Last Name", "Date of Birth"),
             "The same First Name, Last Name and Date of Birth appear on rows {rows}; the import does not detect "
             "duplicate clients, so this creates one client per row. Give existing clients their Client ID.",
             severity="warning"),
    ),
)
