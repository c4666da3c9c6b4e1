"""A shop's first load appends (no staging copy, no merge); later loads merge; a load holds each Etsy key once.

The first load of a table with no row of the shop skips dlt's merge (`transform/raw.first_loads`), so the rows a
load holds twice are removed before shaping (`transform/dedupe.py`). Expectations come from the emulator's objects
and from `etsy_raw` itself: one row per Etsy key of the shop, one child row per `_dlt_id`.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time

import psycopg
import pytest

from etsy_pipeline.emulator.activity import advance
from etsy_pipeline.storage.database import Database, libpq_url
from etsy_pipeline.sync.lock import LOADER, load_lock
from etsy_pipeline.transform import core
from etsy_pipeline.transform.raw import FIRST_LOAD_APPENDS, ROOT_KEYS, first_loads
from etsy_pipeline_tests.sync.conftest import Installation, assert_matches_emulator


def _write_dispositions(inst: Installation) -> list[str]:
    """The receipts table's write disposition in each schema version dlt stored, oldest first."""
    rows = inst.core("SELECT schema FROM etsy_raw._dlt_version ORDER BY inserted_at")
    return [json.loads(schema)["tables"]["receipts"]["write_disposition"] for (schema,) in rows]


def _copies(inst: Installation, etsy_shop_id: int) -> dict[str, int]:
    """Rows beyond one per Etsy key of the shop (roots) and beyond one per `_dlt_id` (children)."""
    found = {}
    for root, key in ROOT_KEYS.items():
        [(extra,)] = inst.core(
            f"SELECT count(*) - count(DISTINCT {key}) FROM etsy_raw.{root} WHERE shop_id = :s", s=etsy_shop_id
        )
        found[root] = extra
    for child in ("receipts__transactions", "receipts__shipments", "listings__images"):
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


# Dies as soon as PostgreSQL has committed one file of `table`, before dlt records the job as done (dlt journals a
# job's end right after its COPY; a kill in between is the one moment it cannot know): the next run loads it again.
DIE_AFTER_COPY = """
import os, signal
from dlt.destinations.impl.postgres.postgres import PostgresCsvCopyJob
copy = PostgresCsvCopyJob.run
def run(self):
    copy(self)
    if self.load_table_name == {table!r}:
        os.kill(os.getpid(), signal.SIGKILL)
PostgresCsvCopyJob.run = run
"""


# listings merge: dlt inserts each staging row whose `_dlt_id` it picked, both copies of a file loaded twice
@pytest.mark.parametrize("table", ["receipts", "receipts__transactions", "ledger_entries", "payments", "listings"])
def test_a_first_load_killed_after_a_file_was_copied_loads_it_again_and_keeps_one_copy(
    tiny: Installation, table: str
) -> None:
    shop = tiny.shops[0]
    child = tiny.sync_process(shop.etsy_shop_id, prelude=DIE_AFTER_COPY.format(table=table))
    assert child.wait(timeout=120) == -signal.SIGKILL
    schema = "etsy_raw_staging" if table == "listings" else "etsy_raw"  # listings merge: their files go to staging
    [(copied,)] = tiny.core(f"SELECT count(*) FROM {schema}.{table}")
    assert copied > 0  # the file is in PostgreSQL, and dlt still counts its job as started
    result = tiny.sync(0)
    assert result.status == "succeeded", result.error
    assert result.recovered_loads
    assert _copies(tiny, shop.etsy_shop_id) == dict.fromkeys(_copies(tiny, shop.etsy_shop_id), 0)
    tiny.sync(1)
    assert_matches_emulator(tiny)


def test_a_load_waits_for_the_statement_a_dead_loader_left_running(db: Database) -> None:
    """A merge script runs to its end after its client died; the next load starts once it has ended."""
    orphan = psycopg.connect(libpq_url(db.url), application_name=LOADER, autocommit=True)
    running = threading.Thread(target=orphan.execute, args=("SELECT pg_sleep(1.5)",))
    running.start()
    time.sleep(0.3)  # the statement is running
    started = time.monotonic()
    with load_lock(db.engine):
        waited = time.monotonic() - started
        running_after = running.is_alive()
    running.join()
    orphan.close()
    assert waited >= 1.0 and not running_after


def test_rows_of_a_load_that_never_finished_are_never_shaped(tiny: Installation) -> None:
    """A first load killed part-way whose package went with its process's disk (a container's): its receipts are
    in etsy_raw without their line items, and no run will load the rest. The next shaping drops them."""
    shop = tiny.shops[0]
    child = tiny.sync_process(shop.etsy_shop_id, prelude=DIE_AFTER_COPY.format(table="receipts"))
    assert child.wait(timeout=120) == -signal.SIGKILL
    shutil.rmtree(tiny.runtime.settings.data_dir.resolve() / "dlt" / "runs")  # the package is gone
    [(orphans,)] = tiny.core("SELECT count(*) FROM etsy_raw.receipts WHERE shop_id = :s", s=shop.etsy_shop_id)
    assert orphans > 0
    tiny.sync(1)  # another shop's load finishes after the dead one: the dead load is inside the next shaping
    with tiny.runtime.db.engine.begin() as conn:
        core.shape_shop(conn, shop_id=shop.shop_id, etsy_shop_id=shop.etsy_shop_id)
    assert tiny.core("SELECT count(*) FROM core.orders WHERE shop_id = :s", s=shop.shop_id) == [(0,)]
    assert tiny.core("SELECT count(*) FROM etsy_raw.receipts WHERE shop_id = :s", s=shop.etsy_shop_id) == [(0,)]
    result = tiny.sync(0)  # everything is read again, as the dead run never stored its cursors
    assert result.status == "succeeded", result.error
    assert_matches_emulator(tiny)
