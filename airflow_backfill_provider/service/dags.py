"""DAG descriptions for the planner, read from Airflow's serialized DAGs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.models.dag import DagModel
from airflow.models.dag_version import DagVersion
from airflow.models.dagbag import DBDagBag
from airflow.models.serialized_dag import SerializedDagModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_backfill_provider.exceptions import FieldError
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.model import BackfillPlan


def serialized_dag(dag_id: str, session: Session, version: int | None = None) -> Any | None:
    """The DAG as Airflow serialized it: its latest version, or version number ``version``."""
    if version is None:
        return DBDagBag().get_latest_version_of_dag(dag_id, session=session)
    row = dag_version_row(dag_id, version, session)
    return None if row is None else DBDagBag().get_dag(row.id, session=session)


def dag_version_row(dag_id: str, version: int, session: Session) -> Any | None:
    return session.scalar(
        select(DagVersion).where(DagVersion.dag_id == dag_id, DagVersion.version_number == version)
    )


def dag_version_errors(dag_id: str, version: int, session: Session) -> list[FieldError]:
    """Why the lots cannot run on version ``version`` of the DAG (none when they can).

    Airflow runs a DAG run on the version it was created with only when the run has a bundle
    version; a bundle that keeps no versions (the DAGs folder's LocalDagBundle) always runs the
    latest code, so an earlier version there would be a promise nobody keeps.
    """
    numbers = list(session.scalars(select(DagVersion.version_number).where(DagVersion.dag_id == dag_id)))
    if not numbers:
        return []  # the DAG itself is unknown: the planner says so
    row = dag_version_row(dag_id, version, session)
    if row is None:
        return [
            FieldError(
                "dag_version",
                f"DAG '{dag_id}' has no version {version}: its versions are {min(numbers)} to "
                f"{max(numbers)} (the DAG's page in Airflow lists them)",
            )
        ]
    bundle_name = row.bundle_name  # the bundle that version was parsed from
    try:
        bundle = DagBundlesManager().get_bundle(name=str(bundle_name))
        versioned = bool(bundle.supports_versioning)
    except Exception:  # a bundle this process cannot build cannot be trusted to go back either
        bundle, versioned = None, False
    if not versioned or not row.bundle_version:
        kind = type(bundle).__name__ if bundle is not None else "unknown"
        return [
            FieldError(
                "dag_version",
                f"DAG '{dag_id}' comes from bundle '{bundle_name}' ({kind}), which keeps no earlier "
                "versions: Airflow would run the latest code whatever version is asked. Serve the DAG "
                "from a versioned bundle (such as GitDagBundle), or drop `dag_version`",
            )
        ]
    return []


def dag_graph(session: Session) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(downstream, upstream) DAG ids of every DAG, through assets, sensors and triggers."""
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
    ids = list(dag_ids)
    return set(session.scalars(select(DagModel.dag_id).where(DagModel.dag_id.in_(ids), DagModel.is_paused)))


def catalog(spec: BackfillPlan, session: Session) -> dict[str, DagDescription]:
    """Descriptions of the plan's DAG and, with ``downstream_dags``, of every DAG downstream of it,
    each at the version the plan runs it on."""
    dag_id = spec.dag_id
    downstream: dict[str, set[str]] = {}
    wanted = {dag_id, *spec.dags.add}
    if spec.downstream_dags or spec.dags.add:
        downstream, _ = dag_graph(session)
    if spec.downstream_dags:
        stack = [dag_id]
        while stack:
            for child in downstream.get(stack.pop(), ()):
                if child not in wanted:
                    wanted.add(child)
                    stack.append(child)
    paused = paused_dag_ids(wanted, session)
    out: dict[str, DagDescription] = {}
    for wanted_id in sorted(wanted):
        dag = serialized_dag(wanted_id, session, spec.version_of(wanted_id))
        if dag is not None:
            out[wanted_id] = DagDescription.from_serialized(
                dag, downstream_dag_ids=downstream.get(wanted_id, ()), is_paused=wanted_id in paused
            )
    return out
