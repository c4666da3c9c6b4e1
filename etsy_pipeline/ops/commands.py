"""The operations commands: `backup [--to DIR]`, `backup verify FILE`, `restore FILE --database-url URL [--force]`,
`health [--json]`.

Exit status: 0 done (health: no warning), 1 a backup failed verification or health has warnings, 2 bad input
(a missing file, a non-empty target, an unreachable database: one line naming the redacted URL).
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.exc import DBAPIError

from etsy_pipeline.ops import backup
from etsy_pipeline.settings import Settings, redact_secrets
from etsy_pipeline.storage.database import Database, redacted

console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)
Handler = Callable[[argparse.Namespace, Settings], int]
EXIT_FAILED, EXIT_BAD_INPUT = 1, 2


def _one_line(handler: Handler) -> Handler:
    """A database that cannot be reached, or a backup that fails, is one line (never a URL's password)."""

    @functools.wraps(handler)
    def wrapped(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return handler(args, settings)
        except backup.BackupError as exc:
            err_console.print(f"error: {redact_secrets(str(exc))}", markup=False)
            return EXIT_FAILED
        except ValueError as exc:  # a non-empty target, a URL that is not PostgreSQL's (SettingsError)
            err_console.print(f"error: {redact_secrets(str(exc))}", markup=False)
            return EXIT_BAD_INPUT
        except OSError as exc:  # a missing backup or manifest, a directory we may not write
            err_console.print(f"error: {exc}", markup=False)
            return EXIT_BAD_INPUT
        except DBAPIError as exc:
            target = getattr(args, "database_url", None) or settings.database_url or "(embedded)"
            first = str(exc.orig or exc).strip().splitlines()[0]
            err_console.print(f"error: database {redact_secrets(target)}: {redact_secrets(first)}", markup=False)
            return EXIT_BAD_INPUT

    return wrapped


def backup_dir(settings: Settings) -> Path:
    return settings.backup_dir or settings.data_dir / "backups"


@_one_line
def _backup(args: argparse.Namespace, settings: Settings) -> int:
    db = Database.from_settings(settings)
    try:
        if args.backup_command == "verify":
            result = backup.verify(Path(args.file), db)
            console.print(f"{args.file}: verified, {result.tables} tables and {result.rows:,} rows match the manifest")
            return 0
        made = backup.create_backup(db, args.to or backup_dir(settings))
    finally:
        db.close()
    removed = backup.prune(made.path.parent, settings.backup_keep_days)
    tables = made.manifest["tables"]
    rows = sum(t["rows"] for t in tables.values())
    size = made.manifest["bytes"]
    console.print(f"{len(tables)} tables, {rows:,} rows, {size:,} bytes in {made.seconds:.1f} s; manifest beside it")
    if removed:
        console.print(f"removed {len(removed)} backup(s) older than {settings.backup_keep_days} days")
    console.print(f"note: {backup.KEY_NOTE}", markup=False)
    print(made.path)  # the last line, for scripts
    return 0


@_one_line
def _restore(args: argparse.Namespace, settings: Settings) -> int:
    url = _postgres_url(args.database_url)
    result = backup.restore(Path(args.file), url, force=args.force)
    if result.mismatched:
        err_console.print(f"error: restored tables differ from the manifest: {', '.join(result.mismatched)}")
        return EXIT_FAILED
    console.print(f"restored into {redacted(url)}: {result.tables} tables, {result.rows:,} rows match the manifest")
    if result.upgraded_from is not None:
        console.print(f"schema upgraded from revision {result.upgraded_from} to the head")
    console.print(f"note: {backup.KEY_NOTE}", markup=False)
    return 0


def _postgres_url(url: str) -> str:
    from etsy_pipeline.settings import load_settings

    load_settings(database_url=url, _env_file=None)  # the same check as DATABASE_URL (SettingsError: exit 2)
    return url


@_one_line
def _health(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.ops import health

    db = Database.from_settings(settings)
    try:
        report = health.collect(db, settings)
    finally:
        db.close()
    if args.json:
        print(json.dumps(report.as_json(), default=str, indent=2))
    else:
        _print_report(report.as_json())
    return EXIT_FAILED if report.warnings else 0


def _print_report(report: dict[str, Any]) -> None:
    for name, check in report["checks"].items():
        console.print(f"{name}: {check['status']}", markup=False)
        for line in _summary(name, check):
            console.print(f"  {line}", markup=False)
        for warning in check["warnings"]:
            console.print(f"  warning: {warning}", markup=False)
    console.print(f"status: {report['status']}", markup=False)


def _summary(name: str, check: dict[str, Any]) -> list[str]:
    """One or two lines of the figures that matter most per check (`--json` has all of them)."""
    if name == "connections":
        return [f"{check['server_used']} of {check['server_max']} server connections; {check['database']} here"]
    if name == "table_growth":
        return [f"database {check['database_bytes'] / 2**20:.1f} MiB"]
    if name == "cache_hit_ratio":
        return [f"postgres {check['postgres']['ratio']}, redis {check['redis'].get('ratio', 'n/a')}"]
    if name == "etsy_quota" and check.get("configured"):
        return [f"{check['used']} used today, {check['left'] if check['left'] is not None else 'no limit'} left"]
    if name == "push_backlog":
        return [f"{check['open']} open, oldest {check['oldest_open_minutes'] or 0} minutes"]
    return []


def register(commands: Any) -> None:
    """Add `backup`, `restore` and `health` to the command list."""

    def add(parent: Any, name: str, summary: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=summary, description=summary)
        return parser

    dump = add(commands, "backup", "dump the pipeline database (pg_dump -Fc) with a checksum manifest")
    dump.add_argument("--to", type=Path, help="directory for the backup (default: BACKUP_DIR or DATA_DIR/backups)")
    dump.set_defaults(handler=_backup, backup_command=None)
    verbs = dump.add_subparsers(dest="backup_command", required=False, metavar="COMMAND")
    check = add(verbs, "verify", "restore a backup into a throwaway database and compare every checksum")
    check.add_argument("file", help="the backup's .dump file (its manifest lies beside it)")

    load = add(commands, "restore", "restore a backup into an empty database and check it against its manifest")
    load.add_argument("file", help="the backup's .dump file (its manifest lies beside it)")
    load.add_argument("--database-url", required=True, help="the PostgreSQL database to restore into")
    load.add_argument("--force", action="store_true", help="restore even if the database already holds tables")
    load.set_defaults(handler=_restore)

    health = add(commands, "health", "database health: slow queries, connections, sizes, indexes, caches, lag")
    health.add_argument("--json", action="store_true", help="print one JSON object")
    health.set_defaults(handler=_health)
