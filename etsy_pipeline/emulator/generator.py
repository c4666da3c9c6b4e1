"""Deterministic data for the emulator: the same seed and scale always give the same shops, listings, orders.

Shaped to exercise a pipeline the way real shops do: seasonality (November and December peaks), a long tail of
listing popularity, repeat buyers (so customer segments mean something), several currencies and divisors
(USD and EUR in cents, JPY in whole yen), unicode text, gifts, coupons, refunds, cancellations, reviews, and
a payment ledger (see payments.py).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from etsy_pipeline.emulator import carriers, payments
from etsy_pipeline.emulator.models import (
    Address,
    Currency,
    Image,
    Inventory,
    Listing,
    Offering,
    Product,
    PropertyValue,
    Receipt,
    Review,
    Section,
    Shipment,
    Shop,
    Transaction,
    User,
    Video,
    World,
)

DAY = 86_400
EPOCH = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())  # the simulated "now" at reset


@dataclass(frozen=True)
class Scale:
    shops: int
    listings: int  # per shop
    receipts: int  # per shop
    days: int  # history length


SCALES = {
    "tiny": Scale(shops=2, listings=40, receipts=300, days=120),
    "small": Scale(shops=1, listings=200, receipts=2_000, days=365),
    "medium": Scale(shops=3, listings=700, receipts=17_000, days=540),
    "large": Scale(shops=1, listings=10_000, receipts=520_000, days=730),
}

CURRENCIES = [Currency("USD", 100), Currency("EUR", 100), Currency("JPY", 1), Currency("GBP", 100)]
# Major-unit multiplier per currency, so a JPY price is about 150 times its USD price.
PRICE_FACTOR = {"USD": 1.0, "EUR": 0.95, "JPY": 150.0, "GBP": 0.8}

ADJECTIVES = [
    "Handmade",
    "Rustic",
    "Minimal",
    "Vintage",
    "Boho",
    "Nordic",
    "Personalised",
    "Tiny",
    "Crème",
    "Großartig",
    "Café",
    "Cozy",
    "Hand-thrown",
    "Étoile",
    "Sakura 桜",
    "Golden",
]
NOUNS = [
    "Mug",
    "Necklace",
    "Tea Towel",
    "Candle",
    "Print",
    "Ring",
    "Planter",
    "Tote Bag",
    "Quilt",
    "Bowl",
    "Earrings",
    "Notebook",
    "Scarf",
    "Coaster Set",
    "Wall Hanging",
    "Vase",
]
MATERIALS = ["ceramic", "linen", "sterling silver", "beeswax", "cotton", "oak", "brass", "wool", "paper", "glass"]
COLORS = ["Red", "Blue", "Sage", "Ochre", "Black", "White", "Rosé"]
SIZES = ["S", "M", "L", "XL"]
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emi", "Farah", "Gustav", "Hana", "Ines", "Jonas", "Kai", "Lena", "Zoë"]
LAST = ["Smith", "García", "Müller", "Tanaka", "Dubois", "Rossi", "Kowalski", "Andersson", "O'Neil", "Nguyen"]
CITIES: list[tuple[str, str | None, str, str]] = [
    ("Portland", "OR", "97201", "US"),
    ("Austin", "TX", "73301", "US"),
    ("Berlin", None, "10115", "DE"),
    ("Lyon", None, "69001", "FR"),
    ("Osaka", None, "530-0001", "JP"),
    ("Leeds", None, "LS1 1AA", "GB"),
    ("Toronto", "ON", "M5H 2N2", "CA"),
]
CARRIERS = [*(c.name.lower() for c in carriers.CARRIERS), "other"]  # as a seller would type them
REVIEW_TEXTS = [
    "Beautiful, exactly as pictured!",
    "Arrived quickly, lovely packaging.",
    "Très joli, merci !",
    "Good quality but smaller than I expected.",
    "Wunderschön ❤",
    "Perfect gift.",
]


def _season_weights(start: int, days: int) -> list[float]:
    weights = []
    for d in range(days):
        moment = datetime.fromtimestamp(start + d * DAY, tz=UTC)
        peak = {11: 1.8, 12: 2.2, 2: 1.2}.get(moment.month, 1.0)  # holidays, Valentine's
        weekly = 1.15 if moment.weekday() in (5, 6) else 1.0
        growth = 1.0 + 0.5 * d / max(days, 1)
        weights.append(peak * weekly * growth)
    return weights


class Generator:
    def __init__(self, seed: int | str, scale: str, world: World | None = None) -> None:
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
        self.rng = random.Random(seed)
        self.scale = SCALES[scale]
        self.world = world or World(
            users={}, shops={}, listings={}, receipts={}, reviews=[], ledger={}, next_id=10_000_000, buyers=[]
        )

    # -- helpers -------------------------------------------------------------------------------------------------

    def money(self, major_usd: float, currency: Currency) -> int:
        value = major_usd * PRICE_FACTOR[currency.code]
        if currency.divisor == 1:
            return max(1, round(value / 10) * 10)
        return max(1, round(value * currency.divisor / 5) * 5 - 1)  # prices like 24.99

    def buyer(self) -> int:
        """A returning buyer (more orders, more likely to order again) or a new one."""
        events = self.world.buyer_events
        if events and self.rng.random() < 0.32:
            buyer = self.rng.choice(events)
        else:
            buyer = 600_000_000 + len(self.world.buyers) + 1
            self.world.buyers.append(buyer)
        events.append(buyer)
        return buyer

    def address(self) -> Address:
        city, state, zip_, country = self.rng.choice(CITIES)
        name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        street = f"{self.rng.randint(1, 999)} {self.rng.choice(['Oak', 'Main', 'Rue de la Paix', 'Hauptstraße'])}"
        second = f"Apt {self.rng.randint(1, 40)}" if self.rng.random() < 0.2 else None
        return Address(name, street, second, city, state, zip_, country)

    # -- shops and listings ----------------------------------------------------------------------------------------

    def make_shop(self, index: int) -> Shop:
        user_id = 50_000_000 + index + 1
        currency = CURRENCIES[index % len(CURRENCIES)]
        first, last = FIRST[index % len(FIRST)], LAST[index % len(LAST)]
        self.world.users[user_id] = User(user_id, f"seller{index + 1}@example.com", first, last, is_seller=True)
        created = EPOCH - (self.scale.days + 200) * DAY
        shop = Shop(
            shop_id=30_000_000 + index + 1,
            user_id=user_id,
            shop_name=f"StudioNo{index + 1}{['Clay', 'Loom', 'Forge', 'Paper'][index % 4]}",
            title=f"Small-batch goods by {first} ✨",
            currency=currency,
            created=created,
            updated=EPOCH - DAY,
            country_iso=["US", "DE", "JP", "GB"][index % 4],
            announcement="Free shipping on orders over 35 — Versand kostenlos ab 35",
            num_favorers=self.rng.randint(50, 5000),
        )
        # One complete shipping profile (what listings use) and one left unfinished, as a seller may have.
        shop.shipping_profiles = {shop.shop_id + 7: True, shop.shop_id + 8: False}
        shop.return_policies = [shop.shop_id + 9]
        shop.production_partners = {shop.shop_id + 11: ("Riverside Print Co.", "Portland, OR")}
        shop.sections = [
            Section(self.world.new_id(), title, rank)
            for rank, title in enumerate(["Bestsellers", "New in", "Gifts", "Sale", "Home"][: self.rng.randint(3, 5)])
        ]
        self.world.shops[shop.shop_id] = shop
        self.world.ledger[shop.shop_id] = []
        return shop

    def make_inventory(self, base_price: int, vary: bool) -> Inventory:
        products: list[Product] = []
        if not vary:
            offering = Offering(self.world.new_id(), base_price, self.rng.randint(0, 40))
            products.append(Product(self.world.new_id(), f"SKU-{self.world.next_id}", [], offering))
            return Inventory(products, [], [], [])
        colors = self.rng.sample(COLORS, self.rng.randint(2, 3))
        sizes: list[str | None] = (
            list(self.rng.sample(SIZES, self.rng.randint(1, 3))) if self.rng.random() < 0.5 else []
        )
        for color in colors:
            for size in sizes or [None]:
                values = [PropertyValue(513, "Color", 1000 + COLORS.index(color), color)]
                price = base_price
                if size is not None:
                    values.append(PropertyValue(514, "Size", 2000 + SIZES.index(size), size))
                    price = base_price + SIZES.index(size) * max(1, base_price // 10)
                offering = Offering(self.world.new_id(), price, self.rng.randint(0, 25))
                sku = f"{color[:3].upper()}-{size or 'OS'}-{self.world.next_id}"
                products.append(Product(self.world.new_id(), sku, values, offering))
        on_property = [513, 514] if sizes else [513]
        return Inventory(products, on_property if sizes else [], on_property, on_property)

    def make_listing(self, shop: Shop) -> Listing:
        rng = self.rng
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} — {rng.choice(MATERIALS)}"
        created = shop.created + rng.randint(0, (EPOCH - shop.created) - DAY)
        state = rng.choices(["active", "inactive", "sold_out", "draft", "expired"], [80, 5, 5, 5, 5])[0]
        inventory = self.make_inventory(self.money(rng.uniform(8, 120), shop.currency), rng.random() < 0.4)
        if state == "sold_out":
            for product in inventory.products:
                product.offering.quantity = 0
        images = [
            Image(
                self.world.new_id(),
                rank,
                created,
                1500,
                1200,
                f"{rng.randrange(0xFFFFFF):06X}",
                None if rank > 1 else title[:30],
            )
            for rank in range(1, rng.randint(1, 5) + 1)
        ]
        videos = [Video(self.world.new_id(), 1080, 1920)] if rng.random() < 0.1 else []
        listing = Listing(
            listing_id=1_000_000_000 + len(self.world.listings) + 1,
            shop_id=shop.shop_id,
            user_id=shop.user_id,
            title=title,
            description=f"{title}. Made by hand in small batches.\n\nCare: wipe clean. ✨",
            state=state,
            created=created,
            updated=created + rng.randint(0, max(1, EPOCH - created - 1)),
            state_timestamp=created,
            tags=rng.sample(
                [
                    "gift",
                    "handmade",
                    "home decor",
                    "for her",
                    "minimal",
                    "boho",
                    "kitchen",
                    "jewelry",
                    "wedding",
                    "birthday",
                ],
                4,
            ),
            materials=rng.sample(MATERIALS, 2),
            taxonomy_id=rng.choice([1, 68, 1027, 1633, 2078]),
            shop_section_id=rng.choice(shop.sections).shop_section_id if rng.random() < 0.7 else None,
            listing_type="physical" if rng.random() < 0.95 else "download",
            who_made=rng.choice(["i_did", "collective", "someone_else"]),
            when_made=rng.choice(["made_to_order", "2020_2026", "2010_2019"]),
            is_supply=False,
            processing_min=1,
            processing_max=rng.randint(2, 7),
            num_favorers=int(rng.paretovariate(1.5) * 3),
            views=0,
            pending_views=0,
            inventory=inventory,
            images=images,
            videos=videos,
        )
        listing.views = listing.num_favorers * rng.randint(8, 30) if state == "active" else 0
        digital = listing.listing_type == "download"
        listing.shipping_profile_id = None if digital else shop.shop_id + 7
        listing.return_policy_id = shop.shop_id + 9
        listing.has_file = digital
        self.world.listings[listing.listing_id] = listing
        return listing

    # -- orders ------------------------------------------------------------------------------------------------------

    def make_receipt(
        self, shop: Shop, listings: list[Listing], weights: list[float], created: int, now: int
    ) -> Receipt:
        """One order; `weights` are cumulative listing popularities."""
        rng = self.rng
        buyer = self.buyer()
        receipt_id = 2_000_000_000 + len(self.world.receipts) + 1
        transactions = []
        for listing in rng.choices(listings, cum_weights=weights, k=rng.choices([1, 2, 3], [75, 20, 5])[0]):
            product = rng.choice(listing.inventory.products)
            transactions.append(
                Transaction(
                    transaction_id=3_000_000_000 + self.world.next_id,
                    listing_id=listing.listing_id,
                    product_id=product.product_id,
                    sku=product.sku,
                    title=listing.title,
                    quantity=rng.choices([1, 2, 3], [85, 12, 3])[0],
                    price=product.offering.price,
                    shipping_cost=0,
                    property_values=list(product.property_values),
                    created=created,
                    paid=created,
                    shipped=None,
                    image_id=listing.images[0].listing_image_id if listing.images else None,
                )
            )
            self.world.next_id += 1
        address = self.address()
        shipping = 0 if rng.random() < 0.4 else self.money(rng.choice([4.5, 6.0, 12.0]), shop.currency) + 1
        receipt = Receipt(
            receipt_id=receipt_id,
            shop_id=shop.shop_id,
            buyer_user_id=buyer,
            created=created,
            updated=created,
            status="paid",
            is_paid=True,
            is_shipped=False,
            is_delivered=False,
            payment_method=rng.choices(["cc", "paypal", "apple_pay", "klarna"], [70, 20, 8, 2])[0],
            address=address,
            transactions=transactions,
            shipping=shipping,
            tax=0,
            discount=0,
        )
        if rng.random() < 0.12:  # a coupon
            receipt.discount = receipt.total_price // 10
            transactions[0].shop_coupon = receipt.discount / shop.currency.divisor
        if address.country_iso == "US" and shop.country_iso == "US":
            receipt.tax = round(receipt.subtotal * 0.07)
        if rng.random() < 0.05:
            receipt.is_gift = True
            receipt.gift_message = rng.choice(["Happy birthday! 🎂", "Joyeux Noël", "Alles Gute"])
        if rng.random() < 0.1:
            receipt.message_from_buyer = "Could you gift-wrap it? Merci!"
        self.age(receipt, now)
        self.world.receipts[receipt_id] = receipt
        return receipt

    def age(self, receipt: Receipt, now: int) -> None:
        """Move a receipt through paid → shipped → delivered, cancellations and refunds, by its age."""
        rng = self.rng
        age = now - receipt.created
        roll = rng.random()
        if roll < 0.02 and age > DAY:
            receipt.updated = receipt.created + rng.randint(600, DAY)
            payments.cancel(self.world, receipt, receipt.updated)
            return
        if age > 2 * DAY or (age > DAY // 2 and rng.random() < 0.5):
            shipped = receipt.created + rng.randint(DAY // 4, min(age, 3 * DAY))
            self.ship(receipt, shipped, rng.choice(CARRIERS), f"TRK{rng.randrange(10**11):011d}")
            if now - shipped > 6 * DAY:
                receipt.is_delivered = True
        if receipt.is_shipped and age > 10 * DAY and roll > 0.94:
            full = roll > 0.97
            amount = receipt.grandtotal if full else max(1, receipt.subtotal // 4)
            when = receipt.updated + rng.randint(DAY, 20 * DAY)
            if when < now:
                # Etsy does not bump updated_timestamp for refunds: `updated` stays where it was.
                payments.refund(self.world, receipt, amount, when)

    def ship(self, receipt: Receipt, when: int, carrier: str, tracking: str) -> Shipment:
        shipment = Shipment(self.world.new_id(), when, carrier, tracking)
        receipt.shipments.append(shipment)
        receipt.is_shipped = True
        if receipt.status == "paid":
            receipt.status = "completed"
        receipt.updated = max(receipt.updated, when)
        for transaction in receipt.transactions:
            transaction.shipped = when
        return shipment

    def maybe_review(self, receipt: Receipt, now: int) -> None:
        if not receipt.is_delivered or self.rng.random() > 0.35:
            return
        created = receipt.updated + self.rng.randint(2 * DAY, 20 * DAY)
        if created >= now:
            return
        transaction = receipt.transactions[0]
        rating = self.rng.choices([5, 4, 3, 2, 1], [70, 18, 7, 3, 2])[0]
        self.world.reviews.append(
            Review(
                shop_id=receipt.shop_id,
                listing_id=transaction.listing_id,
                transaction_id=transaction.transaction_id,
                buyer_user_id=receipt.buyer_user_id if self.rng.random() < 0.9 else None,
                rating=rating,
                review=self.rng.choice(REVIEW_TEXTS),
                language="en",
                created=created,
            )
        )

    def generate(self) -> World:
        for index in range(self.scale.shops):
            shop = self.make_shop(index)
            listings = [self.make_listing(shop) for _ in range(self.scale.listings)]
            sellable = [item for item in listings if item.state in ("active", "sold_out", "expired")]
            popularity = list(itertools.accumulate(self.rng.paretovariate(1.2) for _ in sellable))
            start = EPOCH - self.scale.days * DAY
            days = self.rng.choices(
                range(self.scale.days), _season_weights(start, self.scale.days), k=self.scale.receipts
            )
            for day in sorted(days):
                created = start + day * DAY + self.rng.randrange(DAY)
                receipt = self.make_receipt(shop, sellable, popularity, created, EPOCH)
                self.maybe_review(receipt, EPOCH)
            build_ledger(self.world, shop)
        self.world.reviews.sort(key=lambda r: r.created)
        return self.world


def build_ledger(world: World, shop: Shop) -> None:
    """The shop's payment account for the generated history: every sale, its fee, and every adjustment."""
    events: list[payments.Event] = []
    for receipt in world.receipts.values():
        if receipt.shop_id != shop.shop_id:
            continue
        if receipt.is_paid or receipt.adjustments:  # a canceled order was paid, then given back
            events.extend(payments.sale_events(receipt, shop.currency.divisor))
        events.extend(payments.adjustment_event(a) for a in receipt.adjustments)
    payments.post(world, shop.shop_id, events)


def generate(seed: int, scale: str) -> World:
    """The world for a seed and scale (`tiny`, `small`, `medium` or `large`)."""
    return Generator(seed, scale).generate()
