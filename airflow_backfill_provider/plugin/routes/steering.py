"""``/plans/{plan}/pause|resume|cancel|retry``: steering, with the rights to create the plan's runs."""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.common.router import AirflowRouter
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Query

from airflow_backfill_provider.plugin.security import SteerablePlan
from airflow_backfill_provider.service import steering
from airflow_backfill_provider.service.datamodels import ErrorOut, PlanOut
from airflow_backfill_provider.service.locking import committed

router = AirflowRouter(
    tags=["steering"], responses={code: {"model": ErrorOut} for code in (401, 403, 404, 409)}
)


@router.post("/plans/{plan}/pause", response_model=PlanOut)
def pause(row: SteerablePlan, user: GetUserDep, session: SessionDep) -> PlanOut:
    """Start no new lot; running lots finish."""
    plan_id = row.id
    return committed(session, lambda: steering.pause(plan_id, session, user=user.get_name()))


@router.post("/plans/{plan}/resume", response_model=PlanOut)
def resume(row: SteerablePlan, user: GetUserDep, session: SessionDep) -> PlanOut:
    plan_id = row.id
    return committed(session, lambda: steering.resume(plan_id, session, user=user.get_name()))


@router.post("/plans/{plan}/cancel", response_model=PlanOut)
def cancel(row: SteerablePlan, user: GetUserDep, session: SessionDep) -> PlanOut:
    """Fail the runs of lots in flight and cancel every lot not done."""
    plan_id = row.id
    return committed(session, lambda: steering.cancel(plan_id, session, user=user.get_name()))


@router.post("/plans/{plan}/retry", response_model=PlanOut)
def retry(
    row: SteerablePlan,
    user: GetUserDep,
    session: SessionDep,
    index: Annotated[list[int] | None, Query(max_length=10_000, description="only these lots")] = None,
) -> PlanOut:
    """Run failed lots again in their runs; blocked and cancelled lots go back in line."""
    plan_id = row.id
    return committed(session, lambda: steering.retry(plan_id, session, indexes=index, user=user.get_name()))
