"""Lots into DagRuns: the only code that writes Airflow's run and task-instance rows.

A lot's run is an ordinary BACKFILL_JOB run tied to an Airflow ``Backfill`` row (one per plan and
DAG), so Airflow's scheduler itself admits the runs in plan order (``BackfillDagRun.sort_ordinal``)
and never more than ``parallelism`` at once (``Backfill.max_active_runs``), and holds them while the
plan is paused (``Backfill.is_paused``).

Dry-run tasks end in success without running. A dry-run task whose upstream tasks are all dry-run
too (or that has none) is set to success when the run is created; any other is *parked*: its task
instance is put in the 0-slot pool ``PARKED_POOL``, so Airflow's own trigger rules decide when it
becomes ready (or upstream_failed), the scheduler can never queue it, and ``flip_parked`` turns it
to success once it is ready.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from airflow_backfill_provider.service.tables import UTC

CONTROLLER_DAG_ID = "backfill_plan_controller"
PARKED_POOL = "backfill_parked"
PARKED_POOL_DESCRIPTION = (
    "Task instances parked by backfill plans (dry-run tasks waiting for their upstream, and the "
    "controller's lot mirrors). Keep its slots at 0: any slot would let parked tasks run."
)
PLAN_CONF_KEY = "__backfill_plan__"
"""Reserved key of a lot run's conf: the plan's name and its ``task_params`` (read by the policy)."""


def ensure_parked_pool(session: Session) -> None:
    from airflow.models.pool import Pool

    if session.scalar(select(Pool).where(Pool.pool == PARKED_POOL)) is None:
        session.add(
            Pool(pool=PARKED_POOL, slots=0, description=PARKED_POOL_DESCRIPTION, include_deferred=False)
        )
        session.flush()


def run_id_for(plan_name: str, start: dt.datetime) -> str:
    """Deterministic: the same plan and lot always give the same run id."""
    return f"backfill_plan__{plan_name}__{start.astimezone(UTC):%Y%m%dT%H%M%S}"


def lot_conf(conf: Mapping[str, Any], plan_name: str, task_params: Mapping[str, Any]) -> dict[str, Any]:
    if not task_params:
        return dict(conf)
    return {**conf, PLAN_CONF_KEY: {"plan": plan_name, "task_params": dict(task_params)}}


def free_logical_date(dag_id: str, start: dt.datetime, session: Session) -> dt.datetime:
    """The lot's start, moved on by microseconds while another run holds that logical date.

    Airflow keeps one run per (DAG, logical date). A lot whose start is taken by a run of another
    interval (a month lot over a daily DAG's history) still gets its own run; ``ds`` and the data
    interval are unchanged, only ``logical_date`` shows the microseconds.
    """
    from airflow.models.dagrun import DagRun

    found = set(
        session.scalars(
            select(DagRun.logical_date).where(
                DagRun.dag_id == dag_id,
                DagRun.logical_date >= start,
                DagRun.logical_date < start + dt.timedelta(milliseconds=1),
            )
        )
    )
    taken = {t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC) for t in found if t is not None}
    candidate = start
    while candidate in taken:
        candidate += dt.timedelta(microseconds=1)
    return candidate


def presettable(tasks: Mapping[str, Collection[str]], dry_run: Collection[str]) -> set[str]:
    """Dry-run tasks that can be success up front: every upstream task is presettable too (or none)."""
    done: set[str] = set()
    changed = True
    while changed:
        changed = False
        for task_id in dry_run:
            if task_id not in done and all(u in done for u in tasks.get(task_id, ())):
                done.add(task_id)
                changed = True
    return done


def prepare_task_instances(
    run: Any,
    *,
    dry_run: Collection[str],
    early_success: Collection[str],
    note: str,
    pool: str | None,
    priority_weight: int | None,
    session: Session,
) -> None:
    """Dry-run tasks: success now or parked; run tasks: the plan's pool and priority."""
    now = dt.datetime.now(UTC)
    for ti in run.get_task_instances(session=session):
        if ti.task_id in dry_run:
            ti.note = note
            if ti.task_id in early_success:
                ti.state = "success"
                ti.start_date = ti.end_date = now
                ti.duration = 0
            else:
                ti.pool = PARKED_POOL
        else:
            if pool is not None:
                ti.pool = pool
            if priority_weight is not None:
                ti.priority_weight = priority_weight
        session.merge(ti)


def flip_parked(dag_run_ids: Iterable[tuple[str, str]], session: Session) -> int:
    """Parked dry-run tasks that Airflow found ready (state scheduled) end in success now."""
    from airflow.models.taskinstance import TaskInstance as TI

    flipped = 0
    now = dt.datetime.now(UTC)
    by_dag: dict[str, list[str]] = {}
    for dag_id, run_id in dag_run_ids:
        by_dag.setdefault(dag_id, []).append(run_id)
    for dag_id, run_ids in by_dag.items():
        result = session.execute(
            update(TI)
            .where(
                TI.dag_id == dag_id,
                TI.run_id.in_(run_ids),
                TI.pool == PARKED_POOL,
                TI.state == "scheduled",
            )
            .values(state="success", start_date=now, end_date=now, duration=0, try_number=0)
            .execution_options(synchronize_session=False)
        )
        flipped += getattr(result, "rowcount", 0) or 0
    return flipped


def create_run(
    dag: Any,
    *,
    run_id: str,
    start: dt.datetime,
    end: dt.datetime,
    run_after: dt.datetime,
    conf: dict[str, Any],
    backfill_id: int,
    sort_ordinal: int,
    user: str | None,
    note: str,
    session: Session,
) -> Any:
    """A new QUEUED backfill run for the lot, with its BackfillDagRun row (plan order)."""
    from airflow.models.backfill import BackfillDagRun
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    logical_date = free_logical_date(dag.dag_id, start, session)
    run = dag.create_dagrun(
        run_id=run_id,
        logical_date=logical_date,
        data_interval=(start, end),
        run_after=run_after,
        conf=conf,
        run_type=DagRunType.BACKFILL_JOB,
        triggered_by=DagRunTriggeredByType.BACKFILL,
        triggering_user_name=user,
        state=DagRunState.QUEUED,
        backfill_id=backfill_id,
        note=note,
        session=session,
    )
    session.add(
        BackfillDagRun(
            backfill_id=backfill_id, dag_run_id=run.id, logical_date=logical_date, sort_ordinal=sort_ordinal
        )
    )
    return run


def adopt_run(
    dag: Any,
    run: Any,
    *,
    conf: dict[str, Any],
    backfill_id: int,
    sort_ordinal: int,
    session: Session,
) -> Any:
    """Re-run an existing run of the lot's interval (``reprocess``, ``retry``): clear it into the plan.

    As Airflow's native backfill does: the run keeps its id and logical date, is cleared to QUEUED,
    and joins the plan's Backfill row so the scheduler gates it like the plan's other runs.
    """
    from airflow.models.backfill import BackfillDagRun
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    session.flush()  # Airflow's clear expires the session: unflushed changes would be lost
    dag.clear(run_id=run.run_id, dag_run_state=DagRunState.QUEUED, session=session, dry_run=False)
    session.execute(
        update(DagRun)
        .where(DagRun.id == run.id)
        .values(
            backfill_id=backfill_id,
            run_type=DagRunType.BACKFILL_JOB,
            triggered_by=DagRunTriggeredByType.BACKFILL,
            conf=conf,
        )
        .execution_options(synchronize_session=False)
    )
    already = session.scalar(
        select(BackfillDagRun).where(
            BackfillDagRun.backfill_id == backfill_id, BackfillDagRun.dag_run_id == run.id
        )
    )
    if already is None:
        session.add(
            BackfillDagRun(
                backfill_id=backfill_id,
                dag_run_id=run.id,
                logical_date=run.logical_date,
                sort_ordinal=sort_ordinal,
            )
        )
    session.flush()
    session.expire(run)
    return session.get(DagRun, run.id)
