"""Tencent Cloud WeData ``CreateDataBackfillPlan`` (seed 003, API version 2025-08-06) as a plan."""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.translate.draft import Draft
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request, iana_from_offset

VERSION = "2025-08-06"
DEFAULT_TIMEZONE = "UTC+8"
TENCENT_COMMON = ("Timestamp", "Nonce", "SecretId", "Signature", "SignatureMethod", "Token", "Language")
"""Tencent Cloud's common parameters (signing): Airflow's own auth replaces them"""
RANGE_FIELDS = ("StartDate", "EndDate", "ExecutionStartTime", "ExecutionEndTime")


def create_data_backfill_plan(data: Any, ids: IdMap) -> BackfillPlan:
    request = Request(data, "wedata", ignored=TENCENT_COMMON)
    draft = Draft(request, ids)
    request.choice("Action", {"CreateDataBackfillPlan": None})
    version = request.text("Version")
    if version is not None and version != VERSION:
        request.error("Version", f"{version!r}: this endpoint speaks WeData API version {VERSION}")
    draft.tag("Region", request.text("Region", max_length=64))
    draft.tag("ProjectId", request.text("ProjectId", required=True, max_length=64))
    tasks = draft.tasks("TaskIds", request.ids("TaskIds", required=True), whole_dag=True)
    if tasks:
        draft.set("tasks.include", tasks, "TaskIds")
    ranges = []
    for i, entry in enumerate(request.objects("DataBackfillRangeList", required=True)):
        where = f"DataBackfillRangeList.{i}"
        start = request.date("StartDate", data=entry)
        end = request.date("EndDate", data=entry)
        if start is None or end is None:
            request.error(where, "needs StartDate and EndDate (yyyy-MM-dd)")
            continue
        one: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
        begin, finish = entry.get("ExecutionStartTime"), entry.get("ExecutionEndTime")
        if begin and finish:
            one["window"] = {"start": str(begin), "end": str(finish)}
        elif begin or finish:
            request.error(where, "give both ExecutionStartTime and ExecutionEndTime")
        for key in entry:
            if key not in RANGE_FIELDS:
                request.error(f"{where}.{key}", f"unknown field: a range has {', '.join(RANGE_FIELDS)}")
        ranges.append(one)
    draft.set("ranges", ranges, "DataBackfillRangeList")
    zone = request.text("TimeZone", max_length=64) or DEFAULT_TIMEZONE
    draft.set("timezone", iana_from_offset(zone), "TimeZone")
    draft.set("name", request.text("DataBackfillPlanName", max_length=200), "DataBackfillPlanName")
    draft.set(
        "parent_check",
        request.choice("CheckParentType", {"NONE": "none", "ALL": "all", "MAKE_SCOPE": "scope"}),
        "CheckParentType",
    )
    if request.boolean("SkipEventListening", default=True) is False:
        request.error(
            "SkipEventListening",
            "not supported: a backfill plan's runs never wait for events (asset or dataset updates); "
            "send true or leave it out",
        )
    draft.set(
        "self_dependency",
        request.choice("RedefineSelfWorkflowDependency", {"yes": "on", "no": "off"}),
        "RedefineSelfWorkflowDependency",
    )
    draft.set("parallelism", request.integer("RedefineParallelNum", 1, 64), "RedefineParallelNum")
    scheduler = request.text("SchedulerResourceGroupId", max_length=256)
    integration = request.text("IntegrationResourceGroupId", max_length=256)
    if scheduler and integration and scheduler != integration:
        request.error(
            "IntegrationResourceGroupId",
            "not supported beside a different SchedulerResourceGroupId: one plan runs on one queue",
        )
    group = scheduler or integration
    if group is not None:
        draft.set(
            "queue",
            ids.queue(group),
            "SchedulerResourceGroupId" if scheduler else "IntegrationResourceGroupId",
        )
    conf: dict[str, Any] = {}
    for i, pair in enumerate(request.objects("RedefineParamList")):
        if not pair.get("Key"):
            request.error(f"RedefineParamList.{i}.Key", "is required")
            continue
        conf[str(pair["Key"])] = pair.get("Value")
    if conf:
        draft.set("conf", conf, "RedefineParamList")
    draft.set(
        "order",
        request.choice(
            "DataTimeOrder", {"NORMAL": "none", "ORDER": "asc", "REVERSE": "desc"}, default="none"
        ),
        "DataTimeOrder",
    )
    draft.set("lot", request.choice("RedefineCycleType", {"MONTH_CYCLE": "month"}), "RedefineCycleType")
    return draft.plan(())
