"""Every decision on a plan's state, as a table: a state and an action in, the new state or the refusal."""

from __future__ import annotations

import pytest

from airflow_backfill_provider.service.plan_states import (
    Action,
    Refusal,
    after,
    allowed_actions,
    on_create,
    on_pass,
)
from airflow_backfill_provider.states import PlanState as S

STEERED = [
    (S.QUEUED, Action.PAUSE, {}, S.PAUSED),
    (S.RUNNING, Action.PAUSE, {}, S.PAUSED),
    (S.PAUSED, Action.PAUSE, {}, "pause needs a plan that is queued or running"),
    (S.SUCCESS, Action.PAUSE, {}, "it is success"),
    (S.PAUSED, Action.RESUME, {"started": True}, S.RUNNING),
    (S.PAUSED, Action.RESUME, {"started": False}, S.QUEUED),  # paused at create: it never started
    (S.RUNNING, Action.RESUME, {}, "resume needs a plan that is paused"),
    (S.QUEUED, Action.CANCEL, {}, S.CANCELLED),
    (S.PAUSED, Action.CANCEL, {}, S.CANCELLED),
    (S.FAILED, Action.CANCEL, {}, "cancel needs a plan that is queued or running or paused"),
    (S.FAILED, Action.RETRY, {"retryable_lots": 2}, S.RUNNING),
    (S.CANCELLED, Action.RETRY, {"retryable_lots": 1}, S.RUNNING),
    (S.PAUSED, Action.RETRY, {"retryable_lots": 1}, S.PAUSED),  # lots back in line, still paused
    (S.SUCCESS, Action.RETRY, {"retryable_lots": 0}, "no failed, blocked or cancelled lot"),
    (S.QUEUED, Action.RETRY, {"retryable_lots": 1}, "retry needs a plan that is running or paused"),
]  # fmt: skip


@pytest.mark.parametrize(("state", "action", "known", "expected"), STEERED)
def test_a_steering_action_from_each_state(state, action, known, expected):
    found = after(state, action, **known)
    if isinstance(expected, S):
        assert found == expected
    else:
        assert isinstance(found, Refusal) and expected in f"{found.message}: {found.fix}"


ACTIONS = [
    (S.QUEUED, {}, ["pause", "cancel"]),
    (S.RUNNING, {"failed": 1}, ["pause", "cancel", "retry"]),
    (S.PAUSED, {}, ["resume", "cancel"]),
    (S.SUCCESS, {"skipped": 3}, []),
    (S.FAILED, {"blocked": 2}, ["retry"]),
]


@pytest.mark.parametrize(("state", "counts", "actions"), ACTIONS)
def test_the_actions_a_plan_offers_are_exactly_those_it_accepts(state, counts, actions):
    assert [a.value for a in allowed_actions(state, counts)] == actions


PASSES = [
    (S.QUEUED, {"started": False, "ended": False, "unsuccessful": False}, S.QUEUED),
    (S.QUEUED, {"started": True, "ended": False, "unsuccessful": False}, S.RUNNING),
    (S.RUNNING, {"started": True, "ended": True, "unsuccessful": False}, S.SUCCESS),
    (S.RUNNING, {"started": True, "ended": True, "unsuccessful": True}, S.FAILED),
    (S.QUEUED, {"started": True, "ended": True, "unsuccessful": False}, S.SUCCESS),  # all in one pass
    (S.PAUSED, {"started": True, "ended": True, "unsuccessful": False}, S.PAUSED),  # resume decides
]


@pytest.mark.parametrize(("state", "seen", "expected"), PASSES)
def test_what_a_pass_of_the_driver_makes_of_a_plan(state, seen, expected):
    assert on_pass(state, **seen) == expected


def test_a_new_plan_is_queued_or_paused():
    assert (on_create(False), on_create(True)) == (S.QUEUED, S.PAUSED)
