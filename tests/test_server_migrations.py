"""Migrations that convert stored data: the rows written before one read back the same after it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from bulkassist.server.db import MIGRATIONS, make_engine, migrate, sessions
from bulkassist.server.models import Import, Organisation, Record, UndoLogEntry, User, utcnow

# Fields as the commit and the undo log stored them before migration 0016 (as `json` on PostgreSQL).
FIELDS = [{"First Name": "Line\none", "Last Name": 'Quote " \\ back\tslash', "SSN": "001234567"},
          {"First Name": "Ünïcødé 名前 🙂", "Language": "", "_importer": None, "Count": 12345678901234567890123},
          {}]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    return f"sqlite:///{tmp_path / 'old.sqlite'}" if request.param == "sqlite" else request.getfixturevalue(
        "pg_database_url")


def alembic(engine: sa.Engine, step, revision: str) -> None:
    """`step` (alembic's `command.upgrade` or `command.downgrade`) to `revision`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        step(cfg, revision)


def test_record_fields_stored_as_json_read_back_the_same_as_text(database_url):
    """0016: records.data and import_undo_log.before become text on PostgreSQL; every stored value, its
    text included, is kept, and again when the migration is undone."""
    engine = make_engine(database_url)
    try:
        alembic(engine, command.upgrade, "0015")
        with sessions(engine).begin() as session:
            org = Organisation(name="Old data")
            session.add(org)
            session.flush()
            user = User(org_id=org.id, name="old")
            session.add(user)
            session.flush()
            imp = Import(org_id=org.id, user_id=user.id, domain="client", operation="update")
            session.add(imp)
            session.flush()
            org_id, import_id = org.id, imp.id
        json_value = "CAST(:data AS JSON)" if engine.dialect.name == "postgresql" else ":data"
        texts = [json.dumps(f) for f in FIELDS]
        with engine.begin() as conn:
            ids = [conn.execute(sa.text(f"INSERT INTO records (org_id, domain, data, created_at) VALUES (:org, "
                                        f"'client', {json_value}, :at) RETURNING id"),
                                {"org": org_id, "data": t, "at": utcnow()}).scalar_one() for t in texts]
            conn.execute(sa.text(f"INSERT INTO import_undo_log (import_id, record_id, action, before, message) "
                                 f"VALUES (:imp, :rid, 'Update', {json_value}, '')"),
                         [{"imp": import_id, "rid": i, "data": t} for i, t in zip(ids, texts, strict=True)])
        migrate(engine)
        with sessions(engine)() as session:
            assert [session.get(Record, i).data for i in ids] == FIELDS
            assert [session.get(UndoLogEntry, (import_id, i)).before for i in ids] == FIELDS
        with engine.connect() as conn:  # the text itself is kept, not only its meaning
            assert conn.execute(sa.text("SELECT CAST(data AS TEXT) FROM records ORDER BY id")).scalars().all() == texts
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                assert set(conn.execute(sa.text(
                    "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND "
                    "(table_name, column_name) IN (('records', 'data'), ('import_undo_log', 'before'))")).scalars()) == {
                    "text"}
        alembic(engine, command.downgrade, "0015")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT CAST(data AS TEXT) FROM records ORDER BY id")).scalars().all() == texts
            assert conn.execute(sa.text("SELECT CAST(before AS TEXT) FROM import_undo_log ORDER BY record_id")
                                ).scalars().all() == texts
    finally:
        engine.dispose()
