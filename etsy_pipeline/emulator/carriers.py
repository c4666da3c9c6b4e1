"""The shipping carriers `getShippingCarriers` lists, and which names `createReceiptShipment` takes.

One table for both, so a client that reads the carriers and sends one of their names back ("Royal Mail",
"royal mail", any case) is accepted, as is `other` for a carrier Etsy does not support; anything else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Carrier:
    shipping_carrier_id: int
    name: str
    domestic_classes: tuple[str, ...]
    international_classes: tuple[str, ...]


CARRIERS = (
    Carrier(1, "USPS", ("first_class", "priority"), ("first_class_international", "priority_international")),
    Carrier(2, "UPS", ("ground", "next_day_air"), ("worldwide_expedited",)),
    Carrier(3, "FedEx", ("ground", "express_saver"), ("international_economy",)),
    Carrier(4, "DHL", (), ("express_worldwide",)),
    Carrier(5, "Royal Mail", ("first_class", "tracked_24"), ("international_tracked",)),
    Carrier(6, "Japan Post", ("yu_pack",), ("ems",)),
)
OTHER = "other"
ACCEPTED = {c.name.casefold() for c in CARRIERS} | {OTHER}


def accepted(name: str) -> bool:
    return name.strip().casefold() in ACCEPTED
