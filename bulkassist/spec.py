"""The declaration of a domain: what a row of an import file means.

A domain spec is data. The validation engine (`validation.py`), the server's
commit rules (`server/`), the workbook painter (`workbook.py`, `excel/`) and
the dashboard all read these objects; none of them hard-codes a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bulkassist.errors import SchemaError

ADD = "add"
UPDATE = "update"
ADD_UPDATE = "add_update"
OPERATIONS = (ADD, UPDATE, ADD_UPDATE)
OPERATION_LABELS = {ADD: "Add", UPDATE: "Update", ADD_UPDATE: "Add & Update"}
# The seeds' upload limit: rows go to the server in batches of at most this many bytes of JSON.
BATCH_BYTES = 10 * 1024 * 1024

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def name_key(text: Any) -> str:
    """How a name a person wrote is compared: lower case, letters and digits only ("Add & Update" -> "addupdate").

    One rule for every name typed in a sheet, a command line or a request: operations, domains, options, choices.
    """
    return _NOT_ALNUM.sub("", str(text or "").lower())


_OPERATION_KEYS = {
    **{name_key(op): op for op in OPERATIONS},
    **{name_key(label): op for op, label in OPERATION_LABELS.items()},
    "addandupdate": ADD_UPDATE,
    "create": ADD,
}


def parse_operation(text: str) -> str:
    """The operation `text` names, in any case and spelling: add, update, add_update, "Add & Update",
    "add-update", "Add and Update" (and "create" for add)."""
    try:
        return _OPERATION_KEYS[name_key(text)]
    except KeyError:
        raise SchemaError(f"unknown operation {text!r}; use add, update or add_update "
                          f"({', '.join(OPERATION_LABELS.values())})") from None


# How a yes/no option may be written (a sheet cell, `--option NAME=VALUE`); a blank is no.
_YES = frozenset({"true", "yes", "y", "1", "on", "x"})
_NO = frozenset({"false", "no", "n", "0", "off", ""})


class Kind(str, Enum):
    """How a cell is parsed, checked and normalised (each has its module in `bulkassist.kinds`)."""

    TEXT = "text"
    INTEGER = "integer"  # a whole number; `minimum` bounds it
    NUMBER = "number"  # a decimal number; `minimum` bounds it
    DATE = "date"  # `format` is the strftime format the system wants
    PHONE = "phone"  # `format` is one of PHONE_FORMATS
    SSN = "ssn"  # nine digits, no separators
    EMAIL = "email"
    SELECT = "select"  # one value of `select_list`
    MULTI_SELECT = "multi_select"  # values of `select_list` joined by `separator`
    BOOLEAN = "boolean"  # 0/1, yes/no, true/false
    ID = "id"  # an identifier matched by `pattern`


# Phone layouts a field may ask for (each 9 a digit 0-9; `kinds.phone.layout_regex` makes a layout's
# regular expression); a field's first layout is what suggestions produce.
PHONE_FORMATS = ("(999) 999-9999", "999-999-9999", "999.999.9999")

# How a date format is shown to a person in messages and notes.
DATE_FORMAT_LABELS = {
    "%m/%d/%Y": "MM/DD/YYYY",
    "%d/%m/%Y": "dd/mm/yyyy",
    "%Y-%m-%d": "YYYY-MM-DD",
}


@dataclass(frozen=True)
class Field:
    """One column of a domain's import file."""

    name: str  # the header exactly as the system's template writes it
    kind: Kind = Kind.TEXT
    aliases: tuple[str, ...] = ()
    required_for: frozenset[str] = frozenset()  # operations in which a blank cell is an error
    max_length: int | None = None
    select_list: str | None = None  # name of the select list (SELECT / MULTI_SELECT)
    match_labels: bool = False  # a select cell may hold the option's label as well as its value
    formats: tuple[str, ...] = ()  # DATE: strftime formats accepted, first is canonical; PHONE: layouts accepted
    pattern: str | None = None  # ID / TEXT: regular expression the whole value must match
    pattern_hint: str | None = None  # how `pattern` is described to a person
    minimum: float | None = None
    separator: str = ","  # MULTI_SELECT
    zero_pad: int | None = None  # digits an all-digit ID must have (Excel strips leading zeros)
    # The cell names a user of the organisation by User ID (the server checks it exists): "user", or
    # "importer" when it should be the user running the import (a warning otherwise).
    names_user: str | None = None
    description: str = ""
    example: str = ""

    @property
    def format(self) -> str | None:
        """The canonical format (what suggestions produce)."""
        return self.formats[0] if self.formats else None

    @property
    def format_label(self) -> str | None:
        """The canonical format as a person reads it ("MM/DD/YYYY", "(999) 999-9999")."""
        if not self.formats:
            return None
        if self.kind is Kind.DATE:
            return DATE_FORMAT_LABELS.get(self.formats[0], self.formats[0])
        return self.formats[0]

    @property
    def list_name(self) -> str:
        """The select list of a SELECT / MULTI_SELECT field (`select_list`), which its spec must name."""
        if not self.select_list:
            raise SchemaError(f"{self.name} is a {self.kind.value} field without a select list; name it in the "
                              f"domain's spec (select_list=...)")
        return self.select_list

    def is_required(self, operation: str) -> bool:
        return operation in self.required_for


@dataclass(frozen=True)
class Option:
    """An import option a user chooses when starting the import."""

    name: str  # key in API payloads, e.g. "auto_create_invoices"
    label: str  # as the seed writes it, e.g. "Auto Create Invoices"
    kind: str = "boolean"  # "boolean" or "choice"
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for "choice"
    default: Any = False
    operations: tuple[str, ...] = OPERATIONS  # operations under which it is offered
    description: str = ""
    in_results: bool = False  # the results file shows the chosen value next to each row (a column per option)

    def value_label(self, value: Any) -> str:
        """How a chosen value reads in the results: a choice's label, Yes / No for a boolean."""
        if self.kind == "boolean":
            return "Yes" if value else "No"
        return dict(self.choices).get(value, str(value))

    def parse(self, raw: Any) -> Any:
        """The option's value from what a person gave: TRUE / yes / 1 / x (or FALSE / no / 0 / blank) for a
        boolean, a choice's value or label in any case for a choice."""
        if self.kind == "boolean":
            if isinstance(raw, (bool, int, float)) and raw in (0, 1):  # a JSON or sheet 0 / 1 (1.0 in Excel)
                return bool(raw)
            key = name_key(raw)
            if key in _YES or key in _NO:
                return key in _YES
            raise SchemaError(f"{raw!r} is not a value of {self.label!r}; use TRUE or FALSE")
        for value, label in self.choices:
            if name_key(raw) in (name_key(value), name_key(label)):
                return value
        raise SchemaError(f"{raw!r} is not a choice of {self.label!r}; use one of "
                          f"{', '.join(label for _, label in self.choices)}")


@dataclass(frozen=True)
class ParentLink:
    """A row that belongs to a record of another domain: a contact to its business client (by reference,
    resolved at commit, seed 003), an assignment to its client (by Client ID, which must exist, seed 000)."""

    field: str  # the column in this domain naming the parent
    parent_domain: str
    parent_field: str  # the parent's column the value names: its match key, or its own ID field


@dataclass(frozen=True)
class CourseLink:
    """A row that names a section of one of the organisation's courses (seed 000 enrolments).

    The server checks that the section exists, invoices its fee, and pre-fills a course's template
    with the records that name it (and with their parents).
    """

    course_field: str  # the column holding the Course Code
    section_field: str  # the column holding the section's code within that course


@dataclass(frozen=True)
class Rule:
    """A cross-field rule; `rules.py` holds the vectorised implementation named by `check`."""

    check: str  # key into rules.RULES
    fields: tuple[str, ...]
    message: str  # shown to the person; may use {field} placeholders
    severity: str = "error"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Domain:
    """Everything the system says about one kind of import."""

    name: str  # "client"
    title: str  # "Client"
    seed: str  # the help-centre article this domain comes from
    fields: tuple[Field, ...]
    operations: tuple[str, ...] = OPERATIONS
    match_key: tuple[str, ...] = ()  # fields that identify an existing record
    id_field: str | None = None  # the field that receives the created record's ID
    options: tuple[Option, ...] = ()
    rules: tuple[Rule, ...] = ()
    parents: tuple[ParentLink, ...] = ()
    course_link: CourseLink | None = None
    custom_prefix: str | None = None  # "Custom." lets users add custom-field columns
    strict_column_order: bool = False  # the file must hold exactly `fields` in this order
    max_file_bytes: int | None = None
    batch_bytes: int = BATCH_BYTES  # the most one upload batch may hold; the server refuses more (413)
    default_separator: str = ","
    available_by_default: bool = True  # Payment: the server decides whether it is enabled
    update_only_fields_present: bool = True  # only fields present in the file are changed
    # The system's export file, when it has one: (export header, field it comes from or None when the
    # import does not carry it), in the export's column order.
    export_columns: tuple[tuple[str, str | None], ...] = ()
    name_fields: tuple[str, ...] = ()  # how a record is named to a person (errors file), e.g. First + Last Name
    # The errors file repeats this column on every failure, next to the record's name (seed 003: the
    # client reference the record belongs to).
    reference_field: str | None = None
    # The field that numbers the records sharing one match key, when an option asks the server to count
    # them (seed 001: "increment treatment period").
    sequence_field: str | None = None
    description: str = ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"domain {self.name!r} has no field {name!r}")

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def required_fields(self, operation: str) -> list[Field]:
        return [f for f in self.fields if f.is_required(operation)]

    @property
    def select_lists(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.fields:
            if f.select_list:
                seen.setdefault(f.select_list)
        return list(seen)

    def file_too_large(self, source: str, size: int) -> str | None:
        """Why a file of `size` bytes is over the domain's file limit (seed 002: under 2 MB), or None when it
        is not: one sentence for local validation, every client's check before uploading, and the server."""
        limit = self.max_file_bytes
        if not limit or size <= limit:
            return None
        return (f"{source} is {size / 2**20:.1f} MB ({size:,} bytes); {self.title} files must be under "
                f"{limit / 2**20:g} MB ({limit:,} bytes). Split it into smaller files.")

    def option(self, name: str) -> Option:
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(f"domain {self.name!r} has no option {name!r}")

    def options_for(self, operation: str) -> list[Option]:
        return [o for o in self.options if operation in o.operations]

    def parse_operation(self, text: str | None) -> str:
        """The operation `text` names (see `parse_operation`) when this domain offers it; None: the domain's
        only operation, else add_update."""
        if text is None:
            return self.operations[0] if len(self.operations) == 1 else ADD_UPDATE
        op = parse_operation(text)
        if op not in self.operations:
            raise SchemaError(f"{self.title} imports do not support {OPERATION_LABELS[op]}; use "
                              f"{', '.join(OPERATION_LABELS[o] for o in self.operations)}")
        return op

    def parse_options(self, operation: str, options: dict[str, Any] | None) -> dict[str, Any]:
        """Every option of the domain, given ones parsed (`Option.parse`) and the rest at their defaults;
        an unknown option, a wrong value, or a yes under an operation that does not offer it is an error."""
        given = dict(options or {})
        out: dict[str, Any] = {}
        for opt in self.options:
            value = opt.parse(given.pop(opt.name)) if opt.name in given else opt.default
            if value is True and operation not in opt.operations:
                raise SchemaError(f"{opt.label} is only available for "
                                  f"{', '.join(OPERATION_LABELS[o] for o in opt.operations)}")
            out[opt.name] = value
        if given:
            raise SchemaError(f"{self.title} has no option {', '.join(map(repr, given))}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the server publishes and clients rebuild with `Domain.from_dict`."""
        return {
            "name": self.name,
            "title": self.title,
            "seed": self.seed,
            "description": self.description,
            "operations": list(self.operations),
            "match_key": list(self.match_key),
            "id_field": self.id_field,
            "custom_prefix": self.custom_prefix,
            "strict_column_order": self.strict_column_order,
            "max_file_bytes": self.max_file_bytes,
            "batch_bytes": self.batch_bytes,
            "default_separator": self.default_separator,
            "available_by_default": self.available_by_default,
            "update_only_fields_present": self.update_only_fields_present,
            "export_columns": [list(c) for c in self.export_columns],
            "name_fields": list(self.name_fields),
            "reference_field": self.reference_field,
            "sequence_field": self.sequence_field,
            "fields": [
                {
                    "name": f.name,
                    "kind": f.kind.value,
                    "aliases": list(f.aliases),
                    "required_for": sorted(f.required_for),
                    "max_length": f.max_length,
                    "select_list": f.select_list,
                    "match_labels": f.match_labels,
                    "formats": list(f.formats),
                    "pattern": f.pattern,
                    "pattern_hint": f.pattern_hint,
                    "minimum": f.minimum,
                    "separator": f.separator,
                    "zero_pad": f.zero_pad,
                    "names_user": f.names_user,
                    "description": f.description,
                    "example": f.example,
                }
                for f in self.fields
            ],
            "options": [
                {
                    "name": o.name,
                    "label": o.label,
                    "kind": o.kind,
                    "choices": [list(c) for c in o.choices],
                    "default": o.default,
                    "operations": list(o.operations),
                    "description": o.description,
                    "in_results": o.in_results,
                }
                for o in self.options
            ],
            "rules": [
                {
                    "check": r.check,
                    "fields": list(r.fields),
                    "message": r.message,
                    "severity": r.severity,
                    "params": r.params,
                }
                for r in self.rules
            ],
            "parents": [
                {"field": p.field, "parent_domain": p.parent_domain, "parent_field": p.parent_field}
                for p in self.parents
            ],
            "course_link": None if self.course_link is None else {
                "course_field": self.course_link.course_field, "section_field": self.course_link.section_field},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Domain:
        fields = tuple(
            Field(
                name=f["name"],
                kind=Kind(f["kind"]),
                aliases=tuple(f.get("aliases", ())),
                required_for=frozenset(f.get("required_for", ())),
                max_length=f.get("max_length"),
                select_list=f.get("select_list"),
                match_labels=f.get("match_labels", False),
                formats=tuple(f.get("formats", ())),
                pattern=f.get("pattern"),
                pattern_hint=f.get("pattern_hint"),
                minimum=f.get("minimum"),
                separator=f.get("separator", ","),
                zero_pad=f.get("zero_pad"),
                names_user=f.get("names_user"),
                description=f.get("description", ""),
                example=f.get("example", ""),
            )
            for f in d["fields"]
        )
        options = tuple(
            Option(
                name=o["name"],
                label=o["label"],
                kind=o.get("kind", "boolean"),
                choices=tuple(tuple(c) for c in o.get("choices", ())),
                default=o.get("default", False),
                operations=tuple(o.get("operations", OPERATIONS)),
                description=o.get("description", ""),
                in_results=o.get("in_results", False),
            )
            for o in d.get("options", ())
        )
        rules = tuple(
            Rule(
                check=r["check"],
                fields=tuple(r["fields"]),
                message=r["message"],
                severity=r.get("severity", "error"),
                params=r.get("params", {}),
            )
            for r in d.get("rules", ())
        )
        parents = tuple(ParentLink(**p) for p in d.get("parents", ()))
        course_link = CourseLink(**d["course_link"]) if d.get("course_link") else None
        return cls(
            name=d["name"],
            title=d["title"],
            seed=d.get("seed", ""),
            description=d.get("description", ""),
            fields=fields,
            operations=tuple(d.get("operations", OPERATIONS)),
            match_key=tuple(d.get("match_key", ())),
            id_field=d.get("id_field"),
            options=options,
            rules=rules,
            parents=parents,
            course_link=course_link,
            custom_prefix=d.get("custom_prefix"),
            strict_column_order=d.get("strict_column_order", False),
            max_file_bytes=d.get("max_file_bytes"),
            batch_bytes=d.get("batch_bytes", BATCH_BYTES),
            default_separator=d.get("default_separator", ","),
            available_by_default=d.get("available_by_default", True),
            update_only_fields_present=d.get("update_only_fields_present", True),
            export_columns=tuple((c[0], c[1]) for c in d.get("export_columns", ())),
            name_fields=tuple(d.get("name_fields", ())),
            reference_field=d.get("reference_field"),
            sequence_field=d.get("sequence_field"),
        )
