"""Encryption key rotation for every copy of every encrypted value (tokens and buyer personal data).

Procedure: put the new key first in TOKEN_ENCRYPTION_KEY and keep the old ones after it, run
`etsy-pipeline keys rotate`, then remove the old keys. A ciphertext lives in more places than `core`: dlt's
`etsy_raw` keeps the receipts as loaded (buyer messages live only there), its `etsy_raw_staging` dataset keeps a
copy of the last merge, and `etsy_raw.quarantine` keeps whole records (with their `*_encrypted` fields) as JSON
text. `etsy_raw` and its quarantine are rewritten; the staging dataset is emptied (dlt refills it at the start of
every merge, so nothing is lost, and a copy under a key nobody has any more cannot block the rotation). Once the
old key is removed nothing depends on it. Run it while no sync is loading (pause the schedules).

`core` rows are rewritten in batches, each in its own transaction, so a large table never holds one long lock.
A raw table is rewritten in one transaction that blocks writers (dlt) meanwhile: its rows have no index to page
by, so the rotated values go to a temporary table and one join writes them back. Either way an interrupted
rotation can simply be re-run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, select, text

from etsy_pipeline.storage.crypto import Cipher, EncryptionError
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Customer, OAuthToken, Order

ENCRYPTED_COLUMNS: dict[type, tuple[str, ...]] = {
    OAuthToken: ("access_token_encrypted", "refresh_token_encrypted"),
    Order: ("buyer_name_encrypted", "buyer_email_encrypted", "shipping_address_encrypted"),
    Customer: ("name_encrypted", "email_encrypted"),
}
RAW_SCHEMA = "etsy_raw"
STAGING_SCHEMA = "etsy_raw_staging"
QUARANTINE = ("quarantine", "raw")  # the table and its column of whole records as JSON text
ENCRYPTED_SUFFIX = "_encrypted"
RAW_ID = "_dlt_id"  # dlt's unique row id, on every table it creates


def rotate_keys(db: Database, cipher: Cipher, batch_size: int = 1000) -> dict[str, int]:
    """Re-encrypt every encrypted value under the primary key; returns rows rewritten per table."""
    counts = _rotate_core(db, cipher, batch_size)
    for table, columns in _raw_columns(db, RAW_SCHEMA).items():
        try:
            counts[f"{RAW_SCHEMA}.{table}"] = _rotate_raw_table(db, cipher, RAW_SCHEMA, table, columns)
        except EncryptionError as exc:  # say where: core is done, this table is left as it was
            raise EncryptionError(f"{RAW_SCHEMA}.{table}: {exc}") from None
    empty_staging(db)
    return counts


def empty_staging(db: Database) -> list[str]:
    """Truncate every table of dlt's staging dataset (the copy of the last merge); returns their names."""
    with db.engine.begin() as conn:
        tables = list(
            conn.execute(
                text("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = :s"),
                {"s": STAGING_SCHEMA},
            ).scalars()
        )
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)}"))
    return tables


def _rotate_core(db: Database, cipher: Cipher, batch_size: int) -> dict[str, int]:
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


def _raw_columns(db: Database, schema: str) -> dict[str, list[str]]:
    """dlt tables of `schema` that hold ciphertext: `*_encrypted*` text columns (variants included), and the
    quarantine's record column."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                "WHERE c.table_schema = :s AND c.data_type IN ('text', 'character varying') "
                "AND (c.column_name LIKE :suffix OR (c.table_name = :q AND c.column_name = :raw)) "
                "AND EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = c.table_schema "
                "AND i.table_name = c.table_name AND i.column_name = :id) ORDER BY 1, 2"
            ),
            {"s": schema, "suffix": f"%{ENCRYPTED_SUFFIX}%", "q": QUARANTINE[0], "raw": QUARANTINE[1], "id": RAW_ID},
        ).all()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def _rotate_raw_table(db: Database, cipher: Cipher, schema: str, table: str, columns: list[str]) -> int:
    """Rewrite one dlt table's ciphertexts in one transaction; returns the rows that held any."""
    quarantine = table == QUARANTINE[0]
    rotate: dict[str, Callable[[str], str]] = {
        c: (_rotator(cipher) if not (quarantine and c == QUARANTINE[1]) else _record_rotator(cipher)) for c in columns
    }
    target = f'"{schema}"."{table}"'
    names = ", ".join(f'"{c}"' for c in columns)
    with db.engine.begin() as conn:
        conn.execute(text(f"LOCK TABLE {target} IN EXCLUSIVE MODE"))  # readers go on; dlt waits
        conn.execute(
            text(f"CREATE TEMP TABLE rotated ON COMMIT DROP AS SELECT {RAW_ID}, {names} FROM {target} LIMIT 0")
        )
        some = " OR ".join(f'"{c}" IS NOT NULL' for c in columns)
        conn.execute(text(f"DECLARE rotating NO SCROLL CURSOR FOR SELECT {RAW_ID}, {names} FROM {target} WHERE {some}"))
        count = 0
        while part := conn.execute(text("FETCH 1000 FROM rotating")).all():
            _insert(conn, columns, [_rotated_row(row, columns, rotate) for row in part])
            count += len(part)
        conn.execute(text("CLOSE rotating"))
        assignments = ", ".join(f'"{c}" = r."{c}"' for c in columns)
        conn.execute(text(f"UPDATE {target} t SET {assignments} FROM rotated r WHERE t.{RAW_ID} = r.{RAW_ID}"))
    return count


def _rotated_row(row: Any, columns: list[str], rotate: dict[str, Callable[[str], str]]) -> dict[str, Any]:
    values = {
        f"c{i}": None if v is None else rotate[c](v) for i, (c, v) in enumerate(zip(columns, row[1:], strict=True))
    }
    return {"id": row[0], **values}


def _insert(conn: Connection, columns: list[str], batch: list[dict[str, Any]]) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f":c{i}" for i in range(len(columns)))
    conn.execute(text(f"INSERT INTO rotated ({RAW_ID}, {names}) VALUES (:id, {values})"), batch)


def _rotator(cipher: Cipher) -> Callable[[str], str]:
    return lambda token: cipher.rotate(token.encode("ascii")).decode("ascii")


def _record_rotator(cipher: Cipher) -> Callable[[str], str]:
    """A quarantined record (JSON text): every `*_encrypted` string in it, at any depth, re-encrypted."""
    rotate = _rotator(cipher)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: rotate(v) if k.endswith(ENCRYPTED_SUFFIX) and isinstance(v, str) and v else walk(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    def record(raw: str) -> str:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw  # not a record we wrote: nothing of ours to rotate in it
        return orjson.dumps(walk(parsed), option=orjson.OPT_NON_STR_KEYS).decode()

    return record
