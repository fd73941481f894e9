"""``/plans``: create, preview, list and read plans and their lots."""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.common.router import AirflowRouter
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from airflow_backfill_provider.exceptions import UnsupportedMediaType
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plugin.bodies import json_body, read_body
from airflow_backfill_provider.plugin.errors import media_type
from airflow_backfill_provider.plugin.reads import ReadTurn
from airflow_backfill_provider.plugin.security import Creator, ReadablePlan, Reader, detail_rights
from airflow_backfill_provider.plugin.submit import creation_slot, submit
from airflow_backfill_provider.service import driver, queries
from airflow_backfill_provider.service.calendar import plan_calendar
from airflow_backfill_provider.service.datamodels import (
    CalendarOut,
    CreatedOut,
    ErrorOut,
    LotDetailOut,
    LotList,
    PlanList,
    PlanOut,
    PreviewOut,
)
from airflow_backfill_provider.states import LotState, PlanState

router = AirflowRouter(
    tags=["plans"], responses={code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422)}
)

PLAN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            # BackfillPlan is in the schema's components: every plan answered is one (``PlanOut``)
            "application/json": {"schema": {"$ref": "#/components/schemas/BackfillPlan"}}
        },
    }
}


async def _read_plan(request: Request) -> BackfillPlan:
    """The body as a plan: JSON only (415 otherwise, as FastAPI answers for its JSON models), parsed
    and validated in a worker thread, never on the api-server's event loop."""
    if media_type(request) != "application/json":
        raise UnsupportedMediaType("a plan is sent as JSON: set Content-Type: application/json")
    raw = await read_body(request)
    return await run_in_threadpool(lambda: BackfillPlan.from_dict(json_body(raw)))


@router.post(
    "/plans",
    response_model=CreatedOut | PreviewOut,
    status_code=201,
    openapi_extra=PLAN_BODY,
    responses={200: {"model": CreatedOut | PreviewOut, "description": "the same plan again, or a preview"}},
)
async def create_plan(
    request: Request,
    caller: Creator,
    session: SessionDep,
    preview: bool = False,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="lots a preview lists")] = None,
) -> Any:
    """Create a plan (201), return the existing one for the same name and content (200), or preview it."""
    spec = await _read_plan(request)  # read whole before the slot: a slow uploader holds no slot
    async with creation_slot(session):
        found = await run_in_threadpool(submit, spec, caller, session, preview=preview, limit=limit)
    status = 201 if isinstance(found, CreatedOut) and found.created else 200
    return JSONResponse(found.model_dump(mode="json"), status_code=status)


@router.get("/plans", response_model=PlanList, dependencies=ReadTurn)
def list_plans(
    reader: Reader,
    session: SessionDep,
    dag_id: str | None = None,
    state: PlanState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    q: Annotated[str | None, Query(max_length=250, description="name or DAG contains this")] = None,
) -> PlanList:
    """Plans newest first, only those on DAGs the caller may read."""
    readable = reader.dag_ids
    driver.keep_driving(session)
    return queries.list_plans(
        session,
        dag_id=dag_id,
        state=state,
        limit=limit,
        offset=offset,
        dag_ids=sorted(readable) if readable is not None else None,
        text=q,
    )


@router.get("/plans/{plan}", response_model=PlanOut, dependencies=ReadTurn)
def get_plan(row: ReadablePlan, session: SessionDep) -> PlanOut:
    driver.keep_driving(session)
    return queries.plan_out(row, session)


@router.get("/plans/{plan}/lots", response_model=LotList, dependencies=ReadTurn)
def get_lots(
    row: ReadablePlan,
    session: SessionDep,
    state: LotState | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> LotList:
    return queries.list_lots(row, session, state=state, limit=limit, offset=offset)


@router.get("/plans/{plan}/lots/{index}", response_model=LotDetailOut, dependencies=ReadTurn)
def get_lot(
    row: ReadablePlan, user: GetUserDep, session: SessionDep, index: Annotated[int, Path(ge=0, le=10_000_000)]
) -> LotDetailOut:
    return queries.lot_detail(row, index, session, **detail_rights(user, row, session))


@router.get("/plans/{plan}/calendar", response_model=CalendarOut, dependencies=ReadTurn)
def get_calendar(row: ReadablePlan, session: SessionDep) -> Response:
    """The plan's lot states over data time: one cell per DAG and day (hour for sub-daily lots)."""
    found = plan_calendar(row, session)
    # up to 20,000 cells, built by the service: serialised once, not validated again
    return Response(found.model_dump_json(), media_type="application/json")
