"""pause, resume, cancel and retry: each takes the plan's row lock first, so steering calls and the
driver's pass on one plan happen one after another, never interleaved.

Lots that never started are moved in bulk, a chunk of indexes per statement; lots with a run (at most
a window per DAG) one by one, with their runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.models.dagrun import DagRun
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from airflow_backfill_provider.exceptions import ConflictError, FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.service import audit, driver, materialise
from airflow_backfill_provider.service.dags import serialized_dag
from airflow_backfill_provider.service.datamodels import PlanOut
from airflow_backfill_provider.service.ending import bulk_move, finish, stop_lots, update_backfills
from airflow_backfill_provider.service.locking import lock_plan
from airflow_backfill_provider.service.lots import set_state
from airflow_backfill_provider.service.plan_states import Action, Refusal, after
from airflow_backfill_provider.service.queries import get_plan, plan_dag_ids, plan_out
from airflow_backfill_provider.service.tables import LotRow, PlanDagRow, PlanRow
from airflow_backfill_provider.states import (
    FINAL_PLANS,
    RETRYABLE_LOTS,
    LotState,
    PlanState,
)


def _locked(ref: str | int, session: Session) -> PlanRow:
    row = lock_plan(get_plan(ref, session).id, session)
    assert row is not None  # plans are never deleted
    return row


def _decide(row: PlanRow, action: Action, retryable_lots: int | None = None) -> PlanState:
    """The plan's state after ``action`` (``plan_states.after``), or the 409 that says why not."""
    found = after(row.state, action, started=row.started_at is not None, retryable_lots=retryable_lots)
    if isinstance(found, Refusal):
        raise ConflictError(
            f"cannot {action} plan '{row.name}': {found.message}", [FieldError(found.field, found.fix)]
        )
    return found


def pause(ref: str | int, session: Session, *, user: str | None = None) -> PlanOut:
    row = _locked(ref, session)
    row.state = _decide(row, Action.PAUSE).value
    update_backfills(row, session, is_paused=True)
    session.flush()
    audit.record("pause", row, plan_dag_ids(row, session), user, session)
    return plan_out(row, session)


def resume(ref: str | int, session: Session, *, user: str | None = None) -> PlanOut:
    row = _locked(ref, session)
    row.state = _decide(row, Action.RESUME).value
    update_backfills(row, session, is_paused=False)
    driver.kick(row, session)
    session.flush()
    audit.record("resume", row, plan_dag_ids(row, session), user, session)
    return plan_out(row, session)


def cancel(ref: str | int, session: Session, *, user: str | None = None) -> PlanOut:
    """Start no new lot, fail the runs of the lots in flight, cancel every lot not done."""
    row = _locked(ref, session)
    ended = _decide(row, Action.CANCEL)
    stop_lots(row, session, LotState.CANCELLED, "the plan was cancelled")
    finish(row, ended, session)
    session.flush()
    audit.record("cancel", row, plan_dag_ids(row, session), user, session)
    return plan_out(row, session)


def retry(
    ref: str | int, session: Session, *, indexes: Sequence[int] | None = None, user: str | None = None
) -> PlanOut:
    """Run failed lots again in their runs, and put blocked and cancelled lots back in line."""
    row = _locked(ref, session)
    _decide(row, Action.RETRY)
    outside = [i for i in indexes or () if not 0 <= i < row.total_lots]
    if outside:
        raise PlanValidationError(
            [
                FieldError(
                    "index", f"{i} is not a lot of plan '{row.name}': its lots are 0 to {row.total_lots - 1}"
                )
                for i in outside[:10]
            ],
            "no such lot",
        )
    chosen = and_(LotRow.plan_id == row.id, LotRow.state.in_([s.value for s in RETRYABLE_LOTS]))
    if indexes:
        chosen = and_(chosen, LotRow.idx.in_(list(indexes)))
    first: int | None = session.scalar(select(func.min(LotRow.idx)).where(chosen))
    state = _decide(row, Action.RETRY, retryable_lots=0 if first is None else 1)
    assert first is not None  # else refused just above
    _refuse_runs_of_other_plans(row, chosen, session)
    if row.state in FINAL_PLANS:
        row.ended_at = None
    row.state = state.value
    update_backfills(row, session, is_paused=row.state == PlanState.PAUSED, completed_at=None)
    # lots that ran (or were looked at one by one) go back one by one; a failed run is run again
    spec = row.backfill_plan()
    for lot in list(
        session.scalars(
            select(LotRow).where(chosen, (LotRow.run_id.is_not(None)) | (LotRow.updated_at.is_not(None)))
        )
    ):
        if not (lot.run_id and _rerun(row, spec, lot, session)):
            lot.run_id = None
            lot.logical_date = None
        set_state(lot, LotState.PENDING, None)
    session.flush()
    bulk_move(
        row,
        session,
        and_(chosen, LotRow.run_id.is_(None), LotRow.updated_at.is_(None)),
        LotState.PENDING,
        None,
    )
    row.cursor = min(row.cursor, first)
    driver.kick(row, session)
    session.flush()
    audit.record("retry", row, plan_dag_ids(row, session), user, session, indexes=list(indexes or []))
    return plan_out(row, session)


def _refuse_runs_of_other_plans(row: PlanRow, chosen: Any, session: Session) -> None:
    """409 when a lot to retry has a run another plan has since taken (``reprocess`` adopts runs): a
    retry never clears a run that another plan runs, or ran."""
    ours = select(PlanDagRow.backfill_id).where(PlanDagRow.plan_id == row.id)
    taken = session.execute(
        select(LotRow.idx, LotRow.run_id, PlanRow.name)
        .join(DagRun, and_(DagRun.dag_id == LotRow.dag_id, DagRun.run_id == LotRow.run_id))
        .join(PlanDagRow, PlanDagRow.backfill_id == DagRun.backfill_id)
        .join(PlanRow, PlanRow.id == PlanDagRow.plan_id)
        .where(chosen, LotRow.run_id.is_not(None), DagRun.backfill_id.not_in(ours))
        .order_by(LotRow.idx)
        .limit(20)
    ).all()
    if taken:
        raise ConflictError(
            f"cannot retry plan '{row.name}': runs of its lots now belong to other plans",
            [
                FieldError(
                    f"lots.{idx}",
                    f"run '{run_id}' was since re-run by backfill plan '{other}': retry it there, or "
                    "retry this plan's other lots by index",
                )
                for idx, run_id, other in taken
            ],
        )


def _rerun(row: PlanRow, spec: BackfillPlan, lot: LotRow, session: Session) -> bool:
    """Clear a lot's ended run (failed, or failed by a cancel) into the plan again; False when it is gone."""
    run = session.scalar(select(DagRun).where(DagRun.dag_id == lot.dag_id, DagRun.run_id == lot.run_id))
    dag = serialized_dag(lot.dag_id, session, spec.version_of(lot.dag_id))  # the version the plan runs
    plan_dag = session.get(PlanDagRow, (row.id, lot.dag_id))
    if run is None or dag is None or plan_dag is None:
        return False
    target = materialise.LotTarget(row, spec, plan_dag, lot, dag, plan_dag.dry_run_tasks)
    materialise.give_run(target, materialise.adopt_run(target, run, session), session)
    return True
