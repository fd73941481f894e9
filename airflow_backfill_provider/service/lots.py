"""A lot's state, reason and timeline, and how a lot is shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from airflow_backfill_provider.plan.planner import lot_label, system_date
from airflow_backfill_provider.service import metrics
from airflow_backfill_provider.service.datamodels import LotOut, TimelineEntry
from airflow_backfill_provider.service.tables import UTC, LotRow
from airflow_backfill_provider.states import LotState


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def set_state(lot: LotRow, state: LotState, reason: str | None = None, at: dt.datetime | None = None) -> bool:
    """Move the lot to ``state`` (``at``: when that happened, if known better than now); True if it changed.

    The state it leaves goes to the timeline, so a lot's history is its timeline plus its state.
    """
    if lot.state == state and lot.reason == reason:
        return False
    metrics.lot_moved(str(lot.state), state, reason, lot.start_date, lot.end_date)
    if lot.state != state:
        lot.timeline = [
            *lot.timeline,
            {"state": str(lot.state), "at": lot.updated_at.isoformat() if lot.updated_at else ""},
        ]
        lot.updated_at = (at or now()).astimezone(UTC)
    lot.state = state.value
    lot.reason = reason
    return True


def timeline(lot: LotRow, plan_created_at: dt.datetime) -> list[TimelineEntry]:
    """When the lot entered each state, oldest first; every lot was pending when its plan was created."""
    entries: list[TimelineEntry] = []
    for entry in [
        *lot.timeline,
        {"state": lot.state, "at": lot.updated_at.isoformat() if lot.updated_at else ""},
    ]:
        at = dt.datetime.fromisoformat(entry["at"]) if entry["at"] else plan_created_at
        if not entries or entries[-1].state != entry["state"]:
            entries.append(TimelineEntry(state=LotState(entry["state"]), at=at))
    return entries


def lot_out(lot: LotRow, tz: ZoneInfo, dates_by: str = "data_time") -> LotOut:
    return LotOut(
        index=lot.idx,
        dag_id=lot.dag_id,
        label=lot_label(lot.start, lot.end, tz),
        system_date=system_date(lot.start, lot.end, tz, dates_by),
        run_id=lot.run_id,
        logical_date=lot.logical_date,
        data_interval_start=lot.start,
        data_interval_end=lot.end,
        state=LotState(lot.state),
        reason=lot.reason,
        start_date=lot.start_date,
        end_date=lot.end_date,
    )


def lots_out(lots: Iterable[LotRow], timezone: str, dates_by: str = "data_time") -> list[LotOut]:
    tz = ZoneInfo(timezone)
    return [lot_out(lot, tz, dates_by) for lot in lots]
