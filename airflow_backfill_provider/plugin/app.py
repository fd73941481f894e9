"""REST API (contract §4), mounted by the api-server at ``/backfill``; every route calls the service.

Authentication and authorization are Airflow's own: the user comes from the Bearer token or the UI
cookie (``GetUserDep``), and rights are asked of the configured auth manager — creating or steering
a plan needs the right to create runs of every DAG it touches, reading needs read rights. Only
``advance`` is different: the plan's driver calls it with the plan's own token.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_backfill_provider.exceptions import BackfillError, FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.service import plans as service
from airflow_backfill_provider.service.tables import PlanRow
from airflow_backfill_provider.service.views import (
    CreatedOut,
    LotDetailOut,
    LotList,
    PlanList,
    PlanOut,
    PreviewOut,
)

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
REQUEST_ID = "X-Request-ID"

app = FastAPI(
    title="Backfill plans",
    version="1",
    description="Backfill plans for Airflow 3: create, follow and steer plans. Base path /backfill/api/v1.",
)


@contextmanager
def db() -> Iterator[Session]:
    from airflow.utils.session import create_session

    with create_session() as session:
        yield session


# -- one error shape everywhere -----------------------------------------------------------------


def error_response(
    request: Request, status: int, code: str, message: str, fields: Sequence[FieldError] = ()
) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    body = {
        "error": {
            "code": code,
            "message": message,
            "fields": [f.as_dict() for f in fields],
            "request_id": request_id,
        }
    }
    return JSONResponse(body, status_code=status, headers={REQUEST_ID: request_id})


@app.middleware("http")
async def request_id(request: Request, call_next: Callable[[Request], Any]) -> Any:
    request.state.request_id = request.headers.get(REQUEST_ID) or str(uuid.uuid4())
    try:
        response = await call_next(request)
    except Exception as exc:  # an exception escaping the app would stop Airflow's api-server
        log.exception("unexpected error [request_id=%s]", request.state.request_id)
        response = error_response(request, 500, "internal_error", f"{type(exc).__name__}: {exc}")
    response.headers[REQUEST_ID] = request.state.request_id
    log.info(
        "%s %s -> %s [request_id=%s]",
        request.method,
        request.url.path,
        response.status_code,
        request.state.request_id,
    )
    return response


@app.exception_handler(BackfillError)
async def backfill_error(request: Request, exc: BackfillError) -> JSONResponse:
    return error_response(request, exc.status_code, exc.code, exc.message, exc.fields)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict"}
    return error_response(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc.detail))


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [FieldError(".".join(str(p) for p in e["loc"][1:]), e["msg"]) for e in exc.errors()]
    return error_response(request, 422, "invalid_request", "invalid request", fields)


# -- auth -----------------------------------------------------------------------------------------


def require_dags(user: Any, dag_ids: Sequence[str], method: Literal["GET", "POST"], session: Session) -> None:
    """403 unless the user may read (GET) or create (POST) runs of every DAG listed."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.models.dag import DagModel

    ids = sorted(set(dag_ids))
    teams = DagModel.get_dag_id_to_team_name_mapping(ids, session=session)
    ok = get_auth_manager().batch_is_authorized_dag(
        [
            {
                "method": method,
                "access_entity": DagAccessEntity.RUN,
                "details": DagDetails(id=d, team_name=teams.get(d)),
            }
            for d in ids
        ],
        user=user,
    )
    if not ok:
        verb = "create runs of" if method == "POST" else "read runs of"
        raise HTTPException(403, f"Forbidden: you may not {verb} DAG(s) {', '.join(ids)}")


def readable_dag_ids(user: Any) -> set[str] | None:
    from airflow.api_fastapi.app import get_auth_manager

    try:
        return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))
    except NotImplementedError:
        return None


# -- routes ---------------------------------------------------------------------------------------

PLAN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": BackfillPlan.model_json_schema(ref_template="#/components/schemas/{model}")
            }
        },
    }
}


@app.post(f"{PREFIX}/plans", response_model=CreatedOut | PreviewOut, status_code=201, openapi_extra=PLAN_BODY)
async def create_plan(request: Request, user: GetUserDep, preview: bool = False) -> Any:
    """Create a plan (201), return the existing one for the same name and content (200), or preview it."""
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except json.JSONDecodeError as exc:
        raise PlanValidationError(
            [FieldError("", f"the body is not JSON: {exc.msg} at char {exc.pos}")],
            "the plan is not valid JSON",
        ) from None
    spec = BackfillPlan.from_dict(data)
    return await run_in_threadpool(_create_or_preview, spec, user, preview)


def _create_or_preview(spec: BackfillPlan, user: Any, preview: bool) -> Any:
    with db() as session:
        if preview:
            require_dags(user, [spec.dag_id], "GET", session)
            return JSONResponse(service.preview(spec, session).model_dump(mode="json"), status_code=200)
        created = service.create(
            spec,
            session,
            user=user.get_name(),
            authorize=lambda dag_ids: require_dags(user, dag_ids, "POST", session),
        )
    return JSONResponse(created.model_dump(mode="json"), status_code=201 if created.created else 200)


@app.get(f"{PREFIX}/plans", response_model=PlanList)
def list_plans(
    user: GetUserDep,
    dag_id: str | None = None,
    state: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> PlanList:
    readable = readable_dag_ids(user)
    with db() as session:
        return service.list_plans(
            session,
            dag_id=dag_id,
            state=state,
            limit=limit,
            offset=offset,
            dag_ids=sorted(readable) if readable is not None else None,
        )


def _plan_for(user: Any, plan: str, session: Session, method: Literal["GET", "POST"] = "GET") -> PlanRow:
    """The plan, if the user may read (GET) or steer (POST) runs of every DAG it touches."""
    row = service.get_row(plan, session)
    require_dags(user, service.plan_dag_ids(row, session), method, session)
    return row


@app.get(f"{PREFIX}/plans/{{plan}}", response_model=PlanOut)
def get_plan(user: GetUserDep, plan: str) -> PlanOut:
    with db() as session:
        return service.plan_out(_plan_for(user, plan, session), session)


@app.get(f"{PREFIX}/plans/{{plan}}/lots", response_model=LotList)
def get_lots(
    user: GetUserDep,
    plan: str,
    state: str | None = None,
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
) -> LotList:
    with db() as session:
        return service.list_lots(
            _plan_for(user, plan, session), session, state=state, limit=limit, offset=offset
        )


@app.get(f"{PREFIX}/plans/{{plan}}/lots/{{index}}", response_model=LotDetailOut)
def get_lot(user: GetUserDep, plan: str, index: int) -> LotDetailOut:
    with db() as session:
        return service.lot_detail(_plan_for(user, plan, session), index, session)


def _steer(user: Any, plan: str, action: Callable[..., PlanOut], **kw: Any) -> PlanOut:
    with db() as session:
        return action(_plan_for(user, plan, session, "POST"), session, **kw)


@app.post(f"{PREFIX}/plans/{{plan}}/pause", response_model=PlanOut)
def pause(user: GetUserDep, plan: str) -> PlanOut:
    return _steer(user, plan, service.pause)


@app.post(f"{PREFIX}/plans/{{plan}}/resume", response_model=PlanOut)
def resume(user: GetUserDep, plan: str) -> PlanOut:
    return _steer(user, plan, service.resume)


@app.post(f"{PREFIX}/plans/{{plan}}/cancel", response_model=PlanOut)
def cancel(user: GetUserDep, plan: str) -> PlanOut:
    return _steer(user, plan, service.cancel)


@app.post(f"{PREFIX}/plans/{{plan}}/retry", response_model=PlanOut)
def retry(user: GetUserDep, plan: str, index: Annotated[list[int] | None, Query()] = None) -> PlanOut:
    return _steer(user, plan, service.retry, indexes=index)


@app.post(f"{PREFIX}/plans/{{plan}}/advance", response_model=PlanOut, include_in_schema=False)
def advance(request: Request, plan: str) -> PlanOut:
    """The plan driver's call, authorised by the plan's own token, not by a user."""
    from airflow_backfill_provider.engine.trigger import TOKEN_HEADER

    with db() as session:
        return service.advance(plan, session, token=request.headers.get(TOKEN_HEADER))
