"""Backups of the pipeline database: a `pg_dump -Fc` and a manifest beside it, restore, verify, retention.

The manifest records, per table, the row count and an order-independent checksum computed in the very snapshot
pg_dump reads (an exported snapshot), so a restore can prove every row came back: the checksums of the restored
tables must equal the manifest's. A backup never holds the encryption key (tokens and buyer data stay ciphertext
in it); the key is backed up separately or the restored data cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.engine import make_url

from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.database import Database, redacted, sqlalchemy_url

PREFIX, DUMP, MANIFEST = "etsy_pipeline-", ".dump", ".manifest.json"
KEY_NOTE = (
    "the encryption key is not in this backup: keep TOKEN_ENCRYPTION_KEY (or DATA_DIR/token_encryption.key) "
    "safe separately, without it the restored tokens and buyer data cannot be read"
)
_USER_TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY 1, 2
"""


class BackupError(Exception):
    """The backup is damaged, or a restore does not match its manifest."""


class NotEmptyError(ValueError):
    """A restore target already holds tables (bad input: the operator names another database or `--force`)."""


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]
    seconds: float

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.path)


@dataclass(frozen=True)
class Restored:
    tables: int
    rows: int
    mismatched: list[str] = field(default_factory=list)
    upgraded_from: str | None = None


def _embedded_bin() -> Path | None:
    try:
        import pgserver
    except ImportError:
        return None
    return Path(pgserver.__file__).parent / "pginstall" / "bin"


@lru_cache(maxsize=8)
def version(tool: Path) -> str:
    out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = re.search(r"(\d+(?:\.\d+)?)", out)
    return found.group(1) if found else "0"


def find(name: str, major: int, *, prefer_embedded: bool) -> Path:
    """The client tool to use: the embedded server's own when embedded (pgserver ships PostgreSQL 16, newer than
    most machines' clients), otherwise the one on PATH; a tool older than `major` cannot read the server (pg_dump)
    or the archive (pg_restore), so the other one is tried before giving up."""
    on_path, embedded = shutil.which(name), _embedded_bin()
    candidates = [embedded / name if embedded else None, Path(on_path) if on_path else None]
    if not prefer_embedded:
        candidates.reverse()
    usable = [c for c in candidates if c is not None and c.is_file()]
    for tool in usable:
        if int(version(tool).split(".")[0]) >= major:
            return tool
    found = ", ".join(f"{t} ({version(t)})" for t in usable) or "none"
    raise BackupError(f"no {name} of PostgreSQL {major} or newer (found: {found}); put one on PATH")


def dsn(url: str) -> str:
    """A libpq keyword string without the password (that goes through PGPASSWORD, never on a command line)."""
    parsed = make_url(sqlalchemy_url(url))
    parts = {
        "host": parsed.query.get("host") or parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "dbname": parsed.database,
        "sslmode": parsed.query.get("sslmode"),
    }
    quoted = (str(v).replace("\\", "\\\\").replace("'", "\\'") for v in parts.values())
    return " ".join(f"{k}='{v}'" for k, v in zip(parts, quoted, strict=True) if parts[k] is not None)


def run(tool: Path, args: list[str], url: str) -> None:
    """Run a client tool against `url`; a failure is one line (the tool's first error, never data rows)."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    password = make_url(sqlalchemy_url(url)).password
    if password:
        env["PGPASSWORD"] = str(password)
    command = [str(tool), *args, f"--dbname={dsn(url)}"]  # our own client tools, arguments built here
    done = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "error" in line.lower()] or done.stderr.splitlines()
        first = lines[0][:300] if lines else f"exit status {done.returncode}"
        raise BackupError(f"{tool.name} failed: {first}")


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name.removesuffix(DUMP) + MANIFEST)


def read_manifest(dump: Path) -> dict[str, Any]:
    path = manifest_path(dump)
    if not dump.is_file():
        raise FileNotFoundError(f"no backup file at {dump}")
    if not path.is_file():
        raise FileNotFoundError(f"no manifest beside {dump} (expected {path.name})")
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_checksums(conn: Connection) -> dict[str, dict[str, Any]]:
    """Rows and a checksum per table: the sum of each row's md5 (as a 64-bit number), so row order never matters
    and a changed, missing or doubled row does. Text forms are pinned (UTC, ISO dates) so two servers agree."""
    conn.execute(text("SET LOCAL statement_timeout = 0"))
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
    conn.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
    conn.execute(text("SET LOCAL extra_float_digits = 1"))
    sums: dict[str, dict[str, Any]] = {}
    for schema, table in conn.execute(text(_USER_TABLES)).all():
        name = f'"{schema.replace(chr(34), chr(34) * 2)}"."{table.replace(chr(34), chr(34) * 2)}"'
        rows, total = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(('x' || left(md5(ROW(r.*)::text), 16))::bit(64)::bigint::numeric), 0)"
                f" FROM {name} AS r"
            )
        ).one()
        sums[f"{schema}.{table}"] = {"rows": int(rows), "checksum": str(total)}
    return sums


def create_backup(db: Database, directory: Path, *, now: datetime | None = None) -> Backup:
    """Dump the database and write its manifest; the dump is written under a temporary name and renamed, so a
    failed backup never leaves a file that looks complete."""
    started = datetime.now(UTC)
    created = now or started
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{PREFIX}{created.strftime('%Y%m%dT%H%M%S%fZ')}{DUMP}"
    partial = path.with_name(path.name + ".partial")
    conn = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000
            tool = find("pg_dump", major, prefer_embedded=db.embedded is not None)
            run(tool, ["--format=custom", f"--snapshot={snapshot}", f"--file={partial}"], db.url)
            tables = table_checksums(conn)
            server = str(conn.execute(text("SHOW server_version")).scalar_one())
        partial.chmod(0o600)
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    manifest = {
        "format": 1,
        "file": path.name,
        "sha256": sha256(path),
        "bytes": path.stat().st_size,
        "created_at": created.isoformat(),
        "database": redacted(db.url),
        "schema_revision": migrate.current(db.url),
        "server_version": server,
        "pg_dump_version": version(tool),
        "tables": tables,
        "encryption_key_included": False,
        "note": KEY_NOTE,
        "verified_at": None,
    }
    manifest_path(path).write_text(json.dumps(manifest, indent=2) + "\n")
    manifest_path(path).chmod(0o600)
    return Backup(path, manifest, (datetime.now(UTC) - started).total_seconds())


def _user_tables(url: str) -> int:
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return len(conn.execute(text(_USER_TABLES)).all())
    finally:
        engine.dispose()


def restore(dump: Path, url: str, *, force: bool = False, upgrade: bool = True) -> Restored:
    """Restore into an empty database (or over one, with `force`), check every table against the manifest, then
    bring an older schema to the migration head."""
    manifest = read_manifest(dump)
    if sha256(dump) != manifest["sha256"]:
        raise BackupError(f"{dump} is damaged: its sha256 differs from the manifest's")
    existing = _user_tables(url)
    if existing and not force:
        raise NotEmptyError(f"{redacted(sqlalchemy_url(url))} is not empty ({existing} tables): restore into an "
                            "empty database, or pass --force to replace the backup's objects in it")  # fmt: skip
    needed = int(str(manifest.get("pg_dump_version") or "0").split(".")[0])
    tool = find("pg_restore", needed, prefer_embedded=False)
    options = ["--no-owner", "--no-acl"] + (["--clean", "--if-exists"] if force else ["--exit-on-error"])
    run(tool, [*options, str(dump)], url)
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            restored = table_checksums(conn)
    finally:
        engine.dispose()
    expected: dict[str, dict[str, Any]] = manifest["tables"]
    mismatched = sorted(name for name, figures in expected.items() if restored.get(name) != figures)
    result = Restored(len(expected), sum(t["rows"] for t in expected.values()), mismatched)
    if upgrade and not mismatched and migrate.current(url) != migrate.head():
        migrate.upgrade(url)
        return Restored(result.tables, result.rows, [], manifest.get("schema_revision") or "(none)")
    return result


def verify(dump: Path, db: Database) -> Restored:
    """Restore into a throwaway database on the same server, compare every checksum, drop it; a verified backup
    has `verified_at` set in its manifest (the schedule's freshness check reads it)."""
    name = f"etsy_pipeline_verify_{uuid.uuid4().hex[:12]}"
    admin = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        result = restore(dump, make_url(db.url).set(database=name).render_as_string(hide_password=False), upgrade=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if result.mismatched:
        raise BackupError(f"{dump}: restored tables differ from the manifest: {', '.join(result.mismatched)}")
    manifest = read_manifest(dump)
    manifest["verified_at"] = datetime.now(UTC).isoformat()
    manifest_path(dump).write_text(json.dumps(manifest, indent=2) + "\n")
    return result


def backups(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Complete backups in `directory` (a dump and its manifest), oldest first."""
    found = []
    for path in sorted(directory.glob(f"{PREFIX}*{DUMP}")):
        try:
            found.append((path, read_manifest(path)))
        except (FileNotFoundError, ValueError):
            continue
    return sorted(found, key=lambda item: str(item[1].get("created_at")))


def prune(directory: Path, keep_days: int, *, now: datetime | None = None) -> list[Path]:
    """Delete backups older than `keep_days` (0 keeps all); the newest is always kept, however old."""
    if keep_days <= 0:
        return []
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    removed = []
    for path, manifest in backups(directory)[:-1]:
        if datetime.fromisoformat(manifest["created_at"]) < cutoff:
            path.unlink(missing_ok=True)
            manifest_path(path).unlink(missing_ok=True)
            removed.append(path)
    return removed


def last_verified(directory: Path) -> datetime | None:
    """When the most recently made backup that passed `verify` was made (None: no verified backup)."""
    made = [datetime.fromisoformat(m["created_at"]) for _, m in backups(directory) if m.get("verified_at")]
    return max(made, default=None)
