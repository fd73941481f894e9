"""DAG descriptions for the planner, read from Airflow's serialized DAGs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_backfill_provider.plan.dag import DagDescription


def serialized_dag(dag_id: str, session: Session) -> Any | None:
    from airflow.models.dagbag import DBDagBag

    return DBDagBag().get_latest_version_of_dag(dag_id, session=session)


def dag_graph(session: Session) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(downstream, upstream) DAG ids of every DAG, through assets, sensors and triggers."""
    from airflow.models.serialized_dag import SerializedDagModel

    producers: dict[tuple[str, str], set[str]] = defaultdict(set)
    consumers: dict[tuple[str, str], set[str]] = defaultdict(set)
    downstream: dict[str, set[str]] = defaultdict(set)
    for deps in SerializedDagModel.get_dag_dependencies(session=session).values():
        for dep in deps:
            kind = dep.dependency_type
            if dep.target == kind:  # a DAG produces an asset (or alias)
                producers[(kind, str(dep.dependency_id))].add(dep.source)
            elif dep.source == kind:  # an asset schedules a DAG
                consumers[(kind, str(dep.dependency_id))].add(dep.target)
            elif dep.source != dep.target:  # sensor or trigger: DAG to DAG
                downstream[dep.source].add(dep.target)
    for key, makers in producers.items():
        for maker in makers:
            downstream[maker] |= consumers.get(key, set()) - {maker}
    upstream: dict[str, set[str]] = defaultdict(set)
    for parent, children in downstream.items():
        for child in children:
            upstream[child].add(parent)
    return downstream, upstream


def paused_dag_ids(dag_ids: Iterable[str], session: Session) -> set[str]:
    from airflow.models.dag import DagModel

    ids = list(dag_ids)
    return set(session.scalars(select(DagModel.dag_id).where(DagModel.dag_id.in_(ids), DagModel.is_paused)))


def catalog(dag_id: str, session: Session, *, downstream_dags: bool) -> dict[str, DagDescription]:
    """Descriptions of the plan's DAG and, with ``downstream_dags``, of every DAG downstream of it."""
    downstream: dict[str, set[str]] = {}
    wanted = {dag_id}
    if downstream_dags:
        downstream, _ = dag_graph(session)
        stack = [dag_id]
        while stack:
            for child in downstream.get(stack.pop(), ()):
                if child not in wanted:
                    wanted.add(child)
                    stack.append(child)
    paused = paused_dag_ids(wanted, session)
    out: dict[str, DagDescription] = {}
    for wanted_id in sorted(wanted):
        dag = serialized_dag(wanted_id, session)
        if dag is not None:
            out[wanted_id] = DagDescription.from_serialized(
                dag, downstream_dag_ids=downstream.get(wanted_id, ()), is_paused=wanted_id in paused
            )
    return out
