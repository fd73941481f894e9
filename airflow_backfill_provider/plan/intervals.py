"""Data time: the spans a plan asks for, and the intervals (lots) that cover them.

Times here are stdlib aware datetimes in UTC, not pendulum: the planner builds up to hundreds of
thousands of them and pendulum arithmetic is several times slower. Callers get pendulum at the
service boundary.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError
from airflow_backfill_provider.plan.cron import UTC, FastCron
from airflow_backfill_provider.plan.model import BackfillPlan, LotSize, Window

Interval = tuple[dt.datetime, dt.datetime]


class ScheduleError(ValueError):
    """The DAG's schedule cannot produce lots for this plan (no time schedule, partitions...)."""


@dataclass(frozen=True)
class Span:
    """One requested piece of data time ``[start, end)`` and the window that filters it."""

    start: dt.datetime
    end: dt.datetime
    window: Window | None
    loc: str


def to_utc(value: dt.date | dt.datetime, tz: ZoneInfo, *, day_end: bool = False) -> dt.datetime:
    """A plan date or datetime as aware UTC; a naive value is read in ``tz``; ``day_end`` for inclusive dates."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=tz)
        return aware.astimezone(UTC)
    day = value + dt.timedelta(days=1) if day_end else value
    return dt.datetime.combine(day, dt.time(), tz).astimezone(UTC)


def _next_day(value: dt.date | dt.datetime, tz: ZoneInfo) -> dt.date | dt.datetime:
    """The same wall-clock time a day later (a business date's runs are scheduled the day after it)."""
    if isinstance(value, dt.datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        return (local + dt.timedelta(days=1)).replace(tzinfo=tz)
    return value + dt.timedelta(days=1)


def requested_spans(plan: BackfillPlan, tz: ZoneInfo) -> list[Span]:
    """Every date and range of the plan as a span of UTC time (windows kept for filtering): data time,
    or with ``dates_by`` the times the runs are scheduled at (a ``bizdate`` a day later)."""
    shift = _next_day if plan.dates_by == "bizdate" else (lambda value, _tz: value)
    spans = [
        Span(to_utc(shift(day, tz), tz), to_utc(shift(day, tz), tz, day_end=True), None, f"dates.{i}")
        for i, day in enumerate(plan.dates)
    ]
    for i, rng in enumerate(plan.ranges):
        start = to_utc(shift(rng.start, tz), tz)
        end = to_utc(shift(rng.end, tz), tz, day_end=True)
        if end <= start:
            raise PlanValidationError(
                [FieldError(f"ranges.{i}.end", f"end {rng.end} is not after start {rng.start} in {tz.key}")]
            )
        spans.append(Span(start, end, rng.window, f"ranges.{i}"))
    return spans


def merge(spans: Iterable[Span]) -> list[Interval]:
    """The union of spans as disjoint, ascending segments (touching spans merge)."""
    segments: list[list[dt.datetime]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if segments and span.start <= segments[-1][1]:
            segments[-1][1] = max(segments[-1][1], span.end)
        else:
            segments.append([span.start, span.end])
    return [(s, e) for s, e in segments]


def fixed_lots(segment: Interval, size: LotSize, tz: ZoneInfo, limit: int | None = None) -> list[Interval]:
    """Lots of ``size`` aligned to the segment start, the last cut at its end; months are calendar months.

    With ``limit``, at most ``limit + 1`` lots are built: enough for the caller to see the plan is too big.
    """
    start, end = segment
    cap = limit + 1 if limit is not None else None
    if size.unit == "h":
        step = dt.timedelta(hours=size.n)
        count = -(-(end - start) // step)
        if cap is not None and count > cap:
            return [(start + k * step, start + (k + 1) * step) for k in range(cap)]
        bounds = [start + k * step for k in range(count)] + [end]
    elif size.unit == "d":
        wall = start.astimezone(tz).replace(tzinfo=None)
        bounds = [start]
        k = 1
        while cap is None or len(bounds) <= cap:
            try:
                nxt = (wall + dt.timedelta(days=k * size.n)).replace(tzinfo=tz).astimezone(UTC)
            except OverflowError:  # past year 9999
                break
            if nxt >= end:
                break
            bounds.append(nxt)
            k += 1
        bounds.append(end)
    else:
        local = start.astimezone(tz)
        year, month = local.year, local.month
        bounds = [start]
        while cap is None or len(bounds) <= cap:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            if year > dt.MAXYEAR:
                break
            nxt = dt.datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
            if nxt >= end:
                break
            bounds.append(nxt)
        bounds.append(end)
    return list(itertools.pairwise(bounds))


def schedule_intervals(timetable: Any, segment: Interval, limit: int | None = None) -> list[Interval]:
    """The DAG's own data intervals whose start lies in ``segment``, as Airflow's timetable makes them.

    With ``limit``, at most about ``limit + 1`` intervals are built (the caller sees the plan is too big).
    """
    if timetable is None or not getattr(timetable, "periodic", True):
        raise ScheduleError("the DAG has no time schedule")
    if getattr(timetable, "partitioned", False):
        raise ScheduleError("the DAG's schedule is partitioned")
    fast = _fast_intervals(timetable, segment, limit)
    if fast is not None:
        return fast
    found = _airflow_intervals(timetable, *segment)
    return list(found if limit is None else itertools.islice(found, limit + 1))


def scheduled_intervals(timetable: Any, segment: Interval, limit: int | None = None) -> list[Interval]:
    """The DAG's own data intervals whose scheduled time lies in ``segment``: Airflow schedules a run
    at its interval's end (``run_after``; a cron trigger's zero-length interval is its fire time)."""
    start, end = segment
    probe = schedule_intervals(timetable, (start, start + dt.timedelta(days=400)), 1)
    longest = max((hi - lo for lo, hi in probe), default=dt.timedelta())
    back = 2 * longest + dt.timedelta(hours=2) if longest else dt.timedelta()  # months differ, DST too
    found = schedule_intervals(timetable, (start - back, end), None if limit is None else limit + 64)
    kept = [(lo, hi) for lo, hi in found if start <= hi < end]
    return kept if limit is None else kept[: limit + 1]


def _airflow_intervals(timetable: Any, start: dt.datetime, end: dt.datetime) -> Iterator[Interval]:
    """Intervals straight from Airflow's timetable API: exact for any timetable, slow for long ranges."""
    import pendulum
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(earliest=pendulum.instance(start), latest=None, catchup=True)
    info = None
    while True:
        info = timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)
        if info is None:
            return
        if info.data_interval is None:
            raise ScheduleError("the DAG's schedule has no data intervals")
        lo, hi = info.data_interval.start, info.data_interval.end
        if lo >= end:
            return
        if lo >= start:
            yield _plain(lo), _plain(hi)


def _fast_intervals(timetable: Any, segment: Interval, limit: int | None) -> list[Interval] | None:
    """Airflow's cron and delta timetables computed directly; None for every other timetable."""
    from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
    from airflow.timetables.trigger import CronTriggerTimetable

    start, end = segment
    kind = type(timetable)
    if kind is DeltaDataIntervalTimetable:
        delta = timetable._delta
        return _delta_lots(segment, delta, limit) if isinstance(delta, dt.timedelta) else None
    if kind is not CronDataIntervalTimetable and kind is not CronTriggerTimetable:
        return None
    described = timetable.serialize()
    cron = FastCron.parse(described["expression"])
    interval = getattr(timetable, "_interval", dt.timedelta())
    if cron is None or not isinstance(interval, dt.timedelta):
        return None
    try:
        tz = ZoneInfo(described["timezone"])
    except Exception:
        return None

    # on the days around a DST change Airflow's own intervals are taken as they are, ends included:
    # at a half-hour change (Lord Howe) Airflow 3.3's cron interval before it overlaps the next one
    airflow_ends: dict[dt.datetime, dt.datetime] = {}

    def slow_fires(lo: dt.datetime, hi: dt.datetime) -> list[dt.datetime]:
        if kind is CronDataIntervalTimetable:
            found = list(_airflow_intervals(timetable, lo, hi))
            airflow_ends.update(found)
            return [s for s, _ in found]
        return [e for _, e in _airflow_intervals(timetable, lo - interval, hi - interval)]

    if kind is CronTriggerTimetable:
        fires = cron.fires(tz, start + interval, end + interval, slow_fires, limit)
        return [(fire - interval, fire) for fire in fires]
    fires = cron.fires(tz, start, end, slow_fires, limit)
    if not fires:
        return []
    last_end = next(_airflow_intervals(timetable, fires[-1], fires[-1] + dt.timedelta(microseconds=1)))[1]
    ends = [airflow_ends.get(fire, nxt) for fire, nxt in itertools.pairwise(fires)]
    return list(zip(fires, [*ends, last_end], strict=True))


def _delta_lots(segment: Interval, delta: dt.timedelta, limit: int | None) -> list[Interval]:
    start, end = segment
    count = -(-(end - start) // delta)
    if limit is not None:
        count = min(count, limit + 1)
    return [(start + k * delta, start + (k + 1) * delta) for k in range(count)]


def _plain(value: dt.datetime) -> dt.datetime:
    """A stdlib UTC datetime from Airflow's pendulum one (the planner keeps one type throughout)."""
    u = value.astimezone(UTC)
    return dt.datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, UTC)
