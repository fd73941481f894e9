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

from airflow_backfill_provider.migrations.steps import (
    add_column,
    drop_column,
    drop_index,
    drop_table,
    has_index,
)

# revision identifiers, used by Alembic.
revision = "3c1f2a9d7e41"
down_revision = "be77cce6da29"
branch_labels = None
depends_on = None
# the provider release that ships this revision (BackfillDBManager.revision_heads_map)
backfill_provider_version = "0.2.0"

_UTC_DATETIME = sa.DateTime(timezone=True)
IN_FLIGHT = "run_id IS NOT NULL AND state IN ('pending', 'waiting', 'running')"


def upgrade() -> None:
    add_column("backfill_plan", sa.Column("cursor", sa.Integer(), nullable=False, server_default="0"))
    drop_column("backfill_plan", "token_hash")
    drop_column("backfill_plan", "controller_run_id")
    add_column(
        "backfill_plan_dag",
        sa.Column("past_dependent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    add_column("backfill_lot", sa.Column("ordinal", sa.Integer(), nullable=True))
    add_column("backfill_lot", sa.Column("updated_at", _UTC_DATETIME, nullable=True))
    drop_column("backfill_lot", "label")
    if not has_index("backfill_lot", "backfill_lot_in_flight"):
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
        if_not_exists=True,
    )


def downgrade() -> None:
    drop_table("backfill_driver")
    drop_index("backfill_lot_in_flight", "backfill_lot")
    add_column("backfill_lot", sa.Column("label", sa.String(length=100), nullable=False, server_default=""))
    drop_column("backfill_lot", "updated_at")
    drop_column("backfill_lot", "ordinal")
    drop_column("backfill_plan_dag", "past_dependent")
    add_column("backfill_plan", sa.Column("controller_run_id", sa.String(length=250), nullable=True))
    add_column(
        "backfill_plan", sa.Column("token_hash", sa.String(length=64), nullable=False, server_default="")
    )
    drop_column("backfill_plan", "cursor")
