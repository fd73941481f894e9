"""Ending a plan and moving its lots in bulk: what the driver's pass and steering both do.

``finish`` ends a plan (its Backfill rows completed, its notifiers called), ``stop_lots`` ends every
lot not done (cancel, ``max_failures``, a plan whose own step failed), ``bulk_move`` moves the lots
that never started a chunk of indexes per statement, and ``update_backfills`` sets the plan's Airflow
Backfill rows. Both ``advance`` and ``steering`` import this module; it imports neither.
"""

from __future__ import annotations

from typing import Any

from airflow.api.common.mark_tasks import set_dag_run_state_to_failed
from airflow.models.backfill import Backfill
from airflow.models.dagrun import DagRun
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.orm import Session

from airflow_backfill_provider.service import metrics
from airflow_backfill_provider.service.dags import serialized_dag
from airflow_backfill_provider.service.lots import now, set_state
from airflow_backfill_provider.service.notify import start_notify_run
from airflow_backfill_provider.service.queries import counts
from airflow_backfill_provider.service.tables import LotRow, PlanDagRow, PlanRow, in_flight_sql
from airflow_backfill_provider.states import ACTIVE_LOTS, LotState, PlanState

CHUNK = 10_000
"""lot indexes per bulk statement"""


def finish(plan: PlanRow, state: PlanState, session: Session) -> None:
    """The plan has ended: its Backfill rows are completed, and its notify run records it for its targets."""
    plan.state = state.value
    plan.ended_at = now()
    update_backfills(plan, session, completed_at=plan.ended_at)
    session.flush()
    start_notify_run(plan, state.value, counts([plan.id], session)[plan.id], session)


def update_backfills(plan: PlanRow, session: Session, **values: Any) -> None:
    """Set ``values`` on the Airflow Backfill rows of the plan's DAGs (pause, completion); rows that
    already have them are not written (the driver's pass sets a held plan's pause every time)."""
    ids = select(PlanDagRow.backfill_id).where(PlanDagRow.plan_id == plan.id).scalar_subquery()
    changed = or_(*(getattr(Backfill, key).is_distinct_from(value) for key, value in values.items()))
    session.execute(
        update(Backfill)
        .where(Backfill.id.in_(ids), changed)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def stop_lots(row: PlanRow, session: Session, state: LotState, reason: str) -> None:
    """Every lot not done ends in ``state``: the runs of lots in flight fail (their running tasks stop)
    where they are still the plan's own, the lots that never started move in bulk; the plan's Backfill
    rows are paused. Cancel does this, and so does a plan stopped by ``max_failures`` (with ``blocked``)."""
    update_backfills(row, session, is_paused=True)
    own = select(PlanDagRow.backfill_id).where(PlanDagRow.plan_id == row.id)
    ours = {
        (dag_id, run_id)
        for dag_id, run_id in session.execute(
            select(DagRun.dag_id, DagRun.run_id)
            .join(LotRow, and_(LotRow.dag_id == DagRun.dag_id, LotRow.run_id == DagRun.run_id))
            .where(
                LotRow.plan_id == row.id,
                text(in_flight_sql(LotRow.__tablename__)),
                DagRun.backfill_id.in_(own),
            )
        )
    }
    active = [s.value for s in ACTIVE_LOTS]
    touched = session.scalars(
        select(LotRow).where(
            LotRow.plan_id == row.id,
            LotRow.state.in_(active),
            (LotRow.run_id.is_not(None)) | (LotRow.updated_at.is_not(None)),
        )
    )
    dags: dict[str, Any] = {}
    for lot in touched:
        if lot.run_id and (lot.dag_id, lot.run_id) in ours:
            if lot.dag_id not in dags:
                dags[lot.dag_id] = serialized_dag(lot.dag_id, session)
            dag = dags[lot.dag_id]
            if dag is not None:
                session.flush()
                set_dag_run_state_to_failed(dag=dag, run_id=lot.run_id, commit=True, session=session)
        set_state(lot, state, reason)
    session.flush()
    bulk_move(
        row,
        session,
        and_(LotRow.state.in_(active), LotRow.run_id.is_(None), LotRow.updated_at.is_(None)),
        state,
        reason,
    )
    row.cursor = row.total_lots


def bulk_move(row: PlanRow, session: Session, where: object, state: LotState, reason: str | None) -> None:
    """Move the lots matching ``where`` to ``state``, ``CHUNK`` indexes per statement."""
    stamp = now()
    moved = 0
    for first in range(0, row.total_lots, CHUNK):
        result = session.execute(
            update(LotRow)
            .where(LotRow.plan_id == row.id, LotRow.idx >= first, LotRow.idx < first + CHUNK, where)  # type: ignore[arg-type]
            .values(state=state.value, reason=reason, updated_at=None if state == LotState.PENDING else stamp)
            .execution_options(synchronize_session=False)
        )
        moved += max(getattr(result, "rowcount", 0) or 0, 0)
    if state in metrics.FINAL:
        metrics.lots_ended_in_bulk(state, moved)
