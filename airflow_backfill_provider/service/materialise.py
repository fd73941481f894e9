"""Lots into DagRuns: the only code that writes Airflow's run and task-instance rows for a lot.

A lot's run is an ordinary BACKFILL_JOB run tied to the plan's Airflow ``Backfill`` row for its DAG,
so Airflow's scheduler itself admits the runs in plan order (``BackfillDagRun.sort_ordinal``), never
more than ``parallelism`` at once (``Backfill.max_active_runs``), and holds them while the plan is
paused (``Backfill.is_paused``).

Dry-run tasks end in success without running. One whose upstream tasks are all dry-run too (or
that has none) is set to success when the run is created; any other is *parked* in the 0-slot pool
``PARKED_POOL``, so Airflow's own trigger rules decide when it becomes ready (or upstream_failed),
the scheduler never queues it, and ``flip_parked`` turns it to success once it is ready. Where a task
runs anyway (cleared from the UI, a mapped task's expansion), the provider's policy makes it a no-op
on the worker: the run's conf lists its dry-run tasks.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from airflow.models.asset import AssetEvent, AssetModel, DagScheduleAssetReference
from airflow.models.backfill import BackfillDagRun
from airflow.models.dagrun import DagRun
from airflow.models.pool import Pool
from airflow.models.taskinstance import TaskInstance as TI
from airflow.utils.state import DagRunState
from airflow.utils.types import DagRunTriggeredByType, DagRunType
from sqlalchemy import and_, delete, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airflow_backfill_provider import signing
from airflow_backfill_provider.marker import LotMarker, apply_routing
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.reserved import (
    PARKED_POOL,
    PARKED_POOL_DESCRIPTION,
    PLAN_CONF_KEY,
    RUN_ID_PREFIX,
)
from airflow_backfill_provider.service.dags import dag_version_row
from airflow_backfill_provider.service.lots import now
from airflow_backfill_provider.service.tables import UTC, LotRow, PlanDagRow, PlanRow, in_flight_sql


def ensure_parked_pool(session: Session) -> None:
    """The 0-slot pool of dry-run tasks, made by the first plan; two first plans at once both find it."""
    if session.scalar(select(Pool.pool).where(Pool.pool == PARKED_POOL)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                Pool(pool=PARKED_POOL, slots=0, description=PARKED_POOL_DESCRIPTION, include_deferred=False)
            )
    except IntegrityError:
        pass  # a concurrent first plan made it (PostgreSQL waited for its commit, then refused ours)


def run_id_for(plan_name: str, start: dt.datetime) -> str:
    """Deterministic: the same plan and lot always give the same run id (microseconds only when the
    lot starts inside a second, so two lots of a plan never share one)."""
    utc = start.astimezone(UTC)
    return f"{RUN_ID_PREFIX}{plan_name}__{utc:%Y%m%dT%H%M%S}" + (f"_{utc:%f}" if utc.microsecond else "")


MAX_RUN_ID_TRIES = 100


def is_own_run_id(run_id: str, base: str) -> bool:
    """The lot's run id, or the one ``free_run_id`` gave it."""
    return run_id == base or (run_id.startswith(f"{base}__") and run_id[len(base) + 2 :].isdigit())


def free_run_id(dag_id: str, base: str, session: Session) -> str:
    """``base``, or ``base__2``, ``base__3``... while a run of the DAG (one made by hand under a plan's
    predictable id, say) already holds it: a squatted run id never stops a lot or a plan."""
    taken = set(
        session.scalars(
            select(DagRun.run_id).where(
                DagRun.dag_id == dag_id, DagRun.run_id.startswith(base, autoescape=True)
            )
        )
    )
    for n in range(1, MAX_RUN_ID_TRIES + 1):
        candidate = base if n == 1 else f"{base}__{n}"
        if candidate not in taken:
            return candidate
    raise ValueError(f"run ids {base} to {base}__{MAX_RUN_ID_TRIES} of DAG '{dag_id}' are all taken")


def lot_marker(spec: BackfillPlan, plan_name: str, dag_id: str, dry_run: Collection[str]) -> LotMarker | None:
    """What the lot run's conf tells the scheduler and the workers (signed): the plan's dry-run tasks,
    the DAG's ``task_params`` and the plan's routing, with a new nonce; None when there is nothing."""
    task_params = spec.params_of(dag_id)
    marker = LotMarker(
        plan=plan_name,
        dry_run=tuple(sorted(dry_run)),
        task_params=task_params,
        pool=spec.pool,
        queue=spec.queue,
        priority_weight=spec.priority_weight,
        weight_rule=spec.weight_rule,
        nonce=secrets.token_hex(8),
        suppress_asset_events=spec.asset_events == "suppress",
    )
    return marker if task_params or dry_run or marker.routes or marker.suppress_asset_events else None


@dataclass(frozen=True)
class LotTarget:
    """What a lot's run is made from: the plan (row and spec), the lot and its DAG's part in the plan,
    the DAG as Airflow serialized it, and the tasks its run dry-runs."""

    plan: PlanRow
    spec: BackfillPlan
    plan_dag: PlanDagRow
    lot: LotRow
    dag: Any
    dry_run: Collection[str]

    @cached_property
    def marker(self) -> LotMarker | None:
        """The marker the run carries (``lot_marker``), made only once a run is made or adopted: a
        lot that keeps its run, waits or is skipped costs the pass none."""
        return lot_marker(self.spec, self.plan.name, self.lot.dag_id, self.dry_run)


def lot_conf(spec: BackfillPlan, marker: LotMarker | None, binding: signing.RunBinding) -> dict[str, Any]:
    """The lot run's conf: the plan's, plus the marker signed for exactly this run."""
    if marker is None:
        return dict(spec.conf)
    return {**spec.conf, PLAN_CONF_KEY: marker.conf_entry(binding)}


def _binding(dag_id: str, run_id: str, logical_date: dt.datetime | None) -> signing.RunBinding:
    return signing.RunBinding(dag_id, run_id, signing.iso_utc(logical_date), DagRunType.BACKFILL_JOB.value)


def run_after_for(spec: BackfillPlan, lot: LotRow) -> dt.datetime:
    """``wait``: when the data time has ended. ``now``: at once, but never before the interval starts,
    because Airflow's scheduler runs no logical date that is in the future."""
    if spec.run_future == "wait":
        return lot.end
    return min(lot.end, max(lot.start, now()))


def free_logical_date(dag_id: str, start: dt.datetime, session: Session) -> dt.datetime:
    """The lot's start, moved on by microseconds while another run holds that logical date.

    Airflow keeps one run per (DAG, logical date). A lot whose start is taken by a run of another
    interval (a month lot over a daily DAG's history) still gets its own run; ``ds`` and the data
    interval are unchanged, only ``logical_date`` shows the microseconds.
    """
    taken = {_utc(r.logical_date) for r in _runs_near(dag_id, start, session)}
    candidate = start
    while candidate in taken:
        candidate += dt.timedelta(microseconds=1)
    return candidate


def _runs_near(dag_id: str, start: dt.datetime, session: Session) -> list[Any]:
    """Runs whose logical date is ``start`` or up to a millisecond later: the DagRun unique index finds them."""
    return list(
        session.scalars(
            select(DagRun).where(
                DagRun.dag_id == dag_id,
                DagRun.logical_date >= start,
                DagRun.logical_date < start + dt.timedelta(milliseconds=1),
            )
        )
    )


def existing_runs(lot: LotRow, session: Session) -> list[Any]:
    """Runs of the lot's DAG with exactly the lot's data interval, newest first.

    Found through the (dag_id, logical_date) index: a run of an interval has that interval's start as
    logical date (or, when another run held it, a few microseconds more), never a full scan.
    """
    found = [
        r
        for r in _runs_near(lot.dag_id, lot.start, session)
        if r.data_interval_start is not None
        and _utc(r.data_interval_start) == lot.start
        and _utc(r.data_interval_end) == lot.end
    ]
    return sorted(found, key=lambda r: r.id, reverse=True)


def followed_elsewhere(run: Any, plan: PlanRow, session: Session) -> bool:
    """Whether a lot of another plan still follows ``run`` (its pass has not seen the run end): such a
    run is not taken over until that plan has settled its lot."""
    if run.backfill_id is None:
        return False
    return bool(
        session.scalar(
            select(LotRow.idx)
            .join(PlanDagRow, and_(PlanDagRow.plan_id == LotRow.plan_id, PlanDagRow.dag_id == LotRow.dag_id))
            .where(
                PlanDagRow.backfill_id == run.backfill_id,
                LotRow.plan_id != plan.id,
                LotRow.dag_id == run.dag_id,
                LotRow.run_id == run.run_id,
                text(in_flight_sql(LotRow.__tablename__)),
            )
            .limit(1)
        )
        is not None
    )


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


def give_run(target: LotTarget, run: Any, session: Session) -> None:
    """The lot follows ``run`` (new or adopted): pinned to the plan's DAG version, its task instances
    prepared, its run id, logical date and nonce on the lot."""
    if (version := target.spec.version_of(target.lot.dag_id)) is not None:
        pin_version(run, version, session)
    _prepare_task_instances(run, target.dag, target.marker, target.plan.name, session)
    target.lot.run_id, target.lot.logical_date = run.run_id, run.logical_date
    target.lot.nonce = target.marker.nonce if target.marker is not None else None


def _prepare_task_instances(
    run: Any, dag: Any, marker: LotMarker | None, plan_name: str, session: Session
) -> None:
    """Dry-run tasks: success now or parked; the tasks that run: the plan's pool, queue and priority
    (``marker.apply_routing``, as Airflow's mutation hook applies them to task instances made later)."""
    dry_run = set(marker.dry_run) if marker is not None else set()
    note = f"dry run: skipped by backfill plan {plan_name}"
    graph = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
    early = presettable(graph, dry_run)
    started = now()
    for ti in run.get_task_instances(session=session):
        if ti.task_id in dry_run:
            ti.note = note
            if ti.task_id in early:
                ti.state = "success"
                ti.start_date = ti.end_date = started
                ti.duration = 0
            else:
                ti.pool = PARKED_POOL
        elif marker is not None and marker.routes and dag.has_task(ti.task_id):
            apply_routing(ti, dag.get_task(ti.task_id), dag, marker)
        session.merge(ti)


def flip_parked(dag_run_ids: Iterable[tuple[str, str]], session: Session) -> None:
    """Parked dry-run tasks that Airflow found ready (state scheduled) end in success now."""
    pairs = list(dag_run_ids)
    if not pairs:
        return
    stamp = now()
    session.execute(
        update(TI)
        .where(
            TI.pool == PARKED_POOL,
            TI.state == "scheduled",
            tuple_(TI.dag_id, TI.run_id).in_(pairs),
        )
        .values(state="success", start_date=stamp, end_date=stamp, duration=0, try_number=0)
        .execution_options(synchronize_session=False)
    )


def unlink_running(runs: Collection[tuple[int, int]], session: Session) -> None:
    """Running lot runs leave their BackfillDagRun row, so the scheduler examines them like any run.

    Airflow 3.3's scheduler examines 20 running runs per loop and puts every run that has a
    BackfillDagRun row after all runs that have none (apache/airflow#58554): beside 20 long runs of
    other DAGs, a backfill run is never examined again. The row matters only while the run is queued
    (plan order, ``parallelism``, pause); ``parallelism`` keeps counting running runs by their
    ``backfill_id``, which stays. This is the upstream fix (apache/airflow#72730) done from outside.
    """
    if runs:  # (backfill id, run id) pairs, every plan's in one statement
        session.execute(
            delete(BackfillDagRun)
            .where(tuple_(BackfillDagRun.backfill_id, BackfillDagRun.dag_run_id).in_(list(runs)))
            .execution_options(synchronize_session=False)
        )


def create_run(target: LotTarget, run_id: str, session: Session) -> Any:
    """A new QUEUED backfill run ``run_id`` for the lot, with its BackfillDagRun row (plan order)."""
    dag, plan, spec, plan_dag, lot, marker = (
        target.dag,
        target.plan,
        target.spec,
        target.plan_dag,
        target.lot,
        target.marker,
    )
    logical_date = free_logical_date(dag.dag_id, lot.start, session)
    run = dag.create_dagrun(
        run_id=run_id,
        logical_date=logical_date,
        data_interval=(lot.start, lot.end),
        run_after=run_after_for(spec, lot),
        conf=lot_conf(spec, marker, _binding(dag.dag_id, run_id, logical_date)),
        run_type=DagRunType.BACKFILL_JOB,
        triggered_by=DagRunTriggeredByType.BACKFILL,
        triggering_user_name=plan.created_by,
        state=DagRunState.QUEUED,
        backfill_id=plan_dag.backfill_id,
        note=f"backfill plan {plan.name}, lot {lot.idx}",
        session=session,
    )
    session.add(
        BackfillDagRun(
            backfill_id=plan_dag.backfill_id,
            dag_run_id=run.id,
            logical_date=logical_date,
            sort_ordinal=_ordinal(lot),
        )
    )
    return run


def pin_version(run: Any, version: int, session: Session) -> None:
    """Run ``run`` on version ``version`` of its DAG (``dag_version``): its serialized DAG for the
    scheduler, its bundle version for the workers. Airflow's ``create_dagrun`` always records the
    latest; the run's task instances were made from the older DAG already (the DAG given to it)."""
    row = dag_version_row(run.dag_id, version, session)
    if row is None:  # checked at create; removed since by `airflow db clean`
        raise ValueError(f"version {version} of DAG '{run.dag_id}' is gone from Airflow")
    session.execute(
        update(DagRun)
        .where(DagRun.id == run.id)
        .values(created_dag_version_id=row.id, bundle_version=row.bundle_version)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(TI)
        .where(TI.dag_id == run.dag_id, TI.run_id == run.run_id)
        .values(dag_version_id=row.id)
        .execution_options(synchronize_session=False)
    )
    session.expire(run)


def adopt_run(target: LotTarget, run: Any, session: Session) -> Any:
    """Re-run an existing run of the lot's interval (``reprocess``, ``retry``) under this plan.

    As Airflow's native backfill does, the run keeps its id and logical date and is cleared to
    QUEUED; it then takes everything from this plan, whoever made it before: its Backfill row and
    place in plan order, ``run_after`` (``run_future``), conf, and (in ``give_run``) dry-run tasks,
    pool, priority and queue.
    """
    dag, spec, plan_dag, lot, marker = target.dag, target.spec, target.plan_dag, target.lot, target.marker
    # the run is the plan's (type, Backfill, signed conf) before Airflow's clear resets its task
    # instances, so the mutation hook already routes them as the plan says
    session.execute(
        update(DagRun)
        .where(DagRun.id == run.id)
        .values(
            backfill_id=plan_dag.backfill_id,
            run_type=DagRunType.BACKFILL_JOB,
            triggered_by=DagRunTriggeredByType.BACKFILL,
            conf=lot_conf(spec, marker, _binding(run.dag_id, run.run_id, run.logical_date)),
            run_after=run_after_for(spec, lot),
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()  # Airflow's clear expires the session: unflushed changes would be lost
    session.expire(run)
    dag.clear(run_id=run.run_id, dag_run_state=DagRunState.QUEUED, session=session, dry_run=False)
    session.execute(
        update(DagRun)
        .where(DagRun.id == run.id)
        .values(state=DagRunState.QUEUED)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(BackfillDagRun)
        .where(BackfillDagRun.dag_run_id == run.id)
        .execution_options(synchronize_session=False)
    )
    session.add(
        BackfillDagRun(
            backfill_id=plan_dag.backfill_id,
            dag_run_id=run.id,
            logical_date=run.logical_date,
            sort_ordinal=_ordinal(lot),
        )
    )
    session.flush()
    session.expire(run)
    return session.get(DagRun, run.id)


def _ordinal(lot: LotRow) -> int:
    return lot.ordinal or lot.idx + 1


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def outlet_assets(task: Any) -> list[tuple[str, str]]:
    """(name, uri) of the assets a task of a serialized DAG writes (aliases and the like left out)."""
    return [
        (str(outlet.name), str(outlet.uri))
        for outlet in getattr(task, "outlets", None) or ()
        if getattr(outlet, "uri", None) is not None and getattr(outlet, "name", None) is not None
    ]


def record_asset_changes(dag: Any, dag_id: str, run_id: str, plan_name: str, session: Session) -> None:
    """A lot run of a plan with ``asset_events: suppress`` has ended: the asset changes its successful
    tasks made are recorded (``AssetEvent`` rows, so lineage stays true) without queueing any consumer
    DAG, which Airflow does only for the events a task reports itself."""
    writes = {t.task_id: outlet_assets(t) for t in dag.tasks} if dag is not None else {}
    writes = {task_id: assets for task_id, assets in writes.items() if assets}
    if not writes:
        return
    keys = sorted({key for assets in writes.values() for key in assets})
    ids = dict(
        ((name, uri), asset_id)
        for name, uri, asset_id in session.execute(
            select(AssetModel.name, AssetModel.uri, AssetModel.id).where(
                tuple_(AssetModel.name, AssetModel.uri).in_(keys)
            )
        )
    )
    done = session.execute(
        select(TI.task_id, TI.map_index).where(
            TI.dag_id == dag_id,
            TI.run_id == run_id,
            TI.task_id.in_(list(writes)),
            TI.state == "success",
            TI.try_number > 0,
        )
    )
    for task_id, map_index in done:
        for key in writes[task_id]:
            if key in ids:
                session.add(
                    AssetEvent(
                        asset_id=ids[key],
                        extra={
                            "backfill_plan": plan_name,
                            "consumers": "not scheduled (asset_events: suppress)",
                        },
                        source_dag_id=dag_id,
                        source_task_id=task_id,
                        source_run_id=run_id,
                        source_map_index=map_index,
                    )
                )


def consumers_of(dags: Mapping[str, Any], runs: Mapping[str, Collection[str]], session: Session) -> list[str]:
    """The DAGs Airflow schedules on the asset events of these tasks (``runs``: DAG -> its tasks that
    run), each once."""
    keys = sorted(
        {
            key
            for dag_id, dag in dags.items()
            if dag is not None
            for task in dag.tasks
            if task.task_id in runs.get(dag_id, ())
            for key in outlet_assets(task)
        }
    )
    if not keys:
        return []
    return sorted(
        set(
            session.scalars(
                select(DagScheduleAssetReference.dag_id)
                .join(AssetModel, AssetModel.id == DagScheduleAssetReference.asset_id)
                .where(tuple_(AssetModel.name, AssetModel.uri).in_(keys))
            )
        )
    )
