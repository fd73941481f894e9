"""A plan against the DAGs as Airflow knows them now: lots, warnings, and every check that needs a DAG.

Preview and create both plan through ``plan_lots``, so they accept and refuse exactly the same plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from airflow.models.pool import Pool
from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_backfill_provider import settings, signing
from airflow_backfill_provider.exceptions import FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.planner import PlannedBackfill, lot_label, plan_backfill, system_date
from airflow_backfill_provider.reserved import CONTROLLER_DAG_ID
from airflow_backfill_provider.service.calendar import calendar
from airflow_backfill_provider.service.dags import catalog, dag_version_errors, paused_dag_ids, serialized_dag
from airflow_backfill_provider.service.datamodels import LotOut, PlannedDagOut, PreviewOut
from airflow_backfill_provider.service.estimate import estimate
from airflow_backfill_provider.service.materialise import consumers_of
from airflow_backfill_provider.service.notify import notify_errors
from airflow_backfill_provider.service.rights import (
    EVERYTHING,
    Access,
    require_dag_rights,
    require_plan_rights,
)
from airflow_backfill_provider.states import LotState


def plan_lots(
    spec: BackfillPlan, session: Session, access: Access = EVERYTHING, notes: Sequence[str] = ()
) -> PlannedBackfill:
    """Plan against the DAGs as Airflow knows them now; raises naming every field that does not fit
    (``access``: whether the caller may route work where it likes, see ``_routing_errors``). A caller
    who may not create runs of the DAG it sent learns nothing of that DAG: 403 before it is read.
    ``notes``: what a translated request runs otherwise than its letter says, kept as warnings."""
    require_dag_rights(spec, access)
    if spec.dag_version is not None and (
        errors := dag_version_errors(spec.dag_id, spec.dag_version, session)
    ):
        raise PlanValidationError(errors)
    dags = catalog(spec, session)
    planned = plan_backfill(spec, dags, max_lots=settings.max_lots_per_plan())
    target = serialized_dag(spec.dag_id, session, spec.dag_version)
    errors = [
        *_signing_errors(),
        *_routing_errors(spec, planned, access, session),
        *notify_errors(spec),
        *_conf_errors(spec, target),
        *(
            error
            for dag_id in planned.dags
            for error in _task_params_errors(
                spec, dag_id, target if dag_id == spec.dag_id else serialized_dag(dag_id, session)
            )
        ),
        *_past_errors(spec, planned, target),
    ]
    if errors:
        raise PlanValidationError(errors)
    planned.warnings[:0] = notes
    if spec.notify is not None:  # the controller DAG's runs send a plan's notifications, nothing else
        if serialized_dag(CONTROLLER_DAG_ID, session) is None:
            planned.warnings.append(
                f"the controller DAG '{CONTROLLER_DAG_ID}' is not parsed: the plan's notifications will "
                "not be sent. Put `from airflow_backfill_provider.engine.controller import controller_dag` "
                "in a file of your DAGs folder"
            )
        elif paused_dag_ids([CONTROLLER_DAG_ID], session):
            planned.warnings.append(
                f"the controller DAG '{CONTROLLER_DAG_ID}' is paused: the plan's notifications wait until "
                "you unpause it"
            )
    return planned


def preview(
    spec: BackfillPlan,
    session: Session,
    *,
    limit: int | None = None,
    access: Access = EVERYTHING,
    notes: Sequence[str] = (),
) -> PreviewOut:
    """The plan's first lots (at most ``limit``, capped by ``[backfill] max_preview_lots``) and totals,
    for a caller who may create it (``rights.require_plan_rights``)."""
    planned = plan_lots(spec, session, access, notes)
    require_plan_rights(spec, planned, access, session)
    tz = ZoneInfo(planned.timezone)
    shown = min(limit or settings.max_preview_lots(), settings.max_preview_lots())
    return PreviewOut(
        total=len(planned.lots),
        lots=[
            LotOut(
                index=lot.index,
                dag_id=lot.dag_id,
                label=lot_label(lot.start, lot.end, tz),
                system_date=system_date(lot.start, lot.end, tz, spec.dates_by),
                data_interval_start=lot.start,
                data_interval_end=lot.end,
            )
            for lot in planned.lots[:shown]
        ],
        dags=[
            PlannedDagOut(
                dag_id=d.dag_id,
                run_tasks=sorted(d.tasks.run),
                dry_run_tasks=sorted(d.tasks.dry_run),
                self_dependency=d.self_dependency,
                parents=list(d.parents),
            )
            for d in planned.dags.values()
        ],
        warnings=planned.warnings,
        name=spec.name or spec.default_name(),
        timezone=planned.timezone,
        data_start=min((lot.start for lot in planned.lots), default=None),
        data_end=max((lot.end for lot in planned.lots), default=None),
        calendar=calendar(
            [(lot.dag_id, lot.index, lot.start, lot.end, LotState.PENDING.value) for lot in planned.lots],
            planned.timezone,
        ),
        estimate=estimate(planned, session),
        **_consumers(spec, planned, access, session),
    )


def _consumers(
    spec: BackfillPlan, planned: PlannedBackfill, access: Access, session: Session
) -> dict[str, Any]:
    """The DAGs the plan's asset events will schedule (none with ``asset_events: suppress``), named
    only where the caller may read them."""
    if spec.asset_events == "suppress":
        return {}
    dags = {dag_id: serialized_dag(dag_id, session, spec.version_of(dag_id)) for dag_id in planned.dags}
    found = consumers_of(dags, {d: p.tasks.run for d, p in planned.dags.items()}, session)
    readable = [d for d in found if access.may([d], "GET")]
    return {"asset_consumers": readable, "asset_consumers_hidden": len(found) - len(readable)}


def _signing_errors() -> list[FieldError]:
    """Lot runs carry signed dry-run tasks and task_params: a host that cannot sign creates nothing."""
    reason = signing.unavailable_reason()
    return [FieldError("", f"this host cannot sign plans' runs: {reason}")] if reason else []


def _routing_errors(
    spec: BackfillPlan, planned: PlannedBackfill, access: Access, session: Session
) -> list[FieldError]:
    """``pool`` must exist, and ``pool`` and ``queue`` must be ones a backfill may use: those the
    plan's DAGs' tasks use already, or those ``[backfill] allowed_pools`` / ``allowed_queues`` list,
    unless the caller may edit pools (Airflow's own API lets nobody else route tasks)."""
    if spec.pool is None and spec.queue is None:
        return []
    if spec.pool is not None and session.scalar(select(Pool.pool).where(Pool.pool == spec.pool)) is None:
        return [FieldError("pool", f"no pool '{spec.pool}': create it first, or drop `pool`")]
    if access.may_edit_pools():
        return []
    own_pools: set[str] = set()
    own_queues: set[str] = set()
    for dag_id in planned.dags:
        dag = serialized_dag(dag_id, session, spec.version_of(dag_id))
        for task in dag.tasks if dag is not None else ():
            own_pools.add(str(task.pool))
            own_queues.add(str(task.queue))
    errors = []
    for field, given, own, allowed, option in (
        ("pool", spec.pool, own_pools, settings.allowed_pools(), "allowed_pools"),
        ("queue", spec.queue, own_queues, settings.allowed_queues(), "allowed_queues"),
    ):
        if given is None or given in own or given in allowed:
            continue
        choices = ", ".join(sorted(own | allowed)[:20])
        errors.append(
            FieldError(
                field,
                f"{field} '{given}' is not one a backfill may choose: use one the DAG's tasks use or "
                f"[backfill] {option} lists ({choices}), drop `{field}`, or ask someone who may edit "
                "pools to create the plan",
            )
        )
    return errors


def _schema_error(value: Any, param: Any) -> str | None:
    """Why ``value`` does not fit the Param (its JSON schema), or None when it fits."""
    from jsonschema import FormatChecker, ValidationError, validate

    try:
        validate(value, getattr(param, "schema", {}) or {}, format_checker=FormatChecker())
    except ValidationError as exc:
        return exc.message
    except Exception as exc:  # a broken schema in the DAG: say so rather than accept blindly
        return f"the DAG's Param cannot check it: {exc}"
    return None


def _params_of(holder: Any) -> Mapping[str, Any]:
    params = getattr(holder, "params", None)
    return params if isinstance(params, Mapping) else {}


def _conf_errors(spec: BackfillPlan, dag: Any) -> list[FieldError]:
    """``conf`` keys that are the DAG's Params must fit them, as Airflow checks when it creates a run."""
    params = _params_of(dag)
    errors = []
    for key, value in spec.conf.items():
        if key in params:
            why = _schema_error(value, params.get_param(key))  # type: ignore[attr-defined]
            if why:
                errors.append(
                    FieldError(f"conf.{key}", f"does not fit Param '{key}' of DAG '{spec.dag_id}': {why}")
                )
    return errors


def _task_params_errors(spec: BackfillPlan, dag_id: str, dag: Any) -> list[FieldError]:
    """A DAG's ``task_params`` must fit the task's (or the DAG's) Params: overrides never bypass their
    checks."""
    given = spec.params_of(dag_id)
    if not given:
        return []
    where = "task_params" if dag_id == spec.dag_id else f"dags.task_params.{dag_id}"
    errors = []
    for task_id, overrides in given.items():
        task = dag.get_task(task_id) if dag is not None and dag.has_task(task_id) else None
        task_params, dag_params = _params_of(task), _params_of(dag)
        for key, value in overrides.items():
            owner = task_params if key in task_params else dag_params if key in dag_params else None
            if owner is None:
                continue
            why = _schema_error(value, owner.get_param(key))  # type: ignore[attr-defined]
            if why:
                errors.append(
                    FieldError(
                        f"{where}.{task_id}.{key}",
                        f"does not fit Param '{key}' of task '{task_id}': {why}",
                    )
                )
    return errors


def _past_errors(spec: BackfillPlan, planned: PlannedBackfill, dag: Any) -> list[FieldError]:
    """A task with ``depends_on_past`` waits for the run before it: that holds only in ascending order
    with self-dependency on (Airflow's native backfill refuses reverse order there too)."""
    plan_dag = planned.dags[spec.dag_id]
    past = sorted(
        t.task_id
        for t in (dag.tasks if dag is not None else [])
        if getattr(t, "depends_on_past", False) and t.task_id in plan_dag.tasks.run
    )
    if not past:
        return []
    shown = ", ".join(past[:5]) + (" …" if len(past) > 5 else "")
    errors = []
    if spec.order == "desc":
        errors.append(
            FieldError(
                "order",
                f"tasks {shown} of DAG '{spec.dag_id}' have depends_on_past: each waits for the interval "
                "before it, which order desc runs later. Use order asc, or dry-run those tasks",
            )
        )
    if spec.self_dependency == "off":
        errors.append(
            FieldError(
                "self_dependency",
                f"tasks {shown} of DAG '{spec.dag_id}' have depends_on_past: a failed lot would hold every "
                "later one forever. Leave self_dependency inherit (or on), or dry-run those tasks",
            )
        )
    return errors
