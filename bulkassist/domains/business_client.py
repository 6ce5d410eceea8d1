"""BrightClient business clients (seed 003_6c0aa2df1319d3af).

Sent in batches of at most 10 MB; contacts and address histories link to a
client by Client Reference and are resolved once every batch has arrived.
"""

from bulkassist.spec import ADD, Domain, Field, Kind

SEED = "003_6c0aa2df1319d3af.txt"
_ADD = frozenset({ADD})

DOMAIN = Domain(
    name="business_client",
    title="Business Client",
    seed=SEED,
    description="Company and organisation records: registered name, client type, reference numbers, contact details.",
    operations=(ADD,),
    match_key=("Client Reference",),
    id_field="BrightClient ID",
    name_fields=("Registered Name",),
    reference_field="Client Reference",
    fields=(
        Field("Client Reference", required_for=_ADD, max_length=32, aliases=("Reference", "Client Ref"),
              example="ACME001"),
        Field("Registered Name", required_for=_ADD, max_length=160, aliases=("Company Name", "Name"),
              example="Acme Widgets Ltd"),
        Field("Client Type", Kind.SELECT, select_list="business_client_type", required_for=_ADD,
              example="Limited Company"),
        Field("Company Number", Kind.ID, pattern=r"^(?:[A-Z]{2}[0-9]{6}|[0-9]{8})$", zero_pad=8,
              pattern_hint="8 characters, e.g. 01234567 or SC123456", example="01234567"),
        Field("VAT Number", Kind.ID, pattern=r"^(?:GB)?[0-9]{9}$", pattern_hint="9 digits, optionally after GB",
              example="GB123456789"),
        Field("UTR", Kind.ID, pattern=r"^[0-9]{10}$", zero_pad=10, pattern_hint="10 digits", example="1234567890"),
        Field("Email", Kind.EMAIL, max_length=254),
        Field("Phone", max_length=32, example="020 7946 0000"),
    ),
)
