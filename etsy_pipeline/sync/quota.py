"""`etsy-pipeline quota`: what the local count says about today's Etsy calls, and a way to forget it.

The local count is an estimate shared by every process through Redis; Etsy's `x-remaining-today` is the truth
(a run asks Etsy once when the local count says the day is spent). Resetting is for operators who know the count
is stale, e.g. after moving to a new app key.
"""

from __future__ import annotations

import json

from rich.console import Console

from etsy_pipeline.settings import Settings
from etsy_pipeline.sync.clients import build_limiter


def quota_command(settings: Settings, console: Console, *, reset: bool, as_json: bool) -> int:
    limiter = build_limiter(settings, reserve=settings.etsy_push_reserve)
    if reset:
        limiter.reset()
    used = limiter.used_today()
    figures = {
        "per_day": settings.etsy_qpd,
        "per_second": settings.etsy_qps,
        "used_last_24h": used,
        "reserved_for_push": limiter.reserve,
        "left_for_pull": max(0, limiter.budget - used) if settings.etsy_qpd else None,
        "left_for_push": max(0, settings.etsy_qpd - used) if settings.etsy_qpd else None,
        "shared": limiter.shared,
        "reset": reset,
    }
    if as_json:
        console.print_json(json.dumps(figures))
        return 0
    if reset:
        console.print("local count of Etsy calls forgotten")
    if not settings.etsy_qpd:
        console.print(f"{used:,} call(s) in the last 24 hours; no daily limit configured (ETSY_QPD=0)")
        return 0
    console.print(
        f"{used:,} of {settings.etsy_qpd:,} calls used in the last 24 hours "
        f"({figures['left_for_pull']:,} left for pulls, {limiter.reserve:,} kept for push)"
        + ("" if limiter.shared else "; counted by this process only (no Redis)")
    )
    return 0
