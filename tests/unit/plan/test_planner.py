"""The planner: lots from plans and DAG descriptions, as contract §1 says. No running Airflow."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pendulum
import pytest
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from airflow.timetables.simple import NullTimetable
from airflow.timetables.trigger import CronTriggerTimetable

from airflow_backfill_provider import BackfillPlan
from airflow_backfill_provider.exceptions import PlanValidationError, UnknownObjectError
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.planner import lot_label, plan_backfill

UTC = dt.timezone.utc
GRAPH = {
    "extract": frozenset(),
    "transform": frozenset({"extract"}),
    "load": frozenset({"transform"}),
    "notify_email": frozenset({"load"}),
    "notify_chat": frozenset({"load"}),
}


def dag(dag_id="sales", timetable=None, tz="UTC", **kw) -> DagDescription:
    if timetable is None:
        timetable = CronDataIntervalTimetable("@daily", tz)
    return DagDescription(dag_id=dag_id, timezone=tz, timetable=timetable, tasks=kw.pop("tasks", GRAPH), **kw)


def plan(**fields) -> BackfillPlan:
    return BackfillPlan.from_dict({"dag_id": "sales", **fields})


def run(p: BackfillPlan, *dags: DagDescription):
    return plan_backfill(
        p, {d.dag_id: d for d in (dags or (dag(),))}, now=dt.datetime(2030, 1, 1, tzinfo=UTC)
    )


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def spans(result) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(lot.start, lot.end) for lot in result.lots]


# -- dates and ranges ---------------------------------------------------------------------------


def test_daily_schedule_over_an_inclusive_range():
    result = run(plan(ranges=[{"start": "2024-01-01", "end": "2024-01-03"}]))
    assert spans(result) == [(utc(2024, 1, d), utc(2024, 1, d + 1)) for d in (1, 2, 3)]
    assert [lot.index for lot in result.lots] == [0, 1, 2]


def test_dates_and_overlapping_ranges_merge_without_duplicates():
    result = run(
        plan(
            dates=["2024-01-02", "2024-01-10", "2024-01-02"],
            ranges=[
                {"start": "2024-01-01", "end": "2024-01-03"},
                {"start": "2024-01-03", "end": "2024-01-04"},
            ],
        )
    )
    assert [lot.start.day for lot in result.lots] == [1, 2, 3, 4, 10]


def test_datetime_end_is_where_data_time_stops():
    result = run(
        plan(ranges=[{"start": "2024-01-01T00:00", "end": "2024-01-01T03:00"}]),
        dag(timetable=CronDataIntervalTimetable("@hourly", "UTC")),
    )
    assert [lot.start.hour for lot in result.lots] == [0, 1, 2]


# -- the DAG's own schedule ---------------------------------------------------------------------


def test_airflow3_default_cron_trigger_timetable_gives_zero_length_lots_on_the_named_date():
    result = run(plan(dates=["2024-07-10"]), dag(timetable=CronTriggerTimetable("@daily", timezone="UTC")))
    assert spans(result) == [(utc(2024, 7, 10), utc(2024, 7, 10))]
    assert lot_label(result.lots[0].start, result.lots[0].end, ZoneInfo("UTC")) == "2024-07-10"


def test_cron_trigger_timetable_with_an_interval_selects_by_data_interval_start():
    timetable = CronTriggerTimetable("0 0 * * *", timezone="UTC", interval=dt.timedelta(days=1))
    result = run(plan(dates=["2024-07-10"]), dag(timetable=timetable))
    assert spans(result) == [(utc(2024, 7, 10), utc(2024, 7, 11))]


def test_timedelta_schedule():
    result = run(plan(dates=["2024-01-01"]), dag(timetable=DeltaDataIntervalTimetable(dt.timedelta(hours=8))))
    assert [lot.start.hour for lot in result.lots] == [0, 8, 16]


def test_any_timetable_goes_through_airflows_own_api():
    class EveryOtherDay(DeltaDataIntervalTimetable):
        """A custom timetable: not one the planner knows, so it takes Airflow's generic path."""

    result = run(
        plan(ranges=[{"start": "2024-01-01", "end": "2024-01-06"}]),
        dag(timetable=EveryOtherDay(dt.timedelta(days=2))),
    )
    assert [lot.start.day for lot in result.lots] == [1, 3, 5]


@pytest.mark.parametrize("cron", ["@weekly", "@monthly", "0 6 * * 1-5", "*/30 8-9 * * *", "0 0 L * *"])
def test_cron_presets_and_expressions_match_airflow(cron):
    timetable = CronDataIntervalTimetable(cron, "Europe/Paris")
    result = run(
        plan(ranges=[{"start": "2024-01-01", "end": "2024-03-31"}]),
        dag(timetable=timetable, tz="Europe/Paris"),
    )
    expected = []
    info = None
    from airflow.timetables.base import TimeRestriction

    earliest = pendulum.datetime(2024, 1, 1, tz="Europe/Paris")
    restriction = TimeRestriction(earliest, None, True)
    while True:
        info = timetable.next_dagrun_info_v2(last_dagrun_info=info, restriction=restriction)
        if info.data_interval.start >= pendulum.datetime(2024, 4, 1, tz="Europe/Paris"):
            break
        expected.append((info.data_interval.start, info.data_interval.end))
    assert spans(result) == expected and expected


def test_a_dag_without_time_schedule_needs_a_lot():
    with pytest.raises(PlanValidationError) as info:
        run(plan(dates=["2024-01-01"]), dag(timetable=NullTimetable()))
    assert info.value.fields[0].loc == "lot"
    result = run(plan(dates=["2024-01-01"], lot="1d"), dag(timetable=NullTimetable()))
    assert len(result.lots) == 1


# -- lots -----------------------------------------------------------------------------------------


def test_seven_day_lots_align_to_range_start_and_the_last_is_cut():
    result = run(plan(ranges=[{"start": "2024-01-01", "end": "2024-01-10"}], lot="7d"))
    assert spans(result) == [(utc(2024, 1, 1), utc(2024, 1, 8)), (utc(2024, 1, 8), utc(2024, 1, 11))]


def test_month_lots_are_calendar_months_cut_to_the_range():
    result = run(plan(ranges=[{"start": "2024-01-15", "end": "2024-03-10"}], lot="month"))
    assert spans(result) == [
        (utc(2024, 1, 15), utc(2024, 2, 1)),
        (utc(2024, 2, 1), utc(2024, 3, 1)),
        (utc(2024, 3, 1), utc(2024, 3, 11)),
    ]


def test_hour_lots():
    result = run(plan(dates=["2024-01-01"], lot="6h"))
    assert [lot.start.hour for lot in result.lots] == [0, 6, 12, 18]


def test_lots_follow_the_plan_timezone_over_a_dst_day():
    # 2024-03-31: Paris springs forward, the day has 23 hours
    result = run(plan(dates=["2024-03-31"], lot="1h", timezone="Europe/Paris"))
    assert len(result.lots) == 23
    assert result.lots[0].start == utc(2024, 3, 30, 23)
    day_lots = run(
        plan(ranges=[{"start": "2024-03-30", "end": "2024-04-01"}], lot="1d", timezone="Europe/Paris")
    )
    assert [lot.end - lot.start for lot in day_lots.lots] == [dt.timedelta(hours=h) for h in (24, 23, 24)]
    months = run(
        plan(ranges=[{"start": "2024-03-01", "end": "2024-04-30"}], lot="month", timezone="Europe/Paris")
    )
    assert [lot.start for lot in months.lots] == [utc(2024, 2, 29, 23), utc(2024, 3, 31, 22)]


def test_timezone_defaults_to_the_dags():
    result = run(
        plan(dates=["2024-01-01"]),
        dag(timetable=CronDataIntervalTimetable("@daily", "Asia/Shanghai"), tz="Asia/Shanghai"),
    )
    assert result.timezone == "Asia/Shanghai"
    assert spans(result) == [(utc(2023, 12, 31, 16), utc(2024, 1, 1, 16))]


def test_fall_back_day_has_25_hourly_dag_intervals():
    timetable = CronDataIntervalTimetable("0 * * * *", "Europe/Paris")
    result = run(plan(dates=["2024-10-27"]), dag(timetable=timetable, tz="Europe/Paris"))
    assert len(result.lots) == 25


# -- windows --------------------------------------------------------------------------------------


def test_window_keeps_intervals_starting_inside_it_inclusive():
    hourly = dag(timetable=CronDataIntervalTimetable("0 * * * *", "UTC"))
    result = run(
        plan(
            ranges=[
                {"start": "2024-01-01", "end": "2024-01-02", "window": {"start": "01:00", "end": "03:00"}}
            ]
        ),
        hourly,
    )
    assert [(lot.start.day, lot.start.hour) for lot in result.lots] == [
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 1),
        (2, 2),
        (2, 3),
    ]


def test_window_only_filters_its_own_range():
    result = run(
        plan(
            dates=["2024-01-05"],
            ranges=[
                {"start": "2024-01-01", "end": "2024-01-01", "window": {"start": "23:00", "end": "00:00"}}
            ],
            lot="1h",
        )
    )
    assert len(result.lots) == 2 + 24


def test_window_that_keeps_nothing_is_an_error():
    with pytest.raises(PlanValidationError) as info:
        run(
            plan(
                ranges=[
                    {"start": "2024-01-01", "end": "2024-01-02", "window": {"start": "01:00", "end": "02:00"}}
                ]
            )
        )
    assert "widen" in info.value.fields[0].msg


# -- order ----------------------------------------------------------------------------------------


def test_desc_reverses_and_none_keeps_data_order():
    p = {"ranges": [{"start": "2024-01-01", "end": "2024-01-03"}]}
    assert [lot.start.day for lot in run(plan(order="desc", **p)).lots] == [3, 2, 1]
    assert [lot.start.day for lot in run(plan(order="none", **p)).lots] == [1, 2, 3]
    assert [lot.index for lot in run(plan(order="desc", **p)).lots] == [0, 1, 2]


# -- task selection -------------------------------------------------------------------------------


def tasks_of(**selection):
    result = run(plan(dates=["2024-01-01"], tasks=selection))
    planned = result.dags["sales"].tasks
    return sorted(planned.run), sorted(planned.dry_run)


def test_all_tasks_run_by_default():
    assert tasks_of() == (sorted(GRAPH), [])


def test_roots_with_downstream():
    assert tasks_of(roots=["load"])[0] == ["load", "notify_chat", "notify_email"]


def test_roots_without_downstream():
    assert tasks_of(roots=["load"], downstream=False) == (
        ["load"],
        ["extract", "notify_chat", "notify_email", "transform"],
    )


def test_include_runs_exactly_those_and_unions_with_roots():
    assert tasks_of(include=["extract"])[0] == ["extract"]
    assert tasks_of(include=["extract"], roots=["notify_chat"])[0] == ["extract", "notify_chat"]


def test_exclude_with_globs_dry_runs():
    run_tasks, dry = tasks_of(exclude=["notify_*", "transform"])
    assert run_tasks == ["extract", "load"]
    assert dry == ["notify_chat", "notify_email", "transform"]


def test_unknown_task_and_empty_glob_are_named():
    with pytest.raises(UnknownObjectError) as info:
        tasks_of(roots=["lod"], include=["extract"], exclude=["nothing_*"])
    assert {f.loc for f in info.value.fields} == {"tasks.roots.0", "tasks.exclude.0"}
    assert info.value.status_code == 404


def test_selecting_no_task_is_an_error():
    with pytest.raises(PlanValidationError):
        tasks_of(exclude=["*"])


def test_task_params_must_name_tasks_of_the_dag():
    with pytest.raises(UnknownObjectError) as info:
        run(plan(dates=["2024-01-01"], task_params={"lod": {"x": 1}}))
    assert info.value.fields[0].loc == "task_params.lod"


def test_unknown_dag_is_404():
    with pytest.raises(UnknownObjectError) as info:
        plan_backfill(plan(dates=["2024-01-01"]), {})
    assert info.value.fields[0].loc == "dag_id"


# -- self-dependency and downstream DAGs ------------------------------------------------------------


def test_self_dependency_inherits_depends_on_past():
    assert (
        run(plan(dates=["2024-01-01"]), dag(depends_on_past=frozenset({"load"})))
        .dags["sales"]
        .self_dependency
    )
    assert not run(plan(dates=["2024-01-01"])).dags["sales"].self_dependency
    assert run(plan(dates=["2024-01-01"], self_dependency="on")).dags["sales"].self_dependency
    assert (
        not run(plan(dates=["2024-01-01"], self_dependency="off"), dag(depends_on_past=frozenset({"load"})))
        .dags["sales"]
        .self_dependency
    )


def test_downstream_dags_are_transitive_restricted_and_ordered_after_parents():
    dags = [
        dag("sales", downstream_dag_ids=("report", "audit")),
        dag("report", downstream_dag_ids=("dashboard",)),
        dag("audit"),
        dag("dashboard"),
    ]
    result = run(
        plan(
            ranges=[{"start": "2024-01-01", "end": "2024-01-02"}],
            downstream_dags=True,
            dags={"exclude": ["audit"]},
        ),
        *dags,
    )
    assert [(lot.start.day, lot.dag_id) for lot in result.lots] == [
        (1, "sales"),
        (1, "report"),
        (1, "dashboard"),
        (2, "sales"),
        (2, "report"),
        (2, "dashboard"),
    ]
    assert result.dags["dashboard"].parents == ("report",)
    assert result.dags["report"].tasks.dry_run == frozenset()
    only = run(plan(dates=["2024-01-01"], downstream_dags=True, dags={"include": ["dashboard"]}), *dags)
    assert [lot.dag_id for lot in only.lots] == ["sales", "dashboard"]


def test_warnings_for_paused_dags_and_future_intervals():
    result = plan_backfill(
        plan(dates=["2024-01-01", "2024-06-01"]),
        {"sales": dag(is_paused=True)},
        now=dt.datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert any("paused" in w for w in result.warnings)
    assert any("1 lots end after now" in w for w in result.warnings)


def test_from_serialized_reads_airflows_serialized_dag():
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG("x", schedule="@hourly", start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Paris")) as sdk_dag:
        a = EmptyOperator(task_id="a")
        b = EmptyOperator(task_id="b", depends_on_past=True)
        a >> b
    described = DagDescription.from_serialized(DagSerialization.from_dict(DagSerialization.to_dict(sdk_dag)))
    assert described.timezone == "Europe/Paris"
    assert described.tasks == {"a": frozenset(), "b": frozenset({"a"})}
    assert described.depends_on_past == frozenset({"b"})
    result = plan_backfill(BackfillPlan(dag_id="x", dates=["2024-06-01"]), {"x": described})
    assert len(result.lots) == 24


def test_lot_labels():
    tz = ZoneInfo("UTC")
    assert lot_label(utc(2024, 1, 1), utc(2024, 1, 8), tz) == "2024-01-01 → 2024-01-07"
    assert lot_label(utc(2024, 1, 1, 5), utc(2024, 1, 1, 6), tz) == "2024-01-01 05:00 → 06:00"


def _naive_keep(intervals, spans, tz):
    """The plain definition of a window filter: any span holding the start whose window holds its time."""
    return [
        (s, e)
        for s, e in intervals
        if any(
            span.start <= s < span.end
            and (span.window is None or span.window.contains(s.astimezone(tz).time()))
            for span in spans
        )
    ]


def test_the_window_sweep_keeps_exactly_what_the_definition_keeps():
    import random

    from airflow_backfill_provider.plan.intervals import Span
    from airflow_backfill_provider.plan.model import Window
    from airflow_backfill_provider.plan.planner import _keep_windows

    rng = random.Random(18)
    tz = ZoneInfo("Asia/Shanghai")
    base = dt.datetime(2024, 3, 1, tzinfo=UTC)
    for _ in range(50):
        spans = []
        for i in range(rng.randint(1, 12)):
            start = base + dt.timedelta(hours=rng.randint(0, 200))
            window = None
            if rng.random() < 0.8:
                a, b = rng.randint(0, 23), rng.randint(0, 23)
                window = Window(start=f"{a:02d}:{rng.choice([0, 30]):02d}", end=f"{b:02d}:00")
            spans.append(Span(start, start + dt.timedelta(hours=rng.randint(1, 100)), window, f"ranges.{i}"))
        intervals = [
            (base + dt.timedelta(minutes=30 * n), base + dt.timedelta(minutes=30 * n + 30))
            for n in range(700)
        ]
        ordered = sorted(spans, key=lambda s: s.start)
        assert _keep_windows(intervals, ordered, tz) == _naive_keep(intervals, spans, tz)


def test_a_thousand_overlapping_windowed_ranges_cost_one_bisect_per_interval():
    # issue 18: the filter compared every interval with every range (1,000 ranges x 100,000 hours)
    ranges = [
        {
            "start": "2020-01-01",
            "end": "2031-05-31",
            "window": {"start": f"{i % 24:02d}:00", "end": f"{i % 24:02d}:00"},
        }
        for i in range(1000)
    ]
    found = run(plan(ranges=ranges, lot="1h"), dag())
    assert len(found.lots) == len({(lot.start, lot.end) for lot in found.lots}) > 90_000


# -- dates that name the runs' scheduled time (DataWorks names an instance by it) ----------------


def test_a_bizdate_names_the_runs_scheduled_the_day_after_it_on_every_kind_of_timetable():
    day = [{"start": "2020-05-20", "end": "2020-05-20"}]
    # Airflow 2's interval timetable: the run scheduled on 05-21 processes 05-20 (today's meaning)
    interval = run(
        plan(ranges=day, dates_by="bizdate"), dag(timetable=CronDataIntervalTimetable("@daily", "UTC"))
    )
    assert spans(interval) == [(utc(2020, 5, 20), utc(2020, 5, 21))]
    # Airflow 3's trigger timetable: the run of 05-21 (its logical date is its scheduled time)
    trigger = run(
        plan(ranges=day, dates_by="bizdate"), dag(timetable=CronTriggerTimetable("@daily", timezone="UTC"))
    )
    assert spans(trigger) == [(utc(2020, 5, 21), utc(2020, 5, 21))]
    # hourly, inside the request's window of scheduled times (seed 001's own example)
    window = {"start": "00:00:00", "end": "01:00:00", "sub_daily_only": True}
    hours = [{"start": "2020-05-20", "end": "2020-05-21", "window": window}]
    hourly = run(
        plan(ranges=hours, dates_by="bizdate"), dag(timetable=CronTriggerTimetable("@hourly", timezone="UTC"))
    )
    assert [lot.start for lot in hourly.lots] == [
        utc(2020, 5, 21, 0),
        utc(2020, 5, 21, 1),
        utc(2020, 5, 22, 0),
        utc(2020, 5, 22, 1),
    ]
    by_interval = run(
        plan(ranges=hours, dates_by="bizdate"), dag(timetable=CronDataIntervalTimetable("@hourly", "UTC"))
    )
    assert [lot.end for lot in by_interval.lots] == [
        utc(2020, 5, 21, 0),
        utc(2020, 5, 21, 1),
        utc(2020, 5, 22, 0),
        utc(2020, 5, 22, 1),
    ]


def test_scheduled_time_dates_select_runs_by_when_they_are_scheduled():
    result = run(
        plan(dates=["2024-03-05"], dates_by="scheduled_time"),
        dag(timetable=CronDataIntervalTimetable("0 2 * * *", "UTC")),
    )
    assert spans(result) == [(utc(2024, 3, 4, 2), utc(2024, 3, 5, 2))]
    monthly = run(
        plan(dates=["2024-03-01"], dates_by="scheduled_time"),
        dag(timetable=CronDataIntervalTimetable("@monthly", "UTC")),
    )
    assert spans(monthly) == [(utc(2024, 2, 1), utc(2024, 3, 1))]
    with pytest.raises(PlanValidationError, match="drop `lot`"):
        plan(dates=["2024-03-05"], dates_by="bizdate", lot="1d")


def test_a_lot_as_long_as_the_schedule_period_follows_the_schedule_where_the_plan_says_so():
    at_two = dag(timetable=CronTriggerTimetable("0 2 * * *", timezone="UTC"))
    followed = run(plan(dates=["2024-03-05"], lot="1d", lot_follows_schedule=True), at_two)
    assert spans(followed) == [(utc(2024, 3, 5, 2), utc(2024, 3, 5, 2))]  # the DAG's own 02:00 run
    assert spans(run(plan(dates=["2024-03-05"], lot="1d"), at_two)) == [(utc(2024, 3, 5), utc(2024, 3, 6))]
    halves = run(plan(dates=["2024-03-05"], lot="12h", lot_follows_schedule=True), at_two)
    assert len(halves.lots) == 2  # shorter than the period: fixed lots, as asked


def test_a_plan_over_added_dags_orders_them_by_dependency_and_selects_each_ones_tasks():
    up = dag("up", downstream_dag_ids=("down",))
    down = dag("down")
    loner = dag("loner")
    p = BackfillPlan.from_dict(
        {
            "dag_id": "down",
            "dates": ["2024-01-01"],
            "dags": {"add": ["up", "loner"], "tasks": {"up": {"include": ["load"]}}},
            "parent_check": "scope",
        }
    )
    result = plan_backfill(
        p, {d.dag_id: d for d in (up, down, loner)}, now=dt.datetime(2030, 1, 1, tzinfo=UTC)
    )
    order = [lot.dag_id for lot in result.lots]
    assert order.index("up") < order.index("down") and set(order) == {"up", "down", "loner"}
    assert result.dags["down"].parents == ("up",) and result.dags["loner"].parents == ()
    assert result.dags["up"].tasks.run == {"load"} and result.dags["down"].tasks.run == set(GRAPH)
    with pytest.raises(UnknownObjectError, match="dags"):
        plan_backfill(
            p.model_copy(update={"dags": p.dags.model_copy(update={"add": ["ghost"]})}), {"down": down}
        )
