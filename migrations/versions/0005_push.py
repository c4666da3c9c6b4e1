"""push: base values, Etsy's value on conflict, and a lease on the outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

`core.pending_changes` gains `base_values` (the Etsy value of each field a change touches, as the user saw it:
conflicts are decided field by field against it), `etsy_value` (Etsy's value kept when Etsy won or refused),
and `claimed_until` / `claimed_by` (the lease a push runner holds on an in-flight change; a crashed runner's
lease expires and the change is taken again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "pending_changes",
        sa.Column("base_values", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        schema="core",
    )
    op.add_column(
        "pending_changes",
        sa.Column("etsy_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="core",
    )
    op.add_column("pending_changes", sa.Column("claimed_until", sa.DateTime(timezone=True)), schema="core")
    op.add_column("pending_changes", sa.Column("claimed_by", sa.String(length=64)), schema="core")


def downgrade() -> None:
    for column in ("claimed_by", "claimed_until", "etsy_value", "base_values"):
        op.drop_column("pending_changes", column, schema="core")
