"""`make ui` works: `etsy-pipeline dev` serves the Dagster UI and the code location loads in it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from etsy_pipeline.emulator.server import free_port
from etsy_pipeline.storage.database import sqlalchemy_url

QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def _dagster_processes(home: str) -> list[int]:
    """Processes still running with this test's DAGSTER_HOME in their environment."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if state == "Z":  # exited, waiting to be reaped by its parent
            continue
        if f"DAGSTER_HOME={home}".encode() in environ and int(pid) != os.getpid():
            found.append(int(pid))
    return found


def test_the_dagster_ui_serves_the_code_location(fresh_database_url: str, tmp_path: Path) -> None:
    """`make ui` (`dev --emulator`): the emulator's shops connected, the UI up, its instance under DATA_DIR."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "DATA_DIR": str(tmp_path / "data")}
    env.pop("DAGSTER_HOME", None)
    env["DAGSTER_HOME"] = str(tmp_path / "data" / "dagster")  # where dev puts it: only used to find its processes
    out = (tmp_path / "out.txt").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "etsy_pipeline.cli", "dev", "--emulator", "--port", str(port)],
        env={k: v for k, v in env.items() if k != "DAGSTER_HOME"},
        stdout=out,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=5).json()
                entries = answer["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"]:
                    body = entries[0]
                    break
            except (httpx.HTTPError, KeyError, TypeError):
                pass
            time.sleep(1)
        assert body is not None, "the UI did not answer within 90 s"
        assert body["locationOrLoadError"]["__typename"] == "RepositoryLocation", body
        assert (tmp_path / "data" / "dagster" / "dagster.yaml").exists()  # history survives a restart
        printed = (tmp_path / "out.txt").read_text()
        emulator = printed.split("Etsy API emulator on ")[1].split(";")[0]
        assert httpx.get(f"{emulator}/_emulator/clock").status_code == 200  # up while the UI is
        engine = create_engine(sqlalchemy_url(fresh_database_url))
        with engine.connect() as conn:
            connected = conn.execute(text("SELECT count(*) FROM core.shops")).scalar()
        engine.dispose()
        assert connected == 1  # the demo's seller, connected to this emulator
        process.send_signal(signal.SIGTERM)  # what a service manager sends: the UI must go down with it
        process.wait(timeout=40)
        assert not _dagster_processes(env["DAGSTER_HOME"])
    finally:
        for pid in _dagster_processes(env["DAGSTER_HOME"]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
