"""What the service answers (contract §4 field names): one pydantic model per resource.

The REST API returns these as JSON, the CLI prints them and the hook's callers read them, so all
three show the same fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from airflow_backfill_provider.states import LotState, PlanState


class LotOut(BaseModel):
    """A lot; the defaults are those of a lot that has not started (as a preview shows it)."""

    index: int
    dag_id: str
    label: str = Field(description="the lot's data interval, as people read it")
    system_date: str | None = Field(
        default=None,
        description="the date the plan's dates name this lot by, where they are not data time (dates_by): "
        "its scheduled time, or DataWorks' business date",
    )
    run_id: str | None = None
    logical_date: dt.datetime | None = None
    data_interval_start: dt.datetime
    data_interval_end: dt.datetime
    state: LotState = LotState.PENDING
    reason: str | None = Field(default=None, description="why the lot waits, is blocked or failed")
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
    state: LotState
    at: dt.datetime


class LotDetailOut(LotOut):
    task_instances: list[TaskInstanceOut]
    timeline: list[TimelineEntry]


class PlanOut(BaseModel):
    """A plan: its state and counts, then every plan field of contract §1."""

    model_config = ConfigDict(extra="allow")

    id: int
    name: str
    title: str | None = Field(default=None, description="display title (not unique), when the plan has one")
    dag_id: str
    state: PlanState
    counts: dict[str, int] = Field(description="lots per lot state, every state listed")
    total_lots: int
    timezone: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    created_by: str | None
    warnings: list[str] = Field(default_factory=list)


class PlanList(BaseModel):
    plans: list[PlanOut]
    total: int


class LotList(BaseModel):
    lots: list[LotOut]
    total: int


class PlannedDagOut(BaseModel):
    dag_id: str
    run_tasks: list[str]
    dry_run_tasks: list[str]
    self_dependency: bool
    parents: list[str]


class CalendarCell(TypedDict):
    """One cell of the calendar (a dict, not a model: a calendar has up to 20,000 of them)."""

    dag_id: str
    day: dt.date
    """the local day (the first of the month when by month)"""
    hour: int | None
    """the local hour, when by hour"""
    state: LotState
    """the state shown: what needs attention first among its lots"""
    counts: dict[str, int]
    """lots per state touching this cell"""
    first_lot: int
    """index of the first lot touching this cell"""


class CalendarOut(BaseModel):
    """The plan's lots over data time (the UI's heatmap)."""

    granularity: str = Field(description="hour, day, month or year")
    timezone: str
    dags: list[str]
    first_day: dt.date | None
    last_day: dt.date | None
    cells: list[CalendarCell]


class EstimateOut(BaseModel):
    """How long the plan may take, from the DAGs' recent successful runs."""

    seconds: float | None = Field(description="None when no DAG in scope has a successful run to learn from")
    runs_sampled: int
    basis: str


class PreviewOut(BaseModel):
    total: int
    lots: list[LotOut] = Field(description="the first lots in plan order (at most the preview limit)")
    dags: list[PlannedDagOut]
    warnings: list[str]
    name: str
    timezone: str
    data_start: dt.datetime | None = Field(default=None, description="the first data time the plan covers")
    data_end: dt.datetime | None = Field(default=None, description="the last data time the plan covers")
    calendar: CalendarOut | None = Field(default=None, description="the data time covered, by day (or hour)")
    asset_consumers: list[str] = Field(
        default_factory=list,
        description="DAGs Airflow schedules on the asset events of the plan's lots (asset_events: emit), "
        "those the caller may read",
    )
    asset_consumers_hidden: int = Field(
        default=0, description="more such DAGs, which the caller may not read"
    )
    estimate: EstimateOut | None = None


class CreatedOut(BaseModel):
    plan: PlanOut
    created: bool


class DriverPassOut(BaseModel):
    """What one pass of the plan driver did; ``retire`` tells the driver no plan needs it any more."""

    plans: int
    retire: bool
    elapsed_ms: float = Field(default=0.0, description="how long the pass took in the service")


class FieldErrorOut(BaseModel):
    loc: str
    msg: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldErrorOut]
    request_id: str


class ErrorOut(BaseModel):
    """The one error shape of every 4xx and 5xx answer."""

    error: ErrorBody
