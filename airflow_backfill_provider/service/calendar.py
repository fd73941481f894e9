"""The calendar of a plan: its lots' states over data time, one cell per DAG and day (or hour).

The UI's heatmap and the preview's picture of the data time covered both come from here. It reads five
columns of each lot (at most ``[backfill] max_lots`` of them) and answers with at most ``MAX_CELLS``
cells: a plan whose calendar would be bigger is shown by month.
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
"""cells one calendar answers with; beyond, days fold into months (and hours into days)"""

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


def _days(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[dt.date]:
    """The local days an interval touches; a zero-length interval (a cron trigger's) touches its day."""
    first = start.astimezone(tz).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date() if end > start else first
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _hours(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[tuple[dt.date, int]]:
    step = dt.timedelta(hours=1)
    at = start.replace(minute=0, second=0, microsecond=0)
    found: list[tuple[dt.date, int]] = []
    while True:
        local = at.astimezone(tz)
        found.append((local.date(), local.hour))
        at += step
        if at >= end:
            return found


def calendar(lots: Iterable[LotSpan], tz_name: str) -> CalendarOut:
    """Aggregate lots into cells: by hour when some DAG has several lots a day, else by day; by month
    when either would exceed ``MAX_CELLS``."""
    tz = ZoneInfo(tz_name)
    spans = list(lots)
    per_day: dict[tuple[str, dt.date], int] = {}
    for dag_id, _index, start, _end, _state in spans:
        key = (dag_id, start.astimezone(tz).date())
        per_day[key] = per_day.get(key, 0) + 1
    sub_daily = any(n > 1 for n in per_day.values())
    for granularity in (["hour"] if sub_daily else []) + ["day", "month"]:
        cells = _aggregate(spans, tz, granularity)
        if cells is not None:
            break
    assert cells is not None  # months always fit: max_lots bounds the plan's span
    dag_ids = list(dict.fromkeys(s[0] for s in spans))
    ordered = sorted(cells.values(), key=lambda c: (dag_ids.index(c.dag_id), c.day, c.hour or 0))
    return CalendarOut(
        granularity=granularity,
        timezone=tz_name,
        dags=dag_ids,
        first_day=min((c.day for c in ordered), default=None),
        last_day=max((c.day for c in ordered), default=None),
        cells=ordered,
    )


def _aggregate(spans: list[LotSpan], tz: ZoneInfo, granularity: str) -> dict[tuple, CalendarCell] | None:
    cells: dict[tuple, CalendarCell] = {}
    for dag_id, index, start, end, state in spans:
        if granularity == "hour":
            keys: list[tuple[dt.date, int | None]] = list(_hours(start, end, tz))
        elif granularity == "day":
            keys = [(day, None) for day in _days(start, end, tz)]
        else:
            keys = list(dict.fromkeys((day.replace(day=1), None) for day in _days(start, end, tz)))
        for day, hour in keys:
            cell = cells.get((dag_id, day, hour))
            if cell is None:
                if len(cells) >= MAX_CELLS and granularity != "month":
                    return None
                cell = cells[(dag_id, day, hour)] = CalendarCell(
                    dag_id=dag_id, day=day, hour=hour, state=LotState(state), counts={}, first_lot=index
                )
            cell.counts[state] = cell.counts.get(state, 0) + 1
            cell.first_lot = min(cell.first_lot, index)
            if _RANK.get(state, 99) < _RANK.get(cell.state.value, 99):
                cell.state = LotState(state)
    return cells


def plan_calendar(row: PlanRow, session: Session) -> CalendarOut:
    """A plan's calendar, from its lots' intervals and states."""
    found = session.execute(
        select(LotRow.dag_id, LotRow.idx, LotRow.start, LotRow.end, LotRow.state)
        .where(LotRow.plan_id == row.id)
        .order_by(LotRow.idx)
        .execution_options(yield_per=5000)
    )
    return calendar([tuple(r) for r in found], row.timezone)  # type: ignore[misc]
