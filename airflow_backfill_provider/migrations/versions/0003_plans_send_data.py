"""Plans send data only: notify names targets, and each lot keeps the nonce signed into its run; each
DAG of a plan keeps its own parallelism (a plan may keep each DAG's max_active_runs).

A stored plan's ``notify.notifiers`` (a notifier or target per entry, with the plan's message
arguments) becomes ``notify.targets`` (the names alone): plans no longer set notifier arguments.
A plan that named a notifier class keeps the name; it tells nobody unless the deployment defines a
target of that name. Downgrading writes the names back as notifiers without arguments, which 0.2
reads as its targets.

Revision ID: 7d2e5b1c9a30
Revises: 3c1f2a9d7e41
Create Date: 2026-12-07 00:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from airflow_backfill_provider.migrations.steps import add_column, drop_column

# revision identifiers, used by Alembic.
revision = "7d2e5b1c9a30"
down_revision = "3c1f2a9d7e41"
branch_labels = None
depends_on = None
# the provider release that ships this revision (BackfillDBManager.revision_heads_map)
backfill_provider_version = "0.3.0"

_plans = sa.table("backfill_plan", sa.column("id", sa.Integer), sa.column("spec", sa.JSON))


def _targets(notify: dict[str, Any]) -> dict[str, Any]:
    names = [str(n.get("notifier")) for n in notify.get("notifiers") or () if isinstance(n, dict)]
    kept = {k: v for k, v in notify.items() if k != "notifiers"}
    return {**kept, "targets": list(dict.fromkeys(names))[:10]}


def _notifiers(notify: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in notify.items() if k != "targets"}
    return {**kept, "notifiers": [{"notifier": n, "kwargs": {}} for n in notify.get("targets") or ()]}


def _rewrite(old_key: str, change: Any) -> None:
    """Every stored plan whose notify still has ``old_key`` (a second run passes over the rest)."""
    bind = op.get_bind()
    for plan_id, spec in bind.execute(sa.select(_plans.c.id, _plans.c.spec)).all():
        notify = (spec or {}).get("notify")
        if isinstance(notify, dict) and old_key in notify:
            bind.execute(
                _plans.update().where(_plans.c.id == plan_id).values(spec={**spec, "notify": change(notify)})
            )


def upgrade() -> None:
    add_column("backfill_lot", sa.Column("nonce", sa.String(length=32), nullable=True))
    add_column("backfill_plan_dag", sa.Column("parallelism", sa.Integer(), nullable=True))
    _rewrite("notifiers", _targets)


def downgrade() -> None:
    _rewrite("targets", _notifiers)
    drop_column("backfill_plan_dag", "parallelism")
    drop_column("backfill_lot", "nonce")
