"""The fixed cost of one shop: a no-change pull (nothing new at Etsy), in seconds and Etsy API calls.

    .venv/bin/python bench/shop_cost.py [--scale small] [--rounds 5]

Every connected shop is pulled every six hours whether or not anything changed, so this cost, times the shops,
is the floor of what one machine and one Etsy app key spend. The emulator serves the scale from a process of
its own with its limits off; its sellers are connected and pulled in full once, then each shop is pulled
`--rounds` more times with nothing new (same emulator clock). Printed per shop and pull: wall time (median and
worst), API calls, and the calls by operation. Figures are printed, never asserted (docs/benchmarks.md,
docs/scaling.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import throwaway_database  # noqa: E402
from etsy_pipeline.emulator.server import free_port  # noqa: E402


def _serve(scale: str) -> tuple[subprocess.Popen[bytes], str]:
    """The emulator in a process of its own, so serving Etsy does not share this process's interpreter."""
    port = free_port()
    command = [sys.executable, "-m", "etsy_pipeline.cli", "emulator", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--scale", scale, "--qps", "0", "--qpd", "0"], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_emulator/credentials", timeout=2)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the emulator did not start")


def _calls(emulator: str) -> Counter[str]:
    return Counter(httpx.get(f"{emulator}/_emulator/stats", timeout=10).json()["calls"])


def measure(database_url: str, emulator: str, data_dir: str, rounds: int) -> None:
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
            calls: list[int] = []
            before = _calls(emulator)
            for _ in range(rounds):
                for shop in shops:
                    started = time.perf_counter()
                    result = sync_shop(runtime, access, shop.shop_id)
                    seconds.append(time.perf_counter() - started)
                    calls.append(result.api_calls)
                    if result.error:
                        print(f"  shop {shop.etsy_shop_id}: {result.status}: {result.error}")
            by_operation = _calls(emulator) - before
        finally:
            access.close()
    pulls = len(seconds)
    print(f"no-change pulls: {pulls} ({rounds} rounds x {len(shops)} shops)")
    print(f"  wall time per shop: median {statistics.median(seconds):.2f} s, worst {max(seconds):.2f} s")
    print(f"  API calls per shop: median {statistics.median(calls):.0f}, worst {max(calls)}")
    per_pull = {op: round(n / pulls, 1) for op, n in sorted(by_operation.items())}
    print(f"  calls per pull by operation: {per_pull}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    server, url = _serve(args.scale)
    try:
        with throwaway_database("etsy_pipeline_shop_cost") as database, tempfile.TemporaryDirectory() as data_dir:
            print(f"scale {args.scale}, {os.cpu_count()} cores, emulator limits off")
            measure(database, url, data_dir, args.rounds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
