"""Column mapping (issue 9): an import's mapping, bulk fixes, saved mappings, remembered value fixes.

Every route checks the token, the organisation (another organisation's import or mapping is a 404) and
the permission to import the domain; deleting a remembered value needs an administrator.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from bulkassist.server import mappings
from bulkassist.server.lifecycle import get_import
from bulkassist.server.routes.deps import CallerDep, SessionDep
from bulkassist.server.schemas import (
    NO_NUL,
    BulkFix,
    FixApplied,
    MappingAnswer,
    MappingChoice,
    MappingDeleted,
    MappingRename,
    MappingSave,
    RememberedValueInfo,
    SavedMappingInfo,
    error_responses,
)

router = APIRouter(tags=["mapping"], responses=error_responses(400, 401, 403, 404, 409, 422))
ImportId = Path(..., ge=1, le=2**31 - 1, description="the Import ID")
MappingId = Path(..., ge=1, le=2**31 - 1, description="the saved mapping's id")
Domain = Path(..., min_length=1, max_length=64, pattern=NO_NUL)


@router.get("/imports/{import_id}/mapping", response_model=MappingAnswer)
def mapping(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Import Field -> Target Field of every column: target, confidence, method (saved, manual, exact, alias,
    normalised, fuzzy, values) and sample values; the columns still unmapped block the confirm."""
    return mappings.mapping_of(session, caller, get_import(session, caller, import_id, for_update=True))


@router.put("/imports/{import_id}/mapping", response_model=MappingAnswer)
def set_mapping(body: MappingChoice, caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Choose the Target Field of some columns ("-": do not import; null: back to automatic) and revalidate
    once; `save` also saves the mapping for the organisation (Save Mapping)."""
    imp = get_import(session, caller, import_id, for_update=True)
    return mappings.set_mapping(session, caller, imp, body.mapping, save=body.save, name=body.name)


@router.post("/imports/{import_id}/fix", response_model=FixApplied)
def bulk_fix(body: BulkFix, caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Apply to all: every cell of a column equal to `value` becomes `new_value`, revalidated once."""
    imp = get_import(session, caller, import_id, for_update=True)
    return mappings.bulk_fix(session, caller, imp, body.column, body.value, body.new_value, body.remember)


@router.get("/mappings/{domain}", response_model=list[SavedMappingInfo])
def saved_mappings(caller: CallerDep, session: SessionDep, domain: str = Domain) -> list[dict]:
    """The organisation's saved mappings of a domain."""
    return mappings.list_mappings(session, caller, domain)


@router.post("/mappings/{domain}", response_model=SavedMappingInfo)
def save_mapping(body: MappingSave, caller: CallerDep, session: SessionDep, domain: str = Domain) -> dict:
    """Save a column mapping without an import (Map columns in Excel): checked like an import's mapping; saving
    again for the same headers replaces it."""
    return mappings.save_columns(session, caller, domain, body.name, body.columns, body.headers)


@router.patch("/mappings/{domain}/{mapping_id}", response_model=SavedMappingInfo)
def rename_mapping(body: MappingRename, caller: CallerDep, session: SessionDep, domain: str = Domain,
                   mapping_id: int = MappingId) -> dict:
    return mappings.rename_mapping(session, caller, domain, mapping_id, body.name)


@router.delete("/mappings/{domain}/{mapping_id}", response_model=MappingDeleted)
def delete_mapping(caller: CallerDep, session: SessionDep, domain: str = Domain, mapping_id: int = MappingId
                   ) -> dict:
    return mappings.delete_mapping(session, caller, domain, mapping_id)


@router.get("/remembered-values", response_model=list[RememberedValueInfo])
def remembered_values(caller: CallerDep, session: SessionDep,
                      domain: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL)) -> list[dict]:
    """Value fixes the organisation remembered ("Asain" -> "Asian"), applied and listed on later files."""
    return mappings.remembered_values(session, caller, domain)


@router.delete("/remembered-values/{value_id}", response_model=MappingDeleted)
def forget_value(caller: CallerDep, session: SessionDep, value_id: int = Path(..., ge=1, le=2**31 - 1)) -> dict:
    """Forget a remembered value fix (administrators)."""
    return mappings.forget_value(session, caller, value_id)
