"""The service: plans in, DagRuns out, progress back. Runs where the database is (api-server, CLI).

``create`` writes a plan atomically: its rows, an Airflow Backfill row per DAG, the controller run
(whose mapped task instances mirror the lots) and the first window of lot runs. ``advance`` is
called again and again by the controller's trigger: it reads the lots' runs, flips parked dry-run
tasks, opens the gates that Airflow's scheduler cannot hold (self-dependency, parent checks, runs
in flight elsewhere, ``reprocess``) and tops up the window of materialised runs. Order, parallelism,
pause and ``run_after`` are left to the scheduler through the Backfill rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airflow_backfill_provider.exceptions import (
    BackfillError,
    ConflictError,
    FieldError,
    PlanValidationError,
    UnknownObjectError,
)
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.planner import PlannedBackfill, lot_label, plan_backfill
from airflow_backfill_provider.service import runs as run_rows
from airflow_backfill_provider.service.dags import catalog, dag_graph, paused_dag_ids, serialized_dag
from airflow_backfill_provider.service.tables import UTC, LotRow, PlanDagRow, PlanRow, ensure_tables
from airflow_backfill_provider.service.views import (
    ACTIVE_LOT_STATES,
    FINAL_LOT_STATES,
    FINAL_PLAN_STATES,
    LOT_STATES,
    SUCCEEDED_LOT_STATES,
    UNSUCCESSFUL_LOT_STATES,
    CreatedOut,
    LotDetailOut,
    LotList,
    LotOut,
    PlanList,
    PlanOut,
    PreviewOut,
    TaskInstanceOut,
    TimelineEntry,
)

CONTROLLER_DAG_ID = run_rows.CONTROLLER_DAG_ID
LOOKAHEAD = 16
"""runs materialised ahead of the scheduler per DAG, beyond ``parallelism``"""
MIRROR = {
    "success": "success",
    "failed": "failed",
    "blocked": "upstream_failed",
    "skipped": "skipped",
    "cancelled": "skipped",
    "running": "deferred",
    "pending": "scheduled",
    "waiting": "scheduled",
}
"""lot state -> state of its mapped task instance in the controller run (what Airflow's grid shows)"""


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _engine(session: Session) -> Any:
    bind = session.get_bind()
    return getattr(bind, "engine", bind)


# -- planning -------------------------------------------------------------------------------------


def plan_lots(spec: BackfillPlan, session: Session) -> PlannedBackfill:
    """Plan against the DAGs as Airflow knows them now; pool and controller checked too."""
    dags = catalog(spec.dag_id, session, downstream_dags=spec.downstream_dags)
    planned = plan_backfill(spec, dags)
    if spec.pool is not None:
        from airflow.models.pool import Pool

        if session.scalar(select(Pool.pool).where(Pool.pool == spec.pool)) is None:
            raise PlanValidationError(
                [FieldError("pool", f"no pool '{spec.pool}': create it first, or drop `pool`")]
            )
    if serialized_dag(CONTROLLER_DAG_ID, session) is None:
        planned.warnings.append(
            f"the controller DAG '{CONTROLLER_DAG_ID}' is not parsed: lots past the first window will not "
            "start. Put `from airflow_backfill_provider.engine.controller import controller_dag` in a file "
            "of your DAGs folder"
        )
    elif CONTROLLER_DAG_ID in paused_dag_ids([CONTROLLER_DAG_ID], session):
        planned.warnings.append(f"the controller DAG '{CONTROLLER_DAG_ID}' is paused: unpause it")
    return planned


def _lot_out(lot: LotRow) -> LotOut:
    return LotOut(
        index=lot.idx,
        dag_id=lot.dag_id,
        label=lot.label,
        run_id=lot.run_id,
        logical_date=lot.logical_date,
        data_interval_start=lot.start,
        data_interval_end=lot.end,
        state=lot.state,
        reason=lot.reason,
        start_date=lot.start_date,
        end_date=lot.end_date,
    )


def preview(spec: BackfillPlan, session: Session, *, limit: int = 1000) -> PreviewOut:
    planned = plan_lots(spec, session)
    tz = ZoneInfo(planned.timezone)
    lots = [
        LotOut(
            index=lot.index,
            dag_id=lot.dag_id,
            label=lot_label(lot.start, lot.end, tz),
            data_interval_start=lot.start,
            data_interval_end=lot.end,
        )
        for lot in planned.lots[:limit]
    ]
    return PreviewOut(
        total=len(planned.lots),
        lots=lots,
        dags=[_dag_summary(d) for d in planned.dags.values()],
        warnings=planned.warnings,
        name=spec.name or spec.default_name(),
        timezone=planned.timezone,
    )


def _dag_summary(planned_dag: Any) -> dict[str, Any]:
    return {
        "dag_id": planned_dag.dag_id,
        "run_tasks": sorted(planned_dag.tasks.run),
        "dry_run_tasks": sorted(planned_dag.tasks.dry_run),
        "self_dependency": planned_dag.self_dependency,
        "parents": list(planned_dag.parents),
    }


# -- create ---------------------------------------------------------------------------------------


Authorize = Callable[[Sequence[str]], None]
"""raises unless the caller may create runs of every DAG id given (the REST API's auth check)"""


def create(
    spec: BackfillPlan, session: Session, *, user: str | None, authorize: Authorize | None = None
) -> CreatedOut:
    """Create the plan, or return the existing one for the same name and content (409 for other content).

    ``authorize`` sees the DAGs the plan touches (with ``downstream_dags``, known only once planned)
    before anything is written; the plan is planned once.
    """
    ensure_tables(_engine(session))
    name = spec.name or spec.default_name()
    existing = session.scalar(select(PlanRow).where(PlanRow.name == name))
    if existing is not None:
        if authorize is not None:
            authorize(plan_dag_ids(existing, session))
        return CreatedOut(plan=_same_or_conflict(existing, spec, session), created=False)
    planned = plan_lots(spec, session)
    if authorize is not None:
        authorize(list(planned.dags))
    try:
        with session.begin_nested():
            row = _insert_plan(spec, name, planned, user, session)
    except IntegrityError:
        # a concurrent submission of the same name won the race: answer as for a resubmission
        session.rollback()
        existing = session.scalar(select(PlanRow).where(PlanRow.name == name))
        if existing is None:
            raise
        return CreatedOut(plan=_same_or_conflict(existing, spec, session), created=False)
    if not spec.paused:
        _advance(row, session)
    session.flush()
    return CreatedOut(plan=plan_out(row, session), created=True)


def _same_or_conflict(existing: PlanRow, spec: BackfillPlan, session: Session) -> PlanOut:
    if existing.content_hash != spec.content_hash():
        raise ConflictError(
            f"a plan named '{existing.name}' already exists with other content: choose another name, "
            "or resubmit the same content to get the existing plan",
            [FieldError("name", "taken by a plan with other content")],
        )
    return plan_out(existing, session)


def _insert_plan(
    spec: BackfillPlan, name: str, planned: PlannedBackfill, user: str | None, session: Session
) -> PlanRow:
    from airflow.models.backfill import Backfill, ReprocessBehavior

    token = secrets.token_urlsafe(32)
    created = now()
    row = PlanRow(
        name=name,
        dag_id=spec.dag_id,
        content_hash=spec.content_hash(),
        spec={**spec.to_dict(), "name": name},
        timezone=planned.timezone,
        state="paused" if spec.paused else "queued",
        total_lots=len(planned.lots),
        warnings=planned.warnings,
        created_at=created,
        created_by=user,
        token_hash=_hash(token),
    )
    session.add(row)
    session.flush()
    reprocess = {
        "none": ReprocessBehavior.NONE,
        "failed": ReprocessBehavior.FAILED,
        "all": ReprocessBehavior.COMPLETED,
    }
    _, upstream = dag_graph(session) if spec.parent_check == "all" else ({}, {})
    bounds: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    for lot in planned.lots:
        lo, hi = bounds.get(lot.dag_id, (lot.start, lot.end))
        bounds[lot.dag_id] = (min(lo, lot.start), max(hi, lot.end))
    for dag_id, planned_dag in planned.dags.items():
        backfill = Backfill(
            dag_id=dag_id,
            from_date=bounds[dag_id][0],
            to_date=bounds[dag_id][1],
            dag_run_conf=spec.conf,
            is_paused=spec.paused,
            reprocess_behavior=reprocess[spec.reprocess],
            max_active_runs=spec.parallelism,
            triggering_user_name=user,
        )
        session.add(backfill)
        session.flush()
        outside = (
            sorted(set(upstream.get(dag_id, ())) - set(planned.dags)) if spec.parent_check == "all" else []
        )
        session.add(
            PlanDagRow(
                plan_id=row.id,
                dag_id=dag_id,
                backfill_id=backfill.id,
                run_tasks=sorted(planned_dag.tasks.run),
                dry_run_tasks=sorted(planned_dag.tasks.dry_run),
                self_dependency=planned_dag.self_dependency,
                parents=[*planned_dag.parents, *(f"outside:{d}" for d in outside)],
            )
        )
    tz = ZoneInfo(planned.timezone)
    session.execute(
        insert(LotRow),
        [
            {
                "plan_id": row.id,
                "idx": lot.index,
                "dag_id": lot.dag_id,
                "start": lot.start,
                "end": lot.end,
                "label": lot_label(lot.start, lot.end, tz),
                "state": "pending",
                "timeline": [{"state": "pending", "at": created.isoformat()}],
            }
            for lot in planned.lots
        ],
    )
    row.controller_run_id = _create_controller_run(row, token, session)
    return row


def _create_controller_run(row: PlanRow, token: str, session: Session) -> str | None:
    """The plan's run of the controller DAG, its lot task expanded to one mapped instance per lot."""
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.models.taskmap import TaskMap
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    controller = serialized_dag(CONTROLLER_DAG_ID, session)
    if controller is None:
        return None
    run_rows.ensure_parked_pool(session)
    run_id = f"plan__{row.name}"
    controller.create_dagrun(
        run_id=run_id,
        logical_date=None,
        data_interval=None,
        run_after=now(),
        conf={"plan_id": row.id, "plan": row.name, "token": token},
        run_type=DagRunType.MANUAL,
        triggered_by=DagRunTriggeredByType.REST_API,
        triggering_user_name=row.created_by,
        state=DagRunState.QUEUED,
        note=f"backfill plan {row.name}: {row.total_lots} lots of {row.dag_id}",
        session=session,
    )
    session.execute(
        update(TI)
        .where(TI.dag_id == CONTROLLER_DAG_ID, TI.run_id == run_id, TI.task_id == "plan")
        .values(state="success", start_date=now(), end_date=now(), duration=0)
        .execution_options(synchronize_session=False)
    )
    session.add(
        TaskMap(dag_id=CONTROLLER_DAG_ID, task_id="plan", run_id=run_id, map_index=-1, length=0, keys=None)
    )
    session.flush()
    _expand_mirrors(row, run_id, session, controller)
    return run_id


MIRROR_CHUNK = 500
"""mirror task instances created per call: Airflow creates them one by one, and one long write
transaction for 10,000 would make other components' writes fail on SQLite (5 s lock wait)"""


def _expand_mirrors(row: PlanRow, run_id: str, session: Session, controller: Any = None) -> None:
    """Grow the controller run's ``lots`` expansion by one chunk, labelled and in its lots' states."""
    from airflow.models.taskinstance import TaskInstance as TI
    from airflow.models.taskmap import TaskMap

    task_map = session.scalar(
        select(TaskMap).where(
            TaskMap.dag_id == CONTROLLER_DAG_ID,
            TaskMap.run_id == run_id,
            TaskMap.task_id == "plan",
            TaskMap.map_index == -1,
        )
    )
    if task_map is None or task_map.length >= row.total_lots:
        return
    controller = controller or serialized_dag(CONTROLLER_DAG_ID, session)
    if controller is None:
        return
    first = task_map.length
    task_map.length = min(row.total_lots, first + MIRROR_CHUNK)
    session.flush()
    TaskMap.expand_mapped_task(controller.get_task("lots"), run_id, session=session)
    table = TI.__table__
    lot = select(LotRow).where(LotRow.plan_id == row.id, LotRow.idx == table.c.map_index)
    lot_state = lot.with_only_columns(LotRow.state).scalar_subquery()
    session.execute(
        update(table)
        .where(
            table.c.dag_id == CONTROLLER_DAG_ID,
            table.c.run_id == run_id,
            table.c.task_id == "lots",
            table.c.map_index >= first,
        )
        .values(
            rendered_map_index=lot.with_only_columns(LotRow.label).scalar_subquery(),
            state=case(*((lot_state == state, shown) for state, shown in MIRROR.items()), else_="scheduled"),
            pool=run_rows.PARKED_POOL,
        )
    )


# -- reading --------------------------------------------------------------------------------------


def get_row(ref: str | int, session: Session) -> PlanRow:
    ensure_tables(_engine(session))
    text = str(ref)
    row = session.scalar(select(PlanRow).where(PlanRow.id == int(text))) if text.isdigit() else None
    row = row or session.scalar(select(PlanRow).where(PlanRow.name == text))
    if row is None:
        raise UnknownObjectError(f"no backfill plan '{ref}'", [FieldError("plan", "give a plan id or name")])
    return row


def counts(plan_ids: Sequence[int], session: Session) -> dict[int, dict[str, int]]:
    """Lots per state of each plan, in one query."""
    found: dict[int, dict[str, int]] = {plan_id: dict.fromkeys(LOT_STATES, 0) for plan_id in plan_ids}
    rows = session.execute(
        select(LotRow.plan_id, LotRow.state, func.count())
        .where(LotRow.plan_id.in_(list(plan_ids)))
        .group_by(LotRow.plan_id, LotRow.state)
    )
    for plan_id, state, number in rows:
        found[plan_id][state] = int(number)
    return found


def plan_dag_ids(row: PlanRow, session: Session) -> list[str]:
    """The DAGs a plan touches (its own, and with ``downstream_dags`` those below it)."""
    found = list(session.scalars(select(PlanDagRow.dag_id).where(PlanDagRow.plan_id == row.id)))
    return found or [row.dag_id]


def plan_out(row: PlanRow, session: Session, lot_counts: dict[str, int] | None = None) -> PlanOut:
    spec = {k: v for k, v in row.spec.items() if k not in ("name", "dag_id", "timezone")}
    return PlanOut(
        id=row.id,
        name=row.name,
        dag_id=row.dag_id,
        state=row.state,
        counts=lot_counts if lot_counts is not None else counts([row.id], session)[row.id],
        total_lots=row.total_lots,
        timezone=row.timezone,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        created_by=row.created_by,
        controller_run_id=row.controller_run_id,
        warnings=list(row.warnings or []),
        **spec,
    )


def list_plans(
    session: Session,
    *,
    dag_id: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
    dag_ids: Sequence[str] | None = None,
) -> PlanList:
    ensure_tables(_engine(session))
    query = select(PlanRow)
    if dag_id:
        query = query.where(PlanRow.dag_id == dag_id)
    if state:
        query = query.where(PlanRow.state == state)
    if dag_ids is not None:
        query = query.where(PlanRow.dag_id.in_(list(dag_ids)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(PlanRow.id.desc()).limit(limit).offset(offset)).all()
    by_plan = counts([r.id for r in rows], session)
    return PlanList(plans=[plan_out(r, session, by_plan[r.id]) for r in rows], total=total)


def list_lots(
    row: PlanRow, session: Session, *, state: str | None = None, limit: int = 100, offset: int = 0
) -> LotList:
    query = select(LotRow).where(LotRow.plan_id == row.id)
    if state:
        query = query.where(LotRow.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    lots = session.scalars(query.order_by(LotRow.idx).limit(limit).offset(offset)).all()
    return LotList(lots=[_lot_out(lot) for lot in lots], total=total)


def lot_detail(row: PlanRow, index: int, session: Session) -> LotDetailOut:
    from airflow.models.taskinstance import TaskInstance as TI

    lot = session.get(LotRow, (row.id, index))
    if lot is None:
        raise UnknownObjectError(
            f"plan '{row.name}' has no lot {index}",
            [FieldError("index", f"lots are numbered 0 to {row.total_lots - 1}")],
        )
    plan_dag = session.get(PlanDagRow, (row.id, lot.dag_id))
    dry = set(plan_dag.dry_run_tasks if plan_dag else [])
    tis: list[TaskInstanceOut] = []
    failed: list[tuple[int, Any]] = []
    if lot.run_id:
        for ti in session.scalars(
            select(TI)
            .where(TI.dag_id == lot.dag_id, TI.run_id == lot.run_id)
            .order_by(TI.task_id, TI.map_index)
        ):
            tis.append(
                TaskInstanceOut(
                    task_id=ti.task_id,
                    map_index=ti.map_index,
                    state=ti.state,
                    try_number=ti.try_number,
                    hostname=ti.hostname or None,
                    start_date=ti.start_date,
                    end_date=ti.end_date,
                    note=ti.note,
                    dry_run=ti.task_id in dry,
                    rendered_fields=_rendered_fields(ti, session),
                )
            )
            if ti.state == "failed":
                failed.append((len(tis) - 1, ti))
    for position, ti in failed:  # after the loop: reading a log may detach the task instances
        tis[position].error = _error(ti)
    return LotDetailOut(
        **_lot_out(lot).model_dump(),
        task_instances=tis,
        timeline=[
            TimelineEntry(state=t["state"], at=dt.datetime.fromisoformat(t["at"])) for t in lot.timeline
        ],
    )


def _rendered_fields(ti: Any, session: Session) -> dict[str, Any]:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF

    found = session.scalar(
        select(RTIF.rendered_fields).where(
            RTIF.dag_id == ti.dag_id,
            RTIF.task_id == ti.task_id,
            RTIF.run_id == ti.run_id,
            RTIF.map_index == ti.map_index,
        )
    )
    return dict(found or {})


def _error(ti: Any) -> str | None:
    """The end of the failed try's log: its messages and the exception (``error_detail``)."""
    try:
        from airflow.utils.log.log_reader import TaskLogReader

        logs, _ = TaskLogReader().read_log_chunks(ti, ti.try_number, {"download_logs": True})  # type: ignore[typeddict-item,typeddict-unknown-key]
    except Exception as exc:  # logs may live on a worker or in remote storage this process cannot read
        return f"log not readable here: {exc}"
    lines: list[str] = []
    for entry in logs:
        data = (
            entry.model_dump() if hasattr(entry, "model_dump") else entry if isinstance(entry, dict) else {}
        )
        lines.append(str(data.get("event") or entry))
        for detail in data.get("error_detail") or ():
            if isinstance(detail, dict):
                lines.append(f"{detail.get('exc_type')}: {detail.get('exc_value')}")
    return "\n".join(lines)[-4000:] or None


# -- steering -------------------------------------------------------------------------------------


def _update_backfills(row: PlanRow, session: Session, **values: Any) -> None:
    """Set ``values`` on the Airflow Backfill rows of the plan's DAGs (pause, completion)."""
    from airflow.models.backfill import Backfill

    ids = list(session.scalars(select(PlanDagRow.backfill_id).where(PlanDagRow.plan_id == row.id)))
    session.execute(
        update(Backfill)
        .where(Backfill.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _require(row: PlanRow, allowed: Sequence[str], action: str) -> None:
    if row.state not in allowed:
        raise ConflictError(
            f"cannot {action} plan '{row.name}': it is {row.state}",
            [FieldError("state", f"{action} needs a plan that is {' or '.join(allowed)}")],
        )


def pause(row: PlanRow, session: Session) -> PlanOut:
    _require(row, ("queued", "running"), "pause")
    row.state = "paused"
    _update_backfills(row, session, is_paused=True)
    session.flush()
    return plan_out(row, session)


def resume(row: PlanRow, session: Session) -> PlanOut:
    _require(row, ("paused",), "resume")
    row.state = "running" if row.started_at else "queued"
    _update_backfills(row, session, is_paused=False)
    _advance(row, session)
    session.flush()
    return plan_out(row, session)


def cancel(row: PlanRow, session: Session) -> PlanOut:
    """Start no new lot, and fail the runs of the lots in flight."""
    from airflow.api.common.mark_tasks import set_dag_run_state_to_failed

    _require(row, ("queued", "running", "paused"), "cancel")
    _update_backfills(row, session, is_paused=True)
    active = session.scalars(
        select(LotRow).where(LotRow.plan_id == row.id, LotRow.state.in_(ACTIVE_LOT_STATES))
    )
    dags: dict[str, Any] = {}
    changed: list[LotRow] = []
    for lot in active:
        if lot.run_id:
            dag = dags.get(lot.dag_id) or dags.setdefault(lot.dag_id, serialized_dag(lot.dag_id, session))
            if dag is not None:
                set_dag_run_state_to_failed(dag=dag, run_id=lot.run_id, commit=True, session=session)
        _set_state(lot, "cancelled", "the plan was cancelled")
        changed.append(lot)
    _finish(row, "cancelled", session)
    _mirror(row, changed, session)
    session.flush()
    return plan_out(row, session)


def retry(row: PlanRow, session: Session, *, indexes: Sequence[int] | None = None) -> PlanOut:
    """Run failed (and blocked) lots again: a failed lot's run is cleared, a blocked lot waits its turn."""
    _require(row, ("running", "failed", "paused", "success", "cancelled"), "retry")
    query = select(LotRow).where(
        LotRow.plan_id == row.id, LotRow.state.in_(("failed", "blocked", "cancelled"))
    )
    if indexes:
        query = query.where(LotRow.idx.in_(list(indexes)))
    lots = list(session.scalars(query.order_by(LotRow.idx)))
    if not lots:
        raise ConflictError(
            f"plan '{row.name}' has no failed or blocked lot to retry",
            [FieldError("indexes", "name failed or blocked lots")],
        )
    spec = _spec(row)
    plan_dags = {d.dag_id: d for d in session.scalars(select(PlanDagRow).where(PlanDagRow.plan_id == row.id))}
    for lot in lots:
        if lot.run_id and lot.state == "failed":
            dag = serialized_dag(lot.dag_id, session)
            run = _run(lot.dag_id, lot.run_id, session)
            if dag is not None and run is not None:
                plan_dag = plan_dags[lot.dag_id]
                _attach(
                    row,
                    spec,
                    plan_dag,
                    lot,
                    dag,
                    _adopt(row, spec, plan_dag, lot, dag, run, session),
                    session,
                )
                continue
        lot.run_id = None
        lot.logical_date = None
        _set_state(lot, "pending", "retry")
    had_ended = row.state in FINAL_PLAN_STATES
    if had_ended:
        row.state = "running"
        row.ended_at = None
    _update_backfills(row, session, is_paused=row.state == "paused", completed_at=None)
    _mirror(row, lots, session)
    if had_ended:
        _restart_driver(row, session)
    session.flush()
    _advance(row, session)
    session.flush()
    return plan_out(row, session)


def _restart_driver(row: PlanRow, session: Session) -> None:
    """An ended plan's driver has ended (or is ending): clear the controller's ``drive`` for a new one.

    Airflow's clear also handles a ``drive`` try still finishing on a worker: that try is stopped
    and a new one starts, which defers to a new driver.
    """
    from airflow.utils.state import DagRunState

    controller = serialized_dag(CONTROLLER_DAG_ID, session)
    if controller is not None and row.controller_run_id:
        session.flush()  # Airflow's clear expires the session: unflushed changes would be lost
        controller.clear(
            task_ids=["drive"],
            run_id=row.controller_run_id,
            dag_run_state=DagRunState.QUEUED,
            session=session,
            dry_run=False,
        )


# -- advancing ------------------------------------------------------------------------------------


def check_token(row: PlanRow, token: str | None) -> None:
    if not token or not hmac.compare_digest(_hash(token), row.token_hash):
        raise PlanTokenError("this token does not belong to the plan")


class PlanTokenError(BackfillError):
    code = "forbidden"
    status_code = 403


def advance(ref: str | int, session: Session, *, token: str | None) -> PlanOut:
    """One step of the plan's engine; safe to call any number of times, from anywhere."""
    row = get_row(ref, session)
    check_token(row, token)
    row = session.scalar(select(PlanRow).where(PlanRow.id == row.id).with_for_update()) or row
    _advance(row, session)
    session.flush()
    return plan_out(row, session)


def _set_state(lot: LotRow, state: str, reason: str | None = None, at: dt.datetime | None = None) -> bool:
    """Move the lot to ``state``; ``at`` is when that happened, if known better than now (run times)."""
    if lot.state == state and lot.reason == reason:
        return False
    if lot.state != state:
        lot.timeline = [*lot.timeline, {"state": state, "at": (at or now()).astimezone(UTC).isoformat()}]
    lot.state = state
    lot.reason = reason
    return True


def _spec(row: PlanRow) -> BackfillPlan:
    return BackfillPlan.model_validate(dict(row.spec))


def _run(dag_id: str, run_id: str, session: Session) -> Any:
    from airflow.models.dagrun import DagRun

    return session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))


def _advance(row: PlanRow, session: Session) -> None:
    if row.state in FINAL_PLAN_STATES:
        return
    spec = _spec(row)
    plan_dags = {d.dag_id: d for d in session.scalars(select(PlanDagRow).where(PlanDagRow.plan_id == row.id))}
    changed: list[LotRow] = []
    active = select(LotRow).where(LotRow.plan_id == row.id, LotRow.state.in_(ACTIVE_LOT_STATES))
    in_flight_lots = list(session.scalars(active.where(LotRow.run_id.is_not(None)).order_by(LotRow.idx)))
    in_flight = _sync_runs(row, in_flight_lots, plan_dags, changed, session)
    session.flush()  # Airflow's sessions do not autoflush: the gates below must see these states
    if row.state in ("queued", "running"):
        # the next lots in plan order, enough to fill every DAG's window (skipped lots use no slot,
        # so look further; what is not reached now is reached on the next call)
        reach = (spec.parallelism + LOOKAHEAD) * len(plan_dags) * 4
        candidates = list(
            session.scalars(active.where(LotRow.run_id.is_(None)).order_by(LotRow.idx).limit(reach))
        )
        _open_gates(row, spec, plan_dags, candidates, in_flight, changed, session)
    if row.started_at is None and any(lot.state != "pending" for lot in changed):
        row.started_at = now()
    if row.state == "queued" and row.started_at is not None:
        row.state = "running"
    session.flush()
    remaining = session.scalar(
        select(func.count()).where(LotRow.plan_id == row.id, LotRow.state.in_(ACTIVE_LOT_STATES))
    )
    if not remaining and row.state != "paused":
        bad = session.scalar(
            select(func.count()).where(LotRow.plan_id == row.id, LotRow.state.in_(("failed", "blocked")))
        )
        _finish(row, "failed" if bad else "success", session)
    _mirror(row, changed, session)
    if row.controller_run_id:
        _expand_mirrors(row, row.controller_run_id, session)


def _sync_runs(
    row: PlanRow,
    lots: list[LotRow],
    plan_dags: dict[str, PlanDagRow],
    changed: list[LotRow],
    session: Session,
) -> dict[str, int]:
    """Lots follow their runs; parked dry-run tasks that are ready end in success."""
    from airflow.models.dagrun import DagRun

    in_flight = {dag_id: 0 for dag_id in plan_dags}
    if not lots:
        return in_flight
    run_flips = [(lot.dag_id, lot.run_id) for lot in lots if lot.run_id is not None]
    run_rows.flip_parked(run_flips, session)
    found = {
        (r.dag_id, r.run_id): r
        for r in session.execute(
            select(
                DagRun.dag_id,
                DagRun.run_id,
                DagRun.state,
                DagRun.run_after,
                DagRun.start_date,
                DagRun.end_date,
            ).where(
                or_(
                    *(
                        and_(DagRun.dag_id == d, DagRun.run_id.in_([r for dd, r in run_flips if dd == d]))
                        for d in {d for d, _ in run_flips}
                    )
                )
            )
        )
    }
    paused = paused_dag_ids(plan_dags, session)
    current = now()
    for lot in lots:
        run = found.get((lot.dag_id, lot.run_id))
        if run is None:  # deleted by hand: the lot is done with nothing to show
            changed += [lot] if _set_state(lot, "failed", f"run {lot.run_id} was deleted") else []
            continue
        state, reason = str(run.state), None
        lot.start_date, lot.end_date = run.start_date, run.end_date
        if state in ("success", "failed"):
            new = state
        elif state == "running":
            new = "running"
        elif lot.dag_id in paused:
            new, reason = "waiting", f"DAG '{lot.dag_id}' is paused: unpause it to run this lot"
        elif run.run_after and run.run_after.replace(tzinfo=run.run_after.tzinfo or UTC) > current:
            why = (
                "its data time ends then (run_future: wait)"
                if row.spec.get("run_future", "wait") == "wait"
                else "its interval starts then: Airflow runs no logical date in the future"
            )
            new, reason = "waiting", f"waits until {run.run_after.isoformat()}: {why}"
        else:
            new = "pending"
        if new not in ("success", "failed", "skipped"):
            in_flight[lot.dag_id] = in_flight.get(lot.dag_id, 0) + 1
        at = run.end_date if new in ("success", "failed") else run.start_date if new == "running" else None
        if _set_state(lot, new, reason, at):
            changed.append(lot)
    return in_flight


def _open_gates(
    row: PlanRow,
    spec: BackfillPlan,
    plan_dags: dict[str, PlanDagRow],
    candidates: list[LotRow],
    in_flight: dict[str, int],
    changed: list[LotRow],
    session: Session,
) -> None:
    """Materialise the next lots whose gates are open, up to the window of each DAG."""
    budget = {dag_id: spec.parallelism + LOOKAHEAD - in_flight.get(dag_id, 0) for dag_id in plan_dags}
    stopped: set[str] = set()
    dags: dict[str, Any] = {}
    for lot in candidates:
        dag_id = lot.dag_id
        if dag_id in stopped or budget[dag_id] <= 0:
            continue
        plan_dag = plan_dags[dag_id]
        verdict, reason = _gate(row, spec, plan_dag, lot, session)
        if verdict == "go":
            dag = dags.get(dag_id) or dags.setdefault(dag_id, serialized_dag(dag_id, session))
            if dag is None:
                verdict, reason = "wait", f"DAG '{dag_id}' is not parsed by Airflow any more"
            else:
                verdict, reason = _materialise(row, spec, plan_dag, lot, dag, session)
        if verdict == "blocked":
            changed += [lot] if _set_state(lot, "blocked", reason) else []
        elif verdict == "skipped":
            changed += [lot] if _set_state(lot, "skipped", reason) else []
        elif verdict == "wait":
            changed += [lot] if _set_state(lot, "waiting", reason) else []
            if spec.order != "none" or plan_dag.self_dependency:
                stopped.add(dag_id)
        else:  # materialised
            budget[dag_id] -= 1
            changed.append(lot)
            if plan_dag.self_dependency:
                stopped.add(dag_id)
        session.flush()  # the next lot's gate may look at this one (self-dependency, parents)


def _previous_lot(row: PlanRow, lot: LotRow, session: Session) -> LotRow | None:
    return session.scalar(
        select(LotRow)
        .where(LotRow.plan_id == row.id, LotRow.dag_id == lot.dag_id, LotRow.idx < lot.idx)
        .order_by(LotRow.idx.desc())
        .limit(1)
    )


def _gate(
    row: PlanRow, spec: BackfillPlan, plan_dag: PlanDagRow, lot: LotRow, session: Session
) -> tuple[str, str | None]:
    """("go", None), or why not: ("wait", reason) or ("blocked", reason)."""
    followed: list[tuple[LotRow | None, str]] = []
    if plan_dag.self_dependency:
        followed.append((_previous_lot(row, lot, session), "self-dependency"))
    if spec.parent_check in ("scope", "all"):
        followed += [
            (
                session.scalar(
                    select(LotRow).where(
                        LotRow.plan_id == row.id, LotRow.dag_id == parent, LotRow.start == lot.start
                    )
                ),
                f"parent_check, DAG '{parent}'",
            )
            for parent in plan_dag.parents
            if not parent.startswith("outside:")
        ]
    for other, why in followed:
        if other is None or other.state in SUCCEEDED_LOT_STATES:
            continue
        if other.state in UNSUCCESSFUL_LOT_STATES:
            return "blocked", f"lot {other.idx} ({other.label}) did not succeed ({why})"
        return "wait", f"waits for lot {other.idx} ({other.label}) to succeed ({why})"
    if spec.parent_check == "all":
        missing = _missing_outside_parents(spec, plan_dag, lot, session)
        if missing:
            return "wait", f"waits for parents outside the plan: {missing}"
    return "go", None


def _missing_outside_parents(
    spec: BackfillPlan, plan_dag: PlanDagRow, lot: LotRow, session: Session
) -> str | None:
    """``parent_check: all``: dry-run upstream tasks and upstream DAGs must have succeeded for the interval."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance as TI

    # a run covers the lot's interval when its data interval contains it, or, for a zero-length
    # interval (Airflow 3's cron trigger timetables), when that instant falls inside the lot
    covering = or_(
        and_(DagRun.data_interval_start <= lot.start, DagRun.data_interval_end >= lot.end),
        and_(
            DagRun.data_interval_start == DagRun.data_interval_end,
            DagRun.data_interval_start >= lot.start,
            DagRun.data_interval_start < lot.end,
        ),
    )
    for parent in plan_dag.parents:
        if parent.startswith("outside:"):
            dag_id = parent.split(":", 1)[1]
            ok = session.scalar(
                select(func.count()).where(DagRun.dag_id == dag_id, DagRun.state == "success", covering)
            )
            if not ok:
                return f"no successful run of DAG '{dag_id}' covers {lot.label}"
    dry = set(plan_dag.dry_run_tasks)
    if dry and lot.dag_id == spec.dag_id:
        dag = serialized_dag(lot.dag_id, session)
        needed = sorted(
            {
                u
                for t in plan_dag.run_tasks
                for u in (dag.get_task(t).upstream_task_ids if dag else ())
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
                return f"task '{task_id}' (dry-run by this plan) has no successful run covering {lot.label}"
    return None


def _materialise(
    row: PlanRow, spec: BackfillPlan, plan_dag: PlanDagRow, lot: LotRow, dag: Any, session: Session
) -> tuple[str, str | None]:
    """Give the lot its run: a new one, or (``reprocess``) the interval's existing one cleared."""
    from airflow.models.dagrun import DagRun

    run_id = run_rows.run_id_for(row.name, lot.start)
    existing = session.scalars(
        select(DagRun)
        .where(
            DagRun.dag_id == lot.dag_id,
            DagRun.data_interval_start == lot.start,
            DagRun.data_interval_end == lot.end,
        )
        .order_by(DagRun.id.desc())
    ).all()
    mine = next((r for r in existing if r.run_id == run_id), None)
    if mine is not None:  # created by an earlier call that did not record it: take it up again
        lot.run_id, lot.logical_date = mine.run_id, mine.logical_date
        return "materialised", None
    if existing:
        other = existing[0]
        if other.state in ("queued", "running"):
            return "wait", f"waits for run '{other.run_id}' of this interval, in flight elsewhere"
        redo = spec.reprocess == "all" or (spec.reprocess == "failed" and other.state == "failed")
        if not redo:
            return "skipped", f"run '{other.run_id}' already {other.state} (reprocess: {spec.reprocess})"
        _attach(row, spec, plan_dag, lot, dag, _adopt(row, spec, plan_dag, lot, dag, other, session), session)
        return "materialised", None
    # wait: until the data time has ended. now: at once, but never before the interval starts,
    # because Airflow's scheduler does not run a logical date that is in the future
    run_after = lot.end if spec.run_future == "wait" else min(lot.end, max(lot.start, now()))
    run = run_rows.create_run(
        dag,
        run_id=run_id,
        start=lot.start,
        end=lot.end,
        run_after=run_after,
        conf=_conf(row, spec, lot),
        backfill_id=plan_dag.backfill_id,
        sort_ordinal=lot.idx + 1,
        user=row.created_by,
        note=f"backfill plan {row.name}, lot {lot.idx} ({lot.label})",
        session=session,
    )
    _attach(row, spec, plan_dag, lot, dag, run, session)
    return "materialised", None


def _conf(row: PlanRow, spec: BackfillPlan, lot: LotRow) -> dict[str, Any]:
    """The lot run's conf: the plan's, with ``task_params`` for the plan's own DAG."""
    return run_rows.lot_conf(spec.conf, row.name, spec.task_params if lot.dag_id == spec.dag_id else {})


def _adopt(
    row: PlanRow, spec: BackfillPlan, plan_dag: PlanDagRow, lot: LotRow, dag: Any, run: Any, session: Session
) -> Any:
    """An existing run of the lot's interval, cleared into the plan (``reprocess``, ``retry``)."""
    return run_rows.adopt_run(
        dag,
        run,
        conf=_conf(row, spec, lot),
        backfill_id=plan_dag.backfill_id,
        sort_ordinal=lot.idx + 1,
        session=session,
    )


def _attach(
    row: PlanRow, spec: BackfillPlan, plan_dag: PlanDagRow, lot: LotRow, dag: Any, run: Any, session: Session
) -> None:
    """The lot's run is ready: its dry-run tasks, pool and priority set, and the lot pointing at it."""
    dry = set(plan_dag.dry_run_tasks)
    graph = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
    run_rows.prepare_task_instances(
        run,
        dry_run=dry,
        early_success=run_rows.presettable(graph, dry),
        note=f"dry run: skipped by backfill plan {row.name}",
        pool=spec.pool,
        priority_weight=spec.priority_weight,
        session=session,
    )
    lot.run_id, lot.logical_date = run.run_id, run.logical_date
    _set_state(lot, "pending", None)


def _finish(row: PlanRow, state: str, session: Session) -> None:
    row.state = state
    row.ended_at = now()
    _update_backfills(row, session, completed_at=row.ended_at)


def _mirror(row: PlanRow, lots: list[LotRow], session: Session) -> None:
    """Show lot states on the controller run's mapped task instances (Airflow's grid)."""
    from airflow.models.taskinstance import TaskInstance as TI

    if not row.controller_run_id or not lots:
        return
    current = now()
    table = TI.__table__
    session.execute(
        update(table)
        .where(
            table.c.dag_id == CONTROLLER_DAG_ID,
            table.c.run_id == row.controller_run_id,
            table.c.task_id == "lots",
            table.c.map_index == bindparam("mi"),
        )
        .values(state=bindparam("st"), end_date=bindparam("ed")),
        [
            {
                "mi": lot.idx,
                "st": MIRROR[lot.state],
                "ed": current if lot.state in FINAL_LOT_STATES else None,
            }
            for lot in lots
        ],
    )
