"""The bodies the API reads and answers, as pydantic models: FastAPI checks requests and serialises
answers with them, and the OpenAPI document describes both from them.

Answers keep the fields, names and order of the JSON the server has always sent (clients and tests
read it); a model only describes and checks it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import PydanticCustomError

from bulkassist.io.batches import RowBatch, from_rows
from bulkassist.io.xlsx import MAX_CELL_CHARS, MEDIA_TYPE

# ---------------------------------------------------------------- requests
# Text the server stores or looks up: PostgreSQL text holds no NUL character, so the document says so
# (and both databases refuse it alike, with 422, before a query runs).
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=NO_NUL)]

# Request models are strict: a value passes only as the JSON type the OpenAPI document names (no 0 for
# false, no "3" for 3), so what the document calls valid is exactly what the server accepts.
class NewImport(BaseModel):
    model_config = ConfigDict(strict=True)

    domain: Text = Field(..., max_length=64, description="client, client_assignment, ...")
    operation: Text = Field(..., max_length=16, description="add, update or add_update")
    options: dict[str, Any] = Field(default_factory=dict, description="e.g. {\"auto_create_invoices\": true}")
    file_name: Text = Field("upload.csv", max_length=400)
    sheet: Text | None = Field(None, max_length=200)
    file_size: int | None = Field(None, ge=0, le=2**53,
                                  description="bytes of the file the rows come from; over the domain's file "
                                              "limit (max_file_bytes) the import is refused (413)")

    @field_validator("file_size", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        """JSON Schema calls 2.0 an integer: take it as 2 (a strict int alone would refuse it)."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


# A cell holds at most Excel's own limit of characters: a longer one could not be written back to a workbook.
Cell = Annotated[str, Field(max_length=MAX_CELL_CHARS)] | int | float | bool | None


class Batch(BaseModel):
    """Rows of the file, in file order; `first_row` is the 0-based position of the first one (the JSON
    form of a batch, for small hand-made requests; the client sends Arrow: `bulkassist.io.batches`)."""

    # Strict: a value passes only as the JSON type named here (no "3" for 3).
    model_config = ConfigDict(strict=True)

    batch_id: str = Field(..., min_length=1, max_length=200,
                          description="a non-empty text of at most 200 characters")
    first_row: int = Field(0, ge=0, description="the 0-based position of the batch's first row in the file")
    headers: list[str] = Field(..., description="the list of column headers as written in the file")
    rows: list[list[Cell]] = Field(..., description="a list of rows, each a list of cells")
    date_cells: dict[str, list[int]] | None = Field(
        None, description="a map of column indexes to the rows (0-based, in the batch) that were date cells")
    number_cells: dict[str, list[int]] | None = Field(
        None, description="a map of column indexes to the rows (0-based, in the batch) that were number cells")

    @field_validator("rows", mode="wrap")
    @classmethod
    def _rows_fit_headers(cls, rows: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
                          ) -> list[list[Cell]]:
        first = info.data.get("first_row", 0)
        try:
            rows = handler(rows)
        except ValidationError as exc:
            where = exc.errors()[0]["loc"]
            if len(where) < 2:
                raise  # not a list of lists: the field's own sentence
            if any(e["type"] == "string_too_long" for e in exc.errors()):
                row, col = where[0], int(where[1])  # a list's place: an int
                header = info.data["headers"][col] if col < len(info.data.get("headers", ())) else f"#{col + 1}"
                raise PydanticCustomError(
                    "batch_row", "row {row} of the batch, column '{column}': the cell is {length} characters long; "
                                 "a cell holds at most {limit} characters (Excel's own limit)",
                    {"row": first + int(row), "column": header, "length": f"{len(rows[row][col]):,}",
                     "limit": f"{MAX_CELL_CHARS:,}"}) from None
            raise PydanticCustomError("batch_row", "row {row} of the batch has a cell that is not text, a number "
                                                   "or null", {"row": first + int(where[0])}) from None
        if "headers" in info.data:
            width = len(info.data["headers"])
            wrong = next((i for i, r in enumerate(rows) if len(r) != width), None)
            if wrong is not None:
                raise PydanticCustomError("batch_row", "row {row} of the batch has {cells} cells for {width} "
                                                       "headers", {"row": first + wrong, "cells": len(rows[wrong]),
                                                                   "width": width})
        return rows

    def row_batch(self) -> RowBatch:
        """The batch as a frame, as an Arrow batch arrives (`bulkassist.io.batches`)."""
        return from_rows(self.batch_id, self.first_row, self.headers, self.rows,
                         {"date_cells": self.date_cells, "number_cells": self.number_cells})

    @classmethod
    def from_json(cls, raw: bytes) -> Batch:
        """The batch sent as `raw`; a ValueError whose message says the first thing wrong with it."""
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"the batch is not valid JSON ({exc})") from None
        except RecursionError:
            raise ValueError("the batch is nested too deeply to be a batch; send an object with batch_id, "
                             "first_row, headers and rows (a list of rows, each a list of cells)") from None
        try:
            return cls.model_validate(body)
        except ValidationError as exc:
            error = exc.errors()[0]
        if not error["loc"]:
            raise ValueError("the batch must be a JSON object with batch_id, first_row, headers and rows")
        if error["type"] == "batch_row":
            raise ValueError(error["msg"])
        name = str(error["loc"][0])
        raise ValueError(f"{name} must be {cls.model_fields[name].description}")


class RowEdit(BaseModel):
    model_config = ConfigDict(strict=True)

    # The cell cap is documented here and enforced by the service, whose message names the row.
    values: dict[str, Annotated[str, Field(json_schema_extra={"maxLength": MAX_CELL_CHARS})] | int | float | None] = (
        Field(..., min_length=1,
              description=f"{{header: new value}}, at least one; a text value holds at most {MAX_CELL_CHARS:,} characters"))


# A column mapping's target: a field name, `Custom.<NAME>`, or "-" (do not import).
Target = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]


class MappingChoice(BaseModel):
    """The Target Field of some columns; columns not named keep theirs, null returns one to automatic matching."""

    model_config = ConfigDict(strict=True)

    # Keys are checked by the service against the file's headers (a key matching no column is a 400 naming
    # the columns): a key pattern is not something every client of the document reads.
    mapping: dict[str, Target | None] = Field(
        ..., description='{column header: field name, "Custom.<NAME>", "-" (do not import) or null}')
    save: bool = Field(False, description="also save the mapping for the organisation and domain (Save Mapping)")
    name: Text | None = Field(None, min_length=1, max_length=200, description="the saved mapping's name")


class MappingSave(BaseModel):
    """A column mapping saved without an import (the Excel add-in's Map columns): the next file with these
    headers, in any order, is mapped by it."""

    model_config = ConfigDict(strict=True)

    name: Text = Field(..., min_length=1, max_length=200, description="the saved mapping's name")
    columns: dict[str, Target] = Field(
        ..., min_length=1, max_length=2000,
        description='{column header: field name, "Custom.<NAME>" or "-" (do not import)}')
    headers: list[Annotated[str, Field(max_length=400, pattern=NO_NUL)]] | None = Field(
        None, max_length=2000, description="every header of the file (default: the keys of `columns`); the "
                                           "mapping applies to files with exactly these headers")


class ImportOptions(BaseModel):
    """New options for an import not yet committed (seed 001's Start Import window); the options not named
    keep their value."""

    model_config = ConfigDict(strict=True)

    options: dict[str, Any] = Field(..., description="e.g. {\"run_workflow\": true, \"duplicate_action\": \"skip\"}")


class MappingRename(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Text = Field(..., min_length=1, max_length=200)


class BulkFix(BaseModel):
    """Every cell of `column` equal to `value` becomes `new_value` (apply to all)."""

    model_config = ConfigDict(strict=True)

    column: Text = Field(..., min_length=1, max_length=400, description="the column's header or its field")
    value: Text = Field(..., min_length=1, max_length=MAX_CELL_CHARS)
    new_value: Text = Field(..., max_length=MAX_CELL_CHARS)
    remember: bool = Field(False, description="remember the fix for the organisation: applied (and listed) on "
                                              "later files")


class UndoRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    force: bool = Field(False, description="undo records changed since the import too (otherwise they are "
                                           "conflicts, left as they are)")


class OrgSettings(BaseModel):
    model_config = ConfigDict(strict=True)

    undo_retention_days: int = Field(..., ge=0, le=3650,
                                     description="how many days after its commit an import can be undone")

    @field_validator("undo_retention_days", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        """JSON has one number type: 30.0 is the integer 30 (the document says integer), 30.5 is not."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


class NewUser(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Text = Field(..., min_length=1, max_length=200)
    email: Text | None = Field(None, max_length=254)
    groups: list[Text] = Field(default_factory=list)


class PasswordSignIn(BaseModel):
    """Sign in with `name` and `password` (and `organisation` when several have a user of that name). Sent in
    the body, never in the URL."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Text = Field(..., min_length=1, max_length=200)
    password: Text = Field(..., min_length=1, max_length=1024)
    organisation: Text | None = Field(None, max_length=200)


class TokenSignIn(BaseModel):
    """Sign in with an API `token` (sent in the body, never in the URL)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    token: Text = Field(..., min_length=1, max_length=200)


SignIn = PasswordSignIn | TokenSignIn


class NewPassword(BaseModel):
    model_config = ConfigDict(strict=True)

    password: Text = Field(..., min_length=8, max_length=1024, description="at least 8 characters")


class NewGroup(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Text = Field(..., min_length=1, max_length=200)
    is_admin: bool = False
    import_domains: list[Text] = Field(default_factory=list, description='Bulk Upload: domain names, or "*" for all')
    record_domains: list[Text] = Field(default_factory=list, description='Manage records (see the domain\'s '
                                       'screen and records): domain names, or "*" for all')
    export_domains: list[Text] = Field(default_factory=list, description='Data Export: domain names, or "*" for all')


# An absolute http(s) URL: a host name or address, an optional port, then printable ASCII only.
WEBHOOK_URL = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$"


class NewWebhook(BaseModel):
    model_config = ConfigDict(strict=True)

    url: str = Field(..., min_length=8, max_length=2000, pattern=WEBHOOK_URL,
                     description="absolute http(s) URL of the receiver, e.g. https://example.org/hooks")
    secret: Text | None = Field(None, min_length=16, max_length=200,
                                description="the HMAC-SHA256 key (default: a new random one, answered once)")


class CreditTypeSettings(BaseModel):
    """A credit type's settings (seed 004): its maximum credits, and whether less may be awarded."""

    model_config = ConfigDict(strict=True)

    max_credits: float = Field(..., gt=0, le=10_000, description="the most credits one record may award")
    variable: bool = Field(False, description="partial or variable credit (less than the maximum) is allowed")


class NewCreditType(CreditTypeSettings):
    name: Text = Field(..., min_length=1, max_length=64)


class ListOption(BaseModel):
    model_config = ConfigDict(strict=True)

    value: Text = Field(..., min_length=1, max_length=400)
    label: Text | None = Field(None, max_length=400)


# ----------------------------------------------------------------- answers
class Answer(BaseModel):
    """An answer's model. FastAPI keeps only the declared fields of what a route returns, so a field a
    service adds without declaring it here would vanish from the answer without a word: undeclared
    fields are refused instead (a 500 that every HTTP test sees), and the document says
    `additionalProperties: false`, which generated clients rely on."""

    model_config = ConfigDict(extra="forbid")

class Health(Answer):
    status: str
    worker: str = Field(..., description="the process answering (host:pid)")
    database: str = Field(..., description="sqlite or postgresql")


class FieldSpec(Answer):
    """One column of a domain's import file and how its cells are checked."""

    name: str = Field(..., description="the header exactly as the template writes it")
    kind: str = Field(..., description="text, integer, number, date, phone, ssn, email, select, multi_select, "
                                       "boolean or id")
    aliases: list[str] = Field(..., description="other headers taken for this column")
    required_for: list[str] = Field(..., description="operations in which a blank cell is an error")
    max_length: int | None
    select_list: str | None = Field(..., description="the select list a select cell's value comes from")
    match_labels: bool = Field(..., description="a select cell may hold the option's label as well as its value")
    formats: list[str] = Field(..., description="date: strftime formats accepted, the first canonical; phone: "
                                                "layouts accepted")
    pattern: str | None = Field(..., description="a regular expression the whole value must match")
    pattern_hint: str | None
    minimum: int | float | None  # as the spec writes it: 1 stays 1
    separator: str = Field(..., description="what joins the values of a multi_select cell")
    zero_pad: int | None = Field(..., description="digits an all-digit ID must have")
    names_user: str | None = Field(..., description="the cell names a user of the organisation by User ID")
    description: str
    example: str


class OptionSpec(Answer):
    """An import option a user chooses when starting the import."""

    name: str = Field(..., description="its key in an import's `options`")
    label: str
    kind: str = Field(..., description="boolean or choice")
    choices: list[list[str]] = Field(..., description="[value, label] of each choice")
    default: Any
    operations: list[str]
    description: str
    in_results: bool = Field(..., description="the results file shows the chosen value next to each row")


class RuleSpec(Answer):
    """A rule over several fields of a row."""

    check: str
    fields: list[str]
    message: str
    severity: str
    params: dict[str, Any]


class ParentSpec(Answer):
    field: str = Field(..., description="the column naming the parent record")
    parent_domain: str
    parent_field: str


class CourseLinkSpec(Answer):
    course_field: str
    section_field: str


class DomainSpec(Answer):
    """A domain's spec (`Domain.to_dict`; `Domain.from_dict` rebuilds it): what the server enforces."""

    name: str
    title: str
    seed: str = Field(..., description="the help-centre article the domain comes from")
    description: str
    operations: list[str]
    match_key: list[str] = Field(..., description="fields that identify an existing record")
    id_field: str | None = Field(..., description="the field that receives the created record's ID")
    custom_prefix: str | None = Field(..., description='e.g. "Custom.": columns starting with it are custom fields')
    strict_column_order: bool
    max_file_bytes: int | None
    batch_bytes: int = Field(..., description="the most one upload batch may hold")
    default_separator: str
    available_by_default: bool
    update_only_fields_present: bool
    export_columns: list[list[str | None]] = Field(..., description="[export header, field or null] in the "
                                                                    "export's column order")
    name_fields: list[str]
    reference_field: str | None
    sequence_field: str | None
    fields: list[FieldSpec]
    options: list[OptionSpec]
    rules: list[RuleSpec]
    parents: list[ParentSpec]
    course_link: CourseLinkSpec | None


class Me(Answer):
    user: str
    user_id: int
    user_ref: str = Field(..., description="the User ID files name this user by (ProviderUserID, CreatedByID)")
    organisation: str
    org_id: int
    licensed: bool = Field(..., description="the organisation has the Bulk Data Import licence")
    admin: bool
    import_domains: list[str] = Field(..., description='domains this user may import ("*": all)')
    record_domains: list[str] = Field(..., description='domains whose records this user may see ("*": all)')
    export_domains: list[str] = Field(..., description='domains this user may export ("*": all)')


class DomainInfo(Answer):
    name: str
    title: str
    operations: list[str]
    description: str
    enabled: bool = Field(..., description="enabled for the organisation")
    importable: bool = Field(..., description="enabled, licensed and permitted for this user")


class SelectOption(Answer):
    value: str
    label: str


DomainLists = dict[str, list[SelectOption]]


class Candidate(SelectOption):
    score: float = Field(..., description="0-100")


class Suggestions(Answer):
    query: str
    list_name: str = Field(..., alias="list")
    candidates: list[Candidate]


class Course(Answer):
    code: str
    title: str


class Courses(Answer):
    courses: list[Course]
    message: str = Field(..., description="why there are no results yet, when the search is too short")


class Limits(Answer):
    """Rows an organisation may import per period (null: no limit)."""

    today: int | None
    week: int | None
    month: int | None


class Usage(Answer):
    """Rows imported today, this week and this month, and the organisation's limits."""

    today: int
    week: int
    month: int
    limits: Limits


class DayUsage(Answer):
    """Rows committed on one UTC day."""

    day: date
    rows: int


class DailyUsage(Usage):
    """Rows committed per UTC day, oldest first and today last, with the usage and limits of `Usage`."""

    days: list[DayUsage]


class Summary(Answer):
    """The seed's counts: Total, Valid (Insert + Update), Error and Skipped rows, and the Update rows that
    would change nothing (No change: counted in Total, not in Valid; the commit writes nothing for them)."""

    total: int
    valid: int
    errors: int
    skipped: int
    insert: int
    update: int
    no_change: int


class Committed(Answer):
    """Records Inserted / Updated / Failed so far."""

    inserted: int
    updated: int
    failed: int


class Progress(Answer):
    done: int
    total: int


class UndoEffects(Answer):
    """What an undo does about what the import set off besides records: usage, workflow events, invoices."""

    usage: dict[str, Any]
    workflow: dict[str, Any]
    invoices: dict[str, Any] | None = None


class UndoInfo(Answer):
    """An undo's progress over the records the import wrote, and what it did."""

    done: int
    total: int
    removed: int
    restored: int
    conflicts: int
    force: bool
    reverted_at: str | None
    effects: UndoEffects


class UndoPlan(Answer):
    """What an undo would do now: the confirmation the person answers before undoing."""

    id: int
    remove: int = Field(..., description="records the import inserted, to remove")
    restore: int = Field(..., description="records the import updated, to give back their old values")
    conflicts: int = Field(..., description="records changed since the import: left as they are unless forced")
    linked: int = Field(..., description="inserted records later records link to: never removed")
    gone: int = Field(..., description="records that no longer exist")
    invoices: int = Field(..., description="invoices of the assignments to remove, which the undo voids")
    undo_until: str | None
    effects: UndoEffects


class ImportInfo(Answer):
    """An import: a row of the Import History, its status, counts and commit progress."""

    id: int = Field(..., description="the Import ID")
    domain: str
    operation: str
    operation_label: str
    options: dict[str, Any]
    file_name: str
    status: str = Field(..., description="Created, Uploading, Validated, ValidationFailed, Committing, Committed, "
                                         "CommitFailed, Cancelled, Reverting, Reverted or PartlyReverted")
    message: str
    user: str | None
    created_at: str
    updated_at: str | None
    total: int
    valid: int
    errors: int
    skipped: int
    summary: Summary
    committed: Committed
    progress: Progress
    successful_percent: float | None = Field(..., description="seed 001's Successful %: rows written over rows "
                                             "written or refused (skipped rows count in neither); null before "
                                             "the commit starts")
    error_count: int = Field(..., description="seed 001's Errors: rows with a validation error plus rows the "
                                              "commit failed")
    saved_mapping: str | None = Field(None, description="the saved column mapping the import's mapping came from")
    unmapped: list[str] = Field(default_factory=list, description="columns neither named by their header nor "
                                                                  "mapped: the import cannot be confirmed")
    undo: UndoInfo | None = Field(None, description="the undo, once one started")
    undo_until: str | None = Field(None, description="until when the import can be undone (UTC)")


class History(Answer):
    items: list[ImportInfo]
    total: int = Field(..., description="imports matching the filters, on every page")
    page: int
    page_size: int


class BatchStored(Answer):
    batch_id: str
    rows: int
    duplicate: bool = Field(..., description="the batch id was already stored: nothing was added")


class BatchDropped(Answer):
    batch_id: str
    first_row: int = Field(..., description="the 0-based position of the batch's first row in the file")
    rows: int = Field(..., description="rows the batch held, no longer uploaded")


class ReviewRow(Answer):
    row: int = Field(..., description="the spreadsheet row number")
    action: str = Field(..., description="Insert, Update, No change, Skip or Error")


class Issue(Answer):
    """One problem in a cell, a row or the file (`row` / `column` null when it is not about one)."""

    row: int | None
    col_index: int | None
    column: str | None
    field: str | None
    value: str | None
    code: str | None
    severity: str | None
    message: str | None
    suggestion: str | None
    confidence: float | None
    safe: bool | None = Field(..., description="the suggestion may be applied without asking")


class Review(Answer):
    id: int
    status: str
    summary: Summary
    rows: list[ReviewRow]
    issues: list[Issue]
    issues_total: int = Field(..., description="every issue, also those left out by issues_limit")


class RowEdited(Answer):
    row: int
    action: str
    issues: list[Issue]
    summary: Summary
    status: str


class Confirmation(Answer):
    """What Confirm Import shows (seed step 5), then the import's own settings."""

    file_name: str = Field(..., alias="File Name")
    rows_to_import: int = Field(..., alias="Rows to Import")
    total_rows: int = Field(..., alias="Total Rows")
    errors_skipped: int = Field(..., alias="Errors Skipped")
    import_usage: Usage = Field(..., alias="Import Usage")
    domain: str
    operation: str
    options: dict[str, Any]
    insert: int
    update: int
    no_change: int = Field(..., description="Update rows that change nothing: not written, no usage")


class Change(Answer):
    """One field of one Update row: the stored value and the value the commit will write."""

    row: int = Field(..., description="the spreadsheet row number")
    field: str
    old: str | None = Field(..., description="the stored value")
    new: str | None = Field(..., description="the file's value; null when the cell is blank (change: kept)")
    change: str = Field(..., description="changed: old -> new; kept: the blank cell keeps the stored value")


class Changes(Answer):
    """A page of the preview of an import's updates (only fields that change or are kept are listed)."""

    id: int = Field(..., description="the Import ID")
    total: int = Field(..., description="entries matching the filters, on every page")
    page: int
    page_size: int
    fields: list[str] = Field(..., description="every field with an entry (for a filter), in file order")
    items: list[Change]


class ColumnMapping(Answer):
    """One column of the file (Import Field) and its Target Field."""

    column: str = Field(..., description="the header as written (spaces folded)")
    target: str | None = Field(..., description='a field, "Custom.<NAME>", "-" (do not import) or null (unmapped)')
    confidence: float = Field(..., description="0..1")
    method: str | None = Field(..., description="saved, manual, exact, alias, normalised, fuzzy or values")
    samples: list[str] = Field(..., description="up to 5 values of the column")


class PartialMapping(Answer):
    id: int
    name: str
    missing: list[str] = Field(..., description="headers of the saved mapping the file does not have")


class MappingAnswer(Answer):
    columns: list[ColumnMapping]
    unmapped: list[str] = Field(..., description="columns that block the import until mapped or set to '-'")
    saved_mapping: str | None = Field(..., description="the saved mapping applied to this import")
    saved_mapping_id: int | None
    partial: PartialMapping | None = Field(..., description="a saved mapping offered for some columns only")
    complete: bool = Field(..., description="every column is mapped or set to '-'")


class SavedMappingInfo(Answer):
    id: int
    domain: str
    name: str
    headers: list[str]
    columns: dict[str, str]
    user: str | None
    created_at: str
    updated_at: str


class MappingDeleted(Answer):
    id: int
    deleted: bool


class FixApplied(Answer):
    cells_changed: int
    summary: Summary
    status: str
    remembered_id: int | None = Field(..., description="the remembered value fix, when remember was true")


class RememberedValueInfo(Answer):
    id: int
    domain: str
    field: str
    value: str
    new_value: str
    user: str | None
    created_at: str


def file_responses(*, rows_as_json: bool = False) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route answering a file: CSV text or XLSX bytes, or (`rows_as_json`, with
    `format=json`) its columns and rows as `FileRows`."""
    content: dict[str, Any] = {
        "text/csv": {"schema": {"type": "string", "description": "comma-separated values, a header row first"}},
        MEDIA_TYPE: {"schema": {"type": "string", "format": "binary", "description": "an Excel workbook"}}}
    if rows_as_json:
        return {200: {"model": FileRows, "content": content}}
    return {200: {"description": "the file", "content": content}}


class FileRows(Answer):
    """A results or errors file as JSON (`format=json`): its column headers, then its rows."""

    columns: list[str]
    rows: list[list[Any]]


class UserInfo(Answer):
    id: int
    user_ref: str = Field(..., description="the User ID files name this user by (ProviderUserID, CreatedByID)")
    name: str
    email: str | None
    active: bool


class UserCreated(Answer):
    id: int
    name: str
    token: str = Field(..., description="the new user's API token (shown once)")


class TokenIssued(Answer):
    user: str
    token: str = Field(..., description="shown once; only its hash is stored")


class SessionIssued(Answer):
    token: str = Field(..., description="the session credential (shown once): send it as 'Authorization: Bearer "
                                        "<token>' until it expires or you sign out")
    expires_at: str = Field(..., description="UTC, ISO 8601")
    user: str
    organisation: str


class SignedOut(Answer):
    signed_out: bool = Field(..., description="false when the session had already ended")


class PasswordSet(Answer):
    user: str
    sessions_ended: int = Field(..., description="the user's open sign-in sessions, ended by the new password")


class GroupInfo(Answer):
    id: int
    name: str
    is_admin: bool
    import_domains: list[str]
    record_domains: list[str]
    export_domains: list[str]


class GroupCreated(Answer):
    id: int
    name: str


class ListReplaced(Answer):
    list_name: str = Field(..., alias="list")
    values: int


class CreditTypeInfo(Answer):
    name: str
    max_credits: float
    variable: bool


class LockInfo(Answer):
    domain: str
    import_id: int | None
    reason: str
    locked_at: str


class Unlocked(Answer):
    domain: str
    unlocked: bool = Field(..., description="false: the importer was not locked")


class RecordInfo(Answer):
    """A record an import wrote: its fields as stored."""

    id: int
    domain: str
    link: str = Field(..., description="this record's address (GET)")
    import_id: int | None = Field(..., description="the import that created it")
    parent_id: int | None
    created_at: str | None
    updated_at: str | None
    fields: dict[str, Any]


class RecordPage(Answer):
    items: list[RecordInfo]
    total: int
    page: int
    page_size: int


class ImportRecordRow(Answer):
    row: int = Field(..., description="the spreadsheet row number")
    status: str = Field(..., description="Success, Failed, Skipped, Not Imported, ...")
    action: str | None = Field(..., description="Insert or Update (what the row did, or would have done)")
    record_id: int | None
    link: str | None = Field(..., description="the created or updated record's address (GET)")
    error: str | None = Field(..., description="why the row failed or was skipped")


class ImportRecords(Answer):
    import_id: int
    domain: str
    items: list[ImportRecordRow]


class WebhookInfo(Answer):
    id: int
    url: str
    active: bool
    secret_hint: str = Field(..., description="the secret's first characters")
    created_at: str


class WebhookCreated(WebhookInfo):
    secret: str = Field(..., description="the signing secret (answered once)")


class WebhookDeleted(Answer):
    id: int
    deleted: bool


class DeliveryAttemptInfo(Answer):
    number: int
    at: str
    status_code: int | None = Field(..., description="the receiver's HTTP status (null: not reached)")
    error: str


class DeliveryInfo(Answer):
    """One event sent to one webhook: pending (will be retried), delivered or failed (out of attempts)."""

    id: int
    webhook_id: int
    url: str
    event: str
    import_id: int | None
    record_id: int | None
    status: str
    attempts: int
    next_attempt_at: str | None
    delivered_at: str | None
    log: list[DeliveryAttemptInfo]


class ErrorDetail(BaseModel):
    """What went wrong: a stable `code` (`bulkassist.errors`), a message that says what to do, and for
    some codes further members (e.g. `usage` with a usage limit)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(..., description="e.g. not_found, permission_denied, invalid_request")
    message: str


class ErrorAnswer(Answer):
    """The one shape of every error answer (4xx and 5xx)."""

    error: ErrorDetail
    detail: str = Field(..., description="the message again (for clients that read FastAPI's `detail`)")


_ERROR_MEANINGS = {
    400: "the request cannot be acted on as sent (a malformed body, an unknown column or option)",
    401: "the API token is missing, unknown or revoked",
    403: "the organisation's licence or the user's permission groups do not allow this",
    404: "no such domain, list, record or import in your organisation",
    409: "the import is not in a state that allows this, or the name is taken",
    413: "the body is larger than the server accepts",
    422: "a parameter or the body does not match this document",
    423: "the domain's importer is locked until an administrator unlocks it",
    429: "committing would exceed the organisation's usage limit; nothing was written",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a router or route that may refuse with `statuses`, each answered as `ErrorAnswer`."""
    return {status: {"model": ErrorAnswer, "description": _ERROR_MEANINGS[status]} for status in statuses}
