"""Buyer personal data never reaches the database in clear text.

Before a receipt is loaded (or quarantined), its name, address, e-mails and free-text messages are removed
and replaced by Fernet ciphertext (text columns in `etsy_raw`, copied as-is into `core.orders`). Without a
cipher the fields are dropped. The country stays readable: analytics needs it and it identifies nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

ADDRESS_FIELDS = ("name", "first_line", "second_line", "city", "state", "zip", "formatted_address", "payment_email")
MESSAGE_FIELDS = ("message_from_buyer", "gift_message", "gift_sender")

Encrypt = Callable[[str], str]


def protect_receipt(record: Any, encrypt: Encrypt | None) -> Any:
    if not isinstance(record, dict):
        return record
    address = {k: record.pop(k, None) for k in ADDRESS_FIELDS}
    messages = {k: record.pop(k, None) for k in MESSAGE_FIELDS}
    email = record.pop("buyer_email", None)
    if encrypt is None:
        return record
    name = address.get("name")
    record["buyer_name_encrypted"] = encrypt(name) if isinstance(name, str) and name else None
    record["buyer_email_encrypted"] = encrypt(email) if isinstance(email, str) and email else None
    if any(address.values()):
        record["shipping_address_encrypted"] = encrypt(orjson.dumps(address).decode())
    if any(messages.values()):
        record["buyer_messages_encrypted"] = encrypt(orjson.dumps(messages).decode())
    return record
