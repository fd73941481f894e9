"""Task selection: which tasks of a DAG run, and which are dry-run (success without running)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError, UnknownObjectError
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.model import TaskSelection


@dataclass(frozen=True)
class TaskPlan:
    run: frozenset[str]
    dry_run: frozenset[str]


def _resolve(
    patterns: Sequence[str], task_ids: Sequence[str], loc: str, errors: list[FieldError]
) -> set[str]:
    """Task ids matched by ids or glob patterns; a pattern that matches nothing is an error naming it."""
    found: set[str] = set()
    for i, pattern in enumerate(patterns):
        matched = (
            fnmatch.filter(task_ids, pattern)
            if any(c in pattern for c in "*?[")
            else ([pattern] if pattern in task_ids else [])
        )
        if not matched:
            errors.append(FieldError(f"{loc}.{i}", f"no task of the DAG matches {pattern!r}"))
        found.update(matched)
    return found


def select_tasks(selection: TaskSelection, dag: DagDescription, other_dag: str | None = None) -> TaskPlan:
    """Resolve ``tasks`` against the DAG: roots (+ downstream), plus include, minus exclude
    (``other_dag``: the selection is ``dags.tasks.<other_dag>``, errors say so)."""
    task_ids = sorted(dag.tasks)
    errors: list[FieldError] = []
    at = f"dags.tasks.{other_dag}" if other_dag else "tasks"
    roots = (
        _resolve(selection.roots, task_ids, f"{at}.roots", errors) if selection.roots is not None else None
    )
    include = (
        _resolve(selection.include, task_ids, f"{at}.include", errors)
        if selection.include is not None
        else None
    )
    exclude = _resolve(selection.exclude, task_ids, f"{at}.exclude", errors)
    if errors:
        raise UnknownObjectError(f"unknown tasks in DAG '{dag.dag_id}'", errors)
    if roots is None and include is None:
        selected = set(task_ids)
    else:
        selected = set(include or ())
        if roots is not None:
            selected |= dag.downstream_tasks(roots) if selection.downstream else roots
    run = frozenset(selected - exclude)
    if not run:
        raise PlanValidationError(
            [FieldError(at, f"the selection runs no task of DAG '{dag.dag_id}': select at least one")]
        )
    return TaskPlan(run=run, dry_run=frozenset(task_ids) - run)
