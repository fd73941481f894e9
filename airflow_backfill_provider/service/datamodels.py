"""What the service answers: one pydantic model per resource, the field names of the REST API.

The REST API returns these as JSON, the CLI prints them and the hook's callers read them, so all
three show the same fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, computed_field
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from typing_extensions import TypedDict

from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.service.plan_states import Action
from airflow_backfill_provider.states import RETRYABLE_LOTS, LotState, PlanState


class _Out(BaseModel):
    """An answer: every field is always sent, so the schema marks every field required."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class LotOut(_Out):
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

    @computed_field(description="whether a retry takes the lot (failed, blocked or cancelled)")  # type: ignore[prop-decorator]
    @property
    def retryable(self) -> bool:
        return self.state in RETRYABLE_LOTS


class TaskInstanceOut(_Out):
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


class TimelineEntry(_Out):
    state: LotState
    at: dt.datetime


class LotDetailOut(LotOut):
    task_instances: list[TaskInstanceOut]
    timeline: list[TimelineEntry]


class PlanOut(_Out):
    """A plan: its state, counts and the steering it accepts now, then every field of its
    ``BackfillPlan`` beside them.

    The plan's fields are the stored plan as it was accepted, not validated again on every read (a
    deployment that later drops a notification target still shows its old plans): they are extra
    fields here, typed in the API's schema by ``BackfillPlan``.
    """

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)

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
    actions: list[Action] = Field(
        default_factory=list, description="the steering calls the plan accepts now, for its state and lots"
    )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema.pop("additionalProperties", None)
        # the plan's fields, by reference: BackfillPlan is one schema the API shares with its request body
        generator = handler.generate_json_schema  # type: ignore[attr-defined]  # pydantic's handler has it
        schema["allOf"] = [generator.generate_inner(BackfillPlan.__pydantic_core_schema__)]
        return schema


class PlanList(_Out):
    plans: list[PlanOut]
    total: int


class LotList(_Out):
    lots: list[LotOut]
    total: int


class PlannedDagOut(_Out):
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


class CalendarOut(_Out):
    """The plan's lots over data time (the UI's heatmap)."""

    granularity: str = Field(description="hour, day, month or year")
    timezone: str
    dags: list[str]
    first_day: dt.date | None
    last_day: dt.date | None
    cells: list[CalendarCell]


class EstimateOut(_Out):
    """How long the plan may take, from the DAGs' recent successful runs."""

    seconds: float | None = Field(description="None when no DAG in scope has a successful run to learn from")
    runs_sampled: int
    basis: str


class PreviewOut(_Out):
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


class CreatedOut(_Out):
    plan: PlanOut
    created: bool


class DriverPassOut(_Out):
    """What one pass of the plan driver did; ``retire`` tells the driver no plan needs it any more."""

    plans: int
    retire: bool
    elapsed_ms: float = Field(default=0.0, description="how long the pass took in the service")


class FieldErrorOut(_Out):
    loc: str
    msg: str


class ErrorBody(_Out):
    code: str
    message: str
    fields: list[FieldErrorOut]
    request_id: str


class ErrorOut(_Out):
    """The one error shape of every 4xx and 5xx answer."""

    error: ErrorBody
