"""A shop's first load appends (no staging copy, no merge); later loads merge; a load holds each Etsy key once.

The first load of a table with no row of the shop skips dlt's merge (`transform/raw.first_loads`), so the rows a
load holds twice are removed before shaping (`transform/dedupe.py`). Expectations come from the emulator's objects
and from `etsy_raw` itself: one row per Etsy key of the shop, one child row per `_dlt_id`.
"""

from __future__ import annotations

import json
import signal

import pytest

from etsy_pipeline.emulator.activity import advance
from etsy_pipeline.transform.raw import FIRST_LOAD_APPENDS, ROOT_KEYS, first_loads
from etsy_pipeline_tests.sync.conftest import Installation, assert_matches_emulator


def _write_dispositions(inst: Installation) -> list[str]:
    """The receipts table's write disposition in each schema version dlt stored, oldest first."""
    rows = inst.core("SELECT schema FROM etsy_raw._dlt_version ORDER BY inserted_at")
    return [json.loads(schema)["tables"]["receipts"]["write_disposition"] for (schema,) in rows]


def _copies(inst: Installation, etsy_shop_id: int) -> dict[str, int]:
    """Rows beyond one per Etsy key of the shop (roots) and beyond one per `_dlt_id` (every receipts child)."""
    found = {}
    for root in FIRST_LOAD_APPENDS:
        key = ROOT_KEYS[root]
        [(extra,)] = inst.core(
            f"SELECT count(*) - count(DISTINCT {key}) FROM etsy_raw.{root} WHERE shop_id = :s", s=etsy_shop_id
        )
        found[root] = extra
    for child in ("receipts__transactions", "receipts__shipments"):
        [(extra,)] = inst.core(f"SELECT count(*) - count(DISTINCT _dlt_id) FROM etsy_raw.{child}")
        found[child] = extra
    return found


def test_the_first_load_of_a_shop_appends_and_the_next_ones_merge(tiny: Installation) -> None:
    first, second = tiny.shops
    with tiny.runtime.db.engine.connect() as conn:
        assert first_loads(conn, first.etsy_shop_id) == frozenset(FIRST_LOAD_APPENDS)  # no etsy_raw yet
    assert tiny.sync(0).status == "succeeded"
    with tiny.runtime.db.engine.connect() as conn:
        assert first_loads(conn, first.etsy_shop_id) == frozenset()
        assert first_loads(conn, second.etsy_shop_id) == frozenset(FIRST_LOAD_APPENDS)  # its rows are not there
    assert _write_dispositions(tiny)[-1] == "append"

    advance(tiny.state, 48)  # new orders, shipments, refunds: receipts the next load reads again
    assert tiny.sync(0).status == "succeeded"
    assert _write_dispositions(tiny)[-1] == "merge"
    assert tiny.sync(1).status == "succeeded"  # the second shop's first load appends beside the first's rows
    assert _copies(tiny, first.etsy_shop_id) == dict.fromkeys(_copies(tiny, first.etsy_shop_id), 0)
    assert _copies(tiny, second.etsy_shop_id) == dict.fromkeys(_copies(tiny, second.etsy_shop_id), 0)
    assert_matches_emulator(tiny)


# Dies once PostgreSQL has taken one file of `table` and before dlt marks the job done: the next run loads it again.
DIE_AFTER_COPY = """
import os, signal
from dlt.common.storages.load_package import PackageStorage
done = PackageStorage.complete_job
def complete_job(self, load_id, file_name):
    if file_name.split(".")[0] == {table!r}:
        os.kill(os.getpid(), signal.SIGKILL)
    return done(self, load_id, file_name)
PackageStorage.complete_job = complete_job
"""


@pytest.mark.parametrize("table", ["receipts", "receipts__transactions", "ledger_entries", "payments"])
def test_a_first_load_killed_after_a_file_was_copied_loads_it_again_and_keeps_one_copy(
    tiny: Installation, table: str
) -> None:
    shop = tiny.shops[0]
    child = tiny.sync_process(shop.etsy_shop_id, prelude=DIE_AFTER_COPY.format(table=table))
    assert child.wait(timeout=120) == -signal.SIGKILL
    [(copied,)] = tiny.core(f"SELECT count(*) FROM etsy_raw.{table}")
    assert copied > 0  # the file is in PostgreSQL, and dlt still counts its job as started
    result = tiny.sync(0)
    assert result.status == "succeeded", result.error
    assert result.recovered_loads
    assert _copies(tiny, shop.etsy_shop_id) == dict.fromkeys(_copies(tiny, shop.etsy_shop_id), 0)
    tiny.sync(1)
    assert_matches_emulator(tiny)
