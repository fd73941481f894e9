"""Lot and plan states: one definition, used by the model, service, API, CLI and UI.

Like Airflow's ``DagRunState`` they are ``str`` enums, so they compare equal to their words and
serialise as them.
"""

from __future__ import annotations

from enum import Enum


class LotState(str, Enum):
    PENDING = "pending"
    """not its turn yet: not created, or queued behind ``parallelism``"""
    WAITING = "waiting"
    """a gate is closed (data time, self-dependency, parents, a paused DAG); ``reason`` says which"""
    BLOCKED = "blocked"
    """an earlier lot (self-dependency) or a parent lot (parent_check) did not succeed"""
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    """nothing to do under ``reprocess``"""
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


class PlanState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


ACTIVE_LOTS = frozenset({LotState.PENDING, LotState.WAITING, LotState.RUNNING})
"""lots the plan still works on"""
SUCCEEDED_LOTS = frozenset({LotState.SUCCESS, LotState.SKIPPED})
"""lots that let the lots depending on them (self-dependency, parents) go on"""
UNSUCCESSFUL_LOTS = frozenset({LotState.FAILED, LotState.BLOCKED, LotState.CANCELLED})
"""lots that block the lots depending on them"""
FINAL_LOTS = SUCCEEDED_LOTS | UNSUCCESSFUL_LOTS
RETRYABLE_LOTS = frozenset({LotState.FAILED, LotState.BLOCKED, LotState.CANCELLED})

FINAL_PLANS = frozenset({PlanState.SUCCESS, PlanState.FAILED, PlanState.CANCELLED})
"""the one definition of a plan that has ended"""
DRIVEN_PLANS = frozenset({PlanState.QUEUED, PlanState.RUNNING, PlanState.PAUSED})
"""plans the driver still looks at (a paused plan's running lots still finish)"""


def ordered(states: type[Enum]) -> list[str]:
    """The words of a state enum in declaration order (for counts, filters and tables)."""
    return [s.value for s in states]
