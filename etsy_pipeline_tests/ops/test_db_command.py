"""`etsy-pipeline db`: every bad input is one line on stderr and exit status 2, and no password is ever shown.

The URLs below point at a closed port (a listener opened and closed here, so nothing answers) and at a database
that does not exist; the revisions and roles are ones that cannot be right.
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.database import Database
from etsy_pipeline_tests.ops.analysts import role_exists, role_name, run_db_command

PASSWORD = "Sup3rSecret-pw"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert PASSWORD not in err
    return lines[0]


def _at(db: Database, **parts: object) -> Database:
    url = make_url(db.url).set(password=PASSWORD, **parts)  # type: ignore[arg-type]
    return Database(url.render_as_string(hide_password=False))


def test_unreachable_or_missing_databases_are_one_line(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    closed = _at(db, host="127.0.0.1", port=port)
    missing_name = f"etsy_pipeline_missing_{uuid.uuid4().hex[:8]}"
    missing = _at(db, database=missing_name)
    try:
        for action in (["upgrade"], ["current"], ["grant-analyst", "someone"]):
            assert run_db_command(monkeypatch, closed, tmp_path, *action) == 2
            line = _error_line(capsys)
            assert f"127.0.0.1:{port}" in line and "***" in line
        assert run_db_command(monkeypatch, missing, tmp_path, "current") == 2
        line = _error_line(capsys)
        assert missing_name in line and "does not exist" in line
    finally:
        closed.close()
        missing.close()


def test_bad_revisions_and_an_unconfirmed_downgrade_are_one_line(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(fresh_database_url)
    try:
        assert run_db_command(monkeypatch, db, tmp_path, "upgrade", "zzz") == 2
        assert "'zzz'" in _error_line(capsys)
        assert migrate.current(db.url) is None
        assert run_db_command(monkeypatch, db, tmp_path, "upgrade") == 0
        capsys.readouterr()
        for revision in ([], ["base"]):
            assert run_db_command(monkeypatch, db, tmp_path, "downgrade", *revision) == 2
            assert "--yes" in _error_line(capsys)
            assert migrate.current(db.url) == migrate.head()  # nothing was dropped
        assert run_db_command(monkeypatch, db, tmp_path, "downgrade", "nonesuch", "--yes") == 2
        assert "'nonesuch'" in _error_line(capsys)
        assert run_db_command(monkeypatch, db, tmp_path, "downgrade", "base", "--yes") == 0
        assert migrate.current(db.url) is None
    finally:
        db.close()


def test_bad_analyst_requests_are_one_line_and_change_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    role = role_name("bad")
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    cases = [
        (["grant-analyst", "postgres"], "row-level security"),  # the owner itself (a superuser here)
        (["grant-analyst", 'x"; DROP TABLE core.users; --'], "not allowed"),
        (["grant-analyst", "Mixed_Case"], "not allowed"),
        (["grant-analyst", role, "--user", "nobody@example.com"], "nobody@example.com"),
        (["grant-analyst", role, "--password-env", "NO_SUCH_PASSWORD_VAR"], "NO_SUCH_PASSWORD_VAR"),
        (["revoke-analyst", role], "not an analyst role"),
    ]
    for argv, needle in cases:
        assert run_db_command(monkeypatch, db, tmp_path, *argv) == 2, argv
        assert needle in _error_line(capsys), argv
        assert not role_exists(db, role)
