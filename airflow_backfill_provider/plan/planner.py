"""The planner: a plan and DAG descriptions in, the ordered list of lots out. Pure and fast."""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError, UnknownObjectError
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.intervals import (
    UTC,
    Interval,
    ScheduleError,
    Span,
    fixed_lots,
    merge,
    requested_spans,
    schedule_intervals,
    scheduled_intervals,
)
from airflow_backfill_provider.plan.model import BackfillPlan, LotSize, parse_time_of_day
from airflow_backfill_provider.plan.tasks import TaskPlan, select_tasks


@dataclass(slots=True)
class Lot:
    """One (DAG, data interval): one DagRun. ``index`` is its position in plan order.

    Not frozen: a frozen dataclass builds several times slower, and plans hold ~100,000 lots.
    """

    index: int
    dag_id: str
    start: dt.datetime
    end: dt.datetime


MAX_PARALLELISM = 64
"""most runs of one DAG a plan keeps in flight"""


@dataclass(frozen=True)
class PlannedDag:
    dag_id: str
    tasks: TaskPlan
    self_dependency: bool
    parents: tuple[str, ...] = ()
    """DAGs of this plan that this DAG depends on (for ``parent_check: scope``)"""
    past_dependent: bool = False
    """a task the plan runs has ``depends_on_past``"""
    parallelism: int = 1
    """its runs in flight at once: the plan's ``parallelism``, else the DAG's own ``max_active_runs``"""


@dataclass(frozen=True)
class PlannedBackfill:
    plan: BackfillPlan
    timezone: str
    lots: list[Lot]
    dags: dict[str, PlannedDag]
    warnings: list[str] = field(default_factory=list)


def plan_backfill(
    plan: BackfillPlan,
    dags: Mapping[str, DagDescription],
    *,
    now: dt.datetime | None = None,
    max_lots: int | None = None,
) -> PlannedBackfill:
    """Expand ``plan`` into lots against the DAGs it touches; raises naming every problem it finds.

    ``max_lots`` bounds the work as well as the result: a plan of too many lots is refused before
    more than ``max_lots + 1`` intervals are built.
    """
    target = dags.get(plan.dag_id)
    if target is None:
        raise UnknownObjectError(
            f"unknown DAG '{plan.dag_id}'",
            [
                FieldError(
                    "dag_id",
                    f"no DAG '{plan.dag_id}' is known to Airflow: check the id, or wait for the "
                    "dag-processor to parse its file",
                )
            ],
        )
    tz_name = plan.timezone or target.timezone
    tz = ZoneInfo(tz_name)
    spans, notes = _windows_where_they_apply(plan, target, requested_spans(plan, tz), tz)
    intervals = _intervals(plan, target, spans, tz, max_lots)
    if not intervals:
        what = "lot" if plan.lot else f"DAG '{target.dag_id}' schedule"
        raise PlanValidationError(
            [
                FieldError(
                    "ranges" if plan.ranges else "dates",
                    f"the dates, ranges and windows select no interval of the {what}: widen them",
                )
            ]
        )

    order = _dag_order(plan, dags)
    planned = {}
    for dag_id, parents in order:
        tasks = select_tasks(
            plan.selection_of(dag_id), dags[dag_id], dag_id if dag_id != plan.dag_id else None
        )
        _check_task_params(plan, dags[dag_id])
        planned[dag_id] = PlannedDag(
            dag_id=dag_id,
            tasks=tasks,
            self_dependency=_self_dependency(plan, dags[dag_id]),
            parents=parents,
            past_dependent=bool(dags[dag_id].depends_on_past & tasks.run),
            parallelism=plan.parallelism or min(MAX_PARALLELISM, max(1, dags[dag_id].max_active_runs or 16)),
        )
    dag_ids = [dag_id for dag_id, _ in order]
    if max_lots is not None and len(intervals) * len(dag_ids) > max_lots:
        raise _too_big(plan, max_lots)
    if plan.order == "desc":
        intervals.reverse()
    lots = [
        Lot(i, dag_id, start, end)
        for i, (start, end, dag_id) in enumerate((s, e, d) for s, e in intervals for d in dag_ids)
    ]
    return PlannedBackfill(plan, tz_name, lots, planned, notes + _warnings(plan, dags, planned, lots, now))


def _windows_where_they_apply(
    plan: BackfillPlan, target: DagDescription, spans: list[Span], tz: ZoneInfo
) -> tuple[list[Span], list[str]]:
    """Windows marked ``sub_daily_only`` are dropped where lots last a day or more: whole days run."""
    marked = [s for s in spans if s.window is not None and s.window.sub_daily_only]
    if not marked:
        return spans, []
    size = plan.lot_size
    if size is not None:
        sub_daily = size.sub_daily
    else:  # the DAG's schedule: more than one interval starting in a day is sub-daily
        first = marked[0].start
        day = _segment_intervals(target, (first, first + dt.timedelta(days=1)), None, tz, 3)
        sub_daily = len(day) > 1
    if sub_daily:
        return spans, []
    kept = [Span(s.start, s.end, None, s.loc) if s in marked else s for s in spans]
    narrowing = [
        s for s in marked if _day_ranges([s]) != [(0, _DAY)] and _day_ranges([s])[0][1] < _LAST_MINUTE
    ]
    if not narrowing:  # whole-day windows change nothing on a daily DAG
        return kept, []
    where = ", ".join(s.loc for s in narrowing)
    return kept, [
        f"{where}: the times of day apply to hourly tasks only; "
        f"{'lots of ' + plan.lot if plan.lot else 'DAG ' + repr(target.dag_id)} run daily or coarser, so whole days run"
    ]


def _intervals(
    plan: BackfillPlan, target: DagDescription, spans: list[Span], tz: ZoneInfo, limit: int | None
) -> list[Interval]:
    """The plan's intervals in ascending order; past ``limit`` the plan is refused, not built."""
    size = plan.lot_size
    if (
        size is not None
        and plan.lot_follows_schedule
        and _schedule_period(target, spans, tz) == _length(size)
    ):
        size = None  # the DAG's own runs
    by_schedule = plan.dates_by != "data_time"  # spans hold the runs' scheduled times
    windowed = any(span.window is not None for span in spans)
    # windows drop intervals: scan up to 4 times the limit, in pieces, never more
    scan_cap = None if limit is None else limit * (4 if windowed else 1)
    scanned = 0
    out: list[Interval] = []
    ordered = sorted(spans, key=lambda span: span.start)
    for segment in merge(spans):
        for piece in _pieces(segment, size) if windowed else [segment]:
            left = None if scan_cap is None else scan_cap - scanned
            found = _segment_intervals(target, piece, size, tz, left, by_schedule=by_schedule)
            scanned += len(found)
            out += _keep_windows(found, ordered, tz, by_schedule) if windowed else found
            if scan_cap is not None and (scanned > scan_cap or len(out) > (limit or 0)):
                raise _too_big(plan, limit, scanned if len(out) <= (limit or 0) else None)
    return out


def _length(size: LotSize) -> dt.timedelta | None:
    if size.unit == "month":
        return None
    return dt.timedelta(hours=size.n) if size.unit == "h" else dt.timedelta(days=size.n)


def _schedule_period(target: DagDescription, spans: list[Span], tz: ZoneInfo) -> dt.timedelta | None:
    """The step between two of the DAG's scheduled runs near the plan's first date (None without a time
    schedule): a 1d lot follows a daily schedule."""
    if not spans:
        return None
    first = min(span.start for span in spans)
    try:
        found = schedule_intervals(target.timetable, (first, first + dt.timedelta(days=400)), 2)
    except ScheduleError:
        return None
    return found[1][0] - found[0][0] if len(found) > 1 else None


def _segment_intervals(
    target: DagDescription,
    segment: Interval,
    size: LotSize | None,
    tz: ZoneInfo,
    limit: int | None,
    *,
    by_schedule: bool = False,
) -> list[Interval]:
    """The lots of a segment: fixed lots, or the DAG's intervals that start in it (``by_schedule``:
    that are scheduled in it)."""
    if size is not None:
        return fixed_lots(segment, size, tz, limit)
    try:
        if by_schedule:
            return scheduled_intervals(target.timetable, segment, limit)
        return schedule_intervals(target.timetable, segment, limit)
    except ScheduleError as exc:
        raise PlanValidationError(
            [
                FieldError(
                    "lot",
                    f"DAG '{target.dag_id}': {exc}, so lots cannot follow it: set `lot` to "
                    "'1d', '<N>h', '<N>d' or 'month'",
                )
            ]
        ) from None


def _pieces(segment: Interval, size: LotSize | None) -> Iterator[Interval]:
    """A segment cut in about 30-day pieces on lot boundaries (hourly lots align to the segment start)."""
    step = dt.timedelta(days=30) if size is None else dt.timedelta(hours=size.n * max(1, 720 // size.n))
    start, end = segment
    while start < end:
        stop = min(start + step, end) if end - start > step else end
        yield start, stop
        start = stop


def _too_big(plan: BackfillPlan, limit: int | None, scanned: int | None = None) -> PlanValidationError:
    what = (
        f"its dates hold more than {scanned - 1} intervals for the windows to filter"
        if scanned is not None
        else f"the plan has more than {limit} lots"
    )
    return PlanValidationError(
        [
            FieldError(
                "ranges" if plan.ranges else "dates",
                f"{what}, beyond the limit of this Airflow ([backfill] max_lots_per_plan = {limit}): narrow the "
                "dates, use larger lots, or split it into several plans",
            )
        ],
        "the plan is too big",
    )


_DAY = 24 * 3600 * 10**6
_LAST_MINUTE = (23 * 60 + 59) * 60 * 10**6


def _of_day(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 10**6 + value.microsecond


def _day_ranges(spans: Iterable[Span]) -> list[tuple[int, int]]:
    """The times of day (microseconds, both ends kept) that the windows of ``spans`` let through."""
    pieces: list[tuple[int, int]] = []
    for span in spans:
        if span.window is None:
            return [(0, _DAY)]
        lo, hi = (_of_day(parse_time_of_day(t)) for t in (span.window.start, span.window.end))
        pieces += [(lo, hi)] if lo <= hi else [(lo, _DAY), (0, hi)]
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(pieces):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _keep_windows(
    intervals: list[Interval], ordered: list[Span], tz: ZoneInfo, by_schedule: bool = False
) -> list[Interval]:
    """Keep intervals whose start (``by_schedule``: scheduled time, its end) lies in a span whose
    window (if any) holds its local time of day.

    A sweep over the ascending intervals: spans (``ordered`` by start) open and close as it goes, and
    the times of day the open spans let through are merged once per change, so an interval costs one
    bisect however many ranges the plan has.
    """
    kept: list[Interval] = []
    open_spans: list[tuple[dt.datetime, int, Span]] = []  # a heap by end
    allowed: list[tuple[int, int]] = []
    starts: list[int] = []
    nxt, changed = 0, True
    for interval in intervals:
        start = interval[1] if by_schedule else interval[0]
        while nxt < len(ordered) and ordered[nxt].start <= start:
            heapq.heappush(open_spans, (ordered[nxt].end, nxt, ordered[nxt]))
            nxt, changed = nxt + 1, True
        while open_spans and open_spans[0][0] <= start:
            heapq.heappop(open_spans)
            changed = True
        if changed:
            allowed = _day_ranges(entry[2] for entry in open_spans)
            starts = [lo for lo, _ in allowed]
            changed = False
        if not allowed:
            continue
        at = _of_day(start.astimezone(tz).time())
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0 and at <= allowed[i][1]:
            kept.append(interval)
    return kept


def _check_task_params(plan: BackfillPlan, target: DagDescription) -> None:
    where = "task_params" if target.dag_id == plan.dag_id else f"dags.task_params.{target.dag_id}"
    errors = [
        FieldError(f"{where}.{task_id}", f"DAG '{target.dag_id}' has no task '{task_id}'")
        for task_id in plan.params_of(target.dag_id)
        if task_id not in target.tasks
    ]
    if errors:
        raise UnknownObjectError(f"unknown tasks in DAG '{target.dag_id}'", errors)


def _dag_order(plan: BackfillPlan, dags: Mapping[str, DagDescription]) -> list[tuple[str, tuple[str, ...]]]:
    """The plan's DAGs in dependency order (parents first), each with its parents inside the plan: its
    own, the DAGs ``downstream_dags`` reaches, and those ``dags.add`` names."""
    errors = [
        FieldError(f"dags.{field}.{i}", f"no DAG '{dag_id}' is known to Airflow")
        for field in ("include", "add")
        for i, dag_id in enumerate(getattr(plan.dags, field) or ())
        if dag_id not in dags and (field == "add" or plan.downstream_dags)
    ]
    errors += [
        FieldError(
            f"dags.{field}.{dag_id}", f"DAG '{dag_id}' is not one of the plan's DAGs: add it to dags.add"
        )
        for field in ("tasks", "task_params")
        for dag_id in getattr(plan.dags, field)
        if dag_id != plan.dag_id and dag_id not in plan.dags.add and not plan.downstream_dags
    ]
    if errors:
        raise UnknownObjectError("unknown DAGs in dags", errors)
    parents: dict[str, set[str]] = {plan.dag_id: set()}
    for added in plan.dags.add:
        parents.setdefault(added, set())
    stack = [plan.dag_id] if plan.downstream_dags else []
    while stack:
        dag_id = stack.pop()
        for child in dags[dag_id].downstream_dag_ids:
            if child not in dags:
                continue
            first = child not in parents
            parents.setdefault(child, set()).add(dag_id)
            if first:
                stack.append(child)
    for dag_id in list(parents):  # edges among the DAGs added (and to and from the others)
        for child in dags[dag_id].downstream_dag_ids if dag_id in dags else ():
            if child in parents:
                parents[child].add(dag_id)
    keep = {
        dag_id
        for dag_id in parents
        if dag_id == plan.dag_id
        or dag_id in plan.dags.add
        or ((plan.dags.include is None or dag_id in plan.dags.include) and dag_id not in plan.dags.exclude)
    }
    ordered: list[str] = []
    placed: set[str] = set()
    remaining = sorted(parents)
    while remaining:  # Kahn's algorithm; a cycle (not possible in Airflow) ends in id order
        ready = [d for d in remaining if not (parents[d] - placed) - {d}] or remaining[:1]
        for dag_id in ready:
            ordered.append(dag_id)
            placed.add(dag_id)
        remaining = [d for d in remaining if d not in placed]
    return [(d, tuple(sorted(p for p in parents[d] if p in keep))) for d in ordered if d in keep]


def _self_dependency(plan: BackfillPlan, dag: DagDescription) -> bool:
    if plan.self_dependency == "inherit":
        return bool(dag.depends_on_past)
    return plan.self_dependency == "on"


def _warnings(
    plan: BackfillPlan,
    dags: Mapping[str, DagDescription],
    planned: Mapping[str, PlannedDag],
    lots: list[Lot],
    now: dt.datetime | None,
) -> list[str]:
    warnings = [
        f"DAG '{dag_id}' is paused: its lots wait until it is unpaused"
        for dag_id in planned
        if dags[dag_id].is_paused
    ]
    now = now or dt.datetime.now(UTC)
    future = sum(1 for lot in lots if lot.end > now)
    if future and plan.run_future == "wait":
        warnings.append(
            f"{future} lots end after now: they wait until their data time has passed "
            "(run_future: now runs them at once)"
        )
    if plan.downstream_dags:
        missing = sorted({c for d in planned for c in dags[d].downstream_dag_ids if c not in dags})
        if missing:
            warnings.append(f"downstream DAGs not parsed, left out: {', '.join(missing)}")
    return warnings


def lot_label(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> str:
    """How a lot is shown: ``2024-01-01``, ``2024-01-01 → 2024-01-07`` or ``2024-01-01 05:00 → 06:00``."""
    lo, hi = start.astimezone(tz), end.astimezone(tz)
    midnight = dt.time()
    if lo.time() == midnight and hi.time() == midnight and hi > lo:
        last = (hi - dt.timedelta(days=1)).date()
        return lo.date().isoformat() if last == lo.date() else f"{lo.date()} → {last}"
    if lo == hi:
        return lo.date().isoformat() if lo.time() == midnight else lo.strftime("%Y-%m-%d %H:%M")
    same_day = hi.date() == lo.date()
    return f"{lo:%Y-%m-%d %H:%M} → {hi:%H:%M}" if same_day else f"{lo:%Y-%m-%d %H:%M} → {hi:%Y-%m-%d %H:%M}"


def system_date(start: dt.datetime, end: dt.datetime, tz: ZoneInfo, dates_by: str) -> str | None:
    """The date the plan's own dates name a lot by, where they are not data time: its scheduled day
    (and time), or for ``bizdate`` DataWorks' business date, the day before the run is scheduled."""
    scheduled = end.astimezone(tz)
    if dates_by == "bizdate":
        return (scheduled.date() - dt.timedelta(days=1)).isoformat()
    if dates_by == "scheduled_time":
        return scheduled.strftime("%Y-%m-%d %H:%M")
    return None
