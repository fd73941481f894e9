"""Airflow's audit log for plans: creating, pausing, resuming, cancelling and retrying a plan writes
the ``Log`` records Airflow writes for its own UI and API actions, one per DAG in the plan's scope,
with the user and the plan, so each DAG's Audit Log tab shows who started or stopped a backfill —
whether it came from the page, the REST API, the CLI or a cloud scheduler's compat call."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from airflow.models.log import Log
from sqlalchemy.orm import Session

from airflow_backfill_provider.service.tables import PlanRow

EVENT_PREFIX = "backfill_plan_"
"""events: backfill_plan_create, _pause, _resume, _cancel, _retry"""


def record(
    action: str, plan: PlanRow, dag_ids: Sequence[str], user: str | None, session: Session, **extra: Any
) -> None:
    details = json.dumps({"plan": plan.name, "plan_id": plan.id, "state": plan.state, **extra}, default=str)
    for dag_id in dict.fromkeys(dag_ids):
        session.add(
            Log(
                event=f"{EVENT_PREFIX}{action}",
                owner=user or "anonymous",
                owner_display_name=user or "",
                extra=details,
                dag_id=dag_id,
            )
        )
