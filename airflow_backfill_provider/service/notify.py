"""``notify``: the targets a plan names, and the run that tells them when the plan ends.

Targets are checked at preview and create (``notifiers.py``: only names the deployment defines).
When a plan ends, the service records what a message needs — the plan's own fields, its counts and
its first failed lots — in one run of the controller DAG, signed; that run's ``notify`` task writes
the message and calls the targets on a worker. Nothing here renders or sends anything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow.configuration import conf
from airflow.utils.state import DagRunState
from airflow.utils.types import DagRunTriggeredByType, DagRunType
from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_backfill_provider import signing
from airflow_backfill_provider.exceptions import FieldError
from airflow_backfill_provider.notifiers import FAILED_LOTS_SHOWN, target_errors
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.planner import lot_label
from airflow_backfill_provider.reserved import CONTROLLER_DAG_ID
from airflow_backfill_provider.service.dags import serialized_dag
from airflow_backfill_provider.service.lots import now
from airflow_backfill_provider.service.tables import LotRow, PlanRow
from airflow_backfill_provider.states import LotState

OUTCOME = {"success": "success", "failed": "failure"}
"""a plan's end state -> the ``notify.on`` word that asks to be told of it"""


def notify_errors(spec: BackfillPlan) -> list[FieldError]:
    if spec.notify is None:
        return []
    return [FieldError(f"notify.targets.{i}", why) for i, why in target_errors(list(spec.notify.targets))]


def page_url(plan_name: str) -> str:
    """The plan's page in Airflow's UI."""
    base = str(conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}/plugin/backfill-plans?plan={quote(plan_name)}"


def _failed_lots(plan: PlanRow, session: Session) -> list[dict[str, Any]]:
    """The plan's first failed lots, as a message lists them."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(plan.timezone)
    rows = session.scalars(
        select(LotRow)
        .where(LotRow.plan_id == plan.id, LotRow.state == LotState.FAILED.value)
        .order_by(LotRow.idx)
        .limit(FAILED_LOTS_SHOWN)
    )
    return [
        {"index": lot.idx, "label": lot_label(lot.start, lot.end, tz), "reason": (lot.reason or "")[:500]}
        for lot in rows
    ]


def start_notify_run(plan: PlanRow, state: str, counts: dict[str, int], session: Session) -> str | None:
    """One run of the controller DAG whose ``notify`` task tells the plan's targets (if ``on`` says so)."""
    notify = plan.spec.get("notify") or {}
    if not notify or OUTCOME.get(state) not in notify.get("on", ()):
        return None
    controller = serialized_dag(CONTROLLER_DAG_ID, session)
    if controller is None:
        return None
    ended = now()
    run_id = f"notify__{plan.name}__{ended:%Y%m%dT%H%M%S%f}"
    content = {
        "plan": plan.name,
        "state": state,
        "targets": list(notify.get("targets") or ()),
        "facts": {
            "name": plan.name,
            "title": plan.spec.get("title"),
            "dag_id": plan.dag_id,
            "state": state,
            "counts": counts,
            "total_lots": plan.total_lots,
            "failed_lots": _failed_lots(plan, session),
            "url": page_url(plan.name),
            "created_by": plan.created_by,
            "started_at": plan.started_at.isoformat() if plan.started_at else None,
            "ended_at": plan.ended_at.isoformat() if plan.ended_at else None,
        },
    }
    binding = signing.RunBinding(CONTROLLER_DAG_ID, run_id, None, DagRunType.MANUAL.value)
    controller.create_dagrun(
        run_id=run_id,
        logical_date=None,
        data_interval=None,
        run_after=ended,
        conf={"notify": content, "signature": signing.sign(binding, content)},
        run_type=DagRunType.MANUAL,
        triggered_by=DagRunTriggeredByType.REST_API,
        triggering_user_name=None,
        state=DagRunState.QUEUED,
        note=f"tells the targets of backfill plan {plan.name} that it ended {state}",
        session=session,
    )
    return run_id
