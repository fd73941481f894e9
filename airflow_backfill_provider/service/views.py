"""What the service answers (contract §4 field names): one pydantic model per resource.

The REST API returns these as JSON and the CLI prints them, so both show the same fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PLAN_STATES = ("queued", "running", "paused", "success", "failed", "cancelled")
LOT_STATES = ("pending", "waiting", "blocked", "running", "success", "failed", "skipped", "cancelled")
ACTIVE_LOT_STATES = ("pending", "waiting", "running")
SUCCEEDED_LOT_STATES = ("success", "skipped")
"""a lot in one of these let the lots that depend on it (self-dependency, parents) go on"""
UNSUCCESSFUL_LOT_STATES = ("failed", "blocked", "cancelled")
"""a lot in one of these blocks the lots that depend on it"""
FINAL_LOT_STATES = SUCCEEDED_LOT_STATES + UNSUCCESSFUL_LOT_STATES
FINAL_PLAN_STATES = ("success", "failed", "cancelled")


class LotOut(BaseModel):
    """A lot; the defaults are those of a lot that has not started (as a preview shows it)."""

    index: int
    dag_id: str
    label: str
    run_id: str | None = None
    logical_date: dt.datetime | None = None
    data_interval_start: dt.datetime
    data_interval_end: dt.datetime
    state: str = "pending"
    reason: str | None = None
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None


class TaskInstanceOut(BaseModel):
    task_id: str
    map_index: int = -1
    state: str | None
    try_number: int
    hostname: str | None
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    note: str | None = None
    dry_run: bool = False
    rendered_fields: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class TimelineEntry(BaseModel):
    state: str
    at: dt.datetime


class LotDetailOut(LotOut):
    task_instances: list[TaskInstanceOut]
    timeline: list[TimelineEntry]


class PlanOut(BaseModel):
    """A plan: its state and counts, then every plan field of contract §1."""

    model_config = ConfigDict(extra="allow")

    id: int
    name: str
    dag_id: str
    state: str
    counts: dict[str, int]
    total_lots: int
    timezone: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    created_by: str | None
    controller_run_id: str | None
    warnings: list[str] = Field(default_factory=list)


class PlanList(BaseModel):
    plans: list[PlanOut]
    total: int


class LotList(BaseModel):
    lots: list[LotOut]
    total: int


class PreviewOut(BaseModel):
    total: int
    lots: list[LotOut]
    dags: list[dict[str, Any]]
    warnings: list[str]
    name: str
    timezone: str


class CreatedOut(BaseModel):
    plan: PlanOut
    created: bool
