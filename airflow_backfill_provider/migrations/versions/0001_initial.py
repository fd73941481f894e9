"""Create the backfill-plan tables (the schema ``ensure_tables`` created before 0.1.0).

Every table and index is created only if missing, so a database whose tables were already made by
``tables.ensure_tables`` also passes through this revision unharmed (``airflow db migrate -m``;
without ``-m`` Airflow stamps such a database at this revision instead of running it).

Revision ID: be77cce6da29
Revises:
Create Date: 2025-12-01 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "be77cce6da29"
down_revision = None
branch_labels = None
depends_on = None
# the provider release that ships this revision (BackfillDBManager.revision_heads_map)
backfill_provider_version = "0.1.0"

# tables.UtcDateTime stores through this type
_UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "backfill_plan",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("total_lots", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("created_at", _UTC_DATETIME, nullable=False),
        sa.Column("started_at", _UTC_DATETIME, nullable=True),
        sa.Column("ended_at", _UTC_DATETIME, nullable=True),
        sa.Column("created_by", sa.String(length=250), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("controller_run_id", sa.String(length=250), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        if_not_exists=True,
    )
    op.create_index("ix_backfill_plan_dag_id", "backfill_plan", ["dag_id"], if_not_exists=True)
    op.create_index("ix_backfill_plan_state", "backfill_plan", ["state"], if_not_exists=True)

    op.create_table(
        "backfill_lot",
        sa.Column("plan_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("start", _UTC_DATETIME, nullable=False),
        sa.Column("end", _UTC_DATETIME, nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.Column("logical_date", _UTC_DATETIME, nullable=True),
        sa.Column("start_date", _UTC_DATETIME, nullable=True),
        sa.Column("end_date", _UTC_DATETIME, nullable=True),
        sa.Column("timeline", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["backfill_plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "idx"),
        if_not_exists=True,
    )
    op.create_index("backfill_lot_plan_state", "backfill_lot", ["plan_id", "state"], if_not_exists=True)

    op.create_table(
        "backfill_plan_dag",
        sa.Column("plan_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dag_id", sa.String(length=250), nullable=False),
        sa.Column("backfill_id", sa.Integer(), nullable=False),
        sa.Column("run_tasks", sa.JSON(), nullable=False),
        sa.Column("dry_run_tasks", sa.JSON(), nullable=False),
        sa.Column("self_dependency", sa.Boolean(), nullable=False),
        sa.Column("parents", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["backfill_plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "dag_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    # the indexes go with their tables
    op.drop_table("backfill_plan_dag", if_exists=True)
    op.drop_table("backfill_lot", if_exists=True)
    op.drop_table("backfill_plan", if_exists=True)
