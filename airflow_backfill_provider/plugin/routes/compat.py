"""``/compat/<system>/...``: the cloud schedulers' own backfill calls, answered in their own shapes.

A migrating script changes only its base URL (and sends Airflow's token): DMS ``BackFill``,
DataWorks ``CreateWorkflowInstances`` and ``RunCycleDagNodes``, WeData ``CreateDataBackfillPlan``
(also as ``POST /compat/<system>/`` with the action in ``Action`` or ``X-TC-Action``, as their SDKs
call), and Aloudata's three calls under its own paths. Each request is translated into a plan
(``plan.translate``) and created by the same service call as ``POST /api/v1/plans``, with the same
rights checks.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.common.router import AirflowRouter
from fastapi import Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from airflow_backfill_provider import settings
from airflow_backfill_provider.exceptions import (
    BackfillError,
    FieldError,
    MethodNotAllowed,
    PlanValidationError,
)
from airflow_backfill_provider.plan.translate import IdMap, as_new_backfill, translate_all
from airflow_backfill_provider.plugin import compat_answers as answers
from airflow_backfill_provider.plugin.bodies import MAX_FORM_FIELDS, check_json, json_body, read_body
from airflow_backfill_provider.plugin.reads import ReadTurn
from airflow_backfill_provider.plugin.security import (
    COMPAT_READS,
    LOTS_PER_PLAN,
    AloudataInstance,
    AloudataPlan,
    CallerAccess,
    CompatCaller,
    Reader,
    compat_action,
    may_read_plan,
    plan_for,
)
from airflow_backfill_provider.plugin.submit import creation_slot, submit_all
from airflow_backfill_provider.service import queries
from airflow_backfill_provider.service.datamodels import CreatedOut, LotOut
from airflow_backfill_provider.states import LotState

log = logging.getLogger(__name__)
router = AirflowRouter(tags=["compat"])
ALOUDATA = "/compat/aloudata/anymetrics/api/v1"
ALOUDATA_STATUS = {
    LotState.PENDING: "WAITING",
    LotState.WAITING: "WAITING",
    LotState.RUNNING: "RUNNING",
    LotState.SUCCESS: "SUCCESS",
    LotState.SKIPPED: "FAILED",  # not redone (a plan made with reprocess: none): never a SUCCESS
    LotState.FAILED: "FAILED",
    LotState.BLOCKED: "FAILED",
    LotState.CANCELLED: "FAILED",
}


def id_map() -> IdMap:
    """The deployment's id map (``[backfill] id_map``)."""
    return IdMap.from_file(settings.id_map_path(), settings.unmapped_resource_groups())


async def _fields(request: Request) -> dict[str, Any]:
    """The request's fields: query parameters, then a JSON object or form body over them (parsed in a
    worker thread, never on the event loop)."""
    raw = await read_body(request)
    return await run_in_threadpool(_parse_fields, request, raw)


def _parse_fields(request: Request, raw: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = dict(request.query_params)
    text = raw.lstrip()
    if not text:
        return fields
    if "json" in request.headers.get("content-type", "") or text.startswith(b"{"):
        body = json_body(raw)
        if not isinstance(body, dict):
            raise PlanValidationError([FieldError("", "the body is a JSON object of fields")], "bad request")
        fields.update(body)
    else:
        try:
            pairs = parse_qsl(
                raw.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
            )
        except ValueError:
            raise PlanValidationError(
                [FieldError("", f"a form holds at most {MAX_FORM_FIELDS} fields")], "bad request"
            ) from None
        fields.update(pairs)
    check_json(fields)
    return fields


async def _create(
    request: Request, caller: CallerAccess, system: str, action: str | None = None
) -> JSONResponse:
    """Translate the request (its action from the path, else ``X-TC-Action`` or ``Action``), then
    preview or create it as ``POST /plans`` does."""
    session = caller.session
    action = action or compat_action(request) or ""
    if action in COMPAT_READS.get(system, ()):  # a call that reads, sent the RPC way
        return await run_in_threadpool(
            READS[system][action], request, caller.user, session, await _fields(request)
        )
    fields = await _fields(request)
    action = action or str(fields.get("Action") or "")
    preview = str(fields.pop("preview", "")).lower() == "true"
    try:
        # off the event loop: reading a changed id map and translating are plain CPU work
        specs = await run_in_threadpool(
            lambda: as_new_backfill(translate_all(system, fields, id_map(), action))
        )
    except BackfillError:
        raise
    except (ValueError, TypeError, KeyError, RecursionError, OverflowError) as exc:  # the input's, not ours
        log.warning("compat %s: a request the translator could not read: %r", system, exc)
        raise PlanValidationError(
            [FieldError("", f"the request cannot be read as a {system} backfill ({type(exc).__name__})")],
            "bad request",
        ) from None
    async with creation_slot(session):
        found = await run_in_threadpool(
            lambda: submit_all(specs, caller, session, preview=preview, notes=specs.warnings)
        )
    previews = [f.model_dump(mode="json") for f in found if not isinstance(f, CreatedOut)]
    if previews:
        return answers.ok(request, system, {"Preview": previews[0] if len(previews) == 1 else previews})
    return answers.created(request, system, [f.plan for f in found if isinstance(f, CreatedOut)])


def create_result(request: Request, user: Any, session: Any, fields: dict[str, Any]) -> JSONResponse:
    """DataWorks ``GetCreateWorkflowInstancesResult``: how the create of ``OperationId`` went and the
    instances it made (a plan is made in its create call: Success, with its lots' instance ids)."""
    operation = str(fields.get("OperationId") or "").strip()
    if not operation:
        raise PlanValidationError(
            [FieldError("OperationId", "is required: the OperationId a create answered")]
        )
    row = plan_for(user, operation, "GET", session)
    instances: list[int] = []
    for plan in [row, *queries.group_of(row, session)]:  # a request over several DAGs: one plan each
        if plan is not row and not may_read_plan(user, plan, session):
            continue
        found = queries.list_lots(plan, session, limit=MAX_INSTANCE_IDS - len(instances))
        instances += [plan.id * LOTS_PER_PLAN + lot.index for lot in found.lots]
        if len(instances) >= MAX_INSTANCE_IDS:
            break
    body = {"Result": {"Status": "Success", "FailureMessage": "", "WorkflowInstanceIds": instances}}
    return answers.ok(request, "dataworks", body)


RESULT = "GetCreateWorkflowInstancesResult"
READS = {"dataworks": {RESULT: create_result}}
"""the calls that read (``security.COMPAT_READS``), by system and action"""
MAX_INSTANCE_IDS = 10_000


@router.get(f"/compat/dataworks/{RESULT}", dependencies=ReadTurn, operation_id="get_create_result")
@router.post(f"/compat/dataworks/{RESULT}", dependencies=ReadTurn, operation_id="post_create_result")
async def get_create_result(request: Request, reader: Reader, session: SessionDep) -> Any:
    """DataWorks ``GetCreateWorkflowInstancesResult`` (seed 004 names it for a create's result)."""
    return await run_in_threadpool(create_result, request, reader.user, session, await _fields(request))


@router.get("/compat/{system}/", dependencies=ReadTurn)
async def read_by_rpc(request: Request, reader: Reader, session: SessionDep, system: str) -> Any:
    """A call that reads, its action in ``Action`` (a GET never creates: a create action is refused)."""
    fields = dict(request.query_params)
    action = str(fields.get("Action") or "")
    if action not in READS.get(system, {}):
        raise MethodNotAllowed(
            f"'{action}' by GET: a GET reads only ({', '.join(READS.get(system, {})) or 'nothing here'}); "
            "send a create with POST and an Authorization header"
        )
    return await run_in_threadpool(READS[system][action], request, reader.user, session, fields)


@router.post("/compat/{system}/{action}", include_in_schema=True)
async def create_by_action(request: Request, caller: CompatCaller, system: str, action: str) -> Any:
    """A cloud scheduler's backfill action, e.g. ``POST /compat/dms/BackFill``."""
    return await _create(request, caller, system, action)


@router.post("/compat/{system}/")
async def create_by_rpc(request: Request, caller: CompatCaller, system: str) -> Any:
    """The action named in ``Action`` (Alibaba Cloud RPC) or ``X-TC-Action`` (Tencent Cloud)."""
    return await _create(request, caller, system)


@router.post(f"{ALOUDATA}/accelerate/task/create")
async def aloudata_create(request: Request, caller: CompatCaller) -> Any:
    return await _create(request, caller, "aloudata", "accelerate/task/create")


def _mt_guid(dag_id: str, session: Any) -> dict[str, str]:
    """What the lot writes, as Aloudata names a table (catalog, schema, table): the id map's ``tables``
    entry for the DAG, else the first asset its tasks write (``scheme://path`` as catalog and path),
    else the DAG itself."""
    from airflow_backfill_provider.service.dags import serialized_dag

    table = id_map().for_system("aloudata").tables.get(dag_id)
    if table is None:
        dag = serialized_dag(dag_id, session)
        uris = [
            str(getattr(outlet, "uri", ""))
            for task in (dag.tasks if dag is not None else ())
            for outlet in getattr(task, "outlets", ()) or ()
            if getattr(outlet, "uri", None)
        ]
        if uris:
            scheme, _, path = uris[0].partition("://")
            schema, _, name = path.rpartition("/")
            return {"catalog": scheme, "schema": schema or scheme, "table": name or path}
        return {"catalog": "airflow", "schema": dag_id, "table": dag_id}
    parts = table.split(".")
    catalog, schema, name = ([""] * (3 - len(parts)) + parts)[-3:]
    return {"catalog": catalog or "airflow", "schema": schema or dag_id, "table": name}


def _run_times(found: list[LotOut], session: Any) -> dict[str, tuple[dt.datetime | None, dt.datetime | None]]:
    """(created, scheduled) of each lot's run: when Airflow made it, and its ``run_after``."""
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select, tuple_

    keys = [(lot.dag_id, lot.run_id) for lot in found if lot.run_id]
    if not keys:
        return {}
    rows = session.execute(
        select(DagRun.run_id, DagRun.created_at, DagRun.run_after).where(
            tuple_(DagRun.dag_id, DagRun.run_id).in_(keys)
        )
    )
    return {run_id: (created, after) for run_id, created, after in rows}


def _local(stamp: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return stamp.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds") if stamp else None


def _partition(lot: LotOut, zone: ZoneInfo) -> tuple[str, str]:
    """First and last data date of a lot, as Aloudata's partitions (both inclusive)."""
    first = lot.data_interval_start.astimezone(zone).date()
    last = (lot.data_interval_end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    return first.isoformat(), max(first, last).isoformat()


@router.get(f"{ALOUDATA}/accelerate/task/instance/list", dependencies=ReadTurn)
def aloudata_instances(
    request: Request,
    row: AloudataPlan,
    session: SessionDep,
    dagName: Annotated[str, Query(max_length=250)],
    pageIndex: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    pageSize: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> JSONResponse:
    """The lots of a plan as Aloudata's task instances, a page at a time."""
    zone = ZoneInfo(row.timezone)
    found = queries.list_lots(row, session, limit=pageSize, offset=(pageIndex - 1) * pageSize)
    spec = row.spec or {}
    guid = ".".join(_mt_guid(row.dag_id, session).values())
    times = _run_times(found.lots, session)
    instances = []
    for lot in found.lots:
        start, end = _partition(lot, zone)
        created, scheduled = times.get(lot.run_id or "", (None, None))
        instances.append(
            {
                "id": str(row.id * LOTS_PER_PLAN + lot.index),
                "status": ALOUDATA_STATUS[LotState(lot.state)],
                "mtGuid": guid,
                "startPartition": start,
                "endPartition": end,
                "startTime": _local(lot.start_date, zone),
                "endTime": _local(lot.end_date, zone),
                "resourceGroup": spec.get("queue") or "default",
                "priority": spec.get("priority_weight") or 1,
                # the instance's creation (its run's) and its scheduled time (the run's run_after; a
                # lot without a run yet: the end of its data time, when it is due)
                "createTime": _local(created, zone),
                "scheduleTime": _local(scheduled or lot.data_interval_end, zone),
            }
        )
    body = {"dagName": dagName, "pageIndex": pageIndex, "pageSize": pageSize, "total": found.total}
    return answers.ok(request, "aloudata", {**body, "instances": instances})


@router.get(f"{ALOUDATA}/scheduler/task/detail", dependencies=ReadTurn)
def aloudata_detail(request: Request, instance: AloudataInstance, session: SessionDep) -> JSONResponse:
    """One lot as Aloudata's task instance detail: status times, retries, error, the SQL it ran."""
    row, index = instance.plan, instance.index
    lot = queries.lot_detail(row, index, session, **instance.rights)
    zone = ZoneInfo(row.timezone)
    start, end = _partition(lot, zone)
    seen: dict[str, str | None] = {}
    for entry in lot.timeline:  # the states the driver saw the lot in, each the first time
        seen.setdefault(ALOUDATA_STATUS[LotState(entry.state)], _local(entry.at, zone))
    if lot.start_date is not None:  # a run can start and end between two passes of the driver
        seen["RUNNING"] = _local(lot.start_date, zone)
    order = ("WAITING", "RUNNING", "SUCCESS", "FAILED")
    status_time = {word: seen[word] for word in order if word in seen}
    sql = next(
        (str(ti.rendered_fields["sql"]) for ti in lot.task_instances if ti.rendered_fields.get("sql")), None
    )
    failed = [ti for ti in lot.task_instances if ti.error]
    hosts = [ti.hostname for ti in lot.task_instances if ti.hostname]
    body = {
        "taskInstanceId": row.id * LOTS_PER_PLAN + index,
        "status": ALOUDATA_STATUS[LotState(lot.state)],
        "sql": {"originalSql": sql, "formattedSql": sql},
        "runType": "MANUAL",
        "msg": (failed[0].error if failed else None) or lot.reason,
        "serverInfo": hosts[-1] if hosts else None,
        "startTime": _local(lot.start_date, zone),
        "endTime": _local(lot.end_date, zone),
        "startPartitionTime": f"{start}T00:00:00",
        "endPartitionTime": f"{end}T00:00:00",
        "retryCnt": max((max(ti.try_number - 1, 0) for ti in lot.task_instances), default=0),
        "mtGuid": [_mt_guid(row.dag_id, session)],
        "acceleratePlanUuid": [id_map().for_system("aloudata").dag_key(row.dag_id)],
        "statusTime": status_time,
        "taskType": "RESULT_PLAN",
    }
    return answers.ok(request, "aloudata", body)
