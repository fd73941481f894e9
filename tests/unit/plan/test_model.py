"""BackfillPlan: every field of contract §1, its default, its constraint and its error."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_backfill_provider import BackfillPlan
from airflow_backfill_provider.exceptions import PlanValidationError

BASE = {"dag_id": "sales", "dates": ["2024-01-01"]}


def bad_fields(data: dict) -> dict[str, str]:
    with pytest.raises(PlanValidationError) as info:
        BackfillPlan.from_dict(data)
    return {f.loc: f.msg for f in info.value.fields}


def test_defaults_are_the_contracts():
    plan = BackfillPlan.from_dict(BASE)
    assert plan.name is None
    assert plan.lot is None
    assert plan.timezone is None
    assert plan.order == "asc"
    assert plan.parallelism == 1
    assert plan.self_dependency == "inherit"
    assert plan.parent_check == "none"
    assert plan.tasks.roots is None and plan.tasks.downstream is True
    assert plan.tasks.include is None and plan.tasks.exclude == []
    assert plan.downstream_dags is False
    assert plan.dags.include is None and plan.dags.exclude == []
    assert plan.conf == {} and plan.task_params == {}
    assert plan.reprocess == "none"
    assert plan.run_future == "wait"
    assert plan.paused is False
    assert plan.priority_weight is None and plan.pool is None and plan.notify is None
    assert plan.comment is None and plan.tags == []


def test_every_field_round_trips_through_json_and_yaml():
    data = {
        "dag_id": "sales",
        "name": "rebuild-q1",
        "dates": ["2024-04-02"],
        "ranges": [
            {"start": "2024-01-01", "end": "2024-03-31"},
            {
                "start": "2024-05-01T00:00:00",
                "end": "2024-05-02",
                "window": {"start": "00:00", "end": "06:00"},
            },
        ],
        "timezone": "Asia/Shanghai",
        "lot": "6h",
        "order": "desc",
        "parallelism": 4,
        "self_dependency": "on",
        "parent_check": "scope",
        "tasks": {"roots": ["extract"], "downstream": False, "include": ["load"], "exclude": ["notify_*"]},
        "downstream_dags": True,
        "dags": {"include": ["report"], "exclude": ["audit"]},
        "conf": {"full": True},
        "task_params": {"load": {"table": "sales_v2"}},
        "reprocess": "failed",
        "run_future": "now",
        "paused": True,
        "priority_weight": 10,
        "pool": "backfill",
        "notify": {"on": ["failure"], "targets": ["data-team", "oncall"]},
        "comment": "late data from vendor",
        "tags": ["q1"],
    }
    plan = BackfillPlan.from_dict(data)
    assert BackfillPlan.from_json(plan.to_json()) == plan
    assert BackfillPlan.from_yaml(plan.to_yaml()) == plan
    assert plan.ranges[1].start == dt.datetime(2024, 5, 1)
    assert plan.ranges[0].end == dt.date(2024, 3, 31)


def test_yaml_plan_with_native_yaml_dates():
    plan = BackfillPlan.from_yaml(
        "dag_id: sales\nranges:\n  - {start: 2024-01-01, end: 2024-01-07}\nlot: 7d\n"
    )
    assert plan.ranges[0].start == dt.date(2024, 1, 1)
    assert plan.lot_size is not None and (plan.lot_size.unit, plan.lot_size.n) == ("d", 7)


def test_all_bad_fields_are_reported_at_once_with_their_path():
    errors = bad_fields(
        {
            "dag_id": "sales daily",
            "paralelism": 3,
            "parallelism": 0,
            "order": "random",
            "lot": "2w",
            "timezone": "Mars/Olympus",
            "ranges": [{"start": "2024-02-01", "end": "2024-01-01"}],
            "tasks": {"exclud": ["x"]},
        }
    )
    assert set(errors) == {
        "dag_id",
        "paralelism",
        "parallelism",
        "order",
        "lot",
        "timezone",
        "ranges.0.end",
        "tasks.exclud",
    }
    assert "did you mean 'parallelism'" in errors["paralelism"]
    assert "did you mean 'exclude'" in errors["tasks.exclud"]
    assert "swap them" in errors["ranges.0.end"]
    assert "IANA" in errors["timezone"]


@pytest.mark.parametrize("lot", ["1h", "24h", "1d", "7d", "30d", "month", None])
def test_lot_accepts_hours_days_month_and_null(lot):
    assert BackfillPlan.from_dict({**BASE, "lot": lot}).lot == lot


@pytest.mark.parametrize("lot", ["0h", "0d", "h", "1w", "1.5d", "months", "-1d", "99999h", "1 d"])
def test_lot_refuses_anything_else(lot):
    assert "lot" in bad_fields({**BASE, "lot": lot})


@pytest.mark.parametrize("parallelism", [0, 65, -1, "many"])
def test_parallelism_is_between_1_and_64(parallelism):
    assert "parallelism" in bad_fields({**BASE, "parallelism": parallelism})


@pytest.mark.parametrize(
    ("field", "word"),
    [
        ("order", "sideways"),
        ("self_dependency", "yes"),
        ("parent_check", "MAKE_SCOPE"),
        ("reprocess", "completed"),
        ("run_future", "later"),
    ],
)
def test_enum_fields_refuse_unknown_words(field, word):
    errors = bad_fields({**BASE, field: word})
    assert word in errors[field]


def test_a_plan_needs_dates_or_ranges():
    assert "dates" in bad_fields({"dag_id": "sales"})


def test_dag_id_is_required():
    assert "required" in bad_fields({"dates": ["2024-01-01"]})["dag_id"]


def test_end_may_equal_start_for_dates_but_not_for_datetimes():
    assert BackfillPlan.from_dict({"dag_id": "a", "ranges": [{"start": "2024-01-01", "end": "2024-01-01"}]})
    errors = bad_fields({"dag_id": "a", "ranges": [{"start": "2024-01-01T05:00", "end": "2024-01-01T05:00"}]})
    assert "ranges.0.end" in errors


def test_bad_dates_name_their_index():
    errors = bad_fields(
        {"dag_id": "a", "dates": ["2024-01-01", "2024-13-01"], "ranges": [{"start": "x", "end": 3}]}
    )
    assert {"dates.1", "ranges.0.start", "ranges.0.end"} <= set(errors)


@pytest.mark.parametrize(
    "window",
    [
        {"start": "24:00", "end": "01:00"},
        {"start": "1:00", "end": "02:00"},
        {"start": "01:00"},
        {"start": "01:00", "end": "02:00", "every": 1},
    ],
)
def test_window_syntax(window):
    data = {"dag_id": "a", "ranges": [{"start": "2024-01-01", "end": "2024-01-02", "window": window}]}
    assert any(loc.startswith("ranges.0.window") for loc in bad_fields(data))


def test_window_accepts_seconds_and_wraps_midnight():
    plan = BackfillPlan.from_dict(
        {
            "dag_id": "a",
            "ranges": [
                {"start": "2024-01-01", "end": "2024-01-02", "window": {"start": "22:00:00", "end": "02:00"}}
            ],
        }
    )
    window = plan.ranges[0].window
    assert window is not None and window.start == "22:00"
    assert (
        window.contains(dt.time(23, 0)) and window.contains(dt.time(2, 0)) and window.contains(dt.time(0, 0))
    )
    assert not window.contains(dt.time(12, 0))


def test_window_needs_sub_daily_lots():
    data = {
        "dag_id": "a",
        "lot": "1d",
        "ranges": [
            {"start": "2024-01-01", "end": "2024-01-02", "window": {"start": "01:00", "end": "02:00"}}
        ],
    }
    assert "hourly" in bad_fields(data)["ranges.0.window"]


def test_notify_names_targets_and_nothing_else():
    assert "notify.targets" in bad_fields({**BASE, "notify": {"on": ["success"], "targets": []}})
    assert "notify.on.0" in bad_fields({**BASE, "notify": {"on": ["finished"], "targets": ["team"]}})
    assert "notify.targets.0" in bad_fields({**BASE, "notify": {"targets": ["os.system('x')"]}})
    assert "notify.targets.0" in bad_fields({**BASE, "notify": {"targets": ["{{ 1 }}"]}})
    # what 0.2 took (a notifier and its arguments) is refused with what to write instead
    retired = bad_fields(
        {**BASE, "notify": {"notifiers": [{"notifier": "team", "kwargs": {"to": "x@example.com"}}]}}
    )
    assert "targets" in retired["notify.notifiers"] and "deployment" in retired["notify.notifiers"]
    assert set(retired) == {"notify.notifiers"}
    # whether a target exists is the service's check
    assert BackfillPlan.from_dict({**BASE, "notify": {"targets": ["data-team"]}}).notify


def test_name_must_be_usable_in_urls_and_run_ids():
    assert "name" in bad_fields({**BASE, "name": "my plan/1"})
    assert BackfillPlan.from_dict({**BASE, "name": "q1-rebuild_v2.1"}).name == "q1-rebuild_v2.1"


def test_not_json_and_not_a_mapping_get_the_same_error_shape():
    with pytest.raises(PlanValidationError) as info:
        BackfillPlan.from_json("{not json")
    assert info.value.fields and "JSON" in info.value.message
    with pytest.raises(PlanValidationError):
        BackfillPlan.from_yaml("- just\n- a list\n")


def test_direct_construction_raises_the_same_error():
    with pytest.raises(PlanValidationError) as info:
        BackfillPlan(dag_id="a", dates=["2024-01-01"], parallelism=100)
    assert [f.loc for f in info.value.fields] == ["parallelism"]


def test_default_name_is_readable_and_follows_the_content():
    a = BackfillPlan.from_dict({"dag_id": "sales", "ranges": [{"start": "2024-01-01", "end": "2024-01-31"}]})
    b = BackfillPlan.from_dict({"dag_id": "sales", "ranges": [{"start": "2024-01-01", "end": "2024-01-31"}]})
    c = BackfillPlan.from_dict(
        {"dag_id": "sales", "ranges": [{"start": "2024-01-01", "end": "2024-01-31"}], "parallelism": 2}
    )
    assert a.default_name() == b.default_name()
    assert a.default_name().startswith("sales__20240101-20240131__")
    assert a.default_name() != c.default_name()
    named = BackfillPlan.from_dict({**a.to_dict(), "name": "x"})
    assert named.content_hash() == a.content_hash()


def test_json_schema_lists_every_field():
    schema = BackfillPlan.model_json_schema()
    assert set(schema["properties"]) == set(BackfillPlan.model_fields)
    assert schema["required"] == ["dag_id"]
    json.dumps(schema)


def test_yaml_on_and_off_are_words_not_booleans():
    plan = BackfillPlan.from_yaml(
        "dag_id: a\ndates: [2024-01-01]\nself_dependency: on\nnotify:\n  on: [failure]\n"
        "  targets: [data-team]\ndownstream_dags: true\n"
    )
    assert plan.self_dependency == "on"
    assert plan.notify is not None and plan.notify.on == ["failure"]
    assert plan.downstream_dags is True


def test_data_time_outside_years_1000_to_9998_is_refused_by_field():
    """Schedules are stepped a little past each end of the data time: year 1 or 9999 would overflow
    Python's dates inside the planner (the fuzz of the create endpoint found ``dates: [0001-01-01]``)."""
    with pytest.raises(PlanValidationError) as caught:
        BackfillPlan.from_dict(
            {"dag_id": "d", "dates": ["0001-01-01"], "ranges": [{"start": "9999-01-01", "end": "9999-12-31"}]}
        )
    assert {f.loc for f in caught.value.fields} == {"dates.0", "ranges.0.start", "ranges.0.end"}
    assert BackfillPlan.from_dict({"dag_id": "d", "dates": ["1000-01-01", "9998-12-31"]}).dates


@pytest.mark.parametrize(
    ("tasks", "everything"),
    [
        ({}, True),
        ({"downstream": False}, True),
        ({"exclude": ["load"]}, False),
        ({"roots": ["extract"]}, False),
        ({"include": ["extract", "transform", "load"]}, False),  # a task added later would be dry-run
    ],
)
def test_a_selection_runs_everything_only_without_roots_include_or_exclude(tasks, everything):
    selection = BackfillPlan.model_validate(
        {"dag_id": "d", "ranges": [{"start": "2024-01-01", "end": "2024-01-02"}], "tasks": tasks}
    )
    assert selection.tasks.runs_everything() is everything
