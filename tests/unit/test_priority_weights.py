"""The plan's priority on its lot runs' task instances (DataWorks PriorityWeightStrategy): Airflow's
weight rules, clamped to what the database holds, as Airflow clamps them."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_backfill_provider.marker import DB_SAFE_MAXIMUM, DB_SAFE_MINIMUM, LotMarker, weight_of

# a -> b -> d, a -> c -> d
UPSTREAM = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
BASE = {"a": 1, "b": 2, "c": 3, "d": 4}


@dataclass
class Task:
    task_id: str
    priority_weight: int
    graph: dict[str, set[str]] = field(default_factory=lambda: UPSTREAM)

    def get_flat_relative_ids(self, *, upstream: bool) -> set[str]:
        edges = (
            self.graph
            if upstream
            else {t: {d for d, ups in self.graph.items() if t in ups} for t in self.graph}
        )
        seen: set[str] = set()
        stack = list(edges[self.task_id])
        while stack:
            other = stack.pop()
            if other not in seen:
                seen.add(other)
                stack.extend(edges[other])
        return seen


class Dag:
    def __init__(self, weights: dict[str, int]) -> None:
        self.tasks = {t: Task(t, w) for t, w in weights.items()}

    def has_task(self, task_id: str) -> bool:
        return task_id in self.tasks

    def get_task(self, task_id: str) -> Task:
        return self.tasks[task_id]


def weights(dag: Dag, **routing: object) -> dict[str, int]:
    marker = LotMarker(plan="p", **routing)  # type: ignore[arg-type]
    return {t: weight_of(task, dag, marker) for t, task in dag.tasks.items()}


def test_downstream_adds_every_task_below_once():
    assert weights(Dag(BASE), weight_rule="downstream") == {"a": 10, "b": 6, "c": 7, "d": 4}


def test_upstream_adds_every_task_above_once():
    assert weights(Dag(BASE), weight_rule="upstream") == {"a": 1, "b": 3, "c": 4, "d": 10}


def test_absolute_and_no_rule_keep_the_plans_weight():
    assert weights(Dag(BASE), priority_weight=5, weight_rule="absolute") == dict.fromkeys(BASE, 5)
    assert weights(Dag(BASE), priority_weight=5) == dict.fromkeys(BASE, 5)


def test_summed_weights_are_clamped_as_airflow_clamps_them():
    top = weights(Dag(BASE), priority_weight=2**31 - 1, weight_rule="downstream")
    assert top == {"a": DB_SAFE_MAXIMUM, "b": DB_SAFE_MAXIMUM, "c": DB_SAFE_MAXIMUM, "d": 2**31 - 1}
    bottom = weights(Dag(BASE), priority_weight=-(2**31) + 1, weight_rule="upstream")
    assert bottom["d"] == DB_SAFE_MINIMUM
