"""JSON as text: `json_text` encodes a value, `JSONText` is a column of JSON kept as plain text.

A record's fields (`records.data`, and a record's fields as they were in the undo log) are JSON kept as
`text` on PostgreSQL (migration 0016), not the `json` type: the server parses every `json` value it
stores, which cost a fifth of the COPY of a commit's records, and nothing queries the fields inside the
database. The column type encodes and decodes the JSON in Python, so what a reader gets is what `json`
gave.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import sqlalchemy as sa


def json_text(value: Any) -> str:
    """`value` as JSON text, with orjson (several times faster than `json.dumps`; an update commit
    encodes every record it writes); what orjson refuses (an integer over 64 bits) with `json`."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


class JSONText(sa.TypeDecorator):
    """A JSON value stored as its text: SQL NULL for None, read with `json.loads` (which keeps an integer
    of any size exact, where orjson would make a float of one over 64 bits)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else json_text(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)
