"""Aloudata CAN ``accelerate/task/create`` (seed 002) as a plan: an acceleration plan is a DAG."""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.translate.draft import Draft
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request


def task_create(data: Any, ids: IdMap) -> BackfillPlan:
    request = Request(data, "aloudata")
    draft = Draft(request, ids)
    plan_id, plan_name = request.text("planId", max_length=250), request.text("planName", max_length=250)
    if plan_id is not None:
        draft.dag("planId", plan_id)
        if plan_name is not None:
            draft.dag("planName", plan_name)
    elif plan_name is not None:
        draft.dag("planName", plan_name)
    else:
        request.error("planId", "is required (or planName): the acceleration plan, mapped to a DAG")
    start, end = request.date("startTime", required=True), request.date("endTime", required=True)
    if start and end:
        draft.set("ranges", [{"start": start.isoformat(), "end": end.isoformat()}], "startTime")
    days = request.integer("dateIntervalOfLot", 1, 3660)
    draft.set("lot", f"{days or 1}d", "dateIntervalOfLot")
    return draft.plan(())
