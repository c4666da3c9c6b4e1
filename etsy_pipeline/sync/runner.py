"""Sync one shop: extract and load with dlt into `etsy_raw`, then shape the new loads into `core`.

Each shop has its own dlt pipeline (and so its own cursors), so shops fail, resume and backfill independently.
A package left behind by a killed run is finished before new data is extracted. The transform works from the
shop's watermark (`core.shops.raw_load_id`), so loads that were stored but never shaped are caught up.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from etsy_pipeline.etsy.errors import EtsyError, NeedsReauthorization
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.sources.etsy import etsy_source
from etsy_pipeline.sources.etsy.helpers import RunReport
from etsy_pipeline.storage.crypto import cipher_from_settings
from etsy_pipeline.storage.database import libpq_url
from etsy_pipeline.storage.models import Shop, SyncRun
from etsy_pipeline.sync.clients import EtsyAccess
from etsy_pipeline.transform.core import shape_shop
from etsy_pipeline.transform.raw import ensure_raw_indexes

log = logging.getLogger(__name__)

RAW_DATASET = "etsy_raw"
# csv (COPY) measured faster than insert_values for this source end to end, with less memory
# (bench/sync.py, docs/benchmarks.md).
FILE_FORMAT = "csv"


@dataclass
class SyncResult:
    shop_id: int
    etsy_shop_id: int
    status: str  # succeeded | quota_exhausted | needs_reauth | failed
    fetched: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    remaining_today: int | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # extract, normalize, load, shape
    touched_days: list[str] = field(default_factory=list)  # order days whose analytics need rebuilding
    error: str | None = None


def configure_dlt(data_dir: str) -> None:
    """dlt reads its settings from the environment: keep its state under DATA_DIR and its telemetry off."""
    os.environ.setdefault("DLT_DATA_DIR", os.path.join(data_dir, "dlt"))
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
    # dlt warns about every always-null field it cannot type yet; those columns simply appear when data does.
    logging.getLogger("dlt").setLevel(logging.ERROR)


def dlt_credentials(url: str) -> str:
    """dlt insists on a host and a password; socket and trust authentication ignore the placeholders."""
    parsed = make_url(libpq_url(url))
    if not parsed.password:
        parsed = parsed.set(password="unused")  # noqa: S106 - a placeholder, never checked
    if not parsed.host:
        parsed = parsed.set(host="localhost")  # the `host=` query parameter still points at the socket
    return parsed.render_as_string(hide_password=False)


def pipeline_for(runtime: Runtime, etsy_shop_id: int) -> dlt.Pipeline:
    data_dir = runtime.settings.data_dir.resolve()
    configure_dlt(str(data_dir))
    return dlt.pipeline(
        pipeline_name=f"etsy_shop_{etsy_shop_id}",
        destination=dlt.destinations.postgres(dlt_credentials(runtime.db.url)),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(data_dir / "dlt" / "pipelines"),
    )


def _start_run(runtime: Runtime, shop_id: int, kind: str) -> int:
    with runtime.db.session() as session:
        run = SyncRun(shop_id=shop_id, kind=kind)
        session.add(run)
        session.flush()
        return run.id


def _finish_run(runtime: Runtime, run_id: int, result: SyncResult, report: RunReport) -> None:
    with runtime.db.session() as session:
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                status={"succeeded": "succeeded", "quota_exhausted": "quota_exhausted"}.get(result.status, "failed"),
                finished_at=datetime.now(UTC),
                api_calls=result.api_calls,
                rows={
                    "fetched": result.fetched,
                    "core": result.rows,
                    "quarantined": result.quarantined,
                    "touched_days": result.touched_days,
                },
                resume_state={"receipts_cursor": report.receipts_cursor, "stopped": report.stopped},
                error=result.error,
            )
        )


def sync_shop(
    runtime: Runtime, access: EtsyAccess, shop_id: int, *, full: bool = False, file_format: str = FILE_FORMAT
) -> SyncResult:
    """Pull one shop (core id) from Etsy into `etsy_raw` and `core`; never raises for Etsy trouble."""
    with runtime.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise LookupError(f"shop {shop_id} is not connected")
        owner, etsy_shop_id = shop.user_id, shop.etsy_shop_id
    runtime.repos.shops.set_sync_status(owner, shop_id, "running")
    run_id = _start_run(runtime, shop_id, "full" if full else "incremental")
    started, calls_before = time.perf_counter(), access.client.calls
    access.client.limiter.new_run()
    report = RunReport()
    result = SyncResult(shop_id=shop_id, etsy_shop_id=etsy_shop_id, status="succeeded")
    try:
        pipeline = pipeline_for(runtime, etsy_shop_id)
        if pipeline.has_pending_data:  # a run killed after extracting: finish its load first
            pipeline.normalize()
            pipeline.load()
        cipher = cipher_from_settings(
            runtime.settings.token_encryption_key.get_secret_value() if runtime.settings.token_encryption_key else None,
            runtime.settings.data_dir,
        )
        source = etsy_source(
            client=access.client,
            tokens=access.tokens_for(owner),
            shop_id=etsy_shop_id,
            report=report,
            full=full,
            lookback_hours=runtime.settings.sync_lookback_hours,
            payments_days=runtime.settings.sync_payments_days,
            encrypt=lambda text: cipher.encrypt(text).decode("ascii"),
        )
        info = pipeline.run(source, loader_file_format=file_format)  # type: ignore[arg-type]
        for step in pipeline.last_trace.steps if pipeline.last_trace else []:
            if step.finished_at and step.started_at:
                result.timings[step.step] = (step.finished_at - step.started_at).total_seconds()
        shaping = time.perf_counter()
        complete_load = info.loads_ids[-1] if report.listing_scan_complete and info.loads_ids else None
        with runtime.db.engine.begin() as conn:
            ensure_raw_indexes(conn)
        with runtime.db.engine.begin() as conn:
            shaped = shape_shop(
                conn,
                shop_id=shop_id,
                etsy_shop_id=etsy_shop_id,
                complete_listing_load=complete_load,
                tz=runtime.settings.analytics_timezone,
            )
        result.touched_days = list(shaped.pop("touched_days", []))
        result.rows = shaped
        result.timings["shape"] = round(time.perf_counter() - shaping, 3)
        if report.stopped == "quota":
            result.status = "quota_exhausted"
        elif report.stopped == "reauthorize":
            result.status, result.error = "needs_reauth", "Etsy authorization is no longer valid; run connect"
    except NeedsReauthorization as exc:
        result.status, result.error = "needs_reauth", str(exc)
    except (EtsyError, PipelineStepFailed) as exc:
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        log.error("sync of shop %s failed: %s", etsy_shop_id, result.error)
    result.fetched, result.quarantined = dict(report.fetched), dict(report.quarantined)
    result.api_calls = access.client.calls - calls_before
    result.remaining_today = access.client.last_remaining_today
    result.seconds = time.perf_counter() - started
    _finish_run(runtime, run_id, result, report)
    status = {"succeeded": "ok", "quota_exhausted": "quota_exhausted", "needs_reauth": "needs_reauth"}.get(
        result.status, "failed"
    )
    runtime.repos.shops.set_sync_status(owner, shop_id, status, error=result.error)
    runtime.cache.invalidate_shop(shop_id, owner)
    return result


def connected_shops(runtime: Runtime, etsy_shop_ids: list[int] | None = None) -> list[Any]:
    """(core id, etsy id) of every shop whose owner has stored tokens, optionally only some Etsy ids."""
    with runtime.db.session() as session:
        query = select(Shop.id, Shop.etsy_shop_id).order_by(Shop.id)
        if etsy_shop_ids:
            query = query.where(Shop.etsy_shop_id.in_(etsy_shop_ids))
        return list(session.execute(query).all())
