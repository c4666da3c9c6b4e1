"""`etsy-pipeline demo`: the whole product on the embedded default, end to end, with a printed summary.

PostgreSQL (embedded, or DATABASE_URL), the Etsy API emulator on a free loopback port, its sellers connected
through the real OAuth PKCE flow, a full sync, one simulated day of shop activity, an incremental sync, and a
summary of what was loaded, the API calls used and the time taken; the daily analytics of the last 30 days
of orders are built at the end. Pointing the same code at Etsy is a change
of settings, nothing else. Running it again reuses the data directory and leaves one copy of everything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from etsy_pipeline.emulator.server import BackgroundEmulator
from etsy_pipeline.emulator.state import Config
from etsy_pipeline.runtime import Runtime, open_runtime
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.database import redacted
from etsy_pipeline.sync.clients import EtsyAccess, build_access
from etsy_pipeline.sync.command import summary_table, sync_all
from etsy_pipeline.sync.connect import authorize, record_connection
from etsy_pipeline.sync.runner import SyncResult
from etsy_pipeline.transform.backfill import backfill

DEMO_EMULATOR = Config(seed=42, scale="small", qps=50, qpd=100_000)  # `make ui` serves the same shops
CORE_TABLES = ("shops", "listings", "listing_images", "inventory", "orders", "order_items", "customers")


@dataclass
class DemoSummary:
    database: str
    embedded: bool
    revision: str | None
    shops: list[str]
    full: list[SyncResult]
    incremental: list[SyncResult]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def emulator_settings(settings: Settings, url: str) -> Settings:
    """The same settings, pointed at the emulator: base URL, authorize page and the app's keys."""
    credentials = httpx.get(f"{url}/_emulator/credentials", timeout=10).json()
    return settings.model_copy(
        update={
            "etsy_base_url": url,
            "etsy_authorize_url": f"{url}/oauth/connect",
            "etsy_api_keystring": SecretStr(credentials["keystring"]),
            "etsy_shared_secret": SecretStr(credentials["shared_secret"]),
            "etsy_qps": 50,
        }
    )


def connect_sellers(runtime: Runtime, access: EtsyAccess, url: str, console: Console) -> list[str]:
    """Connect every seller of the emulator through the real OAuth PKCE flow; their shop names."""
    names = []
    for seller in httpx.get(f"{url}/_emulator/credentials", timeout=10).json()["users"]:
        tokens = authorize(access, email=seller["email"], announce=lambda _: None)
        done = record_connection(runtime, access, tokens, seller["email"])
        names.append(done.shop_name)
        console.print(f"connected {done.shop_name} ({done.etsy_shop_id}) through OAuth with PKCE")
    return names


def run_demo(settings: Settings, console: Console | None = None, *, scale: str = "small") -> DemoSummary:
    console = console or Console()
    started = time.perf_counter()
    config = DEMO_EMULATOR if scale == DEMO_EMULATOR.scale else Config(seed=42, scale=scale, qps=50, qpd=100_000)
    with BackgroundEmulator(config) as emulator:
        console.print(f"Etsy API emulator on {emulator.url} (seed 42, scale {scale})")
        local = emulator_settings(settings, emulator.url)
        with open_runtime(local) as runtime:
            access = build_access(local, runtime.repos.tokens)
            try:
                names = connect_sellers(runtime, access, emulator.url, console)
                full = sync_all(runtime, access, console, full=True)
                httpx.post(f"{emulator.url}/_emulator/advance", json={"hours": 24})
                console.print("the emulator lived through one more day of orders, shipments and edits")
                incremental = sync_all(runtime, access, console)
            finally:
                access.close()
            summary = DemoSummary(
                database=redacted(runtime.db.url),
                embedded=runtime.db.embedded is not None,
                revision=migrate.current(runtime.db.url),
                shops=names,
                full=full,
                incremental=incremental,
            )
            with runtime.db.engine.connect() as conn:
                for table in CORE_TABLES:
                    summary.counts[table] = int(conn.execute(text(f"SELECT count(*) FROM core.{table}")).scalar_one())
                newest = conn.execute(text("SELECT max(etsy_created_at)::date FROM core.orders")).scalar()
            if newest is not None:  # the daily analytics of the last 30 days of orders
                totals = backfill(runtime, newest - timedelta(days=29), newest)
                summary.counts["analytics days rebuilt"] = 30
                summary.counts["analytics rows written"] = sum(totals.values())
    summary.seconds = time.perf_counter() - started
    _print(console, summary)
    return summary


def _print(console: Console, s: DemoSummary) -> None:
    runs = ["full"] * len(s.full) + ["day+1"] * len(s.incremental)
    console.print(
        summary_table(s.full + s.incremental, "full sync, then an incremental one a simulated day later", runs)
    )
    table = Table(title="etsy-pipeline demo", show_header=False)
    table.add_row("PostgreSQL", f"{s.database} ({'embedded' if s.embedded else 'DATABASE_URL'})")
    table.add_row("schema revision", str(s.revision))
    table.add_row("shops", ", ".join(s.shops))
    for name, count in s.counts.items():
        table.add_row(name if " " in name else f"core.{name}", f"{count:,}")
    table.add_row(
        "API calls", f"{sum(r.api_calls for r in s.full)} full + {sum(r.api_calls for r in s.incremental)} incremental"
    )
    table.add_row("time", f"{s.seconds:.1f}s")
    console.print(table)
