"""Pull-sync benchmark: end-to-end records/s, peak memory, API calls, a no-change run, and a dlt baseline.

    .venv/bin/python bench/sync.py [--scale medium] [--formats insert_values csv] [--skip-baseline] [--rounds 3]
                                   [--baseline-entities sales|all]

For each file format: a fresh database, the emulator serving the scale from a separate process with limits off,
its sellers connected, then (in a child process, so its peak memory is its own) a full sync of every shop as
one batch (`sync_shops`, as the CLI and a scheduled Dagster run pull them), then a no-change incremental sync.
Records = receipts + line items + listings. The minimum API calls for a load are records/100 (Etsy pages hold
100). The baseline loads receipts and listings through a minimal
`dlt.sources.rest_api` configuration over the same emulator in the same run (no shaping, no windows: it stops
at Etsy's 12,000 offset cap). With `--baseline-entities all` the baseline also reads reviews and the payment
ledger, and records count reviews and ledger entries on both sides: the same kind of work on each side (the pull
also reads payments, uncounted). Figures are printed, never asserted.

The machine is shared: other work on its two cores moves wall-clock rates by a factor of two between runs. So each
side also reports its CPU seconds (the puller's process, the emulator's, which both sides pay, and the local
PostgreSQL server's, which is this work's only when nothing else uses the server), the floor those CPU seconds set
on this machine's cores, and `--rounds` alternates the two sides, printing each round's ratio and the ratio of
the best rates.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    database_cpu,
    database_cpu_since,
    scale_command,
    serve_emulator,
    stop_emulator,
    throwaway_database,
)


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def puller_cpu() -> float:
    """CPU seconds of the pulling process and of the lane processes it has waited for (`sync/lanes.py`)."""
    lanes = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + lanes.ru_utime + lanes.ru_stime


def child(database_url: str, emulator: str, data_dir: str, file_format: str, emulator_pid: str) -> dict[str, Any]:
    """Runs in its own process: connect, full sync, no-change sync; returns the figures."""
    from etsy_pipeline.demo import emulator_settings
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.settings import load_settings
    from etsy_pipeline.sync.clients import build_access
    from etsy_pipeline.sync.connect import authorize, record_connection
    from etsy_pipeline.sync.runner import or_raise, sync_shops

    base = load_settings(database_url=database_url, data_dir=data_dir, _env_file=None)
    settings = emulator_settings(base, emulator).model_copy(update={"etsy_qps": 0, "etsy_qpd": 0})
    with open_runtime(settings) as runtime:
        access = build_access(settings, runtime.repos.tokens)
        sellers = httpx.get(f"{emulator}/_emulator/credentials").json()["users"]
        shops = [
            record_connection(runtime, access, authorize(access, email=s["email"], announce=lambda _: None))
            for s in sellers
        ]
        calls_before = httpx.get(f"{emulator}/_emulator/stats").json()["calls"]
        serving = psutil.Process(int(emulator_pid))
        serving_before, cpu_before, database_before = cpu_seconds(serving), puller_cpu(), database_cpu()
        started = time.perf_counter()
        ids = [s.shop_id for s in shops]
        full = list(or_raise(sync_shops(runtime, access, ids, full=True, file_format=file_format)))
        full_seconds = time.perf_counter() - started
        full_cpu, emulator_cpu = puller_cpu() - cpu_before, cpu_seconds(serving) - serving_before
        full_database_cpu = database_cpu_since(database_before)
        calls_after = httpx.get(f"{emulator}/_emulator/stats").json()["calls"]
        by_operation = {k: v - calls_before.get(k, 0) for k, v in calls_after.items() if v - calls_before.get(k, 0)}
        started = time.perf_counter()
        again = list(or_raise(sync_shops(runtime, access, ids, file_format=file_format)))
        again_seconds = time.perf_counter() - started
        with runtime.db.engine.connect() as conn:
            # records; the like-for-like comparison (`--baseline-entities all`) also counts reviews and ledger entries
            rows = {
                t: conn.execute(text(f"SELECT count(*) FROM core.{t}")).scalar_one()
                for t in ("orders", "order_items", "listings", "reviews", "ledger_entries")
            }
            counts = {t: rows[t] for t in ("orders", "order_items", "listings")}
        access.close()
    return {
        "statuses": sorted({r.status for r in full + again}),
        "errors": sorted({r.error for r in full + again if r.error}),
        "records": sum(counts.values()),
        "counts": counts,
        "records_all": sum(rows.values()),
        "full_seconds": full_seconds,
        "full_cpu": full_cpu,
        "emulator_cpu": emulator_cpu,
        "database_cpu": full_database_cpu,
        "full_calls": sum(r.api_calls for r in full),
        "again_seconds": again_seconds,
        "again_calls": sum(r.api_calls for r in again),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "lane_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "processes": settings.sync_processes,
        "calls_by_operation": by_operation,
        "timings": [r.timings for r in full],
        # Every record the API handed over, all entities (receipts, ledger entries, payments, reviews, listings…)
        "fetched": {e: sum(r.fetched.get(e, 0) for r in full) for e in sorted({e for r in full for e in r.fetched})},
    }


SALES = ("receipts", "receipts__transactions")  # the baseline's tables counted as records (with its listings_*)
LIKE_FOR_LIKE = (*SALES, "reviews", "ledger_entries")


def baseline(
    database_url: str, emulator: str, data_dir: str, emulator_pid: int, every_entity: bool = False
) -> dict[str, Any]:
    """The same receipts and listings through a minimal dlt rest_api configuration.

    With `every_entity`, it also reads every paged list the pull reads (reviews, the payment ledger), so both
    sides do the same kind of work: records then count those entities on both sides (`records_all`). Payments
    stay out of it (a plain rest_api configuration asks for them one receipt at a time) and out of the count,
    although the pull still reads them: the comparison leans against the pull, not for it."""
    import dlt
    from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
    from dlt.sources.rest_api import rest_api_source

    os.environ["DLT_DATA_DIR"] = data_dir
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"  # dlt's warnings about columns it could not type drown the figures
    logging.getLogger("dlt").setLevel(logging.ERROR)
    credentials = httpx.get(f"{emulator}/_emulator/credentials").json()
    totals: dict[str, Any] = {
        "records": 0, "records_all": 0, "seconds": 0.0, "calls": 0, "cpu": 0.0, "emulator_cpu": 0.0,
    }  # fmt: skip
    database_total: float | None = 0.0
    serving = psutil.Process(emulator_pid)
    placeholder = "unused"  # trust authentication; dlt insists on a password
    dsn = (
        make_url(database_url).set(drivername="postgresql", password=placeholder).render_as_string(hide_password=False)
    )
    for user in credentials["users"]:
        token = httpx.post(
            f"{emulator}/v3/public/oauth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": credentials["keystring"],
                "refresh_token": user["refresh_token"],
            },
        ).json()["access_token"]
        paginator = OffsetPaginator(limit=100, total_path="count", maximum_offset=12_000)
        resources: list[Any] = [
            {
                "name": "receipts",
                "primary_key": "receipt_id",
                "write_disposition": "merge",
                "endpoint": {
                    "path": f"shops/{user['shop_id']}/receipts",
                    "data_selector": "results",
                    "paginator": paginator,
                },
            }
        ]
        for state in ("active", "inactive", "sold_out", "draft", "expired"):
            resources.append(
                {
                    "name": f"listings_{state}",
                    "primary_key": "listing_id",
                    "write_disposition": "merge",
                    "endpoint": {
                        "path": f"shops/{user['shop_id']}/listings",
                        "data_selector": "results",
                        "params": {"state": state, "includes": "Images,Inventory"},
                        "paginator": OffsetPaginator(limit=100, total_path="count", maximum_offset=12_000),
                    },
                }
            )
        if every_entity:
            resources += every_list(user["shop_id"], time.time())
        source = rest_api_source(
            {
                "client": {
                    "base_url": f"{emulator}/v3/application/",
                    "headers": {"x-api-key": credentials["api_key"], "authorization": f"Bearer {token}"},
                },
                "resources": resources,
            }
        )
        pipeline = dlt.pipeline(
            pipeline_name=f"baseline_{user['shop_id']}",
            destination=dlt.destinations.postgres(dsn),
            dataset_name="baseline_raw",
            pipelines_dir=os.path.join(data_dir, "pipelines"),
        )
        calls_before = sum(httpx.get(f"{emulator}/_emulator/stats").json()["calls"].values())
        serving_before, cpu_before, database_before = cpu_seconds(serving), time.process_time(), database_cpu()
        started = time.perf_counter()
        pipeline.run(source)
        totals["seconds"] += time.perf_counter() - started
        totals["cpu"] += time.process_time() - cpu_before
        totals["emulator_cpu"] += cpu_seconds(serving) - serving_before
        spent = database_cpu_since(database_before)
        database_total = None if database_total is None or spent is None else database_total + spent
        totals["calls"] += sum(httpx.get(f"{emulator}/_emulator/stats").json()["calls"].values()) - calls_before
        trace = pipeline.last_trace
        counts = trace.last_normalize_info.row_counts if trace and trace.last_normalize_info else {}
        listings = sum(v for k, v in counts.items() if k.startswith("listings_") and "__" not in k)
        totals["records"] += listings + sum(v for k, v in counts.items() if k in SALES)
        totals["records_all"] += listings + sum(v for k, v in counts.items() if k in LIKE_FOR_LIKE)
    totals["database_cpu"] = database_total
    return totals


def every_list(shop_id: int, now: float) -> list[Any]:
    """The rest_api resources of the other paged lists the pull reads: reviews and the payment ledger (Etsy asks
    for a created-time range on the ledger; the pull's first read goes back three years)."""
    from dlt.sources.helpers.rest_client.paginators import OffsetPaginator

    def paged() -> Any:
        return OffsetPaginator(limit=100, total_path="count", maximum_offset=12_000)

    span = {"min_created": int(now) - 3 * 365 * 86_400, "max_created": int(now) + 2 * 86_400}
    return [
        {
            "name": "reviews",
            "primary_key": "transaction_id",
            "write_disposition": "merge",
            "endpoint": {"path": f"shops/{shop_id}/reviews", "data_selector": "results", "paginator": paged()},
        },
        {
            "name": "ledger_entries",
            "primary_key": "entry_id",
            "write_disposition": "merge",
            "endpoint": {
                "path": f"shops/{shop_id}/payment-account/ledger-entries",
                "data_selector": "results",
                "params": span,
                "paginator": paged(),
            },
        },
    ]


def cpu_line(puller: float, emulator: float, database: float | None, seconds: float) -> str:
    """The CPU seconds of each process and the wall-clock floor their sum sets on this machine's cores."""
    if database is None:
        return f"CPU: puller {puller:.1f} s, emulator {emulator:.1f} s, PostgreSQL not measurable"
    total, cores = puller + emulator + database, os.cpu_count() or 1
    return (
        f"CPU: puller {puller:.1f} s + emulator {emulator:.1f} s + PostgreSQL {database:.1f} s = {total:.1f} s, "
        f"at least {total / cores:.1f} s of wall time on {cores} cores (took {seconds:.1f} s)"
    )


def ours(args: argparse.Namespace, url: str, emulator_pid: int, file_format: str) -> dict[str, Any] | None:
    """One full and one no-change sync of every shop in a child process; prints its figures, returns them."""
    with throwaway_database("etsy_pipeline_sync_bench") as database, tempfile.TemporaryDirectory() as data_dir:
        output = subprocess.run(
            [sys.executable, __file__, "--child", database, url, data_dir, file_format, str(emulator_pid)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "LOG_LEVEL": "ERROR"},
        ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    records = figures["records"]
    if figures["errors"]:
        print(f"  errors: {figures['errors']}")
    if not records:
        return None
    rate = records / figures["full_seconds"]
    print(f"sync, scale {args.scale}, loader file format {file_format}, statuses {figures['statuses']}")
    print(
        f"  full: {records:,} records ({figures['counts']}) in {figures['full_seconds']:.1f} s = "
        f"{rate:,.0f} records/s, peak memory {figures['peak_rss_mb']:,.0f} MB"
        + (
            f" (its child processes', the other lanes among them, largest: {figures['lane_peak_rss_mb']:,.0f} MB)"
            if figures["lane_peak_rss_mb"]
            else ""
        )
    )
    print(f"  shops pulled by {figures['processes']} process(es) side by side (SYNC_PROCESSES)")
    print(
        f"  CPU: puller {figures['full_cpu']:.1f} s = {records / figures['full_cpu']:,.0f} records per CPU second, "
        f"emulator {figures['emulator_cpu']:.1f} s"
    )
    cpu = cpu_line(figures["full_cpu"], figures["emulator_cpu"], figures["database_cpu"], figures["full_seconds"])
    print("  " + cpu)
    per_thousand = 1000 * figures["full_calls"] / records
    print(
        f"  API calls: {figures['full_calls']:,} = {per_thousand:.1f} per 1,000 records "
        f"(minimum 10.0, ratio {per_thousand / 10:.2f})"
    )
    print(f"  calls by operation: {figures['calls_by_operation']}")
    fetched = sum(figures["fetched"].values())
    print(
        f"  records fetched, every entity: {fetched:,} {figures['fetched']} = "
        f"{1000 * figures['full_calls'] / max(1, fetched):.1f} calls per 1,000"
    )
    if args.baseline_entities == "all":
        print(
            f"  like for like: {figures['records_all']:,} records (also reviews and ledger entries) = "
            f"{figures['records_all'] / figures['full_seconds']:,.0f} records/s"
        )
    print(f"  seconds per step and shop: {figures['timings']}")
    print(f"  no-change incremental: {figures['again_seconds']:.1f} s, {figures['again_calls']:,} API calls")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--formats", nargs="+", default=["insert_values", "csv"])
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="alternate our sync and the baseline this many times")
    parser.add_argument(
        "--baseline-entities",
        choices=("sales", "all"),
        default="sales",
        help="sales: the baseline reads receipts and listings (the issue's comparison); all: also reviews and the "
        "ledger, and records count those on both sides (like for like)",
    )
    parser.add_argument(
        "--child", nargs=5, metavar=("DB", "EMULATOR", "DATA_DIR", "FORMAT", "PID"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    server, url = serve_emulator(scale_command(args.scale))
    best: dict[str, float] = {}
    try:
        for n in range(args.rounds):
            if args.rounds > 1:
                print(f"round {n + 1} of {args.rounds} (load average {os.getloadavg()[0]:.1f})")
            rates: dict[str, float] = {}
            records: dict[str, int] = {}
            every = args.baseline_entities == "all"
            counted = "records_all" if every else "records"
            for file_format in args.formats:
                figures = ours(args, url, server.pid, file_format)
                if figures:
                    records[file_format] = figures[counted]
                    rates[file_format] = figures[counted] / figures["full_seconds"]
                    best[file_format] = max(best.get(file_format, 0.0), rates[file_format])
            if args.skip_baseline:
                continue
            with throwaway_database("etsy_pipeline_sync_bench") as database, tempfile.TemporaryDirectory() as data_dir:
                base = baseline(database, url, data_dir, server.pid, every_entity=every)
            base_rate = base[counted] / base["seconds"]
            best["baseline"] = max(best.get("baseline", 0.0), base_rate)
            read = "receipts, transactions, listings" + (", reviews, ledger entries" if every else "")
            print(f"baseline dlt rest_api ({read}; raw only, offsets capped at 12,000):")
            if every:
                print(f"  like for like: records are {', '.join(LIKE_FOR_LIKE)} and listings on both sides")
            print(
                f"  {base[counted]:,} records in {base['seconds']:.1f} s = {base_rate:,.0f} records/s, "
                f"{base['calls']:,} API calls; CPU: {base['cpu']:.1f} s = {base[counted] / base['cpu']:,.0f} "
                f"records per CPU second, emulator {base['emulator_cpu']:.1f} s"
            )
            print("  " + cpu_line(base["cpu"], base["emulator_cpu"], base["database_cpu"], base["seconds"]))
            for file_format, rate in rates.items():
                print(
                    f"  etsy-pipeline ({file_format}) {rate:,.0f} records/s / baseline {base_rate:,.0f} records/s "
                    f"= ratio {rate / base_rate:.2f} (target: 2.00 or more: {records[file_format]:,} records in "
                    f"{records[file_format] / (2 * base_rate):.1f} s)"
                )
        if args.rounds > 1 and "baseline" in best:
            for file_format in args.formats:
                if file_format in best:
                    print(
                        f"best of {args.rounds}: etsy-pipeline ({file_format}) {best[file_format]:,.0f} records/s / "
                        f"baseline {best['baseline']:,.0f} = ratio {best[file_format] / best['baseline']:.2f}"
                    )
    finally:
        stop_emulator(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
