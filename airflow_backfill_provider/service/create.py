"""Creating a plan: its rows, its Airflow Backfill rows and its first window of lot runs, in one transaction.

The same plan submitted again (same name and content) returns the existing plan; other content
under a taken name is a conflict. The caller's rights are checked on every DAG the plan touches
(known only once planned, with ``downstream_dags``) before anything is written (``rights.py``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from airflow.models.backfill import Backfill, ReprocessBehavior
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airflow_backfill_provider import settings
from airflow_backfill_provider.exceptions import ConflictError, FieldError, QuotaError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.planner import PlannedBackfill, PlannedDag
from airflow_backfill_provider.service import audit, driver, plan_states
from airflow_backfill_provider.service.datamodels import CreatedOut, PlanOut
from airflow_backfill_provider.service.gates import OUTSIDE
from airflow_backfill_provider.service.locking import start_writing
from airflow_backfill_provider.service.lots import now
from airflow_backfill_provider.service.materialise import ensure_parked_pool
from airflow_backfill_provider.service.planning import plan_lots
from airflow_backfill_provider.service.queries import plan_dag_ids, plan_out
from airflow_backfill_provider.service.rights import EVERYTHING, Access, require_plan_rights
from airflow_backfill_provider.service.tables import LotRow, PlanDagRow, PlanRow
from airflow_backfill_provider.states import DRIVEN_PLANS, LotState

INSERT_CHUNK = 10_000
"""lot rows per INSERT statement"""


def create(
    spec: BackfillPlan,
    session: Session,
    *,
    user: str | None,
    access: Access = EVERYTHING,
    notes: Sequence[str] = (),
) -> CreatedOut:
    """Create the plan, or return the existing one for the same name and content (409 for other content)."""
    name = spec.name or spec.default_name()
    existing = session.scalar(select(PlanRow).where(PlanRow.name == name))
    if existing is not None:
        return CreatedOut(plan=_resubmitted(existing, spec, access, session), created=False)
    planned = plan_lots(spec, session, access, notes)
    outside = require_plan_rights(spec, planned, access, session)
    start_writing(session)  # one transaction, savepoint included, on SQLite too
    _within_quotas(len(planned.lots), user, session)
    try:
        with session.begin_nested():
            row = _insert_plan(spec, name, planned, outside, user, session)
    except IntegrityError:
        # a concurrent submission of the same name won the race: answer as for a resubmission
        session.rollback()
        existing = session.scalar(select(PlanRow).where(PlanRow.name == name))
        if existing is None:
            raise
        return CreatedOut(plan=_resubmitted(existing, spec, access, session), created=False)
    audit.record("create", row, list(planned.dags), user, session, total_lots=row.total_lots)
    if not spec.paused:
        driver.kick(row, session)
    session.flush()
    return CreatedOut(plan=plan_out(row, session), created=True)


def _within_quotas(lots: int, user: str | None, session: Session) -> None:
    """429 when the deployment's limits on active plans (per user) or active lots (in all) would be
    passed; asked inside the create's transaction, after ``start_writing``, so two creates at once
    cannot both take the last place on SQLite (on PostgreSQL the limit may be passed by the creates
    of one moment, never for long)."""
    from sqlalchemy import func

    driven = [s.value for s in DRIVEN_PLANS]
    per_user = settings.max_active_plans_per_user()
    if per_user:
        mine = session.scalar(
            select(func.count()).where(
                PlanRow.created_by.is_(user) if user is None else PlanRow.created_by == user,
                PlanRow.state.in_(driven),
            )
        )
        if (mine or 0) >= per_user:
            raise QuotaError(
                f"{user or 'you'} already have {mine} active plans, the most this Airflow allows "
                f"([backfill] max_active_plans_per_user = {per_user}): wait until one ends, or cancel one",
                [FieldError("", "too many active plans")],
            )
    in_all = settings.max_active_lots()
    if in_all:
        active = session.scalar(select(func.sum(PlanRow.total_lots)).where(PlanRow.state.in_(driven))) or 0
        if active + lots > in_all:
            raise QuotaError(
                f"this plan's {lots} lots and the {active} of the active plans would pass this Airflow's "
                f"limit ([backfill] max_active_lots = {in_all}): wait until plans end, or make it smaller",
                [FieldError("", "too many active lots")],
            )


def _resubmitted(existing: PlanRow, spec: BackfillPlan, access: Access, session: Session) -> PlanOut:
    """The plan already under this name: the same content from a caller who may create its runs is
    that plan; anything else is a conflict that names nothing of it (its DAGs or content)."""
    if not access.may(plan_dag_ids(existing, session), "POST"):
        raise ConflictError(
            f"the name '{existing.name}' is taken: choose another name",
            [FieldError("name", "taken by another plan")],
        )
    return _same_or_conflict(existing, spec, session)


def _same_or_conflict(existing: PlanRow, spec: BackfillPlan, session: Session) -> PlanOut:
    if existing.content_hash != spec.content_hash():
        raise ConflictError(
            f"a plan named '{existing.name}' already exists with other content: choose another name, "
            "or resubmit the same content to get the existing plan",
            [FieldError("name", "taken by a plan with other content")],
        )
    return plan_out(existing, session)


def _insert_plan(
    spec: BackfillPlan,
    name: str,
    planned: PlannedBackfill,
    outside: dict[str, list[str]],
    user: str | None,
    session: Session,
) -> PlanRow:
    """The plan's row, an Airflow Backfill row and a plan-DAG row per DAG, and its lots."""
    row = PlanRow(
        name=name,
        dag_id=spec.dag_id,
        content_hash=spec.content_hash(),
        spec={**spec.to_dict(), "name": name},
        timezone=planned.timezone,
        state=plan_states.on_create(spec.paused).value,
        total_lots=len(planned.lots),
        warnings=planned.warnings,
        created_at=now(),
        created_by=user,
        cursor=0,
    )
    session.add(row)
    session.flush()
    ensure_parked_pool(session)
    bounds = _data_time_by_dag(planned)
    for dag_id, planned_dag in planned.dags.items():
        backfill_id = _insert_backfill(spec, planned_dag, bounds[dag_id], user, session)
        session.add(
            PlanDagRow(
                plan_id=row.id,
                dag_id=dag_id,
                backfill_id=backfill_id,
                run_tasks=sorted(planned_dag.tasks.run),
                dry_run_tasks=sorted(planned_dag.tasks.dry_run),
                self_dependency=planned_dag.self_dependency,
                parents=[*planned_dag.parents, *(f"{OUTSIDE}{d}" for d in outside.get(dag_id, ()))],
                past_dependent=planned_dag.past_dependent,
                parallelism=planned_dag.parallelism,
            )
        )
    _insert_lots(row.id, planned, session)
    return row


def _data_time_by_dag(planned: PlannedBackfill) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """The first start and last end of each DAG's lots."""
    bounds: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    for lot in planned.lots:
        lo, hi = bounds.get(lot.dag_id, (lot.start, lot.end))
        bounds[lot.dag_id] = (min(lo, lot.start), max(hi, lot.end))
    return bounds


def _insert_backfill(
    spec: BackfillPlan,
    planned_dag: PlannedDag,
    bounds: tuple[dt.datetime, dt.datetime],
    user: str | None,
    session: Session,
) -> int:
    """The Airflow Backfill row of one DAG of the plan (Airflow's Backfills tab shows it); its id."""
    reprocess = {
        "none": ReprocessBehavior.NONE,
        "failed": ReprocessBehavior.FAILED,
        "all": ReprocessBehavior.COMPLETED,
    }
    backfill = Backfill(
        dag_id=planned_dag.dag_id,
        from_date=bounds[0],
        to_date=bounds[1],
        dag_run_conf=spec.conf,
        is_paused=spec.paused,
        reprocess_behavior=reprocess[spec.reprocess],
        max_active_runs=planned_dag.parallelism,
        triggering_user_name=user,
    )
    session.add(backfill)
    session.flush()
    return int(backfill.id)


def _insert_lots(plan_id: int, planned: PlannedBackfill, session: Session) -> None:
    """Every lot of the plan, pending; on PostgreSQL with one COPY (100,000 lots in well under a second)."""
    ordinals: dict[str, int] = {}
    rows = []
    for lot in planned.lots:
        ordinals[lot.dag_id] = ordinals.get(lot.dag_id, 0) + 1
        rows.append((lot.index, lot.dag_id, lot.start, lot.end, ordinals[lot.dag_id]))
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg2":
        # dag ids match [A-Za-z0-9_.~:+-]: nothing in these lines needs COPY escaping
        text = "".join(
            f"{plan_id}\t{idx}\t{dag_id}\t{start.isoformat()}\t{end.isoformat()}\t{ordinal}\tpending\t[]\n"
            for idx, dag_id, start, end, ordinal in rows
        )
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.copy_expert(
            'COPY backfill_lot (plan_id, idx, dag_id, start, "end", ordinal, state, timeline) FROM STDIN',
            io.StringIO(text),
        )
        return
    for first in range(0, len(rows), INSERT_CHUNK):
        session.execute(
            insert(LotRow),
            [
                {
                    "plan_id": plan_id,
                    "idx": idx,
                    "dag_id": dag_id,
                    "start": start,
                    "end": end,
                    "ordinal": ordinal,
                    "state": LotState.PENDING.value,
                    "timeline": [],
                }
                for idx, dag_id, start, end, ordinal in rows[first : first + INSERT_CHUNK]
            ],
        )
