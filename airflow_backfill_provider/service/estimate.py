"""How long a plan may take: the DAGs' recent run durations and the plan's parallelism."""

from __future__ import annotations

import math
import statistics
from collections import Counter

from airflow.models.dagrun import DagRun
from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_backfill_provider.plan.planner import PlannedBackfill
from airflow_backfill_provider.service.datamodels import EstimateOut

SAMPLE_RUNS = 20
"""successful runs per DAG whose durations the estimate learns from"""


def recent_durations(dag_id: str, session: Session) -> list[float]:
    """Seconds taken by the DAG's last successful runs, newest first."""
    rows = session.execute(
        select(DagRun.start_date, DagRun.end_date)
        .where(
            DagRun.dag_id == dag_id,
            DagRun.state == "success",
            DagRun.start_date.is_not(None),
            DagRun.end_date.is_not(None),
        )
        .order_by(DagRun.end_date.desc())
        .limit(SAMPLE_RUNS)
    )
    return [max((end - start).total_seconds(), 0.0) for start, end in rows if start and end]


def estimate(planned: PlannedBackfill, session: Session) -> EstimateOut:
    """The sum over the DAGs in scope of ceil(lots / parallelism) times the median duration of its recent
    successful runs; lots of a self-dependent DAG run one after another. Conservative: DAGs of one
    plan may overlap, and the scheduler's own limits may slow it down."""
    lots = Counter(lot.dag_id for lot in planned.lots)
    seconds = 0.0
    sampled = 0
    unknown: list[str] = []
    for dag_id, planned_dag in planned.dags.items():
        if not lots[dag_id]:
            continue
        durations = recent_durations(dag_id, session)
        if not durations:
            unknown.append(dag_id)
            continue
        sampled += len(durations)
        at_once = 1 if planned_dag.self_dependency else planned_dag.parallelism
        seconds += math.ceil(lots[dag_id] / at_once) * statistics.median(durations)
    basis = (
        f"median of each DAG's last {SAMPLE_RUNS} successful runs times ceil(lots / parallelism) "
        "(one at a time with self-dependency)"
    )
    if unknown:
        basis += f"; no successful run to learn from for {', '.join(unknown)}"
    return EstimateOut(seconds=seconds if sampled else None, runs_sampled=sampled, basis=basis)
