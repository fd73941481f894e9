"""The backfill plan: what a user writes, validated without Airflow.

Every check that needs no DAG lives here and reports every bad field at once, each with its dotted
path and the fix. Checks that need the DAG (task ids, schedule) live in the planner.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
import zoneinfo
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from airflow_backfill_provider.exceptions import MAX_FIELD_ERRORS, FieldError, PlanValidationError
from airflow_backfill_provider.reserved import CONTROLLER_DAG_ID, PARKED_POOL, PLAN_CONF_KEY


def is_number(text: str) -> bool:
    """ASCII digits only: ``²`` or ``٣`` are digits to ``str.isdigit`` and not numbers to ``int``."""
    return text.isascii() and text.isdigit()


_ID = r"^[A-Za-z0-9_.~:+-]+$"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.~:+-]{0,199}$"
_LOT = re.compile(r"^(?:(?P<n>[0-9]+)(?P<unit>[hd])|(?P<month>month))$")
_HHMM = re.compile(r"^(?P<h>[01][0-9]|2[0-3]):(?P<m>[0-5][0-9])(?::(?P<s>[0-5][0-9]))?$")
MAX_LOT_HOURS = 24 * 366
MAX_LOT_DAYS = 3660
MAX_ITEMS = 1000
"""most entries of any list of a plan (dates: 10 times that)"""
MAX_JSON_BYTES = 64 * 1024
"""most bytes of ``conf`` and of ``task_params``, as JSON"""
MAX_DEPTH = 24
"""deepest nesting of objects and lists in a plan (``conf`` may nest about 20 levels)"""
INT32 = 2**31 - 1
TaskId = Annotated[str, Field(min_length=1, max_length=250)]


class _Strict(BaseModel):
    """Unknown fields are refused by name: a typo is never ignored. An object with more keys than the
    model has fields is refused at once, as one error: 80,000 unknown keys cost what one does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_wider_than_the_model(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) > len(cls.model_fields):
            raise ValueError(too_wide(cls, data))
        return data


def too_wide(model: type[BaseModel], data: dict[Any, Any]) -> str:
    unknown = [str(k)[:50] for k in list(data)[:1000] if k not in model.model_fields][:5]
    return (
        f"{len(data)} keys, but {model.__name__} has {len(model.model_fields)} fields: unknown fields "
        f"{', '.join(map(repr, unknown))}{' …' if len(data) > len(model.model_fields) + 5 else ''}; "
        f"known fields are {', '.join(model.model_fields)}"
    )


def _date_or_datetime(value: Any) -> Any:
    """Read ``2024-01-31`` as a date and anything with a time part as a datetime."""
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date or datetime: write YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"
            ) from None
    raise ValueError(f"{value!r} is not a date or datetime: write YYYY-MM-DD or YYYY-MM-DDTHH:MM")


FIRST_YEAR, LAST_YEAR = 1000, 9998
"""data time lies in these years: schedules are stepped a little past each end, and Python's dates
stop at years 1 and 9999"""


def _in_years(value: Any) -> Any:
    if isinstance(value, dt.date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            f"{value.isoformat()} is outside the data time a plan can cover: give a date from "
            f"{FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31"
        )
    return value


DateOrDatetime = Annotated[
    dt.date | dt.datetime, BeforeValidator(_date_or_datetime), AfterValidator(_in_years)
]


def parse_time_of_day(text: str) -> dt.time:
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day: write HH:MM (00:00 to 23:59)")
    return dt.time(int(match["h"]), int(match["m"]), int(match["s"] or 0))


class Window(_Strict):
    """Keep only intervals that start inside this time of day; ``end`` before ``start`` wraps midnight."""

    start: str = Field(description="first kept interval start, HH:MM, inclusive", examples=["00:00"])
    end: str = Field(description="last kept interval start, HH:MM, inclusive", examples=["06:00"])
    sub_daily_only: bool = Field(
        default=False,
        description="apply only where lots are shorter than a day; a daily (or coarser) DAG then runs "
        "whole days, with a warning (DataWorks' BizBeginTime/BizEndTime, which apply to hourly nodes)",
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time_of_day(cls, value: Any) -> str:
        if isinstance(value, dt.time):
            value = value.isoformat()
        if isinstance(value, int):  # YAML 1.1 reads 01:30 as a sexagesimal number
            value = f"{value // 60:02d}:{value % 60:02d}"
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a time of day: write HH:MM")
        parsed = parse_time_of_day(value)
        return parsed.strftime("%H:%M:%S" if parsed.second else "%H:%M")

    def contains(self, time_of_day: dt.time) -> bool:
        start, end = parse_time_of_day(self.start), parse_time_of_day(self.end)
        if start <= end:
            return start <= time_of_day <= end
        return time_of_day >= start or time_of_day <= end


def _span_bounds(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Naive-comparable bounds of a range, for the end-before-start check (a date end is inclusive)."""

    def as_datetime(value: dt.date | dt.datetime, *, end: bool) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
        return dt.datetime.combine(value + dt.timedelta(days=1 if end else 0), dt.time())

    return as_datetime(start, end=False), as_datetime(end, end=True)


def iana_timezone(value: str | None) -> str | None:
    """``value`` if it names an IANA timezone (or is None); else the error says what to write."""
    if value is None:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA timezone: use a name such as 'UTC', 'Europe/Paris' or 'Asia/Shanghai'"
        ) from None
    return value


class RunWindow(Window):
    """Wall-clock hours in which lots may start (DataWorks RunPolicy): ``22:00``-``06:00`` wraps
    midnight, both ends included. Lots already running go on outside it."""

    timezone: str | None = Field(default=None, description="IANA name; default: the plan's timezone")

    @field_validator("timezone")
    @classmethod
    def _iana_timezone(cls, value: str | None) -> str | None:
        return iana_timezone(value)

    def open_at(self, now: dt.datetime, default_tz: str) -> bool:
        return self.contains(now.astimezone(zoneinfo.ZoneInfo(self.timezone or default_tz)).time())


class Range(_Strict):
    """An inclusive range of data time: a date ``end`` includes that whole day."""

    start: DateOrDatetime = Field(description="first data date or datetime", examples=["2024-01-01"])
    end: DateOrDatetime = Field(
        description="last data date (inclusive) or the datetime data time stops at", examples=["2024-01-31"]
    )
    window: Window | None = Field(default=None, description="for sub-daily schedules: times of day to keep")

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: dt.date | dt.datetime, info: ValidationInfo) -> dt.date | dt.datetime:
        start = info.data.get("start")
        if start is None:
            return end
        lo, hi = _span_bounds(start, end)
        if hi <= lo:
            raise ValueError(f"end {end} is before start {start}: swap them, or set end on or after start")
        return end


class TaskSelection(_Strict):
    """Which tasks run; every other task of the DAG is dry-run (success without running)."""

    roots: list[TaskId] | None = Field(
        default=None, max_length=MAX_ITEMS, description="run these tasks (default: all tasks)"
    )
    downstream: bool = Field(default=True, description="with roots: also run everything downstream of them")
    include: list[TaskId] | None = Field(
        default=None, max_length=MAX_ITEMS, description="run exactly these (with roots: union)"
    )
    exclude: list[TaskId] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="dry-run these; glob patterns allowed"
    )

    def runs_everything(self) -> bool:
        """Whether every task of the DAG runs, whatever tasks it has now or later: no dry run."""
        return self.roots is None and self.include is None and not self.exclude


class DagSelection(_Strict):
    """The plan's other DAGs: restricts ``downstream_dags``, adds DAGs, and chooses their tasks."""

    include: list[TaskId] | None = Field(
        default=None, max_length=MAX_ITEMS, description="only these downstream DAGs"
    )
    exclude: list[TaskId] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="never these downstream DAGs"
    )
    add: list[TaskId] = Field(
        default_factory=list,
        max_length=100,
        description="DAGs this plan also backfills for the same intervals, wherever they stand in the DAG "
        "graph; with parent_check scope, a DAG's lot waits for its parents' lots in the plan",
    )
    tasks: dict[TaskId, TaskSelection] = Field(
        default_factory=dict,
        max_length=100,
        description="the task selection of each other DAG (default: every task runs)",
    )
    task_params: dict[TaskId, dict[TaskId, dict[str, Any]]] = Field(
        default_factory=dict,
        max_length=100,
        description="per-task params of each other DAG: {dag_id: {task_id: {key: value}}}",
    )


TARGET_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"


class Notify(_Strict):
    """Whom to tell when the plan ends: targets the deployment defines (``[backfill]
    notification_targets``), by name. A plan chooses targets and states, nothing else: the
    deployment owns recipients, channels and templates, and the provider writes the message."""

    on: list[Literal["success", "failure"]] = Field(
        default_factory=lambda: ["success", "failure"],  # type: ignore[arg-type]
        max_length=2,
        description="the plan ends in these",
    )
    targets: list[Annotated[str, Field(pattern=TARGET_NAME)]] = Field(
        min_length=1,
        max_length=10,
        description="names of the deployment's notification targets ([backfill] notification_targets)",
        examples=[["data-team"]],
    )


@dataclass(frozen=True)
class LotSize:
    """Parsed ``lot``: ``unit`` is ``h``, ``d`` or ``month``."""

    unit: Literal["h", "d", "month"]
    n: int = 1

    @classmethod
    def parse(cls, text: str) -> LotSize:
        match = _LOT.match(text)
        if match is None:
            raise ValueError(
                f"{text!r} is not a lot size: write '<N>h' (hours), '<N>d' (days), 'month', "
                "or null for the DAG's own schedule"
            )
        if match["month"]:
            return cls("month")
        n, unit = int(match["n"]), cast(Literal["h", "d"], match["unit"])
        limit = MAX_LOT_HOURS if unit == "h" else MAX_LOT_DAYS
        if not 1 <= n <= limit:
            raise ValueError(f"{text!r}: N must be between 1 and {limit} for '{unit}' lots")
        return cls(unit, n)

    @property
    def sub_daily(self) -> bool:
        return self.unit == "h"


class BackfillPlan(_Strict):
    """A backfill plan. Dates are data time (the data interval a run processes); ranges are inclusive."""

    dag_id: str = Field(pattern=_ID, max_length=250, description="the DAG to backfill")
    name: str | None = Field(
        default=None,
        pattern=_NAME,
        description="unique per installation; generated from the content when not given",
    )
    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="a display title, any language, not unique (DataWorks Name, WeData DataBackfillPlanName)",
        examples=["补数据_xm_test"],
    )
    lot: str | None = Field(
        default=None,
        description="data interval of one run: null = the DAG's schedule, '<N>h', '<N>d' or 'month'",
        examples=[None, "1d", "7d", "6h", "month"],
    )
    dates: list[Annotated[dt.date, AfterValidator(_in_years)]] = Field(
        default_factory=list, max_length=10 * MAX_ITEMS, description="single data dates, each a one-day range"
    )
    ranges: list[Range] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="inclusive ranges of data time"
    )
    timezone: str | None = Field(default=None, description="IANA name; default: the DAG's timezone")
    dates_by: Literal["data_time", "scheduled_time", "bizdate"] = Field(
        default="data_time",
        description="what dates and ranges name: data_time, the runs whose data interval starts in them; "
        "scheduled_time, the DAG's runs scheduled (run_after) in them; bizdate, DataWorks' business date: "
        "a date D names the runs scheduled on D+1. The last two select the DAG's own runs (no `lot`)",
    )
    lot_follows_schedule: bool = Field(
        default=False,
        description="where `lot` is as long as the DAG's schedule period (1d on a daily DAG), the lots are "
        "the DAG's own runs at its scheduled times instead of lots aligned to the range start "
        "(DMS' Interval, which steps from the task flow's schedule)",
    )
    order: Literal["asc", "desc", "none"] = Field(default="asc", description="start order of lots")
    parallelism: int | None = Field(
        default=1,
        ge=1,
        le=64,
        description="runs of this plan in flight per DAG; null: each DAG's own max_active_runs (at most 64)",
    )
    self_dependency: Literal["inherit", "on", "off"] = Field(
        default="inherit", description="on: a lot starts only after the lot before it succeeded"
    )
    parent_check: Literal["none", "all", "scope"] = Field(
        default="none",
        description="none: a lot looks at nothing outside the plan; scope: a DAG's lot for an interval waits "
        "for its parent DAGs' lots of that interval in the plan; all: as scope, and every parent outside "
        "the plan (dry-run upstream tasks, upstream DAGs) must have succeeded for the interval",
    )
    tasks: TaskSelection = Field(default_factory=TaskSelection)
    downstream_dags: bool = Field(default=False, description="also backfill DAGs that depend on this one")
    dags: DagSelection = Field(default_factory=DagSelection)
    conf: dict[str, Any] = Field(default_factory=dict, description="DAG-run conf of every run")
    task_params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        max_length=MAX_ITEMS,
        description="per-task overrides of params: {task_id: {key: value}}",
    )
    reprocess: Literal["none", "failed", "all"] = Field(
        default="none", description="intervals that already have a run: skip / redo failed / redo all"
    )
    run_future: Literal["wait", "now"] = Field(
        default="wait", description="intervals whose data time has not ended yet: wait, or run now"
    )
    paused: bool = Field(default=False, description="create without starting; resume starts it")
    asset_events: Literal["emit", "suppress"] = Field(
        default="emit",
        description="emit: the lots' tasks publish their outlets' asset events, as Airflow does, and "
        "schedule the assets' consumer DAGs; suppress: no consumer is scheduled by the plan's lots "
        "(the asset changes are still recorded, for lineage)",
    )
    priority_weight: int | None = Field(
        default=None, ge=-INT32, le=INT32, description="priority of the plan's task instances"
    )
    pool: str | None = Field(
        default=None, min_length=1, max_length=256, description="pool of the plan's task instances"
    )
    weight_rule: Literal["absolute", "downstream", "upstream"] | None = Field(
        default=None,
        description="how task priorities add up (Airflow's weight rules); default: the plan's priority_weight as it is",
    )
    queue: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        pattern=r"^[A-Za-z0-9_.:@-]+$",
        description="executor queue of the plan's task instances (Celery: only workers serving it run them)",
    )
    run_window: RunWindow | None = Field(
        default=None, description="wall-clock hours in which lots may start; running lots go on outside them"
    )
    max_failures: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="start no new lot once this many lots failed; the rest are blocked, retry resumes",
    )
    dag_version: int | None = Field(
        default=None,
        ge=1,
        le=INT32,
        description="run the lots on this version number of the DAG (Airflow's DAG versions); default: the latest",
    )
    notify: Notify | None = Field(default=None, description="notification targets told when the plan ends")
    comment: str | None = Field(default=None, max_length=2000)
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )

    @field_validator("conf", "task_params")
    @classmethod
    def _json_data(cls, value: dict[str, Any]) -> dict[str, Any]:
        """What a run's conf holds: JSON data. Dates and datetimes (a Python caller's) become their ISO
        text, as they would in JSON; anything else that is not JSON is refused by name."""
        return cast(dict[str, Any], json_data(value))

    @field_validator("lot")
    @classmethod
    def _lot_syntax(cls, value: str | None) -> str | None:
        if value is not None:
            LotSize.parse(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _iana_timezone(cls, value: str | None) -> str | None:
        return iana_timezone(value)

    @model_validator(mode="wrap")
    @classmethod
    def _report_every_bad_field(cls, data: Any, handler: Any) -> BackfillPlan:
        """Collect field errors and cross-field errors together, and phrase each with its fix (the
        first ``MAX_FIELD_ERRORS`` of them: phrasing costs more than finding)."""
        if isinstance(data, dict) and len(data) > len(cls.model_fields):
            raise PlanValidationError([FieldError("", too_wide(cls, data))])
        errors: list[FieldError] = []
        plan: BackfillPlan | None = None
        try:
            plan = handler(data)
        except ValidationError as exc:
            found = _without_replaced(exc.errors(), cls)
            errors = [_explain(err, cls) for err in found[:MAX_FIELD_ERRORS]]
            errors += [FieldError("", "…")] * (len(found) - len(errors))  # counted by PlanValidationError
        raw = data if isinstance(data, dict) else (plan.model_dump() if plan is not None else {})
        errors += _cross_field_errors(raw)
        if errors:
            raise PlanValidationError(errors)
        assert plan is not None
        return plan

    # -- derived values -------------------------------------------------------------------------

    @property
    def lot_size(self) -> LotSize | None:
        return None if self.lot is None else LotSize.parse(self.lot)

    def selection_of(self, dag_id: str) -> TaskSelection:
        """Which tasks of ``dag_id`` run: ``tasks`` for the plan's DAG, ``dags.tasks`` for the others."""
        return self.tasks if dag_id == self.dag_id else self.dags.tasks.get(dag_id, TaskSelection())

    def params_of(self, dag_id: str) -> dict[str, dict[str, Any]]:
        """The per-task params of ``dag_id``'s tasks."""
        return self.task_params if dag_id == self.dag_id else self.dags.task_params.get(dag_id, {})

    def selects_tasks(self) -> bool:
        """Whether some DAG of the plan leaves a task out (so dry-runs it)."""
        return not self.tasks.runs_everything() or any(
            not s.runs_everything() for s in self.dags.tasks.values()
        )

    def version_of(self, dag_id: str) -> int | None:
        """The version lots of ``dag_id`` run on: ``dag_version`` for the plan's DAG, else the latest."""
        return self.dag_version if dag_id == self.dag_id else None

    def content_hash(self) -> str:
        """Hash of everything but the name: same content ⇔ same hash (idempotent resubmission)."""
        body = self.model_dump(mode="json", exclude={"name"})
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def default_name(self) -> str:
        """A readable name from the DAG, the data time and the content: the same plan gets the same name."""
        bounds = [d.isoformat() for d in self.dates]
        for rng in self.ranges:
            bounds += [rng.start.isoformat()[:10], rng.end.isoformat()[:10]]
        first, last = min(bounds).replace("-", ""), max(bounds).replace("-", "")
        return f"{self.dag_id[:120]}__{first}-{last}__{self.content_hash()[:8]}"

    # -- JSON and YAML in and out ---------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str | bytes) -> BackfillPlan:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PlanValidationError(
                [FieldError("", f"not JSON: {exc}")], "the plan is not valid JSON"
            ) from None
        return cls.from_dict(data)

    @classmethod
    def from_yaml(cls, text: str) -> BackfillPlan:
        try:
            data = yaml.load(text, Loader=_PlanYamlLoader)
        except yaml.YAMLError as exc:
            raise PlanValidationError(
                [FieldError("", f"not YAML: {exc}")], "the plan is not valid YAML"
            ) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> BackfillPlan:
        if not isinstance(data, dict):
            raise PlanValidationError(
                [FieldError("", f"a plan is a mapping of fields, got {type(data).__name__}")]
            )
        return cls.model_validate(data)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_defaults=True), sort_keys=False)


class _PlanYamlLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 reads ``on``, ``off``, ``yes`` and ``no`` as
    booleans, which would turn ``self_dependency: on`` and ``notify: {on: [...]}`` into nonsense.
    Dates stay text (the model reads its own date fields): ``day: 2024-01-01`` in ``conf`` is the
    string a DAG's conf holds, as in JSON."""


_PlanYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PlanYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _cross_field_errors(raw: dict[str, Any]) -> list[FieldError]:
    """Checks that relate fields, made on the raw input so they show beside per-field errors."""
    errors: list[FieldError] = _reserved_name_errors(raw) + _json_value_errors(raw)
    for field in ("conf", "task_params"):
        errors += _json_size_errors(raw.get(field), field)
    if raw.get("dates_by") in ("scheduled_time", "bizdate") and raw.get("lot") is not None:
        errors.append(
            FieldError(
                "lot",
                f"dates_by: {raw['dates_by']} selects the DAG's own runs by their scheduled time: drop `lot`",
            )
        )
    if not raw.get("dates") and not raw.get("ranges"):
        errors.append(FieldError("dates", "the plan names no data time: give `dates`, `ranges`, or both"))
    lot = raw.get("lot")
    try:
        size = LotSize.parse(lot) if isinstance(lot, str) else None
    except ValueError:
        size = None
    if size is not None and not size.sub_daily:
        ranges = raw.get("ranges")
        for i, rng in enumerate(ranges if isinstance(ranges, list) else []):
            window = rng.get("window") if isinstance(rng, dict) else None
            if window is not None and not (isinstance(window, dict) and window.get("sub_daily_only")):
                errors.append(
                    FieldError(
                        f"ranges.{i}.window",
                        f"a window keeps intervals by time of day, but lot {lot!r} starts every lot at the "
                        "same time: remove the window, or use hourly lots ('<N>h') or the DAG's schedule",
                    )
                )
    return errors


def _reserved_name_errors(raw: dict[str, Any]) -> list[FieldError]:
    """Names the provider itself uses in Airflow (``reserved.py``) are not for plans."""
    errors: list[FieldError] = []
    if raw.get("pool") == PARKED_POOL:
        errors.append(
            FieldError(
                "pool",
                f"'{PARKED_POOL}' is the provider's 0-slot pool for dry-run tasks: no task of a plan can run "
                "in it. Name another pool, or drop `pool`",
            )
        )
    name = raw.get("name")
    if isinstance(name, str) and is_number(name):
        errors.append(
            FieldError("name", f"{name!r} looks like a plan id: plans are found by id or name, add a letter")
        )
    if isinstance(name, str) and ".." in name and re.match(_NAME, name):  # else the pattern says why
        errors.append(FieldError("name", "'..' cannot be in a name: Airflow refuses it in run ids"))
    conf = raw.get("conf")
    if isinstance(conf, dict) and PLAN_CONF_KEY in conf:
        errors.append(
            FieldError(
                f"conf.{PLAN_CONF_KEY}", "this key is reserved for the plan's own use: rename it in `conf`"
            )
        )
    if raw.get("dag_id") == CONTROLLER_DAG_ID:
        errors.append(
            FieldError("dag_id", f"'{CONTROLLER_DAG_ID}' drives backfill plans: it cannot be backfilled")
        )
    return errors


def json_data(value: Any, where: str = "") -> Any:
    """``value`` as JSON data: dates as ISO text, tuples as lists; ValueError names what is not JSON."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dt.date):  # datetime included
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_data(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_data(v, f"{where}.{i}" if where else str(i)) for i, v in enumerate(value)]
    raise ValueError(
        f"{where or 'a value'} is a {type(value).__name__}, not JSON data: give text, a number, a list or an object"
    )


def _json_value_errors(value: Any) -> list[FieldError]:
    """Values a database stores as they came: no NUL characters, no NaN or infinity, bounded depth."""
    errors: list[FieldError] = []

    def walk(item: Any, path: str, depth: int) -> None:
        if len(errors) >= 10:
            return
        if depth > MAX_DEPTH:
            errors.append(FieldError(path, f"nested deeper than {MAX_DEPTH} levels: flatten it"))
        elif isinstance(item, str):
            if "\x00" in item:
                errors.append(FieldError(path, "contains a NUL character (\\u0000): remove it"))
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                errors.append(FieldError(path, "NaN and infinity are not JSON numbers: give a finite number"))
        elif isinstance(item, dict):
            for key, sub in item.items():
                where = f"{path}.{key}" if path else str(key)
                walk(key, where, depth + 1)
                walk(sub, where, depth + 1)
        elif isinstance(item, list | tuple):
            for i, sub in enumerate(item):
                walk(sub, f"{path}.{i}", depth + 1)

    walk(value, "", 0)
    return errors


def _json_size_errors(value: Any, loc: str) -> list[FieldError]:
    if not isinstance(value, dict | list):
        return []
    try:
        size = len(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        size = MAX_JSON_BYTES + 1
    if size > MAX_JSON_BYTES:
        return [FieldError(loc, f"{size} bytes as JSON: at most {MAX_JSON_BYTES} are allowed")]
    return []


RETIRED_FIELDS = {
    ("Notify", "notifiers"): (
        "targets",
        "plans name notification targets, not notifiers or their arguments: write `notify: {targets: "
        "[<name>]}` with a target your Airflow administrator defined in [backfill] notification_targets. "
        "Recipients, channels and message templates are the deployment's",
    ),
}
"""fields earlier releases had: (the field that replaces it, what to write instead)"""


def _without_replaced(errors: list[Any], model: type[BaseModel]) -> list[Any]:
    """The errors, less "required" for a field whose retired predecessor was given (its own error says
    what to write)."""
    replaced = set()
    for err in errors:
        owner = _model_at(model, err["loc"][:-1]) if err["type"] == "extra_forbidden" else None
        retired = RETIRED_FIELDS.get((owner.__name__, str(err["loc"][-1]))) if owner else None
        if retired:
            replaced.add((*err["loc"][:-1], retired[0]))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in replaced)]


def _explain(err: Any, model: type[BaseModel]) -> FieldError:
    """Turn one pydantic error into a field path and a message that says what to do."""
    loc = ".".join(str(part) for part in err["loc"])
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        owner = _model_at(model, err["loc"][:-1])
        name = str(err["loc"][-1])
        if owner is not None and (owner.__name__, name) in RETIRED_FIELDS:
            return FieldError(loc, RETIRED_FIELDS[(owner.__name__, name)][1])
        known = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return FieldError(loc, f"unknown field '{name}': {hint}known fields are {', '.join(known)}")
    if kind == "missing":
        return FieldError(loc, f"'{err['loc'][-1]}' is required")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif kind == "string_pattern_mismatch":
        msg = f"{err['input']!r} has characters that are not allowed: use letters, digits and _ . ~ : + -"
    elif "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{msg} (got {err['input']!r})"
    return FieldError(loc, msg)


def _model_at(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class found by following ``path`` (field names and list indexes) from ``model``."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        field = (
            current.model_fields.get(part)
            if isinstance(current, type) and issubclass(current, BaseModel)
            else None
        )
        if field is None:
            return None
        current = _first_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _first_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model(arg)
        if found is not None:
            return found
    return None
