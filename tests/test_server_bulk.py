"""COPY's binary format as `bulk.copy_binary` builds it: every column kind PostgreSQL reads back as sent."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
import sqlalchemy as sa

from bulkassist.server.bulk import insert_frame
from bulkassist.server.db import make_engine, sessions

pytestmark = pytest.mark.postgres


def test_every_column_kind_and_null_reads_back_as_sent(pg_database_url):
    """Integers of both sizes, text (empty apart from null, escapes, unicode), a timestamp to the microsecond,
    booleans, floats and bytes, each with a null, in more rows than one COPY piece."""
    table = sa.Table("kinds", sa.MetaData(), sa.Column("big", sa.BigInteger), sa.Column("small", sa.Integer),
                     sa.Column("text", sa.Text), sa.Column("short", sa.String(8)), sa.Column("at", sa.DateTime),
                     sa.Column("flag", sa.Boolean), sa.Column("ratio", sa.Float), sa.Column("blob", sa.LargeBinary),
                     sa.Column("doc", sa.JSON))
    sample = pl.DataFrame({
        "big": [2**62, -1, None], "small": [2**31 - 1, 0, None],
        "text": ['Tab\tnew\nline \\N back\\slash "quoted"', "", None], "short": ["Ünï 🙂", "0042", None],
        "at": [datetime(2026, 12, 2, 17, 40, 1, 123456), datetime(1999, 12, 31, 23, 59, 59), None],
        "flag": [True, False, None], "ratio": [0.1, -2.5e300, None], "blob": [b"\x00\xff\\", b"", None],
        "doc": ['{"a": [1, "x"]}', "{}", None]}, schema_overrides={"small": pl.Int64})
    frame = pl.concat([sample] * 4000)  # 12,000 rows: two pieces through the writer thread
    engine = make_engine(pg_database_url)
    try:
        table.create(engine)
        with sessions(engine).begin() as session:
            insert_frame(session, table, frame)
        with engine.connect() as conn:
            stored = conn.execute(sa.select(*[table.c[c] for c in frame.columns if c != "doc"],
                                            sa.cast(table.c.doc, sa.Text))).all()
        assert [tuple(r) for r in stored] == frame.rows()
    finally:
        engine.dispose()
