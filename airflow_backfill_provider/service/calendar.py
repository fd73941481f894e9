"""The calendar of a plan: its lots' states over data time, one cell per DAG and day (or hour).

The UI's heatmap and the preview's picture of the data time covered both come from here. It reads five
columns of each lot (at most ``[backfill] max_lots`` of them) and answers with at most ``MAX_CELLS``
cells: a plan whose calendar would be bigger is shown by month, then by year. The work is bounded
too: a lot's months and years are counted, not walked day by day, and no granularity looks at more
than ``MAX_CELLS`` new cells before it gives way to the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_backfill_provider.service.datamodels import CalendarCell, CalendarOut
from airflow_backfill_provider.service.tables import LotRow, PlanRow
from airflow_backfill_provider.states import LotState

MAX_CELLS = 20_000
"""cells one calendar answers with; beyond, hours fold into days, days into months, months into years"""
GRANULARITIES = ("hour", "day", "month", "year")

SHOWN_FIRST = [
    LotState.FAILED,
    LotState.BLOCKED,
    LotState.RUNNING,
    LotState.WAITING,
    LotState.PENDING,
    LotState.CANCELLED,
    LotState.SUCCESS,
    LotState.SKIPPED,
]
"""which state a cell shows when its lots differ: what needs attention first"""

_RANK = {state.value: rank for rank, state in enumerate(SHOWN_FIRST)}

LotSpan = tuple[str, int, dt.datetime, dt.datetime, str]
"""(dag_id, lot index, data interval start, end, state)"""


def _hours(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[tuple[dt.date, int | None]]:
    step = dt.timedelta(hours=1)
    at = start.replace(minute=0, second=0, microsecond=0)
    found: list[tuple[dt.date, int | None]] = []
    while len(found) <= MAX_CELLS:
        local = at.astimezone(tz)
        found.append((local.date(), local.hour))
        at += step
        if at >= end:
            return found
    return found


def calendar(lots: Iterable[LotSpan], tz_name: str) -> CalendarOut:
    """Aggregate lots into cells: by hour when some DAG has several lots a day, else by day; by month
    when either would exceed ``MAX_CELLS``."""
    tz = ZoneInfo(tz_name)
    spans = list(lots)
    # each lot's first and last local day, worked out once (time zone arithmetic is the cost here)
    days = [_first_last(start, end, tz) for _dag, _index, start, end, _state in spans]
    per_day: dict[tuple[str, dt.date], int] = {}
    for (dag_id, *_), (first, _last) in zip(spans, days, strict=True):
        per_day[(dag_id, first)] = per_day.get((dag_id, first), 0) + 1
    sub_daily = any(n > 1 for n in per_day.values())
    cells = None
    for granularity in GRANULARITIES[0 if sub_daily else 1 :]:
        cells = _aggregate(spans, days, tz, granularity)
        if cells is not None:
            break
    assert cells is not None  # years always fit: data time lies within years 1000-9998
    dag_ids = list(dict.fromkeys(s[0] for s in spans))
    position = {dag_id: n for n, dag_id in enumerate(dag_ids)}
    ordered = sorted(cells.values(), key=lambda c: (position[c["dag_id"]], c["day"], c["hour"] or 0))
    return CalendarOut.model_construct(  # built here, from valid parts: not validated again
        granularity=granularity,
        timezone=tz_name,
        dags=dag_ids,
        first_day=min((c["day"] for c in ordered), default=None),
        last_day=max((c["day"] for c in ordered), default=None),
        cells=ordered,
    )


def _first_last(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> tuple[dt.date, dt.date]:
    """The first and last local day an interval touches; a zero-length interval (a cron trigger's)
    touches its own day."""
    first = start.astimezone(tz).date()
    if end <= start:
        return first, first
    return first, (end - _TICK).astimezone(tz).date()


_TICK = dt.timedelta(microseconds=1)


def _keys(
    start: dt.datetime, end: dt.datetime, first: dt.date, last: dt.date, tz: ZoneInfo, granularity: str
) -> list[tuple[dt.date, int | None]]:
    """The cells one lot touches, at most ``MAX_CELLS + 1`` of them (more cannot fit anyway)."""
    if granularity == "hour":
        return _hours(start, end, tz)
    if granularity == "day":
        count = min((last - first).days + 1, MAX_CELLS + 1)
        return [(first + dt.timedelta(days=n), None) for n in range(count)]
    if granularity == "month":
        months = min((last.year - first.year) * 12 + last.month - first.month + 1, MAX_CELLS + 1)
        steps = (first.month - 1 + n for n in range(months))
        return [(dt.date(first.year + m // 12, m % 12 + 1, 1), None) for m in steps]
    return [(dt.date(year, 1, 1), None) for year in range(first.year, last.year + 1)]


def _aggregate(
    spans: list[LotSpan], days: list[tuple[dt.date, dt.date]], tz: ZoneInfo, granularity: str
) -> dict[tuple, CalendarCell] | None:
    # plain lists while counting ([rank shown, counts, first lot]); models once at the end
    found: dict[tuple[str, dt.date, int | None], list] = {}
    for (dag_id, index, start, end, state), (first, last) in zip(spans, days, strict=True):
        rank = _RANK.get(state, len(_RANK))
        for day, hour in _keys(start, end, first, last, tz, granularity):
            cell = found.get((dag_id, day, hour))
            if cell is None:
                if len(found) >= MAX_CELLS and granularity != "year":
                    return None
                found[(dag_id, day, hour)] = [rank, {state: 1}, index]
                continue
            cell[0] = min(cell[0], rank)
            cell[1][state] = cell[1].get(state, 0) + 1
            cell[2] = min(cell[2], index)
    return {
        key: CalendarCell(
            dag_id=key[0],
            day=key[1],
            hour=key[2],
            state=SHOWN_FIRST[rank] if rank < len(SHOWN_FIRST) else LotState.PENDING,
            counts=counts,
            first_lot=first,
        )
        for key, (rank, counts, first) in found.items()
    }


def plan_calendar(row: PlanRow, session: Session) -> CalendarOut:
    """A plan's calendar, from its lots' intervals and states."""
    found = session.execute(
        select(LotRow.dag_id, LotRow.idx, LotRow.start, LotRow.end, LotRow.state)
        .where(LotRow.plan_id == row.id)
        .order_by(LotRow.idx)
        .execution_options(yield_per=5000)
    )
    return calendar([tuple(r) for r in found], row.timezone)  # type: ignore[misc]
