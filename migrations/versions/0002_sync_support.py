"""sync support: exact money conversion in SQL, the per-shop raw watermark

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

`core.money(amount, divisor)` converts Etsy's Money parts exactly (Etsy's divisors are powers of ten; the
source quarantines any other). `core.shops.raw_load_id` is the last dlt load transformed into `core` for the
shop, so a crash between loading and transforming is caught up by the next run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = """
CREATE OR REPLACE FUNCTION core.money(amount bigint, divisor bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT trim_scale(amount::numeric / divisor) $$
"""


def upgrade() -> None:
    op.execute(MONEY)
    op.add_column("shops", sa.Column("raw_load_id", sa.String(length=40), nullable=True), schema="core")


def downgrade() -> None:
    op.drop_column("shops", "raw_load_id", schema="core")
    op.execute("DROP FUNCTION IF EXISTS core.money(bigint, bigint)")
