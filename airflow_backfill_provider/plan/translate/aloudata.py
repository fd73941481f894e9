"""Aloudata CAN ``accelerate/task/create`` (seed 002) as a plan: an acceleration plan is a DAG."""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider.plan.translate.draft import Draft, Plans
from airflow_backfill_provider.plan.translate.idmap import IdMap
from airflow_backfill_provider.plan.translate.request import Request


def task_create(data: Any, ids: IdMap) -> Plans:
    request = Request(data, "aloudata")
    draft = Draft(request, ids)
    plan_id, plan_name = request.text("planId", max_length=250), request.text("planName", max_length=250)
    for field, given in (("planId", plan_id), ("planName", plan_name)):
        if given is None:
            continue
        if given in ids.dags:  # an acceleration plan's UUID, mapped to its DAG
            draft.dag(field, given)
            continue
        tasks = draft.tasks(field, [given], whole_dag=True)  # <dag_id> or <dag_id>.<task_id>
        if tasks:
            draft.set("tasks.include", tasks, field)
    if plan_id is None and plan_name is None:
        request.error("planId", "is required (or planName): the acceleration plan, mapped to a DAG")
    start, end = request.date("startTime", required=True), request.date("endTime", required=True)
    if start and end:
        draft.set("ranges", [{"start": start.isoformat(), "end": end.isoformat()}], "startTime")
    days = request.integer("dateIntervalOfLot", 1, 3660)
    draft.set("lot", f"{days or 1}d", "dateIntervalOfLot")
    return draft.plans(())
