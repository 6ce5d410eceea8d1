"""BrightClient address histories, linked to a client or a contact (seed 003_6c0aa2df1319d3af).

An address belongs to exactly one parent: a Client Reference or a Contact
Reference. If the parent fails, its addresses fail too. Date From must not be
after Date To.
"""

from bulkassist.spec import ADD, Domain, Field, Kind, ParentLink, Rule

SEED = "003_6c0aa2df1319d3af.txt"
_ADD = frozenset({ADD})
_DATE = ("%d/%m/%Y",)

DOMAIN = Domain(
    name="address_history",
    title="Address History",
    seed=SEED,
    description="Historical addresses of clients or contacts and the dates they were active.",
    operations=(ADD,),
    id_field="BrightClient ID",
    name_fields=("Address Line 1", "Town/City", "Postcode"),
    reference_field="Client Reference",
    parents=(
        ParentLink("Client Reference", "business_client", "Client Reference"),
        ParentLink("Contact Reference", "contact", "Contact Reference"),
    ),
    fields=(
        Field("Client Reference", max_length=32),
        Field("Contact Reference", max_length=32),
        Field("Address Line 1", required_for=_ADD, max_length=120),
        Field("Address Line 2", max_length=120),
        Field("Town/City", required_for=_ADD, max_length=80, aliases=("Town", "City")),
        Field("County", max_length=80),
        Field("Postcode", required_for=_ADD, max_length=10, aliases=("Post Code", "Postal Code"),
              pattern=r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$", pattern_hint="a UK postcode such as SW1A 1AA"),
        Field("Country", Kind.SELECT, select_list="country"),
        Field("Date From", Kind.DATE, formats=_DATE, required_for=_ADD),
        Field("Date To", Kind.DATE, formats=_DATE, description="Blank for the current address."),
    ),
    rules=(
        Rule("exactly_one", ("Client Reference", "Contact Reference"),
             "An address history must belong to exactly one parent: fill Client Reference or Contact Reference, "
             "not both and not neither."),
        Rule("date_order", ("Date From", "Date To"),
             "Date From {a} is after Date To {b}; an address cannot end before it starts."),
        Rule("not_future", ("Date From",), "Date From {value} is in the future."),
    ),
)
