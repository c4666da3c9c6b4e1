"""What a pusher of one object needs: the Etsy client and the shop owner's tokens, the database, and the
outcome vocabulary it reports back in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.etsy.client import EtsyClient
from etsy_pipeline.push.claims import Claimed, Outcome
from etsy_pipeline.storage.database import Database

# How many times one run sends a write whose outcome stayed unknown (each send follows a read-back).
SENDS_PER_RUN = 3


class OutcomeStillUnknown(Exception):
    """Every send of this run ended without an answer and Etsy does not show the change: retry later."""


@dataclass
class ShopContext:
    """One shop's push: Etsy ids and the owner's tokens."""

    db: Database
    client: EtsyClient
    tokens: TokenManager
    shop_id: int  # core.shops.id
    etsy_shop_id: int
    user_id: int
    runner: str = ""  # the claiming runner: only its own changes are touched


@dataclass
class Decided:
    """What a pusher decided: outcomes per change, and the core update to make in the same transaction."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    core_update: Callable[[Session], None] | None = None

    def all(self, changes: list[Claimed], outcome: Outcome) -> Decided:
        for change in changes:
            self.outcomes.setdefault(change.id, outcome)
        return self
