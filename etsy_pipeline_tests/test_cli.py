from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from rich.console import Console
from sqlalchemy import func, select

from etsy_pipeline import cli
from etsy_pipeline.demo import DEMO_EMULATOR, run_demo
from etsy_pipeline.emulator.state import EmulatorState
from etsy_pipeline.settings import Settings, get_settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Listing, Shop


@pytest.fixture
def env_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield fresh_database_url
    get_settings.cache_clear()


def test_db_commands_move_the_schema(env_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db", "current"]) == 0
    assert "revision (none)" in capsys.readouterr().out
    assert cli.main(["db", "upgrade"]) == 0
    assert migrate.current(env_database) == migrate.head()
    assert cli.main(["db", "check"]) == 0
    assert "models and migrations agree" in capsys.readouterr().out
    assert cli.main(["db", "downgrade", "base", "--yes"]) == 0
    assert migrate.current(env_database) is None


def test_keys_generate_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["keys", "generate"]) == 0
    key = capsys.readouterr().out.strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


def test_demo_runs_the_pipeline_and_is_repeatable(settings: Settings, db: Database) -> None:
    printed = io.StringIO()
    first = run_demo(settings, Console(file=printed, width=80), scale="tiny")
    assert len(printed.getvalue().splitlines()) < 40  # a summary a newcomer reads, not a log
    second = run_demo(settings, scale="tiny")
    assert {r.status for r in first.full + first.incremental} == {"succeeded"}
    assert len(first.full) == 2  # both sellers of the tiny scale were connected and synced
    assert first.counts == second.counts  # the same seed, the same data, nothing duplicated
    assert first.counts["orders"] > 600 and first.counts["listings"] == 80
    assert first.incremental[0].fetched["receipts"] < first.full[0].fetched["receipts"] / 3
    assert first.incremental[0].api_calls < first.full[0].api_calls
    assert not first.embedded
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Shop)) == 2
        assert session.scalar(select(func.count()).select_from(Listing)) == 80


def test_demo_command_runs_on_embedded_postgres_without_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TOKEN_ENCRYPTION_KEY"}}
    env["DATA_DIR"] = str(tmp_path / "data")
    env["LOG_LEVEL"] = "DEBUG"  # the most the program ever says: still no buyer data, no token, no key
    result = subprocess.run(
        [sys.executable, "-m", "etsy_pipeline.cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "embedded" in result.stdout
    assert "StudioNo1Clay" in result.stdout
    assert "day+1" in result.stdout
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
    assert not (tmp_path / "data" / "pgdata" / "postmaster.pid").exists()  # stopped cleanly on exit
    said = result.stdout + result.stderr
    world = EmulatorState(DEMO_EMULATOR)  # the same seed: the buyers and keys the demo met
    secrets = {world.auth.keystring, world.auth.shared_secret, "Bearer "}
    buyers = {r.address.name for r in world.world.receipts.values()} | {
        r.address.first_line for r in world.world.receipts.values()
    }
    assert not [s for s in secrets if s in said]
    assert not [b for b in buyers if b in said][:3]
    key = (tmp_path / "data" / "token_encryption.key").read_text().strip()
    assert key not in said


def test_backfill_command_rebuilds_a_range(env_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert cli.main(["backfill", "--from", "2026-01-30", "--to", "2026-02-02"]) == 0
    assert "shop_daily_metrics: 0 rows" in capsys.readouterr().out  # no shops yet, but every day was rebuilt
    assert cli.main(["backfill", "--from", "2026-02-02", "--to", "2026-01-30"]) == 2
    assert "--to 2026-01-30 is before --from 2026-02-02" in capsys.readouterr().err
    assert cli.main(["backfill", "--from", "2026-01-01", "--to", "2026-01-02", "--shop", "424242"]) == 2
    assert "[424242] are not connected" in capsys.readouterr().err


def test_version_help_and_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import metadata

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert metadata.version("etsy-pipeline") in capsys.readouterr().out
    for argv, words in (
        (["dev", "--port", "70000"], "port must be from 1 to 65535, got 70000"),
        (["connect", "--port", "-1"], "port must be from 1 to 65535, got -1"),
        (["sync", "--shop", "-3"], "positive whole number below 2^63, got -3"),
        (["backfill", "--from", "2026-01-01", "--to", "2026-01-02", "--shop", "x"], "got 'x'"),
    ):
        with pytest.raises(SystemExit) as bad:
            cli.main(argv)
        assert bad.value.code == 2
        assert words in capsys.readouterr().err


def test_every_command_and_option_says_what_it_does() -> None:
    import argparse

    from etsy_pipeline.cli import build_parser

    def walk(parser: argparse.ArgumentParser, path: str) -> list[str]:
        missing = [] if parser.description else [f"{path}: no description"]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    missing += walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction | argparse._VersionAction) and not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}: no help")
        return missing

    assert walk(build_parser(), "etsy-pipeline") == []
