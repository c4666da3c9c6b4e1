"""When a transient push failure is tried again: exponential backoff with full jitter, capped.

Full jitter (a uniform draw between 0 and the exponential bound) spreads the retries of many changes that
failed together, so a recovering Etsy is not hit by all of them at the same moment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 8

    def delay(self, attempts: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th attempt failed (attempts counts from 1)."""
        bound = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return max(rng.uniform(0, bound), min(retry_after or 0.0, self.cap_seconds))

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
