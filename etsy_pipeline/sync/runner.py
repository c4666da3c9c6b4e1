"""Sync one shop: extract and load with dlt into `etsy_raw`, shape the new loads into `core`, check the result.

Rules that keep a pull from losing data silently:
- One run per shop at a time (a PostgreSQL advisory lock); a second run ends `skipped`.
- Cursors live in `core.sync_cursors`, stored in the same transaction as the shaped rows they cover, so they
  never run ahead of the data and a new or restored database never inherits another's progress.
- A working directory per run; a package left by a killed run is loaded and shaped by the next run first.
- Every run compares core with Etsy's own totals; fewer rows than Etsy reports ends `incomplete`, never
  `succeeded`, and the next run re-reads every receipt.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed
from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from etsy_pipeline.etsy.errors import EtsyError, NeedsReauthorization
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.sources.etsy import etsy_source
from etsy_pipeline.sources.etsy.digests import digest_key
from etsy_pipeline.sources.etsy.helpers import RunReport
from etsy_pipeline.storage.crypto import cipher_from_settings
from etsy_pipeline.storage.keys import empty_staging
from etsy_pipeline.storage.models import Shop, SyncRun
from etsy_pipeline.sync import touched
from etsy_pipeline.sync import workdir as wd
from etsy_pipeline.sync.clients import EtsyAccess
from etsy_pipeline.sync.cursors import drop_cursors, load_cursors, save_cursors
from etsy_pipeline.sync.digests import StoredDigests, shaping_version
from etsy_pipeline.sync.lanes import LaneJob, deal, in_lanes
from etsy_pipeline.sync.lock import load_lock, shop_lock
from etsy_pipeline.sync.outcome import SyncStatus
from etsy_pipeline.sync.reconcile import SHOP_ROWS, Reconciliation, reconcile, shop_row_counts
from etsy_pipeline.transform.core import Shaped, shape_shop
from etsy_pipeline.transform.raw import ensure_raw_indexes_once, first_loads

log = logging.getLogger(__name__)

# csv (COPY) measured faster than insert_values for this source end to end, with less memory
# (bench/sync.py, docs/benchmarks.md).
FILE_FORMAT = "csv"
RECEIPT_CURSORS = ["receipts", "receipts_deep"]


@dataclass
class SyncResult:
    shop_id: int
    etsy_shop_id: int
    status: SyncStatus
    fetched: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)  # fetched, equal to what is stored, so not loaded
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    remaining_today: int | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # extract, normalize, load, shape
    touched_days: list[date] = field(default_factory=list)  # order days whose analytics need rebuilding
    recovered_loads: list[str] = field(default_factory=list)  # packages of a killed run, loaded by this one
    reread_receipts: int = 0  # receipts read again because the ledger showed an unstamped change
    reconciliation: Reconciliation | None = None
    cursors: dict[str, int] = field(default_factory=dict)  # where the next run starts
    totals: dict[str, int] = field(default_factory=dict)  # the shop's rows per core table afterwards
    error: str | None = None


def configure_dlt(data_dir: str) -> None:
    """dlt reads its settings from the environment: keep its files under DATA_DIR and its telemetry off."""
    os.environ.setdefault("DLT_DATA_DIR", os.path.join(data_dir, "dlt"))
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    # dlt warns about every always-null field it cannot type yet; those columns simply appear when data does.
    logging.getLogger("dlt").setLevel(logging.ERROR)


def _shop(runtime: Runtime, shop_id: int) -> tuple[int, int]:
    with runtime.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise LookupError(f"shop {shop_id} is not connected")
        return shop.user_id, shop.etsy_shop_id


def _record(runtime: Runtime, shop_id: int, kind: str, status: SyncStatus | None = None) -> int:
    with runtime.db.session() as session:
        run = SyncRun(shop_id=shop_id, kind=kind)
        if status is not None:
            run.status, run.finished_at = status.value, datetime.now(UTC)
        session.add(run)
        session.flush()
        return run.id


def _abandon_stale_runs(runtime: Runtime, shop_id: int) -> None:
    """Runs still `running` while we hold the shop's lock belong to processes that died."""
    with runtime.db.engine.begin() as conn:
        conn.execute(
            update(SyncRun)
            .where(SyncRun.shop_id == shop_id, SyncRun.status == "running")
            .values(status="abandoned", finished_at=datetime.now(UTC), error="the process ended before the run did")
        )


def _finish_run(runtime: Runtime, run_id: int, result: SyncResult, report: RunReport) -> None:
    with runtime.db.session() as session:
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                status=result.status.value,
                finished_at=datetime.now(UTC),
                api_calls=result.api_calls,
                rows={
                    "fetched": result.fetched,
                    "unchanged": result.unchanged,
                    "core": result.rows,
                    "quarantined": result.quarantined,
                    touched.KEY: touched.encode(result.touched_days),
                    "recovered_loads": result.recovered_loads,
                    "reread_receipts": result.reread_receipts,
                    "reconciliation": result.reconciliation.as_dict() if result.reconciliation else None,
                    "totals": result.totals,
                },
                resume_state={"cursors": result.cursors, "stopped": report.stopped},
                error=result.error,
            )
        )


def _shape(
    runtime: Runtime, shop_id: int, etsy_shop_id: int, listings: wd.ListingScan, cursors: dict[str, int],
    reloaded: bool,
) -> Shaped:  # fmt: skip
    """Shape the new loads and what the listing scan saw, and store the cursors they reach, in one transaction.
    `reloaded`: a killed run's package was (or may have been) loaded again, so files may be in twice."""
    with runtime.db.engine.begin() as conn:
        ensure_raw_indexes_once(conn, runtime.db.url)
    with runtime.db.engine.begin() as conn:
        shaped = shape_shop(
            conn,
            shop_id=shop_id,
            etsy_shop_id=etsy_shop_id,
            listings_seen=listings.seen,
            listing_scan_complete=listings.complete,
            tz=runtime.settings.analytics_timezone,
            reloaded=reloaded,
        )
        save_cursors(conn, shop_id, cursors)
    return shaped


def _load(runtime: Runtime, pipeline: dlt.Pipeline) -> list[str]:
    """Load the normalized packages, one shop at a time (see `load_lock`); returns their load ids."""
    with load_lock(runtime.db.engine):
        loads = list(pipeline.load().loads_ids)
        empty_staging(runtime.db)  # the staging copy of the merge holds buyer ciphertext: keep none of it
    return loads


def _recover(runtime: Runtime, shop_id: int, etsy_shop_id: int, result: SyncResult) -> bool:
    """Load, shape and record what killed runs of this shop extracted but never loaded. True when a killed run
    left anything: its loads, shaped here or (if it got that far) by this run, may hold files loaded twice."""
    leftovers = wd.leftovers(runtime, etsy_shop_id)
    for workdir in leftovers:
        progress = wd.Progress.read(workdir)
        pipeline = wd.run_pipeline(runtime, etsy_shop_id, workdir)
        if pipeline.has_pending_data:
            pipeline.normalize()
            loads = _load(runtime, pipeline)
            if loads:
                log.warning("shop %s: loaded %d package(s) a killed run left behind", etsy_shop_id, len(loads))
                with runtime.db.engine.begin() as conn:  # shape from just before the recovered package
                    conn.execute(
                        text(
                            "UPDATE core.shops SET raw_load_id = (SELECT max(load_id) FROM etsy_raw._dlt_loads "
                            "WHERE load_id < :first) WHERE id = :s AND raw_load_id >= :first"
                        ),
                        {"first": min(loads), "s": shop_id},
                    )
                scan = progress.listings if progress else wd.ListingScan()
                shaped = _shape(runtime, shop_id, etsy_shop_id, scan, progress.cursors if progress else {}, True)
                result.touched_days += shaped.touched_days
                result.recovered_loads += loads
        wd.remove(workdir)
    return bool(leftovers)


@dataclass
class _Extracted:
    """What one run's extraction left for the finishing half: dlt's pipeline, its package and the listing scan."""

    pipeline: dlt.Pipeline
    workdir: Path
    scan: wd.ListingScan
    new_jobs: bool  # False when nothing changed at Etsy: no package to normalize or load
    reloaded: bool = False  # a killed run left something behind (`_recover`)


def _extract(runtime: Runtime, access: EtsyAccess, owner: int, etsy_shop_id: int, shop_id: int, run_id: int,
             full: bool, file_format: str, report: RunReport, result: SyncResult) -> _Extracted:  # fmt: skip
    """Every call to Etsy a run makes happens here, in the caller's thread."""
    settings = runtime.settings
    with runtime.db.engine.connect() as conn:
        cursors = load_cursors(conn, shop_id)
        append = first_loads(conn, etsy_shop_id)  # after `_recover`: a killed run's package is loaded by now
    key = settings.token_encryption_key
    cipher = cipher_from_settings(key.get_secret_value() if key else None, settings.data_dir)
    source = etsy_source(
        client=access.client,
        tokens=access.tokens_for(owner),
        shop_id=etsy_shop_id,
        report=report,
        full=full,
        cursors=cursors,
        lookback_hours=settings.sync_lookback_hours,
        deep_reread_days=settings.sync_deep_reread_days,
        deep_reread_hours=settings.sync_deep_reread_hours,
        encrypt=lambda text: cipher.encrypt(text).decode("ascii"),
        stored=None if full else StoredDigests(runtime.db.engine, etsy_shop_id),
        digest_key=digest_key(cipher.primary_key, shaping_version()),  # and the shaping code (`shaping_version`)
        append=append,
    )
    source.root_key = True  # children carry their root's id in appended loads too: later loads merge them
    workdir: Path = wd.shop_dir(runtime, etsy_shop_id) / f"run_{run_id}"
    pipeline = wd.run_pipeline(runtime, etsy_shop_id, workdir)
    step = time.perf_counter()
    info = pipeline.extract(source, loader_file_format=file_format)  # type: ignore[arg-type]
    scan = wd.ListingScan(sorted(report.listing_ids), report.listing_scan_complete)
    wd.Progress(report.reached(), scan).write(workdir)
    result.timings["extract"] = round(time.perf_counter() - step, 3)
    new_jobs = any(package.jobs.get("new_jobs") for package in info.load_packages)
    return _Extracted(pipeline, workdir, scan, new_jobs)


def _load_and_shape(runtime: Runtime, etsy_shop_id: int, shop_id: int, extracted: _Extracted, report: RunReport,
                    result: SyncResult) -> None:  # fmt: skip
    """The PostgreSQL half of a run: load the package (if anything changed), shape, store the cursors."""
    step = time.perf_counter()
    if extracted.new_jobs:
        extracted.pipeline.normalize()  # local files only: shops normalize side by side
        result.timings["normalize"], step = round(time.perf_counter() - step, 3), time.perf_counter()
        _load(runtime, extracted.pipeline)
        result.timings["load"], step = round(time.perf_counter() - step, 3), time.perf_counter()
    shaped = _shape(runtime, shop_id, etsy_shop_id, extracted.scan, report.reached(), extracted.reloaded)
    wd.remove(extracted.workdir)
    result.touched_days = sorted({*result.touched_days, *shaped.touched_days})
    result.rows = shaped.rows
    result.timings["shape"] = round(time.perf_counter() - step, 3)


LAST_TOTALS = """
SELECT rows -> 'totals' FROM core.sync_runs WHERE shop_id = :s AND status = 'succeeded' AND rows ? 'totals'
ORDER BY id DESC LIMIT 1
"""


def _totals(conn: Connection, shop_id: int, result: SyncResult) -> dict[str, int]:
    """The shop's rows per core table: counted when this run wrote anything, else the last run's count (counting
    a large shop's orders, line items and snapshots took 1.5 s of a 5 s pull where nothing changed)."""
    if not any(result.rows.values()) and not result.recovered_loads:
        last = conn.execute(text(LAST_TOTALS), {"s": shop_id}).scalar()
        if isinstance(last, dict) and last.keys() >= SHOP_ROWS.keys():
            return {table: int(last[table]) for table in SHOP_ROWS}
    return shop_row_counts(conn, shop_id)


def _judge(runtime: Runtime, shop_id: int, etsy_shop_id: int, report: RunReport, result: SyncResult) -> None:
    """Decide how the run ended: a stop says so; otherwise core must hold what Etsy says it holds."""
    if report.stopped == "quota":
        result.status = SyncStatus.QUOTA_EXHAUSTED
        return
    if report.stopped == "reauthorize":
        result.status, result.error = SyncStatus.NEEDS_REAUTH, "Etsy authorization is no longer valid; run connect"
        return
    with runtime.db.engine.connect() as conn:
        result.reconciliation = reconcile(conn, shop_id, etsy_shop_id, report.etsy_counts, report.unkeyed)
    shortfall = result.reconciliation.shortfall()
    if shortfall:
        result.status, result.error = SyncStatus.INCOMPLETE, shortfall + "; the next run reads every receipt again"
        log.error("sync of shop %s is incomplete: %s", etsy_shop_id, shortfall)
        with runtime.db.engine.begin() as conn:
            drop_cursors(conn, shop_id, RECEIPT_CURSORS)


def _fail(result: SyncResult, exc: Exception, etsy_shop_id: int) -> None:
    """How Etsy's trouble (or dlt's) ends a run: recorded on the run, never raised."""
    if isinstance(exc, NeedsReauthorization):
        result.status, result.error = SyncStatus.NEEDS_REAUTH, str(exc)
        return
    result.status, result.error = SyncStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    log.error("sync of shop %s failed: %s", etsy_shop_id, result.error)


@dataclass
class _Begun:
    """One shop's run between its extraction (the caller's thread) and the rest (the finishing thread)."""

    shop_id: int
    owner: int
    etsy_shop_id: int
    run_id: int
    started: float
    held: ExitStack  # the shop's lock, released when the run is recorded
    result: SyncResult
    report: RunReport = field(default_factory=RunReport)
    extracted: _Extracted | None = None  # None when the extraction ended the run


def _begin(runtime: Runtime, access: EtsyAccess, shop_id: int, full: bool, file_format: str) -> _Begun | SyncResult:
    """Take the shop's lock, open its run, load what killed runs left and extract; a SyncResult when skipped."""
    owner, etsy_shop_id = _shop(runtime, shop_id)
    kind = "full" if full else "incremental"
    held = ExitStack()
    if not held.enter_context(shop_lock(runtime.db.engine, shop_id, runtime.settings.sync_lock_wait_seconds)):
        held.close()
        _record(runtime, shop_id, kind, SyncStatus.SKIPPED)
        log.warning("shop %s is already being synced by another run: skipped", etsy_shop_id)
        return SyncResult(shop_id, etsy_shop_id, SyncStatus.SKIPPED, error="already running")
    try:
        _abandon_stale_runs(runtime, shop_id)
        runtime.repos.shops.set_sync_status(owner, shop_id, "running")
        run_id = _record(runtime, shop_id, kind)
        configure_dlt(str(runtime.settings.data_dir.resolve()))
        result = SyncResult(shop_id, etsy_shop_id, SyncStatus.SUCCEEDED)
        begun = _Begun(shop_id, owner, etsy_shop_id, run_id, time.perf_counter(), held, result)
        calls_before = access.client.calls
        access.client.limiter.new_run()
        try:
            reloaded = _recover(runtime, shop_id, etsy_shop_id, result)
            begun.extracted = _extract(
                runtime, access, owner, etsy_shop_id, shop_id, run_id, full, file_format, begun.report, result
            )
            begun.extracted.reloaded = reloaded
        except (EtsyError, PipelineStepFailed) as exc:
            _fail(result, exc, etsy_shop_id)
        finally:
            access.client.settle()  # calls made ahead that a failed extraction left: they are this run's
        result.api_calls = access.client.calls - calls_before
        result.remaining_today = access.client.last_remaining_today
        return begun
    except BaseException:
        held.close()
        raise


def _finish(runtime: Runtime, begun: _Begun) -> SyncResult:
    """Load, shape and judge an extracted run, record it and release the shop (the finishing thread)."""
    result, report = begun.result, begun.report
    with begun.held:
        try:
            if begun.extracted is not None:
                _load_and_shape(runtime, begun.etsy_shop_id, begun.shop_id, begun.extracted, report, result)
                _judge(runtime, begun.shop_id, begun.etsy_shop_id, report, result)
        except (EtsyError, PipelineStepFailed) as exc:
            _fail(result, exc, begun.etsy_shop_id)
        result.fetched, result.quarantined = dict(report.fetched), dict(report.quarantined)
        result.unchanged = dict(report.unchanged)
        result.reread_receipts = report.reread_receipts
        with runtime.db.engine.connect() as conn:
            result.cursors = load_cursors(conn, begun.shop_id)
            result.totals = _totals(conn, begun.shop_id, result)
        result.seconds = time.perf_counter() - begun.started
        _finish_run(runtime, begun.run_id, result, report)
        runtime.repos.shops.set_sync_status(
            begun.owner, begun.shop_id, result.status.shop_status or "ok", error=result.error
        )
    runtime.cache.invalidate_shop(begun.shop_id, begun.owner)
    return result


def _now(work: Callable[[], Any]) -> Future[Any]:
    """`work` done in this thread, its result or its exception kept as a finished future."""
    future: Future[Any] = Future()
    try:
        future.set_result(work())
    except Exception as exc:
        future.set_exception(exc)
    return future


def sync_shops(
    runtime: Runtime,
    access: EtsyAccess,
    shop_ids: list[int],
    *,
    full: bool = False,
    file_format: str = FILE_FORMAT,
    processes: int | None = None,
) -> Iterator[SyncResult | Exception]:
    """Pull shops (core ids), yielding each shop's result in the order asked, as soon as it and those before it are
    recorded; a shop's unexpected error is yielded as the exception, never raised.

    The shops are dealt to `processes` lanes (default: the `sync_processes` setting, see `lanes.py`), each pulling
    its share one shop after another (`_pipelined`).
    """
    wanted = runtime.settings.sync_processes if processes is None else processes
    if wanted > 1 and len(shop_ids) > 1 and len(set(shop_ids)) == len(shop_ids) and _shared_budget(runtime):
        lanes = deal([(shop_id, _owner(runtime, shop_id)) for shop_id in shop_ids], wanted)
        if len(lanes) > 1:
            level = logging.getLogger("etsy_pipeline").getEffectiveLevel()
            reserve = int(getattr(access.client.limiter, "reserve", 0))

            def job(lane: list[int]) -> LaneJob:
                return LaneJob(runtime.settings, runtime.db.url, lane, full, file_format, reserve, level)

            yield from in_lanes(shop_ids, lanes, job, lambda lane: _pipelined(runtime, access, lane, full, file_format))
            return
    yield from _pipelined(runtime, access, shop_ids, full, file_format)


def _shared_budget(runtime: Runtime) -> bool:
    """Lanes only where Etsy's budget holds across processes: the limiter in Redis, or no limit of our own (each
    process without Redis would spend the whole per-second and daily budget by itself)."""
    s = runtime.settings
    return bool(s.redis_url) or (s.etsy_qps == 0 and s.etsy_qpd == 0)


def _owner(runtime: Runtime, shop_id: int) -> int:
    """The shop's owner, for dealing shops to lanes; a shop that is not there is a lane of its own (its run says
    why it cannot be pulled)."""
    try:
        return _shop(runtime, shop_id)[0]
    except (LookupError, SQLAlchemyError):
        return -shop_id


def _pipelined(
    runtime: Runtime, access: EtsyAccess, shop_ids: list[int], full: bool, file_format: str
) -> Iterator[SyncResult | Exception]:
    """Pull shops (core ids) one after another, yielding each shop's result, in order, as it is recorded.

    A run has two halves: extracting from Etsy (Python's work, in this thread, every Etsy call of it) and loading
    and shaping (PostgreSQL's work, in a finishing thread). The next shop's extraction runs beside the previous
    shop's load and shape, so a batch keeps two cores busy instead of one (bench/sync.py); at most two shops are
    in flight, and loads stay one at a time (`load_lock`). A shop's unexpected error is yielded as the exception,
    never raised, so one shop cannot stop the others; Etsy's trouble is a result's status as for `sync_shop`.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="etsy-pull-finish") as finisher:
        waiting: deque[Future[Any]] = deque()
        for shop_id in shop_ids:
            started = _now(partial(_begin, runtime, access, shop_id, full, file_format))
            begun = None if started.exception() else started.result()
            if not isinstance(begun, _Begun):  # skipped, or an error before anything was extracted
                waiting.append(started)
            elif len(shop_ids) == 1:  # nothing to overlap with: no thread
                waiting.append(_now(partial(_finish, runtime, begun)))
            else:
                waiting.append(finisher.submit(_finish, runtime, begun))
            while len(waiting) > 1:  # this shop's finish may run beside the next extraction, not two of them
                yield _outcome(waiting.popleft())
        while waiting:
            yield _outcome(waiting.popleft())


def _outcome(future: Future[Any]) -> SyncResult | Exception:
    try:
        result: SyncResult = future.result()
    except Exception as exc:
        return exc
    return result


def or_raise(outcomes: Iterable[SyncResult | Exception]) -> Iterator[SyncResult]:
    """The results of `sync_shops` for a caller where one shop's unexpected error ends the whole pull: raised in
    its turn (the shops before it are recorded, the one being finished beside it completes)."""
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
        yield outcome


def sync_shop(
    runtime: Runtime, access: EtsyAccess, shop_id: int, *, full: bool = False, file_format: str = FILE_FORMAT
) -> SyncResult:
    """Pull one shop (core id) from Etsy into `etsy_raw` and `core`; never raises for Etsy trouble."""
    [result] = or_raise(sync_shops(runtime, access, [shop_id], full=full, file_format=file_format))
    return result


def connected_shops(runtime: Runtime, etsy_shop_ids: list[int] | None = None) -> list[Any]:
    """(core id, etsy id) of the connected shops, the one waiting longest for a finished pull first.

    Serving shops in id order would let the first shops spend a small daily quota every day and starve the last;
    starting with the least recently completed shop rotates the quota fairly.
    """
    finished = (
        select(SyncRun.shop_id, func.max(SyncRun.finished_at).label("finished_at"))
        .where(SyncRun.status == "succeeded")
        .group_by(SyncRun.shop_id)
        .subquery()
    )
    with runtime.db.session() as session:
        query = (
            select(Shop.id, Shop.etsy_shop_id)
            .outerjoin(finished, finished.c.shop_id == Shop.id)
            .order_by(finished.c.finished_at.asc().nulls_first(), Shop.id)
        )
        if etsy_shop_ids:
            query = query.where(Shop.etsy_shop_id.in_(etsy_shop_ids))
        return list(session.execute(query).all())
