"""`etsy-pipeline dev`: `dagster dev` on the project's code location, against the same services.

With `DATABASE_URL` unset the embedded PostgreSQL is started here and its URL handed to the Dagster process,
so the UI and the CLI see the same data. Dagster's own instance lives in DAGSTER_HOME, by default under DATA_DIR
(`DATA_DIR/dagster`), so run history, materializations and automation state survive a restart, and the CLI's
`sync` and `backfill` record their work there too (`defs/record.py`). Its `dagster.yaml` queues runs with the
same one-run-per-shop-partition limit as deployments. `dagster dev` ignores SIGINT/SIGTERM when started in the
background, so it runs in its own process group and the whole group is signalled on the way out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from etsy_pipeline.defs import record
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.database import Database


def dagster_dev_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "etsy_pipeline.definitions",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes], grace: float = 20.0) -> int:
    """Stop dagster dev and every process it started (webserver, daemon, code server): the whole group."""
    os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (process.poll() is None or _group_alive(process.pid)):
        time.sleep(0.2)
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


# The instance of `etsy-pipeline dev`: local storage under DAGSTER_HOME, runs queued with the same per-partition
# limit as dagster.yaml (a scheduled and a manual pull of one shop never overlap), no telemetry.
DEV_INSTANCE = """\
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
  pools:
    default_limit: 2
telemetry:
  enabled: false
"""


def dev_home(settings: Settings) -> Path:
    """DAGSTER_HOME if set, else DATA_DIR/dagster, with an instance config written on first use."""
    home = Path(os.environ.get("DAGSTER_HOME") or record.dev_home(settings))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DEV_INSTANCE)
    return home


def run_dev(settings: Settings, port: int = 3000, *, emulator: bool = False) -> int:
    """The UI against the configured services; with `emulator`, against a fresh emulator the demo's sellers are
    connected to again, so a newcomer can pull, backfill and push from the UI right after `make demo`."""
    if not emulator:
        return _serve(settings, port, {})
    from rich.console import Console

    from etsy_pipeline.demo import DEMO_EMULATOR, connect_sellers, emulator_settings
    from etsy_pipeline.emulator.server import BackgroundEmulator
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.sync.clients import build_access

    with BackgroundEmulator(DEMO_EMULATOR) as running:
        local = emulator_settings(settings, running.url)
        with open_runtime(local) as runtime:
            access = build_access(local, runtime.repos.tokens)
            try:
                connect_sellers(runtime, access, running.url, Console())
            finally:
                access.close()
        print(f"Etsy API emulator on {running.url}; the Dagster UI on http://127.0.0.1:{port}", flush=True)
        keys = (local.etsy_api_keystring, local.etsy_shared_secret)
        return _serve(
            local,
            port,
            {
                "ETSY_BASE_URL": local.etsy_base_url,
                "ETSY_AUTHORIZE_URL": local.etsy_authorize_url,
                "ETSY_API_KEYSTRING": keys[0].get_secret_value() if keys[0] else "",
                "ETSY_SHARED_SECRET": keys[1].get_secret_value() if keys[1] else "",
            },
        )


def _serve(settings: Settings, port: int, extra: dict[str, str]) -> int:
    db = Database.from_settings(settings)
    env = dict(os.environ) | extra
    env["DATABASE_URL"] = db.url
    env["DAGSTER_HOME"] = str(dev_home(settings))
    process = subprocess.Popen(dagster_dev_command(port), env=env, start_new_session=True)  # noqa: S603

    def forward(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a service manager's SIGTERM stops the UI like Ctrl-C does

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return _stop(process)
    finally:
        signal.signal(signal.SIGTERM, previous)
        db.close()
