"""health: table and index size samples, so `etsy-pipeline health` and `ops/db_health` show growth

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

`monitoring.table_sizes` keeps one row per table per health run (total and index bytes); growth is measured
against the sample nearest a day ago, and samples older than 90 days are pruned by the health run itself. The
table lives in a schema of its own, `monitoring`: it is operational bookkeeping, not part of the application's
models, so analysts' grants (analytics only) and `alembic check` (core and analytics) leave it alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS monitoring")
    op.create_table(
        "table_sizes",
        sa.Column("sampled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("index_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "sampled_at", name="pk_table_sizes"),
        schema="monitoring",
    )
    op.execute("COMMENT ON TABLE monitoring.table_sizes IS 'One size sample per table per health run (growth trends).'")


def downgrade() -> None:
    op.drop_table("table_sizes", schema="monitoring")
    op.execute("DROP SCHEMA IF EXISTS monitoring")
