from __future__ import annotations

from pathlib import Path

import psutil
from sqlalchemy import create_engine, text

from etsy_pipeline.settings import load_settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.embedded import EmbeddedPostgres


def _running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_embedded_postgres_keeps_data_across_stop_and_start(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path).start()
    first_pid = server.pid
    engine = create_engine(server.url())
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (v text)"))
        conn.execute(text("INSERT INTO kept VALUES ('still here')"))
    engine.dispose()
    server.stop()
    assert first_pid is not None and not _running(first_pid)  # stopped, not left running

    again = EmbeddedPostgres(tmp_path).start()
    try:
        assert again.pid != first_pid
        engine = create_engine(again.url())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT v FROM kept")).scalar_one() == "still here"
        engine.dispose()
    finally:
        again.stop()


def test_database_url_set_never_starts_the_embedded_server(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=database_url, data_dir=tmp_path, _env_file=None)
    db = Database.from_settings(settings)
    try:
        assert db.embedded is None
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.close()
    assert not (tmp_path / "pgdata").exists()
