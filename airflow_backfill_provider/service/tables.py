"""The provider's own tables, beside Airflow's in the metadata database.

They hold what Airflow's tables cannot: the plan as written, and each lot's state and timeline.
Everything about runs and task instances stays in Airflow's own tables. The tables are created on
first use (``ensure_tables``) with their own MetaData, so Airflow's migrations never see them.
"""

from __future__ import annotations

import datetime as dt
import threading
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
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    controller_run_id: Mapped[str | None] = mapped_column(String(250))


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


class LotRow(Base):
    __tablename__ = "backfill_lot"
    __table_args__ = (Index("backfill_lot_plan_state", "plan_id", "state"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("backfill_plan.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    dag_id: Mapped[str] = mapped_column(String(250), nullable=False)
    start: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    end: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(250))
    logical_date: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    start_date: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    end_date: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    timeline: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)


_created: set[str] = set()
_lock = threading.Lock()


def ensure_tables(engine: Engine) -> None:
    """Create the provider's tables if they are missing (idempotent, cheap after the first call)."""
    key = str(engine.url)
    if key in _created:
        return
    with _lock:
        if key not in _created:
            Base.metadata.create_all(engine, checkfirst=True)
            _created.add(key)
