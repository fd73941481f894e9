"""Every decision on a lot's state, pure: what the driver's pass read in, a state and a reason out.

- ``of_missing_run``: a lot whose run was deleted or is no longer the plan's;
- ``of_run``: a lot with a run, from what its run looks like;
- ``of_followed``: a lot without a run, from the lots its gates follow (self-dependency, parents);
- ``of_outside_parents``: ``parent_check: all``, from what is missing outside the plan;
- ``of_existing_runs``: a lot whose gates are open, from the runs its interval already has;
- ``of_hold``: the lots next in line of a plan held by ``max_failures`` or ``run_window``;
- ``of_verdict``: a lot its gates hold;
- ``of_target``, ``of_selection``, ``of_refusal``: why a lot whose gates are open fails instead of
  getting a run;
- ``window``, ``tops_up``, ``stops_dag``, ``next_cursor``: how far a pass goes down a plan's lots.

The pass (``advance.py``, ``gates.py``) reads the database and applies these verdicts;
``tests/unit/test_lot_states.py`` tables every case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from airflow_backfill_provider.states import ACTIVE_LOTS, SUCCEEDED_LOTS, UNSUCCESSFUL_LOTS, LotState

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


def of_missing_run(
    run_id: str, found: bool, backfill_id: int | None, own_backfill_id: int | None
) -> str | None:
    """Why a lot no longer follows the run it was given, or None while that run is its own: the run was
    deleted, or is now another backfill's (a plan that adopted it, a run re-made by hand under its id).
    The lot then fails with this reason, and the plan never acts on that run again."""
    if not found:
        return f"its run {run_id} was deleted"
    if own_backfill_id is not None and backfill_id != own_backfill_id:
        return f"its run {run_id} is no longer this plan's (another backfill, or a run made by hand under its id)"
    return None


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


class Verdict(str, Enum):
    """A lot gate's answer for a lot without a run."""

    GO = "go"
    WAIT = "wait"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Followed:
    """A lot another lot's gate follows (its previous lot, a parent DAG's lot), and why."""

    idx: int
    state: str
    why: str


def of_followed(followed: Iterable[Followed | None]) -> tuple[Verdict, str | None]:
    """GO when every followed lot succeeded (or there is none); else the first that did not says why."""
    for other in followed:
        if other is None or other.state in SUCCEEDED_LOTS:
            continue
        if other.state in UNSUCCESSFUL_LOTS:
            return Verdict.BLOCKED, f"lot {other.idx} did not succeed ({other.why})"
        return Verdict.WAIT, f"waits for lot {other.idx} to succeed ({other.why})"
    return Verdict.GO, None


def of_outside_parents(missing: str | None) -> tuple[Verdict, str | None]:
    """``parent_check: all``: a lot waits while a parent outside the plan has not succeeded for it."""
    if missing:
        return Verdict.WAIT, f"waits for parents outside the plan: {missing}"
    return Verdict.GO, None


class RunChoice(str, Enum):
    """What a lot whose gates are open does with its interval's runs."""

    KEEP = "keep"  # its own run is still in flight: follow it
    RERUN_OWN = "rerun_own"  # its own run ended (a cancel, then a retry): run it again
    ADOPT = "adopt"  # another run of the interval ended and the plan reprocesses it: clear and run it
    CREATE = "create"  # the interval has no run: make one
    WAIT = "wait"  # another run of the interval is in flight
    SKIP = "skip"  # another run of the interval ended and the plan does not reprocess it


@dataclass(frozen=True)
class ExistingRun:
    run_id: str
    state: str
    followed: bool = False
    """another plan's lot still follows this run (it has not seen it end yet)"""


def of_existing_runs(
    own: ExistingRun | None, other: ExistingRun | None, reprocess: str
) -> tuple[RunChoice, LotState, str | None]:
    """The choice, and the lot's state and reason after it (``pending`` once it has a run).

    ``own`` is the lot's own run (its run id, still under its plan's Backfill); ``other`` the first
    other run of its interval.
    """
    if own is not None:
        in_flight = own.state in ("queued", "running")
        return (RunChoice.KEEP if in_flight else RunChoice.RERUN_OWN), LotState.PENDING, None
    if other is None:
        return RunChoice.CREATE, LotState.PENDING, None
    if other.state in ("queued", "running") or other.followed:
        return (
            RunChoice.WAIT,
            LotState.WAITING,
            f"waits for run '{other.run_id}' of this interval, in flight elsewhere",
        )
    if reprocess == "all" or (reprocess == "failed" and other.state == "failed"):
        return RunChoice.ADOPT, LotState.PENDING, None
    return (
        RunChoice.SKIP,
        LotState.SKIPPED,
        f"run '{other.run_id}' already {other.state} (reprocess: {reprocess})",
    )


def of_hold(*, failed: int, max_failures: int | None, window_closed: str | None) -> tuple[str | None, bool]:
    """Why a plan starts no lot now, or None; and whether that is final.

    ``max_failures`` reached is final (the plan stops once nothing runs; retry resumes it); a closed
    ``run_window`` (``window_closed`` describes it) passes: lots start when it opens.
    """
    if max_failures is not None and failed and failed >= max_failures:
        return (
            f"stopped after {failed} failed lot{'s' if failed > 1 else ''} (max_failures: "
            f"{max_failures}); retry resumes",
            True,
        )
    if window_closed is not None:
        return f"outside the run window {window_closed}: lots start inside it", False
    return None, False


def of_verdict(verdict: Verdict) -> LotState:
    """The state of a lot whose gates did not let it go: blocked for good, or waiting."""
    return LotState.BLOCKED if verdict == Verdict.BLOCKED else LotState.WAITING


def of_target(dag_id: str, version: int | None, *, stale: bool, found: bool) -> str | None:
    """Why a lot whose gates are open cannot get a run from its DAG, or None: the DAG left Airflow's
    DAG files, or the DAG (or the version the plan pinned) is gone. The lot then fails with this."""
    if stale:
        return f"DAG '{dag_id}' is not in Airflow's DAG files any more"
    if not found:
        return f"{f'version {version} of ' if version else ''}DAG '{dag_id}' is gone from Airflow"
    return None


def of_selection(dag_id: str, error: Exception) -> str:
    """Why a lot fails when the plan's task selection no longer fits its DAG as it is now."""
    return f"the plan's task selection no longer fits DAG '{dag_id}': {error}"


def of_refusal(error: Exception) -> str:
    """Why a lot fails when Airflow's own checks (params, run id pattern, ...) refused its run."""
    return f"Airflow refused to create its run: {type(error).__name__}: {error}"


def window(parallelism: int, lookahead: int, *, max_failures: int | None) -> tuple[int, int]:
    """A DAG's lots in flight at most in a plan, and of them how many may be queued ahead of
    Airflow's ``max_active_runs``; with ``max_failures`` none are, as Airflow would start a queued
    run at once after a failure the plan must first count."""
    ahead = 0 if max_failures else lookahead
    return parallelism + ahead, ahead


def tops_up(budget: int, queued: int, ahead: int) -> bool:
    """Whether a DAG's next lots get runs in this pass: it has room in its window and at most half
    its runs queued ahead are left. Topping up in a batch, not one by one as lots end, keeps the
    pass's lock on the plan's Backfill rows (the new runs' foreign key) out of most of the
    scheduler's loops, which lock those rows to start queued runs."""
    return budget > 0 and queued <= ahead // 2


def stops_dag(state: LotState, *, got_run: bool, self_dependency: bool, ordered: bool) -> bool:
    """Whether a DAG's later lots wait for a later pass after this one: under self-dependency once a
    lot got a run (the next follows its outcome) or waits; in order (``order`` asc or desc) once a lot
    waits, so no later lot overtakes it."""
    if got_run:
        return self_dependency
    return state == LotState.WAITING and (ordered or self_dependency)


@dataclass(frozen=True)
class Candidate:
    """A lot the pass looked at from the plan's cursor, after its gates were asked."""

    idx: int
    got_run: bool
    state: LotState


def next_cursor(candidates: Sequence[Candidate], reach: int, *, cursor: int, total: int) -> int:
    """Where the next pass starts looking: at the first lot still undecided; past the plan's end when
    the pass saw every lot left (fewer than it reached for); else after the last it saw."""
    undecided = [c.idx for c in candidates if not c.got_run and c.state in ACTIVE_LOTS]
    if undecided:
        return min(undecided)
    if len(candidates) < reach:
        return total
    return candidates[-1].idx + 1 if candidates else cursor
