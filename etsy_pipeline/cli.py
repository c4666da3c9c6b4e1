"""The `etsy-pipeline` command.

Each sub-command is a thin shell over a plain function; errors the user can fix (bad configuration, bad
arguments, a missing shop) print one clear line and exit 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from importlib import metadata
from typing import Any

from rich.console import Console

from etsy_pipeline.logs import configure_logging
from etsy_pipeline.settings import Settings, SettingsError, get_settings
from etsy_pipeline.storage.crypto import EncryptionError

console = Console()
err_console = Console(stderr=True)

Handler = Callable[[argparse.Namespace, Settings], int]


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.demo import run_demo

    run_demo(settings, console)
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.dev import run_dev

    return run_dev(settings, port=args.port, emulator=args.emulator)


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.storage import migrate
    from etsy_pipeline.storage.database import Database, redacted

    db = Database.from_settings(settings)
    try:
        if args.action == "upgrade":
            migrate.upgrade(db.url, args.revision or "head")
        elif args.action == "downgrade":
            migrate.downgrade(db.url, args.revision or "-1")
        elif args.action == "check":
            migrate.check(db.url)
            console.print("models and migrations agree")
        revision = migrate.current(db.url)
        console.print(f"{redacted(db.url)}: revision {revision or '(none)'} (head {migrate.head()})")
    finally:
        db.close()
    return 0


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.storage.crypto import cipher_from_settings, generate_key

    if args.action == "generate":
        console.print(generate_key())
        return 0
    from etsy_pipeline.storage.database import Database
    from etsy_pipeline.storage.keys import rotate_keys

    key = settings.token_encryption_key.get_secret_value() if settings.token_encryption_key else None
    db = Database.from_settings(settings)
    try:
        counts = rotate_keys(db, cipher_from_settings(key, settings.data_dir))
    finally:
        db.close()
    for table, count in counts.items():
        console.print(f"{table}: {count} row(s) re-encrypted under the primary key")
    return 0


def _emulator(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.emulator.server import serve
    from etsy_pipeline.emulator.state import Config

    config = Config(seed=args.seed, scale=args.scale, qps=args.qps, qpd=args.qpd)
    console.print(f"Etsy API emulator on http://{args.host}:{args.port} (seed {args.seed}, scale {args.scale})")
    console.print(f"credentials: http://{args.host}:{args.port}/_emulator/credentials")
    serve(args.host, args.port, config)
    return 0


def _connect(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.sync.clients import build_access
    from etsy_pipeline.sync.connect import authorize, record_connection

    with open_runtime(settings) as runtime:
        access = build_access(settings, runtime.repos.tokens)
        try:
            tokens = authorize(access, port=args.port, email=args.email, announce=console.print)
            done = record_connection(runtime, access, tokens, args.email)
        finally:
            access.close()
    console.print(f"connected shop {done.shop_name} ({done.etsy_shop_id}) for {done.email}")
    return 0


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.sync.clients import build_access
    from etsy_pipeline.sync.command import summary_table, sync_all
    from etsy_pipeline.sync.outcome import exit_code

    with open_runtime(settings) as runtime:
        access = build_access(settings, runtime.repos.tokens, reserve=settings.etsy_push_reserve)
        try:
            results = sync_all(runtime, access, console, etsy_shop_ids=args.shop, full=args.full)
        finally:
            access.close()
    console.print(summary_table(results))
    from etsy_pipeline.defs.record import record_sync

    record_sync(settings, results)
    return exit_code([r.status for r in results])


def _quota(args: argparse.Namespace, settings: Settings) -> int:
    from etsy_pipeline.sync.quota import quota_command

    return quota_command(settings, console, reset=args.reset, as_json=args.json)


def _backfill(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import Progress

    from etsy_pipeline.defs.record import record_analytics
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.transform.backfill import backfill, days_between, shop_ids_for

    days = days_between(args.start, args.end)
    built: list[tuple[date, dict[str, int]]] = []

    def progress(day: date, rows: dict[str, int]) -> None:
        built.append((day, rows))
        bar.update(task, advance=1, description=f"rebuilt {day.isoformat()}")

    with open_runtime(settings) as runtime, Progress(console=console) as bar:
        task = bar.add_task(f"rebuilding {len(days)} day(s)", total=len(days))
        totals = backfill(runtime, args.start, args.end, shop_ids=shop_ids_for(runtime, args.shop), progress=progress)
    console.print(", ".join(f"{table}: {count:,} rows" for table, count in totals.items()))
    if args.shop is None:  # a day's partition is every shop's day: only a backfill of all shops completes it
        record_analytics(settings, built)
    return 0


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port must be from 1 to 65535, got {value}")
    return port


def _any_port(value: str) -> int:
    return 0 if value.strip() == "0" else _port(value)


def _etsy_id(value: str) -> int:
    """Etsy ids are positive 64-bit integers (what the seller sees in Shop Manager)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an Etsy id (a positive whole number), got {value!r}") from None
    if not 0 < number < 2**63:
        raise argparse.ArgumentTypeError(f"an Etsy id is a positive whole number below 2^63, got {value}")
    return number


def _add(commands: Any, name: str, summary: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A sub-command whose `--help` starts with the same sentence the command list shows."""
    parser: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary, **kwargs)
    return parser


def _version() -> str:
    try:
        return metadata.version("etsy-pipeline")
    except metadata.PackageNotFoundError:
        return "unknown"


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, got {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="etsy-pipeline",
        description="ELT platform for Etsy shop data: pull into PostgreSQL, shape, analyse, push changes back.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add(commands, "demo", "run the pipeline end to end on the embedded default").set_defaults(handler=_demo)

    dev = _add(commands, "dev", "the Dagster UI against the configured services")
    dev.add_argument("--port", type=_port, default=3000, help="web UI port, 1-65535 (default 3000)")
    dev.add_argument(
        "--emulator",
        action="store_true",
        help="also start the Etsy emulator (the demo's shops, connected again) and point the UI at it",
    )
    dev.set_defaults(handler=_dev)

    db = _add(commands, "db", "schema migrations (Alembic) of the core and analytics schemas")
    db.add_argument("action", choices=["upgrade", "downgrade", "current", "check"], help="what to do")
    db.add_argument("revision", nargs="?", help="target revision (upgrade: head, downgrade: -1)")
    db.set_defaults(handler=_db)

    connect = _add(commands, "connect", "authorize a shop with Etsy (OAuth 2.0 with PKCE)")
    connect.add_argument("--email", help="your e-mail (the emulator also uses it to pick the seller)")
    connect.add_argument("--port", type=_any_port, default=0, help="loopback port of the redirect (default: any free)")
    connect.set_defaults(handler=_connect)

    sync = _add(
        commands,
        "sync",
        "pull every connected shop (or one) from Etsy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync.add_argument("--shop", type=_etsy_id, action="append", help="Etsy shop id (repeatable; default: all)")
    sync.add_argument("--full", action="store_true", help="ignore the cursors and read everything again")
    sync.set_defaults(handler=_sync)
    sync.epilog = (
        "exit status:\n"
        "  0  every shop succeeded\n"
        "  1  a shop failed\n"
        "  2  bad input\n"
        "  3  the daily quota ran out (the next run resumes where this one stopped)\n"
        "  4  incomplete: core holds fewer rows than Etsy reports (the next run reads the receipts again)\n"
        "  5  skipped: another run of the shop was in progress\n"
        "  6  a shop needs `etsy-pipeline connect` again\n"
        "with several shops, the most serious of these"
    )

    quota = _add(commands, "quota", "show (or reset) the local count of today's Etsy calls")
    quota.add_argument("--reset", action="store_true", help="forget the local count (Etsy's own count still rules)")
    quota.add_argument("--json", action="store_true", help="print one JSON object")
    quota.set_defaults(handler=_quota)

    backfill = _add(commands, "backfill", "rebuild the daily analytics for a range of days")
    backfill.add_argument("--from", dest="start", type=_date, required=True, help="first day (YYYY-MM-DD)")
    backfill.add_argument("--to", dest="end", type=_date, required=True, help="last day (YYYY-MM-DD)")
    backfill.add_argument("--shop", type=_etsy_id, action="append", help="Etsy shop id (repeatable; default: all)")
    backfill.set_defaults(handler=_backfill)

    emulator = _add(commands, "emulator", "the local Etsy API emulator")
    emulator_commands = emulator.add_subparsers(dest="emulator_command", required=True, metavar="COMMAND")
    serve = _add(emulator_commands, "serve", "serve the emulator over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8787, help="port, 1-65535 (default 8787)")
    serve.add_argument("--seed", type=int, default=42, help="data seed (same seed, same data)")
    serve.add_argument(
        "--scale", choices=["tiny", "small", "medium", "large"], default="small", help="how much data (default small)"
    )
    serve.add_argument("--qps", type=_non_negative, default=10, help="calls per second (0: no limit)")
    serve.add_argument("--qpd", type=_non_negative, default=10_000, help="calls per rolling day (0: no limit)")
    serve.set_defaults(handler=_emulator)

    keys = _add(commands, "keys", "encryption keys for tokens and personal data")
    keys.add_argument(
        "action",
        choices=["generate", "rotate"],
        help="generate: print a new key; rotate: re-encrypt under the first key",
    )
    keys.set_defaults(handler=_keys)

    from etsy_pipeline.push.commands import register as register_push

    register_push(commands)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Every sub-command's `--help` opens with the summary the command list shows, wherever it was registered."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                sub.description = sub.description or summaries.get(name)
                _describe(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        err_console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        return 2
    configure_logging(settings.log_level)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except (SettingsError, EncryptionError, ValueError, LookupError) as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
