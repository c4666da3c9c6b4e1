from __future__ import annotations

import logging
import time
import uuid

import pytest

from etsy_pipeline.etsy.errors import QuotaExhausted
from etsy_pipeline.etsy.ratelimit import RateLimiter
from etsy_pipeline_tests.conftest import REDIS_URL


def _limiter(key: str, redis_url: str | None = REDIS_URL, **kwargs: int) -> tuple[RateLimiter, list[float]]:
    waits: list[float] = []
    limiter = RateLimiter(app_key=key, redis_url=redis_url, sleep=waits.append, **({"qps": 5, "qpd": 1000} | kwargs))
    return limiter, waits


def test_processes_share_one_per_second_budget_through_redis() -> None:
    key = f"app-{uuid.uuid4()}"
    one, waits_one = _limiter(key)
    two, waits_two = _limiter(key)  # another process with the same app key
    started = time.monotonic()
    for _ in range(3):
        one.acquire()
        two.acquire()
    assert one.shared and two.shared
    if time.monotonic() - started < 1.0:
        assert waits_one or waits_two  # the sixth call in one second had to wait
        assert all(0 < w <= 1.0 for w in waits_one + waits_two)


def test_the_daily_budget_is_shared_and_raises_when_spent() -> None:
    key = f"app-{uuid.uuid4()}"
    one, _ = _limiter(key, qps=0, qpd=3)
    two, _ = _limiter(key, qps=0, qpd=3)
    one.acquire()
    two.acquire()
    one.acquire()
    two.acquire()  # the shared count says the day is spent: one call per run may ask Etsy
    with pytest.raises(QuotaExhausted) as excinfo:  # Etsy's answer carried no count: the local one stands
        two.acquire()
    assert excinfo.value.retry_after is not None and 86_000 < excinfo.value.retry_after <= 86_400
    two.new_run()
    two.acquire()  # a new run may ask again


def test_etsys_remaining_count_overrules_a_spent_local_count() -> None:
    limiter, _ = _limiter(f"app-{uuid.uuid4()}", qps=0, qpd=2)
    limiter.acquire()
    limiter.acquire()
    limiter.acquire()  # the probe
    limiter.observe({"x-remaining-today": "3"})  # Etsy: three left
    for _ in range(3):
        limiter.acquire()
    with pytest.raises(QuotaExhausted):
        limiter.acquire()


def test_the_pull_leaves_the_reserved_calls_to_push() -> None:
    key = f"app-{uuid.uuid4()}"
    pull, _ = _limiter(key, qps=0, qpd=8, reserve=2)  # at most a quarter of the day may be reserved
    push, _ = _limiter(key, qps=0, qpd=8)
    assert (pull.reserve, pull.budget) == (2, 6)
    for _ in range(6):
        pull.acquire()
    pull.acquire()  # the probe
    pull.observe({"x-remaining-today": "2"})  # Etsy: two left, both reserved for push
    with pytest.raises(QuotaExhausted):
        pull.acquire()
    push.acquire()
    push.acquire()
    assert _limiter(key, qps=0, qpd=8, reserve=1000)[0].reserve == 2


def test_without_redis_the_limit_is_per_process_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="etsy_pipeline.etsy.ratelimit"):
        limiter, waits = _limiter(f"app-{uuid.uuid4()}", redis_url="redis://127.0.0.1:1/0", qps=2, qpd=100)
        for _ in range(3):
            limiter.acquire()
    assert not limiter.shared
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
    assert waits  # the third call within a second waited


def test_etsys_headers_steer_the_limiter() -> None:
    limiter, waits = _limiter(f"app-{uuid.uuid4()}")
    limiter.observe({"x-remaining-this-second": "0", "x-remaining-today": "50"})
    limiter.acquire()
    assert waits and 0.9 < waits[0] <= 1.0
    limiter.observe({"x-remaining-today": "0"})
    with pytest.raises(QuotaExhausted, match="no calls left today"):
        limiter.acquire()
