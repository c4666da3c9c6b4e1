"""Backups with the real pg_dump / pg_restore: a synced installation restores table for table (checksums computed
here, independently of the manifest's), a damaged file is caught, buyer data and tokens never appear in clear in
a dump, a non-empty target is refused, an older schema is upgraded, and old backups are pruned."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from etsy_pipeline import cli
from etsy_pipeline.ops import backup
from etsy_pipeline.settings import get_settings, load_settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.database import Database
from etsy_pipeline_tests.support.databases import create_database, drop_database
from etsy_pipeline_tests.sync.conftest import Installation, tiny

__all__ = ["tiny"]  # the synced installation fixture

TABLES = """
SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""


@pytest.fixture
def scratch() -> Iterator[list[str]]:
    """Names of databases a test creates; all dropped afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        drop_database(name)


def new_database(scratch: list[str]) -> str:
    name = f"etsy_pipeline_restore_{uuid.uuid4().hex[:10]}"
    scratch.append(name)
    return create_database(name)


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and the md5 of its sorted rows, as text: the test's own checksum."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text("SET TimeZone = 'UTC'"))
        found = {}
        for (table,) in conn.execute(text(TABLES)).all():
            sql = f"SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM {table} r"
            found[table] = tuple(conn.execute(text(sql)).one())
    engine.dispose()
    return found


def run_cli(monkeypatch: pytest.MonkeyPatch, url: str, *argv: str, **env: str) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return cli.main(list(argv))
    finally:
        get_settings.cache_clear()


def test_a_synced_installation_restores_table_for_table_and_no_secret_is_in_the_dump(
    tiny: Installation, scratch: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    source = tiny.runtime.db.url
    assert run_cli(monkeypatch, source, "backup", "--to", str(tmp_path / "b")) == 0
    out = capsys.readouterr().out.strip().splitlines()
    dump = Path(out[-1])  # the last line is the backup's path
    assert dump.parent == tmp_path / "b" and dump.is_file()
    assert any("encryption key is not in this backup" in line for line in out)

    target = new_database(scratch)
    assert run_cli(monkeypatch, source, "restore", str(dump), "--database-url", target) == 0
    before, after = contents(source), contents(target)
    assert before == after
    assert before["core.orders"][0] == len(tiny.state.world.receipts) > 0
    assert before["etsy_raw.receipts"][0] > 0 and before["core.oauth_tokens"][0] == len(tiny.shops)

    # No buyer's name, street or message, no token and no key in clear anywhere in the dump's SQL.
    sql = subprocess.run(["pg_restore", "--file=-", str(dump)], capture_output=True, text=True, check=True).stdout
    assert "COPY core.orders" in sql  # the data really is in the text scanned
    receipts = list(tiny.state.world.receipts.values())
    needles = {r.address.name for r in receipts} | {r.address.first_line for r in receipts}
    needles |= {r.message_from_buyer for r in receipts if r.message_from_buyer}
    for shop in tiny.shops:
        pair = tiny.runtime.repos.tokens.get(shop.user_id)
        needles |= {pair.access_token, pair.refresh_token}
    key = tiny.runtime.settings.token_encryption_key
    assert key is not None
    needles |= set(key.get_secret_value().split(","))
    clear = re.compile("|".join(re.escape(n) for n in sorted(needles)))
    assert not clear.search(sql)
    assert not clear.search(backup.manifest_path(dump).read_text())


@pytest.fixture
def made(db: Database, tmp_path: Path) -> backup.Backup:
    """A backup of the session database with a few rows of its own."""
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO core.users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 50) g")
        )
    return backup.create_backup(db, tmp_path / "backups")


def test_verify_passes_then_catches_a_damaged_file(
    made: backup.Backup, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, database_url, "backup", "verify", str(made.path)) == 0
    assert json.loads(made.manifest_path.read_text())["verified_at"] is not None
    capsys.readouterr()
    data = bytearray(made.path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    made.path.write_bytes(bytes(data))
    assert run_cli(monkeypatch, database_url, "backup", "verify", str(made.path)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "damaged" in err[0]


def test_verify_catches_damage_even_when_the_manifest_was_rewritten_to_match(made: backup.Backup, db: Database) -> None:
    """A file cut short, with a manifest whose sha256 was recomputed: the restore itself must fail."""
    made.path.write_bytes(made.path.read_bytes()[: made.manifest["bytes"] * 2 // 3])
    manifest = json.loads(made.manifest_path.read_text())
    manifest["sha256"] = backup.sha256(made.path)
    made.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError):
        backup.verify(made.path, db)
    assert json.loads(made.manifest_path.read_text())["verified_at"] is None


def test_verify_catches_a_manifest_that_does_not_match_the_data(made: backup.Backup, db: Database) -> None:
    manifest = json.loads(made.manifest_path.read_text())
    assert manifest["tables"]["core.users"]["rows"] == 50
    manifest["tables"]["core.users"]["rows"] = 49
    made.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError, match=r"core\.users"):
        backup.verify(made.path, db)


def test_restore_refuses_a_non_empty_database_unless_forced(
    made: backup.Backup, scratch: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:  # fmt: skip
    target = new_database(scratch)
    migrate.upgrade(target)  # the schema alone: not empty
    assert run_cli(monkeypatch, database_url, "restore", str(made.path), "--database-url", target) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not empty" in err[0] and "--force" in err[0]
    assert run_cli(monkeypatch, database_url, "restore", str(made.path), "--database-url", target, "--force") == 0
    assert contents(target)["core.users"][0] == 50


def test_restore_of_an_older_schema_upgrades_it_to_the_head(scratch: list[str], tmp_path: Path) -> None:
    old = new_database(scratch)
    migrate.upgrade(old, "0005")
    source = Database(old)
    try:
        made = backup.create_backup(source, tmp_path)
    finally:
        source.close()
    assert made.manifest["schema_revision"] == "0005"
    target = new_database(scratch)
    result = backup.restore(made.path, target)
    assert result.mismatched == [] and result.upgraded_from == "0005"
    assert migrate.current(target) == migrate.head()


def test_a_bad_target_url_is_one_line_without_its_password(
    made: backup.Backup, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = "postgresql://postgres:Sekrit99@127.0.0.1:1/nowhere"
    assert run_cli(monkeypatch, database_url, "restore", str(made.path), "--database-url", closed) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Sekrit99" not in err[0] and "Traceback" not in err[0]
    assert (
        run_cli(monkeypatch, database_url, "restore", str(made.path), "--database-url", "mysql://r:Sekrit99@h/d") == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Sekrit99" not in err[0] and "PostgreSQL URL" in err[0]


def _fake_backup(directory: Path, created: datetime) -> Path:
    dump = directory / f"{backup.PREFIX}{created.strftime('%Y%m%dT%H%M%S%fZ')}{backup.DUMP}"
    dump.write_bytes(b"x")
    backup.manifest_path(dump).write_text(json.dumps({"created_at": created.isoformat(), "verified_at": None}))
    return dump


def test_retention_keeps_recent_backups_and_always_the_newest(tmp_path: Path) -> None:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    ages = [40, 20, 15, 13, 1]
    dumps = [_fake_backup(tmp_path, now - timedelta(days=d)) for d in ages]
    removed = backup.prune(tmp_path, 14, now=now)
    assert sorted(removed) == sorted(dumps[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for d in dumps[3:] for n in (d.name, backup.manifest_path(d).name)
    )
    assert backup.prune(tmp_path, 0, now=now + timedelta(days=400)) == []  # 0 keeps everything
    assert backup.prune(tmp_path, 14, now=now + timedelta(days=400)) == [dumps[3]]  # the newest stays


def test_on_the_embedded_server_its_own_binaries_dump_and_restore(tmp_path: Path) -> None:
    """pgserver ships PostgreSQL 16, newer than this machine's pg_dump 15: the backup must use pgserver's tools."""
    settings = load_settings(database_url="", data_dir=tmp_path / "data", _env_file=None)
    db = Database.from_settings(settings)
    try:
        assert db.embedded is not None
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE kept AS SELECT g AS n, md5(g::text) AS v FROM generate_series(1, 500) g"))
        made = backup.create_backup(db, tmp_path / "backups")
        assert made.manifest["pg_dump_version"].split(".")[0] == made.manifest["server_version"].split(".")[0] == "16"
        assert made.manifest["tables"]["public.kept"]["rows"] == 500
        result = backup.verify(made.path, db)
        assert result.mismatched == [] and result.rows >= 500
    finally:
        db.close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root:Secret@db:3306/etsy"),
        ("DATABASE_URL", "postgresql://etsy:Secret@db:notaport/etsy"),
        ("DATABASE_URL", "postgresql://etsy:Secret@127.0.0.1:1/etsy"),
        ("REDIS_URL", "http://cache-user:Secret@cache:6379/0"),
    ],
)
def test_a_settings_error_names_the_variable_but_never_its_password(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        code = cli.main(["health"])
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Secret" not in err[0]
    if not value.startswith("postgresql"):  # a PostgreSQL URL fails on connecting, not in the settings
        assert variable in err[0]


def test_an_empty_etsy_secret_is_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ETSY_API_KEYSTRING", "")
    monkeypatch.setenv("ETSY_SHARED_SECRET", "   ")
    settings = load_settings()
    assert settings.etsy_api_keystring is None and settings.etsy_shared_secret is None
    monkeypatch.setenv("ETSY_API_KEYSTRING", "abc123")
    assert load_settings().etsy_api_keystring is not None


def test_a_missing_backup_or_an_unwritable_directory_is_one_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "etsy_pipeline-nothing.dump"
    assert run_cli(monkeypatch, database_url, "backup", "verify", str(missing)) == 2
    assert run_cli(monkeypatch, database_url, "restore", str(missing), "--database-url", database_url) == 2
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert run_cli(monkeypatch, database_url, "backup", "--to", str(blocker / "backups")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)
    assert str(missing) in err[0] and str(missing) in err[1]
