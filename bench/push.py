"""Push benchmark: a stocktake of ~10,000 SKUs over 2,000 listings (wall time, calls per listing), and the
edit → confirmed latency with a push loop running.

    .venv/bin/python bench/push.py [--scale large] [--listings 2000] [--edits 100]

The emulator runs in this process (its objects seed `core` directly, standing in for a pull: the benchmark
measures the push, not the sync). The stocktake takes the listings with the most offerings, every SKU of each,
as one CSV through `etsy-pipeline stock import`'s own code path (one transaction), then one push run. Latency:
a thread runs push after push (as the sensors would launch them, without the sensor interval); the main thread
makes single stock edits one after another and each latency is `confirmed_at - created_at` in the database's
clock. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import p50_p95_ms, throwaway_database  # noqa: E402


def _seed_core(runtime: Any, shop_id: int, listings: list[Any], divisor: int, currency: str) -> None:
    """core.listings and core.inventory as a pull would leave them, from the emulator's objects."""
    from etsy_pipeline.storage.base import table_of
    from etsy_pipeline.storage.models import Inventory, Listing
    from etsy_pipeline.storage.upsert import bulk_upsert

    rows = [
        {"etsy_listing_id": x.listing_id, "shop_id": shop_id, "title": x.title, "state": x.state,
         "quantity": sum(p.offering.quantity for p in x.inventory.products), "tags": list(x.tags),
         "etsy_updated_timestamp": x.updated, "currency_code": currency}
        for x in listings
    ]  # fmt: skip
    with runtime.db.engine.begin() as conn:
        bulk_upsert(conn, table_of(Listing), rows, key=["etsy_listing_id"])
        ids = {r[0]: r[1] for r in conn.execute(select(Listing.etsy_listing_id, Listing.id))}
        inventory = [
            {"listing_id": ids[x.listing_id], "shop_id": shop_id, "sku": p.sku, "quantity": p.offering.quantity,
             "variation_key": "|".join(f"{v.property_id}:{v.value_id}"
                                       for v in sorted(p.property_values, key=lambda v: v.property_id)),
             "price": Decimal(p.offering.price) / divisor, "currency_code": currency,
             "etsy_product_id": p.product_id, "etsy_offering_id": p.offering.offering_id}
            for x in listings
            for p in x.inventory.products
        ]  # fmt: skip
        conn.execute(table_of(Inventory).insert(), inventory)


def _calls(url: str) -> dict[str, int]:
    return dict(httpx.get(f"{url}/_emulator/stats").json()["calls"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="large")
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=100)
    args = parser.parse_args()

    from etsy_pipeline.demo import emulator_settings
    from etsy_pipeline.emulator.server import BackgroundEmulator
    from etsy_pipeline.emulator.state import Config
    from etsy_pipeline.push.engine import PushRun
    from etsy_pipeline.push.stocktake import read_stocktake
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.settings import load_settings
    from etsy_pipeline.storage.models import PendingChange
    from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
    from etsy_pipeline.sync.clients import build_access
    from etsy_pipeline.sync.connect import authorize, record_connection

    started = time.perf_counter()
    with (
        throwaway_database("bench_push") as url,
        tempfile.TemporaryDirectory() as data_dir,
        BackgroundEmulator(Config(seed=42, scale=args.scale, qps=0, qpd=0)) as emulator,
    ):
        print(f"emulator ({args.scale}) up in {time.perf_counter() - started:.0f} s")
        base = load_settings(database_url=url, data_dir=data_dir, redis_url="redis://127.0.0.1:6379/0", _env_file=None)
        settings = emulator_settings(base, emulator.url).model_copy(update={"etsy_qps": 0, "etsy_qpd": 0})
        with open_runtime(settings) as runtime:
            access = build_access(settings, runtime.repos.tokens)
            access.client.limiter.reset()  # type: ignore[attr-defined]
            seller = httpx.get(f"{emulator.url}/_emulator/credentials").json()["users"][0]
            shop = record_connection(runtime, access, authorize(access, email=seller["email"], announce=lambda _: None))
            world = emulator.state.world
            mine = [x for x in world.listings.values() if x.shop_id == shop.etsy_shop_id]
            chosen = sorted(mine, key=lambda x: (-len(x.inventory.products), x.listing_id))[: args.listings]
            currency = world.shops[shop.etsy_shop_id].currency
            _seed_core(runtime, shop.shop_id, mine, currency.divisor, currency.code)

            csv = Path(data_dir) / "stocktake.csv"
            lines = [f"{x.listing_id},{p.sku},{(p.offering.quantity + 7) % 1000}" for x in chosen
                     for p in x.inventory.products]  # fmt: skip
            csv.write_text("listing_id,sku,quantity\n" + "\n".join(lines) + "\n")
            t0 = time.perf_counter()
            edits, problems = read_stocktake(csv)
            runtime.repos.inventory.edit_offerings(shop.user_id, edits, errors=problems)
            applied = time.perf_counter() - t0
            before = _calls(emulator.url)
            t0 = time.perf_counter()
            summary = PushRun(runtime, access, seed=1).run()
            pushed = time.perf_counter() - t0
            after = _calls(emulator.url)
            spent = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
            total = sum(spent.values())
            print(f"stocktake: {len(edits):,} SKUs over {len(chosen):,} listings")
            print(f"  applied locally (one transaction): {applied:.1f} s")
            print(f"  push: {pushed:.1f} s, {summary.confirmed:,} confirmed, {summary.failed} failed, "
                  f"{total:,} calls ({total / len(chosen):.2f} per listing): {spent}")  # fmt: skip

            stop = threading.Event()

            def loop() -> None:
                while not stop.is_set():
                    if PushRun(runtime, access).run().confirmed == 0:
                        time.sleep(0.05)

            pusher = threading.Thread(target=loop, daemon=True)
            pusher.start()
            ids = []
            for n in range(args.edits):
                listing = chosen[n % len(chosen)]
                sku = listing.inventory.products[0].sku
                edit = OfferingEdit(listing.listing_id, sku=sku, quantity=n % 50)
                ids.append(runtime.repos.inventory.edit_offerings(shop.user_id, [edit])[0].id)
                time.sleep(0.2)
            while True:
                with runtime.db.session() as session:
                    rows = session.execute(
                        select(func.extract("epoch", PendingChange.confirmed_at - PendingChange.created_at)).where(
                            PendingChange.id.in_(ids), PendingChange.status == "confirmed"
                        )
                    ).all()
                if len(rows) == len(ids):
                    break
                time.sleep(0.2)
            stop.set()
            pusher.join()
            p50, p95 = p50_p95_ms([float(r[0]) for r in rows])
            print(f"edit -> confirmed, {len(ids)} edits one at a time, push loop running: p50 {p50:.0f} ms, "
                  f"p95 {p95:.0f} ms")  # fmt: skip
            access.close()


if __name__ == "__main__":
    main()
