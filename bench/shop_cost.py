"""The fixed cost of one shop: a no-change pull (nothing new at Etsy), in seconds and Etsy API calls.

    .venv/bin/python bench/shop_cost.py [--scale small] [--rounds 5]
    .venv/bin/python bench/shop_cost.py --shops 200 --rounds 1 --dagster-runs 0 [--profile 25]

Every connected shop is pulled every six hours whether or not anything changed, so this cost, times the shops,
is the floor of what one machine and one Etsy app key spend. The emulator serves the scale from a process of
its own with its limits off; its sellers are connected and pulled in full once, then each shop is pulled
`--rounds` more times with nothing new (same emulator clock). Printed per shop and pull: wall time (median and
worst), the time spent in Etsy calls, the fixed cost (wall time less API time: dlt, PostgreSQL, Python), API
calls and the calls by operation; then the same pull as `--dagster-runs` Dagster runs (wall and CPU time of the
run's process, which imports Dagster and the definitions). `--shops N` serves N small shops instead of a named
scale (the emulator has no scale with hundreds of shops), the case where the fixed cost dominates;
`--profile K` prints the K functions with the most cumulative time over the no-change pulls. Figures are
printed, never asserted (docs/benchmarks.md, docs/scaling.md).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import scale_command, serve_emulator, stop_emulator, throwaway_database  # noqa: E402
from etsy_pipeline.settings import Settings  # noqa: E402

# N small shops: a few dozen listings and orders each, a month of history (what most connected shops look like).
MANY_SHOPS = """
from etsy_pipeline.emulator import generator
from etsy_pipeline.emulator.server import serve
from etsy_pipeline.emulator.state import Config
generator.SCALES["many"] = generator.Scale(shops={shops}, listings=12, receipts=25, days=60)
serve("127.0.0.1", {port}, Config(scale="many", qps=0, qpd=0))
"""


def _command(scale: str, shops: int) -> Callable[[int], list[str]]:
    """The emulator of a scale, or of `shops` small shops (no scale has that many)."""
    if shops:
        return lambda port: ["-c", MANY_SHOPS.format(shops=shops, port=port)]
    return scale_command(scale)


def _calls(emulator: str) -> Counter[str]:
    return Counter(httpx.get(f"{emulator}/_emulator/stats", timeout=10).json()["calls"])


class ApiClock:
    """Time spent inside the Etsy client's calls (HTTP and the rate limiter), to tell it from the fixed cost."""

    def __init__(self, client: Any) -> None:
        self.seconds = 0.0
        call = client.request

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        client.request = timed


def measure(  # every knob of the bench
    database_url: str, emulator: str, data_dir: str, rounds: int, dagster_runs: int, profile: int, per_run: int
) -> None:
    from etsy_pipeline.demo import emulator_settings
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.settings import load_settings
    from etsy_pipeline.sync.clients import build_access
    from etsy_pipeline.sync.connect import authorize, record_connection
    from etsy_pipeline.sync.runner import sync_shop

    base = load_settings(database_url=database_url, data_dir=data_dir, _env_file=None)
    settings = emulator_settings(base, emulator).model_copy(update={"etsy_qps": 0, "etsy_qpd": 0})
    with open_runtime(settings) as runtime:
        access = build_access(settings, runtime.repos.tokens)
        try:
            sellers = httpx.get(f"{emulator}/_emulator/credentials", timeout=10).json()["users"]
            shops = [
                record_connection(runtime, access, authorize(access, email=s["email"], announce=lambda _: None))
                for s in sellers
            ]
            first = [sync_shop(runtime, access, shop.shop_id, full=True) for shop in shops]
            statuses = sorted({str(r.status) for r in first})
            print(f"{len(shops)} shops, first full pull: {sum(r.seconds for r in first):.1f} s, statuses {statuses}")
            seconds: list[float] = []
            fixed: list[float] = []
            calls: list[int] = []
            phases: dict[str, list[float]] = {}
            fetched: Counter[str] = Counter()
            clock = ApiClock(access.client)
            profiler = cProfile.Profile() if profile else None
            before = _calls(emulator)
            for _ in range(rounds):
                for shop in shops:
                    api_before, started = clock.seconds, time.perf_counter()
                    if profiler:
                        profiler.enable()
                    result = sync_shop(runtime, access, shop.shop_id)
                    if profiler:
                        profiler.disable()
                    seconds.append(time.perf_counter() - started)
                    fixed.append(seconds[-1] - (clock.seconds - api_before))
                    calls.append(result.api_calls)
                    fetched.update(result.fetched)
                    for phase, spent in result.timings.items():
                        phases.setdefault(phase, []).append(spent)
                    if result.error:
                        print(f"  shop {shop.etsy_shop_id}: {result.status}: {result.error}")
            by_operation = _calls(emulator) - before
        finally:
            access.close()
    pulls = len(seconds)
    print(f"no-change pulls: {pulls} ({rounds} rounds x {len(shops)} shops)")
    print(f"  wall time per shop: median {statistics.median(seconds):.2f} s, worst {max(seconds):.2f} s")
    api = [s - f for s, f in zip(seconds, fixed, strict=True)]
    print(f"  in Etsy calls per shop: median {statistics.median(api):.3f} s")
    print(
        f"  fixed cost per shop (wall less API time): median {statistics.median(fixed):.3f} s, "
        f"mean {statistics.mean(fixed):.3f} s, worst {max(fixed):.3f} s"
    )
    print(f"  API calls per shop: median {statistics.median(calls):.0f}, worst {max(calls)}")
    print(f"  phases per shop (median s): { {name: round(statistics.median(v), 3) for name, v in phases.items()} }")
    print(f"  records fetched per pull: { {name: round(n / pulls, 1) for name, n in sorted(fetched.items())} }")
    per_pull = {op: round(n / pulls, 1) for op, n in sorted(by_operation.items())}
    print(f"  calls per pull by operation: {per_pull}")
    if profiler:
        print(f"  where the time goes ({profile} functions with the most cumulative time, all pulls):")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(profile)
        print(f"  ... and the {profile} with the most time of their own:")
        stats.sort_stats("tottime").print_stats(profile)
    if dagster_runs:
        _under_dagster(settings, [str(shop.etsy_shop_id) for shop in shops], data_dir, dagster_runs, per_run)


def _under_dagster(settings: Settings, shops: list[str], data_dir: str, runs: int, per_run: int) -> None:
    """The same no-change pull as a Dagster run, as the schedule launches it: a fresh process that imports
    Dagster, dlt and the definitions, materializes the shop's partition of `etsy_pull` and runs its checks.
    `dagster asset materialize` is that run without the daemon's queue; its CPU time is what a run costs.
    Then one run of `pull_sync` over the first `per_run` shops, the batch the schedule launches
    (SYNC_SHOPS_PER_RUN): the process is paid once for all of them."""
    import dagster as dg

    from etsy_pipeline.defs.ingest.assets import CORE_SPECS, RAW_SPECS
    from etsy_pipeline.defs.ingest.partitions import batch_run_tags, shop_partitions

    shop = shops[0]
    home = Path(data_dir) / "dagster-bench"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(str(shop_partitions.name), shops)
    keys = ",".join(spec.key.to_user_string() for spec in RAW_SPECS + CORE_SPECS)
    secrets = (settings.etsy_api_keystring, settings.etsy_shared_secret)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DATABASE_URL": settings.database_url or "",
        "DATA_DIR": data_dir,
        "ETSY_BASE_URL": settings.etsy_base_url,
        "ETSY_AUTHORIZE_URL": settings.etsy_authorize_url,
        "ETSY_API_KEYSTRING": secrets[0].get_secret_value() if secrets[0] else "",
        "ETSY_SHARED_SECRET": secrets[1].get_secret_value() if secrets[1] else "",
        "ETSY_QPS": "0",
        "ETSY_QPD": "0",
    }
    command = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "etsy_pipeline.definitions"]
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [*command, "--select", keys, "--partition", shop], env=env, check=True, capture_output=True, cwd=data_dir
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print(f"the same pull as a Dagster run (dagster asset materialize, with its checks), {runs} runs:")
    print(f"  wall time: median {statistics.median(walls):.1f} s; CPU time: median {statistics.median(cpus):.1f} s")
    batch = shops[:per_run]
    if len(batch) < 2:
        return
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    tags = json.dumps(batch_run_tags(batch))
    execute = [sys.executable, "-m", "dagster", "job", "execute", "-m", "etsy_pipeline.definitions", "-j", "pull_sync"]
    subprocess.run([*execute, "--tags", tags], env=env, check=True, capture_output=True, cwd=data_dir)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"one scheduled batch as a Dagster run (dagster job execute pull_sync), {len(batch)} shops:")
    print(f"  wall time: {wall:.1f} s ({wall / len(batch):.2f} s per shop); CPU time: {cpu:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dagster-runs", type=int, default=3, help="the same pull as Dagster runs (0: skip)")
    parser.add_argument("--shops", type=int, default=0, help="serve this many small shops instead of --scale")
    parser.add_argument("--profile", type=int, default=0, metavar="K", help="print the K costliest functions")
    parser.add_argument("--per-run", type=int, default=25, help="shops in the batched Dagster run (SYNC_SHOPS_PER_RUN)")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    server, url = serve_emulator(_command(args.scale, args.shops), cwd=ROOT)
    try:
        with throwaway_database("etsy_pipeline_shop_cost") as database, tempfile.TemporaryDirectory() as data_dir:
            what = f"{args.shops} small shops" if args.shops else f"scale {args.scale}"
            print(f"{what}, {os.cpu_count()} cores, emulator limits off")
            measure(database, url, data_dir, args.rounds, args.dagster_runs, args.profile, args.per_run)
    finally:
        stop_emulator(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
