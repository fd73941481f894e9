"""The provider's own tables, beside Airflow's in the metadata database.

They hold what Airflow's tables cannot: the plan as written, each lot's state and timeline, and the
plan driver. Everything about runs and task instances stays in Airflow's own tables. ``airflow db
migrate`` creates and upgrades them through the provider's DB manager (``db_manager.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.states import ACTIVE_LOTS, LotState

UTC = dt.timezone.utc


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class PlanRow(Base):
    __tablename__ = "backfill_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(250), unique=True, nullable=False)
    dag_id: Mapped[str] = mapped_column(String(250), nullable=False, index=True)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    total_lots: Mapped[int] = mapped_column(Integer, nullable=False)
    warnings: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(250))
    cursor: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    """lowest index of a lot the gates have not decided yet: lots before it have a run or a final state"""

    def backfill_plan(self) -> BackfillPlan:
        """The stored plan as its model (validated: read only where a step needs the whole plan)."""
        return BackfillPlan.model_validate(dict(self.spec))


class PlanDagRow(Base):
    """One DAG of a plan: its task split and the Airflow Backfill row that gates its runs."""

    __tablename__ = "backfill_plan_dag"

    plan_id: Mapped[int] = mapped_column(ForeignKey("backfill_plan.id", ondelete="CASCADE"), primary_key=True)
    dag_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    backfill_id: Mapped[int] = mapped_column(Integer, nullable=False)
    run_tasks: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    dry_run_tasks: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    self_dependency: Mapped[bool] = mapped_column(Boolean, nullable=False)
    parents: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    past_dependent: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    """a task the plan runs has ``depends_on_past``: the first lot keeps Airflow's first-run exemption"""
    parallelism: Mapped[int | None] = mapped_column(Integer)
    """its runs in flight at once (the plan's ``parallelism``, or the DAG's ``max_active_runs``); None
    in plans made before 0.3.0, which read the plan's"""


def in_flight_sql(table: str = "") -> str:
    """SQL for a lot with a run that has not ended; the driver's partial index and its query say it
    the same way (``table``: the lot table's name, in a query that joins others)."""
    prefix = f"{table}." if table else ""
    states = ", ".join(f"'{state.value}'" for state in LotState if state in ACTIVE_LOTS)
    return f"{prefix}run_id IS NOT NULL AND {prefix}state IN ({states})"


IN_FLIGHT = in_flight_sql()


class LotRow(Base):
    __tablename__ = "backfill_lot"
    __table_args__ = (
        Index("backfill_lot_plan_state", "plan_id", "state"),
        # the lots in flight, which every pass of the driver reads: a partial index holds just them,
        # so a pass never walks the plan's untouched lots
        Index(
            "backfill_lot_in_flight",
            "plan_id",
            postgresql_where=text(IN_FLIGHT),
            sqlite_where=text(IN_FLIGHT),
        ),
    )

    plan_id: Mapped[int] = mapped_column(ForeignKey("backfill_plan.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    dag_id: Mapped[str] = mapped_column(String(250), nullable=False)
    start: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    end: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    ordinal: Mapped[int | None] = mapped_column(Integer)
    """1-based position among the plan's lots of the same DAG (the run's ``sort_ordinal``)"""
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(250))
    logical_date: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    start_date: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    """when the lot entered its current state (None: pending since the plan was created)"""
    nonce: Mapped[str | None] = mapped_column(String(32))
    """the nonce signed into its run's marker when the service made (or re-ran) it"""
    timeline: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    """the states before the current one, ``[{state, at}]``; empty for a lot never moved one by one"""


class DriverRow(Base):
    """The one plan driver: the triggerer callback that drives every plan, and the hash of its token."""

    __tablename__ = "backfill_driver"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    callback_id: Mapped[str | None] = mapped_column("run_id", String(250))
    """the id of the driver's ``TriggererCallback`` (the column keeps the name it had when the
    driver was a run of the controller DAG)"""
    token_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
