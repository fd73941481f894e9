"""The driver's pass: every active plan moves on, in one batched pass.

Per pass: the lots in flight of every driven plan follow their runs (one query joins lots and
runs); parked dry-run tasks that are ready end in success, and running lot runs leave their
BackfillDagRun rows (see ``materialise.unlink_running``); each queued or running plan with at most
half its runs queued ahead left opens the gates of its next lots, from its cursor, up to its window;
plans whose lots are all done end. A pass costs the lots in flight and the next window of each plan,
never a whole plan.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from sqlalchemy import and_, exists, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from airflow_backfill_provider import settings
from airflow_backfill_provider.plan.dag import DagDescription
from airflow_backfill_provider.plan.model import BackfillPlan, TaskSelection
from airflow_backfill_provider.plan.tasks import TaskPlan, select_tasks
from airflow_backfill_provider.service import lot_states, materialise, plan_states
from airflow_backfill_provider.service.dags import serialized_dag
from airflow_backfill_provider.service.ending import finish, stop_lots, update_backfills
from airflow_backfill_provider.service.gates import gate, hold_reason
from airflow_backfill_provider.service.lot_states import ExistingRun, RunChoice, RunSeen, Verdict
from airflow_backfill_provider.service.lots import now, set_state
from airflow_backfill_provider.service.tables import LotRow, PlanDagRow, PlanRow, in_flight_sql
from airflow_backfill_provider.states import (
    FINAL_PLANS,
    UNSUCCESSFUL_LOTS,
    LotState,
    PlanState,
)

log = logging.getLogger(__name__)


def parallelism_of(spec: BackfillPlan, plan_dag: PlanDagRow) -> int:
    """A DAG's runs in flight at once in this plan (as its Backfill row's ``max_active_runs`` says)."""
    return plan_dag.parallelism or spec.parallelism or 1


@dataclass
class _Dags:
    """What one pass knows about the plans' DAGs, each read once."""

    paused: set[str]
    stale: set[str]
    serialized: dict[tuple[str, int | None], Any] = field(default_factory=dict)
    task_plans: dict[tuple[int, str], TaskPlan | str] = field(default_factory=dict)

    def dag(self, dag_id: str, session: Session, version: int | None = None) -> Any:
        if (dag_id, version) not in self.serialized:
            self.serialized[(dag_id, version)] = serialized_dag(dag_id, session, version)
        return self.serialized[(dag_id, version)]


def _read_dags(dag_ids: set[str], session: Session) -> _Dags:
    rows = session.execute(
        select(DagModel.dag_id, DagModel.is_paused, DagModel.is_stale).where(DagModel.dag_id.in_(dag_ids))
    ).all()
    known = {r.dag_id for r in rows}
    return _Dags(
        paused={r.dag_id for r in rows if r.is_paused},
        stale={r.dag_id for r in rows if r.is_stale} | (dag_ids - known),
    )


@dataclass
class _Flight:
    """A plan's lots in flight (a run that has not ended) per DAG, and of them those whose run has not
    started yet (queued ahead)."""

    lots: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    queued: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def any(self) -> bool:
        return any(self.lots.values())


def advance(plans: Sequence[PlanRow], session: Session) -> None:
    """One step of each plan (their rows locked by the caller); safe to repeat any number of times."""
    if not plans:
        return
    plan_dags: dict[int, dict[str, PlanDagRow]] = defaultdict(dict)
    for row in session.scalars(select(PlanDagRow).where(PlanDagRow.plan_id.in_([p.id for p in plans]))):
        plan_dags[row.plan_id][row.dag_id] = row
    dags = _read_dags({d for by_dag in plan_dags.values() for d in by_dag}, session)
    in_flight = _follow_runs(plans, plan_dags, dags, session)
    session.flush()  # Airflow's sessions do not autoflush: the gates below must see these states
    for plan in plans:
        if _quiet(plan, in_flight[plan.id]):
            _settle(plan, in_flight[plan.id], session)
            continue
        try:
            with session.begin_nested():  # one plan's failure never touches another plan
                _step(plan, plan_dags[plan.id], in_flight[plan.id], dags, session)
        except OperationalError:
            raise  # the database is busy: the whole pass is tried again
        except IntegrityError as exc:  # a concurrent writer won a race: this plan goes on next pass
            log.warning("driver pass: plan %s left for the next pass: %s", plan.name, exc)
        except Exception as exc:
            log.exception("driver pass: plan %s failed", plan.name)
            _fail(plan, f"the plan could not go on: {type(exc).__name__}: {str(exc)[:500]}", session)
    session.flush()


@dataclass
class _PlanPass:
    """One plan's step in a pass: what the step reads once, shared by every function of it."""

    plan: PlanRow
    spec: BackfillPlan
    plan_dags: dict[str, PlanDagRow]
    in_flight: _Flight
    dags: _Dags
    session: Session


def _step(
    plan: PlanRow, plan_dags: dict[str, PlanDagRow], in_flight: _Flight, dags: _Dags, session: Session
) -> None:
    step = _PlanPass(plan, plan.backfill_plan(), plan_dags, in_flight, dags, session)
    if plan.state in (PlanState.QUEUED, PlanState.RUNNING) and not _held(step):
        _open_gates(step)
    _settle(plan, in_flight, session)
    session.flush()


def _quiet(plan: PlanRow, in_flight: _Flight) -> bool:
    """Whether the plan's step would write nothing but that it started, so the pass gives it no
    savepoint (two statements a plan a pass, most of a pass over 200 plans whose lots all run): it is
    paused, or all its lots have had their gates opened, some are in flight, and no ``run_window``
    or ``max_failures`` may hold it."""
    if plan.state == PlanState.PAUSED:
        return True
    return plan.cursor >= plan.total_lots and in_flight.any() and not _may_hold(plan)


def _may_hold(plan: PlanRow) -> bool:
    """Whether the plan has a ``run_window`` or ``max_failures``, which may hold its lots (``_held``);
    read from the stored spec, so a quiet plan's spec is never validated."""
    return plan.spec.get("run_window") is not None or plan.spec.get("max_failures") is not None


def _fail(plan: PlanRow, reason: str, session: Session) -> None:
    """A plan whose own step raised ends failed: its lots not done are blocked with the reason."""
    try:
        with session.begin_nested():
            stop_lots(plan, session, LotState.BLOCKED, reason)
            finish(plan, plan_states.on_error(plan.state), session)
    except OperationalError:
        raise
    except Exception:  # left as it is: the next pass tries the plan again
        log.exception("driver pass: plan %s could not be failed either", plan.name)


def _follow_runs(
    plans: Sequence[PlanRow],
    plan_dags: dict[int, dict[str, PlanDagRow]],
    dags: _Dags,
    session: Session,
) -> dict[int, _Flight]:
    """Lots follow their runs; returns each plan's lots in flight."""
    by_id = {p.id: p for p in plans}
    in_flight = {p.id: _Flight() for p in plans}
    may_park = {p.id: _may_dry_run(p) for p in plans}
    rows = session.execute(
        select(
            LotRow,
            DagRun.id,
            DagRun.backfill_id,
            DagRun.state,
            DagRun.run_after,
            DagRun.logical_date,
            DagRun.start_date,
            DagRun.end_date,
        )
        .outerjoin(DagRun, and_(DagRun.dag_id == LotRow.dag_id, DagRun.run_id == LotRow.run_id))
        .where(LotRow.plan_id.in_(list(by_id)), text(in_flight_sql(LotRow.__tablename__)))
    ).all()
    current = now()
    flips: list[tuple[str, str]] = []
    running: list[tuple[int, int]] = []
    for lot, run_pk, backfill_id, run_state, run_after, logical_date, start_date, end_date in rows:
        plan = by_id[lot.plan_id]
        plan_dag = plan_dags[plan.id].get(lot.dag_id)
        own = plan_dag.backfill_id if plan_dag is not None else None
        if lost := lot_states.of_missing_run(str(lot.run_id), run_pk is not None, backfill_id, own):
            set_state(lot, LotState.FAILED, lost)
            continue
        lot.start_date, lot.end_date = start_date, end_date
        state, reason = lot_states.of_run(
            RunSeen(str(run_state), run_after, logical_date),
            lot.dag_id,
            lot.end,
            plan_paused=plan.state == PlanState.PAUSED,
            dag_gone=lot.dag_id in dags.stale,
            dag_paused=lot.dag_id in dags.paused,
            now=current,
        )
        # the first lot of a DAG with depends_on_past keeps Airflow's first-run-of-a-backfill exemption
        first_past = plan_dag is not None and plan_dag.past_dependent and lot.ordinal == 1
        # a run leaves its BackfillDagRun row once, when its lot is first seen running
        if (
            state == LotState.RUNNING
            and lot.state != LotState.RUNNING
            and plan_dag is not None
            and not first_past
        ):
            running.append((plan_dag.backfill_id, run_pk))
        if state not in (LotState.SUCCESS, LotState.FAILED):
            in_flight[plan.id].lots[lot.dag_id] += 1
            if state != LotState.RUNNING:
                in_flight[plan.id].queued[lot.dag_id] += 1
            if may_park[plan.id]:
                flips.append((lot.dag_id, str(lot.run_id)))
        if state == LotState.SUCCESS and lot.state != LotState.SUCCESS and _suppresses(plan):
            version = plan.spec.get("dag_version") if lot.dag_id == plan.dag_id else None
            dag = dags.dag(lot.dag_id, session, version)
            materialise.record_asset_changes(dag, lot.dag_id, str(lot.run_id), plan.name, session)
        set_state(lot, state, reason, end_date if state in (LotState.SUCCESS, LotState.FAILED) else None)
    materialise.flip_parked(flips, session)
    materialise.unlink_running(running, session)
    return in_flight


def _suppresses(plan: PlanRow) -> bool:
    """``asset_events: suppress``: the plan records its lots' asset changes itself (read from the
    stored spec)."""
    return plan.spec.get("asset_events") == "suppress"


def _may_dry_run(plan: PlanRow) -> bool:
    """Whether any task of the plan's lot runs may be dry-run, so parked: only when a task selection
    of one of its DAGs leaves some task out (read from the stored spec, not validated whole)."""
    others = (plan.spec.get("dags") or {}).get("tasks") or {}
    return any(
        not TaskSelection.model_validate(selection or {}).runs_everything()
        for selection in [plan.spec.get("tasks"), *others.values()]
    )


def _task_plan(step: _PlanPass, dag_id: str, dag: Any) -> TaskPlan | str:
    """The plan's task selection applied to the DAG as it is now (new and removed tasks included)."""
    key, plans = (step.plan.id, dag_id), step.dags.task_plans
    if key not in plans:
        description = DagDescription.from_serialized(dag)
        try:
            plans[key] = select_tasks(step.spec.selection_of(dag_id), description)
        except Exception as exc:
            plans[key] = lot_states.of_selection(dag_id, exc)
    return plans[key]


def _held(step: _PlanPass) -> bool:
    """Whether the plan starts no lot now (``run_window``, ``max_failures``): its Backfill rows are then
    paused, so Airflow starts none of its queued runs, and the lots next in line wait with the reason.
    A plan stopped by ``max_failures`` ends once none of its lots runs: the rest are blocked."""
    plan, session = step.plan, step.session
    if not _may_hold(plan):
        return False
    reason, final = hold_reason(plan, step.spec, session)
    update_backfills(plan, session, is_paused=reason is not None)
    if reason is None:
        return False
    running = session.scalar(
        select(exists().where(LotRow.plan_id == plan.id, LotRow.state == LotState.RUNNING.value))
    )
    if final and not running:
        stop_lots(plan, session, LotState.BLOCKED, reason)
        return True
    in_line = sum(parallelism_of(step.spec, d) for d in step.plan_dags.values())
    for lot in _next_lots(plan, in_line, session):
        set_state(lot, LotState.WAITING, reason)
    return True


def _next_lots(plan: PlanRow, limit: int, session: Session) -> list[LotRow]:
    """The lots next in line: from the plan's cursor, not given a run yet, not decided yet."""
    return list(
        session.scalars(
            select(LotRow)
            .where(
                LotRow.plan_id == plan.id,
                LotRow.idx >= plan.cursor,
                LotRow.run_id.is_(None),
                LotRow.state.in_((LotState.PENDING.value, LotState.WAITING.value)),
            )
            .order_by(LotRow.idx)
            .limit(limit)
        )
    )


def _open_gates(step: _PlanPass) -> None:
    """Give the next lots whose gates are open a run, up to the window of each DAG; move the cursor."""
    plan, spec, plan_dags, in_flight = step.plan, step.spec, step.plan_dags, step.in_flight
    lookahead = settings.lookahead()
    windows = {
        dag_id: lot_states.window(parallelism_of(spec, d), lookahead, max_failures=spec.max_failures)
        for dag_id, d in plan_dags.items()
    }
    window = {dag_id: size for dag_id, (size, _) in windows.items()}
    budget = {dag_id: window[dag_id] - in_flight.lots[dag_id] for dag_id in plan_dags}
    low = [d for d in plan_dags if lot_states.tops_up(budget[d], in_flight.queued[d], windows[d][1])]
    if plan.cursor >= plan.total_lots or not low:
        return
    reach = sum(window.values()) * 4
    candidates = _next_lots(plan, reach, step.session)
    stopped: set[str] = set()
    for lot in candidates:
        dag_id = lot.dag_id
        plan_dag = plan_dags.get(dag_id)
        if plan_dag is None or dag_id in stopped or budget[dag_id] <= 0:
            continue
        verdict, reason = gate(plan, spec, plan_dag, lot, len(plan_dags), step.session)
        if verdict == Verdict.GO:
            state, reason = _give_run(step, plan_dag, lot)
        else:
            state = lot_states.of_verdict(verdict)
        set_state(lot, state, reason)
        got_run = lot.run_id is not None
        if got_run:
            budget[dag_id] -= 1
            in_flight.lots[dag_id] += 1
            in_flight.queued[dag_id] += 1
        if lot_states.stops_dag(
            state, got_run=got_run, self_dependency=plan_dag.self_dependency, ordered=spec.order != "none"
        ):
            stopped.add(dag_id)
        step.session.flush()  # the next lot's gate may look at this one (self-dependency, parents)
    plan.cursor = lot_states.next_cursor(
        [lot_states.Candidate(lot.idx, lot.run_id is not None, LotState(lot.state)) for lot in candidates],
        reach,
        cursor=plan.cursor,
        total=plan.total_lots,
    )


def _give_run(step: _PlanPass, plan_dag: PlanDagRow, lot: LotRow) -> tuple[LotState, str | None]:
    """Give the lot its run, new or adopted (then it is pending), or say why not (waiting, skipped, failed).

    Whatever fails here fails this lot alone, with the reason: the rest of the pass goes on.
    """
    version = step.spec.version_of(lot.dag_id)
    stale = lot.dag_id in step.dags.stale
    dag = None if stale else step.dags.dag(lot.dag_id, step.session, version)
    if why := lot_states.of_target(lot.dag_id, version, stale=stale, found=dag is not None):
        return LotState.FAILED, why
    task_plan = _task_plan(step, lot.dag_id, dag)
    if isinstance(task_plan, str):
        return LotState.FAILED, task_plan
    try:
        with step.session.begin_nested():
            target = materialise.LotTarget(step.plan, step.spec, plan_dag, lot, dag, task_plan.dry_run)
            return _materialise(target, step.session)
    except (OperationalError, IntegrityError):
        raise  # the database was busy or a concurrent writer won a race: the next pass tries again
    except Exception as exc:  # the DAG's own checks (params, run id pattern, ...) refused the run
        lot.run_id = lot.logical_date = None
        return LotState.FAILED, lot_states.of_refusal(exc)


def _materialise(target: materialise.LotTarget, session: Session) -> tuple[LotState, str | None]:
    """The lot's run from its interval's runs (``lot_states.of_existing_runs``): kept, made, adopted,
    or none (waiting, skipped)."""
    plan, lot = target.plan, target.lot
    base = materialise.run_id_for(plan.name, lot.start)
    existing = materialise.existing_runs(lot, session)
    # this lot's own run: our run id, still under this plan's Backfill (another plan may have adopted it)
    mine = next(
        (
            r
            for r in existing
            if materialise.is_own_run_id(r.run_id, base) and r.backfill_id == target.plan_dag.backfill_id
        ),
        None,
    )
    other = existing[0] if existing else None
    choice, state, reason = lot_states.of_existing_runs(
        None if mine is None else ExistingRun(mine.run_id, str(mine.state)),
        None
        if other is None
        else ExistingRun(
            other.run_id, str(other.state), materialise.followed_elsewhere(other, plan, session)
        ),
        target.spec.reprocess,
    )
    if choice == RunChoice.KEEP and mine is not None:
        lot.run_id, lot.logical_date = mine.run_id, mine.logical_date
        return state, reason
    if choice in (RunChoice.WAIT, RunChoice.SKIP):
        return state, reason
    if choice == RunChoice.CREATE:
        run_id = materialise.free_run_id(lot.dag_id, base, session)
        run = materialise.create_run(target, run_id, session)
    else:  # RERUN_OWN or ADOPT
        run = materialise.adopt_run(target, mine if choice == RunChoice.RERUN_OWN else other, session)
    materialise.give_run(target, run, session)
    return state, reason


def _settle(plan: PlanRow, in_flight: _Flight, session: Session) -> None:
    """The plan starts once a lot has a run or an outcome, and ends once every lot has an outcome."""
    started = plan.cursor > 0 or in_flight.any()
    if started and plan.started_at is None:
        plan.started_at = now()
    ended = plan.cursor >= plan.total_lots and not in_flight.any()
    unsuccessful = (
        ended
        and plan.state != PlanState.PAUSED
        and bool(
            session.scalar(
                select(
                    exists().where(
                        LotRow.plan_id == plan.id, LotRow.state.in_([s.value for s in UNSUCCESSFUL_LOTS])
                    )
                )
            )
        )
    )
    state = plan_states.on_pass(
        plan.state, started=plan.started_at is not None, ended=ended, unsuccessful=unsuccessful
    )
    if state in FINAL_PLANS and state != plan.state:
        finish(plan, state, session)
    else:
        plan.state = state.value
