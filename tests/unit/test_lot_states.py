"""A lot's state from its run (``service/lot_states.py``): every case, as a table."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_backfill_provider.service.lot_states import (
    Candidate,
    ExistingRun,
    Followed,
    RunChoice,
    RunSeen,
    Verdict,
    next_cursor,
    of_existing_runs,
    of_followed,
    of_hold,
    of_missing_run,
    of_outside_parents,
    of_refusal,
    of_run,
    of_selection,
    of_target,
    of_verdict,
    stops_dag,
    tops_up,
    window,
)
from airflow_backfill_provider.states import LotState

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)
END = dt.datetime(2024, 6, 2, tzinfo=dt.timezone.utc)
LATER = NOW + dt.timedelta(hours=3)
EARLIER = NOW - dt.timedelta(hours=3)
FLAGS = {"plan_paused": False, "dag_gone": False, "dag_paused": False}

CASES = [
    # (run, flags, state, reason contains)
    (RunSeen("success"), {}, LotState.SUCCESS, None),
    (RunSeen("failed"), {"dag_gone": True}, LotState.FAILED, None),  # an outcome beats every gate
    (RunSeen("running"), {"dag_paused": True}, LotState.RUNNING, None),
    (RunSeen("queued"), {"dag_gone": True, "dag_paused": True}, LotState.WAITING, "not in Airflow's DAG files"),
    (RunSeen("queued"), {"dag_paused": True}, LotState.WAITING, "is paused: unpause it"),
    (RunSeen("queued", run_after=END.replace(tzinfo=None) + dt.timedelta(0)), {}, LotState.WAITING, "run_future: wait"),
    (RunSeen("queued", run_after=LATER), {}, LotState.WAITING, "no logical date in the future"),
    (RunSeen("queued", run_after=EARLIER, logical_date=LATER), {}, LotState.WAITING, "starts no run before its logical date"),
    (RunSeen("queued", run_after=EARLIER, logical_date=EARLIER), {"plan_paused": True}, LotState.PENDING, "the plan is paused"),
    (RunSeen("queued", run_after=EARLIER, logical_date=EARLIER), {}, LotState.PENDING, None),
    (RunSeen("scheduled"), {}, LotState.PENDING, None),
]  # fmt: skip


@pytest.mark.parametrize(("run", "flags", "state", "reason"), CASES)
def test_a_lots_state_from_its_run(run: RunSeen, flags: dict, state: LotState, reason: str | None):
    found_state, found_reason = of_run(run, "d", END, **{**FLAGS, **flags}, now=NOW)
    assert found_state == state
    assert (found_reason is None) if reason is None else (reason in (found_reason or ""))


# A lot without a run: the lots its gates follow (self-dependency, parents), in order.
DONE, RUNS, FAILED = (
    Followed(3, "success", "self-dependency"),
    Followed(4, "running", "parent"),
    Followed(5, "failed", "p"),
)
FOLLOWED = [
    ([], Verdict.GO, None),
    ([None, DONE, Followed(2, "skipped", "x")], Verdict.GO, None),  # none, succeeded, or skipped: go
    ([DONE, RUNS, FAILED], Verdict.WAIT, "waits for lot 4 to succeed (parent)"),  # the first not done says why
    ([FAILED, RUNS], Verdict.BLOCKED, "lot 5 did not succeed (p)"),
    ([Followed(6, "blocked", "q")], Verdict.BLOCKED, "lot 6 did not succeed (q)"),
    ([Followed(7, "pending", "r")], Verdict.WAIT, "waits for lot 7"),
]  # fmt: skip


@pytest.mark.parametrize(("followed", "verdict", "reason"), FOLLOWED)
def test_a_lots_gate_from_the_lots_it_follows(followed: list, verdict: Verdict, reason: str | None):
    found, why = of_followed(followed)
    assert found == verdict
    assert (why is None) if reason is None else (reason in (why or ""))


def test_parents_outside_the_plan_hold_a_lot_while_one_is_missing():
    assert of_outside_parents(None) == (Verdict.GO, None)
    verdict, why = of_outside_parents("no successful run of DAG 'up' covers this lot's interval")
    assert verdict == Verdict.WAIT and "parents outside the plan: no successful run of DAG 'up'" in (
        why or ""
    )


# A lot whose gates are open: its interval's runs and the plan's reprocess.
OWN_LIVE, OWN_DONE = ExistingRun("mine", "running"), ExistingRun("mine", "failed")
OTHER_OK, OTHER_BAD, OTHER_LIVE = (
    ExistingRun("m1", "success"),
    ExistingRun("m2", "failed"),
    ExistingRun("m3", "queued"),
)
RUNS_SEEN = [
    (OWN_LIVE, OTHER_LIVE, "none", RunChoice.KEEP, LotState.PENDING, None),  # its own run first, whatever else
    (OWN_DONE, OTHER_OK, "none", RunChoice.RERUN_OWN, LotState.PENDING, None),
    (None, None, "none", RunChoice.CREATE, LotState.PENDING, None),
    (None, OTHER_LIVE, "all", RunChoice.WAIT, LotState.WAITING, "run 'm3' of this interval, in flight elsewhere"),
    (None, OTHER_OK, "all", RunChoice.ADOPT, LotState.PENDING, None),
    # ended, but another plan's lot has not seen it end yet: that plan settles its lot first
    (None, ExistingRun("m4", "success", followed=True), "all", RunChoice.WAIT, LotState.WAITING, "'m4' of this interval, in flight elsewhere"),
    (None, OTHER_BAD, "failed", RunChoice.ADOPT, LotState.PENDING, None),
    (None, OTHER_OK, "failed", RunChoice.SKIP, LotState.SKIPPED, "run 'm1' already success (reprocess: failed)"),
    (None, OTHER_BAD, "none", RunChoice.SKIP, LotState.SKIPPED, "run 'm2' already failed (reprocess: none)"),
]  # fmt: skip


@pytest.mark.parametrize(("own", "other", "reprocess", "choice", "state", "reason"), RUNS_SEEN)
def test_a_lots_run_from_its_intervals_runs(own, other, reprocess, choice, state, reason):
    found_choice, found_state, found_reason = of_existing_runs(own, other, reprocess)
    assert (found_choice, found_state) == (choice, state)
    assert (found_reason is None) if reason is None else (reason in (found_reason or ""))


LOST = [
    ("r1", False, None, 7, "its run r1 was deleted"),
    ("r1", True, 8, 7, "its run r1 is no longer this plan's"),  # adopted by another plan's Backfill
    ("r1", True, None, 7, "its run r1 is no longer this plan's"),  # re-made by hand under its id
    ("r1", True, 7, 7, None),
]


@pytest.mark.parametrize(("run_id", "found", "backfill_id", "own", "reason"), LOST)
def test_a_lot_follows_only_a_run_that_is_still_its_own(run_id, found, backfill_id, own, reason):
    assert of_missing_run(run_id, found, backfill_id, own) == reason or (
        reason is not None and reason in (of_missing_run(run_id, found, backfill_id, own) or "")
    )


HOLDS = [
    ({"failed": 0, "max_failures": None, "window_closed": None}, None, False),
    ({"failed": 2, "max_failures": 3, "window_closed": None}, None, False),
    ({"failed": 3, "max_failures": 3, "window_closed": None}, "stopped after 3 failed lots (max_failures: 3)", True),
    ({"failed": 1, "max_failures": 1, "window_closed": "01:00-05:00 (UTC)"}, "stopped after 1 failed lot ", True),
    ({"failed": 0, "max_failures": 0, "window_closed": None}, None, False),  # no failure yet: nothing reached
    ({"failed": 1, "max_failures": 5, "window_closed": "01:00-05:00 (UTC)"}, "outside the run window 01:00-05:00 (UTC)", False),
]  # fmt: skip


@pytest.mark.parametrize(("seen", "reason", "final"), HOLDS)
def test_what_holds_a_plans_next_lots(seen: dict, reason: str | None, final: bool):
    found, found_final = of_hold(**seen)
    assert found_final is final
    assert (found is None) if reason is None else (reason in (found or ""))


def test_a_lot_its_gates_hold_is_blocked_for_good_or_waits():
    assert of_verdict(Verdict.BLOCKED) == LotState.BLOCKED
    assert of_verdict(Verdict.WAIT) == LotState.WAITING


TARGETS = [
    # (version, stale, found, reason)
    (None, False, True, None),
    (None, True, True, "DAG 'd' is not in Airflow's DAG files any more"),
    (None, True, False, "DAG 'd' is not in Airflow's DAG files any more"),
    (None, False, False, "DAG 'd' is gone from Airflow"),
    (3, False, False, "version 3 of DAG 'd' is gone from Airflow"),
]


@pytest.mark.parametrize(("version", "stale", "found", "reason"), TARGETS)
def test_why_a_lot_whose_gates_are_open_gets_no_run(version, stale, found, reason):
    assert of_target("d", version, stale=stale, found=found) == reason


def test_a_selection_that_no_longer_fits_and_a_refused_run_fail_the_lot_saying_why():
    assert of_selection("d", ValueError("no task 'x'")) == (
        "the plan's task selection no longer fits DAG 'd': no task 'x'"
    )
    assert of_refusal(ValueError("param 'n' must be an integer")) == (
        "Airflow refused to create its run: ValueError: param 'n' must be an integer"
    )


WINDOWS = [
    # (parallelism, lookahead, max_failures, window, ahead)
    (4, 2, None, 6, 2),
    (4, 2, 3, 4, 0),  # with max_failures nothing waits queued ahead
    (1, 0, None, 1, 0),
]


@pytest.mark.parametrize(("parallelism", "lookahead", "max_failures", "size", "ahead"), WINDOWS)
def test_a_dags_window_in_a_plan(parallelism, lookahead, max_failures, size, ahead):
    assert window(parallelism, lookahead, max_failures=max_failures) == (size, ahead)


TOP_UPS = [
    # (budget, queued, ahead, tops up)
    (0, 0, 4, False),  # no room
    (2, 3, 4, False),  # more than half the runs queued ahead are left
    (2, 2, 4, True),
    (1, 0, 0, True),  # nothing queued ahead: each lot that ends makes room for the next
    (1, 1, 0, False),
]


@pytest.mark.parametrize(("budget", "queued", "ahead", "expected"), TOP_UPS)
def test_when_a_dags_next_lots_get_runs(budget, queued, ahead, expected):
    assert tops_up(budget, queued, ahead) is expected


STOPS = [
    # (state, got_run, self_dependency, ordered, stops)
    (LotState.PENDING, True, True, False, True),  # the next lot follows this one's outcome
    (LotState.PENDING, True, False, True, False),
    (LotState.WAITING, False, False, True, True),  # no later lot overtakes a waiting one
    (LotState.WAITING, False, True, False, True),
    (LotState.WAITING, False, False, False, False),  # order: none
    (LotState.SKIPPED, False, True, True, False),
    (LotState.BLOCKED, False, True, True, False),
    (LotState.FAILED, False, True, True, False),
]


@pytest.mark.parametrize(("state", "got_run", "self_dependency", "ordered", "expected"), STOPS)
def test_when_a_dags_later_lots_wait_for_the_next_pass(state, got_run, self_dependency, ordered, expected):
    assert stops_dag(state, got_run=got_run, self_dependency=self_dependency, ordered=ordered) is expected


CURSORS = [
    # (candidates, reach, cursor, total, next cursor)
    ([Candidate(5, True, LotState.PENDING), Candidate(6, False, LotState.WAITING)], 8, 5, 20, 6),
    ([Candidate(5, False, LotState.PENDING), Candidate(6, False, LotState.WAITING)], 2, 5, 20, 5),
    ([Candidate(5, True, LotState.PENDING), Candidate(6, False, LotState.SKIPPED)], 8, 5, 20, 20),  # all seen
    ([Candidate(5, True, LotState.PENDING), Candidate(6, False, LotState.BLOCKED)], 2, 5, 20, 7),
    ([], 8, 5, 20, 20),
]


@pytest.mark.parametrize(("candidates", "reach", "cursor", "total", "expected"), CURSORS)
def test_where_the_next_pass_starts_looking(candidates, reach, cursor, total, expected):
    assert next_cursor(candidates, reach, cursor=cursor, total=total) == expected
