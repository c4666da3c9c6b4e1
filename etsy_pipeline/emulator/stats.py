"""What the client really did, for tests and benchmarks to check: calls, 429s, faults, shipments and buyer
e-mails per receipt, writes per listing and receipt. A write answered by an injected `write_applied` 503 was
applied, so it is counted: that is how a test sees a client's blind retry duplicate a shipment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)  # per_second / daily / injected
    faults: Counter[str] = field(default_factory=Counter)
    shipments_created: Counter[int] = field(default_factory=Counter)  # by receipt
    buyer_emails: Counter[int] = field(default_factory=Counter)  # by receipt
    inventory_writes: Counter[int] = field(default_factory=Counter)  # by listing
    listing_writes: Counter[int] = field(default_factory=Counter)  # updateListing, by listing
    receipt_writes: Counter[int] = field(default_factory=Counter)  # updateShopReceipt, by receipt
    records_served: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "total_calls": sum(self.calls.values()),
            "rate_limited": dict(self.rate_limited),
            "faults": dict(self.faults),
            "shipments_created": {str(k): v for k, v in self.shipments_created.items()},
            "buyer_emails": {str(k): v for k, v in self.buyer_emails.items()},
            "inventory_writes": {str(k): v for k, v in self.inventory_writes.items()},
            "listing_writes": {str(k): v for k, v in self.listing_writes.items()},
            "receipt_writes": {str(k): v for k, v in self.receipt_writes.items()},
            "records_served": dict(self.records_served),
        }
