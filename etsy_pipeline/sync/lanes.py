"""A batch of shops pulled by several processes ("lanes"), so that a batch uses more than one core.

A pull's extraction is Python work (parsing, checking, encrypting and flattening what Etsy sends) and one process
runs it on one core at a time, however many threads it has; PostgreSQL's half of the previous shop runs beside it
(`runner.sync_shops`). With `SYNC_PROCESSES` lanes, the batch's shops are dealt to that many processes, each
running the same two-stage pipeline over its share: this process runs the first lane itself and the others are
started fresh (`spawn`: nothing of this process's threads, connections or locks is inherited).

What holds across lanes:
- Results come back in the order the shops were asked for, whatever lane pulled them, as soon as every shop
  before them is done; one shop's failure is its outcome and the other shops are still pulled.
- An owner's shops share one lane: their OAuth token is refreshed by one process only.
- Every lane takes Etsy's quota from the shared rate limiter (Redis), the shop's lock and the load lock from
  PostgreSQL, exactly as separate runs would; a lane's log records are handled by this process's loggers.
- A lane that dies (killed, out of memory) is reported: each of its shops without a result is an exception
  naming the exit code, and the next run of those shops loads whatever the dead one left (`workdir.py`).
- A caller that stops reading early (one shop's error raised) still waits for the other lanes to finish their shops.
- Lanes only where Etsy's budget is shared across processes (`runner._shared_budget`).
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import pickle
import queue as queue_module
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from etsy_pipeline.settings import Settings

POLL_SECONDS = 0.5


class LaneFailed(RuntimeError):
    """A shop's outcome when its lane could not give one: the process died, or the error would not travel."""


@dataclass(frozen=True)
class LaneJob:
    """What a lane process needs: everything it opens itself from these."""

    settings: Settings = field(repr=False)  # secrets: never in a repr
    database_url: str = field(repr=False)
    shop_ids: list[int]
    full: bool
    file_format: str
    reserve: int
    log_level: int  # this process's level for the package: a lane sends only the records that would be shown


def deal(shops: list[tuple[int, int]], lanes: int) -> list[list[int]]:
    """(shop id, owner) pairs dealt to at most `lanes` lanes, an owner's shops together, each to the lane with the
    fewest shops so far; a lane keeps the batch's order."""
    groups: dict[int, list[int]] = {}
    for shop_id, owner in shops:
        groups.setdefault(owner, []).append(shop_id)
    dealt: list[list[int]] = [[] for _ in range(max(1, min(lanes, len(groups))))]
    for group in groups.values():
        min(dealt, key=len).extend(group)
    order = {shop_id: n for n, (shop_id, _) in enumerate(shops)}
    return [sorted(lane, key=order.__getitem__) for lane in dealt if lane]


def run_lane(job: LaneJob, results: Any) -> None:
    """A lane process: pull its shops in turn and put each outcome on `results` as (shop id, outcome)."""
    from etsy_pipeline.runtime import open_runtime
    from etsy_pipeline.sync.clients import build_access
    from etsy_pipeline.sync.runner import sync_shops

    logging.basicConfig(handlers=[logging.handlers.QueueHandler(results)], level=logging.WARNING, force=True)
    logging.getLogger("etsy_pipeline").setLevel(job.log_level)
    settings = job.settings.model_copy(update={"database_url": job.database_url, "sync_processes": 1})
    with open_runtime(settings, upgrade=False) as runtime:
        access = build_access(settings, runtime.repos.tokens, reserve=job.reserve)
        try:
            for shop_id, outcome in zip(
                job.shop_ids, sync_shops(runtime, access, job.shop_ids, full=job.full, file_format=job.file_format),
                strict=True,
            ):  # fmt: skip
                results.put(("result", shop_id, portable(outcome)))
        finally:
            access.close()
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():  # nobody reads what is left: do not wait to hand it over
        results.cancel_join_thread()


def portable(outcome: Any) -> Any:
    """The outcome as it can cross to the parent: an exception that would not unpickle becomes a `LaneFailed`."""
    if not isinstance(outcome, BaseException):
        return outcome
    try:
        pickle.loads(pickle.dumps(outcome))  # noqa: S301 - our own bytes, made on the line before
    except Exception:
        return LaneFailed(f"{type(outcome).__name__}: {outcome}")
    return outcome


def in_lanes(
    order: list[int], lanes: list[list[int]], job: Callable[[list[int]], LaneJob],
    here: Callable[[list[int]], Iterator[Any]],
) -> Iterator[Any]:  # fmt: skip
    """Outcomes of the shops in `order`: the first lane runs `here`, in this process, the others in processes."""
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    # not daemonic: a lane may start processes of its own (dlt's), and one whose caller died finishes its shops
    processes = [context.Process(target=run_lane, args=(job(lane), results)) for lane in lanes[1:]]
    for process in processes:
        process.start()
    done: dict[int, Any] = {}
    position = 0

    def ready() -> Iterator[Any]:
        nonlocal position
        while position < len(order) and order[position] in done:
            yield done.pop(order[position])
            position += 1

    try:
        for shop_id, outcome in zip(lanes[0], here(lanes[0]), strict=True):
            done[shop_id] = outcome
            _drain(results, done, block=False)
            yield from ready()
        while position < len(order):
            if not _drain(results, done, block=True) and any(p.exitcode is not None for p in processes):
                _drain(results, done, block=False)  # what a lane sent just before it ended
                _dead(processes, lanes[1:], done)
            yield from ready()
    finally:  # also when the caller stops early: the other lanes finish their shops, as separate runs would
        while any(process.is_alive() for process in processes):
            _drain(results, {}, block=True)
        for process in processes:
            process.join()
        results.close()


def _drain(results: Any, done: dict[int, Any], *, block: bool) -> bool:
    """Take what the lanes sent (outcomes, and log records to handle here); False when nothing came in time."""
    got = False
    while True:
        try:
            message = results.get(timeout=POLL_SECONDS) if block and not got else results.get_nowait()
        except queue_module.Empty:
            return got
        got = True
        if isinstance(message, logging.LogRecord):
            logging.getLogger(message.name).handle(message)
        else:
            _, shop_id, outcome = message
            done[shop_id] = outcome


def _dead(processes: list[Any], lanes: list[list[int]], done: dict[int, Any]) -> None:
    """Shops of lanes whose process ended without giving their outcome: each gets a `LaneFailed`."""
    for process, lane in zip(processes, lanes, strict=True):
        if process.exitcode is None:
            continue
        for shop_id in lane:
            if shop_id not in done:
                done[shop_id] = LaneFailed(
                    f"the process pulling shop {shop_id} ended (exit code {process.exitcode}) before the shop's run did"
                )
