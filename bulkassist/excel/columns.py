"""Map columns: the column mapping a user chose on the BulkAssist sheet, checked, stored and remembered.

Validate lists every header no field name matches under "Column mapping" on the BulkAssist sheet
(Import Field | Proposed Target | Confidence | Method | Samples | Chosen Target | Mapped To). The user
edits Chosen Target (a field, `Custom.<NAME>` where the domain has custom fields, or "-" for Do not
import) and presses *Map columns*:

- the choices are checked as the server checks them (`resolve_mapping`): an unknown target, a field of
  another domain or two columns sent to one field is a message naming the column and the target, and
  nothing is written;
- the chosen targets go to Mapped To (per data sheet and domain), which Validate, Apply suggestions,
  Validate against the server and Submit use;
- with a server configured, the mapping is saved for the organisation (`POST /mappings/{domain}`), so
  the next file with the same headers is mapped by itself, in Excel, the dashboard, the CLI.

The headers in the user's sheet are not renamed unless the BulkAssist sheet says `Rename headers | TRUE`:
then each column mapped to a field gets the field's name as its header (and needs no mapping any more).
"""

from __future__ import annotations

import hashlib
from typing import Any

from bulkassist.engine.headers import clean_header, header_key
from bulkassist.engine.mapping import DO_NOT_IMPORT, mapping_json, resolve_mapping
from bulkassist.errors import Conflict, SchemaError
from bulkassist.excel.commands import Workbook, command
from bulkassist.excel.config import load_config
from bulkassist.excel.grid import write_block
from bulkassist.excel.settings import MAPPING_TITLE, SETTINGS_SHEET
from bulkassist.spec import name_key


def mapping_name(book: Any, sheet: str) -> str:
    """The name a mapping saved from Excel gets on the server."""
    return f"Excel: {sheet} ({book.name})"[:200]


def _rename_headers(wb: Workbook) -> bool:
    """Whether the BulkAssist sheet asks Map columns to rename the mapped headers (`Rename headers | TRUE`)."""
    for key, value in wb.settings.options.items():
        if name_key(key) == "renameheaders":
            return str(value).strip().casefold() in ("true", "1", "yes", "1.0")
    return False


@command
def map_columns(book: Any) -> dict[str, str]:
    """Check the Chosen Target cells of the data sheet's columns, store them (Mapped To) and, with a server,
    save the mapping for the organisation; returns {header: target or "-"}."""
    wb = Workbook(book)
    data = wb.data_sheet()
    domain = wb.domain(data)
    every = wb.store.mapping_rows()
    mine = [r for r in every if (r.sheet, r.domain) == (data.sheet.name, domain.name)]
    if not mine:
        raise SchemaError(f"there is no {MAPPING_TITLE!r} list for sheet {data.sheet.name!r} ({domain.title}) on the "
                          f"{SETTINGS_SHEET!r} sheet: press Validate first; it lists the headers that name no field "
                          f"with a proposed target for each.")
    present = {clean_header(h) for h in data.headers}
    gone = [r.column for r in mine if r.column not in present]
    if gone:
        raise SchemaError(f"sheet {data.sheet.name!r} has no column {gone[0]!r} any more, which the {MAPPING_TITLE!r} "
                          f"list names; press Validate to list the columns again, then Map columns.")
    # "Do not import" typed out means "-", as the dashboard's dropdown shows it.
    chosen = {r.column: DO_NOT_IMPORT if header_key(r.chosen) == "donotimport" else r.chosen for r in mine if r.chosen}
    # Refused here, naming the column and the target, before anything is written or sent.
    resolved = mapping_json(data.headers, resolve_mapping(domain, data.headers, chosen))
    open_ = [r.column for r in mine if not r.chosen]
    config = load_config()
    saved = None
    if config.configured and resolved:
        client = config.client()
        headers = [h for h in (clean_header(h) for h in data.headers) if h]
        name = mapping_name(book, data.sheet.name)
        try:
            saved = client.save_mapping(domain.name, resolved, name, headers=headers)
        except Conflict:  # the name is taken by a mapping of other headers: keep both
            digest = hashlib.sha256("\x1f".join(sorted(headers)).encode("utf-8")).hexdigest()[:6]
            saved = client.save_mapping(domain.name, resolved, f"{name[:190]} [{digest}]", headers=headers)
    rename = _rename_headers(wb)
    # Everything fallible is done: only now is the book written.
    for row in mine:
        row.chosen = resolved.get(row.column, "")
        row.mapped = row.chosen
    renamed: list[str] = []
    if rename:
        for idx, header in enumerate(data.headers):
            target = resolved.get(clean_header(header))
            if target and target != DO_NOT_IMPORT:
                write_block(data.sheet, data.header_row, idx + 1, [[target]])
                renamed.append(f"{clean_header(header)!r} -> {target!r}")
        # A renamed column names its field by its header now: its row would map a header that is gone.
        every = [r for r in every if not ((r.sheet, r.domain) == (data.sheet.name, domain.name)
                                          and r.mapped not in ("", DO_NOT_IMPORT))]
    wb.store.write_mapping(every)
    skipped = [c for c, t in resolved.items() if t == DO_NOT_IMPORT]
    message = (f"Column mapping of sheet {data.sheet.name!r} ({domain.title}) stored on the {SETTINGS_SHEET!r} sheet: "
               f"{len(resolved) - len(skipped)} columns mapped, {len(skipped)} not imported"
               + (f" ({', '.join(repr(c) for c in skipped[:5])})" if skipped else "") + ".")
    if saved is not None:
        message += f"\nSaved on the server as {saved['name']!r}: the next file with these headers is mapped by it."
    elif config.configured:
        message += "\nNothing was saved on the server: no column is mapped yet."
    else:
        message += "\nNo server is configured: the mapping is kept in this workbook only."
    if open_:
        message += (f"\n{len(open_)} columns still have no Chosen Target ({', '.join(repr(c) for c in open_[:5])}): "
                    f"type a target or '{DO_NOT_IMPORT}' (do not import), then Map columns again.")
    message += (f"\nHeaders renamed (Rename headers is TRUE): {', '.join(renamed)}." if renamed else
                "\nYour headers are not renamed.") + " Press Validate to check the records with this mapping."
    summary = [("Column mapping", f"{len(resolved)} columns, by Map columns"),
               ("Saved on server", saved["name"] if saved else "no")]
    wb.finish(summary, message)
    return resolved
