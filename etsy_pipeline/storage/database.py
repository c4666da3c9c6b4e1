"""Engine and sessions: one place that turns settings into a working PostgreSQL connection.

`DATABASE_URL` set: use it, never start anything. Unset: start the embedded PostgreSQL under `DATA_DIR`.
Our own code uses psycopg 3 (`postgresql+psycopg`); a bare `postgresql://` URL is normalised to it, since
SQLAlchemy 2.1 and dagster-postgres disagree on what the bare scheme means.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

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


@dataclass(frozen=True)
class Timeouts:
    """Limits on the application's own connections (DB_CONNECT_TIMEOUT_SECONDS, DB_STATEMENT_TIMEOUT_MS).

    Without them a database behind a dropped firewall hangs every command for minutes, and one runaway query
    holds its locks forever. Five minutes per statement leaves room for the largest set-based transform; tools
    that may legitimately run longer (pg_dump, a checksum of every table) lift the limit for their own session.
    """

    connect_seconds: int = 10
    statement_ms: int = 300_000
    read_only: bool = False  # a replica's engine: every transaction read-only, so nothing writes there by mistake

    @classmethod
    def from_settings(cls, settings: Settings) -> Timeouts:
        return cls(settings.db_connect_timeout_seconds, settings.db_statement_timeout_ms)

    def connect_args(self) -> dict[str, object]:
        options = f"-c statement_timeout={self.statement_ms}"
        if self.read_only:
            options += " -c default_transaction_read_only=on"
        return {"connect_timeout": self.connect_seconds, "options": options}


def make_engine(url: str, *, pool_size: int = 5, timeouts: Timeouts | None = None) -> Engine:
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        pool_pre_ping=True,
        future=True,
        connect_args=(timeouts or Timeouts()).connect_args(),
    )


class Database:
    """The application's engine and session factory, plus the embedded server when one was started."""

    def __init__(self, url: str, embedded: EmbeddedPostgres | None = None, timeouts: Timeouts | None = None) -> None:
        self.url = sqlalchemy_url(url)
        self.embedded = embedded
        self.timeouts = timeouts or Timeouts()
        self.engine = make_engine(self.url, timeouts=self.timeouts)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        timeouts = Timeouts.from_settings(settings)
        if settings.database_url:
            return cls(settings.database_url, timeouts=timeouts)
        embedded = EmbeddedPostgres(settings.data_dir).start()
        return cls(embedded.url(), embedded, timeouts)

    @classmethod
    def analytics_replica(cls, settings: Settings) -> Database | None:
        """The read replica analyst reads go to (ANALYTICS_DATABASE_URL), read-only; None when unset."""
        if not settings.analytics_database_url:
            return None
        timeouts = replace(Timeouts.from_settings(settings), read_only=True)
        return cls(settings.analytics_database_url, timeouts=timeouts)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()
