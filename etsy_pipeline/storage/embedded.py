"""Embedded PostgreSQL for the zero-configuration default (`DATABASE_URL` unset).

pgserver ships a real PostgreSQL 16 in a wheel. Its data directory lives under `DATA_DIR/pgdata`, so data
survives between runs; the server listens on a unix socket only and is stopped when the last handle in the
process closes (or at exit). With `DATABASE_URL` set this module is never used.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from etsy_pipeline.storage.crypto import ensure_private_dir

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "etsy_pipeline"


def _ensure_runtime_dir() -> None:
    # pgserver keeps its lock file under XDG_RUNTIME_DIR, which non-login shells often lack.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"etsy-pipeline-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


class EmbeddedPostgres:
    """A pgserver instance under `<data_dir>/pgdata` with the application database created in it."""

    def __init__(self, data_dir: Path, database: str = DEFAULT_DATABASE) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self.database = database
        self._server: Any = None

    def start(self) -> EmbeddedPostgres:
        _ensure_runtime_dir()
        from pgserver import get_server  # type: ignore[attr-defined]

        ensure_private_dir(self.pgdata.parent)  # DATA_DIR holds the database, the key and dlt's files: owner only
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        self._create_database()
        return self

    def _socket_dir(self) -> str:
        info = self._server.get_postmaster_info()
        return str(info.socket_dir)

    def url(self, database: str | None = None, driver: str = "psycopg") -> str:
        """A SQLAlchemy URL over the unix socket (`driver` psycopg2 for Dagster's storage)."""
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        name = database or self.database
        return f"postgresql+{driver}://postgres:@/{name}?host={self._socket_dir()}"

    def libpq_url(self, database: str | None = None) -> str:
        """A driver-less URL for tools such as dlt that take a plain `postgresql://` DSN."""
        name = database or self.database
        return f"postgresql://postgres:embedded@localhost/{name}?host={self._socket_dir()}"

    def _create_database(self) -> None:
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": self.database}
                ).scalar()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        finally:
            engine.dispose()

    @property
    def pid(self) -> int | None:
        return None if self._server is None else int(self._server.get_pid())

    def stop(self) -> None:
        """Stop the server cleanly (a fast shutdown through pg_ctl); data stays in `pgdata`."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("stopped embedded PostgreSQL")

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
