"""The plans' metrics, through Airflow's ``Stats`` (StatsD or OpenTelemetry, as ``[metrics]`` sets it).

| metric | kind | what |
|---|---|---|
| ``backfill_plan.lot.started`` | counter | a lot's run started (the lot became running) |
| ``backfill_plan.lot.ended.<state>`` | counter | a lot ended: success, failed, skipped, blocked, cancelled |
| ``backfill_plan.lot.duration`` | timer | a lot's run, start to end (success or failed) |
| ``backfill_plan.lot.waiting.<reason>`` | counter | a lot began to wait, by reason class (``REASONS``) |
| ``backfill_plan.driver.pass_duration`` | timer | one pass of the plan driver over every active plan |
| ``backfill_plan.plans.active`` | gauge | plans the driver moves on (queued, running, paused) |

Metric names carry Airflow's ``[metrics] statsd_prefix`` (``airflow.`` by default). A pass that
SQLite made the service repeat ("database is locked") may count its moves twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.observability.stats import Stats

from airflow_backfill_provider.states import LotState

PREFIX = "backfill_plan"
FINAL = {LotState.SUCCESS, LotState.FAILED, LotState.SKIPPED, LotState.BLOCKED, LotState.CANCELLED}
REASONS = (
    ("waits until", "time"),  # run_future: wait, or an interval in the future
    ("run window", "run_window"),
    ("max_failures", "max_failures"),
    ("is paused", "dag_paused"),
    ("DAG files", "dag_gone"),
    ("waits for lot", "order"),  # self-dependency, order, parents inside the plan
    ("parents outside", "parents"),
    ("in flight elsewhere", "run_elsewhere"),
)
"""a waiting lot's reason, read by a phrase of it, as a class; anything else is ``other``"""


def _stats() -> Any:
    """Airflow's own ``Stats``, the one the api-server sets up from ``[metrics]`` at its start
    (``airflow.observability.stats``, on Airflow 3.2 and 3.3 alike; ``airflow.sdk``'s ``Stats`` is a
    copy that only task processes set up)."""
    return Stats


def reason_class(reason: str | None) -> str:
    text = reason or ""
    return next((name for phrase, name in REASONS if phrase in text), "other")


def lot_moved(
    old: str, new: LotState, reason: str | None, start: dt.datetime | None, end: dt.datetime | None
) -> None:
    """A lot moved from ``old`` to ``new`` (a reason change while waiting counts as a new wait)."""
    stats = _stats()
    if new == LotState.RUNNING and old != LotState.RUNNING:
        stats.incr(f"{PREFIX}.lot.started")
    elif new in FINAL and old != new:
        stats.incr(f"{PREFIX}.lot.ended.{new.value}")
        if new in (LotState.SUCCESS, LotState.FAILED) and start is not None and end is not None:
            stats.timing(f"{PREFIX}.lot.duration", end - start)
    elif new == LotState.WAITING:
        stats.incr(f"{PREFIX}.lot.waiting.{reason_class(reason)}")


def lots_ended_in_bulk(state: LotState, count: int) -> None:
    if count > 0:
        _stats().incr(f"{PREFIX}.lot.ended.{state.value}", count)


def driver_pass(elapsed: dt.timedelta, active_plans: int) -> None:
    stats = _stats()
    stats.timing(f"{PREFIX}.driver.pass_duration", elapsed)
    stats.gauge(f"{PREFIX}.plans.active", active_plans)
