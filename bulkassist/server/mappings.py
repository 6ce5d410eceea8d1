"""Column mapping of an import, saved mappings, bulk fixes and remembered values (issue 9, seed 001 steps 3-5).

- The mapping of an import: the proposal (`propose_mapping`) with what is chosen for it; setting targets
  revalidates the import once. A saved mapping for the same headers (any order) maps a new upload by
  itself and says so; one for some of the headers only is offered as partial, naming the missing ones.
- Bulk fix: every cell of a column equal to a value gets a new value, revalidated once (not per row); the
  pair may be remembered for the organisation and is then applied, and listed, on later files.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bulkassist.engine.headers import clean_header
from bulkassist.engine.mapping import (
    DO_NOT_IMPORT,
    SAMPLE_ROWS,
    automatic_target,
    mapping_json,
    propose_mapping,
    resolve_mapping,
)
from bulkassist.errors import Conflict, InvalidRequest, NotFound
from bulkassist.io import batches
from bulkassist.io.reading import Table, unique_names
from bulkassist.server import outcomes
from bulkassist.server.auth import Caller
from bulkassist.server.lifecycle import _store, describe, has_report, stored_cells
from bulkassist.server.memory import apply_saved, headers_key, saved_for_headers, saved_mapping
from bulkassist.server.models import (
    Import,
    ImportBatch,
    RememberedValue,
    SavedMapping,
    User,
)
from bulkassist.server.orgdata import domain_for, lists_for
from bulkassist.spec import Domain
from bulkassist.status import EDITABLE, UPLOADABLE, ImportStatus, RowStatus

_MAPPABLE = UPLOADABLE | {ImportStatus.VALIDATED, ImportStatus.VALIDATION_FAILED}


def _headers(imp: Import) -> list[str]:
    if not imp.headers:
        raise Conflict(f"import {imp.id} has no uploaded rows; upload the file's rows first, then map its columns")
    return list(imp.headers)


def _sample(session: Session, imp: Import) -> Table:
    """The first rows of the file as uploaded (one batch, at most `SAMPLE_ROWS` rows): never the whole file."""
    headers = _headers(imp)
    batch = session.scalars(sa.select(ImportBatch).where(ImportBatch.import_id == imp.id, ImportBatch.row_count > 0)
                            .order_by(ImportBatch.first_row).limit(1)).first()
    names = unique_names(headers)
    empty = pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    # The stored batch is the file's cells as text (plus cell-kind masks the sample has no use for).
    frame = empty if batch is None else pl.concat(
        [empty, batches.load(batch.payload).head(SAMPLE_ROWS).select(pl.col(n).cast(pl.String) for n in names)])
    return Table(frame=frame, headers=headers, source=imp.file_name)


def _unmapped(dom: Domain, headers: list[str], mapping: dict[str, str] | None) -> list[str]:
    chosen = {clean_header(k) for k, v in (mapping or {}).items() if v}
    out: list[str] = []
    for header in headers:
        text = clean_header(header)
        if text and text not in chosen and automatic_target(dom, text) is None and text not in out:
            out.append(text)
    return out


def mapping_of(session: Session, caller: Caller, imp: Import) -> dict[str, Any]:
    """The Import Field Mapping page: every column with its target, confidence, method and samples."""
    dom = domain_for(session, caller.org_id, imp.domain)
    headers = _headers(imp)
    apply_saved(session, imp)
    saved = saved_mapping(session, imp)
    chosen = imp.mapping or {}
    columns = propose_mapping(_sample(session, imp), dom, chosen, lists=lists_for(session, imp.org_id,
                                                                                  dom.select_lists))
    for col in columns:
        if col["method"] == "saved" and (saved is None or saved.columns.get(col["column"]) != col["target"]):
            col["method"] = "manual"  # chosen on this import, not (or no longer) the saved mapping's
    unmapped = list(imp.unmapped) if imp.unmapped is not None and imp.status in EDITABLE else _unmapped(
        dom, headers, chosen)
    partial = None if saved is not None else _partial(session, imp, headers, columns, set(unmapped))
    return {"columns": columns, "unmapped": unmapped, "saved_mapping": saved.name if saved else None,
            "saved_mapping_id": saved.id if saved else None, "partial": partial, "complete": not unmapped}


def _partial(session: Session, imp: Import, headers: list[str], columns: list[dict[str, Any]],
             unmapped: set[str]) -> dict[str, Any] | None:
    """The saved mapping sharing most headers with the file, offered for the columns still unmapped."""
    present = {clean_header(h) for h in headers if clean_header(h)}
    best, overlap = None, 0
    for found in session.scalars(sa.select(SavedMapping).where(SavedMapping.org_id == imp.org_id,
                                                               SavedMapping.domain == imp.domain)):
        shared = len(present & set(found.headers))
        if shared > overlap:
            best, overlap = found, shared
    if best is None:
        return None
    for col in columns:
        if col["column"] in unmapped and col["column"] in best.columns:
            col.update(target=best.columns[col["column"]], confidence=0.9, method="saved")
    return {"id": best.id, "name": best.name, "missing": [h for h in best.headers if h not in present]}


def set_mapping(session: Session, caller: Caller, imp: Import, mapping: dict[str, str | None], *, save: bool,
                name: str | None) -> dict[str, Any]:
    """Set the targets of some columns (null: back to automatic), revalidate once, optionally save."""
    if imp.status not in _MAPPABLE:
        raise Conflict(f"import {imp.id} is {imp.status}; its columns can be mapped before the commit only")
    dom = domain_for(session, caller.org_id, imp.domain)
    headers = _headers(imp)
    apply_saved(session, imp)
    merged = dict(imp.mapping or {})
    for column, target in mapping.items():
        key = clean_header(column)
        if target is None:
            merged.pop(key, None)
        else:
            merged[key] = target
    imp.mapping = mapping_json(headers, resolve_mapping(dom, headers, merged))
    if save:
        save_mapping(session, caller, imp, dom, name)
    if imp.status in EDITABLE and has_report(session, imp):
        table, uploaded = stored_cells(session, imp)
        _store(session, imp, table, uploaded=uploaded)
    else:
        imp.unmapped = _unmapped(dom, headers, imp.mapping)
    return mapping_of(session, caller, imp)


def save_mapping(session: Session, caller: Caller, imp: Import, dom: Domain, name: str | None) -> SavedMapping:
    """Save the import's mapping (every mapped column) for the organisation and domain: the next file with the
    same headers, in any order, is mapped by it. Saving again for the same headers replaces it."""
    headers = _headers(imp)
    chosen = resolve_mapping(dom, headers, imp.mapping)
    columns: dict[str, str] = {}
    for idx, header in enumerate(headers):
        text = clean_header(header)
        target = chosen.get(idx) or (auto[0] if text and (auto := automatic_target(dom, text)) else None)
        if text and target:
            columns[text] = target
    found = saved_for_headers(session, caller.org_id, dom.name, headers)
    if found is None:
        found = SavedMapping(org_id=caller.org_id, domain=dom.name, name=name or f"{imp.file_name} mapping",
                             headers_key=headers_key(headers), user_id=caller.user_id,
                             headers=sorted({clean_header(h) for h in headers if clean_header(h)}), columns=columns)
        session.add(found)
    else:
        found.columns = columns
        found.name = name or found.name
    _name_free(session, found)
    session.flush()
    imp.mapping_id = found.id
    return found


def save_columns(session: Session, caller: Caller, domain: str, name: str, columns: dict[str, str],
                 headers: list[str] | None) -> dict[str, Any]:
    """Save {header: target} for the organisation and domain without an import; refused (naming the column and
    the target) like an import's mapping. `headers` are the file's (default: the keys of `columns`)."""
    dom = domain_for(session, caller.org_id, domain)
    caller.require_import(dom.name)
    headers = list(headers) if headers is not None else list(columns)
    present = {clean_header(h) for h in headers}
    missing = [c for c in columns if clean_header(c) not in present]
    if missing:
        raise InvalidRequest(f"mapping: column {missing[0]!r} is not one of the headers "
                             f"({', '.join(repr(clean_header(h)) for h in headers)})")
    chosen = resolve_mapping(dom, headers, columns)
    stored: dict[str, str] = {}
    for idx, header in enumerate(headers):
        text = clean_header(header)
        target = chosen.get(idx) or (auto[0] if text and (auto := automatic_target(dom, text)) else None)
        if text and target:
            stored[text] = target
    found = saved_for_headers(session, caller.org_id, dom.name, headers)
    if found is None:
        found = SavedMapping(org_id=caller.org_id, domain=dom.name, name=name, headers_key=headers_key(headers),
                             user_id=caller.user_id, headers=sorted(present - {""}), columns=stored)
        session.add(found)
    else:
        found.columns, found.name = stored, name
    _name_free(session, found)
    session.flush()
    return _describe_mapping(session, found)


def _name_free(session: Session, mapping: SavedMapping) -> None:
    taken = session.scalars(sa.select(SavedMapping.id).where(
        SavedMapping.org_id == mapping.org_id, SavedMapping.domain == mapping.domain,
        SavedMapping.name == mapping.name)).first()
    if taken is not None and taken != mapping.id:
        raise Conflict(f"a saved {mapping.domain} mapping is already named {mapping.name!r}; choose another name")


# ------------------------------------------------------------ saved mappings
def _describe_mapping(session: Session, found: SavedMapping) -> dict[str, Any]:
    user = session.get(User, found.user_id) if found.user_id else None
    return {"id": found.id, "domain": found.domain, "name": found.name, "headers": list(found.headers),
            "columns": dict(found.columns), "user": user.name if user else None,
            "created_at": found.created_at.isoformat(timespec="seconds") + "Z",
            "updated_at": found.updated_at.isoformat(timespec="seconds") + "Z"}


def list_mappings(session: Session, caller: Caller, domain: str) -> list[dict[str, Any]]:
    dom = domain_for(session, caller.org_id, domain)
    caller.require_import(dom.name)
    found = session.scalars(sa.select(SavedMapping).where(SavedMapping.org_id == caller.org_id,
                                                          SavedMapping.domain == dom.name).order_by(SavedMapping.id))
    return [_describe_mapping(session, m) for m in found]


def _mapping(session: Session, caller: Caller, domain: str, mapping_id: int) -> SavedMapping:
    dom = domain_for(session, caller.org_id, domain)
    caller.require_import(dom.name)
    found = session.get(SavedMapping, mapping_id)
    if found is None or found.org_id != caller.org_id or found.domain != dom.name:
        raise NotFound(f"saved {dom.name} mapping {mapping_id} not found in your organisation")
    return found


def rename_mapping(session: Session, caller: Caller, domain: str, mapping_id: int, name: str) -> dict[str, Any]:
    found = _mapping(session, caller, domain, mapping_id)
    found.name = name
    _name_free(session, found)
    session.flush()
    return _describe_mapping(session, found)


def delete_mapping(session: Session, caller: Caller, domain: str, mapping_id: int) -> dict[str, Any]:
    """Delete a saved mapping; imports mapped by it keep their columns' targets."""
    session.delete(_mapping(session, caller, domain, mapping_id))
    return {"id": mapping_id, "deleted": True}


# ---------------------------------------------------------------- bulk fix
def _column(dom: Domain, imp: Import, table: Table, column: str) -> tuple[str, str | None]:
    """(frame column, field it fills) of the column named by its header or by its field."""
    headers = table.headers
    chosen = resolve_mapping(dom, headers, imp.mapping)
    targets = {i: chosen.get(i) or (auto[0] if clean_header(h) and (auto := automatic_target(dom, h)) else None)
               for i, h in enumerate(headers)}
    wanted = clean_header(column)
    idx = next((i for i, h in enumerate(headers) if clean_header(h) == wanted), None)
    if idx is None:
        idx = next((i for i, t in targets.items() if t == wanted), None)
    if idx is None:
        raise InvalidRequest(f"import {imp.id} has no column {column!r}; columns are: "
                             f"{', '.join(clean_header(h) for h in headers)}")
    target = targets[idx]
    field = target if target and target != DO_NOT_IMPORT and not target.startswith(dom.custom_prefix or "\0") else None
    return table.frame.columns[idx], field


def bulk_fix(session: Session, caller: Caller, imp: Import, column: str, value: str, new_value: str,
             remember: bool) -> dict[str, Any]:
    """Every cell of `column` equal to `value` (spaces around it ignored) becomes `new_value`; one revalidation."""
    if imp.status not in EDITABLE:
        raise Conflict(f"import {imp.id} is {imp.status}; cells can be fixed after validation and before the commit")
    dom = domain_for(session, caller.org_id, imp.domain)
    table, _ = stored_cells(session, imp)  # only the cells: the old review is rebuilt, never read
    name, field = _column(dom, imp, table, column)
    cells = table.frame[name]
    hit = (cells.str.strip_chars() == value.strip()).fill_null(False)
    if imp.status == ImportStatus.COMMIT_FAILED:  # rows already imported stay as imported
        done = outcomes.read(session, imp.id).filter(pl.col("status") == RowStatus.SUCCESS)["row"].implode()
        hit = hit & ~(pl.int_range(2, table.height + 2, eager=True).is_in(done))
    changed = int(hit.sum())
    remembered_id = _remember(session, caller, imp, field, column, value, new_value) if remember else None
    if changed:
        table.frame = table.frame.with_columns(pl.when(hit).then(pl.lit(new_value)).otherwise(cells).alias(name))
        for masks in (table.date_cells, table.number_cells):
            if name in masks:  # what the person typed is text, whatever the workbook cell was
                masks[name] = masks[name] & ~hit
        _store(session, imp, table, uploaded=False)
    return {"cells_changed": changed, "summary": describe(session, imp)["summary"], "status": imp.status,
            "remembered_id": remembered_id}


def _remember(session: Session, caller: Caller, imp: Import, field: str | None, column: str, value: str,
              new_value: str) -> int:
    if field is None:
        raise InvalidRequest(f"column {column!r} of import {imp.id} is not mapped to a {imp.domain} field; map it "
                             f"before remembering a value fix for it")
    found = session.scalars(sa.select(RememberedValue).where(
        RememberedValue.org_id == caller.org_id, RememberedValue.domain == imp.domain,
        RememberedValue.field == field, RememberedValue.value == value.strip())).first()
    if found is None:
        found = RememberedValue(org_id=caller.org_id, domain=imp.domain, field=field, value=value.strip(),
                                new_value=new_value, user_id=caller.user_id)
        session.add(found)
    else:
        found.new_value = new_value
    try:
        session.flush()
    except IntegrityError:  # pragma: no cover - a concurrent remember of the same pair
        raise Conflict("the same value fix was remembered meanwhile; try again") from None
    return found.id


# -------------------------------------------------------- remembered values
def remembered_values(session: Session, caller: Caller, domain: str | None) -> list[dict[str, Any]]:
    """The organisation's remembered value fixes (of one domain, or of every domain the caller imports)."""
    caller.require_licence()
    query = sa.select(RememberedValue).where(RememberedValue.org_id == caller.org_id)
    if domain is not None:
        dom = domain_for(session, caller.org_id, domain)
        caller.require_import(dom.name)
        query = query.where(RememberedValue.domain == dom.name)
    out = []
    for found in session.scalars(query.order_by(RememberedValue.id)):
        if not caller.can_import(found.domain):
            continue
        user = session.get(User, found.user_id) if found.user_id else None
        out.append({"id": found.id, "domain": found.domain, "field": found.field, "value": found.value,
                    "new_value": found.new_value, "user": user.name if user else None,
                    "created_at": found.created_at.isoformat(timespec="seconds") + "Z"})
    return out


def forget_value(session: Session, caller: Caller, value_id: int) -> dict[str, Any]:
    """Delete a remembered value fix (organisation administrators)."""
    caller.require_admin()
    found = session.get(RememberedValue, value_id)
    if found is None or found.org_id != caller.org_id:
        raise NotFound(f"remembered value {value_id} not found in your organisation")
    session.delete(found)
    return {"id": value_id, "deleted": True}
