"""A batch pulled by several processes (`sync/lanes.py`): every shop's data, results in the order asked, calls
counted once, an owner's shops in one lane, and a lane that dies reported for its shops only.

Expectations come from the emulator's objects and its call counter; the other lane is a real process of its own.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from dataclasses import replace
from typing import Any

import pytest

from etsy_pipeline.sync import runner
from etsy_pipeline.sync.lanes import LaneFailed, LaneJob, deal, in_lanes
from etsy_pipeline.sync.outcome import SyncStatus
from etsy_pipeline.sync.runner import SyncResult, sync_shops
from etsy_pipeline.transform import core
from etsy_pipeline_tests.sync.conftest import Installation, actual, assert_matches_emulator, expected


def _calls(inst: Installation) -> int:
    return sum(inst.stats()["calls"].values())


def test_shops_are_dealt_by_owner_to_the_emptiest_lane_in_the_batchs_order() -> None:
    shops = [(1, 10), (2, 20), (3, 10), (4, 30), (5, 40)]  # (shop, owner)
    assert deal(shops, 2) == [[1, 3, 5], [2, 4]]  # owner 10's shops together, each next owner to the emptier lane
    assert deal(shops, 1) == [[1, 2, 3, 4, 5]]
    assert deal([(1, 10), (2, 10)], 4) == [[1, 2]]  # one owner: one lane, however many are allowed
    assert sorted(s for lane in deal(shops, 8) for s in lane) == [1, 2, 3, 4, 5]


def test_a_batch_in_two_processes_pulls_every_shop_and_counts_each_call_once(
    tiny: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tiny.shops
    shape = core.shape_shop
    pids: dict[int, int] = {}

    def shaped_here(conn: Any, **kwargs: Any) -> Any:  # only this process's shaping is seen
        pids[kwargs["shop_id"]] = os.getpid()
        return shape(conn, **kwargs)

    monkeypatch.setattr(runner, "shape_shop", shaped_here)
    before = _calls(tiny)
    asked = [second.shop_id, first.shop_id]
    outcomes = list(sync_shops(tiny.runtime, tiny.access, asked, full=True, processes=2))
    assert all(isinstance(o, SyncResult) and o.status == SyncStatus.SUCCEEDED for o in outcomes), outcomes
    results = [o for o in outcomes if isinstance(o, SyncResult)]
    assert [r.shop_id for r in results] == asked  # in the order asked
    assert list(pids) == [second.shop_id]  # the first lane here; the other shop was shaped by another process
    assert sum(r.api_calls for r in results) == _calls(tiny) - before
    assert all(r.api_calls > 0 for r in results)
    runs = tiny.core("SELECT shop_id, status, api_calls FROM core.sync_runs WHERE kind = 'full'")
    assert sorted((r.shop_id, r.status, r.api_calls) for r in runs) == sorted(
        (r.shop_id, "succeeded", r.api_calls) for r in results
    )
    assert_matches_emulator(tiny)


def test_a_lane_that_dies_is_reported_for_its_shops_and_the_other_lane_still_pulls(tiny: Installation) -> None:
    first, second = tiny.shops
    settings = tiny.runtime.settings

    def job(lane: list[int]) -> LaneJob:
        return LaneJob(settings, tiny.runtime.db.url, lane, False, "csv", 0, logging.WARNING)

    def here(lane: list[int]) -> Any:
        for process in multiprocessing.active_children():  # the other lane, killed as it starts
            process.kill()
        return sync_shops(tiny.runtime, tiny.access, lane, processes=1)

    outcomes = list(in_lanes([first.shop_id, second.shop_id], [[first.shop_id], [second.shop_id]], job, here))
    assert isinstance(outcomes[0], SyncResult) and outcomes[0].status == SyncStatus.SUCCEEDED
    assert isinstance(outcomes[1], LaneFailed) and f"shop {second.shop_id}" in str(outcomes[1])
    assert f"exit code {-signal.SIGKILL}" in str(outcomes[1])
    assert actual(tiny, first.shop_id) == expected(tiny.state, first.etsy_shop_id)
    assert actual(tiny, second.shop_id)["orders"] == 0


def test_without_a_shared_budget_a_batch_stays_in_one_process(
    tiny: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Redis each process would keep Etsy's whole per-second and daily budget to itself: no lanes then."""
    first, second = tiny.shops
    alone = tiny.runtime.settings.model_copy(update={"redis_url": None, "etsy_qps": 50, "etsy_qpd": 0})
    runtime = replace(tiny.runtime, settings=alone)
    shape = core.shape_shop
    pids: dict[int, int] = {}

    def shaped_here(conn: Any, **kwargs: Any) -> Any:
        pids[kwargs["shop_id"]] = os.getpid()
        return shape(conn, **kwargs)

    monkeypatch.setattr(runner, "shape_shop", shaped_here)
    outcomes = list(sync_shops(runtime, tiny.access, [first.shop_id, second.shop_id], processes=2))
    assert all(isinstance(o, SyncResult) and o.status == SyncStatus.SUCCEEDED for o in outcomes), outcomes
    assert pids == {first.shop_id: os.getpid(), second.shop_id: os.getpid()}
