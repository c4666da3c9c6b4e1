"""One pull per shop at a time, whichever process or machine starts it: a PostgreSQL advisory lock.

The lock is session-level on a connection of its own, held for the whole run: if the process dies, PostgreSQL
drops the connection and the lock with it, so a killed run never blocks the shop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

NAMESPACE = 0x45545359  # "ETSY": the first key of the two-key advisory lock, so other users of locks don't collide
LOADS = (0x45545358, 0)  # every load into etsy_raw: loads share the staging tables and dlt's schema changes
LOADER = "etsy-pipeline-load"  # the application_name of dlt's connections (`workdir.dlt_credentials`)
ORPHANS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = :name AND state NOT IN ('idle', 'idle in transaction')
  AND pid <> pg_backend_pid()
"""


def shop_lock(engine: Engine, shop_id: int, wait_seconds: float) -> AbstractContextManager[bool]:
    """True while this process holds the shop's lock, False when another run kept it for `wait_seconds`."""
    return _advisory(engine, NAMESPACE, shop_id % 2**31, wait_seconds)


@contextmanager
def load_lock(engine: Engine) -> Iterator[bool]:
    """Loads of different shops wait for each other: dlt merges through one staging schema (`etsy_raw_staging`),
    which each load empties first, so two loads at once could merge each other's rows away.

    Once held, it also waits for the statements of loads whose process died: a merge is one script PostgreSQL
    runs to its end (and commits) although its client is gone, while the dead process's lock went with its own
    connection at once. A package the dead load left is loaded again next (`runner._recover`); merging it beside
    the orphan's merge would insert its rows twice.
    """
    with _advisory(engine, LOADS[0], LOADS[1], float("inf")) as held:
        with engine.connect() as conn:
            told = False
            while left := conn.execute(text(ORPHANS), {"name": LOADER}).scalar():
                conn.rollback()
                if not told:
                    log.warning("waiting for %d statement(s) a load whose process died left running", left)
                    told = True
                time.sleep(0.1)
        yield held


@contextmanager
def _advisory(engine: Engine, namespace: int, ident: int, wait_seconds: float) -> Iterator[bool]:
    key = {"ns": namespace, "shop": ident}
    with engine.connect() as conn:
        deadline = time.monotonic() + wait_seconds
        while True:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:ns, :shop)"), key).scalar())
            conn.commit()
            if held or time.monotonic() >= deadline:
                break
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:ns, :shop)"), key)
                conn.commit()
