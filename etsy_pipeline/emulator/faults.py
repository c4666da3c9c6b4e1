"""Fault injection, deterministic under a seed: server errors, 429 bursts, latency, truncated bodies, records
with wrong types or missing fields, and writes that are applied but answered 503 (an outcome the client cannot
know, which it must resolve by reading Etsy's state rather than by sending again).

Rates are probabilities per call (per record for `bad_record_rate`). The random stream is the emulator's own,
seeded, so a test that sets the same rates on the same sequence of calls sees the same faults.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any

from etsy_pipeline.emulator.errors import BadRequest


@dataclass
class FaultConfig:
    error_500_rate: float = 0.0
    error_503_rate: float = 0.0
    burst_429_rate: float = 0.0  # chance that a call starts a burst of 429s
    burst_429_length: int = 3
    latency_rate: float = 0.0
    latency_ms: int = 0
    truncate_rate: float = 0.0  # the JSON body is cut short
    bad_record_rate: float = 0.0  # a list record gets a wrong type or loses a field
    write_applied_error_rate: float = 0.0  # a write is applied, then answered 503 (its outcome looks unknown)
    quota_ends_at: str = ""  # an operationId: the day's quota is found spent when it is called (each time)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_config(raw: dict[str, Any], current: FaultConfig) -> FaultConfig:
    """Merge `raw` into the current config; an unknown name or an out-of-range rate is a 400 naming it."""
    known = {f.name: f.type for f in fields(FaultConfig)}
    values = current.to_dict()
    for name, value in raw.items():
        if name not in known:
            raise BadRequest(f"unknown fault setting '{name}'; known: {', '.join(sorted(known))}")
        if known[name] in (str, "str"):
            if not isinstance(value, str):
                raise BadRequest(f"fault setting '{name}' must be a string, got {value!r}")
            values[name] = value
        elif name.endswith("_rate"):
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                raise BadRequest(f"fault setting '{name}' must be a number from 0 to 1, got {value!r}")
            values[name] = float(value)
        else:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise BadRequest(f"fault setting '{name}' must be a non-negative integer, got {value!r}")
            values[name] = value
    return FaultConfig(**values)


class Faults:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self._burst_left = 0

    def before_call(self) -> str | None:
        """The fault to inject instead of answering, if any: '429', '500' or '503'."""
        c = self.config
        if self._burst_left > 0:
            self._burst_left -= 1
            return "429"
        if c.burst_429_rate and self.rng.random() < c.burst_429_rate:
            self._burst_left = max(0, c.burst_429_length - 1)
            return "429"
        if c.error_500_rate and self.rng.random() < c.error_500_rate:
            return "500"
        if c.error_503_rate and self.rng.random() < c.error_503_rate:
            return "503"
        return None

    def write_applied_error(self) -> bool:
        """After a write succeeded: answer 503 anyway? Drawn only for writes, so reads are never affected."""
        rate = self.config.write_applied_error_rate
        return bool(rate) and self.rng.random() < rate

    def latency_seconds(self) -> float:
        c = self.config
        if c.latency_ms and c.latency_rate and self.rng.random() < c.latency_rate:
            return c.latency_ms / 1000
        return 0.0

    def truncate(self) -> bool:
        return bool(self.config.truncate_rate) and self.rng.random() < self.config.truncate_rate

    def corrupt(self, records: list[dict[str, Any]]) -> int:
        """Damage some records in place (wrong type or a missing field); returns how many."""
        rate = self.config.bad_record_rate
        if not rate:
            return 0
        damaged = 0
        for record in records:
            if self.rng.random() >= rate:
                continue
            damaged += 1
            numeric = [k for k, v in record.items() if isinstance(v, int) and not isinstance(v, bool)]
            if numeric and self.rng.random() < 0.5:
                key = self.rng.choice(numeric)
                record[key] = f"not-a-number-{record[key]}"
            else:
                key = self.rng.choice(sorted(record))
                del record[key]
        return damaged
