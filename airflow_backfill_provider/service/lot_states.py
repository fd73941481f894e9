"""What state a lot with a run is in: pure — what its run looks like in, its state and reason out.

The driver's pass reads each lot in flight with its run (``advance._follow_runs``) and applies the
verdict of ``of_run``; ``tests/unit/test_lot_states.py`` tables every case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from airflow_backfill_provider.states import LotState

UTC = dt.timezone.utc


@dataclass(frozen=True)
class RunSeen:
    """A lot's run as the pass reads it."""

    state: str
    run_after: dt.datetime | None = None
    logical_date: dt.datetime | None = None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def of_run(
    run: RunSeen,
    dag_id: str,
    lot_end: dt.datetime,
    *,
    plan_paused: bool,
    dag_gone: bool,
    dag_paused: bool,
    now: dt.datetime,
) -> tuple[LotState, str | None]:
    """The lot's state from its run, and for a queued run the gate that really holds it."""
    if run.state in ("success", "failed"):
        return LotState(run.state), None
    if run.state == "running":
        return LotState.RUNNING, None
    if dag_gone:
        return LotState.WAITING, f"DAG '{dag_id}' is not in Airflow's DAG files any more"
    if dag_paused:
        return LotState.WAITING, f"DAG '{dag_id}' is paused: unpause it to run this lot"
    after, logical = _aware(run.run_after), _aware(run.logical_date)
    if after is not None and after > now:
        why = (
            "its data time ends then (run_future: wait)"
            if after == _aware(lot_end)
            else "its interval starts then, and Airflow runs no logical date in the future"
        )
        return LotState.WAITING, f"waits until {after.isoformat()}: {why}"
    if logical is not None and logical > now:
        return LotState.WAITING, (
            f"waits until {logical.isoformat()}: Airflow's scheduler starts no run before its logical date"
        )
    if plan_paused:
        return LotState.PENDING, "the plan is paused"
    return LotState.PENDING, None
