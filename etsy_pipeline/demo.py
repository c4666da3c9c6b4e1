"""`etsy-pipeline demo`: the whole product on the embedded default, end to end, with a printed summary.

At this stage: start (or reach) PostgreSQL, apply the migrations, create a sample user, shop, listings and
inventory through the storage layer, read them back through the cached repositories and print what is there.
Running it again reuses the same data directory and leaves one copy of the sample data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from etsy_pipeline.runtime import Runtime, open_runtime
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.base import table_of
from etsy_pipeline.storage.database import redacted
from etsy_pipeline.storage.models import Inventory, Listing
from etsy_pipeline.storage.upsert import bulk_upsert

DEMO_EMAIL = "demo-seller@example.com"
DEMO_ETSY_SHOP_ID = 90_000_001
SAMPLE_LISTINGS = [
    ("Hand-thrown ceramic mug, speckled glaze", ["mug", "ceramic", "coffee"], Decimal("28.00"), [12, 3]),
    ("Linen tea towel with botanical print", ["linen", "kitchen", "botanical"], Decimal("16.50"), [40]),
    ("Sterling silver leaf pendant", ["necklace", "silver", "leaf"], Decimal("54.00"), [2, 0, 7]),
    ("Beeswax candle set, 3 pillars", ["candle", "beeswax", "gift"], Decimal("32.00"), [4]),
]


@dataclass(frozen=True)
class DemoSummary:
    database: str
    embedded: bool
    revision: str | None
    user_email: str
    shop_name: str
    listings: int
    low_stock: int
    search_hits: int
    cache: str
    seconds: float


def _seed_sample_data(rt: Runtime, shop_id: int) -> None:
    listings = [
        {
            "etsy_listing_id": DEMO_ETSY_SHOP_ID * 10 + i,
            "shop_id": shop_id,
            "title": title,
            "description": f"{title}. Made by hand in small batches.",
            "state": "active",
            "price": price,
            "currency_code": "USD",
            "quantity": sum(stock),
            "tags": tags,
            "has_variations": len(stock) > 1,
        }
        for i, (title, tags, price, stock) in enumerate(SAMPLE_LISTINGS)
    ]
    with rt.db.engine.begin() as conn:
        bulk_upsert(conn, table_of(Listing), listings, key=["etsy_listing_id"])
        query = select(Listing.etsy_listing_id, Listing.id).where(Listing.shop_id == shop_id)
        ids: dict[int, int] = {etsy_id: ident for etsy_id, ident in conn.execute(query)}
        inventory = [
            {
                "listing_id": ids[cast(int, row["etsy_listing_id"])],
                "shop_id": shop_id,
                "variation_key": f"513:{n}" if len(stock) > 1 else "",
                "sku": f"DEMO-{i}-{n}",
                "price": price,
                "currency_code": "USD",
                "quantity": qty,
            }
            for i, (row, (_, _, price, stock)) in enumerate(zip(listings, SAMPLE_LISTINGS, strict=True))
            for n, qty in enumerate(stock)
        ]
        bulk_upsert(conn, table_of(Inventory), inventory, key=["listing_id", "variation_key"])
    rt.cache.invalidate_shop(shop_id)


def run_demo(settings: Settings, console: Console | None = None) -> DemoSummary:
    console = console or Console()
    started = time.perf_counter()
    with open_runtime(settings) as rt:
        repos = rt.repos
        user = repos.users.get_or_create(DEMO_EMAIL, display_name="Demo Seller")
        shop = repos.shops.get_by_etsy_id(user.id, DEMO_ETSY_SHOP_ID) or repos.shops.create(
            user.id, etsy_shop_id=DEMO_ETSY_SHOP_ID, shop_name="DemoCraftStudio", currency_code="USD"
        )
        _seed_sample_data(rt, shop.id)
        repos.shops.update_stats(user.id, shop.id, listing_active_count=len(SAMPLE_LISTINGS))
        page = repos.listings.by_shop(user.id, shop.id, state="active")
        low = repos.listings.low_stock(user.id, shop.id)
        hits = repos.listings.search(user.id, "silver necklace")
        summary = DemoSummary(
            database=redacted(rt.db.url),
            embedded=rt.db.embedded is not None,
            revision=migrate.current(rt.db.url),
            user_email=user.email,
            shop_name=shop.shop_name,
            listings=len(page.items),
            low_stock=len(low),
            search_hits=len(hits),
            cache="redis" if rt.cache.available else "off",
            seconds=time.perf_counter() - started,
        )
    _print(console, summary)
    return summary


def _print(console: Console, s: DemoSummary) -> None:
    table = Table(title="etsy-pipeline demo", show_header=False)
    table.add_row("PostgreSQL", f"{s.database} ({'embedded' if s.embedded else 'DATABASE_URL'})")
    table.add_row("schema revision", str(s.revision))
    table.add_row("user", s.user_email)
    table.add_row("shop", s.shop_name)
    table.add_row("active listings", str(s.listings))
    table.add_row("low-stock offerings", str(s.low_stock))
    table.add_row("search 'silver necklace'", f"{s.search_hits} hit(s)")
    table.add_row("cache", s.cache)
    table.add_row("time", f"{s.seconds:.1f}s")
    console.print(table)
