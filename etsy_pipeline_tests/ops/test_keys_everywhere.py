"""`keys rotate` follows every copy of a ciphertext; DATA_DIR is private and keeps no load package.

Every Fernet token anywhere in the database (every column of every table of every schema, JSON text included)
and in every file under DATA_DIR is found by its shape, not by knowing where the code puts them, and each must
decrypt with the new key alone once the old one is removed.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from etsy_pipeline import cli
from etsy_pipeline.runtime import open_runtime
from etsy_pipeline.settings import Settings, get_settings
from etsy_pipeline.storage.crypto import Cipher, EncryptionError, generate_key
from etsy_pipeline.sync.workdir import shop_dir
from etsy_pipeline_tests.sync.conftest import Installation, tiny

__all__ = ["tiny"]

FERNET = re.compile(r"gAAAAA[A-Za-z0-9_\-]{60,}={0,2}")  # version 0x80 and a timestamp's zero high bytes


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return "" if value is None else str(value)


def tokens_in_database(inst: Installation) -> dict[str, list[str]]:
    """Fernet tokens per table, in every schema but PostgreSQL's own."""
    tables = inst.core(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg\\_%'"
    )
    found: dict[str, list[str]] = {}
    for schema, table in tables:
        with inst.runtime.db.engine.connect() as conn:
            rows = conn.execute(text(f'SELECT * FROM "{schema}"."{table}"')).all()
        tokens = [t for row in rows for value in row for t in FERNET.findall(_text(value))]
        if tokens:
            found[f"{schema}.{table}"] = tokens
    return found


def tokens_in_files(data_dir: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in (p for p in data_dir.rglob("*") if p.is_file()):
        tokens = FERNET.findall(path.read_bytes().decode("latin-1"))
        if tokens:
            found[str(path)] = tokens
    return found


def _unreadable(tokens: dict[str, list[str]], cipher: Cipher) -> dict[str, int]:
    bad: dict[str, int] = {}
    for where, values in tokens.items():
        for token in values:
            try:
                cipher.decrypt(token.encode())
            except EncryptionError:
                bad[where] = bad.get(where, 0) + 1
    return bad


@pytest.fixture
def keys_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    get_settings.cache_clear()


def test_after_rotation_nothing_needs_the_old_key(tiny: Installation, keys_env: pytest.MonkeyPatch) -> None:
    tiny.admin("faults", bad_record_rate=0.1, seed=4)  # so the quarantine holds receipts too
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    tiny.admin("faults", bad_record_rate=0.0)
    assert {r.status for r in tiny.sync_all(full=True)} == {"succeeded"}  # a merge goes through etsy_raw_staging
    settings = tiny.runtime.settings
    old = settings.token_encryption_key.get_secret_value() if settings.token_encryption_key else ""
    before = tokens_in_database(tiny)
    expected_homes = {"core.oauth_tokens", "core.orders", "core.customers", "etsy_raw.receipts", "etsy_raw.quarantine"}
    assert expected_homes <= set(before), sorted(before)
    # The staging copy of each merge is emptied once the load is in: no ciphertext waits there for a rotation.
    assert not any(k.startswith("etsy_raw_staging.") for k in before), sorted(before)
    assert _unreadable(before, Cipher(old)) == {}

    new = generate_key()
    for key, value in tiny.child_env(TOKEN_ENCRYPTION_KEY=f"{new},{old}").items():
        keys_env.setenv(key, value)
    get_settings.cache_clear()
    assert cli.main(["keys", "rotate"]) == 0

    after = tokens_in_database(tiny)
    assert expected_homes <= set(after), sorted(after)
    assert _unreadable(after, Cipher(new)) == {}  # the old key removed: every ciphertext still reads
    assert sum(map(len, after.values())) >= sum(
        len(v) for k, v in before.items() if not k.startswith("etsy_raw_staging.")
    )
    assert _unreadable(tokens_in_files(Path(settings.data_dir)), Cipher(new)) == {}


def test_load_packages_are_deleted_after_each_load(tiny: Installation) -> None:
    """What a sync leaves under DATA_DIR holds no ciphertext at all: each run's working directory (its
    extracted and loaded packages) is removed once the data is in the database."""
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    data_dir = Path(tiny.runtime.settings.data_dir)
    for shop in tiny.shops:
        runs = shop_dir(tiny.runtime, shop.etsy_shop_id)
        assert not runs.exists() or not [p for p in runs.iterdir() if p.name.startswith("run_")]
    assert tokens_in_files(data_dir) == {}
    assert tiny.core("SELECT count(*) FROM etsy_raw.receipts")[0][0] > 0  # the data did get loaded


def test_data_dir_is_created_private(settings: Settings, tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    local = settings.model_copy(update={"data_dir": data_dir})
    with open_runtime(local, upgrade=False):
        pass
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
