"""The reference import server (FastAPI + SQLAlchemy): `create_app`, `start_server_process`.

Layout: `app.py` (the FastAPI app), `routes/` (HTTP: catalog, imports, admin), `lifecycle.py`
(create → upload → validate → edit → confirm), `committer.py` (crash-safe commits),
`jobs.py` (commits, undos, webhook deliveries as jobs: procrastinate on PostgreSQL, threads on SQLite),
`domains/` (what each domain does: match keys, actions, side effects), `bulk.py` (fast bulk
writes), `results.py` (results and errors files), `models.py` + `migrations/` (schema), `db.py`,
`auth.py`, `orgdata.py` (enabled domains, select lists), `usage.py`, `admin.py`, `demo.py`,
`frames.py`, `launch.py` (a real server in a subprocess); its commands are in `bulkassist.cli.server`.
"""

from bulkassist.server.launch import RunningServer, start_server_process

__all__ = ["RunningServer", "start_server_process", "create_app"]


def create_app(*args, **kwargs):
    # FastAPI loads only where the app is built: start_server_process serves it in a subprocess
    from bulkassist.server.app import create_app as _create

    return _create(*args, **kwargs)
