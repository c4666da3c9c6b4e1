"""Etsy's per-application rate limits: queries per second and a rolling 24-hour budget.

QPS is checked first, then QPD, as Etsy documents. The daily window slides over simulated time in one-minute
buckets (Etsy's own window is bucketed), so quota frees up as old buckets leave it; there is no reset at
midnight. Successful responses carry the four `x-limit-*`/`x-remaining-*` headers.
"""

from __future__ import annotations

import time
from collections import deque

from etsy_pipeline.emulator.clock import Clock
from etsy_pipeline.emulator.errors import TooManyRequests

DAY = 86_400
BUCKET = 60


class RateLimiter:
    def __init__(self, qps: int, qpd: int, clock: Clock) -> None:
        self.qps = qps
        self.qpd = qpd
        self.clock = clock
        self._second: deque[float] = deque()
        self._buckets: deque[list[int]] = deque()  # [bucket_start, count]
        self._day_total = 0

    def _prune(self) -> None:
        horizon = time.monotonic() - 1.0
        while self._second and self._second[0] <= horizon:
            self._second.popleft()
        day_horizon = self.clock.now() - DAY
        while self._buckets and self._buckets[0][0] + BUCKET <= day_horizon:
            self._day_total -= self._buckets.popleft()[1]

    def _headers(self) -> dict[str, str]:
        headers = {}
        if self.qps > 0:  # a limit switched off (0) is not announced
            headers["x-limit-per-second"] = str(self.qps)
            headers["x-remaining-this-second"] = str(max(0, self.qps - len(self._second)))
        if self.qpd > 0:
            headers["x-limit-per-day"] = str(self.qpd)
            headers["x-remaining-today"] = str(max(0, self.qpd - self._day_total))
        return headers

    def spend_today(self) -> None:
        """The day's quota is used up now (the `quota_ends_at` fault); a limiter without a daily limit gets
        Etsy's default one."""
        if self.qpd <= 0:
            self.qpd = 10_000
        self._prune()
        missing = self.qpd - self._day_total
        if missing > 0:
            self._buckets.append([self.clock.now() // BUCKET * BUCKET, missing])
            self._day_total += missing

    def acquire(self) -> dict[str, str]:
        """Count one call or raise 429; returns the headers for the response."""
        if self.qps <= 0 and self.qpd <= 0:
            return {}
        self._prune()
        if self.qps > 0 and len(self._second) >= self.qps:
            raise TooManyRequests(
                "Exceeded per second rate limit",
                headers={"retry-after": "1", "x-limit-per-second": str(self.qps), "x-remaining-this-second": "0"},
            )
        if self.qpd > 0 and self._day_total >= self.qpd:
            oldest = self._buckets[0][0] if self._buckets else self.clock.now()
            wait = max(1, oldest + BUCKET + DAY - self.clock.now())
            raise TooManyRequests(
                "Exceeded daily rate limit",
                headers={"retry-after": str(wait), "x-limit-per-day": str(self.qpd), "x-remaining-today": "0"},
            )
        self._second.append(time.monotonic())
        bucket = self.clock.now() // BUCKET * BUCKET
        if self._buckets and self._buckets[-1][0] == bucket:
            self._buckets[-1][1] += 1
        else:
            self._buckets.append([bucket, 1])
        self._day_total += 1
        return self._headers()
