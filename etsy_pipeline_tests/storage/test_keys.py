"""`keys rotate` on buyer data written by hand: every encrypted value of orders and customers ends under the new
key with the same plaintext, across several batches, and a rotation can be run again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from etsy_pipeline.storage.crypto import Cipher, EncryptionError, generate_key
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.keys import rotate_keys
from etsy_pipeline.storage.models import Customer, Order
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline_tests.factories import add_customers, add_orders, user_with_shop

Plain = dict[int, tuple[str | None, ...]]


def _buyer_data(db: Database, cipher: Cipher, shop_id: int) -> tuple[Plain, Plain]:
    """Seven orders and five customers with distinct encrypted values (some left empty, as Etsy leaves e-mail)."""
    orders: Plain = {}
    for n, order_id in enumerate(add_orders(db, shop_id, 7)):
        values = (f"Buyer {n}", f"b{n}@example.com" if n % 2 else None, f'{{"first_line": "{n} High St"}}')
        orders[order_id] = values
        with db.engine.begin() as conn:
            conn.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(
                    buyer_name_encrypted=cipher.encrypt(values[0]),
                    buyer_email_encrypted=cipher.encrypt(values[1]) if values[1] else None,
                    shipping_address_encrypted=cipher.encrypt(values[2]),
                )
            )
    add_customers(db, shop_id, [Decimal(n) for n in range(5)])
    customers: Plain = {}
    with db.engine.begin() as conn:
        for n, customer_id in enumerate(conn.scalars(select(Customer.id).order_by(Customer.id))):
            customers[customer_id] = (f"Customer {n}", None)
            conn.execute(
                update(Customer)
                .where(Customer.id == customer_id)
                .values(name_encrypted=cipher.encrypt(f"Customer {n}"))
            )
    return orders, customers


def _read(db: Database, cipher: Cipher) -> tuple[Plain, Plain]:
    def plain(value: bytes | None) -> str | None:
        return None if value is None else cipher.decrypt(value)

    with db.session() as session:
        orders: Plain = {
            o.id: (plain(o.buyer_name_encrypted), plain(o.buyer_email_encrypted), plain(o.shipping_address_encrypted))
            for o in session.scalars(select(Order))
        }
        customers: Plain = {
            c.id: (plain(c.name_encrypted), plain(c.email_encrypted)) for c in session.scalars(select(Customer))
        }
    return orders, customers


def test_rotation_puts_every_buyer_value_under_the_new_key(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "keys@example.com")
    old, new = generate_key(), generate_key()
    written = _buyer_data(db, Cipher(old), shop.id)
    counts = rotate_keys(db, Cipher(f"{new},{old}"), batch_size=3)  # several batches per table
    assert (counts["orders"], counts["customers"]) == (7, 5)
    assert _read(db, Cipher(new)) == written
    with pytest.raises(EncryptionError):
        _read(db, Cipher(old))
    rotate_keys(db, Cipher(f"{new},{old}"), batch_size=3)  # an interrupted rotation is simply run again
    assert _read(db, Cipher(new)) == written


def test_rotation_without_the_old_key_fails_and_names_no_secret(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "keys@example.com")
    old, new = generate_key(), generate_key()
    _buyer_data(db, Cipher(old), shop.id)
    with pytest.raises(EncryptionError) as raised:
        rotate_keys(db, Cipher(new))
    assert old not in str(raised.value) and new not in str(raised.value) and "Buyer" not in str(raised.value)
    assert _read(db, Cipher(old))[0]  # nothing was half-rewritten out of reach of the old key
