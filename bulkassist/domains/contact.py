"""BrightClient contacts — people linked to a business client (seed 003_6c0aa2df1319d3af).

If the parent client fails, its contacts fail too.
"""

from bulkassist.spec import ADD, Domain, Field, Kind, ParentLink

SEED = "003_6c0aa2df1319d3af.txt"
_ADD = frozenset({ADD})

DOMAIN = Domain(
    name="contact",
    title="Contact",
    seed=SEED,
    description="Individual person records associated with clients: name, contact details and roles.",
    operations=(ADD,),
    match_key=("Contact Reference",),
    id_field="BrightClient ID",
    name_fields=("First Name", "Last Name"),
    reference_field="Client Reference",
    parents=(ParentLink("Client Reference", "business_client", "Client Reference"),),
    fields=(
        Field("Contact Reference", required_for=_ADD, max_length=32, aliases=("Contact Ref",), example="C-0001"),
        Field("Client Reference", required_for=_ADD, max_length=32, aliases=("Client Ref",), example="ACME001"),
        Field("Title", Kind.SELECT, select_list="title"),
        Field("First Name", required_for=_ADD, max_length=80),
        Field("Last Name", required_for=_ADD, max_length=80),
        Field("Email", Kind.EMAIL, max_length=254),
        Field("Phone", max_length=32),
        Field("Role", Kind.SELECT, select_list="contact_role", example="Director"),
    ),
)
