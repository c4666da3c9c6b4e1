"""Where a pull's Python time goes, step by step, for receipts (the entity that dominates a first sync).

    .venv/bin/python bench/extract_steps.py [--scale medium] [--pages 50] [--rounds 3]

The emulator serves the scale from a process of its own; receipts pages are fetched once, then each step of the
extraction runs over all of them with the project's own functions, in the order a pull runs them: parse
(orjson), validate (`validation.problems`), digest (`digests.stamped`), encrypt buyer data (`pii.protect_receipt`
with Fernet), flatten into dlt's rows (`Flattener`) and write the CSV files dlt imports (`write_csv`). Each figure
is CPU microseconds per receipt (best of the rounds); the HTTP calls themselves are `bench/client.py`'s figure.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import first_seller, scale_command, serve_emulator, stop_emulator  # noqa: E402
from etsy_pipeline.sources.etsy import validation  # noqa: E402
from etsy_pipeline.sources.etsy.digests import digest_key, stamped  # noqa: E402
from etsy_pipeline.sources.etsy.fastpath import write_csv  # noqa: E402
from etsy_pipeline.sources.etsy.flatten import Flattener  # noqa: E402
from etsy_pipeline.sources.etsy.pii import protect_receipt  # noqa: E402
from etsy_pipeline.storage.crypto import Cipher, generate_key  # noqa: E402


def fetch_pages(scale: str, pages: int) -> list[bytes]:
    process, url = serve_emulator(scale_command(scale))
    try:
        shop_id, headers = first_seller(url)
        path = f"{url}/v3/application/shops/{shop_id}/receipts"
        return [
            httpx.get(path, params={"limit": 100, "offset": n * 100}, headers=headers, timeout=60).content
            for n in range(pages)
        ]
    finally:
        stop_emulator(process)


def one_round(bodies: list[bytes]) -> dict[str, float]:
    """CPU seconds of each step over every receipt of `bodies`."""
    cipher = Cipher(generate_key())
    key = digest_key("bench")
    spent: dict[str, float] = {}

    def step(name: str, work: Callable[[], Any]) -> Any:
        started = time.process_time()
        out = work()
        spent[name] = time.process_time() - started
        return out

    pages = step("parse", lambda: [orjson.loads(b) for b in bodies])
    receipts = [r | {"shop_id": 1} for page in pages for r in page["results"]]
    step("validate", lambda: [validation.problems(r, validation.RECEIPT) for r in receipts])
    step("digest", lambda: [stamped(r, key) for r in receipts])
    step("encrypt", lambda: [protect_receipt(r, lambda t: cipher.encrypt(t).decode("ascii")) for r in receipts])
    flattener = Flattener("receipts", 1, "bench-load")

    def flatten_all() -> None:
        for receipt in receipts:
            flattener.add(receipt)

    step("flatten", flatten_all)
    with tempfile.TemporaryDirectory() as directory:
        tables = [t for t in flattener.tables.values() if t.rows]

        def write_all() -> None:
            for table in tables:
                write_csv(table, f"{directory}/{table.name}.csv")

        step("write csv", write_all)
    spent["receipts"] = len(receipts)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bodies = fetch_pages(args.scale, args.pages)
    rounds = [one_round(bodies) for _ in range(args.rounds)]
    receipts = rounds[0]["receipts"]
    print(f"{int(receipts):,} receipts ({sum(map(len, bodies)) / len(bodies) / 1024:.0f} KB a page), best of "
          f"{args.rounds} rounds, CPU microseconds per receipt:")  # fmt: skip
    total = 0.0
    for name in ("parse", "validate", "digest", "encrypt", "flatten", "write csv"):
        best = min(r[name] for r in rounds) / receipts * 1e6
        total += best
        print(f"  {name:10} {best:7.1f}")
    print(f"  {'total':10} {total:7.1f}")


if __name__ == "__main__":
    main()
