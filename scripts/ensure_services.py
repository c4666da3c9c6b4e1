"""Make sure the PostgreSQL and Redis that the tests use answer, starting them where they are installed.

Used by `make test`. Addresses come from TEST_POSTGRES_HOST/PORT and TEST_REDIS_HOST/PORT (defaults
127.0.0.1:5432 and 127.0.0.1:6379). A service that is down and cannot be started here stops the run with a
message saying what to start and how.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

PG_HOST = os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_POSTGRES_PORT", "5432"))
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(host: str, port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(host, port):
            return True
        time.sleep(0.3)
    return False


def start_postgres() -> bool:
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").is_dir():
        return False
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    if not versions:
        return False
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    return subprocess.run(cmd, check=False).returncode == 0


def start_redis() -> bool:
    if not shutil.which("redis-server"):
        return False
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    cmd = [
        "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", str(REDIS_PORT),
        "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
    ]  # fmt: skip
    return subprocess.run(cmd, check=False).returncode == 0


def ensure(name: str, host: str, port: int, start: object, how: str) -> bool:
    if answers(host, port):
        print(f"{name} answers at {host}:{port}")
        return True
    print(f"{name} does not answer at {host}:{port}; trying to start it")
    if callable(start) and start() and wait_for(host, port):
        print(f"{name} started at {host}:{port}")
        return True
    print(f"error: {name} is not running at {host}:{port} and could not be started here. {how}", file=sys.stderr)
    return False


def main() -> int:
    ok = ensure(
        "PostgreSQL",
        PG_HOST,
        PG_PORT,
        start_postgres,
        "Start PostgreSQL >= 14 with trust auth for user postgres on that address "
        "(e.g. `pg_ctlcluster --skip-systemctl-redirect <version> main start`), "
        "or set TEST_POSTGRES_HOST/TEST_POSTGRES_PORT.",
    )
    ok &= ensure(
        "Redis",
        REDIS_HOST,
        REDIS_PORT,
        start_redis,
        "Start Redis >= 6 on that address (e.g. `redis-server --daemonize yes --port 6379`), "
        "or set TEST_REDIS_HOST/TEST_REDIS_PORT.",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
