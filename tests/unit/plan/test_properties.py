"""Properties of the planner over generated plans (hypothesis)."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pendulum
from airflow.timetables.base import TimeRestriction
from airflow.timetables.interval import CronDataIntervalTimetable
from airflow.timetables.trigger import CronTriggerTimetable
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from airflow_backfill_provider import BackfillPlan
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.intervals import merge, requested_spans
from airflow_backfill_provider.plan.planner import plan_backfill

UTC = dt.timezone.utc
ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
]
# near DST changes on purpose: March/April and October/November
DAYS = st.dates(min_value=dt.date(2023, 3, 1), max_value=dt.date(2024, 11, 30))

ranges = st.lists(
    st.tuples(DAYS, st.integers(min_value=0, max_value=40)).map(
        lambda t: {"start": t[0].isoformat(), "end": (t[0] + dt.timedelta(days=t[1])).isoformat()}
    ),
    min_size=1,
    max_size=4,
)
dates = st.lists(DAYS.map(dt.date.isoformat), max_size=5)
lots = st.one_of(
    st.integers(min_value=1, max_value=50).map(lambda n: f"{n}h"),
    st.integers(min_value=1, max_value=20).map(lambda n: f"{n}d"),
    st.just("month"),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make(plan: BackfillPlan, timetable=None, tz="UTC"):
    described = DagDescription(
        "d", tz, timetable or CronDataIntervalTimetable("@daily", tz), {"t": frozenset()}
    )
    return plan_backfill(plan, {"d": described}, now=dt.datetime(2030, 1, 1, tzinfo=UTC))


@SETTINGS
@given(
    ranges=ranges, dates=dates, lot=lots, tz=st.sampled_from(ZONES), order=st.sampled_from(["asc", "desc"])
)
def test_fixed_lots_never_overlap_cover_exactly_and_come_in_order(ranges, dates, lot, tz, order):
    plan = BackfillPlan.from_dict(
        {"dag_id": "d", "ranges": ranges, "dates": dates, "lot": lot, "timezone": tz, "order": order}
    )
    result = make(plan)
    intervals = sorted((lot.start, lot.end) for lot in result.lots)
    # never overlap, never empty
    assert all(s < e for s, e in intervals)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(intervals))
    # cover exactly the requested data time: glue touching lots and compare with the merged request
    glued: list[list[dt.datetime]] = []
    for s, e in intervals:
        if glued and glued[-1][1] == s:
            glued[-1][1] = e
        else:
            glued.append([s, e])
    assert [tuple(g) for g in glued] == merge(requested_spans(plan, ZoneInfo(tz)))
    # requested order
    starts = [lot.start for lot in result.lots]
    assert starts == sorted(starts, reverse=(order == "desc"))
    assert [lot.index for lot in result.lots] == list(range(len(result.lots)))


@SETTINGS
@given(
    ranges=ranges,
    tz=st.sampled_from(ZONES),
    lot=st.integers(min_value=1, max_value=6).map(lambda n: f"{n}h"),
    window=st.tuples(st.integers(0, 23), st.integers(0, 23)),
)
def test_windows_keep_exactly_the_lots_starting_inside_them(ranges, tz, lot, window):
    w = {"start": f"{window[0]:02d}:00", "end": f"{window[1]:02d}:00"}
    with_window = [{**r, "window": w} for r in ranges]
    base = BackfillPlan.from_dict({"dag_id": "d", "ranges": ranges, "lot": lot, "timezone": tz})
    windowed = base.model_copy(
        update={"ranges": BackfillPlan.from_dict({"dag_id": "d", "ranges": with_window, "lot": lot}).ranges}
    )
    everything = make(base).lots
    try:
        kept = {(x.start, x.end) for x in make(windowed).lots}
    except Exception:
        kept = set()
    window_model = windowed.ranges[0].window
    assert window_model is not None
    for x in everything:
        inside = window_model.contains(x.start.astimezone(ZoneInfo(tz)).time())
        assert ((x.start, x.end) in kept) == inside


crons = st.one_of(
    st.sampled_from(
        [
            "@hourly",
            "@daily",
            "@weekly",
            "@monthly",
            "0 * * * *",
            "30 * * * *",
            "*/15 * * * *",
            "0 2 * * *",
            "30 2 * * *",
            "0 1-3 * * *",
            "0 0 1,15 * *",
            "0 0 * * 1-5",
            "0 0 13 * 5",
            "45 23 * * 0",
            "0 */4 * * *",
            "0 0 29 2 *",
        ]
    ),
    st.tuples(st.integers(0, 59), st.integers(0, 23)).map(lambda t: f"{t[0]} {t[1]} * * *"),
)


def airflow_intervals(timetable, start: dt.datetime, end: dt.datetime):
    """Airflow's own answer: every data interval whose start is in [start, end)."""
    restriction = TimeRestriction(pendulum.instance(start), None, True)
    out, info = [], None
    while True:
        info = timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)
        if info is None or info.data_interval.start >= end:
            return out
        if info.data_interval.start >= start:
            out.append((info.data_interval.start, info.data_interval.end))


@settings(max_examples=120, deadline=None)
@example(cron="30 * * * *", tz="Europe/Paris", day=dt.date(2024, 10, 26), days=2, trigger=False, interval_h=0)
@example(
    cron="30 2 * * *", tz="America/New_York", day=dt.date(2024, 3, 9), days=3, trigger=True, interval_h=1
)
@example(
    cron="*/15 * * * *",
    tz="Australia/Lord_Howe",
    day=dt.date(2024, 4, 6),
    days=2,
    trigger=False,
    interval_h=0,
)
@example(  # Airflow's interval before Lord Howe's half-hour DST start overlaps the next: kept as it is
    cron="30 * * * *",
    tz="Australia/Lord_Howe",
    day=dt.date(2023, 9, 19),
    days=12,
    trigger=False,
    interval_h=0,
)
@given(
    cron=crons,
    tz=st.sampled_from(ZONES),
    day=DAYS,
    days=st.integers(1, 12),
    trigger=st.booleans(),
    interval_h=st.sampled_from([0, 1, 24]),
)
def test_fast_cron_path_equals_airflows_timetables(cron, tz, day, days, trigger, interval_h):
    if trigger:
        timetable = CronTriggerTimetable(cron, timezone=tz, interval=dt.timedelta(hours=interval_h))
    else:
        timetable = CronDataIntervalTimetable(cron, tz)
    plan = BackfillPlan.from_dict(
        {
            "dag_id": "d",
            "ranges": [{"start": day.isoformat(), "end": (day + dt.timedelta(days=days)).isoformat()}],
            "timezone": tz,
        }
    )
    (segment,) = merge(requested_spans(plan, ZoneInfo(tz)))
    try:
        expected = airflow_intervals(timetable, *segment)
    except ValueError as exc:  # Airflow 3.3.2's own timetable gives up (an hourly cron over Lord Howe's
        # half-hour DST change: "did not advance ... after one retry"): no reference to compare with
        assume("did not advance" not in str(exc))
        raise
    try:
        got = [(lot.start, lot.end) for lot in make(plan, timetable, tz).lots]
    except Exception:
        got = []
    assert got == expected
