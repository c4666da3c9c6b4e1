"""Simulated time. It flows with real time from a fixed start, and `advance` jumps it forward.

Generated data is stamped relative to the fixed start, so the same seed gives the same data; token lifetimes
and the rolling daily quota run on this clock, so advancing a day expires access tokens and frees quota just
as a day passing would.
"""

from __future__ import annotations

import time

from etsy_pipeline.emulator.generator import EPOCH


class Clock:
    def __init__(self, start: int = EPOCH, *, frozen: bool = False) -> None:
        self.start = start
        self.frozen = frozen
        self._real_start = time.monotonic()
        self._offset = 0

    def now(self) -> int:
        flowing = 0 if self.frozen else int(time.monotonic() - self._real_start)
        return self.start + flowing + self._offset

    def advance(self, seconds: int) -> None:
        self._offset += seconds
