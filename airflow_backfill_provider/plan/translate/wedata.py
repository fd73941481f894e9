"""Tencent Cloud WeData ``CreateDataBackfillPlan`` (seed 003, API version 2025-08-06) as a plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_backfill_provider.plan.translate.draft import Draft, Plans
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request, iana_from_offset

VERSION = "2025-08-06"
TENCENT_COMMON = ("Timestamp", "Nonce", "SecretId", "Signature", "SignatureMethod", "Token", "Language")
"""Tencent Cloud's common parameters (signing): Airflow's own auth replaces them"""
RANGE_FIELDS = ("StartDate", "EndDate", "ExecutionStartTime", "ExecutionEndTime")


def create_data_backfill_plan(data: Any, ids: IdMap) -> Plans:
    request = Request(data, "wedata", ignored=TENCENT_COMMON)
    draft = Draft(request, ids, several_dags=True)  # TaskIds of several workflows: one plan each
    _call(request, draft)
    tasks = draft.tasks("TaskIds", request.ids("TaskIds", required=True), whole_dag=True)
    if tasks:
        draft.set("tasks.include", tasks, "TaskIds")
    _data_time(request, draft)
    _run_settings(request, draft)
    _queue(request, draft, ids)
    _params(request, draft)
    return draft.plans(())


def _call(request: Request, draft: Draft) -> None:
    """The action, its API version, and the context kept as tags."""
    request.choice("Action", {"CreateDataBackfillPlan": None})
    version = request.text("Version")
    if version is not None and version != VERSION:
        request.error("Version", f"{version!r}: this endpoint speaks WeData API version {VERSION}")
    draft.tag("Region", request.text("Region", max_length=64))
    draft.tag("ProjectId", request.text("ProjectId", required=True, max_length=64))
    draft.text("title", "DataBackfillPlanName", max_length=200)  # a label, reused across calls


def _data_time(request: Request, draft: Draft) -> None:
    """Ranges, or with MONTH_CYCLE the first days of their months; dates in TimeZone, else the DAG's."""
    ranges = _ranges(request, draft)
    if request.choice("RedefineCycleType", {"MONTH_CYCLE": True}):
        # seed 003: daily instances become instances on the first day of each month
        firsts = sorted({day for rng in ranges for day in _first_days(rng["start"], rng["end"])})
        if not firsts and ranges:
            request.error("RedefineCycleType", "MONTH_CYCLE: no first day of a month lies in the ranges")
        elif firsts:
            draft.set("dates", firsts, "RedefineCycleType")
    elif ranges:
        draft.set("ranges", ranges, "DataBackfillRangeList")
    # without TimeZone, a date is the DAG's calendar day (WeData's default is its own scheduler's zone)
    zone = request.text("TimeZone", max_length=64)
    if zone is not None:
        draft.set("timezone", iana_from_offset(zone), "TimeZone")


def _run_settings(request: Request, draft: Draft) -> None:
    draft.choice("parent_check", "CheckParentType", {"NONE": "none", "ALL": "all", "MAKE_SCOPE": "scope"})
    # seed 003: a backfill ignores event dependency by default: its instances' events trigger nothing
    skip = request.boolean("SkipEventListening", default=True)
    draft.set("asset_events", "suppress" if skip else "emit", "SkipEventListening")
    draft.choice("self_dependency", "RedefineSelfWorkflowDependency", {"yes": "on", "no": "off"})
    draft.integer("parallelism", "RedefineParallelNum", 1, 64)
    if request.raw("RedefineParallelNum") is None:  # seed 003: "use the existing" setting of the task
        draft.fields["parallelism"] = None  # each DAG's own max_active_runs
    draft.choice(
        "order", "DataTimeOrder", {"NORMAL": "none", "ORDER": "asc", "REVERSE": "desc"}, default="none"
    )
    # seed 003: "Priority is given to dependency order": with self-dependency the dates run oldest
    # first, each after the one before it, whatever DataTimeOrder says
    if draft.fields.get("self_dependency") == "on" and draft.fields.get("order") != "asc":
        if draft.fields.get("order") == "desc":
            draft.warnings.append(
                "DataTimeOrder REVERSE yields to RedefineSelfWorkflowDependency yes: the dates run oldest "
                "first, each after the one before it succeeded"
            )
        draft.set("order", "asc", "RedefineSelfWorkflowDependency")


def _queue(request: Request, draft: Draft, ids: IdMap) -> None:
    """The scheduling or integration resource group as the plan's queue: one plan runs on one queue."""
    scheduler = request.text("SchedulerResourceGroupId", max_length=256)
    integration = request.text("IntegrationResourceGroupId", max_length=256)
    if scheduler and integration and scheduler != integration:
        request.error(
            "IntegrationResourceGroupId",
            "not supported beside a different SchedulerResourceGroupId: one plan runs on one queue",
        )
    group = scheduler or integration
    if group is not None:
        field = "SchedulerResourceGroupId" if scheduler else "IntegrationResourceGroupId"
        draft.set("queue", ids.queue(request, field, group, draft.warnings), field)


def _params(request: Request, draft: Draft) -> None:
    """``RedefineParamList[] {Key, Value}`` as the plan's conf."""
    conf: dict[str, Any] = {}
    for i, data in enumerate(request.objects("RedefineParamList")):
        pair = request.part(f"RedefineParamList.{i}", data, ("Key", "Value"))
        key = pair.text("Key", required=True, max_length=250)
        if key:
            conf[key] = pair.raw("Value")
    if conf:
        draft.set("conf", conf, "RedefineParamList")


def _ranges(request: Request, draft: Draft) -> list[dict[str, Any]]:
    ranges: list[dict[str, Any]] = []
    for i, data in enumerate(request.objects("DataBackfillRangeList", required=True)):
        entry = request.part(f"DataBackfillRangeList.{i}", data, RANGE_FIELDS)
        start, end = entry.date("StartDate", required=True), entry.date("EndDate", required=True)
        begin, finish = entry.text("ExecutionStartTime"), entry.text("ExecutionEndTime")
        if start is None or end is None:
            continue
        one: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
        if begin and finish:  # for hourly tasks: a daily task runs its whole day, with a warning
            one["window"] = {"start": begin, "end": finish, "sub_daily_only": True}
            where = f"DataBackfillRangeList.{i}."
            draft.name_window(
                f"ranges.{len(ranges)}", f"{where}ExecutionStartTime", f"{where}ExecutionEndTime"
            )
        elif begin or finish:
            entry.error("ExecutionEndTime" if begin else "ExecutionStartTime", "give both times, or neither")
        ranges.append(one)
    return ranges


def _first_days(start: str, end: str) -> list[str]:
    """The first days of the months between two dates, both included."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    day = first if first.day == 1 else (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    found = []
    while day <= last:
        found.append(day.isoformat())
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return found
