"""A batch of shops (`sync_shops`): each shop's extraction beside the previous shop's load and shape.

Expected values come from the emulator's own objects and its call counter; the runs' own rows in
`core.sync_runs` show when each half happened.
"""

from __future__ import annotations

from typing import Any

import pytest

from etsy_pipeline.sync import runner
from etsy_pipeline.sync.outcome import SyncStatus
from etsy_pipeline.sync.runner import SyncResult, sync_shops
from etsy_pipeline.transform import core
from etsy_pipeline_tests.sync.conftest import Installation, actual, assert_matches_emulator, expected


def _calls(inst: Installation) -> int:
    return sum(inst.stats()["calls"].values())


def test_a_batch_pulls_the_next_shop_while_the_last_one_loads_and_counts_each_shops_calls(tiny: Installation) -> None:
    first, second = tiny.shops
    before = _calls(tiny)
    results = tiny.sync_all(full=True)
    assert [r.shop_id for r in results] == [first.shop_id, second.shop_id]  # in the order asked
    assert all(r.status == SyncStatus.SUCCEEDED for r in results)
    assert_matches_emulator(tiny)
    # Every call belongs to exactly one shop: a shop's count taken while the other one extracts would count twice.
    assert sum(r.api_calls for r in results) == _calls(tiny) - before
    assert all(r.api_calls > 0 for r in results)
    runs = tiny.core(
        "SELECT shop_id, started_at, finished_at, api_calls FROM core.sync_runs WHERE kind = 'full' ORDER BY id"
    )
    assert [r.shop_id for r in runs] == [first.shop_id, second.shop_id]
    assert [r.api_calls for r in runs] == [r.api_calls for r in results]
    # The second shop's run began (its lock taken, its extraction started) before the first one was recorded.
    assert runs[1].started_at < runs[0].finished_at


def test_a_shop_that_raises_is_yielded_in_its_turn_and_the_others_are_still_pulled(
    tiny: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tiny.shops
    shape = core.shape_shop

    def broken_for_the_first(conn: Any, **kwargs: Any) -> Any:
        if kwargs["shop_id"] == first.shop_id:
            raise RuntimeError("shaping failed")
        return shape(conn, **kwargs)

    monkeypatch.setattr(runner, "shape_shop", broken_for_the_first)
    outcomes = list(sync_shops(tiny.runtime, tiny.access, [first.shop_id, second.shop_id]))
    assert isinstance(outcomes[0], RuntimeError) and "shaping failed" in str(outcomes[0])
    assert isinstance(outcomes[1], SyncResult) and outcomes[1].status == SyncStatus.SUCCEEDED
    assert actual(tiny, second.shop_id) == expected(tiny.state, second.etsy_shop_id)
    assert actual(tiny, first.shop_id)["orders"] == 0  # its shaping never committed

    monkeypatch.setattr(runner, "shape_shop", shape)  # the shop's lock was released: the next run takes it
    again = tiny.sync(0)
    assert again.status == SyncStatus.SUCCEEDED
    assert actual(tiny, first.shop_id) == expected(tiny.state, first.etsy_shop_id)
