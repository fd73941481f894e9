"""Hypothesis against the plan model and the planner: any input is a plan or one PlanValidationError."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_backfill_provider.exceptions import BackfillError, PlanValidationError
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plan.planner import plan_backfill

FIELDS = sorted(BackfillPlan.model_fields)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["2024-01-01", "2024-02-30", "2024-01-01T25:00", "1h", "month", "7d", "0d", "asc", "on", "*", "\x00"]
    ),
    # what a plan author might hope a server renders, and numbers a database rewrites
    st.sampled_from(
        ["{{ '%0100000000d' % 1 }}", "{{ var.value.x }}", "%s%s%n", "{% for x in y %}", 1e16, -0.0]
    ),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
dates = st.dates().map(lambda d: d.isoformat())
ranges = st.lists(
    st.fixed_dictionaries(
        {"start": dates, "end": dates},
        optional={
            "window": st.fixed_dictionaries(
                {
                    "start": st.sampled_from(["00:00", "23:59", "7:00", "25:00"]),
                    "end": st.sampled_from(["01:00", "12:30"]),
                }
            )
        },
    ),
    max_size=3,
)


def plan_like() -> st.SearchStrategy[Any]:
    """Bodies that look like plans: known fields with wrong or right values, typos, junk."""
    known = st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=8)
    shaped = st.fixed_dictionaries(
        {"dag_id": st.sampled_from(["ledger_daily", "ledger_hourly", "no_such_dag", "bad id!"])},
        optional={
            "dates": st.lists(dates, max_size=3),
            "ranges": ranges,
            "lot": st.sampled_from([None, "1h", "6h", "1d", "7d", "month", "0h", "bogus"]),
            "order": st.sampled_from(["asc", "desc", "none", "up"]),
            "parallelism": st.integers(min_value=-5, max_value=100),
            "tasks": st.fixed_dictionaries(
                {},
                optional={
                    "exclude": st.lists(st.sampled_from(["a", "b", "*", "zz*", ""]), max_size=3),
                    "roots": st.lists(st.sampled_from(["a", "c"]), max_size=2),
                },
            ),
            "conf": st.dictionaries(st.text(max_size=5), json_value, max_size=3),
            "timezone": st.sampled_from(["UTC", "Europe/Paris", "Nowhere/Else"]),
            "name": st.text(max_size=20),
            "title": st.sampled_from(["{{ '%0100000000d' % 1 }}", "%(x)s", "ok"]),
            "notify": st.fixed_dictionaries(
                {},
                optional={
                    "targets": st.lists(st.sampled_from(["ledger", "{{ 1 }}", "os.system", ""]), max_size=3),
                    "notifiers": st.just([{"notifier": "smtp", "kwargs": {"to": ["x@outside.example"]}}]),
                    "on": st.lists(st.sampled_from(["success", "failure", "cancelled"]), max_size=2),
                },
            ),
            "pool": st.sampled_from(["default_pool", "backfill_parked", "nope", "backfill_allowed"]),
            "queue": st.sampled_from(["default", "backfill", "gpu_farm", "a b"]),
            "priority_weight": st.integers(min_value=-(2**33), max_value=2**33),
            "weight_rule": st.sampled_from(["downstream", "upstream", "absolute", "sideways"]),
            "paralelism": st.integers(),
        },
    )
    return st.one_of(shaped, known, json_value)


DAGS = {
    "ledger_daily": DagDescription(
        "ledger_daily", tasks={"a": frozenset(), "b": frozenset({"a"}), "c": frozenset({"b"})}
    ),
}


@settings(max_examples=400, deadline=None)
@given(body=plan_like())
def test_any_body_is_a_plan_or_a_plan_validation_error(body: Any):
    try:
        plan = BackfillPlan.from_dict(body)
    except PlanValidationError as exc:
        assert exc.fields and all(f.msg for f in exc.fields)
        return
    assert isinstance(plan, BackfillPlan)
    assert BackfillPlan.from_json(plan.to_json()) == plan
    try:
        planned = plan_backfill(plan.model_copy(update={"lot": plan.lot or "1d"}), DAGS, max_lots=5000)
    except BackfillError:
        return
    assert len(planned.lots) <= 5000
