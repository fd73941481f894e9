"""Fast fire times of a cron expression, identical to Airflow's cron timetables.

Airflow's own cron timetables build a ``croniter`` for every step (about 0.6 ms), far too slow for
ten years of hourly lots. Away from daylight-saving transitions a cron expression fires at the same
local wall times on every matching day, so those days are computed here directly; the days around a
transition are left to Airflow's own timetable (the caller's ``slow_fires``), which keeps Airflow's
DST rules exact. Expressions this module does not understand (``L``, ``W``, ``#``, seconds) return
None from ``FastCron.parse`` and the caller uses Airflow for the whole range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class FastCron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int] | None  # None: any
    months: frozenset[int] | None
    days_of_week: frozenset[int] | None  # cron numbering: 0 = Sunday

    @classmethod
    def parse(cls, expression: str) -> FastCron | None:
        from croniter import croniter

        fields = expression.split()
        if len(fields) != 5:
            return None
        dom, dow = fields[2], fields[4]
        if any(c in dom for c in "LlWw?") or any(c in dow for c in "#Ll?"):
            return None
        try:
            expanded = croniter(expression).expanded
        except Exception:
            return None

        def values(index: int) -> frozenset[int] | None:
            field = expanded[index]
            if field == ["*"]:
                return None
            if not all(isinstance(v, int) for v in field):
                raise ValueError(field)
            return frozenset(int(v) % 7 if index == 4 else int(v) for v in field)

        try:
            minutes, hours = values(0), values(1)
            parsed = cls(
                minutes=tuple(sorted(minutes)) if minutes is not None else tuple(range(60)),
                hours=tuple(sorted(hours)) if hours is not None else tuple(range(24)),
                days_of_month=values(2),
                months=values(3),
                days_of_week=values(4),
            )
        except ValueError:
            return None
        return parsed

    def matches_day(self, day: dt.date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        dom, dow = self.days_of_month, self.days_of_week
        if dom is None and dow is None:
            return True
        in_dom = dom is not None and day.day in dom
        in_dow = dow is not None and (day.weekday() + 1) % 7 in dow
        if dom is not None and dow is not None:
            return in_dom or in_dow  # cron (and croniter's default): either restriction fires
        return in_dom or in_dow

    def fires(
        self,
        tz: ZoneInfo,
        start: dt.datetime,
        end: dt.datetime,
        slow_fires: Callable[[dt.datetime, dt.datetime], list[dt.datetime]],
        limit: int | None = None,
    ) -> list[dt.datetime]:
        """Fire times in ``[start, end)`` (aware UTC), ascending; past ``limit`` fires it stops early."""
        times = [dt.timedelta(hours=h, minutes=m) for h in self.hours for m in self.minutes]
        first_day = start.astimezone(tz).date() - _ONE_DAY
        last_day = end.astimezone(tz).date() + _ONE_DAY
        out: list[dt.datetime] = []
        slow_from: dt.datetime | None = None  # start of a run of days left to Airflow
        day = first_day
        while day <= last_day and (limit is None or len(out) <= limit):
            midnight = dt.datetime.combine(day, dt.time(), tz)
            next_midnight = dt.datetime.combine(day + _ONE_DAY, dt.time(), tz)
            offset = midnight.utcoffset()
            stable = offset == next_midnight.utcoffset() == (midnight + dt.timedelta(hours=12)).utcoffset()
            if not stable:
                if slow_from is None:
                    slow_from = midnight.astimezone(UTC)
            else:
                if slow_from is not None:
                    out += slow_fires(max(slow_from, start), min(midnight.astimezone(UTC), end))
                    slow_from = None
                if self.matches_day(day):
                    assert offset is not None
                    base = dt.datetime.combine(day, dt.time(), UTC) - offset
                    out += [fire for fire in (base + t for t in times) if start <= fire < end]
            if day >= dt.date.max - _ONE_DAY:
                break
            day += _ONE_DAY
        if slow_from is not None:
            out += slow_fires(max(slow_from, start), end)
        return out
