"""The emulator's state: Etsy's entities as compact Python objects.

Money is kept in minor units with the shop's divisor, exactly as Etsy stores it; rendering to Etsy's JSON
shapes happens in `render.py`. Objects use __slots__ because the large scale holds half a million receipts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAYMENT_ID_OFFSET = 5_000_000_000  # a receipt's Payment has id receipt_id + this offset
FIRST_ADJUSTMENT_ID = 100_000_000_000  # adjustment ids have their own counter, so adding one moves no other id


@dataclass(slots=True)
class Currency:
    code: str
    divisor: int


@dataclass(slots=True)
class User:
    user_id: int
    email: str
    first_name: str
    last_name: str
    is_seller: bool = False


@dataclass(slots=True)
class Section:
    shop_section_id: int
    title: str
    rank: int


@dataclass(slots=True)
class Shop:
    shop_id: int
    user_id: int
    shop_name: str
    title: str
    currency: Currency
    created: int
    updated: int
    country_iso: str
    announcement: str
    sections: list[Section] = field(default_factory=list)
    num_favorers: int = 0
    low_stock_policy: int = 0
    shipping_profiles: dict[int, bool] = field(default_factory=dict)  # id -> complete (activation needs one)
    return_policies: list[int] = field(default_factory=list)
    production_partners: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (name, location)


@dataclass(slots=True)
class PropertyValue:
    property_id: int
    property_name: str
    value_id: int
    value: str


@dataclass(slots=True)
class Offering:
    offering_id: int
    price: int  # minor units
    quantity: int
    is_enabled: bool = True
    readiness_state_id: int | None = None


@dataclass(slots=True)
class Product:
    product_id: int
    sku: str
    property_values: list[PropertyValue]
    offering: Offering


@dataclass(slots=True)
class Inventory:
    products: list[Product]
    price_on_property: list[int]
    quantity_on_property: list[int]
    sku_on_property: list[int]
    readiness_state_on_property: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Image:
    listing_image_id: int
    rank: int
    created: int
    width: int
    height: int
    hex_code: str
    alt_text: str | None


@dataclass(slots=True)
class Video:
    video_id: int
    width: int
    height: int


@dataclass(slots=True)
class Listing:
    listing_id: int
    shop_id: int
    user_id: int
    title: str
    description: str
    state: str
    created: int
    updated: int
    state_timestamp: int
    tags: list[str]
    materials: list[str]
    taxonomy_id: int
    shop_section_id: int | None
    listing_type: str
    who_made: str
    when_made: str
    is_supply: bool
    processing_min: int
    processing_max: int
    num_favorers: int
    views: int  # Etsy's lifetime counter, tabulated once a (simulated) day
    pending_views: int  # views that happened since the last tabulation
    inventory: Inventory
    images: list[Image]
    videos: list[Video]
    readiness_state_id: int | None = None
    # What updateListing can set beyond the basics; defaults are what a new physical listing has on Etsy.
    shipping_profile_id: int | None = None
    return_policy_id: int | None = None
    should_auto_renew: bool = True
    is_taxable: bool = True
    is_personalizable: bool = False
    featured_rank: int | None = None
    item_weight: float | None = None
    item_length: float | None = None
    item_width: float | None = None
    item_height: float | None = None
    item_weight_unit: str | None = None
    item_dimensions_unit: str | None = None
    production_partner_ids: list[int] = field(default_factory=list)
    has_file: bool = False  # a digital listing that is not made to order needs a file to be active

    @property
    def quantity(self) -> int:
        return sum(p.offering.quantity for p in self.inventory.products if p.offering.is_enabled)

    @property
    def price(self) -> int:
        prices = [p.offering.price for p in self.inventory.products if p.offering.is_enabled]
        return min(prices) if prices else 0

    @property
    def has_variations(self) -> bool:
        return any(p.property_values for p in self.inventory.products)


@dataclass(slots=True)
class Transaction:
    transaction_id: int
    listing_id: int
    product_id: int
    sku: str
    title: str
    quantity: int
    price: int  # unit price, minor units
    shipping_cost: int
    property_values: list[PropertyValue]
    created: int
    paid: int | None
    shipped: int | None
    image_id: int | None
    shop_coupon: float = 0.0


@dataclass(slots=True)
class Shipment:
    receipt_shipping_id: int
    created: int
    carrier_name: str
    tracking_code: str


@dataclass(slots=True)
class Refund:
    amount: int
    created: int
    reason: str
    note: str | None


@dataclass(slots=True, frozen=True)
class Adjustment:
    """A PaymentAdjustment: money given back to the buyer on a receipt's Payment (a refund or a cancellation).

    Frozen because the ledger entry that refers to it embeds it, and ledger entries never change.
    """

    payment_adjustment_id: int
    payment_id: int
    user_id: int  # the seller
    amount: int  # minor units of the shop's currency
    created: int
    reason_code: str


@dataclass(slots=True)
class Address:
    name: str
    first_line: str
    second_line: str | None
    city: str
    state: str | None
    zip: str
    country_iso: str


@dataclass(slots=True)
class Receipt:
    receipt_id: int
    shop_id: int
    buyer_user_id: int
    created: int
    updated: int
    status: str
    is_paid: bool
    is_shipped: bool
    is_delivered: bool
    payment_method: str
    address: Address
    transactions: list[Transaction]
    shipping: int
    tax: int
    discount: int
    gift_wrap: int = 0
    is_gift: bool = False
    gift_message: str = ""
    message_from_buyer: str | None = None
    shipments: list[Shipment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    buyer_currency: str | None = None
    # A tuple, not a list: most receipts have none, and the large scale holds half a million receipts.
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def total_price(self) -> int:
        return sum(t.price * t.quantity for t in self.transactions)

    @property
    def subtotal(self) -> int:
        return self.total_price - self.discount

    @property
    def grandtotal(self) -> int:
        return self.subtotal + self.tax + self.shipping + self.gift_wrap

    @property
    def refunded(self) -> int:
        """What `refunds[]` says was refunded (a cancellation is not listed there; see payments.py)."""
        return sum(r.amount for r in self.refunds)

    @property
    def adjusted(self) -> int:
        """What the Payment's adjustments gave back: refunds and cancellations."""
        return sum(a.amount for a in self.adjustments)

    @property
    def payment_id(self) -> int:
        return self.receipt_id + PAYMENT_ID_OFFSET

    @property
    def is_canceled(self) -> bool:
        return self.status == "canceled"


@dataclass(slots=True)
class Review:
    shop_id: int
    listing_id: int
    transaction_id: int
    buyer_user_id: int | None
    rating: int
    review: str
    language: str
    created: int


@dataclass(slots=True)
class LedgerEntry:
    """One line of a shop's payment account; like Etsy's, it never changes once written (not frozen only
    because a frozen dataclass is slower to build, and the large scale builds a million of them)."""

    entry_id: int
    ledger_id: int
    sequence_number: int
    amount: int
    currency: str
    description: str
    balance: int
    created: int
    ledger_type: str
    reference_type: str
    reference_id: str | None
    payment_id: int | None = None  # the Payment the entry is about, directly or through its adjustment
    adjustment: Adjustment | None = None


@dataclass(slots=True)
class World:
    """Everything the emulator serves, plus id counters for what `advance` and writes create."""

    users: dict[int, User]
    shops: dict[int, Shop]
    listings: dict[int, Listing]
    receipts: dict[int, Receipt]
    reviews: list[Review]
    ledger: dict[int, list[LedgerEntry]]  # by shop
    next_id: int
    buyers: list[int]
    buyer_events: list[int] = field(default_factory=list)  # one entry per order: repeat buyers weigh more
    next_adjustment_id: int = FIRST_ADJUSTMENT_ID

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def new_adjustment_id(self) -> int:
        self.next_adjustment_id += 1
        return self.next_adjustment_id
