"""One driver for every plan: plan cursors, lot ordinals and state times, the lots-in-flight index, the driver's row.

The per-plan controller runs and their tokens go (``controller_run_id``, ``token_hash``); lot labels
are computed when read. Plans in flight keep their lots; the new driver takes them over.

Revision ID: 3c1f2a9d7e41
Revises: be77cce6da29
Create Date: 2026-12-01 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3c1f2a9d7e41"
down_revision = "be77cce6da29"
branch_labels = None
depends_on = None
# the provider release that ships this revision (BackfillDBManager.revision_heads_map)
backfill_provider_version = "0.2.0"

_UTC_DATETIME = sa.DateTime(timezone=True)
IN_FLIGHT = "run_id IS NOT NULL AND state IN ('pending', 'waiting', 'running')"


def _drop_column(table: str, column: str) -> None:
    """Drop in place: rebuilding a parent table on SQLite (batch mode) would cascade-delete its lots."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35+
    else:
        op.drop_column(table, column)


def upgrade() -> None:
    op.add_column("backfill_plan", sa.Column("cursor", sa.Integer(), nullable=False, server_default="0"))
    _drop_column("backfill_plan", "token_hash")
    _drop_column("backfill_plan", "controller_run_id")
    op.add_column(
        "backfill_plan_dag",
        sa.Column("past_dependent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("backfill_lot", sa.Column("ordinal", sa.Integer(), nullable=True))
    op.add_column("backfill_lot", sa.Column("updated_at", _UTC_DATETIME, nullable=True))
    _drop_column("backfill_lot", "label")
    op.create_index(
        "backfill_lot_in_flight",
        "backfill_lot",
        ["plan_id"],
        postgresql_where=sa.text(IN_FLIGHT),
        sqlite_where=sa.text(IN_FLIGHT),
    )
    op.create_table(
        "backfill_driver",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", _UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("backfill_driver")
    op.drop_index("backfill_lot_in_flight", table_name="backfill_lot")
    op.add_column(
        "backfill_lot", sa.Column("label", sa.String(length=100), nullable=False, server_default="")
    )
    _drop_column("backfill_lot", "updated_at")
    _drop_column("backfill_lot", "ordinal")
    _drop_column("backfill_plan_dag", "past_dependent")
    op.add_column("backfill_plan", sa.Column("controller_run_id", sa.String(length=250), nullable=True))
    op.add_column(
        "backfill_plan", sa.Column("token_hash", sa.String(length=64), nullable=False, server_default="")
    )
    _drop_column("backfill_plan", "cursor")
