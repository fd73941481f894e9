"""Alibaba Cloud DMS task orchestration ``BackFill`` (seed 000) as a backfill plan."""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider.plan.translate.draft import Draft, Plans
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request

ALIBABA_COMMON = (
    "Format",
    "Version",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
    "RegionId",
)
"""Alibaba Cloud's common request parameters: signing and routing, which Airflow's own auth replaces"""


def lot_from_hours(hours: int) -> str:
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def back_fill(data: Any, ids: IdMap) -> Plans:
    request = Request(data, "dms", ignored=ALIBABA_COMMON)
    draft = Draft(request, ids)
    request.choice("Action", {"BackFill": None})
    draft.tag("Tid", request.text("Tid", max_length=64))
    draft.dag("DagId", request.text("DagId", required=True, max_length=250))
    roots = draft.tasks("StartNodeIds", request.ids("StartNodeIds"))
    if roots:
        draft.set("tasks.roots", roots, "StartNodeIds")
    subtree = request.boolean("IsTriggerSubTree", default=True)
    if roots:
        draft.set("tasks.downstream", subtree, "IsTriggerSubTree")
    one = request.date("BackFillDate")
    begin, end = request.date("BackFillDateBegin"), request.date("BackFillDateEnd")
    if one is not None and (begin or end):
        request.error("BackFillDate", "give BackFillDate or BackFillDateBegin and BackFillDateEnd, not both")
    elif one is not None:
        draft.set("dates", [one.isoformat()], "BackFillDate")
    elif begin is not None and end is not None:
        draft.set("ranges", [{"start": begin.isoformat(), "end": end.isoformat()}], "BackFillDateBegin")
    elif begin or end:
        request.error("BackFillDateEnd" if begin else "BackFillDateBegin", "a date range needs both ends")
    else:
        request.error(
            "BackFillDate", "is required: give BackFillDate, or BackFillDateBegin and BackFillDateEnd"
        )
    hours = request.integer("Interval", 1, 24 * 366)
    draft.set("lot", lot_from_hours(hours or 24), "Interval")
    # DMS steps through the task flow's own schedule: a 24-hour Interval on a flow scheduled daily at
    # 02:00 backfills its 02:00 runs, not new runs at midnight
    draft.set("lot_follows_schedule", True, "Interval")
    asc = request.boolean("Asc", default=True)
    draft.set("order", "asc" if asc else "desc", "Asc")
    history = request.text("HistoryDagId", max_length=64)
    if history is not None:
        draft.set("dag_version", ids.dag_version(request, "HistoryDagId", history), "HistoryDagId")
    return draft.plans(())
