"""Payment records (seed 000_abcd5cbd6f8e3c0a).

"Payment imports are currently under development and may not be available in
all environments": the spec is declared so clients know the layout, but the
server only accepts it for organisations where it has been enabled. A payment
belongs to an existing client: its Client ID must exist in the organisation.
"""

from bulkassist.spec import ADD, Domain, Field, Kind, ParentLink

SEED = "000_abcd5cbd6f8e3c0a.txt"
_ADD = frozenset({ADD})

DOMAIN = Domain(
    name="payment",
    title="Payment",
    seed=SEED,
    description="Payment imports are under development and may not be available in all environments.",
    operations=(ADD,),
    id_field="Payment ID",
    name_fields=("Client ID", "Payment Date", "Amount"),
    available_by_default=False,
    parents=(ParentLink("Client ID", "client", "Client ID"),),
    fields=(
        Field("Client ID", Kind.ID, required_for=_ADD, pattern=r"^[0-9]{1,12}$",
              pattern_hint="a whole-number Client ID such as 100234"),
        Field("CourseID", Kind.ID, required_for=_ADD, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$",
              pattern_hint="a course identifier such as MATH101"),
        Field("SectionID", Kind.ID, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$",
              pattern_hint="a section identifier such as 01"),
        Field("Payment Date", Kind.DATE, required_for=_ADD, formats=("%m/%d/%Y",)),
        Field("Amount", Kind.NUMBER, required_for=_ADD, minimum=0.01, example="125.00"),
        Field("Payment Method", Kind.SELECT, select_list="payment_method", required_for=_ADD),
        Field("Reference", max_length=64),
    ),
)
