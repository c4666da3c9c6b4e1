"""Record checks before loading: a record that does not fit is quarantined, not loaded and not dropped.

Each entity lists the fields the shaped tables rely on, with the JSON types Etsy documents for them. A wrong
type or a missing required field sends the whole record (as raw JSON) to the `quarantine` table with a message
naming the field and the value; every other record loads.
"""

from __future__ import annotations

from typing import Any

from etsy_pipeline.storage.money import POWERS_OF_TEN, money_problem

INT = (int,)
STR = (str,)
BOOL = (bool,)
NUM = (int, float)
LIST = (list,)
DICT = (dict,)
MONEY = "money"
Spec = dict[str, tuple[Any, bool]]  # field -> (types or MONEY, nullable)

SHOP: Spec = {
    "shop_id": (INT, False),
    "user_id": (INT, False),
    "shop_name": (STR, False),
    "currency_code": (STR, False),
    "created_timestamp": (INT, False),
    "updated_timestamp": (INT, False),
    "listing_active_count": (INT, False),
    "transaction_sold_count": (INT, False),
    "num_favorers": (INT, False),
    "review_count": (INT, True),
    "review_average": (NUM, True),
    "is_vacation": (BOOL, False),
    "title": (STR, True),
    "url": (STR, False),
}
LISTING: Spec = {
    "listing_id": (INT, False),
    "shop_id": (INT, False),
    "title": (STR, False),
    "description": (STR, False),
    "state": (STR, False),
    "created_timestamp": (INT, False),
    "updated_timestamp": (INT, False),
    "quantity": (INT, False),
    "price": (MONEY, False),
    "tags": (LIST, False),
    "materials": (LIST, False),
    "views": (INT, False),
    "num_favorers": (INT, False),
    "has_variations": (BOOL, False),
    "taxonomy_id": (INT, True),
    "shop_section_id": (INT, True),
    "url": (STR, False),
    "images": (LIST, False),
    "inventory": (DICT, True),
}
PRODUCT: Spec = {
    "product_id": (INT, False),
    "sku": (STR, False),
    "offerings": (LIST, False),
    "property_values": (LIST, False),
}
OFFERING: Spec = {
    "offering_id": (INT, False),
    "quantity": (INT, False),
    "is_enabled": (BOOL, False),
    "price": (MONEY, False),
}
IMAGE: Spec = {"listing_image_id": (INT, False), "rank": (INT, False), "url_fullxfull": (STR, False)}
RECEIPT: Spec = {
    "receipt_id": (INT, False),
    "buyer_user_id": (INT, False),
    "status": (STR, False),
    "is_paid": (BOOL, False),
    "is_shipped": (BOOL, False),
    "created_timestamp": (INT, False),
    "updated_timestamp": (INT, False),
    "grandtotal": (MONEY, False),
    "subtotal": (MONEY, False),
    "total_price": (MONEY, False),
    "total_shipping_cost": (MONEY, False),
    "total_tax_cost": (MONEY, False),
    "total_vat_cost": (MONEY, False),
    "discount_amt": (MONEY, False),
    "gift_wrap_price": (MONEY, False),
    "is_gift": (BOOL, False),
    "transactions": (LIST, False),
    "shipments": (LIST, False),
    "refunds": (LIST, False),
    "country_iso": (STR, True),
    "payment_method": (STR, False),
}
TRANSACTION: Spec = {
    "transaction_id": (INT, False),
    "quantity": (INT, False),
    "price": (MONEY, False),
    "shipping_cost": (MONEY, False),
    "listing_id": (INT, True),
    "product_id": (INT, True),
    "sku": (STR, True),
    "created_timestamp": (INT, False),
    "variations": (LIST, False),
}
REFUND: Spec = {"amount": (MONEY, False), "created_timestamp": (INT, False)}
SHIPMENT: Spec = {"shipment_notification_timestamp": (INT, False), "carrier_name": (STR, False)}
REVIEW: Spec = {
    "shop_id": (INT, False),
    "listing_id": (INT, False),
    "transaction_id": (INT, False),
    "rating": (INT, False),
    "created_timestamp": (INT, False),
}
PAYMENT: Spec = {
    "payment_id": (INT, False),
    "receipt_id": (INT, False),
    "amount_gross": (MONEY, False),
    "amount_fees": (MONEY, False),
    "amount_net": (MONEY, False),
    "status": (STR, False),
    "updated_timestamp": (INT, False),
}
LEDGER: Spec = {
    "entry_id": (INT, False),
    "amount": (INT, False),
    "balance": (INT, False),
    "created_timestamp": (INT, False),
    "currency": (STR, False),
}
SECTION: Spec = {"shop_section_id": (INT, False), "title": (STR, False), "rank": (INT, False)}

NESTED: dict[int, dict[str, Spec]] = {
    id(LISTING): {"images": IMAGE},
    id(RECEIPT): {"transactions": TRANSACTION, "refunds": REFUND, "shipments": SHIPMENT},
}


Check = tuple[tuple[str, frozenset[type] | None, bool], ...]  # field, exact types (None: Money), nullable


_CHECKS: dict[int, tuple[Spec, Check]] = {}  # by the spec's id, kept beside the spec so the id stays its own


def _check(spec: Spec) -> Check:
    found = _CHECKS.get(id(spec))
    if found is None or found[0] is not spec:
        check = tuple((name, None if t == MONEY else frozenset(t), nullable) for name, (t, nullable) in spec.items())
        found = _CHECKS[id(spec)] = (spec, check)
    return found[1]


def _plain_money(value: Any) -> bool:
    """Etsy's usual Money object, which `money_problem` accepts (the same test, without building a message)."""
    if type(value) is not dict:
        return False
    currency = value.get("currency_code")
    return (
        type(value.get("amount")) is int
        and type(divisor := value.get("divisor")) is int
        and divisor in POWERS_OF_TEN
        and type(currency) is str
        and len(currency) == 3
        and currency.isalpha()
    )


def fits(record: Any, spec: Spec) -> bool:
    """True when `record` plainly fits `spec`: every field present with exactly a documented JSON type.

    Every record of every page is checked, and nearly all fit: this answers that without building a label or a
    message per field. False means "look closer" (`problems` then names what is wrong, or finds nothing: an int
    subclass, say, which passes `isinstance`).
    """
    if type(record) is not dict:
        return False
    for name, types, nullable in _check(spec):
        value = record.get(name, record)  # the record itself stands for a missing field
        if value is None:
            if not nullable:
                return False
        elif types is None:
            if not _plain_money(value):
                return False
        elif type(value) not in types:
            return False
    for name, child in NESTED.get(id(spec), {}).items():
        items = record.get(name)
        if type(items) is list and not all(fits(item, child) for item in items):
            return False
    if spec is LISTING and record.get("inventory") is not None:
        products = record["inventory"].get("products")
        if type(products) is not list:
            return False
        for product in products:
            if not fits(product, PRODUCT):
                return False
            offerings = product["offerings"]
            if not all(fits(offering, OFFERING) for offering in offerings):
                return False
    return True


def problems(record: Any, spec: Spec, where: str = "") -> list[str]:
    """What is wrong with `record` against `spec`; empty when it fits."""
    if not where and fits(record, spec):
        return []
    if not isinstance(record, dict):
        return [f"{where or 'record'} must be an object, got {type(record).__name__}"]
    found: list[str] = []
    for name, (types, nullable) in spec.items():
        label = f"{where}{name}"
        if name not in record:
            found.append(f"{label} is missing")
            continue
        value = record[name]
        if value is None:
            if not nullable:
                found.append(f"{label} must not be null")
            continue
        if types == MONEY:
            problem = money_problem(label, value)
            if problem:
                found.append(problem)
        elif (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            found.append(f"{label} must be {types[0].__name__}, got {value!r}")
    for name, child in NESTED.get(id(spec), {}).items():
        if isinstance(record.get(name), list):
            for n, item in enumerate(record[name]):
                found += problems(item, child, f"{where}{name}[{n}].")
    if spec is LISTING and isinstance(record.get("inventory"), dict):
        products = record["inventory"].get("products")
        if not isinstance(products, list):
            return [*found, f"inventory.products must be a list, got {products!r}"]
        for n, product in enumerate(products):
            found += problems(product, PRODUCT, f"inventory.products[{n}].")
            offerings = product.get("offerings") if isinstance(product, dict) else None
            for k, offering in enumerate(offerings if isinstance(offerings, list) else []):
                found += problems(offering, OFFERING, f"inventory.products[{n}].offerings[{k}].")
    return found
