"""`python -m bulkassist.server`: serve the import API with uvicorn (what `bulkassist serve` runs)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from bulkassist.server.app import create_app
from bulkassist.server.db import default_database_url


def main(argv: list[str] | None = None) -> None:

    parser = argparse.ArgumentParser(prog="python -m bulkassist.server")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or SQLite in the data folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    serve(args.database_url, host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)


def serve(database_url: str | None, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          log_level: str = "warning") -> None:
    url = database_url or default_database_url()
    if workers > 1:
        os.environ["DATABASE_URL"] = url
        uvicorn.run("bulkassist.server.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level)
        return
    uvicorn.run(create_app(url), host=host, port=port, log_level=log_level)


if __name__ == "__main__":
    main()
