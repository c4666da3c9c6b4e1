"""Emulator benchmark: how fast it serves receipts over HTTP, and how long each scale takes to generate.

    .venv/bin/python bench/emulator.py [--scale medium] [--clients 1] [--skip-generation]

Starts `etsy-pipeline emulator serve --qps 0 --qpd 0` in a separate process, then pages through every receipt
of every shop (limit 100, created-time windows so no offset passes 12,000) with keep-alive HTTP clients, and
prints receipts/s, pages/s and MB/s. Then times `generate()` for each scale in this process. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etsy_pipeline.emulator.generator import DAY, EPOCH, SCALES, generate
from etsy_pipeline.emulator.server import free_port

WINDOW = 30 * DAY


def wait_ready(url: str, timeout: float = 300) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return httpx.get(f"{url}/_emulator/credentials", timeout=2).json()  # type: ignore[no-any-return]
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"emulator at {url} did not start")


def token(url: str, credentials: dict[str, object], user: dict[str, object]) -> str:
    response = httpx.post(
        f"{url}/v3/public/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": str(credentials["keystring"]),
            "refresh_token": str(user["refresh_token"]),
        },
    )
    return str(response.json()["access_token"])


def windows(days: int, clients: int) -> list[list[tuple[int, int]]]:
    start = EPOCH - days * DAY - DAY
    spans = [(low, low + WINDOW - 1) for low in range(start, EPOCH + DAY, WINDOW)]
    return [spans[i::clients] for i in range(clients)]


def crawl(url: str, headers: dict[str, str], shop_id: int, spans: list[tuple[int, int]], out: list[int]) -> None:
    """Page through each window; a window with more than 12,000 receipts is split in two first."""
    receipts = pages = size = 0
    todo = list(spans)
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        while todo:
            low, high = todo.pop()
            offset = 0
            while True:
                response = client.get(
                    f"/v3/application/shops/{shop_id}/receipts",
                    params={
                        "min_created": low,
                        "max_created": high,
                        "limit": 100,
                        "offset": offset,
                        "sort_order": "asc",
                    },
                )
                response.raise_for_status()
                body = orjson.loads(response.content)
                pages += 1
                size += len(response.content)
                if offset == 0 and body["count"] > 12_000 + 100:
                    middle = (low + high) // 2
                    todo += [(low, middle), (middle + 1, high)]
                    break
                receipts += len(body["results"])
                offset += 100
                if offset >= body["count"]:
                    break
    out.extend([receipts, pages, size])


def serve_benchmark(scale: str, clients: int) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "etsy_pipeline.cli", "emulator", "serve", "--port", str(port), "--scale", scale,
               "--qps", "0", "--qpd", "0"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        credentials = wait_ready(url)
        users = credentials["users"]
        assert isinstance(users, list)
        totals = [0, 0, 0]
        started = time.perf_counter()
        for user in users:
            headers = {
                "x-api-key": str(credentials["api_key"]),
                "authorization": f"Bearer {token(url, credentials, user)}",
            }
            results: list[list[int]] = [[] for _ in range(clients)]
            threads = [
                threading.Thread(target=crawl, args=(url, headers, user["shop_id"], spans, results[i]))
                for i, spans in enumerate(windows(SCALES[scale].days, clients))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for result in results:
                totals = [a + b for a, b in zip(totals, result, strict=True)]
        elapsed = time.perf_counter() - started
        receipts, pages, size = totals
        print(f"serve, scale {scale}, {clients} client thread(s), separate server process, keep-alive HTTP")
        print(f"  {receipts:,} receipts in {pages:,} pages, {size / 1e6:,.1f} MB, {elapsed:.2f} s")
        print(
            f"  {receipts / elapsed:,.0f} receipts/s  {pages / elapsed:,.1f} pages/s  {size / 1e6 / elapsed:,.1f} MB/s"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def generation_benchmark() -> None:
    print("generate (in process)")
    for scale in ("small", "medium", "large"):
        started = time.perf_counter()
        world = generate(42, scale)
        elapsed = time.perf_counter() - started
        print(
            f"  {scale:<7} {len(world.shops)} shop(s) {len(world.listings):>6,} listings "
            f"{len(world.receipts):>8,} receipts  {elapsed:6.2f} s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium", choices=sorted(SCALES))
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--skip-generation", action="store_true")
    args = parser.parse_args()
    serve_benchmark(args.scale, args.clients)
    if not args.skip_generation:
        generation_benchmark()
    return 0


if __name__ == "__main__":
    sys.exit(main())
