"""What the benchmarks share: a throwaway database, the emulator in a process of its own, latency percentiles."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from etsy_pipeline.emulator.server import free_port

ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new empty database on BENCH_DATABASE_ADMIN_URL's server, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def database_cpu() -> float | None:
    """CPU seconds the local PostgreSQL server has spent: its live processes plus the backends its postmaster has
    reaped (a connection that closed mid-measurement still counts). The whole server's, so a figure is this
    work's only when nothing else uses the server; None when the server is not on this machine or not readable."""
    import psutil

    total, found = 0.0, False
    for process in psutil.process_iter(["name"]):
        if not (process.info["name"] or "").startswith("postgres"):
            continue
        try:
            times = process.cpu_times()
            parent = process.parent()
            postmaster = parent is None or not parent.name().startswith("postgres")
        except psutil.Error:
            return None
        found = True
        total += times.user + times.system
        if postmaster:
            total += times.children_user + times.children_system
    return total if found else None


def database_cpu_since(before: float | None) -> float | None:
    """The server's CPU seconds since `before` (a `database_cpu()` reading); None when either reading is."""
    after = database_cpu()
    return None if before is None or after is None else after - before


def p50_p95_ms(samples: list[float]) -> tuple[float, float]:
    """Median and 95th percentile of durations in seconds, in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def scale_command(scale: str) -> Callable[[int], list[str]]:
    """`etsy-pipeline emulator serve` of a scale with Etsy's limits off, on the port it is given."""
    return lambda port: [
        *("-m", "etsy_pipeline.cli", "emulator", "serve", "--port", str(port)),
        *("--scale", scale, "--qps", "0", "--qpd", "0"),
    ]


def serve_emulator(command: Callable[[int], list[str]], cwd: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """The emulator in a process of its own, so serving Etsy does not share the measured interpreter; returns the
    process and its URL once it answers (stop it with `stop_emulator`)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, *command(port)], stdout=subprocess.DEVNULL, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_emulator/credentials", timeout=2)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_emulator(process)
    raise RuntimeError("the emulator did not start")


def first_seller(url: str) -> tuple[int, dict[str, str]]:
    """The emulator's first seller: its shop id and the headers of a call on its behalf (key and bearer token)."""
    credentials = httpx.get(f"{url}/_emulator/credentials").json()
    seller = credentials["users"][0]
    form = {"grant_type": "refresh_token", "client_id": credentials["keystring"]}
    token = httpx.post(f"{url}/v3/public/oauth/token", data=form | {"refresh_token": seller["refresh_token"]}).json()[
        "access_token"
    ]
    headers = {"x-api-key": credentials["api_key"], "authorization": f"Bearer {token}", "accept": "application/json"}
    return int(seller["shop_id"]), headers


def stop_emulator(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)
