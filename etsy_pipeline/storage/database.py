"""Engine and sessions: one place that turns settings into a working PostgreSQL connection.

`DATABASE_URL` set: use it, never start anything. Unset: start the embedded PostgreSQL under `DATA_DIR`.
Our own code uses psycopg 3 (`postgresql+psycopg`); a bare `postgresql://` URL is normalised to it, since
SQLAlchemy 2.1 and dagster-postgres disagree on what the bare scheme means.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.embedded import EmbeddedPostgres


def sqlalchemy_url(url: str, driver: str = "psycopg") -> str:
    """The same database with the driver we use (`psycopg`, or `psycopg2` for Dagster's storage)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """A driver-less `postgresql://` DSN (dlt and psql take this form)."""
    parsed = make_url(sqlalchemy_url(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL with its password masked, for logs and summaries."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    return create_engine(sqlalchemy_url(url), pool_size=pool_size, pool_pre_ping=True, future=True)


class Database:
    """The application's engine and session factory, plus the embedded server when one was started."""

    def __init__(self, url: str, embedded: EmbeddedPostgres | None = None) -> None:
        self.url = sqlalchemy_url(url)
        self.embedded = embedded
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if settings.database_url:
            return cls(settings.database_url)
        embedded = EmbeddedPostgres(settings.data_dir).start()
        return cls(embedded.url(), embedded)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()
