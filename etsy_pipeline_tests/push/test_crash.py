"""A push killed with SIGKILL mid-batch: the next run confirms every change, and no listing is written twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from etsy_pipeline.storage.models import PendingChange
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
from etsy_pipeline_tests.push.conftest import Pushing


def _env(pushing: Pushing) -> dict[str, str]:
    s = pushing.runtime.settings
    secret = {
        "ETSY_API_KEYSTRING": s.etsy_api_keystring,
        "ETSY_SHARED_SECRET": s.etsy_shared_secret,
        "TOKEN_ENCRYPTION_KEY": s.token_encryption_key,
    }
    return {
        **os.environ,
        **{k: v.get_secret_value() for k, v in secret.items() if v is not None},
        "DATABASE_URL": pushing.runtime.db.url,
        "REDIS_URL": s.redis_url or "",
        "ETSY_BASE_URL": s.etsy_base_url,
        "DATA_DIR": str(s.data_dir),
        "ETSY_QPS": "0",
        "ETSY_QPD": "0",
        "PUSH_LEASE_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }


def _live_leases(pushing: Pushing) -> int:
    with pushing.runtime.db.session() as session:
        query = select(func.count()).where(
            PendingChange.status == "in_flight", PendingChange.claimed_until >= func.now()
        )
        return int(session.scalar(query) or 0)


def test_sigkill_mid_batch_then_run_again(pushing: Pushing) -> None:
    listings = pushing.listings()[:12]
    for n, listing in enumerate(listings):
        edits = [OfferingEdit(listing.listing_id, sku=p.sku, quantity=n + 40) for p in listing.inventory.products]
        pushing.runtime.repos.inventory.edit_offerings(pushing.user_id, edits)
    pushing.inst.admin("faults", latency_rate=1.0, latency_ms=150)
    runner = subprocess.Popen(
        [sys.executable, "-m", "etsy_pipeline.cli", "push"], env=_env(pushing),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while runner.poll() is None and len(pushing.inst.stats()["inventory_writes"]) < 3:
            time.sleep(0.05)  # waiting for the run to be mid-batch, not asserting on time
        assert runner.poll() is None, "the push ended before it could be killed"
        runner.send_signal(signal.SIGKILL)
    finally:
        runner.wait()
    written_before = len(pushing.inst.stats()["inventory_writes"])
    assert 3 <= written_before < len(listings)
    pushing.inst.admin("faults", latency_rate=0.0, latency_ms=0)
    while _live_leases(pushing):  # the dead runner's one-second lease runs out
        time.sleep(0.1)

    pushing.push()

    with pushing.runtime.db.session() as session:
        assert set(session.scalars(select(PendingChange.status))) == {"confirmed"}
    writes = pushing.inst.stats()["inventory_writes"]
    assert {writes[str(x.listing_id)] for x in listings} == {1}
    for n, listing in enumerate(listings):
        assert {v["quantity"] for v in pushing.etsy_offerings(listing.listing_id).values()} == {n + 40}
