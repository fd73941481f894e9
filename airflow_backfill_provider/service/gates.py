"""The gates Airflow's scheduler cannot hold: self-dependency and parent checks, and
what holds a whole plan (``run_window``, ``max_failures``).

Each lot gate answers for one lot, before the lot gets a run: go, wait (with why), or blocked (with
why). Order, parallelism, pause and data time are the scheduler's own, through the plan's Backfill
rows; a held plan's Backfill rows are paused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance as TI
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.service import lot_states
from airflow_backfill_provider.service.dags import serialized_dag
from airflow_backfill_provider.service.lot_states import Followed, Verdict
from airflow_backfill_provider.service.tables import LotRow, PlanDagRow, PlanRow
from airflow_backfill_provider.states import LotState

OUTSIDE = "outside:"
"""prefix of a parent DAG outside the plan in ``PlanDagRow.parents`` (``parent_check: all``)"""


def gate(
    plan: PlanRow, spec: BackfillPlan, plan_dag: PlanDagRow, lot: LotRow, dag_count: int, session: Session
) -> tuple[Verdict, str | None]:
    """(GO, None), or why not: (WAIT, reason) or (BLOCKED, reason) — decided by ``lot_states``."""
    followed: list[Followed | None] = []
    if plan_dag.self_dependency:
        followed.append(_followed(_previous_lot(plan, lot, session), "self-dependency"))
    if spec.parent_check in ("scope", "all"):
        followed += [
            _followed(_parent_lot(plan, lot, parent, dag_count, session), f"parent_check, DAG '{parent}'")
            for parent in plan_dag.parents
            if not parent.startswith(OUTSIDE)
        ]
    verdict, reason = lot_states.of_followed(followed)
    if verdict == Verdict.GO and spec.parent_check == "all":
        return lot_states.of_outside_parents(_missing_outside_parents(spec, plan_dag, lot, session))
    return verdict, reason


def _followed(lot: LotRow | None, why: str) -> Followed | None:
    return None if lot is None else Followed(lot.idx, str(lot.state), why)


def hold_reason(plan: PlanRow, spec: BackfillPlan, session: Session) -> tuple[str | None, bool]:
    """Why the plan starts no lot now, or None; and whether that is final (``lot_states.of_hold``)."""
    failed = 0
    if spec.max_failures is not None:
        failed = (
            session.scalar(
                select(func.count()).where(LotRow.plan_id == plan.id, LotRow.state == LotState.FAILED.value)
            )
            or 0
        )
    window = spec.run_window
    closed = None
    if window is not None and not window.open_at(dt.datetime.now(dt.timezone.utc), plan.timezone):
        closed = f"{window.start}-{window.end} ({window.timezone or plan.timezone})"
    return lot_states.of_hold(failed=failed, max_failures=spec.max_failures, window_closed=closed)


def _previous_lot(plan: PlanRow, lot: LotRow, session: Session) -> LotRow | None:
    return session.scalar(
        select(LotRow)
        .where(LotRow.plan_id == plan.id, LotRow.dag_id == lot.dag_id, LotRow.idx < lot.idx)
        .order_by(LotRow.idx.desc())
        .limit(1)
    )


def _parent_lot(plan: PlanRow, lot: LotRow, parent: str, dag_count: int, session: Session) -> LotRow | None:
    """The parent DAG's lot for the same interval: within one interval's lots, so a primary-key range."""
    return session.scalar(
        select(LotRow).where(
            LotRow.plan_id == plan.id,
            LotRow.idx >= lot.idx - dag_count,
            LotRow.idx < lot.idx,
            LotRow.dag_id == parent,
            LotRow.start == lot.start,
        )
    )


def _covering(lot: LotRow) -> Any:
    """A run covers the lot's interval when its data interval contains it, or, for a zero-length
    interval (Airflow 3's cron trigger timetables), when that instant falls inside the lot."""
    return or_(
        and_(DagRun.data_interval_start <= lot.start, DagRun.data_interval_end >= lot.end),
        and_(
            DagRun.data_interval_start == DagRun.data_interval_end,
            DagRun.data_interval_start >= lot.start,
            DagRun.data_interval_start < lot.end,
        ),
    )


def _missing_outside_parents(
    spec: BackfillPlan, plan_dag: PlanDagRow, lot: LotRow, session: Session
) -> str | None:
    """``parent_check: all``: dry-run upstream tasks and upstream DAGs must have succeeded for the interval."""
    covering = _covering(lot)
    for parent in plan_dag.parents:
        if parent.startswith(OUTSIDE):
            dag_id = parent.removeprefix(OUTSIDE)
            ok = session.scalar(
                select(func.count()).where(DagRun.dag_id == dag_id, DagRun.state == "success", covering)
            )
            if not ok:
                return f"no successful run of DAG '{dag_id}' covers this lot's interval"
    dry = set(plan_dag.dry_run_tasks)
    if dry:
        dag = serialized_dag(lot.dag_id, session)
        needed = sorted(
            {
                u
                for t in plan_dag.run_tasks
                if dag is not None and dag.has_task(t)
                for u in dag.get_task(t).upstream_task_ids
                if u in dry
            }
        )
        for task_id in needed:
            ok = session.scalar(
                select(func.count())
                .select_from(TI)
                .join(DagRun, and_(DagRun.dag_id == TI.dag_id, DagRun.run_id == TI.run_id))
                .where(
                    TI.dag_id == lot.dag_id,
                    TI.task_id == task_id,
                    TI.state == "success",
                    TI.try_number > 0,
                    covering,
                )
            )
            if not ok:
                return f"task '{task_id}' (dry-run by this plan) has no successful run covering this lot's interval"
    return None
