"""Reading plans and lots: what the API, the CLI and the UI show. Nothing here writes."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from airflow.models.dagrun import DagRun
from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
from airflow.models.taskinstance import TaskInstance as TI
from airflow.models.xcom import XComModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from airflow_backfill_provider.exceptions import FieldError, UnknownObjectError
from airflow_backfill_provider.plan.model import is_number
from airflow_backfill_provider.reserved import PLAN_CONF_KEY, RENDERED_XCOM_KEY
from airflow_backfill_provider.service.datamodels import (
    LotDetailOut,
    LotList,
    PlanList,
    PlanOut,
    TaskInstanceOut,
)
from airflow_backfill_provider.service.lots import lot_out, lots_out, timeline
from airflow_backfill_provider.service.plan_states import allowed_actions
from airflow_backfill_provider.service.tables import LotRow, PlanDagRow, PlanRow
from airflow_backfill_provider.states import LotState, PlanState

ERROR_LINES = 60
"""lines of a failed try's log shown in a lot's detail (its end, read as a stream)"""


NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.~:+-]{1,250}$")
"""what any plan name (given or generated) looks like"""


def find_plan(ref: str | int, session: Session) -> PlanRow | None:
    """A plan by id or by name (names cannot look like ids, so the two never clash)."""
    text = str(ref)
    if is_number(text):
        return session.scalar(select(PlanRow).where(PlanRow.id == int(text))) if len(text) < 18 else None
    if not NAME_PATTERN.match(text):  # no plan has such a name: nothing to ask the database
        return None
    return session.scalar(select(PlanRow).where(PlanRow.name == text))


def group_of(row: PlanRow, session: Session) -> list[PlanRow]:
    """The other plans of the backfill ``row`` begins: a cloud request over several DAGs made one plan
    per DAG, named ``<name>.2``, ``<name>.3``... (``plan.translate.group_names``)."""
    found = session.scalars(
        select(PlanRow).where(PlanRow.name.startswith(f"{row.name}.", autoescape=True)).limit(1000)
    )
    return sorted(
        (p for p in found if p.name[len(row.name) + 1 :].isdigit()),
        key=lambda p: int(p.name[len(row.name) + 1 :]),
    )


def get_plan(ref: str | int, session: Session) -> PlanRow:
    row = find_plan(ref, session)
    if row is None:
        raise UnknownObjectError(f"no backfill plan '{ref}'", [FieldError("plan", "give a plan id or name")])
    return row


def counts(plan_ids: Sequence[int], session: Session) -> dict[int, dict[str, int]]:
    """Lots per state of each plan, in one query; every state is listed."""
    found = {plan_id: {s.value: 0 for s in LotState} for plan_id in plan_ids}
    rows = session.execute(
        select(LotRow.plan_id, LotRow.state, func.count())
        .where(LotRow.plan_id.in_(list(plan_ids)))
        .group_by(LotRow.plan_id, LotRow.state)
    )
    for plan_id, state, number in rows:
        found[plan_id][state] = int(number)
    return found


def plan_dag_ids(row: PlanRow, session: Session) -> list[str]:
    """The DAGs a plan touches (its own, and with ``downstream_dags`` those below it)."""
    found = list(session.scalars(select(PlanDagRow.dag_id).where(PlanDagRow.plan_id == row.id)))
    return found or [row.dag_id]


def plan_out(row: PlanRow, session: Session, lot_counts: dict[str, int] | None = None) -> PlanOut:
    spec = {k: v for k, v in row.spec.items() if k not in ("name", "dag_id", "timezone")}
    found = lot_counts if lot_counts is not None else counts([row.id], session)[row.id]
    return PlanOut(
        id=row.id,
        name=row.name,
        dag_id=row.dag_id,
        state=PlanState(row.state),
        counts=found,
        actions=allowed_actions(row.state, found),
        total_lots=row.total_lots,
        timezone=row.timezone,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        created_by=row.created_by,
        warnings=list(row.warnings or []),
        **spec,
    )


def list_plans(
    session: Session,
    *,
    dag_id: str | None = None,
    state: PlanState | None = None,
    limit: int = 50,
    offset: int = 0,
    dag_ids: Sequence[str] | None = None,
    text: str | None = None,
) -> PlanList:
    """Plans newest first; ``dag_ids`` limits them to plans on those DAGs (what the caller may read),
    ``text`` to plans whose name or DAG contains it (any case)."""
    query = select(PlanRow)
    if dag_id:
        query = query.where(PlanRow.dag_id == dag_id)
    if text:
        needle = text.lower()
        query = query.where(
            or_(
                func.lower(PlanRow.name).contains(needle, autoescape=True),
                func.lower(PlanRow.dag_id).contains(needle, autoescape=True),
            )
        )
    if state:
        query = query.where(PlanRow.state == PlanState(state).value)
    if dag_ids is not None:  # every DAG the plan touches, as its detail asks
        readable = list(dag_ids)
        query = query.where(
            PlanRow.dag_id.in_(readable),
            ~select(PlanDagRow.plan_id)
            .where(PlanDagRow.plan_id == PlanRow.id, PlanDagRow.dag_id.not_in(readable))
            .exists(),
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(PlanRow.id.desc()).limit(limit).offset(offset)).all()
    by_plan = counts([r.id for r in rows], session)
    return PlanList(plans=[plan_out(r, session, by_plan[r.id]) for r in rows], total=total)


def list_lots(
    row: PlanRow, session: Session, *, state: LotState | None = None, limit: int = 100, offset: int = 0
) -> LotList:
    query = select(LotRow).where(LotRow.plan_id == row.id)
    if state:
        query = query.where(LotRow.state == LotState(state).value)
    if state or offset:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    else:
        total = row.total_lots
    lots = session.scalars(query.order_by(LotRow.idx).limit(limit).offset(offset)).all()
    return LotList(lots=lots_out(lots, row.timezone, row.spec.get("dates_by", "data_time")), total=total)


def lot_detail(
    row: PlanRow, index: int, session: Session, *, task_instances: bool = True, logs: bool = True
) -> LotDetailOut:
    """A lot with its run's task instances (``task_instances``: what Airflow's API shows to whom may
    read task instances) and their failed tries' log tails (``logs``: to whom may read task logs)."""
    lot = session.get(LotRow, (row.id, index))
    if lot is None:
        raise UnknownObjectError(
            f"plan '{row.name}' has no lot {index}",
            [FieldError("index", f"lots are numbered 0 to {row.total_lots - 1}")],
        )
    tis: list[TaskInstanceOut] = []
    failed: list[tuple[int, Any]] = []
    if lot.run_id and task_instances:
        conf = session.scalar(
            select(DagRun.conf).where(DagRun.dag_id == lot.dag_id, DagRun.run_id == lot.run_id)
        )
        dry = set(((conf or {}).get(PLAN_CONF_KEY) or {}).get("dry_run") or ())
        for ti in session.scalars(
            select(TI)
            .where(TI.dag_id == lot.dag_id, TI.run_id == lot.run_id)
            .order_by(TI.task_id, TI.map_index)
        ):
            tis.append(
                TaskInstanceOut(
                    task_id=ti.task_id,
                    map_index=ti.map_index,
                    state=ti.state,
                    try_number=ti.try_number,
                    hostname=ti.hostname or None,
                    start_date=ti.start_date,
                    end_date=ti.end_date,
                    note=ti.note,
                    dry_run=ti.task_id in dry,
                    rendered_fields=_rendered_fields(ti, session),
                )
            )
            if ti.state == "failed" and logs:
                failed.append((len(tis) - 1, ti))
    for position, ti in failed:  # after the loop: reading a log may detach the task instances
        tis[position].error = _error(ti)
    return LotDetailOut(
        **lot_out(lot, ZoneInfo(row.timezone), row.spec.get("dates_by", "data_time")).model_dump(),
        task_instances=tis,
        timeline=timeline(lot, row.created_at),
    )


def _rendered_fields(ti: Any, session: Session) -> dict[str, Any]:
    """What the task instance rendered: Airflow's own record while it keeps one (the DAG's 30 newest
    runs), else the copy the lot run's task kept for the plan's life (``engine/policy.py``)."""
    found = session.scalar(
        select(RTIF.rendered_fields).where(
            RTIF.dag_id == ti.dag_id,
            RTIF.task_id == ti.task_id,
            RTIF.run_id == ti.run_id,
            RTIF.map_index == ti.map_index,
        )
    )
    if found:
        return dict(found)
    kept = session.scalar(
        select(XComModel.value).where(
            XComModel.dag_id == ti.dag_id,
            XComModel.task_id == ti.task_id,
            XComModel.run_id == ti.run_id,
            XComModel.map_index == ti.map_index,
            XComModel.key == RENDERED_XCOM_KEY,
        )
    )
    if kept is None:
        return {}
    try:
        value = XComModel.deserialize_value(type("Row", (), {"value": kept})())
    except Exception:  # a value this Airflow cannot read back: nothing to show
        return {}
    return dict(value) if isinstance(value, dict) else {}


def _error(ti: Any) -> str | None:
    """The end of the failed try's log (its messages and the exception). A log on this host's disk is
    read from its last ``TAIL_BYTES`` only; one elsewhere (a worker's log server, remote storage) is
    read as a stream, at most ``STREAM_BYTES`` of it: a huge log costs this process no more."""
    try:
        # inside the try, on purpose: a log handler that cannot be set up here (remote logging
        # misconfigured) costs the lot's detail its log tail, never the answer
        from airflow.utils.log.log_reader import TaskLogReader

        reader = TaskLogReader()
        lines = _local_tail(reader.log_handler, ti)
        if lines is None:
            lines = _streamed(reader.read_log_stream(ti, ti.try_number, {"download_logs": True}))  # type: ignore[typeddict-item,typeddict-unknown-key]
        tail: deque[str] = deque((_log_line(line) for line in lines), maxlen=ERROR_LINES)
    except Exception as exc:  # logs may live on a worker or in remote storage this process cannot read
        return f"log not readable here: {exc}"
    return "\n".join(line for line in tail if line)[-4000:] or None


TAIL_BYTES = 256 * 1024
"""bytes read from the end of a log on this host's disk"""
STREAM_BYTES = 8 * 1024 * 1024
"""bytes read of a log this host must stream (its end is past them in a longer one)"""


def _local_tail(handler: Any, ti: Any) -> list[str] | None:
    """The last lines of the try's log files on this host's disk, read from their ends; None when the
    handler keeps no such files (or the log is not there)."""
    import os

    render = getattr(handler, "_render_filename", None)
    base = getattr(handler, "local_base", None)
    if render is None or not base:
        return None
    path = os.path.join(base, render(ti, ti.try_number))
    found = sorted(p for p in _glob(path) if os.path.realpath(p).startswith(os.path.realpath(base)))
    if not found:
        return None
    lines: list[str] = []
    for file in found:
        with open(file, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            chunk = handle.read().decode("utf-8", errors="replace").splitlines()
            lines += chunk[1:] if size > TAIL_BYTES else chunk  # the first line may be cut
    return lines


def _glob(path: str) -> list[str]:
    import glob

    return glob.glob(glob.escape(path) + "*")


def _streamed(stream: Any) -> list[str]:
    lines: deque[str] = deque(maxlen=ERROR_LINES * 4)
    read = 0
    for chunk in stream:
        text = str(chunk)
        read += len(text)
        lines.extend(text.splitlines())
        if read > STREAM_BYTES:
            lines.append("(the log goes on: only its first 8 MB were read here)")
            break
    return list(lines)


def _log_line(line: str) -> str:
    """A structured log line's message (and exception), or the line as it is."""
    import json

    try:
        data = json.loads(line)
    except ValueError:
        return line[:1000]
    if not isinstance(data, dict):
        return line[:1000]
    parts = [str(data.get("event") or "")]
    for detail in data.get("error_detail") or ():
        if isinstance(detail, dict):
            parts.append(f"{detail.get('exc_type')}: {detail.get('exc_value')}")
    return "\n".join(p for p in parts if p)[:1000]
