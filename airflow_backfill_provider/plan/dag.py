"""What the planner needs to know about a DAG, as plain data.

In production it is read from Airflow's serialized DAG (``DagDescription.from_serialized``); in unit
tests it is written by hand. Either way the planner never touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DagDescription:
    """A DAG's schedule, timezone and task graph; ``timetable`` is an Airflow timetable or None."""

    dag_id: str
    timezone: str = "UTC"
    timetable: Any = None
    tasks: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """task id -> ids of its direct upstream tasks"""
    depends_on_past: frozenset[str] = frozenset()
    """tasks with ``depends_on_past=True``: ``self_dependency: inherit`` turns on when any has it"""
    downstream_dag_ids: tuple[str, ...] = ()
    """DAGs that depend on this one through assets it produces or sensors on its tasks"""
    is_paused: bool = False
    params: frozenset[str] = frozenset()
    task_params: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """task id -> names of params declared on the task itself"""
    max_active_runs: int | None = None
    """the DAG's own ``max_active_runs`` (a plan with ``parallelism: null`` keeps it)"""

    @classmethod
    def from_serialized(
        cls, dag: Any, *, downstream_dag_ids: Iterable[str] = (), is_paused: bool = False
    ) -> DagDescription:
        """Describe an Airflow ``SerializedDAG`` (what the dag-processor stored)."""
        tasks = {task.task_id: frozenset(task.upstream_task_ids) for task in dag.tasks}
        return cls(
            dag_id=dag.dag_id,
            timezone=_timezone_name(dag.timezone),
            timetable=dag.timetable,
            tasks=tasks,
            depends_on_past=frozenset(t.task_id for t in dag.tasks if getattr(t, "depends_on_past", False)),
            downstream_dag_ids=tuple(sorted(set(downstream_dag_ids) - {dag.dag_id})),
            is_paused=is_paused,
            params=frozenset(dag.params.keys()) if getattr(dag, "params", None) is not None else frozenset(),
            max_active_runs=getattr(dag, "max_active_runs", None),
        )

    def downstream_tasks(self, roots: Iterable[str]) -> set[str]:
        """``roots`` and every task downstream of them."""
        children: dict[str, list[str]] = {}
        for task_id, upstream in self.tasks.items():
            for parent in upstream:
                children.setdefault(parent, []).append(task_id)
        seen = set(roots)
        stack = list(seen)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen


def _timezone_name(tz: Any) -> str:
    name = getattr(tz, "name", None) or getattr(tz, "key", None) or str(tz)
    return "UTC" if name in ("+00:00", "Z") else name
