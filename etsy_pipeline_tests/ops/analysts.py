"""Real PostgreSQL roles for the analyst tests: names unique to the test run, always dropped afterwards.

Roles belong to the whole PostgreSQL cluster, not to the test database, so two test sessions running at once
must never pick the same name, and a failed test must not leave one behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from etsy_pipeline import cli
from etsy_pipeline.settings import get_settings
from etsy_pipeline.storage.database import Database, sqlalchemy_url

RESTOCK_MARKER = "-- What to restock"


def role_name(label: str) -> str:
    return f"etsy_test_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def drop_role(db: Database, role: str) -> None:
    """Whatever the test left: the role's rights in the test database, its scope row, the role itself."""
    with db.engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
        conn.execute(text("DELETE FROM analyst_access.scopes WHERE role_name = :r"), {"r": role})
        if exists:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


@contextmanager
def roles(db: Database, *labels: str) -> Iterator[list[str]]:
    names = [role_name(label) for label in labels]
    try:
        yield names
    finally:
        for name in names:
            drop_role(db, name)


def role_exists(db: Database, role: str) -> bool:
    with db.engine.connect() as conn:
        return bool(conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar())


class AsRole:
    """A connection to the test database logged in as `role` (the machine trusts local logins)."""

    def __init__(self, db: Database, role: str) -> None:
        url = make_url(sqlalchemy_url(db.url)).set(username=role, password=None)
        self.engine = create_engine(url, poolclass=None)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def close(self) -> None:
        self.engine.dispose()


def owner_rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def execute(db: Database, sql: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql))


def run_db_command(monkeypatch: pytest.MonkeyPatch, db: Database, data_dir: Path, *argv: str, **env: str) -> int:
    """`etsy-pipeline db ...` in this process, configured through the environment as a user would."""
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("REDIS_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        return cli.main(["db", *argv])
    finally:
        get_settings.cache_clear()


def restock_example() -> str:
    """The restock query of docs/analytics.md, as an analyst would paste it."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "analytics.md").read_text()
    start = doc.index(RESTOCK_MARKER) + len(RESTOCK_MARKER)
    return doc[start : doc.index(";", start)]
