from __future__ import annotations

from collections.abc import Iterator

import pytest

from etsy_pipeline.emulator.state import Config
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline.sync.clients import build_access, build_limiter
from etsy_pipeline.sync.runner import connected_shops, sync_shop
from etsy_pipeline_tests.sync.conftest import Installation, actual, assert_matches_emulator, expected, install


@pytest.fixture
def limited(settings: Settings, db: Database) -> Iterator[Installation]:
    # 16 calls a day: the first run stops inside the receipts (measured: after their first page or two).
    yield from install(settings, db, Config(seed=42, scale="tiny", qps=0, qpd=16))


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


def test_a_spent_daily_quota_stops_inside_the_receipts_and_each_run_resumes_from_there(limited: Installation) -> None:
    shop = limited.shops[0]
    receipts = limited.state.world.receipts
    lookback = limited.runtime.settings.sync_lookback_hours * 3600
    deep = limited.runtime.settings.sync_deep_reread_days * 86_400
    first = limited.sync(0)
    assert first.status == "quota_exhausted"
    assert first.error is None
    newest = max(r.updated for r in receipts.values() if r.shop_id == shop.etsy_shop_id)
    cursor = first.cursors["receipts"]
    assert cursor < newest  # stopped inside the receipts, and where it stopped is stored
    assert limited.core("SELECT sync_status FROM core.shops WHERE id = :s", s=shop.shop_id)[0][0] == "quota_exhausted"
    status, resume = limited.core("SELECT status, resume_state FROM core.sync_runs ORDER BY id DESC LIMIT 1")[0]
    assert (status, resume["cursors"]["receipts"], resume["stopped"]) == ("quota_exhausted", cursor, "quota")
    with limited.state.lock:  # from now on a day holds a little more than a no-change run needs
        limited.state.limiter.qpd = 40
    result = first
    for _ in range(10):  # each day frees the quota; every run continues where the last one stopped
        limited.admin("advance", hours=25)
        result = limited.sync(0)
        # Only what changed since the stored cursor (plus the look-back, the deep re-read of the last days' orders
        # and the receipts the ledger shows refunded) is read: never the range from its start.
        mine = [r for r in receipts.values() if r.shop_id == shop.etsy_shop_id]
        top = max(r.updated for r in mine)
        since = {r.receipt_id for r in mine if r.updated >= cursor - lookback or r.created >= top - deep}
        assert result.fetched.get("receipts", 0) <= len(since) + result.reread_receipts < len(mine)
        assert result.cursors["receipts"] >= cursor
        cursor = result.cursors["receipts"]
        if result.status == "succeeded":
            break
        assert result.status == "quota_exhausted"
    assert result.status == "succeeded"
    assert actual(limited, shop.shop_id) == expected(limited.state, shop.etsy_shop_id)


def test_the_shop_waiting_longest_for_a_finished_pull_goes_first(tiny: Installation) -> None:
    """With a small daily quota, serving shops in id order would starve the last ones every day."""
    ids = [(s.shop_id, s.etsy_shop_id) for s in tiny.shops]
    assert [tuple(r) for r in connected_shops(tiny.runtime)] == ids  # never synced: id order
    assert tiny.sync(0).status == "succeeded"
    assert [tuple(r) for r in connected_shops(tiny.runtime)] == ids[::-1]
    assert tiny.sync(1).status == "succeeded"
    assert [tuple(r) for r in connected_shops(tiny.runtime)] == ids


@pytest.fixture
def roomy(settings: Settings, db: Database) -> Iterator[Installation]:
    """Etsy with a large daily quota (so its answers carry `x-remaining-today`)."""
    yield from install(settings, db, Config(seed=42, scale="tiny", qps=0, qpd=100_000))


def test_when_the_local_count_says_no_etsy_is_asked_once(roomy: Installation) -> None:
    """The local count is an estimate; Etsy's x-remaining-today is the truth."""
    tiny = roomy
    settings = tiny.runtime.settings.model_copy(update={"etsy_qpd": 20, "etsy_push_reserve": 0})
    limiter = build_limiter(settings)
    limiter.reset()
    for _ in range(20):  # spent, as far as the local count knows (e.g. another tool's calls, now refunded)
        limiter.acquire()
    access = build_access(settings, tiny.runtime.repos.tokens)
    try:
        access.client.limiter.new_run()
        result = sync_shop(tiny.runtime, access, tiny.shops[0].shop_id)
    finally:
        access.close()
        limiter.reset()
    assert result.status == "succeeded"  # Etsy's header said plenty was left, so the run went on
    assert result.api_calls > 20


def test_without_an_answer_from_etsy_the_local_count_stops_the_run(tiny: Installation) -> None:
    settings = tiny.runtime.settings.model_copy(update={"etsy_qpd": 20, "etsy_push_reserve": 0})
    limiter = build_limiter(settings)
    limiter.reset()
    for _ in range(20):
        limiter.acquire()
    access = build_access(settings, tiny.runtime.repos.tokens)
    try:
        result = sync_shop(tiny.runtime, access, tiny.shops[0].shop_id)
    finally:
        access.close()
        limiter.reset()
    assert result.status == "quota_exhausted"  # this emulator sends no x-remaining-today: one probe, then stop
    assert result.api_calls == 1


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
