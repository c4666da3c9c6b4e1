"""The Etsy client's HTTP cost per call: its urllib3 transport against an httpx client, on the same pages.

    .venv/bin/python bench/client.py [--scale medium] [--pages 300] [--rounds 3]

The emulator serves the scale from a process of its own with limits off; both sides ask it for the same receipts
pages (100 receipts, about 250 KB each) one after the other on one kept-alive connection and parse each with
orjson, as `EtsyClient.request` does. The figure is this process's CPU per call (the emulator's is not in it),
alternating the sides each round; figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import first_seller, scale_command, serve_emulator, stop_emulator  # noqa: E402
from etsy_pipeline.etsy.transport import Transport  # noqa: E402


def measure(fetch: Callable[[int], bytes], pages: int) -> tuple[float, float]:
    """CPU and wall milliseconds per call over `pages` calls (offsets cycling over the first 100 pages)."""
    fetch(0)  # the connection is opened outside the measurement
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(pages):
        orjson.loads(fetch(n % 100))
    return (time.process_time() - cpu) / pages * 1000, (time.perf_counter() - wall) / pages * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    process, url = serve_emulator(scale_command(args.scale))
    try:
        shop_id, headers = first_seller(url)
        path = f"/v3/application/shops/{shop_id}/receipts"
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            transport = Transport(url, headers)
            sides: dict[str, Callable[[int], bytes]] = {
                "httpx": lambda n: client.get(path, params={"limit": 100, "offset": n * 100}).content,
                "transport": lambda n: transport.request("GET", path, params={"limit": 100, "offset": n * 100}).content,
            }
            best: dict[str, float] = {}
            for round_ in range(1, args.rounds + 1):
                figures = {name: measure(fetch, args.pages) for name, fetch in sides.items()}
                for name, (cpu, wall) in figures.items():
                    best[name] = min(best.get(name, cpu), cpu)
                    print(f"round {round_}: {name:9} {cpu:.2f} ms CPU, {wall:.2f} ms wall per call")
            transport.close()
        print(f"best CPU per call: httpx {best['httpx']:.2f} ms, transport {best['transport']:.2f} ms "
              f"= {best['httpx'] / best['transport']:.2f}x")  # fmt: skip
    finally:
        stop_emulator(process)


if __name__ == "__main__":
    main()
