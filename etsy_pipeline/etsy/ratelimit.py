"""One rate limiter for every process that calls Etsy with the same app key.

Etsy limits calls per second and per rolling 24 hours, per application. With Redis the budget is shared: one
Lua script, atomic on the server and using the server's clock, keeps a one-second and a 24-hour sliding window
of calls in two sorted sets. Without Redis each process keeps its own windows (and one warning says so).

The limiter is also steered by Etsy's answers: `observe()` reads the `x-remaining-*` headers (a spent second
pauses the next call, a spent day stops this run), so quota spent by other tools on the same key counts too.
When the per-second budget is spent `acquire()` waits; when the daily budget is spent it raises
`QuotaExhausted`, because waiting hours inside a run helps nobody.

Two refinements keep a small quota useful. A limiter built with `reserve` (the pull's) refuses the last calls of
the day, so pushing local edits to Etsy is never starved by a long pull. And the local count is only an estimate:
when it says the day is spent, one call per run asks Etsy, whose `x-remaining-today` is the truth, and the run
goes on spending what Etsy says is left.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

import redis

from etsy_pipeline.etsy.errors import QuotaExhausted

log = logging.getLogger(__name__)

ACQUIRE_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local qps, qpd = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms - 86400000)
if qpd > 0 and redis.call('ZCARD', KEYS[2]) >= qpd then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {2, tonumber(oldest[2]) + 86400000 - now_ms}
end
if qps > 0 and redis.call('ZCARD', KEYS[1]) >= qps then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, math.max(1, tonumber(oldest[2]) + 1000 - now_ms)}
end
local member = now_ms .. '-' .. ARGV[3]
redis.call('ZADD', KEYS[1], now_ms, member)
redis.call('PEXPIRE', KEYS[1], 2000)
redis.call('ZADD', KEYS[2], now_ms, member)
redis.call('PEXPIRE', KEYS[2], 86460000)
return {0, 0}
"""


class Limiter(Protocol):
    def acquire(self) -> None: ...

    def observe(self, headers: Mapping[str, str]) -> None: ...

    def new_run(self) -> None: ...


class _Windows:
    """Sliding windows for one process (the fallback without Redis)."""

    def __init__(self, qps: int, qpd: int, now: Callable[[], float]) -> None:
        self.qps, self.qpd, self.now = qps, qpd, now
        self.second: deque[float] = deque()
        self.day: deque[float] = deque()
        self.lock = threading.Lock()

    def try_acquire(self) -> tuple[int, float]:
        with self.lock:
            now = self.now()
            while self.second and self.second[0] <= now - 1:
                self.second.popleft()
            while self.day and self.day[0] <= now - 86_400:
                self.day.popleft()
            if self.qpd and len(self.day) >= self.qpd:
                return 2, self.day[0] + 86_400 - now
            if self.qps and len(self.second) >= self.qps:
                return 1, max(0.001, self.second[0] + 1 - now)
            self.second.append(now)
            self.day.append(now)
            return 0, 0.0


class RateLimiter:
    """Per-second and rolling-day budgets, shared through Redis when it is configured and reachable."""

    def __init__(
        self,
        *,
        qps: int,
        qpd: int,
        app_key: str,
        redis_url: str | None,
        reserve: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.qps, self.qpd = qps, qpd
        self.reserve = min(reserve, qpd // 4) if qpd else 0  # never more than a quarter of the day
        self.budget = qpd - self.reserve if qpd else 0
        self.sleep = sleep
        self._allowance = 0  # calls Etsy's own counter says are left after the local count ran out
        self._probed = False
        self._probing = False
        digest = hashlib.sha256(app_key.encode()).hexdigest()[:16]  # never the key itself in Redis
        self.keys = [f"etsy-pipeline:ratelimit:{digest}:{part}" for part in ("second", "day")]
        self._local = _Windows(qps, self.budget, time.time)
        self._counter = 0
        self._pause_until = 0.0
        self._day_spent = False
        self._warned = False
        self._redis: redis.Redis | None = None
        if redis_url:
            self._redis = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=1.0)
            self._script = self._redis.register_script(ACQUIRE_SCRIPT)
        else:
            log.warning("REDIS_URL is not set: the Etsy rate limit is kept per process, not shared")

    @property
    def shared(self) -> bool:
        return self._redis is not None and not self._warned

    def _try(self) -> tuple[int, float]:
        if self._redis is not None:
            try:
                self._counter += 1
                code, wait_ms = self._script(
                    keys=self.keys, args=[self.qps, self.budget, f"{id(self)}-{self._counter}"]
                )
                return int(code), int(wait_ms) / 1000
            except (redis.ConnectionError, redis.TimeoutError):
                if not self._warned:
                    log.warning("Redis is unreachable: the Etsy rate limit falls back to this process only")
                    self._warned = True
        return self._local.try_acquire()

    def acquire(self) -> None:
        """Take one call from the budget: wait out the per-second window, raise when the day is spent."""
        if self._day_spent:
            raise QuotaExhausted("Etsy reported no calls left today for this app")
        pause = self._pause_until - time.monotonic()
        if pause > 0:
            self.sleep(pause)
        while True:
            code, wait = self._try()
            if code == 0:
                return
            if code == 2:
                if self._allowance > 0:
                    self._allowance -= 1
                    return
                if not self._probed:  # the local count says no: ask Etsy once, its answer decides
                    self._probed = self._probing = True
                    return
                raise QuotaExhausted("Etsy daily quota is spent for this app", retry_after=wait)
            self.sleep(wait)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Steer by Etsy's own counters: other clients on the same key spend the same budget."""
        second = headers.get("x-remaining-this-second")
        if second is not None and second.strip() == "0":
            self._pause_until = time.monotonic() + 1.0
        today = headers.get("x-remaining-today")
        if today is None or not today.strip().lstrip("-").isdigit():
            return
        left = int(today) - self.reserve
        if self._probing:
            self._probing = False
            self._allowance = max(0, left)
        if left <= 0:
            self._day_spent = True

    def new_run(self) -> None:
        """A new run may find the day's budget freed again: forget what Etsy's headers said last time."""
        self._day_spent = False
        self._pause_until = 0.0
        self._probed = self._probing = False
        self._allowance = 0

    def used_today(self) -> int:
        """Calls counted in the last 24 hours (by every process when Redis is shared)."""
        if self._redis is not None:
            try:
                now_ms = int(time.time() * 1000)
                self._redis.zremrangebyscore(self.keys[1], "-inf", now_ms - 86_400_000)
                return int(self._redis.zcard(self.keys[1]))
            except (redis.ConnectionError, redis.TimeoutError):
                pass
        return len(self._local.day)

    def reset(self) -> None:
        """Forget the windows (tests, and operators after a key change)."""
        self._local = _Windows(self.qps, self.budget, time.time)
        self._day_spent = False
        self._probed = self._probing = False
        self._allowance = 0
        if self._redis is not None:
            self._redis.delete(*self.keys)
