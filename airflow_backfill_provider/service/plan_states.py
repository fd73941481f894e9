"""Every decision on a plan's state, pure: a state (and what is known of the plan) and an action in, the
new state or the refusal with its reason out.

The service applies these (``service/steering.py``, ``service/advance.py``, ``service/create.py``;
``service/ending.finish`` writes an end once decided) and the API sends ``actions`` (``allowed_actions``) so the page never
re-decides them; ``tests/unit/test_plan_states.py`` tables every case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from airflow_backfill_provider.states import FINAL_PLANS, RETRYABLE_LOTS, PlanState


class Action(str, Enum):
    """What a caller may ask of a plan: ``POST /plans/{plan}/<action>``."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY = "retry"

    def __str__(self) -> str:
        return self.value


STEERING = (Action.PAUSE, Action.RESUME, Action.CANCEL, Action.RETRY)

ALLOWED_FROM: Mapping[Action, frozenset[PlanState]] = {
    Action.PAUSE: frozenset({PlanState.QUEUED, PlanState.RUNNING}),
    Action.RESUME: frozenset({PlanState.PAUSED}),
    Action.CANCEL: frozenset({PlanState.QUEUED, PlanState.RUNNING, PlanState.PAUSED}),
    Action.RETRY: frozenset({PlanState.RUNNING, PlanState.PAUSED, *FINAL_PLANS}),
}
"""the states each action may start from"""


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: the message and the fix, for the API's 409."""

    message: str
    fix: str
    field: str = "state"


def _words(states: frozenset[PlanState]) -> str:
    return " or ".join(s.value for s in PlanState if s in states)


def after(
    state: PlanState | str, action: Action, *, started: bool = False, retryable_lots: int | None = None
) -> PlanState | Refusal:
    """The plan's state after ``action``, or why it is refused.

    ``started``: the plan has started a lot before (a resumed plan is running again, not queued);
    ``retryable_lots``: how many of its lots (of those a retry names) are failed, blocked or cancelled
    (None: not counted yet, only the state is decided).
    """
    current = PlanState(state)
    allowed = ALLOWED_FROM[action]
    if current not in allowed:
        return Refusal(f"it is {current.value}", f"{action.value} needs a plan that is {_words(allowed)}")
    if action == Action.RETRY and retryable_lots is not None and retryable_lots <= 0:
        return Refusal(
            "it has no failed, blocked or cancelled lot to retry",
            "name failed, blocked or cancelled lots",
            "index",
        )
    if action == Action.PAUSE:
        return PlanState.PAUSED
    if action == Action.RESUME:
        return PlanState.RUNNING if started else PlanState.QUEUED
    if action == Action.CANCEL:
        return PlanState.CANCELLED
    return PlanState.PAUSED if current == PlanState.PAUSED else PlanState.RUNNING


def allowed_actions(state: PlanState | str, counts: Mapping[str, int]) -> list[Action]:
    """The steering a plan in this state, with these lot counts, accepts (the page shows just these)."""
    retryable = sum(counts.get(s.value, 0) for s in RETRYABLE_LOTS)
    return [a for a in STEERING if not isinstance(after(state, a, retryable_lots=retryable), Refusal)]


def on_create(paused: bool) -> PlanState:
    """A new plan: paused when asked (``paused: true``), else queued until its first lot starts."""
    return PlanState.PAUSED if paused else PlanState.QUEUED


def on_error(state: PlanState | str) -> PlanState:
    """A plan whose own step raised (its spec no longer plans, a DAG is gone) ends failed."""
    return PlanState(state) if PlanState(state) in FINAL_PLANS else PlanState.FAILED


def on_pass(state: PlanState | str, *, started: bool, ended: bool, unsuccessful: bool) -> PlanState:
    """The driver's decision after a pass: a queued plan whose lots began is running; a plan (not
    paused) whose every lot has an outcome ends, failed when any lot did not succeed."""
    current = PlanState(state)
    if current == PlanState.QUEUED and started:
        current = PlanState.RUNNING
    if current in (PlanState.QUEUED, PlanState.RUNNING) and ended:
        return PlanState.FAILED if unsuccessful else PlanState.SUCCESS
    return current
