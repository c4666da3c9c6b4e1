from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from etsy_pipeline.emulator.state import Config
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline_tests.sync.conftest import Installation, actual, assert_matches_emulator, expected, install


@pytest.fixture
def limited(settings: Settings, db: Database) -> Iterator[Installation]:
    yield from install(settings, db, Config(seed=42, scale="tiny", qps=0, qpd=30))


def test_faults_do_not_change_the_final_data(tiny: Installation) -> None:
    tiny.admin("faults", error_500_rate=0.1, error_503_rate=0.1, burst_429_rate=0.03, burst_429_length=2,
               truncate_rate=0.05, seed=11)  # fmt: skip
    results = tiny.sync_all()
    assert {r.status for r in results} == {"succeeded"}
    stats = tiny.stats()
    assert stats["faults"]["500"] > 0 and stats["faults"]["503"] > 0 and stats["faults"]["truncated"] > 0
    assert stats["rate_limited"]["injected"] > 0
    assert tiny.access.client.retries > 0
    assert_matches_emulator(tiny)


def test_a_spent_daily_quota_stops_cleanly_and_the_next_run_resumes(limited: Installation) -> None:
    first = limited.sync(0)
    assert first.status == "quota_exhausted"
    assert first.error is None
    status = limited.core("SELECT sync_status FROM core.shops WHERE id = :s", s=limited.shops[0].shop_id)[0][0]
    assert status == "quota_exhausted"
    runs = limited.core("SELECT status, resume_state FROM core.sync_runs ORDER BY id DESC LIMIT 1")
    assert runs[0][0] == "quota_exhausted"
    result = first
    for _ in range(10):  # each day frees the quota; every run continues where the last one stopped
        limited.admin("advance", hours=25)
        result = limited.sync(0)
        if result.status == "succeeded":
            break
    assert result.status == "succeeded"
    shop = limited.shops[0]
    assert actual(limited, shop.shop_id) == expected(limited.state, shop.etsy_shop_id)


def test_an_expired_access_token_is_refreshed_mid_run_and_the_rotation_kept(tiny: Installation) -> None:
    user = tiny.shops[0].user_id
    before = tiny.runtime.repos.tokens.get(user).refresh_token
    tiny.admin("advance", hours=2)  # Etsy's view: the stored access token has expired
    assert tiny.sync(0).status == "succeeded"
    after = tiny.runtime.repos.tokens.get(user).refresh_token
    assert after != before
    assert tiny.state.auth.current_refresh_token(tiny.shops[0].etsy_user_id) == after
    assert tiny.sync(0).status == "succeeded"  # the stored rotation works for the next run


def test_a_revoked_token_fails_only_that_shop(tiny: Installation) -> None:
    tiny.admin("revoke", user_id=tiny.shops[0].etsy_user_id)
    tiny.admin("advance", hours=2)
    first, second = tiny.sync_all()
    assert first.status == "needs_reauth"
    assert "connect" in (first.error or "")
    assert second.status == "succeeded"
    statuses = dict(tiny.core("SELECT etsy_shop_id, sync_status FROM core.shops"))
    assert statuses == {tiny.shops[0].etsy_shop_id: "needs_reauth", tiny.shops[1].etsy_shop_id: "ok"}
    token = tiny.runtime.repos.tokens.get(tiny.shops[0].user_id)
    assert token.status == "needs_reauth"


def test_malformed_records_are_quarantined_and_the_rest_load(tiny: Installation) -> None:
    tiny.admin("faults", bad_record_rate=0.1, seed=4)
    result = tiny.sync(0)
    assert result.status == "succeeded"
    assert result.quarantined.get("receipts", 0) > 0
    assert result.quarantined.get("listings", 0) > 0
    rows = tiny.core("SELECT entity, errors, raw FROM etsy_raw.quarantine")
    assert len(rows) == sum(result.quarantined.values())
    assert all(("must be" in errors or "is missing" in errors) for _, errors, _ in rows)
    shop = tiny.shops[0]
    orders = tiny.core("SELECT count(*) FROM core.orders WHERE shop_id = :s", s=shop.shop_id)[0][0]
    total = len([r for r in tiny.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id])
    assert orders + result.quarantined["receipts"] >= total > orders
    assert not any("Ana " in raw or "Main" in raw for *_, raw in rows if "receipt" in _[0])  # no clear-text PII


def test_a_sync_killed_mid_load_is_completed_by_the_next_run(tiny: Installation, settings: Settings) -> None:
    tiny.admin("faults", latency_rate=1.0, latency_ms=40)
    env = dict(os.environ)
    s = tiny.runtime.settings
    env.update({
        "DATABASE_URL": tiny.runtime.db.url, "REDIS_URL": s.redis_url or "", "ETSY_BASE_URL": s.etsy_base_url,
        "ETSY_API_KEYSTRING": s.etsy_api_keystring.get_secret_value() if s.etsy_api_keystring else "",
        "ETSY_SHARED_SECRET": s.etsy_shared_secret.get_secret_value() if s.etsy_shared_secret else "",
        "TOKEN_ENCRYPTION_KEY": s.token_encryption_key.get_secret_value() if s.token_encryption_key else "",
        "DATA_DIR": str(s.data_dir), "ETSY_QPS": "0", "ETSY_QPD": "0",
    })  # fmt: skip
    child = subprocess.Popen(
        [sys.executable, "-m", "etsy_pipeline.cli", "sync", "--shop", str(tiny.shops[0].etsy_shop_id)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        calls = tiny.stats()["calls"]
        if calls.get("getShopReceipts", 0) >= 3:  # listings are in, receipts are on their way
            break
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    tiny.admin("faults", latency_rate=0.0)
    results = tiny.sync_all()
    assert {r.status for r in results} == {"succeeded"}
    assert_matches_emulator(tiny)
    duplicates = tiny.core("SELECT count(*) - count(DISTINCT etsy_receipt_id) FROM core.orders")[0][0]
    assert duplicates == 0
