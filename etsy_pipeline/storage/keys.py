"""Encryption key rotation for everything encrypted at rest (tokens and buyer personal data).

Procedure: put the new key first in TOKEN_ENCRYPTION_KEY and keep the old ones after it, run
`etsy-pipeline keys rotate`, then remove the old keys. Rows are rewritten in batches, each batch in its own
transaction, so a large table never holds one long lock and an interrupted rotation can simply be re-run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from etsy_pipeline.storage.crypto import Cipher
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Customer, OAuthToken, Order

ENCRYPTED_COLUMNS: dict[type, tuple[str, ...]] = {
    OAuthToken: ("access_token_encrypted", "refresh_token_encrypted"),
    Order: ("buyer_name_encrypted", "buyer_email_encrypted", "shipping_address_encrypted"),
    Customer: ("name_encrypted", "email_encrypted"),
}


def rotate_keys(db: Database, cipher: Cipher, batch_size: int = 1000) -> dict[str, int]:
    """Re-encrypt every encrypted value under the primary key; returns rows rewritten per table."""
    counts: dict[str, int] = {}
    for model, columns in ENCRYPTED_COLUMNS.items():
        table = model.__tablename__  # type: ignore[attr-defined]
        counts[table] = 0
        last_id = 0
        while True:
            with db.session() as session:
                rows: list[Any] = list(
                    session.scalars(
                        select(model)
                        .where(model.id > last_id)  # type: ignore[attr-defined]
                        .order_by(model.id)  # type: ignore[attr-defined]
                        .limit(batch_size)
                        .with_for_update()
                    )
                )
                for row in rows:
                    for column in columns:
                        value = getattr(row, column)
                        if value is not None:
                            setattr(row, column, cipher.rotate(value))
                    counts[table] += 1
            if len(rows) < batch_size:
                break
            last_id = rows[-1].id
    return counts
