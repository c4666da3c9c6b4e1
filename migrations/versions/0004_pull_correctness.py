"""pull correctness: cursors kept in the database they describe, more sync outcomes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

`core.sync_cursors` holds each shop's pull position per resource, written in the same transaction as the rows
it covers (previously the cursors lived in dlt's local state under DATA_DIR, shared by every database pointed at
from that directory). `sync_runs.status` gains `incomplete`, `skipped`, `needs_reauth` and `abandoned`;
`shops.sync_status` gains `incomplete`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_BEFORE = ("running", "succeeded", "failed", "partial", "quota_exhausted")
RUN_AFTER = (*RUN_BEFORE, "incomplete", "skipped", "needs_reauth", "abandoned")
SHOP_BEFORE = ("never", "running", "ok", "failed", "needs_reauth", "quota_exhausted")
SHOP_AFTER = (*SHOP_BEFORE, "incomplete")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _statuses(runs: Sequence[str], shops: Sequence[str]) -> None:
    op.drop_constraint(op.f("ck_sync_runs_status"), "sync_runs", schema="core", type_="check")
    op.create_check_constraint(op.f("ck_sync_runs_status"), "sync_runs", _in("status", runs), schema="core")
    op.drop_constraint(op.f("ck_shops_sync_status"), "shops", schema="core", type_="check")
    op.create_check_constraint(op.f("ck_shops_sync_status"), "shops", _in("sync_status", shops), schema="core")


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_sync_cursors_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", "resource", name=op.f("pk_sync_cursors")),
        schema="core",
    )
    _statuses(RUN_AFTER, SHOP_AFTER)


def downgrade() -> None:
    op.execute("UPDATE core.sync_runs SET status = 'failed' WHERE status NOT IN ('" + "', '".join(RUN_BEFORE) + "')")
    op.execute("UPDATE core.shops SET sync_status = 'failed' WHERE sync_status = 'incomplete'")
    _statuses(RUN_BEFORE, SHOP_BEFORE)
    op.drop_table("sync_cursors", schema="core")
