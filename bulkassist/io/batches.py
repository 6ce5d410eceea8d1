"""Batches of a file's rows as they travel from the client to the server and are stored there: an Arrow
IPC stream made by polars, one text column per header plus a boolean column per typed-cell mask.

Columnar end to end, because rows as JSON cost a million-row import most of its time (parsing on the
server, a type check per cell, parsing again at validation, a frame rebuilt from row lists): the client
encodes a batch without a Python call per row, the server checks it with a few vectorised expressions
(column types, cell lengths) and stores it as a frame, and validation reads every batch back as a frame.
The batch's id, the position of its first row in the file and the headers as written ride in the
schema's metadata. A batch of hand-made JSON (`Batch` in the server's schemas) becomes the same frame.

Cell columns are named `unique_names(headers)`; a mask column is named by its kind's prefix and the cell
column's name (`MASKS`) and says which cells were date / number cells in the workbook.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from bulkassist.io.reading import unique_names
from bulkassist.io.xlsx import MAX_CELL_CHARS

MEDIA_TYPE = "application/vnd.apache.arrow.stream"
"""The Content-Type of a batch sent as Arrow (anything else is read as JSON)."""
MASKS = {"date_cells": "\x1fdate:", "number_cells": "\x1fnumber:"}
"""Typed-cell mask kinds and the prefix of their columns' names."""
_META = b"bulkassist.batch"
_STORED_COMPRESSION: Final = "lz4"  # stored batches: several times smaller, read back at memory speed


@dataclass(frozen=True)
class RowBatch:
    """One batch: `frame` holds its cells (text columns named `unique_names(headers)`) and its masks."""

    batch_id: str
    first_row: int
    headers: list[str]
    frame: pl.DataFrame

    @property
    def rows(self) -> int:
        return self.frame.height

    @property
    def cells(self) -> pl.DataFrame:
        """The cell columns, without the masks."""
        return self.frame.select(unique_names(self.headers))


def from_rows(batch_id: str, first_row: int, headers: list[str], rows: Sequence[Sequence[Any]],
              typed: Mapping[str, Mapping[str, Sequence[int]] | None]) -> RowBatch:
    """A batch of rows (lists of cells; numbers become their text) and `typed` ({"date_cells" |
    "number_cells": {column index: [row offsets in the batch]}}), as JSON carries them."""
    names = unique_names(headers)
    schema = dict.fromkeys(names, pl.String)
    try:
        frame = pl.DataFrame(rows or None, schema=schema, orient="row")
    except (TypeError, pl.exceptions.PolarsError):
        # Numbers sent as JSON numbers: the validator reads text, as typed.
        frame = pl.DataFrame([[None if c is None else str(c) for c in r] for r in rows], schema=schema,
                             orient="row")
    masks = []
    for kind, prefix in MASKS.items():
        for idx, offsets in (typed.get(kind) or {}).items():
            valid = [o for o in offsets if 0 <= o < frame.height]
            if str(idx).isdigit() and int(idx) < len(names) and valid:
                masks.append(pl.Series(prefix + names[int(idx)], [False] * frame.height).scatter(valid, True))
    return RowBatch(batch_id, first_row, list(headers), frame.with_columns(masks) if masks else frame)


def encode(batch: RowBatch, *, compression: str | None = None) -> bytes:
    """The batch as an Arrow IPC stream (uncompressed on the wire: a compressed body could unpack to far
    more than the batch limit the server counts)."""
    table = batch.frame.to_arrow()
    meta = json.dumps({"batch_id": batch.batch_id, "first_row": batch.first_row, "headers": batch.headers})
    table = table.replace_schema_metadata({_META: meta.encode()})
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=ipc.IpcWriteOptions(compression=compression)) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def store(batch: RowBatch) -> bytes:
    """The batch's frame as the server stores it (`load` reads it back): written by polars, not through a
    pyarrow table, whose memory pool kept some 80 MB of a million-row upload after it ended."""
    buf = io.BytesIO()
    batch.frame.write_ipc_stream(buf, compression=_STORED_COMPRESSION)
    return buf.getvalue()


def load(blob: bytes) -> pl.DataFrame:
    """The frame of a stored batch (checked when it arrived: read as it is)."""
    if blob[:1] == b"{":  # stored as JSON, before batches were stored as Arrow
        body = json.loads(blob)
        return from_rows(body["batch_id"], body.get("first_row", 0), body["headers"], body["rows"], body).frame
    return pl.read_ipc_stream(io.BytesIO(blob))


def decode(raw: bytes) -> RowBatch:
    """The batch sent as the Arrow IPC stream `raw`; a ValueError whose message says the first thing wrong."""
    try:
        reader = ipc.open_stream(pa.py_buffer(raw))
        if any(pa.types.is_dictionary(f.type) for f in reader.schema):
            raise ValueError("dictionary-encoded columns are not accepted; send plain text columns "
                             "(polars: cast Categorical / Enum columns to String)")
        table = reader.read_all()
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"the batch is not a readable Arrow IPC stream ({exc}); send the rows as polars "
                         f"writes them with DataFrame.write_ipc_stream, or as JSON") from None
    batch_id, first_row, headers = _metadata(table.schema.metadata or {})
    names = unique_names(headers)
    columns = table.schema.names
    if columns[:len(names)] != names:
        raise ValueError(f"the batch's first {len(names)} columns must be named after its headers "
                         f"({', '.join(map(repr, names[:5]))}{' ...' if len(names) > 5 else ''}); "
                         f"they are {', '.join(map(repr, columns[:5]))}{' ...' if len(columns) > 5 else ''}")
    masks = {prefix + n for prefix in MASKS.values() for n in names}
    for field in table.schema:
        mask = field.name in masks
        if field.name not in masks and field.name not in names:
            raise ValueError(f"the batch has a column {field.name!r} that is neither a header's nor a typed-cell "
                             f"mask's; send one text column per header")
        kind = field.type
        if pa.types.is_null(kind) or (pa.types.is_boolean(kind) if mask else (
                pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind))):
            continue
        wanted = "boolean" if mask else "text (utf8)"
        raise ValueError(f"column {field.name!r} of the batch holds {kind}; it must hold {wanted} values")
    frame = pl.DataFrame(pl.from_arrow(table, rechunk=False)).with_columns(pl.col(names).cast(pl.String),
                               *[pl.col(c).cast(pl.Boolean).fill_null(False) for c in columns if c in masks])
    _check_lengths(frame.select(names), headers, first_row)
    return RowBatch(batch_id, first_row, headers, frame)


def _metadata(meta: Mapping[bytes, bytes]) -> tuple[str, int, list[str]]:
    """(batch_id, first_row, headers) from the schema's metadata."""
    what = ("the batch's schema metadata must hold 'bulkassist.batch': a JSON object with batch_id (text of "
            "1 to 200 characters), first_row (the 0-based position of its first row in the file) and headers "
            "(the list of column headers as written in the file)")
    try:
        found = json.loads(meta[_META])
        batch_id, first_row, headers = found["batch_id"], found.get("first_row", 0), found["headers"]
    except (KeyError, ValueError, TypeError, AttributeError):
        raise ValueError(what) from None
    if not (isinstance(batch_id, str) and 0 < len(batch_id) <= 200 and type(first_row) is int and first_row >= 0
            and isinstance(headers, list) and all(isinstance(h, str) for h in headers)):
        raise ValueError(what)
    return batch_id, first_row, headers


def _check_lengths(cells: pl.DataFrame, headers: list[str], first_row: int) -> None:
    """Refuse a cell longer than a workbook cell may be, naming the first one (one pass over all cells)."""
    if not cells.width or not cells.height:
        return
    longest = cells.select(pl.all().str.len_chars().max())
    over = [(i, n) for i, n in enumerate(longest.row(0)) if n is not None and n > MAX_CELL_CHARS]
    if not over:
        return
    col, _ = over[0]
    row = int(cells.get_column(cells.columns[col]).str.len_chars().gt(MAX_CELL_CHARS).arg_true()[0])
    length = cells.item(row, col)
    raise ValueError(f"row {first_row + row} of the batch, column '{headers[col]}': the cell is {len(length):,} "
                     f"characters long; a cell holds at most {MAX_CELL_CHARS:,} characters (Excel's own limit)")
